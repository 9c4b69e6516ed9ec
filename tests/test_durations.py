"""One duration formatter for every view: its texts for known values, and the views that
show a duration (the runs list, the Gantt's hover, the explanation) writing the same text."""

from __future__ import annotations

from datetime import timedelta

import pandas as pd
import pytest

import missionlab
from missionlab.analysis.explain import explain
from missionlab.frames._durations import duration_text
from missionlab.widgets.runs import run_row

from .crafted import T0, linear


@pytest.mark.parametrize(
    "seconds,text",
    [
        (0.4, "0.4 s"),
        (0.0, "0.0 s"),
        (9.94, "9.9 s"),
        (9.96, "10 s"),  # rounds up into the next band, not "10.0 s"
        (38, "38 s"),
        (89.4, "89 s"),
        (89.6, "1 min 30 s"),
        (100, "1 min 40 s"),
        (120, "2 min"),
        (3599.6, "1.0 h"),  # not "60 min"
        (4000, "1.1 h"),
        (47 * 3600, "47.0 h"),
        (3 * 86400, "3.0 days"),
        (63 * 3600, "2.6 days"),  # 2 days 15 h: not rounded up to "3 days"
        (9.96 * 86400, "10 days"),  # rounds up into the next band, not "10.0 days"
        (40 * 86400, "40 days"),
        (-5, "-5.0 s"),
        (float("nan"), "—"),
        (None, "—"),
        (pd.NA, "—"),
    ],
)
def test_known_durations(seconds: object, text: str) -> None:
    assert duration_text(seconds) == text


def test_every_view_writes_100_seconds_alike() -> None:
    run = missionlab.Run(
        run_id="r" * 8,
        mission_id="m",
        status="succeeded",
        started_at=T0,
        finished_at=T0 + timedelta(seconds=100),
        updated_at=T0 + timedelta(seconds=100),
    )
    assert run_row(run, T0 + timedelta(hours=1))["duration"] == "1 min 40 s"  # was "1.7 min"

    trace = linear({"a": 100})
    bar = next(t for t in trace.gantt().data if t.meta == "bar:completed")
    assert bar.customdata[0][4] == "1 min 40 s"  # the hover's duration

    earlier = pd.concat([linear({"a": 20}, run_id=f"old-{n}").steps_frame for n in range(3)])
    slow = explain(trace, baseline=earlier).of_kind("slow_step")[0]
    assert slow.text.startswith("Step 'A' took 1 min 40 s, 5.0x its median of 20 s")
