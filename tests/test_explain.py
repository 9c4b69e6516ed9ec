"""explain(): one crafted run per kind of finding, asserted on its text and evidence; the
baseline from a steps frame, a History-like object, statistics and a client."""

from __future__ import annotations

import warnings
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pandas as pd
import pytest

import missionlab
from missionlab.analysis.explain import KINDS, explain
from missionlab.frames import steps_frame
from missionlab.sandbox import Sandbox

from .crafted import T0, at, craft, event, linear, step
from .injection import PAYLOADS, markup_of


def failed_search() -> Any:
    """Search fails after two 503s and a timeout; its parent fails with it; two steps skipped."""
    steps = [
        step("parse", 1, 5, sequence=1, description="Parse request"),
        step("find", 6, 40.2, "failed", sequence=2, description="Find travel"),
        step("search", 6.1, 40, "failed", sequence=3, parent="find", description="Search flights"),
        step("book", None, 40.5, "skipped", sequence=4, description="Book"),
        step("mail", None, 40.5, "skipped", sequence=5, description="Mail"),
    ]
    tool = {"tool": "flights.search"}
    events = [
        event(
            7,
            "tool_call",
            "search",
            "Calling flights.search",
            {**tool, "request_id": "r1"},
            event_id="call-1",
        ),
        event(12, "tool_result", "search", "503", {**tool, "request_id": "r1", "ok": False, "status": 503}),
        event(13, "tool_call", "search", "Retrying", {**tool, "request_id": "r2"}, event_id="call-2"),
        event(20, "tool_result", "search", "503", {**tool, "request_id": "r2", "ok": False, "status": 503}),
        event(21, "tool_call", "search", "Retrying", {**tool, "request_id": "r3"}, event_id="call-3"),
        event(39.9, "error", "search", "TimeoutError: flights.search did not answer", event_id="err-1"),
    ]
    return craft(steps, events, status="failed", error="TimeoutError: flights.search did not answer")


def test_failed_step_error_chain_and_skipped_steps() -> None:
    explanation = explain(failed_search())
    failed = explanation.of_kind("failed_step")[0]
    assert failed.rank == 1 and failed.severity == "error"
    assert failed.text == (
        "Step 'Search flights' failed at 10:00:40 after 34 s: TimeoutError: flights.search did not "
        "answer; with it, 'Find travel' failed."
    )
    assert failed.evidence.steps == ("search", "find")
    assert "err-1" in failed.evidence.events
    assert failed.evidence.start == pd.Timestamp(at(6.1)) and failed.evidence.end == pd.Timestamp(at(40))
    chain = explanation.of_kind("error_chain")[0]
    assert chain.rank == 2
    assert chain.evidence.events[-2:] == ("err-1", chain.evidence.events[-1])
    assert "error: TimeoutError" in chain.text and "3 tool call(s) failed on the way" in chain.text
    skipped = explanation.of_kind("skipped")[0]
    assert skipped.text == "2 steps were skipped after 'Search flights' failed: 'Book', 'Mail'."
    assert skipped.evidence.steps == ("book", "mail")
    loop = explanation.of_kind("retry_loop")[0]
    assert loop.evidence.events == ("call-1", "call-2", "call-3") and loop.evidence.values["calls"] == 3
    assert "called flights.search 3 times in 14 s; 3 of the calls failed" in loop.text
    assert [f.rank for f in explanation] == list(range(1, len(explanation) + 1))
    assert {f.kind for f in explanation} <= set(KINDS)
    assert explanation.headline == "Run run-craf of 'Crafted mission' failed after 41 s."


def test_run_failed_or_cancelled_without_a_failed_step() -> None:
    steps = [step("a", 1, 5, sequence=1), step("b", 6, None, "in_progress", sequence=2)]
    changes = [event(9, "status_change", None, "Run running -> failed", {"from": "running", "to": "failed"})]
    failed = explain(craft(steps, changes, status="failed", end=9, error="QuotaExceeded"))
    finding = failed.of_kind("run_failed")[0]
    assert finding.text == "The run failed at 10:00:09 during 'B': QuotaExceeded, although no step failed."
    assert finding.evidence.events and finding.evidence.start == pd.Timestamp(at(9))
    assert failed.of_kind("inconsistency")  # diagnose's open step in a finished run, kept
    cancelled = explain(craft(steps, [], status="cancelled", end=9))
    assert cancelled.of_kind("cancelled")[0].text == "The run was cancelled at 10:00:09 during 'B'."


