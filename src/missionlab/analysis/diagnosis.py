"""Run diagnosis: what is inconsistent or suspicious in a run, its plan and its events.

``diagnose(trace)`` is a view of the findings engine (:mod:`missionlab.analysis.engine`):
every finding of kind ``inconsistency``, as a DataFrame, one row each, most severe first:
``severity`` (error, warning, info), ``check`` (a short code), ``step_id`` (when about one
step) and ``message`` (one sentence). A run that failed and recorded why is consistent:
why it failed is :func:`missionlab.analysis.explain.explain`'s to tell.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pandas as pd

from ..frames._columns import TEXT
from ..frames._runlike import RunLike
from .engine import CHECKS as ALL_CHECKS
from .engine import INCONSISTENCY, examine
from .finding import SEVERITIES, Check, Settings

__all__ = ["CHECKS", "diagnose"]

#: The checks whose findings diagnose lists (those of kind ``inconsistency``), in order.
CHECKS: tuple[Check, ...] = tuple(check for check in ALL_CHECKS if check.kind == INCONSISTENCY)
SEVERITY = pd.CategoricalDtype(list(SEVERITIES), ordered=True)
COLUMNS = ["severity", "check", "step_id", "message"]
_DEFAULT = Settings()


def diagnose(
    trace: RunLike, *, now: datetime | None = None, silence: timedelta = _DEFAULT.silence
) -> pd.DataFrame:
    """Findings about ``trace``, most severe first; an empty frame when all looks right.

    ``now``: the moment to judge the run at (default: now); ``silence``: how long an
    in-progress step may go without events before it is reported.
    """
    found = examine(trace, now=now, settings=Settings(silence=silence), kinds={INCONSISTENCY}).findings
    rows = [(f.severity, f.check, f.step_id, f.text) for f in found]
    frame = pd.DataFrame(rows, columns=COLUMNS)
    frame["severity"] = frame["severity"].astype(SEVERITY)
    for column in ("check", "step_id", "message"):
        frame[column] = frame[column].astype(TEXT)
    return frame.sort_values("severity", kind="stable", ignore_index=True)
