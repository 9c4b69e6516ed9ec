"""Up to when a step still open is measured: to "now" while its run is active, to the run's
end once the run has ended. A step an agent left ``in_progress`` in a run that was then
cancelled or failed (the sandbox leaves it so) did no work after its run ended: measured to
"now", it would grow for ever and read as running."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from ..types import TERMINAL_RUN_STATUSES
from ._runlike import field

__all__ = ["ends_of_runs", "run_end", "step_run_ends", "utc"]

_NAT = np.datetime64("NaT", "us")


def utc(value: Any) -> pd.Timestamp | None:
    """A moment as a UTC timestamp (naive ones are read as UTC); None when missing."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    stamp = pd.Timestamp(value)
    return stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")


def _end(status: Any, finished_at: Any, updated_at: Any) -> pd.Timestamp | None:
    finished = utc(finished_at)
    if finished is not None:
        return finished
    if str(status) in TERMINAL_RUN_STATUSES:
        # ended with no finished_at (the API does not promise one): the last change the
        # server recorded of the run is the latest its steps can have worked
        return utc(updated_at)
    return None


def run_end(run: Any) -> pd.Timestamp | None:
    """When ``run`` (a model or a dict) ended: its ``finished_at``; for a run whose status says
    it ended but that gives no ``finished_at``, its ``updated_at``; None while it is active (or
    its status is not known to be final and it has no ``finished_at``)."""
    if run is None:
        return None
    return _end(field(run, "status"), field(run, "finished_at"), field(run, "updated_at"))


def ends_of_runs(runs: Any) -> dict[str, np.datetime64]:
    """:func:`run_end` of each ended run of ``runs`` (a runs frame, or runs as models or
    dicts), by run id, as naive UTC ``datetime64[us]``; active runs are left out."""
    if isinstance(runs, pd.DataFrame):
        rows: Iterable[tuple[Any, Any, Any, Any]] = zip(
            runs["run_id"],
            runs["status"],
            runs["finished_at"],
            runs["updated_at"] if "updated_at" in runs else [None] * len(runs),
            strict=True,
        )
    else:
        items = [runs] if not isinstance(runs, Iterable) or isinstance(runs, dict) else list(runs)
        rows = (
            (field(r, "run_id"), field(r, "status"), field(r, "finished_at"), field(r, "updated_at"))
            for r in items
        )
    ends: dict[str, np.datetime64] = {}
    for run_id, status, finished_at, updated_at in rows:
        end = _end(status, finished_at, updated_at)
        if end is not None and run_id is not None:
            ends[str(run_id)] = np.datetime64(end.tz_localize(None), "us")
    return ends


def step_run_ends(run_ids: Sequence[Any], runs: Any) -> np.ndarray[Any, Any]:
    """For each step (by its ``run_ids``), the end of its run when that run of ``runs`` has
    ended, else NaT (naive UTC ``datetime64[us]``): all NaT when ``runs`` is None."""
    ends = {} if runs is None else ends_of_runs(runs)
    if not ends:
        return np.full(len(run_ids), _NAT)
    return np.array([ends.get(str(run), _NAT) for run in run_ids], dtype="datetime64[us]")
