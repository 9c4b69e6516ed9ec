"""Plan drift and the critical path, read from a run's steps frame.

**Added steps.** The API records no creation time for steps, so which steps were added
after the run started (``add_steps_to_plan``) is inferred, under one assumption: steps are
numbered in the order they are planned, so added steps carry the highest sequence numbers.
The first plan is then the steps numbered up to the smallest ``N`` such that every step
numbered above ``N`` that started, started before some step numbered ``N`` or below (one
that started later, or never), and after the first plan's first step had started: added
steps jump the queue of a run under way. An added step run after all the first plan's
steps cannot be told from a planned one and is not marked; nor is a step run first of
all (it was planned before the run began: run out of order, not added). A step whose
metadata has ``added_at`` (or ``added: true``) is always taken as added, as appearing then.

**Reordered steps.** Steps of the first plan that started after a sibling numbered later
had started (added steps left out).

**Skipped steps** are the steps whose status is ``skipped``.

**The critical path** is the chain of steps the run's end waited on: the top-level step that
ended last, then, going back, the sibling that ended last before it started, and so on;
inside each step on the path that has children, the same among its children.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ..frames._columns import TEXT
from ..frames._jsontext import json_object
from ..types import StepStatus

__all__ = ["DRIFT_KINDS", "critical_path", "plan_drift"]

DRIFT_KINDS = ("added", "reordered", "skipped")
_EPSILON = pd.Timedelta(milliseconds=1)


def _first_plan_limit(sequence: np.ndarray[Any, Any], start: np.ndarray[Any, Any]) -> float:
    """The largest sequence number of the first plan (see the module's docstring).

    ``start``: start times as float seconds, NaN for steps that never started (which come
    "after" every started step)."""
    order = np.argsort(sequence, kind="stable")
    seq, began = sequence[order], start[order]
    latest = np.where(np.isnan(began), np.inf, began)
    prefix_max = np.maximum.accumulate(latest)  # latest start among steps numbered <= seq[i]
    started_only = np.where(np.isnan(began), -np.inf, began)
    suffix_max = np.maximum.accumulate(started_only[::-1])[::-1]  # latest start numbered >= seq[i]
    earliest = np.where(np.isnan(began), np.inf, began)
    prefix_min = np.minimum.accumulate(earliest)  # first start among steps numbered <= seq[i]
    suffix_min = np.minimum.accumulate(earliest[::-1])[::-1]  # first start numbered >= seq[i]
    limit = float(seq[-1]) if len(seq) else 0.0
    for i in range(len(seq) - 1, 0, -1):
        if seq[i] == seq[i - 1]:
            continue
        # first plan = numbers <= seq[i - 1]: does every later-numbered started step come first?
        if suffix_max[i] < prefix_max[i - 1] and suffix_min[i] > prefix_min[i - 1]:
            limit = float(seq[i - 1])
        else:
            break
    return limit


def _marked_added(metadata: pd.Series) -> np.ndarray[Any, Any]:
    marked = np.zeros(len(metadata), dtype=bool)
    holders = metadata.notna() & metadata.astype(str).str.contains('"added', regex=False).fillna(False)
    for position in np.flatnonzero(holders.to_numpy(dtype=bool)):
        values = json_object(metadata.iat[int(position)])
        marked[position] = bool(values.get("added_at") or values.get("added") is True)
    return marked


def plan_drift(steps: pd.DataFrame) -> pd.DataFrame:
    """Per step (in the frame's order): ``drift`` (added, reordered, skipped or missing) and
    ``reason`` (one sentence)."""
    sequence = steps["sequence"].to_numpy(dtype="float64", na_value=np.nan)
    origin = steps["started_at"].min()
    start = ((steps["started_at"] - origin).dt.total_seconds()).to_numpy(dtype="float64", na_value=np.nan)
    limit = _first_plan_limit(np.nan_to_num(sequence, nan=-1.0), start)
    added = (~np.isnan(start) & (sequence > limit)) | _marked_added(steps["metadata"])
    reordered = _reordered(steps, added)
    skipped = (steps["status"] == StepStatus.SKIPPED).to_numpy(dtype=bool)
    drift: list[str | None] = []
    reasons: list[str | None] = []
    for is_added, is_reordered, is_skipped, number in zip(added, reordered, skipped, sequence, strict=True):
        if is_added:
            drift.append("added")
            reasons.append(
                f"added after the run started: numbered {number:.0f}, above the first plan's {limit:.0f}, "
                "yet run before steps of the first plan"
            )
        elif is_reordered:
            drift.append("reordered")
            reasons.append("started after a step that comes later in the plan")
        elif is_skipped:
            drift.append("skipped")
            reasons.append("skipped")
        else:
            drift.append(None)
            reasons.append(None)
    columns = {"drift": pd.array(drift, dtype=TEXT), "reason": pd.array(reasons, dtype=TEXT)}
    return pd.DataFrame({"step_id": steps["step_id"], **columns}, index=steps.index)


def _reordered(steps: pd.DataFrame, added: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    result = np.zeros(len(steps), dtype=bool)
    rows = np.flatnonzero(~added & steps["started_at"].notna().to_numpy(dtype=bool))
    if not len(rows):
        return result
    parents, _ = pd.factorize(steps["parent_step_id"].astype(object).fillna("").to_numpy()[rows])
    sequence = steps["sequence"].to_numpy(dtype="float64", na_value=np.nan)[rows]
    start = steps["started_at"].to_numpy(dtype="datetime64[us]")[rows].astype("int64").tolist()
    # per parent, in plan order: a step is late when a step after it in the plan started before it
    earliest_later: dict[int, int] = {}
    for position in np.lexsort((sequence, parents))[::-1].tolist():  # stable; NaN numbers last
        parent, began = int(parents[position]), start[position]
        later = earliest_later.get(parent)
        if later is not None and began > later:
            result[rows[position]] = True
        earliest_later[parent] = began if later is None else min(later, began)
    return result


def critical_path(steps: pd.DataFrame, now: pd.Timestamp) -> list[str]:
    """The step ids on the run's critical path, outermost steps before their children."""
    started = steps[steps["started_at"].notna()]
    ends = started["completed_at"].fillna(now)
    children: dict[Any, list[int]] = {}
    for position, parent in enumerate(started["parent_step_id"].astype(object)):
        children.setdefault(parent if isinstance(parent, str) else None, []).append(position)
    ids = started["step_id"].astype(str).tolist()
    begins, finishes = started["started_at"].tolist(), ends.tolist()
    path: list[str] = []

    def chain(members: list[int], limit: pd.Timestamp | None) -> None:
        pool = [m for m in members if limit is None or finishes[m] <= limit + _EPSILON]
        picked: list[int] = []
        while pool:
            last = max(pool, key=lambda m: finishes[m])
            picked.append(last)
            pool = [m for m in pool if m != last and finishes[m] <= begins[last] + _EPSILON]
        for member in reversed(picked):
            path.append(ids[member])
            chain(children.get(ids[member], []), finishes[member])

    chain(
        children.get(None, [])
        + [m for p, ms in children.items() if p is not None and p not in ids for m in ms],
        None,
    )
    return path
