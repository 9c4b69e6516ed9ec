"""RunTrace.refresh: a watched run brought up to date with few requests and only new events,
its frames and live Gantt extended in place."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pandas as pd
import pytest

import missionlab
from missionlab import frames
from missionlab.client._new_events import every_event, page_for
from missionlab.client.models import Run
from missionlab.figures import timeline
from missionlab.sandbox import Sandbox
from missionlab.trace import RunTrace, load_run

from .conftest import unique
from .gantt_helpers import assert_same_points


class Counting(httpx.BaseTransport):
    """httpx's transport, counting requests and the events their answers carry."""

    def __init__(self) -> None:
        self.inner = httpx.HTTPTransport()
        self.lock = threading.Lock()
        self.requests = self.events = 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self.inner.handle_request(request)
        body = response.read()
        with self.lock:
            self.requests += 1
            self.events += body.count(b'"event_id":')
        return response

    def reset(self) -> None:
        self.requests = self.events = 0

    def close(self) -> None:  # the client closes its transport: its connections go with it
        self.inner.close()


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    with Sandbox() as sb:
        yield sb


@pytest.fixture
def counter() -> Counting:
    return Counting()


@pytest.fixture
def watched(sandbox: Sandbox, counter: Counting) -> Iterator[tuple[missionlab.Client, RunTrace, Any]]:
    """A running run with a 20-step plan and 2,000 events, watched through a counting client."""
    client = missionlab.Client(base_url=sandbox.url, api_key=sandbox.token or "k", transport=counter)
    mission = client.missions.create(name=unique("watched"), execution_mode="external").data
    run = client.missions.runs.create(mission.mission_id).data
    steps = [{"step_id": f"s{i}", "description": f"Step {i}", "sequence": i} for i in range(20)]
    client.missions.runs.plan.create(run.run_id, mission_id=mission.mission_id, steps=steps)
    log_events(sandbox, run, 2000)
    yield client, load_run(client, mission.mission_id, run.run_id), run
    client.close()


def log_events(sandbox: Sandbox, run: Any, count: int, **fields: Any) -> None:
    assert sandbox.store is not None
    for i in range(count):
        event = {"type": "tool_call", "summary": f"call {i}", "step_id": f"s{i % 20}", "payload": {"i": i}}
        sandbox.store.log_event(run.mission_id, run.run_id, {**event, **fields})


def test_page_arithmetic() -> None:
    assert page_for(0) == page_for(99) == (1, 1000)
    assert page_for(2000) == (3, 1000)  # starts right at the first unseen event
    assert page_for(150) == (2, 150)
    assert page_for(2100) == (4, 700)
    assert page_for(1999) == (3, 999)  # a prime: one event sent again, the least possible


def test_refresh_fetches_only_the_new_events(sandbox: Sandbox, counter: Counting, watched: Any) -> None:
    client, trace, run = watched
    assert len(trace.events) == 2000
    before = trace.events_frame
    client.missions.runs.plan.update_step(
        "s3", mission_id=run.mission_id, run_id=run.run_id, status="in_progress"
    )
    log_events(sandbox, run, 10)
    counter.reset()
    new = trace.refresh(client)
    assert len(new) == 10 and [e.summary for e in new] == [f"call {i}" for i in range(10)]
    assert counter.requests == 3 and counter.events == 10  # the run, its plan, one page of new events
    assert len(trace.events) == 2010 and trace.events[-10:] == new
    # the events frame is extended, not rebuilt, and is what a fresh build would give
    pd.testing.assert_frame_equal(trace.events_frame.iloc[:2000], before)
    pd.testing.assert_frame_equal(trace.events_frame, frames.events_frame(trace.events))
    assert trace.steps_frame.set_index("step_id").loc["s3", "status"] == "in_progress"
    counter.reset()
    assert trace.refresh(client) == []
    assert counter.requests == 3 and counter.events == 0


def test_refresh_reads_further_pages_when_much_is_new(
    sandbox: Sandbox, counter: Counting, watched: Any
) -> None:
    client, trace, run = watched
    log_events(sandbox, run, 1500)
    counter.reset()
    new = trace.refresh(client)
    assert len(new) == 1500 and counter.events == 1500 and counter.requests == 4
    pd.testing.assert_frame_equal(trace.events_frame, frames.events_frame(trace.events))


