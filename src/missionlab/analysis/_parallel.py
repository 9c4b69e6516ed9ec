"""Work started side by side: when one step (or tool call) ran before another, and when two
ran in parallel, so that the order they started in is noise.

Of two sibling steps (or two tool calls of one step), one **ran before** the other when it
was done by the time the other started: it had ended, and had started at least
``TOLERANCE_S`` earlier. Otherwise the two are **parallel**: one started while the other
was running (one with no end runs on), or both started less than ``TOLERANCE_S`` apart (a
fan-out's threads log their starts in any order, and two agents' clocks are rarely closer
than that). Only items that ran one before the other have an order: compare's plan and tool
order, diagnose()'s ``out_of_sequence`` and the Gantt's "run out of plan order" mark all
read it here.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

__all__ = ["TOLERANCE_S", "batches", "done_by", "ran_before", "started_late"]

TOLERANCE_S = 0.5
_Array = np.ndarray[Any, Any]


def done_by(start: Any, end: Any) -> _Array:
    """Per item (times in seconds; an end NaN: none), the moment from which an item that
    starts then or later ran after it: its end, at least ``TOLERANCE_S`` after its start;
    never (inf) for an item with no end."""
    began = np.asarray(start, dtype="float64")
    ended = np.asarray(end, dtype="float64")
    return np.where(np.isnan(ended), np.inf, np.maximum(ended, began + TOLERANCE_S))


def ran_before(start_a: float, end_a: float, start_b: float) -> bool:
    """Whether item a (started ``start_a``, ended ``end_a``, NaN: no end) ran before item b
    (started ``start_b``); neither ran before the other: they are parallel."""
    return bool(done_by([start_a], [end_a])[0] <= start_b)


def started_late(start: Any, end: Any, siblings: Any) -> _Array:
    """Per item, items given in plan order within each group of equal ``siblings``: whether
    an item after it in the plan ran before it (times in seconds, every item started)."""
    done = pd.Series(done_by(start, end)[::-1])
    groups = pd.Series(np.asarray(siblings)[::-1])
    # the earliest moment an item after it in the plan was done by: the later ones' minimum
    earliest = done.groupby(groups.to_numpy(), sort=False).cummin()
    after = earliest.groupby(groups.to_numpy(), sort=False).shift(1).to_numpy(dtype="float64")[::-1]
    began = np.asarray(start, dtype="float64")
    return np.nan_to_num(after, nan=np.inf) <= began


def batches(start: Any, end: Any) -> _Array:
    """0, 1, 2...: per item, in the order they started, its batch: items that ran side by
    side share one (each item after the first of a batch is parallel with one before it)."""
    done = done_by(start, end)
    began = np.asarray(start, dtype="float64")
    if not len(began):
        return np.zeros(0, dtype="int64")
    before = np.maximum.accumulate(done)[:-1]  # every earlier item done by then
    return np.concatenate([[0], np.cumsum(before <= began[1:])]).astype("int64")
