"""Run diagnosis: what is inconsistent or suspicious in a run, its plan and its events.

``diagnose(trace)`` returns a DataFrame of findings, one row each, most severe
first: ``severity`` (error, warning, info), ``check`` (a short code), ``step_id``
(when about one step) and ``message`` (one sentence).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pandas as pd

from ..frames._columns import TEXT
from ..frames._runlike import RunLike
from ._consistency_checks import CHECKS, COLUMNS, SEVERITY, _Context

__all__ = ["CHECKS", "diagnose"]


def diagnose(
    trace: RunLike, *, now: datetime | None = None, silence: timedelta = timedelta(minutes=5)
) -> pd.DataFrame:
    """Findings about ``trace``, most severe first; an empty frame when all looks right.

    ``silence``: how long an in-progress step may go without events before it is
    reported.
    """
    context = _Context(trace, pd.Timestamp(now or datetime.now(UTC)).tz_convert("UTC"), silence)
    rows: list[Any] = [finding for check in CHECKS for finding in check(context)]
    frame = pd.DataFrame(rows, columns=COLUMNS)
    frame["severity"] = frame["severity"].astype(SEVERITY)
    for column in ("check", "step_id", "message"):
        frame[column] = frame[column].astype(TEXT)
    return frame.sort_values("severity", kind="stable", ignore_index=True)
