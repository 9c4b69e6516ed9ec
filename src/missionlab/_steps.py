"""Plan steps as a frame needs them: in plan order with their depth, and their times read
from their step events when the plan does not give them."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from .types import FINISHED_STEP_STATUSES, EventType

__all__ = ["TIMES_FROM", "plan_order", "times_from"]

# Where a step's times came from: its plan entry, its step events, or one from each.
TIMES_FROM = pd.CategoricalDtype(["plan", "events", "start from events", "end from events"])
_ENDS = [EventType.STEP_COMPLETED, EventType.STEP_FAILED]


def _values(column: pd.Series) -> list[Any]:
    return column.astype(object).where(column.notna(), None).tolist()


def plan_order(
    run_ids: pd.Series, step_ids: pd.Series, parents: pd.Series, sequences: pd.Series
) -> tuple[list[int], list[int]]:
    """(row order, depth of each row in that order): depth-first by sequence per run, each
    child right under its parent; steps caught in a parent cycle are listed at the top level."""
    runs, steps, parent_of, sequence = map(_values, (run_ids, step_ids, parents, sequences))
    by_run: dict[Any, list[int]] = {}
    for row, run in enumerate(runs):
        by_run.setdefault(run, []).append(row)
    order: list[int] = []
    depths: list[int] = []
    for rows in by_run.values():
        ids = {steps[row] for row in rows}
        children: dict[Any, list[int]] = {}
        for row in rows:
            parent = parent_of[row]
            children.setdefault(parent if parent in ids else None, []).append(row)
        for group in children.values():
            group.sort(key=lambda row: (sequence[row] is None, sequence[row] or 0))
        seen: set[Any] = set()
        stack = [(row, 0) for row in reversed(children.get(None, []))]
        while stack:
            row, depth = stack.pop()
            if steps[row] in seen:
                continue
            seen.add(steps[row])
            order.append(row)
            depths.append(depth)
            stack.extend((child, depth + 1) for child in reversed(children.get(steps[row], [])))
        for row in rows:
            if steps[row] not in seen:
                order.append(row)
                depths.append(0)
    return order, depths


def times_from(frame: pd.DataFrame, events: pd.DataFrame | None) -> None:
    """Fill the steps' missing ``started_at``/``completed_at`` from ``events`` (in place) and
    set ``times_from``.

    The start is the step's first ``step_started`` event; the end its last
    ``step_completed``/``step_failed`` event, used only for a step whose status says it
    is finished.
    """
    had_start, had_end = frame["started_at"].notna(), frame["completed_at"].notna()
    from_start = from_end = pd.Series(False, index=frame.index)
    marks = _step_marks(events)
    if marks is not None and len(frame) and not (had_start & had_end).all():
        key = pd.MultiIndex.from_arrays([frame["run_id"], frame["step_id"]])
        first_start = _by_step(marks[marks["type"] == EventType.STEP_STARTED], "min")
        last_end = _by_step(marks[marks["type"].isin(_ENDS)], "max")
        start = pd.Series(first_start.reindex(key).array, index=frame.index)
        end = pd.Series(last_end.reindex(key).array, index=frame.index)
        from_start = ~had_start & start.notna()
        from_end = ~had_end & end.notna() & frame["status"].isin(FINISHED_STEP_STATUSES)
        frame["started_at"] = frame["started_at"].where(~from_start, start)
        frame["completed_at"] = frame["completed_at"].where(~from_end, end)
    plan = (had_start | had_end).to_numpy(dtype=bool)
    event_start, event_end = from_start.to_numpy(dtype=bool), from_end.to_numpy(dtype=bool)
    codes = np.full(len(frame), -1, dtype=np.int8)  # no times at all
    codes[plan] = 0  # "plan"
    codes[(event_start | event_end) & ~plan] = 1  # "events"
    codes[plan & event_start] = 2  # "start from events"
    codes[plan & event_end] = 3  # "end from events"
    frame["times_from"] = pd.Categorical.from_codes(codes, dtype=TIMES_FROM)


def _step_marks(events: pd.DataFrame | None) -> pd.DataFrame | None:
    if events is None or events.empty:
        return None
    marks = events[events["type"].isin([EventType.STEP_STARTED, *_ENDS]) & events["step_id"].notna()]
    return None if marks.empty else marks[["run_id", "step_id", "type", "timestamp"]]


def _by_step(marks: pd.DataFrame, how: str) -> pd.Series:
    result: pd.Series = marks.groupby(["run_id", "step_id"], observed=True, sort=False)["timestamp"].agg(how)
    return result
