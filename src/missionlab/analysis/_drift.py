"""Plan drift and the critical path, read from a run's steps frame.

**Added steps.** The API records no creation time for steps, so which steps were added
after the run started (``add_steps_to_plan``) is inferred, under one assumption: steps are
numbered in the order they are planned, so added steps carry the highest sequence numbers
among their siblings (the steps of one parent, or the top-level steps). A step's number is
compared with its siblings' only: a child runs inside its parent whatever its number, and
a plan numbered breadth-first (every top-level step, then the children) was planned up
front. Among siblings, the first plan is the steps numbered up to the smallest ``N`` such
that every sibling numbered above ``N`` that started, started before some sibling numbered
``N`` or below (one that started later, or never), and after the first plan's first step
had started: added steps jump the queue of a run under way. An added step run after all
the first plan's steps cannot be told from a planned one and is not marked; nor is a step
run first of all (it was planned before the run began: run out of order, not added). A step whose
metadata has ``added_at`` (or ``added: true``) is always taken as added, as appearing then;
unless the sequence numbers tell it too, its reason quotes that metadata.

**Reordered steps.** Steps of the first plan that started after a sibling numbered later
had run (added steps left out): siblings that ran side by side (:mod:`._parallel`: one
started while the other ran, or both within half a second) have no order.

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
from ._parallel import started_late

__all__ = ["DRIFT_KINDS", "critical_path", "plan_drift", "plans_drift"]

DRIFT_KINDS = ("added", "reordered", "skipped")
_EPSILON = pd.Timedelta(milliseconds=1)
_Array = np.ndarray[Any, Any]


def _blocks(groups: _Array) -> _Array:
    """0, 1, 2...: the index of each item's block of equal ``groups`` values (blocks contiguous)."""
    if not len(groups):
        return np.zeros(0, dtype="int64")
    return np.concatenate([[0], np.cumsum(groups[1:] != groups[:-1])]).astype("int64")


def _scan(ufunc: np.ufunc, values: _Array, groups: _Array) -> _Array:
    """``ufunc.accumulate`` (``np.maximum`` or ``np.minimum``) of ``values`` restarted at each
    block of equal ``groups`` (blocks contiguous): one pass for every block. Values are
    replaced by their ranks, shifted so that no block reaches into the next one."""
    count = len(values)
    if not count:
        return values.copy()
    order = np.argsort(values, kind="stable")
    ranks = np.empty(count, dtype="int64")
    ranks[order] = np.arange(count)
    shift = _blocks(groups) * count
    if ufunc is np.minimum:  # earlier blocks above the later ones
        shift = -shift
    return values[order][ufunc.accumulate(ranks + shift) - shift]


def _first_plan_limits(sequence: _Array, start: _Array, groups: _Array) -> _Array:
    """Per item, the largest sequence number of its siblings' first plan (see the module's
    docstring); the sibling groups are the blocks of equal ``groups``, each sorted by ``sequence``.

    ``start``: start times as float seconds, NaN for steps that never started (which come
    "after" every started step)."""
    count = len(sequence)
    if not count:
        return np.zeros(0)
    blocks = _blocks(groups)
    latest = np.where(np.isnan(start), np.inf, start)
    prefix_max = _scan(np.maximum, latest, blocks)  # latest start among steps numbered <= seq[i]
    started_only = np.where(np.isnan(start), -np.inf, start)
    suffix_max = _scan(np.maximum, started_only[::-1], blocks[::-1])[::-1]  # latest start numbered >= seq[i]
    prefix_min = _scan(np.minimum, latest, blocks)  # first start among steps numbered <= seq[i]
    suffix_min = _scan(np.minimum, latest[::-1], blocks[::-1])[::-1]  # first start numbered >= seq[i]
    # the first plan = numbers <= seq[i - 1] at a boundary i (a new number in the same run) when
    # every later-numbered started step comes first; from the last boundary back, while it holds
    boundary = np.zeros(count, dtype=bool)
    boundary[1:] = (blocks[1:] == blocks[:-1]) & (sequence[1:] != sequence[:-1])
    holds = np.zeros(count, dtype=bool)
    holds[1:] = (suffix_max[1:] < prefix_max[:-1]) & (suffix_min[1:] > prefix_min[:-1])
    positions = np.arange(count)
    runs = int(blocks[-1]) + 1
    last = np.full(runs, -1)
    np.maximum.at(last, blocks, positions)  # each run's last item
    broken = np.full(runs, -1)
    failing = boundary & ~holds
    np.maximum.at(broken, blocks[failing], positions[failing])  # each run's last failing boundary
    first_held = last.copy() + 1  # none yet
    kept = boundary & holds & (positions > broken[blocks])
    np.minimum.at(first_held, blocks[kept], positions[kept])
    limit_at = np.where(first_held <= last, first_held - 1, last)
    return sequence[limit_at][blocks]


def _marked_added(metadata: pd.Series) -> tuple[_Array, dict[int, str]]:
    """Which steps their metadata marks as added, and for each what it says."""
    marked = np.zeros(len(metadata), dtype=bool)
    said: dict[int, str] = {}
    holders = metadata.notna() & metadata.astype(str).str.contains('"added', regex=False).fillna(False)
    for position in np.flatnonzero(holders.to_numpy(dtype=bool)).tolist():
        values = json_object(metadata.iat[position])
        marked[position] = bool(values.get("added_at") or values.get("added") is True)
        if marked[position]:
            said[position] = f"added_at {values['added_at']}" if values.get("added_at") else "added: true"
    return marked, said