def fallback_then(later: str) -> Any:
    """Step 'a' tries child 'a1', which fails; 'a' catches it, falls back to 'a2' and completes.
    ``later``: "failed", step 'b' then fails and the run with it ('c' skipped); "succeeded",
    'b' and 'c' complete and the run succeeds."""
    failed = later == "failed"
    steps = [
        step("a", 1, 10, sequence=1, description="Fetch"),
        step("a1", 2, 3, "failed", sequence=2, parent="a", description="Primary source"),
        step("a2", 4, 9, sequence=3, parent="a", description="Mirror source"),
        step("b", 11, 20, "failed" if failed else "completed", sequence=4, description="Charge card"),
        step("c", None if failed else 20, 21, "skipped" if failed else "completed", sequence=5),
    ]
    events = [event(2.5, "error", "a1", "TimeoutError: primary timed out", event_id="err-a1")]
    if failed:
        events.append(event(19, "error", "b", "PaymentDeclined: card 4242 declined", event_id="err-b"))
    error = "PaymentDeclined: card 4242 declined" if failed else None
    return craft(steps, events, status=later, error=error, end=21)


def test_a_failure_recovered_from_is_not_the_runs_failure() -> None:
    failed_run = fallback_then("failed")
    explanation = explain(failed_run)
    failed = explanation.of_kind("failed_step")
    assert [f.text for f in failed] == [
        "Step 'Charge card' failed at 10:00:20 after 9.0 s: PaymentDeclined: card 4242 declined."
    ]
    assert failed[0].evidence.steps == ("b",) and "err-b" in failed[0].evidence.events
    assert explanation.of_kind("error_chain")[0].evidence.steps == ("b",)
    assert explanation.of_kind("skipped")[0].text == "1 step was skipped after 'Charge card' failed: 'C'."
    assert "Primary source" not in str(explanation)
    runs = missionlab.failures([failed_run], now=at(60)).runs
    assert runs[["step_id", "error"]].values.tolist() == [["b", "PaymentDeclined: card 4242 declined"]]
    # the same fallback in a run that succeeded: nothing failed that the run did not recover from
    succeeded = explain(fallback_then("succeeded"))
    assert not succeeded.of_kind("failed_step") and not succeeded.of_kind("error_chain")
    assert "Primary source" not in str(succeeded)


def test_a_run_failed_with_only_failures_recovered_from() -> None:
    steps = [
        step("a", 1, 10, sequence=1, description="Fetch"),
        step("a1", 2, 3, "failed", sequence=2, parent="a", description="Primary source"),
        step("a2", 4, 9, sequence=3, parent="a", description="Mirror source"),
    ]
    run = craft(steps, [], status="failed", error="QuotaExceeded", end=12)
    explanation = explain(run)
    assert not explanation.of_kind("failed_step")
    assert explanation.of_kind("run_failed")[0].text == (
        "The run failed at 10:00:12: QuotaExceeded, although every step that failed was recovered from."
    )


def test_a_failed_step_holding_a_failure_recovered_from_is_the_origin() -> None:
    """'outer' fails; inside it 'inner' completed after its child 'flaky' failed: the failure
    started in 'outer' (its only failed descendant was recovered from), not in 'flaky'."""
    steps = [
        step("outer", 1, 12, "failed", sequence=1, description="Outer"),
        step("inner", 2, 8, sequence=2, parent="outer", description="Inner"),
        step("flaky", 3, 4, "failed", sequence=3, parent="inner", description="Flaky"),
    ]
    events = [event(11, "error", "outer", "ValueError: bad total", event_id="err-outer")]
    run = craft(steps, events, status="failed", error="ValueError: bad total", end=12)
    failed = explain(run).of_kind("failed_step")
    assert [f.text for f in failed] == ["Step 'Outer' failed at 10:00:12 after 11 s: ValueError: bad total."]


def earlier_runs(count: int = 5) -> pd.DataFrame:
    runs = [linear({"a": 4, "search": 38 + n, "c": 10}, run_id=f"old-{n}") for n in range(count)]
    return pd.concat([run.steps_frame for run in runs], ignore_index=True)


def test_slow_step_against_a_baseline_frame() -> None:
    trace = linear({"a": 4, "search": 170, "c": 11})
    explanation = explain(trace, baseline=earlier_runs())
    slow = explanation.of_kind("slow_step")
    assert len(slow) == 1  # "a" and "c" are as usual
    assert slow[0].text == "Step 'Search' took 2 min 50 s, 4.2x its median of 40 s in 5 earlier runs."
    assert slow[0].evidence.steps == ("search",)
    assert slow[0].evidence.values["median_s"] == 40 and slow[0].evidence.values["ratio"] == 4.25
    assert len(slow[0].evidence.events) == 2  # its step_started and step_completed
    assert "Baseline: 5 earlier runs; 3 steps" in explanation.baseline_note
    assert not explain(trace).of_kind("slow_step")
    assert "No baseline" in explain(trace).baseline_note


