"""Tool calls matched to their own results: calls of one tool made together, an error while a
call waits, results told by their summary only, a result listed before its call at one moment.
Each run is built so that which result answers which call is known from the ids put in it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import missionlab
from missionlab import History
from missionlab.analysis._attempts import CallLog, tool_calls
from missionlab.figures.grid import failed_attempts
from missionlab.sandbox import Sandbox

from .crafted import craft, event, running_step, step


def _call(seconds: float, tool: str, request: str, event_id: str | None = None) -> dict[str, Any]:
    return event(
        seconds, "tool_call", "a", f"Calling {tool}", {"tool": tool, "request_id": request}, event_id=event_id
    )


def _result(
    seconds: float, tool: str, request: str, event_id: str | None = None, **says: Any
) -> dict[str, Any]:
    payload = {"tool": tool, "request_id": request, **(says or {"ok": True})}
    return event(seconds, "tool_result", "a", f"{tool} returned", payload, event_id=event_id)


def _by_parts(events: pd.DataFrame) -> pd.DataFrame:
    """The calls of ``events`` read one event at a time (as a live Gantt reads them)."""
    log = CallLog()
    for start in range(len(events)):
        log.feed(events.iloc[start : start + 1])
    return log.frame()


def _failed_attempt_bars(trace: Any) -> int:
    figure = json.loads(trace.gantt().to_json())
    return sum(len(t.get("base", ())) for t in figure["data"] if t.get("name") == "failed attempt")


def test_calls_of_one_tool_made_together_each_answered_by_its_own_result() -> None:
    # three searches at once; their results come back in another order, each naming its call
    calls = [_call(2 + i / 10, "flights.search", f"req-{i}", f"call-{i}") for i in range(3)]
    results = [_result(4 + n / 10, "flights.search", f"req-{i}", f"res-{i}") for n, i in enumerate([2, 0, 1])]
    trace = craft([step("a", 1, 10, sequence=1)], [*calls, *results], run_id="run-fanout")
    events = trace.events_frame
    for calls_read in (tool_calls(events), _by_parts(events)):
        assert calls_read["call_id"].tolist() == ["call-0", "call-1", "call-2"]
        assert calls_read["result_id"].tolist() == ["res-0", "res-1", "res-2"]
        assert not calls_read["failed"].any()
        assert calls_read["outcome"].tolist() == ["ok"] * 3
        assert calls_read["attempt"].tolist() == [1, 1, 1]
        assert calls_read["ended_at"].notna().all()
    assert [f.kind for f in trace.explain() if f.kind == "retry_loop"] == []
    assert _failed_attempt_bars(trace) == 0
    stats = missionlab.tool_stats([trace]).set_index("tool")
    assert stats.loc["flights.search", "calls"] == 3
    assert stats.loc["flights.search", "errors"] == 0
    assert stats.loc["flights.search", "error_rate"] == 0
    assert failed_attempts(events).sum() == 0


def test_calls_made_together_through_the_api_and_a_history(tmp_path: Path) -> None:
    """The same through the sandbox: the run read over HTTP, and tool_stats of a synced
    History (its SQL reading) count no error."""
    with Sandbox() as sb, sb.client() as client:
        mission, run = running_step(client, "Trip planner", "search", "Search")
        for kind in ("tool_call", "tool_result"):
            for i in range(3):
                client.missions.runs.events.log(
                    run,
                    mission_id=mission,
                    step_id="search",
                    type=kind,
                    summary=f"{kind} {i}",
                    payload={
                        "tool": "flights.search",
                        "request_id": f"req-{i}",
                        **({"ok": True} if i else {}),
                    },
                )
        client.missions.runs.plan.update_step("search", mission_id=mission, run_id=run, status="completed")
        client.missions.runs.update(run, mission_id=mission, status="succeeded", result_summary="searched")
        trace = missionlab.load_run(client, mission, run)
        calls = tool_calls(trace.events_frame)
        assert not calls["failed"].any() and calls["result_id"].notna().all()
        assert [f.kind for f in trace.explain() if f.kind == "retry_loop"] == []
        assert _failed_attempt_bars(trace) == 0
        missionlab.history(client, tmp_path / "h").sync(progress=False)
    stats = missionlab.tool_stats(History(tmp_path / "h")).set_index("tool")
    assert stats.loc["flights.search", "calls"] == 3
    assert stats.loc["flights.search", "errors"] == 0


def test_an_error_while_a_call_waits_fails_it_only_without_a_result_of_its_own() -> None:
    events = [
        _call(2, "crm.lookup", "r1", "c1"),
        event(3, "error", "a", "Could not parse the model's reply; asking again", event_id="e1"),
        _result(4, "crm.lookup", "r1", "res1"),  # its own result, ok: not failed
        _call(5, "crm.lookup", "r2", "c2"),
        event(6, "error", "a", "crm.lookup timed out", event_id="e2"),  # no result ever: failed by it
        _call(7, "mail.send", "r3", "c3"),  # no result, called again: failed
        _call(8, "mail.send", "r4", "c4"),
        _result(9, "mail.send", "r4", "res4", ok=False, error="bounced"),  # its own result says failed
    ]
    trace = craft([step("a", 1, 10, sequence=1)], events, with_step_events=False)
    for calls in (tool_calls(trace.events_frame), _by_parts(trace.events_frame)):
        assert calls["call_id"].tolist() == ["c1", "c2", "c3", "c4"]
        assert calls["result_id"].fillna("").tolist() == ["res1", "", "", "res4"]
        assert calls["failed"].tolist() == [False, True, True, True]
        assert calls["outcome"].tolist() == [
            "ok",
            "crm.lookup timed out",
            "no result before the next call",
            "bounced",
        ]
        assert calls["attempt"].tolist() == [1, 1, 1, 2]  # c4 retried c3, c2 did not retry c1
        times = trace.events_frame.set_index("event_id")["timestamp"]
        assert calls["ended_at"].tolist()[:2] == [times["res1"], times["e2"]]
        assert calls["ended_at"].isna().tolist() == [False, False, True, False]


DENIED = [  # healthy summaries: the failure they name is denied
    "All tests passed, 0 failed",
    "No error found in logs",
    "Error budget: 99.9% remaining",
    "No tests failed",
    "passed: 12, failed: 0",
    "failed=0; skipped=2",
    "Nothing timed out",
    "Build hasn't failed once this week",
    "error-free run",
    "Error rate 0.1%",
]
NAMED = [  # failures
    "tests.run failed",
    "Error: disk full",
    "Request timed out after 30 s",
    "Not found error",
    "3 tests failed",
    "0 passed, 3 failed",
    "No response: connection failed",
    "Upload failed: 0 bytes written",
    "no error, but 2 checks failed",
]


@pytest.mark.parametrize(("summary", "failed"), [*((s, False) for s in DENIED), *((s, True) for s in NAMED)])
def test_a_result_told_by_its_summary_fails_its_call_only_by_a_failure_not_denied(
    summary: str, failed: bool
) -> None:
    trace = craft(
        [step("a", 1, 10, sequence=1)],
        [event(2, "tool_call", "a", "Calling tests.run", {}), event(3, "tool_result", "a", summary, {})],
    )
    calls = tool_calls(trace.events_frame)
    assert calls["result_id"].notna().all()
    assert calls["failed"].tolist() == [failed]
    assert calls["outcome"].tolist() == [summary if failed else "ok"]


def test_a_result_listed_before_its_call_at_one_moment_is_that_calls() -> None:
    # a fast tool: call and result stamped alike, the result listed first; r0 waits meanwhile
    events = [
        _call(1, "kv.get", "r0", "c0"),
        _result(2, "kv.get", "r1", "a-res1"),
        _call(2, "kv.get", "r1", "b-call1"),
        _result(3, "kv.get", "r2", "a-res2"),
        _call(3, "kv.get", "r2", "b-call2"),
        _result(4, "kv.get", "r0", "res0", ok=False, error="late"),
    ]
    trace = craft([step("a", 0, 10, sequence=1)], events, with_step_events=False)
    frame = trace.events_frame
    assert frame["event_id"].tolist() == [e["event_id"] for e in events]  # the order read
    for calls in (tool_calls(frame), _by_parts(frame)):
        assert calls["call_id"].tolist() == ["c0", "b-call1", "b-call2"]
        assert calls["result_id"].tolist() == ["res0", "a-res1", "a-res2"]
        assert calls["failed"].tolist() == [True, False, False]
        assert calls["outcome"].tolist() == ["late", "ok", "ok"]


def test_a_result_of_another_moment_is_not_taken_back() -> None:
    # a result naming an id no call has is given by tool to the call waiting; a call of that
    # id logged later (not at the same moment) does not take it
    events = [
        _call(1, "kv.get", "r0", "c0"),
        _result(2, "kv.get", "r9", "res9"),
        _call(3, "kv.get", "r9", "c9"),
    ]
    trace = craft([step("a", 0, 10, sequence=1)], events, with_step_events=False)
    for calls in (tool_calls(trace.events_frame), _by_parts(trace.events_frame)):
        assert calls["result_id"].fillna("").tolist() == ["res9", ""]
        assert calls["failed"].tolist() == [False, False]


def test_a_result_naming_an_answered_call_is_given_to_no_other() -> None:
    # r1's result comes twice (the second says it failed): the first is r1's; the second is
    # given neither to r1 (its result came) nor, by tool, to r2, which has an id of its own
    events = [
        _call(1, "kv.get", "r1", "c1"),
        _call(2, "kv.get", "r2", "c2"),
        _result(3, "kv.get", "r1", "res1"),
        _result(4, "kv.get", "r1", "res1-again", ok=False, error="dup"),
    ]
    trace = craft([step("a", 0, 10, sequence=1)], events, with_step_events=False)
    for calls in (tool_calls(trace.events_frame), _by_parts(trace.events_frame)):
        assert calls["result_id"].fillna("").tolist() == ["res1", ""]
        assert calls["failed"].tolist() == [False, False]
        assert calls["outcome"].tolist() == ["ok", ""]