def test_an_event_inserted_among_those_held_is_not_missed(sandbox: Sandbox, watched: Any) -> None:
    client, trace, run = watched
    late = (datetime.now(UTC) - timedelta(hours=1)).isoformat().replace("+00:00", "Z")
    log_events(sandbox, run, 1, summary="logged late", timestamp=late)  # sorts before every event held
    log_events(sandbox, run, 3)
    new = trace.refresh(client)
    assert sorted(e.summary for e in new) == ["call 0", "call 1", "call 2", "logged late"]
    assert trace.events[0].summary == "logged late" and len(trace.events) == 2004
    pd.testing.assert_frame_equal(trace.events_frame, frames.events_frame(trace.events))


def test_several_events_inserted_among_those_held_are_not_missed(sandbox: Sandbox, watched: Any) -> None:
    """Three late events push the last three held into the page of new ones (which starts right
    after the 2,000 held): the refresh sees it and reads everything again, once."""
    client, trace, run = watched
    late = (datetime.now(UTC) - timedelta(hours=1)).isoformat().replace("+00:00", "Z")
    log_events(sandbox, run, 3, summary="logged late", timestamp=late)
    log_events(sandbox, run, 2)
    new = trace.refresh(client)
    assert sorted(e.summary for e in new) == ["call 0", "call 1", *["logged late"] * 3]
    ids = [e.event_id for e in trace.events]
    assert len(ids) == len(set(ids)) == 2005
    assert ids == [
        e.event_id
        for e in client.missions.runs.events.list(
            run.run_id, mission_id=run.mission_id, page_size=1000
        ).fetch_all(progress=False)
    ]


def test_the_live_gantt_is_extended_in_place(sandbox: Sandbox, watched: Any) -> None:
    client, trace, run = watched
    live = timeline.LiveGantt(trace)
    widget = live.widget
    calls = next(t for t in widget.data if t.meta == "event:tool_call")
    sent: list[Any] = []
    widget.observe(lambda change: sent.append(change["new"]), names=["_py2js_restyle", "_py2js_addTraces"])
    for _ in range(3):
        log_events(sandbox, run, 10)
        trace.refresh(client)
        live.update(trace)
    assert next(t for t in widget.data if t.meta == "event:tool_call") is calls and len(calls.x) == 2000
    new = next(t for t in widget.data if t.meta == "event:tool_call:new")
    assert list(new.text[-3:]) == ["call 7", "call 8", "call 9"] and len(new.x) == 30
    # what went to the browser: the new markers, never the 2,000 drawn before
    sizes = [len(v) for message in sent if message for v in _arrays(message)]
    assert sizes and max(sizes) <= 30
    assert_same_points(widget, timeline.gantt(trace))
    log_events(sandbox, run, 500)  # more than a quarter new: merged into the first trace of the type
    trace.refresh(client)
    live.update(trace)
    assert len(calls.x) == 2530 and not any(t.meta == "event:tool_call:new" for t in widget.data)
    assert_same_points(widget, timeline.gantt(trace))


def _arrays(message: Any) -> Iterator[Any]:
    """The arrays of points in a widget message (a restyle holds a list of them, one per trace)."""
    if isinstance(message, dict):
        for key, value in message.items():
            if key in ("x", "text", "customdata", "hovertext"):
                yield from (
                    value
                    if isinstance(value, list) and len(value) and not isinstance(value[0], str)
                    else [value]
                )
            else:
                yield from _arrays(value)
    elif isinstance(message, list):
        for value in message:
            yield from _arrays(value)