def plan_drift(steps: pd.DataFrame) -> pd.DataFrame:
    """Per step (in the frame's order): ``drift`` (added, reordered, skipped or missing) and
    ``reason`` (one sentence)."""
    return _drift(steps, np.zeros(len(steps), dtype="int64"))


def plans_drift(steps: pd.DataFrame, runs: Any = None) -> pd.DataFrame:
    """:func:`plan_drift` of the plans of many runs in one pass: ``steps`` holds each run's
    steps frame (rows in any order), ``runs`` says whose each row is (by default the
    ``run_id`` column). The same answers, row for row, as :func:`plan_drift` of each run's rows."""
    keys = steps["run_id"] if runs is None else runs
    groups, _ = pd.factorize(pd.Series(keys, copy=False).astype(object).fillna("").to_numpy())
    return _drift(steps, groups.astype("int64"))


_PER_SECOND = {"s": 1, "ms": 10**3, "us": 10**6, "ns": 10**9}


def _seconds_in(started: pd.Series, groups: _Array) -> _Array:
    """Each start in seconds after its run's first start (NaN when it never started), as
    ``(started - started.min()).dt.total_seconds()`` reads one run's."""
    moments = started.array
    ticks = np.asarray(moments.asi8, dtype="int64")  # NaT: the smallest int64
    began = ~np.asarray(moments.isna(), dtype=bool)
    origin = np.full(int(groups.max()) + 1 if len(groups) else 0, np.iinfo("int64").max)
    np.minimum.at(origin, groups[began], ticks[began])
    seconds = (ticks - np.where(began, origin[groups], 0)) / _PER_SECOND[moments.unit]
    return np.where(began, seconds, np.nan)


def _siblings(steps: pd.DataFrame, groups: _Array) -> _Array:
    """Per step, a number shared by its siblings only: the steps of one run (equal ``groups``)
    with the same parent (or none)."""
    parents, _ = pd.factorize(steps["parent_step_id"].astype(object).fillna("").to_numpy())
    return groups * (int(parents.max()) + 1 if len(parents) else 1) + parents


def _drift(steps: pd.DataFrame, groups: _Array) -> pd.DataFrame:
    """Drift of the steps of each run (the rows of equal ``groups``, small whole numbers)."""
    sequence = steps["sequence"].to_numpy(dtype="float64", na_value=np.nan)
    start = _seconds_in(steps["started_at"], groups)
    numbered = np.nan_to_num(sequence, nan=-1.0)
    siblings = _siblings(steps, groups)
    order = np.lexsort((numbered, siblings))  # by run and parent, then number (stable)
    limits = np.empty(len(steps))
    limits[order] = _first_plan_limits(numbered[order], start[order], siblings[order])
    inferred = ~np.isnan(start) & (sequence > limits)
    marked, said = _marked_added(steps["metadata"])
    added = inferred | marked
    reordered = _reordered(steps, added, siblings, sequence)
    skipped = (steps["status"] == StepStatus.SKIPPED).to_numpy(dtype=bool)
    drift = np.select([added, reordered, skipped], ["added", "reordered", "skipped"], "").astype(object)
    reasons = np.select(
        [reordered, skipped], ["started after a step that comes later in the plan", "skipped"], ""
    ).astype(object)
    for position in np.flatnonzero(inferred).tolist():
        reasons[position] = (
            f"added after the run started: numbered {sequence[position]:.0f}, above the first plan's "
            f"{limits[position]:.0f}, yet run before steps of the first plan"
        )
    for position in np.flatnonzero(marked & ~inferred).tolist():
        reasons[position] = f"added after the run started, as its metadata says ({said[position]})"
    unmarked = drift == ""
    drift[unmarked] = reasons[unmarked] = None
    columns = {"drift": pd.array(drift, dtype=TEXT), "reason": pd.array(reasons, dtype=TEXT)}
    return pd.DataFrame({"step_id": steps["step_id"], **columns}, index=steps.index)


def _reordered(steps: pd.DataFrame, added: _Array, siblings: _Array, sequence: _Array) -> _Array:
    """Per run and parent (equal ``siblings``), in plan order: a step is late when a step after
    it in the plan (numbered later, or numbered alike and later in the frame; unnumbered last)
    ran before it (:func:`._parallel.started_late`: siblings run side by side have no order)."""
    result = np.zeros(len(steps), dtype=bool)
    began = steps["started_at"].to_numpy(dtype="datetime64[us]")
    rows = np.flatnonzero(~added & ~np.isnat(began))
    if not len(rows):
        return result
    ended = steps["completed_at"].to_numpy(dtype="datetime64[us]")[rows]
    origin = began[rows].min()
    start = (began[rows] - origin) / np.timedelta64(1, "s")
    end = np.where(np.isnat(ended), np.nan, (ended - origin) / np.timedelta64(1, "s"))
    order = np.lexsort((sequence[rows], siblings[rows]))  # stable; NaN numbers last
    result[rows[order]] = started_late(start[order], end[order], siblings[rows][order])
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
