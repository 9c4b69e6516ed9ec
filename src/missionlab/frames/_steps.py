"""Plan steps as a frame needs them: in plan order with their depth, and their times read
from their step events when the plan does not give them."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ..types import EventType

__all__ = ["TIMES_FROM", "plan_order", "times_from"]

# Where a step's times came from: its plan entry, its step events, or one from each.
TIMES_FROM = pd.CategoricalDtype(["plan", "events", "start from events", "end from events"])
_ENDS = [EventType.STEP_COMPLETED, EventType.STEP_FAILED]


def plan_order(
    runs: list[Any], steps: list[Any], parent_of: list[Any], sequence: list[Any]
) -> tuple[list[int], list[int]]:
    """(item order, depth of each item in that order), from the items' run ids, step ids,
    parent ids and sequences: depth-first by sequence per run, each child right under its
    parent; steps caught in a parent cycle are listed at the top level."""
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


def times_from(
    keys: list[tuple[Any, Any]],
    finished: np.ndarray[Any, Any],
    start: np.ndarray[Any, Any],
    end: np.ndarray[Any, Any],
    events: pd.DataFrame | None,
) -> pd.Categorical:
    """Fill the steps' missing start and end times (naive UTC ``datetime64[us]`` arrays, in
    place) from ``events``, and say where each step's times came from (``TIMES_FROM``).

    ``keys``: each step's (run id, step id); ``finished``: whether its status says it is
    over. The start is the step's first ``step_started`` event; the end its last
    ``step_completed``/``step_failed`` event, used only for a finished step.
    """
    had_start, had_end = ~np.isnat(start), ~np.isnat(end)
    from_start = np.zeros(len(keys), dtype=bool)
    from_end = np.zeros(len(keys), dtype=bool)
    lacking = np.flatnonzero(~had_start | (~had_end & finished))
    marks = _step_marks(events) if len(lacking) else None
    if marks is not None:
        first_start = _by_step(marks[marks["type"] == EventType.STEP_STARTED], "min")
        last_end = _by_step(marks[marks["type"].isin(_ENDS)], "max")
        for row in lacking:
            if not had_start[row] and keys[row] in first_start:
                start[row], from_start[row] = first_start[keys[row]], True
            if not had_end[row] and finished[row] and keys[row] in last_end:
                end[row], from_end[row] = last_end[keys[row]], True
    plan = had_start | had_end
    codes = np.full(len(keys), -1, dtype=np.int8)  # no times at all
    codes[plan] = 0  # "plan"
    codes[(from_start | from_end) & ~plan] = 1  # "events"
    codes[plan & from_start] = 2  # "start from events"
    codes[plan & from_end] = 3  # "end from events"
    return pd.Categorical.from_codes(codes, dtype=TIMES_FROM)


def _step_marks(events: pd.DataFrame | None) -> pd.DataFrame | None:
    """The events that mark a step's start or end (found by category code: a run's events
    are read again on every refresh)."""
    if events is None or events.empty:
        return None
    types = events["type"]
    wanted = [
        code for code, kind in enumerate(types.cat.categories) if kind in (EventType.STEP_STARTED, *_ENDS)
    ]
    mask = np.isin(types.cat.codes.to_numpy(), wanted) & events["step_id"].notna().to_numpy()
    return events.loc[mask, ["run_id", "step_id", "type", "timestamp"]] if mask.any() else None


def _by_step(marks: pd.DataFrame, how: str) -> dict[tuple[Any, Any], np.datetime64]:
    """The first (``min``) or last (``max``) of ``marks``' times per (run id, step id); marks
    with no time are left out (a step whose only marks have none gets no time from them)."""
    times = marks["timestamp"].to_numpy(dtype="datetime64[us]")
    timed = marks.loc[~np.isnat(times), ["run_id", "step_id"]].assign(timestamp=times[~np.isnat(times)])
    grouped = timed.groupby(["run_id", "step_id"], observed=True, sort=False)["timestamp"].agg(how)
    return dict(zip(grouped.index, grouped.to_numpy(), strict=True))