def test_a_step_often_slow_before_is_still_slow() -> None:
    # 7 usual runs (38..44 s) and 3 earlier slow ones: the slow ones are not what "usual" means
    usual = [linear({"a": 4, "search": 38 + n, "c": 10}, run_id=f"old-{n}") for n in range(7)]
    slow = [linear({"a": 4, "search": 200 + n, "c": 10}, run_id=f"slow-{n}") for n in range(3)]
    baseline = pd.concat([run.steps_frame for run in usual + slow], ignore_index=True)
    found = explain(linear({"a": 4, "search": 205, "c": 11}), baseline=baseline).of_kind("slow_step")
    assert [x.step_id for x in found] == ["search"]
    assert found[0].evidence.values["median_s"] == 41  # the median of 38..44
    assert found[0].evidence.values["runs"] == 10


def test_too_little_history_or_a_small_excess_is_not_slow() -> None:
    trace = linear({"a": 9, "search": 170})
    assert not explain(trace, baseline=earlier_runs(2)).of_kind("slow_step")  # 2 runs: too few
    quick = linear({"a": 1.8})
    few_seconds = pd.concat([linear({"a": 0.6}, run_id=f"o{n}").steps_frame for n in range(4)])
    assert not explain(quick, baseline=few_seconds).of_kind("slow_step")  # 3x, but 1.2 s over


def test_a_slow_child_is_told_rather_than_its_parent() -> None:
    def nested(child_seconds: float, run_id: str) -> Any:
        return craft(
            [
                step("group", 1, 2 + child_seconds, sequence=1, description="Group"),
                step("child", 1.5, 1.5 + child_seconds, sequence=2, parent="group", description="Child"),
            ],
            run_id=run_id,
        )

    baseline = pd.concat([nested(10, f"old{n}").steps_frame for n in range(3)])
    slow = explain(nested(60, "now"), baseline=baseline).of_kind("slow_step")
    assert [f.evidence.steps for f in slow] == [("child",)]


class FakeHistory:
    """What explain needs of a missionlab History: steps(mission=...)."""

    def __init__(self, frame: pd.DataFrame) -> None:
        self.frame = frame
        self.asked: list[Any] = []

    def steps(self, *, mission: Any = None, since: Any = None) -> pd.DataFrame:
        self.asked.append(mission)
        return self.frame


def test_baseline_from_a_history_or_from_statistics() -> None:
    trace = linear({"a": 4, "search": 170, "c": 11})
    history = FakeHistory(earlier_runs())
    assert explain(trace, baseline=history).of_kind("slow_step")[0].evidence.steps == ("search",)
    assert history.asked == ["mission-crafted"]
    stats = missionlab.frames.step_stats(earlier_runs())
    assert explain(trace, baseline=stats).of_kind("slow_step")[0].evidence.values["median_s"] == 40
    with pytest.raises(TypeError, match="baseline must be"):
        explain(trace, baseline=42)


def test_silent_gap_leaves_out_paused_time() -> None:
    steps = [step("a", 1, 200, sequence=1, description="Match payments")]
    chatter = [event(t, "message", "a", "working") for t in (2, 3, 4, 5, 190)]
    explanation = explain(craft(steps, chatter), gap=timedelta(seconds=60))
    gap = explanation.of_kind("silent_gap")[0]
    assert gap.text == "Nothing was heard for 3 min 5 s during 'Match payments' (from 10:00:05 to 10:03:10)."
    assert gap.evidence.steps == ("a",) and len(gap.evidence.events) == 2
    assert gap.evidence.values["silence_s"] == 185
    paused = [
        event(10, "status_change", None, "paused", {"from": "running", "to": "paused"}),
        event(180, "status_change", None, "resumed", {"from": "paused", "to": "running"}),
    ]
    assert not explain(craft(steps, chatter + paused), gap=timedelta(seconds=60)).of_kind("silent_gap")
    steady = [event(t, "message", "a", "working") for t in range(2, 200, 30)]
    assert not explain(craft(steps, steady)).of_kind("silent_gap")  # 30 s apart: the run's pace


