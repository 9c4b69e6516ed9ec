"""The findings engine: one registry of checks whose findings diagnose() and explain() both
view (diagnose: every inconsistency; explain: warnings and errors, each told once, ranked);
``now`` given to every check; the registry's declarations kept honest."""

from __future__ import annotations

import ast
from datetime import timedelta
from pathlib import Path

import pandas as pd

import missionlab
from missionlab.analysis import diagnosis
from missionlab.analysis.engine import CHECKS, KINDS, examine
from missionlab.analysis.explain import explain
from missionlab.analysis.finding import SEVERITIES

from .crafted import T0, at, craft, event, linear, step

ANALYSIS = Path(missionlab.__file__).parent / "analysis"


def test_the_registry_declares_each_check_once() -> None:
    names = [check.name for check in CHECKS]
    assert len(names) == len(set(names))
    assert KINDS == (
        "stuck_open",
        "failed_step",
        "run_failed",
        "cancelled",
        "error_chain",
        "skipped",
        "slow_step",
        "retry_loop",
        "silent_gap",
        "failure_cluster",
        "inconsistency",
    )
    assert [check.name for check in diagnosis.CHECKS] == [
        "finished_without_start",
        "ends_before_start",
        "open_step_in_finished_run",
        "run_open_after_all_steps",
        "event_for_unknown_step",
        "event_disagrees_with_status",
        "silent_step",
        "no_result_summary",
        "failed_without_error",
        "out_of_sequence",
        "overlapping_siblings",
        "unknown_status",
        "unknown_event_type",
        "times_from_events",
    ]
    for check in CHECKS:
        assert check.severity in SEVERITIES and check.needs <= {"baseline", "now", "fleet"}, check.name
        assert check.covers <= set(names), check.name


def test_diagnose_and_explain_view_the_same_findings() -> None:
    """A failed run whose record also says a step is still running: diagnose lists that
    inconsistency, explain tells it (same sentence) after the failure."""
    steps = [step("a", 1, 5, "failed", sequence=1), step("b", 6, None, "in_progress", sequence=2)]
    trace = craft(steps, [event(3, "error", "a", "Boom")], status="failed", end=9, error="Boom")
    frame = missionlab.diagnose(trace)
    assert frame[["severity", "check", "step_id"]].values.tolist() == [
        ["error", "open_step_in_finished_run", "b"]
    ]
    explanation = explain(trace)
    assert [(f.kind, f.check) for f in explanation] == [
        ("failed_step", "failed_step"),
        ("error_chain", "error_chain"),
        ("inconsistency", "open_step_in_finished_run"),
    ]
    assert (
        explanation[2].text
        == frame.loc[0, "message"]
        == "Step 'b' is still in_progress although the run is failed."
    )
    everything = examine(trace).findings
    assert [f.check for f in everything] == ["failed_step", "error_chain", "open_step_in_finished_run"]


def test_a_thing_is_told_once() -> None:
    # A run that failed with no failed step and no error: run_failed says so; explain does
    # not repeat it as an inconsistency (it did before the engine was one); diagnose lists it.
    done = [step("a", 1, 5, sequence=1)]
    failed = craft(done, [], status="failed", end=9)
    told = explain(failed)
    assert [f.text for f in told] == [
        "The run failed at 10:00:09 without an error message, although no step failed."
    ]
    assert missionlab.diagnose(failed)["check"].tolist() == ["failed_without_error"]

    # A running run heard of by nobody for an hour: stuck open tells it, with its silent step.
    stuck = craft([step("a", 1, None, "in_progress", sequence=1)], [], status="running", updated=2)
    later = T0 + timedelta(hours=1)
    assert [f.kind for f in explain(stuck, now=later)] == ["stuck_open"]
    assert missionlab.diagnose(stuck, now=later)["check"].tolist() == ["silent_step"]

    # A silent step while another step of the run keeps talking: the run is not stuck, and
    # explain tells the silent step (it left out every silent step before).
    chatty = craft(
        [step("a", 1, None, "in_progress", sequence=1), step("b", 1, None, "in_progress", sequence=2)],
        [event(t, "message", "b", "working") for t in range(2, 1000, 30)],
        status="running",
    )
    told = explain(chatty, now=at(1000))
    assert [(f.kind, f.check, f.step_id) for f in told] == [("inconsistency", "silent_step", "a")]
    assert told[0].text == (
        "Step 'a' is in progress but nothing has been heard from it for 16 min 39 s "
        "(since 2026-11-01 10:00 UTC)."
    )


def test_every_check_judges_the_run_at_the_moment_given() -> None:
    """A step still running is measured to ``now``, not to when its frame was built."""
    earlier = pd.concat([linear({"a": 10}, run_id=f"old-{n}").steps_frame for n in range(3)])
    running = craft([step("a", 1, None, "in_progress", sequence=1)], [], status="running", updated=1)
    at_61 = explain(running, baseline=earlier, now=at(61), silence=timedelta(hours=1))
    assert at_61.of_kind("slow_step")[0].text == (
        "Step 'A' has been running for 60 s, 6.0x its median of 10 s in 3 earlier runs."
    )
    at_31 = explain(running, baseline=earlier, now=at(31), silence=timedelta(hours=1))
    assert at_31.of_kind("slow_step")[0].evidence.values["duration_s"] == 30
    assert not explain(running, baseline=earlier, now=at(16)).of_kind("slow_step")  # 1.5x: usual


def test_no_check_reads_the_clock() -> None:
    """In the analysis layer, only the engine's at_moment() reads the clock (when no ``now``
    is given), and the capsule writer (for its ``saved_at``)."""
    clock = ("now", "utcnow", "today", "time", "monotonic")
    readers = set()
    for path in sorted(ANALYSIS.glob("*.py")):
        for function in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(function, ast.FunctionDef):
                continue
            for node in ast.walk(function):
                if isinstance(node, ast.Call) and getattr(node.func, "attr", None) in clock:
                    readers.add((path.name, function.name))
    assert readers == {("engine.py", "at_moment"), ("capsule.py", "capsule")}


def test_a_healthy_run_has_no_finding_above_info() -> None:
    trace = linear({"a": 4, "b": 6, "c": 2})  # crafted runs carry no result_summary: an info
    assert [(f.check, f.severity) for f in examine(trace).findings] == [("no_result_summary", "info")]
    assert len(explain(trace)) == 0
