"""Views across many runs of the frames of :mod:`missionlab.frames` (which re-exports them):
per-step duration statistics and run outcomes over time.

Each view also takes a local history (:class:`missionlab.History`, recognised by its
methods, since the history's module builds on this one) with filters (``mission``,
``since``, ``until``): the history answers from its files without loading everything.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from ..types import RunStatus, StepStatus
from . import _columns as c

__all__ = ["ENDED_STEP_STATUSES", "fleet_frame", "is_history", "outcomes_over_time", "step_stats"]

# Finished steps that ran (and so have a duration): not the skipped ones.
ENDED_STEP_STATUSES = frozenset({StepStatus.COMPLETED, StepStatus.FAILED})


def is_history(source: Any) -> bool:
    """Whether ``source`` is a local history (it has the history's readers), not a frame."""
    return not isinstance(source, pd.DataFrame) and all(
        callable(getattr(source, name, None)) for name in ("runs", "steps", "step_stats", "sql")
    )


def fleet_frame(source: Any, table: str, filters: dict[str, Any]) -> Any:
    """``source`` as given (a frame, or what a frame is built from); of a history, its
    ``table`` ("runs" or "steps") for ``filters``. Filters need a history."""
    if is_history(source):
        return getattr(source, table)(**filters)
    if filters:
        raise TypeError(
            f"{', '.join(f'{name}=' for name in sorted(filters))}: filters apply to a missionlab.History, "
            f"not to a {type(source).__name__}; filter the frame itself instead"
        )
    return source


def step_stats(steps: Any, **filters: Any) -> pd.DataFrame:
    """Per-step duration statistics across runs: count, median, p95, failure rate.

    Of working time (``working_s``: a step's seconds less those its run was paused while it
    was open, as the findings engine's baseline measures them; steps that ended before they
    started left out).

    ``steps`` is a steps frame of many runs (e.g. ``fetch_frames(client, steps=True).steps``);
    steps are grouped by ``step_id``. Sorted slowest (median) first. Of a
    :class:`missionlab.History`, with ``mission``/``since``/``until`` filters, DuckDB computes
    the same statistics over its files, grouped by mission too (see ``History.step_stats``).
    """
    if is_history(steps):
        result: pd.DataFrame = steps.step_stats(**filters)
        return result
    return _step_stats(fleet_frame(steps, "steps", filters))


def _working(steps: pd.DataFrame) -> pd.Series:
    """The steps' working seconds (a frame made before ``working_s`` existed: its wall time)."""
    return steps["working_s"] if "working_s" in steps else steps["duration_s"]


def _step_stats(steps: pd.DataFrame) -> pd.DataFrame:
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
        # a step whose record ends before it starts has no duration to count
        _done_s=_working(steps).where(finished & ~steps["is_running"] & (steps["duration_s"] >= 0)),
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


def outcomes_over_time(runs: Any, freq: str = "D", **filters: Any) -> pd.DataFrame:
    """Run counts per period (rows) and status (columns), by ``started_at``.

    The columns are every documented status, then any status missionlab does not know.
    ``runs`` may be a :class:`missionlab.History`, with ``mission``/``since``/``until`` filters.
    """
    if is_history(runs):
        result: pd.DataFrame = runs.outcomes_over_time(freq, **filters)
        return result
    return _outcomes_over_time(fleet_frame(runs, "runs", filters), freq)


def _outcomes_over_time(runs: pd.DataFrame, freq: str) -> pd.DataFrame:
    statuses = list(runs["status"].cat.categories) if "status" in runs else [s.value for s in RunStatus]
    if runs.empty:
        return pd.DataFrame(columns=pd.Index(statuses, name="status"), dtype="int64")
    grouper = pd.Grouper(key="started_at", freq=freq)
    table = runs.groupby([grouper, "status"], observed=False).size().unstack("status", fill_value=0)
    table = table.reindex(columns=statuses, fill_value=0).astype("int64")
    table.index.name = "period"
    table.columns = pd.Index(statuses, name="status")
    return table
