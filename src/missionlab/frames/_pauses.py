"""When a run was paused, read from its ``status_change`` events (a sandbox convention the
published API does not promise: hosted runs may record none), and how much of a stretch of
time that leaves out: a step's working time is its duration less the time its run was paused
while it was open."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd

from ..types import EventType, RunStatus
from ._jsontext import json_object

__all__ = ["of_type", "paused_by_run", "paused_intervals", "working_seconds"]

Interval = tuple[pd.Timestamp, pd.Timestamp]


def of_type(events: pd.DataFrame, kind: str) -> np.ndarray[Any, Any]:
    """Which events of an events frame are of type ``kind`` (by category code: cheap on long runs)."""
    types = events["type"]
    categories = list(types.cat.categories)
    if kind not in categories:
        return np.zeros(len(events), dtype=bool)
    matches: np.ndarray[Any, Any] = types.cat.codes.to_numpy() == categories.index(kind)
    return matches


def _changes(events: pd.DataFrame) -> pd.DataFrame | None:
    """The status changes that may start or end a pause (their payload names it), in time
    order; None when the events have no status change (most runs: no frame made for none)."""
    rows = np.flatnonzero(of_type(events, EventType.STATUS_CHANGE))  # the columns read, not the frame
    if not len(rows):
        return None
    changes = pd.DataFrame(
        {name: events[name].iloc[rows] for name in ("run_id", "timestamp", "payload")}, copy=False
    )
    pausing = changes["payload"].str.contains(RunStatus.PAUSED.value, regex=False).fillna(False)
    changes = changes[pausing.to_numpy(dtype=bool) & changes["timestamp"].notna().to_numpy()]
    return changes.sort_values("timestamp", kind="stable")


def _pauses(
    runs: Iterable[Any], times: Iterable[Any], payloads: Iterable[Any], end: Any
) -> dict[Any, list[Any]]:
    """Per run, (start, end) of each pause its status changes (in time order) record; a pause
    not ended by them lasts until ``end``."""
    intervals: dict[Any, list[Any]] = {}
    paused_at: dict[Any, Any] = {}
    for run, timestamp, text in zip(runs, times, payloads, strict=True):
        payload = json_object(text)
        if payload.get("to") == RunStatus.PAUSED and run not in paused_at:
            paused_at[run] = timestamp
        elif payload.get("from") == RunStatus.PAUSED and run in paused_at:
            intervals.setdefault(run, []).append((paused_at.pop(run), timestamp))
    for run, timestamp in paused_at.items():
        intervals.setdefault(run, []).append((timestamp, end))
    return intervals


def paused_intervals(events: pd.DataFrame, end: Any) -> list[Interval]:
    """(start, end) of each time the run was paused, from its ``status_change`` events (one
    run's); a pause it has not left lasts until ``end``."""
    changes = _changes(events)
    if changes is None:
        return []
    times = changes["timestamp"].tolist()
    return _pauses([None] * len(times), times, changes["payload"].tolist(), pd.Timestamp(end)).get(None, [])


def paused_by_run(events: pd.DataFrame, end: Any) -> dict[Any, list[tuple[datetime, datetime]]]:
    """:func:`paused_intervals` of each run of an events frame of many runs (the runs that
    were paused only), as naive UTC datetimes."""
    changes = _changes(events)
    if changes is None:
        return {}
    times = changes["timestamp"].to_numpy(dtype="datetime64[us]").tolist()
    return _pauses(changes["run_id"].tolist(), times, changes["payload"].tolist(), _naive(end).item())


def working_seconds(
    runs: Sequence[Any], start: Any, end: Any, pauses: dict[Any, list[tuple[datetime, datetime]]]
) -> np.ndarray[Any, Any]:
    """Seconds from each ``start`` to ``end`` (arrays of naive UTC ``datetime64``) less those
    its run (``runs``) was paused (``pauses``, of :func:`paused_by_run`); NaN where a time is
    missing or the end comes before the start (no working time can be read from those)."""
    seconds: np.ndarray[Any, Any] = (end - start) / np.timedelta64(1, "s")
    order = {run: index for index, run in enumerate(pauses)}
    run_of = np.array([order.get(run, -1) if isinstance(run, str) else -1 for run in runs], dtype="int64")
    rows = np.flatnonzero(run_of >= 0)
    if len(rows):
        # each step of a paused run once per pause of its run, its overlap with that pause
        counts = np.array([len(found) for found in pauses.values()], dtype="int64")
        firsts = np.cumsum(counts) - counts
        flat = [moment for found in pauses.values() for moment in found]
        begins = np.array([begin for begin, _ in flat], dtype="datetime64[us]")
        finishes = np.array([finish for _, finish in flat], dtype="datetime64[us]")
        per_row = counts[run_of[rows]]
        repeated = np.repeat(rows, per_row)
        which = np.repeat(firsts[run_of[rows]] - (np.cumsum(per_row) - per_row), per_row) + np.arange(
            len(repeated)
        )
        overlap = np.minimum(end[repeated], finishes[which]) - np.maximum(start[repeated], begins[which])
        paused = np.maximum(overlap / np.timedelta64(1, "s"), 0.0)
        seconds -= np.bincount(repeated, weights=paused, minlength=len(seconds))
    seconds[end < start] = np.nan
    return seconds


def _naive(moment: Any) -> np.datetime64:
    """``moment`` as a naive UTC ``datetime64[us]``."""
    stamp = pd.Timestamp(moment)
    stamp = stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")
    return np.datetime64(stamp.tz_localize(None), "us")
