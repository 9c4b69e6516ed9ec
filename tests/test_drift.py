"""Plan drift of many runs in one pass (``plans_drift``, what the grid reads) gives, row for row,
what ``plan_drift`` gives run by run, and added steps follow the first plan's definition
(among siblings)."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pandas as pd

from missionlab.analysis._drift import plan_drift, plans_drift

from .crafted import craft, step


def random_plan(rng: np.random.Generator, run: int) -> pd.DataFrame:
    """A run's steps frame: numbers repeated or skipped, nested steps, steps never started,
    skipped ones, and a few marked as added in their metadata."""
    steps = []
    count = int(rng.integers(0, 22))
    for n in range(count):
        start = None if rng.random() < 0.2 else float(rng.integers(0, 80))
        parent = [None, "s0", "s1"][int(rng.integers(0, 3))] if n > 1 else None
        status = "pending" if start is None else ("skipped" if rng.random() < 0.08 else "completed")
        marked = rng.random()
        metadata = (
            {"added_at": "2026-11-01T10:00:04Z"}
            if marked < 0.04
            else {"added": True}
            if marked < 0.06
            else None
        )
        steps.append(
            step(
                f"s{n}",
                start,
                None if start is None else start + float(rng.integers(1, 9)),
                status,
                sequence=int(rng.integers(1, count + 3)),
                parent=parent,
                metadata=metadata,
            )
        )
    frame = craft(steps, run_id=f"run-{run}").steps_frame
    if run % 5 == 0 and len(frame):  # numbers missing: read as -1 for the first plan, never added
        frame.loc[frame.index[::4], "sequence"] = pd.NA
    return frame


def plans(seed: int, runs: int) -> list[pd.DataFrame]:
    rng = np.random.default_rng(seed)
    return [random_plan(rng, run) for run in range(runs)]


def test_many_runs_in_one_pass_equal_each_run_alone() -> None:
    frames = plans(11, 120)
    whole = pd.concat(frames, ignore_index=True)
    shuffled = whole.sample(frac=1, random_state=4)  # a run's rows need not be together
    for together in (whole, shuffled):
        drift = plans_drift(together)
        for frame in frames:
            mine = together["run_id"].to_numpy(dtype=object) == frame["run_id"].iat[0] if len(frame) else None
            if mine is None:
                continue
            alone = plan_drift(together[mine])
            pd.testing.assert_frame_equal(drift[mine], alone)
    kinds = set(plans_drift(whole)["drift"].dropna())
    assert kinds == {"added", "reordered", "skipped"}  # every kind is exercised


def first_plan_limit(frame: pd.DataFrame) -> float:
    """The module's definition, plainly: from the highest number down, the first plan is the
    steps numbered up to N while every later-numbered step that started did so before the
    first plan's last start (a first-plan step never started counts as last) and after its
    first start."""
    numbers = frame["sequence"].to_numpy(dtype="float64", na_value=np.nan)
    numbers = np.where(np.isnan(numbers), -1.0, numbers)
    began = frame["started_at"]
    seconds = ((began - began.min()).dt.total_seconds()).to_numpy(dtype="float64", na_value=np.nan)
    distinct = sorted(set(numbers.tolist()))
    limit = distinct[-1] if distinct else 0.0
    for below in reversed(distinct[:-1]):
        first, later = seconds[numbers <= below], seconds[numbers > below]
        first_last = np.inf if np.isnan(first).any() else first.max()
        later_last = later[~np.isnan(later)].max() if (~np.isnan(later)).any() else -np.inf
        first_first = np.where(np.isnan(first), np.inf, first).min()
        later_first = np.where(np.isnan(later), np.inf, later).min()
        if later_last < first_last and later_first > first_first:
            limit = below
        else:
            break
    return float(limit)


def marked_added(frame: pd.DataFrame) -> set[str]:
    marked = set()
    for step_id, text in zip(frame["step_id"], frame["metadata"], strict=True):
        if isinstance(text, str):
            values: dict[str, Any] = json.loads(text)
            if values.get("added_at") or values.get("added") is True:
                marked.add(step_id)
    return marked


def test_added_steps_follow_the_definition() -> None:
    """Each group of siblings (the steps of one parent, or the top-level ones) has its own
    first plan: a step's number is compared with its siblings' only."""
    seen = marked = 0
    for frame in plans(12, 150):
        late: dict[str, float] = {}  # step id: its siblings' first plan limit
        for _, siblings in frame.groupby(frame["parent_step_id"].astype(object).fillna(""), sort=False):
            limit = first_plan_limit(siblings)
            numbers = siblings["sequence"].to_numpy(dtype="float64", na_value=np.nan)
            started = siblings["started_at"].notna().to_numpy(dtype=bool)
            late |= dict.fromkeys(siblings.loc[started & (numbers > limit), "step_id"], limit)
        drift = plan_drift(frame)
        is_added = (drift["drift"].fillna("") == "added").to_numpy(dtype=bool)
        added = set(frame.loc[is_added, "step_id"])
        assert added == set(late) | marked_added(frame)
        seen += len(late)
        reasons = dict(zip(frame["step_id"], drift["reason"], strict=True))
        for step_id, limit in late.items():
            assert f"above the first plan's {limit:.0f}" in reasons[step_id]
        for step_id in marked_added(frame) - set(late):  # marked only: its metadata is the reason
            assert reasons[step_id].startswith("added after the run started, as its metadata says (added")
            assert "first plan" not in reasons[step_id]
            marked += 1
    assert seen > 20  # steps numbered above the first plan were found, not only marked ones
    assert marked > 3
