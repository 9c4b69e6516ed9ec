"""Calls of one tool made together (a fan-out) are not retries of each other, even when some of
them fail: a call is a retry only of a call of its tool in its step whose failure was known
when it was made. Each run is built so that which call followed which failure is known from
the moments put in it: the expected attempts and blamed tools are read off the timeline."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd

import missionlab
from missionlab import History
from missionlab.analysis._attempts import CallLog, tool_calls
from missionlab.analysis.tool_stats import calls_frame
from missionlab.otel import run_spans
from missionlab.sandbox import Sandbox

from .crafted import craft, event, running_step, step

URLS = ["a", "b", "c", "d", "e"]


def _call(seconds: float, request: str, event_id: str, step_id: str = "fetch") -> dict[str, Any]:
    payload = {"tool": "http.get", "request_id": request, "arguments": {"url": f"https://x/{request}"}}
    return event(seconds, "tool_call", step_id, f"Calling http.get {request}", payload, event_id=event_id)


def _result(
    seconds: float, request: str, status: int, event_id: str, step_id: str = "fetch"
) -> dict[str, Any]:
    payload = {"tool": "http.get", "request_id": request, "status": status}
    return event(seconds, "tool_result", step_id, f"http.get {request} {status}", payload, event_id=event_id)


def _by_parts(events: pd.DataFrame) -> pd.DataFrame:
    """The calls of ``events`` read one event at a time (as a live Gantt reads them)."""
    log = CallLog()
    for start in range(len(events)):
        log.feed(events.iloc[start : start + 1])
    return log.frame()


def _attempt_hovers(trace: Any) -> list[str]:
    figure = json.loads(trace.gantt().to_json())
    return [row[0] for t in figure["data"] if t.get("meta") == "attempt:failed" for row in t["customdata"]]


def _span_attempts(trace: Any) -> list[Any]:
    tools = [s for s in run_spans(trace) if (s.attributes or {}).get("openinference.span.kind") == "TOOL"]
    tools.sort(key=lambda s: s.start_time or 0)
    return [(s.attributes or {})["missionlab.call.attempt"] for s in tools]


def _fan_out(*, then: list[dict[str, Any]] | None = None, failed: bool = False) -> Any:
    """Five http.get calls at 2 s, each with its own request id; b and c answer 404 at 4 and 5 s
    (after every call was made), the others 200; ``then``: events after them; ``failed``: the
    step and the run fail, with an error event at 19 s."""
    calls = [_call(2, u, f"call-{u}") for u in URLS]
    results = [_result(3 + i, u, 404 if u in ("b", "c") else 200, f"res-{u}") for i, u in enumerate(URLS)]
    if not failed:
        steps = [step("fetch", 1, 20, sequence=1), step("summarize", 21, 24, sequence=2)]
        trace = craft(steps, [*calls, *results, *(then or [])], run_id="run-fanout")
        trace.run.result_summary = "Summarized 3 of 5 pages"
        return trace
    error = event(19, "error", "fetch", "could not fetch every page")
    return craft(
        [step("fetch", 1, 20, "failed", sequence=1)],
        [*calls, *results, *(then or []), error],
        status="failed",
        error="could not fetch every page",
        run_id="run-fanout-failed",
    )


def test_calls_made_together_are_not_retries_when_some_of_them_fail() -> None:
    trace = _fan_out()
    for calls in (tool_calls(trace.events_frame), _by_parts(trace.events_frame)):
        assert calls["call_id"].tolist() == [f"call-{u}" for u in URLS]
        assert calls["failed"].tolist() == [False, True, True, False, False]
        # no call was made after another had failed (the first failure came at 4 s)
        assert calls["attempt"].tolist() == [1, 1, 1, 1, 1]
    assert _attempt_hovers(trace) == ["attempt 1 · http.get · 2.0 s", "attempt 1 · http.get · 3.0 s"]
    assert _span_attempts(trace) == [1, 1, 1, 1, 1]
    fleet = calls_frame(trace.events_frame.assign(mission_id=trace.run.mission_id))
    assert fleet["attempt"].tolist() == [1, 1, 1, 1, 1]


def test_a_fan_out_some_of_it_failing_is_no_retry_loop() -> None:
    trace = _fan_out()  # five calls, two failed, none made after a failure
    assert [f.kind for f in trace.explain() if f.kind == "retry_loop"] == []
    assert "retry_loop" not in trace.diagnose()["check"].tolist()
    # the same tool failing twice and called again after each failure is one (failing with
    # 500: refused for now, 429 or 503, and retried to success, is a retry policy working)
    in_turn = craft(
        [step("fetch", 1, 20, sequence=1)],
        [
            _call(2, "a", "call-a"),
            _result(3, "a", 500, "res-a"),
            _call(4, "b", "call-b"),
            _result(5, "b", 500, "res-b"),
            _call(6, "c", "call-c"),
            _result(7, "c", 200, "res-c"),
        ],
    )
    assert tool_calls(in_turn.events_frame)["attempt"].tolist() == [1, 2, 3]
    (loop,) = [f for f in in_turn.explain() if f.kind == "retry_loop"]
    assert loop.evidence.values == {"calls": 3, "failed": 2, "tool": "http.get"}


def test_a_call_made_after_a_fan_out_call_failed_is_its_retry() -> None:
    # b failed at 4 s and c at 5 s: b2 (at 4.5 s) retries b only, c2 (at 6 s) retries c
    retries = [
        _call(4.5, "b2", "call-b2"),
        _result(6.5, "b2", 200, "res-b2"),
        _call(6, "c2", "call-c2"),
        _result(7, "c2", 200, "res-c2"),
    ]
    trace = _fan_out(then=retries)
    for calls in (tool_calls(trace.events_frame), _by_parts(trace.events_frame)):
        assert calls["call_id"].tolist() == [*(f"call-{u}" for u in URLS), "call-b2", "call-c2"]
        assert calls["attempt"].tolist() == [1, 1, 1, 1, 1, 2, 2]
    assert _span_attempts(trace) == [1, 1, 1, 1, 1, 2, 2]
    # both failures were retried with success: neither is blamed for a failed step
    assert missionlab.failures([_fan_out(then=retries, failed=True)]).runs["tool"].isna().all()
    assert missionlab.failures([_fan_out(failed=True)]).runs["tool"].tolist() == ["http.get"]


def test_one_retry_made_before_a_sibling_failed_retries_only_the_failure_known_then() -> None:
    # a and b together; a fails at 3 s; c at 4 s retries a; b fails at 5 s, after c was made
    trace = craft(
        [step("fetch", 1, 10, "failed", sequence=1)],
        [
            _call(2, "a", "call-a"),
            _call(2, "b", "call-b"),
            _result(3, "a", 500, "res-a"),
            _call(4, "c", "call-c"),
            _result(5, "b", 500, "res-b"),
            _result(6, "c", 200, "res-c"),
            event(7, "error", "fetch", "could not fetch every page"),
        ],
        status="failed",
        error="could not fetch every page",
    )
    calls = tool_calls(trace.events_frame)
    assert calls["attempt"].tolist() == [1, 1, 2]
    (run,) = missionlab.failures([trace]).runs.itertuples()
    assert (run.step_id, run.tool) == ("fetch", "http.get")  # b's failure was never retried


def test_a_step_failed_by_one_call_of_a_fan_out_names_its_tool() -> None:
    # three calls of http.get together; q0 answers 500, q1 and q2 200: q0's failure was never
    # retried, so it is what the step's failure is blamed on (the probe's failures_fanout.py)
    fan_out = craft(
        [step("fetch", 1, 10, "failed", sequence=1)],
        [
            *(_call(2, f"q{i}", f"call-{i}") for i in range(3)),
            _result(3, "q0", 500, "res-0"),
            _result(4, "q1", 200, "res-1"),
            _result(5, "q2", 200, "res-2"),
            event(6, "error", "fetch", "could not fetch every page"),
        ],
        status="failed",
        error="could not fetch every page",
    )
    # one after another: q0 fails at 3 s, q1 is made at 4 s and succeeds: q0 did not fail the step
    in_turn = craft(
        [step("fetch", 1, 10, "failed", sequence=1)],
        [
            _call(2, "q0", "call-0"),
            _result(3, "q0", 500, "res-0"),
            _call(4, "q1", "call-1"),
            _result(5, "q1", 200, "res-1"),
            event(6, "error", "fetch", "parse failure"),
        ],
        status="failed",
        error="parse failure",
        run_id="run-in-turn",
    )
    found = missionlab.failures([fan_out, in_turn]).runs.set_index("run_id")
    assert str(found.loc[fan_out.run.run_id, "tool"]) == "http.get"
    assert pd.isna(found.loc["run-in-turn", "tool"])


def test_a_fan_out_through_the_api_and_a_history(tmp_path: Path) -> None:
    """The same through the sandbox: the run read over HTTP and a synced History (its SQL
    reading) blame http.get for the failed step, and find no retry loop."""
    with Sandbox() as sb, sb.client() as client:
        mission, run = running_step(client, "Crawler", "fetch", "Fetch")

        def log(kind: str, summary: str, payload: dict[str, Any] | None = None) -> None:
            client.missions.runs.events.log(
                run, mission_id=mission, step_id="fetch", type=kind, summary=summary, payload=payload
            )

        for i in range(3):  # all made before any answer
            log("tool_call", f"Calling http.get {i}", {"tool": "http.get", "request_id": f"q{i}"})
        for i, status in enumerate([500, 200, 200]):
            log(
                "tool_result",
                f"http.get {status}",
                {"tool": "http.get", "request_id": f"q{i}", "status": status},
            )
        log("error", "could not fetch every page")
        client.missions.runs.plan.update_step("fetch", mission_id=mission, run_id=run, status="failed")
        client.missions.runs.update(
            run, mission_id=mission, status="failed", error="could not fetch every page"
        )

        trace = missionlab.load_run(client, mission, run)
        assert tool_calls(trace.events_frame)["attempt"].tolist() == [1, 1, 1]
        assert [f.kind for f in trace.explain() if f.kind == "retry_loop"] == []
        frames = missionlab.fetch_frames(client, steps=True, progress=False)
        missionlab.history(client, tmp_path / "h").sync(progress=False)
    for source in (frames, History(tmp_path / "h")):
        runs = missionlab.failures(source).runs
        assert runs[["step_id", "tool"]].astype(str).values.tolist() == [["fetch", "http.get"]], source
