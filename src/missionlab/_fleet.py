"""Views across many runs of the frames of :mod:`missionlab.frames` (which re-exports them):
per-step duration statistics and run outcomes over time."""

from __future__ import annotations

import pandas as pd

from . import _columns as c
from .types import RunStatus, StepStatus

__all__ = ["ENDED_STEP_STATUSES", "outcomes_over_time", "step_stats"]

# Finished steps that ran (and so have a duration): not the skipped ones.
ENDED_STEP_STATUSES = frozenset({StepStatus.COMPLETED, StepStatus.FAILED})


def step_stats(steps: pd.DataFrame) -> pd.DataFrame:
    """Per-step duration statistics across runs: count, median, p95, failure rate.

    ``steps`` is a steps frame of many runs (e.g. ``fetch_frames(client, steps=True).steps``);
    steps are grouped by ``step_id``. Sorted slowest (median) first.
    """
    columns = ["step_id", "description", "runs", "finished", "median_s", "p95_s", "max_s", "failure_rate"]
    if steps.empty:
        return pd.DataFrame(
            {
                name: pd.Series(
                    dtype="float64"
                    if name.endswith(("_s", "rate"))
                    else "int64"
                    if name in ("runs", "finished")
                    else c.TEXT
                )
                for name in columns
            }
        )
    finished = steps["status"].isin(ENDED_STEP_STATUSES)
    grouped = steps.assign(
        _finished=finished,
        _failed=steps["status"] == StepStatus.FAILED,
        _done_s=steps["duration_s"].where(finished & ~steps["is_running"]),
    )
    stats = grouped.groupby("step_id", observed=True, sort=False).agg(
        description=("description", "first"),
        runs=("run_id", "nunique"),
        finished=("_finished", "sum"),
        median_s=("_done_s", "median"),
        p95_s=("_done_s", lambda s: s.quantile(0.95)),
        max_s=("_done_s", "max"),
        failed=("_failed", "sum"),
    )
    stats["failure_rate"] = stats["failed"] / stats["finished"].where(stats["finished"] > 0)
    stats = stats.drop(columns="failed").reset_index()
    stats["step_id"] = stats["step_id"].astype(c.TEXT)
    return stats.sort_values("median_s", ascending=False, na_position="last", ignore_index=True)[columns]


def outcomes_over_time(runs: pd.DataFrame, freq: str = "D") -> pd.DataFrame:
    """Run counts per period (rows) and status (columns), by ``started_at``.

    The columns are every documented status, then any status missionlab does not know.
    """
    statuses = list(runs["status"].cat.categories) if "status" in runs else [s.value for s in RunStatus]
    if runs.empty:
        return pd.DataFrame(columns=pd.Index(statuses, name="status"), dtype="int64")
    grouper = pd.Grouper(key="started_at", freq=freq)
    table = runs.groupby([grouper, "status"], observed=False).size().unstack("status", fill_value=0)
    table = table.reindex(columns=statuses, fill_value=0).astype("int64")
    table.index.name = "period"
    table.columns = pd.Index(statuses, name="status")
    return table
