"""Runs quiet for a reason are not told as silent or abandoned (probe-3 #8): a step waiting
for a tool's answer (a human approving) as long as the mission's baseline does not call the
step slow, a run someone paused. A silence across days is told with its dates (U2)."""

from __future__ import annotations

from datetime import timedelta

import pandas as pd

import missionlab
from missionlab.analysis.explain import explain

from .crafted import T0, craft, event, linear, step

MINUTE = 60


def approval(*, answered: bool = False) -> missionlab.RunTrace:
    """A running run whose step 'ask' called human.approve at 2 s (answered at 5 s, or not yet)."""
    call = {"tool": "human.approve", "request_id": "h1"}
    events = [event(2, "tool_call", "ask", "Calling human.approve", call)]
    if answered:
        events.append(event(5, "tool_result", "ask", "approved", call))
    return craft([step("ask", 1, None, "in_progress", sequence=1)], events, status="running", end=None)


def test_a_step_waiting_for_a_tools_answer_is_not_silent() -> None:
    later = T0 + timedelta(minutes=20)
    waiting = approval()
    assert missionlab.diagnose(waiting, now=later).empty
    assert not explain(waiting, now=later).findings
    # the same step, its call answered 20 min ago and nothing said since: silent, as before
    answered = approval(answered=True)
    assert missionlab.diagnose(answered, now=later)["check"].tolist() == ["silent_step"]
    assert [f.kind for f in explain(answered, now=later)] == ["stuck_open"]


def test_a_tool_that_never_answers_is_told_once_the_step_is_slow_for_its_mission() -> None:
    # earlier runs: 'ask' took 30 s; waiting 20 min is far past that
    earlier = pd.concat(
        [linear({"ask": 30.0}, run_id=f"earlier-{n}").steps_frame for n in range(5)], ignore_index=True
    )
    found = explain(approval(), now=T0 + timedelta(minutes=20), baseline=earlier)
    assert [f.kind for f in found] == ["stuck_open", "slow_step"]


def test_a_paused_run_is_not_abandoned() -> None:
    steps = [step("draft", 1, 10, sequence=1), step("approve", 10, None, "in_progress", sequence=2)]
    paused = craft(
        steps,
        [event(11, "status_change", None, "paused", {"from": "running", "to": "paused"})],
        status="paused",
        end=None,
    )
    assert not explain(paused, now=T0 + timedelta(hours=2)).findings
    assert missionlab.diagnose(paused, now=T0 + timedelta(hours=2)).empty


def test_a_silence_across_days_gives_its_dates() -> None:
    days = [step(f"day{i}", i * 86400 + 1, i * 86400 + 3600, sequence=i + 1) for i in range(2)]
    ticks = [
        event(i * 86400 + 1 + 600 * k, "message", f"day{i}", f"tick {k}") for i in range(2) for k in range(6)
    ]
    gap = explain(craft(days, ticks)).of_kind("silent_gap")[0]
    assert "(from 2026-11-01 11:00:00 to 2026-11-02 10:00:01)" in gap.text
    assert gap.evidence.text().endswith("2026-11-01 11:00:00 to 2026-11-02 10:00:01 UTC")
    # within a day, the clock alone
    hours = [step("a", 1, 7200, sequence=1)]
    said = [event(2, "message", "a"), event(3600, "message", "a")]
    quiet = explain(craft(hours, said)).of_kind("silent_gap")[0]
    assert "(from 10:00:02 to 11:00:00)" in quiet.text