def test_a_result_with_a_message_fails_only_when_it_says_it_failed() -> None:
    """Paging a CRM: six calls of one tool, each answered ``ok`` with a ``message``, is no
    retry loop and no failed call; the same calls answered 503 with a message failed, and
    the message says why."""
    from missionlab.analysis._attempts import tool_calls

    steps = [step("a", 1, 20, sequence=1, description="List all contacts")]

    def paged(result: dict[str, object]) -> list[dict[str, object]]:
        events = []
        for page in range(6):
            events.append(event(2 + 3 * page, "tool_call", "a", "Calling crm.list", {"tool": "crm.list"}))
            events.append(
                event(3 + 3 * page, "tool_result", "a", "crm.list returned", {"tool": "crm.list", **result})
            )
        return events

    served = craft(steps, paged({"ok": True, "status": 200, "message": "page served"}))
    assert tool_calls(served.events_frame)["failed"].tolist() == [False] * 6
    assert list(explain(served)) == []
    busy = craft(steps, paged({"status": 503, "message": "busy"}))
    calls = tool_calls(busy.events_frame)
    assert calls["failed"].tolist() == [True] * 6 and set(calls["outcome"]) == {"status 503: busy"}
    assert explain(busy).of_kind("retry_loop")


def test_calls_refused_for_now_and_retried_to_success_are_no_loop() -> None:
    """A charge answered 429 twice, then retried with backoff to success, is a retry policy
    working: no retry loop. Still refused at the end, or refused by a 500, it is one."""

    def charged(statuses: list[int]) -> Any:
        events, at_s = [], 2.0
        for n, status in enumerate(statuses):
            call = {"tool": "stripe.charge", "request_id": f"c{n}"}
            answer = {**call, "status": status, **({"error": "refused"} if status >= 400 else {})}
            events.append(event(at_s, "tool_call", "pay", "Calling stripe.charge", call))
            events.append(event(at_s + 0.3, "tool_result", "pay", "stripe.charge answered", answer))
            at_s += 0.3 + 2**n  # waits of 1, 2, 4 s
        return craft([step("pay", 1, 20, sequence=1)], events)

    assert not explain(charged([429, 429, 200])).of_kind("retry_loop")
    assert not explain(charged([503, 429, 503, 200])).of_kind("retry_loop")
    (given_up,) = explain(charged([429, 429, 429])).of_kind("retry_loop")
    assert "3 of the calls failed (status 429: refused)" in given_up.text
    assert explain(charged([429, 500, 200])).of_kind("retry_loop")


def test_a_fan_out_the_mission_always_makes_is_no_finding() -> None:
    """Five siblings run by one agent, two of them side by side: told of a lone run (the rest
    ran one after another), not when the mission's earlier runs made the same fan-out in at
    least half of them (in either order), told again when they seldom did."""

    def fan_out(run_id: str, side_by_side: bool, b_first: bool = False) -> Any:
        fetch = [(4, 9), (5, 8)] if side_by_side else [(4, 6), (7, 9)]
        a, b = fetch[::-1] if b_first else fetch
        steps = [
            step("prep", 1, 3, sequence=1),
            step("fetch-a", *a, sequence=2),
            step("fetch-b", *b, sequence=3),
            step("merge", 10, 12, sequence=4),
            step("report", 13, 14, sequence=5),
        ]
        return craft(steps, run_id=run_id)

    def told(trace: Any, baseline: Any = None) -> list[str | None]:
        found = explain(trace, baseline=baseline).of_kind("inconsistency")
        return [x.step_id for x in found if x.check == "overlapping_siblings"]

    today = fan_out("today", True)
    assert told(today) == ["fetch-b"]
    usual = pd.concat(
        [fan_out(f"old-{n}", n != 3, b_first=n % 2 == 1).steps_frame for n in range(4)], ignore_index=True
    )  # side by side in 3 of 4, in either order
    assert told(today, usual) == []
    seldom = pd.concat([fan_out(f"old-{n}", n == 0).steps_frame for n in range(4)], ignore_index=True)
    assert told(today, seldom) == ["fetch-b"]


def test_run_stuck_open_is_told_first() -> None:
    steps = [step("a", 1, 5, sequence=1), step("b", 6, 9, sequence=2)]
    trace = craft(steps, [], status="running", end=None)
    explanation = explain(trace, now=T0 + timedelta(hours=3))
    stuck = explanation[0]
    assert stuck.kind == "stuck_open" and stuck.rank == 1 and stuck.severity == "error"
    assert stuck.text.startswith("The run is still running but nothing has been heard for 3.0 h")
    assert "although all 2 steps are finished" in stuck.text and "the agent may have gone away" in stuck.text
    assert stuck.evidence.values["silence_s"] == pytest.approx(3 * 3600 - 9.0)
    assert not explain(trace, now=T0 + timedelta(minutes=2)).of_kind("stuck_open")
    assert "is running" in explanation.headline


