"""compare(): each kind of first divergence on crafted pairs of runs, the automatic choice
of a baseline run in the sandbox, and compare_runs with the divergence marked."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import plotly.graph_objects as go
import pytest

import missionlab
from missionlab.analysis.compare import DIVERGENCE_KINDS, compare, plan_shape
from missionlab.figures.charts import compare_runs
from missionlab.sandbox import Sandbox
from missionlab.trace import RunTrace

from .crafted import craft, event, step
from .injection import PAYLOADS, markup_of


def run(
    *,
    run_id: str,
    status: str = "succeeded",
    b_status: str = "completed",
    b_end: float = 20,
    calls: Sequence[tuple[float, str, Mapping[str, object]]] = (),
    results: Sequence[tuple[float, str, Mapping[str, object]]] = (),
    extra_step: bool = False,
) -> RunTrace:
    """Steps a (1-5 s), b (6 s to b_end), c (after b); tool calls and results in b."""
    steps = [
        step("a", 1, 5, sequence=1, description="Prepare"),
        step("b", 6, b_end, b_status, sequence=2, description="Search"),
        step("c", b_end + 1, b_end + 4, sequence=3, description="Report"),
    ]
    if extra_step:
        steps.append(step("d", b_end + 5, b_end + 6, sequence=4, description="Extra"))
    events = [
        event(t, "tool_call", "b", f"Calling {tool}", {"tool": tool, **args}) for t, tool, args in calls
    ]
    events += [
        event(t, "tool_result", "b", f"{tool} answered", {"tool": tool, **r}) for t, tool, r in results
    ]
    return craft(steps, events, status=status, run_id=run_id)


SEARCH = [(7, "search", {"query": "LHR", "request_id": "q1"})]
ANSWER = [(9, "search", {"ok": True, "request_id": "q1", "items": 3})]


def test_same_runs_do_not_diverge_whatever_their_request_ids() -> None:
    this = run(run_id="this", calls=SEARCH, results=ANSWER)
    other = run(
        run_id="other-run",
        calls=[(7.5, "search", {"query": "LHR", "request_id": "zz"})],
        results=[(9.2, "search", {"ok": True, "request_id": "zz", "items": 11})],
    )
    comparison = compare(this, other)
    assert comparison.divergence is None
    assert str(comparison).splitlines()[:3] == [
        "Run this compared:",
        "vs run other-ru (succeeded): no divergence.",
        "Baseline: given.",
    ]
    steps = comparison.steps
    assert steps["step_id"].tolist() == ["a", "b", "c"] and steps["in_other"].all()
    assert steps.loc[1, "tools"] == ["search"] == steps.loc[1, "tools_other"]


def test_status_divergence_at_the_end_of_the_step() -> None:
    this = run(run_id="this", status="failed", b_status="failed", calls=SEARCH, results=ANSWER)
    d = compare(this, run(run_id="other-run", calls=SEARCH, results=ANSWER)).divergence
    assert d is not None and d.kind == "status" and d.step_id == "b"
    assert d.at_s == 20 and d.this == {"status": "failed"} and d.other == {"status": "completed"}
    assert d.text == "Step 'Search' failed here but completed in run other-ru."


def test_tool_sequence_divergence_at_the_first_different_tool() -> None:
    # search twice in a row is one way of working (pages): book, at 14 s, is what differs
    this = run(run_id="this", calls=[*SEARCH, (12, "search", {"query": "LHR"}), (14, "book", {})])
    d = compare(this, run(run_id="other", calls=SEARCH)).divergence
    assert d is not None and d.kind == "tools" and d.at_s == 14
    assert d.this == {"tools": ["search", "search", "book"]} and d.other == {"tools": ["search"]}
    assert d.delta == {"calls": 2, "first_different_call": 2}
    assert len(d.events) == 1 and d.other_events == ()
    assert "(3 calls vs 1)" in d.text


def test_payload_divergence_in_the_arguments_or_the_outcome() -> None:
    other = run(run_id="other", calls=SEARCH, results=ANSWER)
    arguments = compare(run(run_id="this", calls=[(7, "search", {"query": "JFK"})], results=ANSWER), other)
    d = arguments.divergence
    assert d is not None and d.kind == "payload" and d.at_s == 7
    assert d.this == {"query": "JFK"} and d.other == {"query": "LHR"} and d.delta == {"keys": ["query"]}
    refused = [(9, "search", {"ok": False, "status": 503, "request_id": "q1"})]
    d = compare(run(run_id="this", calls=SEARCH, results=refused), other).divergence
    assert d is not None and d.kind == "payload" and d.at_s == 9
    assert d.this == {"failed": True, "outcome": "status 503"} and d.other["failed"] is False
    assert d.text == "In step 'Search', search failed (status 503) here but succeeded in run other."
    assert len(d.events) == 2 and len(d.other_events) == 2  # each run's call and result


def test_timing_divergence_when_the_step_had_taken_twice_as_long() -> None:
    slow = run(run_id="this", b_end=60)
    d = compare(slow, run(run_id="other", b_end=20)).divergence
    assert d is not None and d.kind == "timing" and d.step_id == "b"
    assert d.at_s == 6 + 2 * 14  # b started at +6 s, the other's took 14 s
    assert d.delta == {"delta_s": 40.0, "ratio": pytest.approx(54 / 14)}
    assert d.text == "Step 'Search' took 54 s here, 3.9x the 14 s of run other (+40 s)."
    fast = compare(run(run_id="this", b_end=8), run(run_id="other", b_end=40)).divergence
    assert fast is not None and fast.kind == "timing" and fast.at_s == 8 and "far less than" in fast.text
    assert compare(slow, run(run_id="other", b_end=20), factor=5).divergence is None


def test_plan_divergence_and_the_status_ranked_before_payloads() -> None:
    this = run(run_id="this", extra_step=True)
    d = compare(this, run(run_id="other")).divergence
    assert (
        d is not None
        and d.kind == "plan"
        and d.step_id == "d"
        and d.text == "Step 'Extra' is only in this run's plan."
    )
    both = run(run_id="this", status="failed", b_status="failed", calls=[(7, "search", {"query": "JFK"})])
    comparison = compare(both, run(run_id="other", calls=SEARCH))
    # the step's status (at 20 s) explains more than its call's arguments (at 7 s)
    assert [(d.kind, d.at_s) for d in comparison.ranked[0]] == [("status", 20.0), ("payload", 7.0)]
    assert set(DIVERGENCE_KINDS) == {"plan", "status", "tools", "payload", "timing"}


def test_several_baselines_a_frame_and_escaped_html() -> None:
    this = run(run_id="this", status="failed", b_status="failed")
    comparison = compare(
        this, [run(run_id="first"), run(run_id="second", status="failed", b_status="failed")]
    )
    assert [d.kind if d else None for d in comparison.divergences] == ["status", None]
    frame = comparison.to_frame()
    assert frame["baseline_run_id"].tolist() == ["first", "second"]
    assert frame.loc[0, "kind"] == "status" and frame.loc[1, "text"] == "No divergence."
    for payload in PAYLOADS:
        evil = craft([step("b", 1, 9, "failed", sequence=1, description=payload)], status="failed")
        good = craft([step("b", 1, 9, sequence=1, description=payload)], run_id="other")
        assert markup_of(compare(evil, good)._repr_html_(), payload) == []


def test_compare_runs_marks_the_divergence() -> None:
    this = run(run_id="this", b_end=60)
    comparison = compare(this, run(run_id="other", b_end=20))
    figure = compare_runs(comparison)
    bars = [t for t in figure.data if isinstance(t, go.Bar)]
    assert len(bars) == 2 and bars[1].name.startswith("this")  # the baseline first, this run last
    marks = [s for s in figure.layout.shapes if s.name == "divergence"]
    row = next(s for s in marks if s.type == "rect")
    assert (row.y0, row.y1) == (0.5, 1.5)  # step b's row
    line = next(s for s in marks if s.type == "line")
    assert line.x0 == line.x1 == 34
    note = figure.layout.annotations[-1]
    assert note.text == "first divergence (timing) at +34 s" and "took 54 s here" in note.hovertext


@pytest.mark.slow
def test_compare_picks_a_typical_succeeded_run_of_the_same_shape(sandbox: Sandbox, tmp_path: Any) -> None:
    client = sandbox.client()
    travel = next(m for m in client.missions.list(page_size=100).data if m.name == "Travel booking assistant")
    runs = client.missions.runs.list(travel.mission_id, page_size=250).data
    summary = next(r for r in runs if r.status == "failed")
    trace = missionlab.load_run(client, travel.mission_id, summary.run_id)
    comparison = trace.compare()  # the client that loaded the trace picks the baseline
    baseline = comparison.baseline
    succeeded = {r.run_id for r in runs if r.status == "succeeded"}
    assert baseline.run.run_id in succeeded
    assert plan_shape(baseline.steps_frame) == plan_shape(trace.steps_frame)  # one shape of travel plan
    assert comparison.reason.startswith("the most typical of 10 succeeded runs")
    d = comparison.divergence
    assert d is not None and d.kind in DIVERGENCE_KINDS and d.at_s >= 0
    offline = missionlab.open_run(trace.save(tmp_path / "run.json"))
    with pytest.raises(ValueError, match="needs runs to compare with"):
        offline.compare()
    assert offline.compare(client=client).baseline.run.run_id == baseline.run.run_id
