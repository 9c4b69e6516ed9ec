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
    with sandbox.client() as client:
        travel = next(
            m for m in client.missions.list(page_size=100).data if m.name == "Travel booking assistant"
        )
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


def fan_out(order: Sequence[str], merge_s: float, run_id: str) -> RunTrace:
    """Three sibling steps started 0.3 s apart in the given order, 8 s each, then a merge."""
    starts = dict(zip(order, (2.0, 2.3, 2.6), strict=True))
    steps = [step("root", 1, 13 + merge_s, sequence=1)]
    steps += [
        step(s, starts[s], starts[s] + 8, sequence=n, parent="root")
        for n, s in enumerate(["hotels", "flights", "cars"], start=2)
    ]
    steps.append(step("merge", 12, 12 + merge_s, sequence=5, parent="root"))
    return craft(steps, run_id=run_id)


def test_steps_run_side_by_side_have_no_order() -> None:
    baseline = fan_out(["hotels", "flights", "cars"], 6, "base")
    slow = compare(fan_out(["flights", "hotels", "cars"], 120, "slow"), baseline)
    assert [(d.kind, d.step_id) for d in slow.ranked[0]] == [("timing", "merge"), ("timing", "root")]
    assert compare(fan_out(["cars", "flights", "hotels"], 6, "healthy"), baseline).divergence is None
    # one after the other, the other way round: an order, and a change of it
    one_by_one = craft([step("a", 1, 3, sequence=1), step("b", 4, 6, sequence=2)], run_id="base")
    swapped = craft([step("a", 4, 6, sequence=1), step("b", 1, 3, sequence=2)], run_id="swapped")
    d = compare(swapped, one_by_one).divergence
    assert d is not None and (d.kind, d.step_id, d.at_s) == ("plan", "b", 1.0)
    assert d.this == {"order": ["b", "a"]} and d.other == {"order": ["a", "b"]}


def calls_in(run_id: str, calls: Sequence[tuple[float, float, str]]) -> RunTrace:
    """Step 'gather' (1-10 s) calling each tool at its first time, answered at its second."""
    events = []
    for n, (called, answered, tool) in enumerate(calls):
        events += [
            event(called, "tool_call", "gather", f"Calling {tool}", {"tool": tool, "request_id": f"r{n}"}),
            event(
                answered, "tool_result", "gather", f"{tool} answered", {"tool": tool, "request_id": f"r{n}"}
            ),
        ]
    return craft([step("gather", 1, 10, sequence=1)], events, run_id=run_id)


def test_tools_called_side_by_side_have_no_order() -> None:
    weather_first = calls_in("one", [(2, 3, "weather.get"), (2.001, 3.1, "hotels.search")])
    hotels_first = calls_in("two", [(2, 3.1, "hotels.search"), (2.001, 3, "weather.get")])
    assert compare(weather_first, hotels_first).divergence is None
    in_turn = calls_in("three", [(2, 3, "weather.get"), (4, 5, "hotels.search")])
    other_turn = calls_in("four", [(2, 3, "hotels.search"), (4, 5, "weather.get")])
    d = compare(in_turn, other_turn).divergence
    assert d is not None and (d.kind, d.at_s) == ("tools", 2.0)


def test_the_failure_comes_before_what_it_skipped() -> None:
    # plans sized by the data: the failed step is not in the baseline's plan
    bad = craft(
        [
            step("validate-1", 1, 3, sequence=1),
            step("validate-2", 4, 6, sequence=2),
            step("validate-3", 7, 9, "failed", sequence=3),
            step("publish", None, None, "skipped", sequence=4),
        ],
        [event(8.5, "error", "validate-3", "schema mismatch in table 3")],
        status="failed",
        run_id="bad",
    )
    good = craft(
        [
            step("validate-1", 1, 3, sequence=1),
            step("validate-2", 4, 6, sequence=2),
            step("publish", 7, 9, sequence=3),
        ],
        run_id="good",
    )
    comparison = compare(bad, good)
    assert [(d.kind, d.step_id) for d in comparison.ranked[0]] == [
        ("status", "validate-3"),
        ("status", "publish"),
        ("plan", "validate-3"),
    ]
    d = comparison.divergence
    assert d is not None and d.at_s == 9 and d.this == {"status": "failed"}
    # in both plans, the failure ranks first although a step skipped after it ended earlier
    skipped_early = craft(
        [step("a", 1, 9, "failed", sequence=1), step("b", 2, 3, "skipped", sequence=2)],
        status="failed",
        run_id="bad",
    )
    both = craft([step("a", 1, 9, sequence=1), step("b", 2, 3, sequence=2)], run_id="good")
    assert [d.step_id for d in compare(skipped_early, both).ranked[0][:2]] == ["a", "b"]


def one_call(
    run_id: str, arguments: Mapping[str, object], given: Mapping[str, object] | None = None
) -> RunTrace:
    trace = run(run_id=run_id, calls=[(7, "search", arguments)], results=[(9, "search", {"ok": True})])
    return (
        trace
        if given is None
        else RunTrace(
            trace.run.model_copy(update={"input": dict(given)}), trace.steps, trace.events, trace.mission
        )
    )


NOISE = [
    ({"query": "LHR", "budget": 0.3}, {"query": "LHR", "budget": 0.1 + 0.2}),
    (
        {"query": "LHR", "requestId": "a1", "sentAt": "2026-11-01T10:00:02Z"},
        {"query": "LHR", "requestId": "b2", "sentAt": "x"},
    ),
    (
        {"query": "LHR", "meta": {"request_id": "a1", "timestamp": 1}},
        {"query": "LHR", "meta": {"request_id": "b", "timestamp": 2}},
    ),
    (
        {"query": "LHR", "llm": {"usage": {"total_tokens": 10}}},
        {"query": "LHR", "llm": {"usage": {"total_tokens": 12}}},
    ),
    (
        {"query": "LHR", "hops": [{"traceId": "t1", "airport": "CDG"}]},
        {"query": "LHR", "hops": [{"traceId": "t2", "airport": "CDG"}]},
    ),
]


