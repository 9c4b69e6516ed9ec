"""Diagnosis: one crafted run per finding, and clean runs with none."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

import missionlab
from missionlab import Event, PlanStep, Run
from missionlab.sandbox import Sandbox
from missionlab.trace import RunTrace, load_run

T0 = datetime(2026, 11, 29, 10, 0, tzinfo=UTC)
NOW = T0 + timedelta(hours=1)


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def step(
    step_id: str,
    sequence: int,
    status: str,
    start: float | None,
    end: float | None,
    parent: str | None = None,
) -> PlanStep:
    return PlanStep(
        step_id=step_id,
        run_id="r",
        sequence=sequence,
        description=step_id.upper(),
        status=status,
        started_at=None if start is None else at(start),
        completed_at=None if end is None else at(end),
        parent_step_id=parent,
    )


def event(type_: str, minutes: float, step_id: str | None = None) -> Event:
    return Event(
        event_id=f"e{minutes}{type_}",
        run_id="r",
        type=type_,
        summary=type_,
        timestamp=at(minutes),
        step_id=step_id,
    )


def run(status: str = "succeeded", **fields: Any) -> Run:
    finished = at(30) if status in ("succeeded", "failed", "cancelled") else None
    defaults = (
        {"result_summary": "done"}
        if status == "succeeded"
        else ({"error": "boom"} if status == "failed" else {})
    )
    return Run(
        run_id="r",
        mission_id="m",
        status=status,
        started_at=T0,
        updated_at=at(30),
        finished_at=finished,
        **{**defaults, **fields},
    )


CLEAN_STEPS = [
    step("a", 1, "completed", 1, 5),
    step("b", 2, "completed", 6, 10),
    step("b1", 1, "completed", 6, 8, "b"),
    step("b2", 2, "completed", 8, 10, "b"),
]
CLEAN_EVENTS = [
    event("step_started", 1, "a"),
    event("step_completed", 5, "a"),
    event("step_started", 6, "b"),
    event("step_completed", 10, "b"),
]


def findings(trace: RunTrace) -> list[tuple[str, str, str | None]]:
    frame = missionlab.diagnose(trace, now=NOW)
    return [
        (s, c, None if i is None or str(i) == "<NA>" else str(i))
        for s, c, i in zip(frame["severity"], frame["check"], frame["step_id"], strict=True)
    ]


def test_clean_run_has_no_findings() -> None:
    frame = missionlab.diagnose(RunTrace(run(), CLEAN_STEPS, CLEAN_EVENTS), now=NOW)
    assert frame.empty and list(frame.columns) == ["severity", "check", "step_id", "message"]


CASES = [
    (
        "finished without start",
        RunTrace(run(), [step("a", 1, "completed", None, 5)], []),
        [("warning", "finished_without_start", "a")],
    ),
    (
        # a step left pending by a run that failed is the shape of a run that stopped: not told
        "open steps in a failed run",
        RunTrace(
            run("failed"), [step("a", 1, "in_progress", 1, None), step("b", 2, "pending", None, None)], []
        ),
        [("error", "open_step_in_finished_run", "a")],
    ),
    (
        "a pending step in a run that succeeded",
        RunTrace(run(), [step("a", 1, "completed", 1, 5), step("b", 2, "pending", None, None)], []),
        [("warning", "open_step_in_finished_run", "b")],
    ),
    (
        "run still running with every step finished",
        RunTrace(run("running"), [step("a", 1, "completed", 1, 5)], [event("message", 59, "a")]),
        [("warning", "run_open_after_all_steps", None)],
    ),
    (
        "event naming an unknown step",
        RunTrace(run(), [step("a", 1, "completed", 1, 5)], [event("tool_call", 2, "ghost")]),
        [("warning", "event_for_unknown_step", "ghost")],
    ),
    (
        "event disagreeing with the step's status",
        RunTrace(run(), [step("a", 1, "completed", 1, 5)], [event("step_failed", 5, "a")]),
        [("error", "event_disagrees_with_status", "a")],
    ),
    (
        "silent in-progress step",
        RunTrace(run("running"), [step("a", 1, "in_progress", 1, None)], [event("message", 20, "a")]),
        [("warning", "silent_step", "a")],
    ),
    (
        "succeeded without a summary",
        RunTrace(run(result_summary=None), CLEAN_STEPS, CLEAN_EVENTS),
        [("info", "no_result_summary", None)],
    ),
    (
        "failed without an error",
        RunTrace(run("failed", error=None), CLEAN_STEPS, CLEAN_EVENTS),
        [("warning", "failed_without_error", None)],
    ),
    (
        "out of sequence order",
        RunTrace(run(), [step("a", 1, "completed", 6, 8), step("b", 2, "completed", 1, 5)], []),
        [("info", "out_of_sequence", "a")],
    ),
    (
        "overlapping siblings in a sequential plan",
        RunTrace(
            run(),
            [
                step("a", 1, "completed", 1, 5),
                step("b", 2, "completed", 6, 10),
                step("c", 3, "completed", 9, 12),
                step("d", 4, "completed", 13, 14),
                step("e", 5, "completed", 15, 16),
            ],
            [],
        ),
        [("warning", "overlapping_siblings", "c")],
    ),
]


@pytest.mark.parametrize("name,trace,expected", CASES, ids=[c[0] for c in CASES])
def test_each_finding(name: str, trace: RunTrace, expected: list[Any]) -> None:
    assert findings(trace) == expected
    messages = missionlab.diagnose(trace, now=NOW)["message"]
    assert all(m.endswith((".", "?", ")")) and len(m) < 300 for m in messages)


def test_parallel_plans_are_not_flagged_for_overlap() -> None:
    parallel = [step(x, i, "completed", 1, 5) for i, x in enumerate("abcd")]
    assert findings(RunTrace(run(), parallel, [])) == []


def test_siblings_numbered_alike_are_planned_side_by_side() -> None:
    """Two branches given one sequence number overlap as planned; numbered apart, the same
    times are an overlap in a plan whose other siblings ran one after another."""

    def branches(second: int) -> RunTrace:
        steps = [
            step("a", 1, "completed", 1, 3),
            step("b1", 2, "completed", 4, 9),
            step("b2", second, "completed", 4.2, 12),
            step("c", second + 1, "completed", 13, 15),
        ]
        return RunTrace(run(), steps, [])

    assert findings(branches(2)) == []
    assert findings(branches(3)) == [("warning", "overlapping_siblings", "b2")]
    assert not branches(2).explain(now=NOW).of_kind("inconsistency")


def test_siblings_run_side_by_side_are_not_out_of_sequence() -> None:
    ms = 1 / 60_000  # a millisecond, in minutes
    fan_out = [
        step("root", 1, "completed", 1, 20),
        step("hotels", 2, "completed", 2 + 3 * ms, 10, "root"),  # threads start in any order
        step("flights", 3, "completed", 2 + ms, 11, "root"),
        step("cars", 4, "completed", 2 + 2 * ms, 12, "root"),
        step("merge", 5, "completed", 13, 19, "root"),
    ]
    assert findings(RunTrace(run(), fan_out, [])) == []
    # one ran before the other: the later-numbered one first is out of sequence
    in_turn = [step("root", 1, "completed", 1, 20), step("a", 2, "completed", 6, 8, "root")]
    in_turn.append(step("b", 3, "completed", 2, 5, "root"))
    assert findings(RunTrace(run(), in_turn, [])) == [("info", "out_of_sequence", "a")]


def test_paused_runs_are_not_reported_silent() -> None:
    trace = RunTrace(run("paused"), [step("a", 1, "in_progress", 1, None)], [])
    assert findings(trace) == []


def test_silence_threshold_is_adjustable() -> None:
    trace = RunTrace(run("running"), [step("a", 1, "in_progress", 57, None)], [])
    assert missionlab.diagnose(trace, now=NOW).empty
    assert len(missionlab.diagnose(trace, now=NOW, silence=timedelta(minutes=1))) == 1


def test_simulated_runs_are_clean() -> None:
    with Sandbox(demo=True) as sandbox, sandbox.client() as client:
        for status in ("succeeded", "failed", "cancelled"):
            for summary in client.missions.runs.list_runs(status=status, page_size=15).data:
                trace = load_run(client, summary.mission_id, summary.run_id)
                assert trace.diagnose().empty, (status, trace.diagnose().to_dict("records"))


def test_a_finding_about_events_points_at_them() -> None:
    from missionlab.analysis.engine import INCONSISTENCY, examine

    from .crafted import craft, event, step

    events = [
        event(5, "message", "ghost", "hello", event_id="EV-GHOST-1"),
        event(6, "step_failed", "b", "b failed", event_id="EV-FAILED"),
        event(6.5, "message", "ghost", "again", event_id="EV-GHOST-2"),
        event(7, "heartbeat", "a", event_id="EV-NEW-TYPE"),  # a type the vocabulary lacks
    ]
    with pytest.warns(missionlab.UnknownValueWarning, match="heartbeat"):
        trace = craft(
            [step("a", 1, 3, sequence=1), step("b", 4, 8, sequence=2)], events, with_step_events=False
        )
    # every finding of these checks, information ones too (what diagnose lists, with evidence)
    findings = examine(trace, kinds={INCONSISTENCY}).findings
    found = {f.check: (f.evidence.steps, f.evidence.events) for f in findings}
    assert found["event_for_unknown_step"] == (("ghost",), ("EV-GHOST-1", "EV-GHOST-2"))
    assert found["event_disagrees_with_status"] == (("b",), ("EV-FAILED",))
    assert found["unknown_event_type"] == ((), ("EV-NEW-TYPE",))