def test_renders_as_text_escaped_html_and_a_frame() -> None:
    explanation = explain(failed_search())
    text = str(explanation)
    assert text.splitlines()[1].startswith("1. Step 'Search flights' failed")
    assert "   evidence: step search, find · events" in text
    frame = explanation.to_frame()
    assert list(frame.columns) == [
        "rank",
        "kind",
        "severity",
        "step_id",
        "text",
        "steps",
        "events",
        "start",
        "end",
    ]
    assert frame["rank"].tolist() == list(range(1, len(explanation) + 1))
    assert frame.loc[0, "step_id"] == "search" and "err-1" in frame["events"].loc[0]
    assert str(frame["start"].dtype) == "datetime64[ns, UTC]" or "UTC" in str(frame["start"].dtype)
    for payload in PAYLOADS:
        evil = craft(
            [step("x", 1, 3, "failed", sequence=1, description=payload)],
            [event(2, "error", "x", payload)],
            status="failed",
            mission_name=payload,
        )
        rendered = explain(evil).to_html()
        assert markup_of(rendered, payload) == [], payload
        assert payload in str(explain(evil))  # the text itself keeps it as it came


@pytest.mark.slow
def test_trace_explain_fetches_the_mission_history_once(sandbox: Sandbox) -> None:
    with sandbox.client() as client:
        travel = next(
            m for m in client.missions.list().fetch_all(progress=False) if m.name.startswith("Travel")
        )
        # a demo mission's (other tests add failed runs of new missions, with no history)
        failed = client.missions.runs.list(travel.mission_id, status="failed", page_size=50).data
        run = next(r for r in failed if r.finished_at is not None)
        trace = missionlab.load_run(client, run.mission_id, run.run_id)
        explanation = trace.explain()
        assert "Baseline: 20 earlier runs" in explanation.baseline_note
        kept = trace.__dict__["_missionlab_baseline_steps"]
        assert run.run_id not in set(kept["run_id"]) and kept["run_id"].nunique() == 20
        assert trace.explain().baseline_note == explanation.baseline_note
        assert trace.__dict__["_missionlab_baseline_steps"] is kept  # not fetched again
        assert "No baseline" in trace.explain(baseline=False).baseline_note
        statuses = set(
            steps_frame(
                client.missions.runs.plan.retrieve(kept["run_id"].iloc[0], mission_id=run.mission_id).data
            )["status"]
        )
        assert statuses == {"completed"}  # succeeded runs only


def test_baseline_from_a_synced_history(sandbox: Sandbox, tmp_path: Path) -> None:
    with sandbox.client() as client:
        local = missionlab.history(client, tmp_path / "history")
        local.sync(progress=False)
        travel = next(
            m for m in client.missions.list().fetch_all(progress=False) if m.name.startswith("Travel")
        )
        failed = client.missions.runs.list(travel.mission_id, status="failed", page_size=1).data[0]
        trace = missionlab.load_run(client, travel.mission_id, failed.run_id)
        from_history = explain(trace, baseline=local)
        earlier = local.steps(mission=travel.mission_id)
        runs = earlier.loc[earlier["run_id"] != failed.run_id, "run_id"].nunique()
        assert runs >= 2
        assert from_history.baseline_note.startswith(f"Baseline: {runs} earlier runs; ")
        assert not from_history.baseline_note.endswith("; 0 steps with enough history to compare.")


def test_explain_carries_on_when_the_mission_history_cannot_be_read() -> None:
    """The automatic baseline is a bonus: an API error while fetching it is a warning, and the
    run is explained without one."""
    from .test_capsule import hosted_trace

    def forbidden(request: httpx.Request) -> httpx.Response:
        body = {"errors": [{"code": "forbidden", "title": "Forbidden", "detail": "no access to runs"}]}
        return httpx.Response(403, json=body)

    trace = hosted_trace()
    trace.client = missionlab.Client(
        api_key="KEY", base_url="https://api.hosted.invalid/v2", transport=httpx.MockTransport(forbidden)
    )
    with pytest.warns(UserWarning, match="no baseline from the mission's earlier runs"):
        explanation = trace.explain()
    assert "failed_step" in {finding.kind for finding in explanation}
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the failure is remembered: no second request, no warning
        assert [f.kind for f in trace.explain()] == [f.kind for f in explanation]
