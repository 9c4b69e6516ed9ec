"""Plan steps as a frame needs them: in plan order with their depth, and their times read
from their step events when the plan does not give them."""

from __future__ import annotations

from contextlib import suppress
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
    if len(lacking) and events is not None and not events.empty:
        first_start, last_end = _step_times(events, [keys[row][1] for row in lacking])
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


def _step_times(
    events: pd.DataFrame, steps: list[Any]
) -> tuple[dict[tuple[Any, Any], np.datetime64], dict[tuple[Any, Any], np.datetime64]]:
    """Per (run id, step id) of the step ids ``steps``: the first ``step_started`` time and the
    last ``step_completed``/``step_failed`` time (found by category code: a run's events are
    read again on every refresh); marks with no time or no step are left out."""
    types = events["type"]
    starts = [code for code, kind in enumerate(types.cat.categories) if kind == EventType.STEP_STARTED]
    ends = [code for code, kind in enumerate(types.cat.categories) if kind in _ENDS]
    codes = types.cat.codes.to_numpy()
    times = events["timestamp"].to_numpy(dtype="datetime64[us]")
    known = events["step_id"].notna().to_numpy() & events["run_id"].notna().to_numpy()
    with suppress(TypeError):  # only the marks of those steps (an id that is no JSON scalar: all)
        known &= events["step_id"].isin(steps).to_numpy(dtype=bool)
    rows = np.flatnonzero(np.isin(codes, starts + ends) & known & ~np.isnat(times))
    first: dict[tuple[Any, Any], int] = {}
    last: dict[tuple[Any, Any], int] = {}
    is_start = np.isin(codes[rows], starts).tolist()
    micros = times[rows].view("int64").tolist()  # compared as numbers: numpy scalars are slow
    for run, step, start, moment in zip(
        events["run_id"].take(rows).tolist(),
        events["step_id"].take(rows).tolist(),
        is_start,
        micros,
        strict=True,
    ):
        key = (run, step)
        if start:
            if key not in first or moment < first[key]:
                first[key] = moment
        elif key not in last or moment > last[key]:
            last[key] = moment
    as_time = lambda found: {key: np.datetime64(value, "us") for key, value in found.items()}  # noqa: E731
    return as_time(first), as_time(last)
