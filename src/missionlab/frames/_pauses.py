"""When a run was paused, read from its ``status_change`` events (a sandbox convention the
published API does not promise: hosted runs may record none), and how much of a stretch of
time that leaves out: a step's working time is its duration less the time its run was paused
while it was open."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from ..types import EventType, RunStatus
from ._jsontext import json_object

__all__ = ["of_type", "paused_by_run", "paused_intervals", "paused_seconds", "working_seconds"]

Interval = tuple[pd.Timestamp, pd.Timestamp]


def of_type(events: pd.DataFrame, kind: str) -> np.ndarray[Any, Any]:
    """Which events of an events frame are of type ``kind`` (by category code: cheap on long runs)."""
    types = events["type"]
    categories = list(types.cat.categories)
    if kind not in categories:
        return np.zeros(len(events), dtype=bool)
    matches: np.ndarray[Any, Any] = types.cat.codes.to_numpy() == categories.index(kind)
    return matches


def _changes(events: pd.DataFrame) -> pd.DataFrame:
    """The status changes that may start or end a pause (their payload names it), in time order."""
    rows = np.flatnonzero(of_type(events, EventType.STATUS_CHANGE))  # the columns read, not the frame
    changes = pd.DataFrame(
        {name: events[name].iloc[rows] for name in ("run_id", "timestamp", "payload")}, copy=False
    )
    pausing = changes["payload"].str.contains(RunStatus.PAUSED.value, regex=False).fillna(False)
    changes = changes[pausing.to_numpy(dtype=bool) & changes["timestamp"].notna().to_numpy()]
    return changes.sort_values("timestamp", kind="stable")


def _intervals(times: Iterable[Any], payloads: Iterable[Any], end: Any) -> list[Interval]:
    """(start, end) of each pause that one run's status changes (in time order) record; a
    pause not ended by them lasts until ``end``."""
    intervals, paused_at = [], None
    for timestamp, text in zip(times, payloads, strict=True):
        payload = json_object(text)
        if payload.get("to") == RunStatus.PAUSED and paused_at is None:
            paused_at = timestamp
        elif payload.get("from") == RunStatus.PAUSED and paused_at is not None:
            intervals.append((paused_at, timestamp))
            paused_at = None
    if paused_at is not None:
        intervals.append((paused_at, pd.Timestamp(end)))
    return intervals


def paused_intervals(events: pd.DataFrame, end: Any) -> list[Interval]:
    """(start, end) of each time the run was paused, from its ``status_change`` events (one
    run's); a pause it has not left lasts until ``end``."""
    changes = _changes(events)
    return _intervals(changes["timestamp"], changes["payload"], end)


def paused_by_run(events: pd.DataFrame, end: Any) -> dict[Any, list[Interval]]:
    """:func:`paused_intervals` of each run of an events frame of many runs (the runs that
    were paused only)."""
    changes = _changes(events)
    return {
        run: _intervals(group["timestamp"], group["payload"], end)
        for run, group in changes.groupby("run_id", sort=False, observed=True)
    }


def paused_seconds(intervals: list[Interval], start: Any, end: Any) -> np.ndarray[Any, Any]:
    """Seconds of each stretch from ``start`` to ``end`` (arrays of naive UTC ``datetime64``)
    that fall in one of the run's paused ``intervals``."""
    paused = np.zeros(len(start), dtype="float64")
    for begin, finish in intervals:
        overlap = np.minimum(end, _naive(finish)) - np.maximum(start, _naive(begin))
        paused += np.maximum(overlap / np.timedelta64(1, "s"), 0.0)
    return paused


def working_seconds(
    runs: Sequence[Any], start: Any, end: Any, pauses: dict[Any, list[Interval]]
) -> np.ndarray[Any, Any]:
    """Seconds from each ``start`` to ``end`` (arrays of naive UTC ``datetime64``) less those
    its run (``runs``) was paused (``pauses``, of :func:`paused_by_run`); NaN where a time is
    missing or the end comes before the start (no working time can be read from those)."""
    seconds: np.ndarray[Any, Any] = (end - start) / np.timedelta64(1, "s")
    rows_of: dict[Any, list[int]] = {}
    for row, run in enumerate(runs):
        if isinstance(run, str) and run in pauses:
            rows_of.setdefault(run, []).append(row)
    for run, rows in rows_of.items():
        seconds[rows] -= paused_seconds(pauses[run], start[rows], end[rows])
    seconds[end < start] = np.nan
    return seconds


def _naive(moment: pd.Timestamp) -> np.datetime64:
    """``moment`` as a naive UTC ``datetime64[us]``."""
    moment = moment.tz_localize("UTC") if moment.tzinfo is None else moment.tz_convert("UTC")
    return np.datetime64(moment.tz_localize(None), "us")
