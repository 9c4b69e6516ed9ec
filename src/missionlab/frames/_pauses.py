"""When a run was paused, read from its ``status_change`` events (a sandbox convention the
published API does not promise: hosted runs may record none)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ..types import EventType, RunStatus
from ._jsontext import json_object

__all__ = ["of_type", "paused_intervals"]


def of_type(events: pd.DataFrame, kind: str) -> np.ndarray[Any, Any]:
    """Which events of an events frame are of type ``kind`` (by category code: cheap on long runs)."""
    types = events["type"]
    categories = list(types.cat.categories)
    if kind not in categories:
        return np.zeros(len(events), dtype=bool)
    matches: np.ndarray[Any, Any] = types.cat.codes.to_numpy() == categories.index(kind)
    return matches


def paused_intervals(events: pd.DataFrame, end: Any) -> list[tuple[Any, Any]]:
    """(start, end) of each time the run was paused, from its ``status_change`` events."""
    rows = np.flatnonzero(of_type(events, EventType.STATUS_CHANGE))  # the two columns read, not the frame
    times, payloads = events["timestamp"].iloc[rows], events["payload"].iloc[rows]
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