def test_a_refresh_with_nothing_new_keeps_the_same_run_plan_and_steps(watched: Any) -> None:
    client, trace, _ = watched
    trace.refresh(client)  # the first refresh reads both answers
    run, steps, frame = trace.run, trace.steps, trace.steps_frame
    assert trace.refresh(client) == []
    assert trace.run is run and trace.steps is steps  # not made into models again
    # the same steps frame, measured again at the moment it is read: a fresh build's
    pd.testing.assert_frame_equal(
        trace.steps_frame.drop(columns=["duration", "duration_s"]),
        frame.drop(columns=["duration", "duration_s"]),
    )
    fresh = frames.steps_frame(trace.steps, events=trace.events_frame)
    pd.testing.assert_frame_equal(
        trace.steps_frame.drop(columns=["duration", "duration_s"]),
        fresh.drop(columns=["duration", "duration_s"]),
    )


def test_a_changed_run_or_plan_is_read_again(watched: Any) -> None:
    client, trace, run = watched
    trace.refresh(client)
    before_run, before_steps = trace.run, trace.steps
    client.missions.runs.plan.update_step(
        "s5", mission_id=run.mission_id, run_id=run.run_id, status="completed"
    )
    trace.refresh(client)
    assert trace.steps is not before_steps
    assert trace.steps == client.missions.runs.plan.retrieve(run.run_id, mission_id=run.mission_id).data
    assert trace.steps_frame.set_index("step_id").loc["s5", "status"] == "completed"
    assert trace.run == client.missions.runs.retrieve(run.run_id, mission_id=run.mission_id).data
    assert trace.run is not before_run  # the step's change stamped the run's updated_at


def test_new_step_events_give_the_steps_their_times(sandbox: Sandbox, watched: Any) -> None:
    client, trace, run = watched
    trace.refresh(client)
    steps = trace.steps
    assert pd.isna(trace.steps_frame.set_index("step_id").loc["s7", "started_at"])  # built before
    began = "2031-01-02T03:04:05Z"
    log_events(sandbox, run, 1, type="step_started", step_id="s7", summary="s7 began", timestamp=began)
    trace.refresh(client)
    assert trace.steps is steps  # the plan did not change: its step events did
    row = trace.steps_frame.set_index("step_id").loc["s7"]
    assert row["started_at"] == pd.Timestamp(began) and row["times_from"] == "events"
    fresh = frames.steps_frame(trace.steps, events=frames.events_frame(trace.events))
    pd.testing.assert_frame_equal(
        trace.steps_frame.drop(columns=["duration", "duration_s"]),
        fresh.drop(columns=["duration", "duration_s"]),
    )


def test_running_steps_are_measured_to_the_moment_asked() -> None:
    start = datetime(2030, 1, 1, tzinfo=UTC)
    plan = [
        {
            "run_id": "r",
            "step_id": "a",
            "sequence": 1,
            "status": "completed",
            "started_at": start,
            "completed_at": start + timedelta(seconds=5),
        },
        {"run_id": "r", "step_id": "b", "sequence": 2, "status": "in_progress", "started_at": start},
    ]
    built = frames.steps_frame(plan, now=start + timedelta(seconds=10))
    later = start + timedelta(seconds=70)
    assert frames.retimed(built, later)["duration_s"].tolist() == [5.0, 70.0]
    pd.testing.assert_frame_equal(frames.retimed(built, later), frames.steps_frame(plan, now=later))
    finished = frames.steps_frame(plan[:1])
    assert frames.retimed(finished, later) is finished  # nothing runs: nothing to measure


class RunAnsweredLast(httpx.BaseTransport):
    """httpx's transport that, once armed, holds the GET of the run until the plan's and the
    events' answers are back, ends the run meanwhile (``end``), then lets it through: the run
    ending between the server's answers to a refresh's (or a load's) concurrent requests."""

    def __init__(self, end: Any) -> None:
        self.inner = httpx.HTTPTransport()
        self.end = end
        self.armed = False
        self.others = threading.Semaphore(0)
        self.requests = 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.requests += 1
        armed = self.armed
        if armed and request.url.path.rstrip("/").split("/")[-2] == "runs":
            for _ in range(2):  # the plan's and the events' answers (a safety bound, not a timing)
                assert self.others.acquire(timeout=30)
            self.armed = False
            self.end()
            return self.inner.handle_request(request)
        response = self.inner.handle_request(request)
        response.read()
        if armed and request.url.path.endswith(("/plan", "/events")):
            self.others.release()
        return response

    def close(self) -> None:
        self.inner.close()