@pytest.mark.parametrize(("mine", "theirs"), NOISE)
def test_payload_noise_is_not_a_divergence(mine: Mapping[str, object], theirs: Mapping[str, object]) -> None:
    assert compare(one_call("this", mine), one_call("other", theirs)).divergence is None


def test_what_differs_under_the_noise_still_does() -> None:
    nested = compare(
        one_call("this", {"query": "LHR", "filters": {"requestId": "a", "stops": 0}}),
        one_call("other", {"query": "LHR", "filters": {"requestId": "b", "stops": 1}}),
    ).divergence
    assert nested is not None and nested.kind == "payload" and nested.delta == {"keys": ["filters"]}
    budget = compare(one_call("this", {"budget": 0.3}), one_call("other", {"budget": 0.31})).divergence
    assert budget is not None and budget.this == {"budget": 0.3} and budget.other == {"budget": 0.31}


def test_arguments_are_compared_by_the_input_field_they_come_from() -> None:
    trip = {"from": "Paris", "to": "Rome"}
    right = one_call("right", {"origin": "Paris", "destination": "Rome"}, trip)
    swapped = one_call("swapped", {"origin": "Rome", "destination": "Paris"}, trip)
    d = compare(swapped, right).divergence
    assert d is not None and d.kind == "payload" and d.delta == {"keys": ["destination", "origin"]}
    assert d.this == {"destination": "Paris", "origin": "Rome"}
    # another trip, its own input used the same way: no divergence
    other_trip = one_call("other", {"origin": "Oslo", "destination": "Lima"}, {"from": "Oslo", "to": "Lima"})
    assert compare(other_trip, right).divergence is None


def test_an_id_taken_from_the_input_is_compared_as_the_input_field() -> None:
    """A key ending in _id is left out (ids differ between runs), but not when it holds the
    run's input: refunding another customer than the one asked is a divergence."""
    asked = {"customer": "cus_ANN"}
    right = one_call("right", {"customer_id": "cus_ANN", "amount": 40, "request_id": "r1"}, asked)
    wrong = one_call("wrong", {"customer_id": "cus_BOB", "amount": 40, "request_id": "r2"}, asked)
    d = compare(wrong, right).divergence
    assert d is not None and d.kind == "payload" and d.delta == {"keys": ["customer_id"]}
    assert d.this == {"customer_id": "cus_BOB"} and d.other == {"customer_id": "cus_ANN"}
    assert compare(right, wrong).divergence is not None
    # another customer asked and refunded, another request id: no divergence
    other = one_call(
        "other", {"customer_id": "cus_CAT", "amount": 40, "request_id": "r3"}, {"customer": "cus_CAT"}
    )
    assert compare(other, right).divergence is None
    # ids not from the input still differ between runs for no reason
    fresh = one_call("fresh", {"customer_id": "cus_ANN", "amount": 40, "payment_id": "pay_1"}, asked)
    again = one_call("again", {"customer_id": "cus_ANN", "amount": 40, "payment_id": "pay_2"}, asked)
    assert compare(fresh, again).divergence is None


def test_a_failed_call_retried_with_success_is_variance() -> None:
    retried, clean = search_calls("retried", ["LHR", "LHR"], failed=1), search_calls("clean", ["LHR"])
    for this, other in ((retried, clean), (clean, retried)):
        comparison = compare(this, other)
        assert comparison.divergence is None
        (variance,) = comparison.ranked[0]
        assert variance.variance and variance.kind == "payload" and variance.step_id == "b"
        assert "retried with success" in variance.text
    # retried, and failed again: the tool's outcome differs, and that comes first
    d = compare(search_calls("gave-up", ["LHR", "LHR"], failed=2), clean).divergence
    assert d is not None and d.kind == "payload" and not d.variance and d.at_s == 8.5
    assert d.this == {"failed": True, "outcome": "status 503"} and d.other["failed"] is False


def search_calls(run_id: str, queries: Sequence[str], failed: int = 0) -> RunTrace:
    """Step b calling search once a second for each query, the first ``failed`` calls refused."""
    calls = [(7 + n, "search", {"query": q, "request_id": f"q{n}"}) for n, q in enumerate(queries)]
    results = [
        (
            7.5 + n,
            "search",
            {"ok": n >= failed, **({} if n >= failed else {"status": 503}), "request_id": f"q{n}"},
        )
        for n in range(len(queries))
    ]
    return run(run_id=run_id, calls=calls, results=results)


def test_the_same_call_made_again_and_again_is_a_loop() -> None:
    once = search_calls("once", ["LHR"])
    d = compare(search_calls("loop", ["LHR"] * 8), once).divergence
    assert d is not None and (d.kind, d.step_id, d.at_s) == ("tools", "b", 8.0)  # its second call
    assert d.this == {"calls": 8} and d.other == {"calls": 1} and "(8 calls vs 1)" in d.text
    # pages (other arguments) and retries after a failure are not a loop; twice is not either
    assert compare(search_calls("pages", ["LHR", "LHR p2", "LHR p3", "LHR p4"]), once).divergence is None
    assert compare(search_calls("retries", ["LHR"] * 5, failed=4), once).divergence is None
    assert compare(search_calls("twice", ["LHR"] * 2), once).divergence is None
