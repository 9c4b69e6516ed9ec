"""The run recorder, for code that is its own agent (execution_mode = external)."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

import missionlab
from missionlab import RunRecorder
from missionlab.sandbox import Sandbox

from .conftest import unique


def external(client: missionlab.Client) -> str:
    return client.missions.create(name=unique("recorder")).data.mission_id


def plan_of(client: missionlab.Client, rec: RunRecorder) -> dict[str, str]:
    steps = client.missions.runs.plan.retrieve(rec.run_id, mission_id=rec.mission_id).data
    return {s.step_id: str(s.status) for s in steps}


def events_of(client: missionlab.Client, rec: RunRecorder) -> list[missionlab.Event]:
    return client.missions.runs.events.list(rec.run_id, mission_id=rec.mission_id, page_size=1000).data


def test_a_successful_run(client: missionlab.Client) -> None:
    mission_id = external(client)
    with RunRecorder(client, mission_id, input={"city": "Paris"}, agent_id="my-agent") as rec:
        assert rec.run is not None and rec.run.status == "running"
        rec.plan([("search", "Search flights"), ("book", "Book the best one")])
        with rec.step("search"):
            rec.event("tool_call", "flights.search", payload={"to": "CDG"})
            with rec.step("search-cheap", "Look for cheaper dates"):
                pass
        with rec.step("book"):
            rec.event("tool_result", "booked")
        rec.succeed("Booked AF1234", {"flight": "AF1234"})
    run = client.missions.runs.retrieve(rec.run_id, mission_id=mission_id).data
    assert (run.status, run.result_summary, run.result_payload) == (
        "succeeded",
        "Booked AF1234",
        {"flight": "AF1234"},
    )
    assert plan_of(client, rec) == {"search": "completed", "search-cheap": "completed", "book": "completed"}
    steps = client.missions.runs.plan.retrieve(rec.run_id, mission_id=mission_id).data
    assert next(s for s in steps if s.step_id == "search-cheap").parent_step_id == "search"
    events = events_of(client, rec)
    assert [str(e.type) for e in events if e.step_id == "search"] == [
        "step_started",
        "tool_call",
        "step_completed",
    ]
    assert next(e for e in events if e.type == "tool_call").agent_id == "my-agent"


def test_an_exception_fails_the_step_and_the_run(client: missionlab.Client) -> None:
    mission_id = external(client)
    with pytest.raises(ZeroDivisionError), RunRecorder(client, mission_id) as rec:
        rec.plan([("a", "A"), ("b", "B"), ("c", "C")])
        with rec.step("a"):
            pass
        with rec.step("b"):
            1 / 0  # noqa: B018
    run = client.missions.runs.retrieve(rec.run_id, mission_id=mission_id).data
    assert run.status == "failed" and "ZeroDivisionError" in (run.error or "")
    assert run.finished_at is not None
    assert plan_of(client, rec) == {"a": "completed", "b": "failed", "c": "skipped"}
    errors = [e for e in events_of(client, rec) if e.type == "error"]
    assert len(errors) == 1 and errors[0].step_id == "b"  # logged once, on its step


def test_one_exception_through_nested_steps_is_one_error_event(client: missionlab.Client) -> None:
    """Raised once in the innermost of three steps: one error event, on that step; every step
    it passed through failed, each with its step_failed event."""
    mission_id = external(client)
    with (
        pytest.raises(ValueError),
        RunRecorder(client, mission_id) as rec,
        rec.step("outer"),
        rec.step("middle"),
        rec.step("inner"),
    ):
        raise ValueError("one bad value")
    assert plan_of(client, rec) == {"outer": "failed", "middle": "failed", "inner": "failed"}
    events = events_of(client, rec)
    errors = [e for e in events if e.type == "error"]
    assert [(e.step_id, e.summary) for e in errors] == [("inner", "ValueError: one bad value")]
    assert sorted(str(e.step_id) for e in events if e.type == "step_failed") == ["inner", "middle", "outer"]


def test_an_exception_outside_steps(client: missionlab.Client) -> None:
    mission_id = external(client)
    with pytest.raises(RuntimeError), RunRecorder(client, mission_id) as rec:
        raise RuntimeError("setup broke")
    run = client.missions.runs.retrieve(rec.run_id, mission_id=mission_id).data
    assert run.status == "failed" and run.error == "RuntimeError: setup broke"
    error = next(e for e in events_of(client, rec) if e.type == "error")
    assert error.step_id is None and error.payload is not None and "Traceback" in error.payload["traceback"]


def test_keyboard_interrupt_cancels(client: missionlab.Client) -> None:
    mission_id = external(client)
    with (
        pytest.raises(KeyboardInterrupt),
        RunRecorder(client, mission_id) as rec,
        rec.step("long", "Long work"),
    ):
        raise KeyboardInterrupt
    run = client.missions.runs.retrieve(rec.run_id, mission_id=mission_id).data
    assert run.status == "cancelled"


def test_explicit_failure_without_exception(client: missionlab.Client) -> None:
    mission_id = external(client)
    with RunRecorder(client, mission_id) as rec:
        rec.fail("no flights found")
    run = client.missions.runs.retrieve(rec.run_id, mission_id=mission_id).data
    assert (run.status, run.error) == ("failed", "no flights found")


def test_the_final_update_is_retried_by_the_client(sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    """A flaky network at the end still leaves the run finished, through the client's own
    retries: no more requests than ``1 + max_retries`` (issue 10 item 7: it took up to 12)."""
    monkeypatch.setattr("time.sleep", lambda s: None)
    failures = {"left": 4, "sent": 0}

    class Flaky(httpx.HTTPTransport):
        def handle_request(self, request: httpx.Request) -> httpx.Response:
            if request.method == "PATCH" and b"succeeded" in request.content:
                failures["sent"] += 1
                if failures["left"]:
                    failures["left"] -= 1
                    raise httpx.ConnectError("network down")
            return super().handle_request(request)

    client = missionlab.Client(api_key=sandbox.token, base_url=sandbox.url, transport=Flaky(), max_retries=4)
    mission_id = external(client)
    with RunRecorder(client, mission_id) as rec:
        pass
    assert failures == {"left": 0, "sent": 5}
    assert client.missions.runs.retrieve(rec.run_id, mission_id=mission_id).data.status == ("succeeded")


def test_undeliverable_final_update_says_which_run_is_open(
    sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("time.sleep", lambda s: None)
    sent = []

    class Down(httpx.HTTPTransport):
        def handle_request(self, request: httpx.Request) -> httpx.Response:
            if request.method == "PATCH" and b"succeeded" in request.content:
                sent.append(request)
                raise httpx.ConnectError("network down")
            return super().handle_request(request)

    client = missionlab.Client(api_key=sandbox.token, base_url=sandbox.url, transport=Down(), max_retries=2)
    mission_id = external(client)
    with pytest.raises(missionlab.RecorderError) as err, RunRecorder(client, mission_id) as rec:
        pass
    assert rec.run_id in str(err.value) and "running" in str(err.value)
    assert len(sent) == 3  # the client's 1 + max_retries; main's own loop made it 4 x 3 = 12


def test_recorder_outside_with_block_is_a_clear_error(client: missionlab.Client) -> None:
    rec = RunRecorder(client, external(client))
    with pytest.raises(missionlab.RecorderError, match="with"):
        rec.event("message", "too early")


class FailingWrites(httpx.HTTPTransport):
    """A transport to the sandbox whose chosen writes fail with a 500 that says not to retry."""

    def __init__(self, fails: Callable[[httpx.Request], bool]) -> None:
        super().__init__()
        self.fails = fails

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if self.fails(request):
            return httpx.Response(
                500, json={"errors": [{"detail": "injected"}]}, headers={"x-should-retry": "false"}
            )
        return super().handle_request(request)


class AgentError(Exception):
    pass


def test_the_agents_own_exception_is_never_masked(sandbox: Sandbox) -> None:
    """Issue 10 item 7: on main the agent saw InternalServerError from the step update."""
    transport = FailingWrites(
        lambda r: (
            (r.method == "PATCH" and "/plan/steps/" in r.url.path and b"failed" in r.content)
            or (r.method == "POST" and r.url.path.endswith("/events"))
        )
    )
    client = missionlab.Client(api_key=sandbox.token, base_url=sandbox.url, transport=transport)
    mission_id = external(client)
    with pytest.raises(AgentError, match="the agent's own"), RunRecorder(client, mission_id) as rec:
        rec.plan([("a", "A")])
        with rec.step("a"):
            raise AgentError("the agent's own")
    run = client.missions.runs.retrieve(rec.run_id, mission_id=mission_id).data
    assert (run.status, run.error) == ("failed", "AgentError: the agent's own")


def test_an_unfinishable_run_is_noted_on_the_agents_exception(sandbox: Sandbox) -> None:
    transport = FailingWrites(
        lambda r: r.method == "PATCH" and b'"failed"' in r.content and "/plan/" not in r.url.path
    )
    client = missionlab.Client(api_key=sandbox.token, base_url=sandbox.url, transport=transport)
    mission_id = external(client)
    with pytest.raises(AgentError) as err, RunRecorder(client, mission_id) as rec:
        raise AgentError("boom")
    assert str(err.value) == "boom"  # on main: RecorderError replaced it
    assert any(rec.run_id in note and "could not be marked failed" in note for note in err.value.__notes__)


def test_a_step_whose_update_failed_is_closed_when_the_run_finishes(sandbox: Sandbox) -> None:
    failures = {"left": 1}

    def first_completion(request: httpx.Request) -> bool:
        if request.method == "PATCH" and b"completed" in request.content and failures["left"]:
            failures["left"] -= 1
            return True
        return False

    client = missionlab.Client(
        api_key=sandbox.token, base_url=sandbox.url, transport=FailingWrites(first_completion)
    )
    mission_id = external(client)
    with RunRecorder(client, mission_id) as rec:  # on main the step's APIError escaped the block
        rec.plan([("a", "A"), ("b", "B")])
        with rec.step("a"):
            pass
        with rec.step("b"):
            pass
    assert failures["left"] == 0
    assert plan_of(client, rec) == {"a": "completed", "b": "completed"}
    assert client.missions.runs.retrieve(rec.run_id, mission_id=mission_id).data.status == "succeeded"


def runs_of(client: missionlab.Client, mission_id: str) -> list[missionlab.Run]:
    return client.missions.runs.list(mission_id, page_size=100).data


def test_a_lost_create_answer_leaves_no_orphan_run(sandbox: Sandbox) -> None:
    """Issue 22: when the sandbox created the run but the answer was lost, main asked again
    (or gave up) and left a pending run that nobody finished (2 of 5 recorders under faults)."""
    client = missionlab.Client(api_key=sandbox.token, base_url=sandbox.url, max_retries=2)
    mission_id = external(client)
    sandbox.set_faults({"seed": 1, "rules": [{"route": "POST /ai/missions/*/runs", "drop_after_rate": 1.0}]})
    try:
        with RunRecorder(client, mission_id, metadata={"team": "a"}) as rec:
            rec.plan([("a", "A")])
            with rec.step("a"):
                pass
    finally:
        sandbox.set_faults({"rules": []})
    runs = runs_of(client, mission_id)
    assert [(r.run_id, str(r.status)) for r in runs] == [(rec.run_id, "succeeded")]
    assert runs[0].metadata is not None and runs[0].metadata["team"] == "a"
    assert plan_of(client, rec) == {"a": "completed"}


def test_a_create_that_never_arrived_is_sent_again(sandbox: Sandbox) -> None:
    """The other half: a create dropped before the server saw it is asked again, once."""
    sent = {"creates": 0}

    class DropFirstCreate(httpx.HTTPTransport):
        def handle_request(self, request: httpx.Request) -> httpx.Response:
            if request.method == "POST" and request.url.path.endswith("/runs"):
                sent["creates"] += 1
                if sent["creates"] == 1:
                    raise httpx.ReadError("connection reset")  # the server may have acted
            return super().handle_request(request)

    client = missionlab.Client(api_key=sandbox.token, base_url=sandbox.url, transport=DropFirstCreate())
    mission_id = external(client)
    with RunRecorder(client, mission_id) as rec:
        pass
    assert sent["creates"] == 2
    assert [(r.run_id, str(r.status)) for r in runs_of(client, mission_id)] == [(rec.run_id, "succeeded")]


def test_event_never_raises_when_the_server_is_down_and_delivers_later(sandbox: Sandbox) -> None:
    """Issue 22: on main rec.event() raised into the agent's code when the server was down."""
    down = {"on": False}

    class Switch(httpx.HTTPTransport):
        def handle_request(self, request: httpx.Request) -> httpx.Response:
            if down["on"]:
                raise httpx.ConnectError("server down")
            return super().handle_request(request)

    client = missionlab.Client(api_key=sandbox.token, base_url=sandbox.url, transport=Switch(), max_retries=0)
    mission_id = external(client)
    with pytest.warns(missionlab.RecorderWarning) as warned, RunRecorder(client, mission_id) as rec:
        rec.plan([("a", "A")])
        with rec.step("a"):
            assert rec.event("tool_call", "before", idempotency_key="k-before") is not None
            down["on"] = True
            assert rec.event("tool_call", "during 1", idempotency_key="k-during-1") is None
            assert rec.event("tool_call", "during 2") is None
            assert [e["summary"] for e in rec.undelivered] == ["during 1", "during 2"]
            down["on"] = False
    recorder_warnings = [w for w in warned if w.category is missionlab.RecorderWarning]
    assert len(recorder_warnings) == 1  # once per recorder, however many failures
    events = [e for e in events_of(client, rec) if e.type == "tool_call"]
    assert [e.summary for e in events] == ["before", "during 1", "during 2"]
    assert [e.idempotency_key for e in events][:2] == ["k-before", "k-during-1"]
    assert rec.undelivered == []
    assert client.missions.runs.retrieve(rec.run_id, mission_id=mission_id).data.status == "succeeded"


def test_an_event_redelivered_with_its_key_is_logged_once(sandbox: Sandbox) -> None:
    """An event whose answer was lost after the server stored it is not doubled at the end."""
    client = missionlab.Client(api_key=sandbox.token, base_url=sandbox.url, max_retries=0)
    mission_id = external(client)
    with RunRecorder(client, mission_id) as rec:
        sandbox.set_faults({"seed": 1, "rules": [{"route": "POST */events", "drop_after_rate": 1.0}]})
        try:
            with pytest.warns(missionlab.RecorderWarning):
                assert rec.event("message", "hello", idempotency_key="once") is None
        finally:
            sandbox.set_faults({"rules": []})
    messages = [e for e in events_of(client, rec) if e.type == "message"]
    assert [(e.summary, e.idempotency_key) for e in messages] == [("hello", "once")]