def run_near_its_end(client: missionlab.Client) -> tuple[Run, Callable[[], None]]:
    """A running run whose step ``a`` is completed and ``b`` in progress, and the agent's
    last moves: a tool call in ``b``, ``b`` completed, the run succeeded."""
    mission = client.missions.create(name=unique("ends"), execution_mode="external").data
    run = client.missions.runs.create(mission.mission_id).data
    client.missions.runs.update(run.run_id, mission_id=mission.mission_id, status="running")
    steps = [{"step_id": s, "description": s.upper(), "sequence": n} for n, s in enumerate("ab", 1)]
    client.missions.runs.plan.create(run.run_id, mission_id=mission.mission_id, steps=steps)

    def move(step_id: str, status: str) -> None:
        client.missions.runs.plan.update_step(
            step_id, mission_id=mission.mission_id, run_id=run.run_id, status=status
        )

    move("a", "in_progress")
    move("a", "completed")
    move("b", "in_progress")

    def end() -> None:
        client.missions.runs.events.log(
            run.run_id, mission_id=mission.mission_id, type="tool_call", summary="b's call", step_id="b"
        )
        move("b", "completed")
        client.missions.runs.update(run.run_id, mission_id=mission.mission_id, status="succeeded")

    return run, end


def assert_read_with_its_end(trace: RunTrace, fresh: RunTrace) -> None:
    assert trace.run.status == "succeeded"
    assert [(s.step_id, s.status) for s in trace.steps] == [("a", "completed"), ("b", "completed")]
    assert [e.event_id for e in trace.events] == [e.event_id for e in fresh.events]
    assert "b's call" in [e.summary for e in trace.events]
    assert list(trace.explain(baseline=False)) == []  # no "step b still in progress" on a healthy run
    assert str(trace.explain(baseline=False)) == str(fresh.explain(baseline=False))


def test_a_run_that_ends_during_a_refresh_is_shown_with_its_end(sandbox: Sandbox) -> None:
    client = sandbox.client()
    run, end = run_near_its_end(client)
    transport = RunAnsweredLast(end)
    watcher = missionlab.Client(base_url=sandbox.url, api_key=sandbox.token or "k", transport=transport)
    trace = load_run(watcher, run.mission_id, run.run_id)
    transport.armed, transport.requests = True, 0
    trace.refresh(watcher)
    assert_read_with_its_end(trace, load_run(client, run.mission_id, run.run_id))
    assert transport.requests == 5  # the three, then the plan and the events again, once
    watcher.close()


def test_a_run_that_ends_during_its_load_is_loaded_with_its_end(sandbox: Sandbox) -> None:
    client = sandbox.client()
    run, end = run_near_its_end(client)
    transport = RunAnsweredLast(end)
    transport.armed = True
    watcher = missionlab.Client(base_url=sandbox.url, api_key=sandbox.token or "k", transport=transport)
    trace = load_run(watcher, run.mission_id, run.run_id)
    assert_read_with_its_end(trace, load_run(client, run.mission_id, run.run_id))
    assert transport.requests == 7  # the five, then the plan and the events again, once
    transport.requests = 0
    load_run(watcher, run.mission_id, run.run_id)  # ended, and its plan says so: read once
    assert transport.requests == 5
    watcher.close()


def test_every_event_reads_a_run_as_list_then_fetch_all(counter: Counting, watched: Any) -> None:
    """``every_event`` (what ``load_run`` reads a run's events with) gives the events that
    ``list(page_size=1000).fetch_all()`` gives, in the same order, with the same requests."""
    client, trace, run = watched
    counter.reset()
    expected = client.missions.runs.events.list(run.run_id, mission_id=run.mission_id, page_size=1000)
    expected_ids = [event.event_id for event in expected.fetch_all(progress=False)]
    requests = counter.requests
    counter.reset()
    events = every_event(client, run.mission_id, run.run_id)
    assert [event.event_id for event in events] == expected_ids == [e.event_id for e in trace.events]
    assert counter.requests == requests == 2 and counter.events == 2000
