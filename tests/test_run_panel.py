"""The run panel against the sandbox: a refresh goes through ``RunTrace.refresh`` and sends the
browser nothing when nothing changed; the events tab finds events with ``RunTrace.find``; the
steps tab, the header and the Gantt's hover show the token usage and cost the events report."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from functools import partial
from itertools import pairwise
from typing import Any

import comm
import httpx
import pytest
from comm.base_comm import BaseComm

import missionlab
from missionlab import frames
from missionlab.analysis.find import on_time_window
from missionlab.figures.timeline import LiveGantt
from missionlab.sandbox import Sandbox
from missionlab.trace import load_run
from missionlab.widgets import RunPanel
from missionlab.widgets.event_log import MAX_SHOWN, frame_lines

from .conftest import unique
from .test_refresh import Counting

TIMELINE, EVENTS, STEPS = 0, 1, 2


class FrontEnd:
    """The comm messages widgets send to the browser (widgets made after the fixture starts)."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, int]] = []  # (the widget's model class or "?", bytes)

    def comm(self, *args: Any, **kwargs: Any) -> BaseComm:
        front_end = self

        class Recording(BaseComm):
            def publish_msg(
                self, msg_type: str, data: Any = None, metadata: Any = None, buffers: Any = None, **keys: Any
            ) -> None:
                state = (data or {}).get("state", {})
                front_end.sent.append(
                    (str(state.get("_model_name", "?")), len(json.dumps(data, default=str)))
                )

        return Recording(*args, **kwargs)

    def take(self) -> list[tuple[str, int]]:
        sent, self.sent = self.sent, []
        return sent


@pytest.fixture
def front_end(monkeypatch: pytest.MonkeyPatch) -> FrontEnd:
    recorder = FrontEnd()
    monkeypatch.setattr(comm, "create_comm", recorder.comm)
    return recorder


@pytest.fixture(scope="module")
def counter() -> Counting:
    return Counting()


@pytest.fixture(scope="module")
def client(sandbox: Sandbox, counter: Counting) -> Iterator[missionlab.Client]:
    with sandbox.client(transport=counter) as c:
        yield c


def external_run(client: missionlab.Client, events: int = 0) -> tuple[str, str]:
    """A running run that only this test drives: a parent step with a child, ``events`` events."""
    mission = client.missions.create(name=unique("panel")).data
    run = client.missions.runs.create(mission.mission_id).data
    client.missions.runs.plan.create(
        run.run_id,
        mission_id=mission.mission_id,
        steps=[
            {"step_id": "plan", "description": "Plan the trip", "sequence": 1},
            {"step_id": "call", "description": "Ask the model", "sequence": 2, "parent_step_id": "plan"},
        ],
    )
    client.missions.runs.update(run.run_id, mission_id=mission.mission_id, status="running")
    for number in range(events):
        log(client, mission.mission_id, run.run_id, f"event {number}")
    return mission.mission_id, run.run_id


def log(client: missionlab.Client, mission_id: str, run_id: str, summary: str, **fields: Any) -> None:
    fields.setdefault("type", "message")
    client.missions.runs.events.log(run_id, mission_id=mission_id, summary=summary, **fields)


def test_a_refresh_is_three_requests_and_sends_nothing_when_nothing_changed(
    client: missionlab.Client, counter: Counting, front_end: FrontEnd
) -> None:
    mission_id, run_id = external_run(client, events=120)  # (under 100, all are read again: one page)
    panel = RunPanel(client, mission_id, run_id, refresh_interval=600)  # no background tick here
    try:
        assert panel.refreshing and len(panel.events) == 121  # with the status change
        figure = panel.timeline.outputs
        front_end.take()
        counter.reset()
        panel.refresh()
        assert counter.requests <= 3 and counter.events == 0
        assert front_end.take() == []  # nothing changed: not a byte to the browser
        assert panel.timeline.outputs is figure

        log(client, mission_id, run_id, "fresh news", step_id="call")
        counter.reset()
        panel.refresh()
        assert counter.requests <= 3 and counter.events == 1  # only the new event travelled
        sent = front_end.take()
        assert panel.timeline.outputs is figure  # not drawn anew: changed in place
        whole = len(json.dumps(figure[0]["data"]["application/vnd.plotly.v1+json"]))
        assert (
            sent and sum(size for _, size in sent) < whole / 4
        )  # the header, the new marker, the moved lines
        assert len(panel.events) == 122 and panel.events[-1].summary == "fresh news"
        assert panel.event_log.event_list.options == ()  # the events tab isn't built until shown
        panel.tabs.selected_index = EVENTS
        assert panel.event_log.event_list.options[0][0].endswith("fresh news")  # newest first
        timeline = panel.timeline.outputs
        front_end.take()
        log(client, mission_id, run_id, "more news")
        panel.refresh()
        assert panel.timeline.outputs is timeline  # the Gantt is off screen: not changed now
        assert panel.event_log.event_list.options[0][0].endswith("more news")
        shown = panel.timeline._spec
        assert shown is not None and not any("more news" in str(t.get("text")) for t in shown["data"])
        front_end.take()
        panel.tabs.selected_index = TIMELINE
        assert front_end.take() and any("more news" in str(t.get("text")) for t in shown["data"])
    finally:
        panel.close()


def test_the_events_tab_finds_by_text_in_payloads_agent_step_type_and_time_window(
    client: missionlab.Client,
) -> None:
    mission_id, run_id = external_run(client)
    log(client, mission_id, run_id, "booked", agent_id="agent-a", step_id="call", payload={"city": "Lisbon"})
    log(client, mission_id, run_id, "searched", agent_id="agent-b", step_id="plan", payload={"city": "Porto"})
    time.sleep(2.2)  # a later second, for the time window
    log(client, mission_id, run_id, "<b>late</b>", agent_id="agent-a", type="tool_call")
    panel = RunPanel(client, mission_id, run_id, refresh_interval=600)
    events = panel.event_log
    try:
        panel.tabs.selected_index = EVENTS

        summaries = {e.event_id: e.summary for e in panel.events}

        def shown() -> list[str]:
            return [summaries[event_id] for _, event_id in events.event_list.options]

        assert shown() == ["<b>late</b>", "searched", "booked", "Run pending -> running"]
        events.search.value = "lisbon"  # only in a payload
        assert shown() == ["booked"] and "1 of 4 events" in events.count.value
        events.search.value = ""
        events.agent_filter.value = "agent-a"
        assert shown() == ["<b>late</b>", "booked"]
        events.step_filter.value = "call"
        assert shown() == ["booked"]
        events.step_filter.value = "__run__"  # the run's own events (no step)
        assert shown() == ["<b>late</b>"]
        events.agent_filter.value, events.step_filter.value = "", ""
        events.type_filter.value = "tool_call"
        assert shown() == ["<b>late</b>"]
        events.type_filter.value = ""
        late = panel.events[-1].timestamp
        assert panel.run is not None
        start = panel.run.started_at
        panel.tabs.selected_index = TIMELINE
        live = LiveGantt(panel.trace)
        on_time_window(live.widget, panel.show_events_between)
        live.widget.layout.xaxis.range = [late - timedelta(seconds=0.2), late + timedelta(seconds=0.2)]
        assert panel.tabs.selected_index == EVENTS  # as a range selected on a Gantt would
        low, high = events.window.value
        assert low <= (late - start).total_seconds() <= high and shown() == ["<b>late</b>"]
        assert events.time_window() == (low, high)
        code = events.code() or ""
        assert f"start={low!r}, end={high!r}" in code and "trace.find(" in code
        events.set_time_window(None)
        assert events.time_window() is None and len(shown()) == 4
        events.event_list.value = events.event_list.options[0][1]
        assert (
            "<b>late</b>" in events.event_detail.value
            and panel.events[-1].event_id in events.event_detail.value
        )
        assert "&lt;b&gt;" not in events.event_list.options[0][0]  # option labels are text, not HTML
    finally:
        panel.close()


def test_the_events_tab_lists_the_newest_matches_only(client: missionlab.Client) -> None:
    mission_id, run_id = external_run(client, events=MAX_SHOWN + 5)
    panel = RunPanel(client, mission_id, run_id, refresh_interval=600)
    try:
        panel.tabs.selected_index = EVENTS
        options = panel.event_log.event_list.options
        assert len(options) == MAX_SHOWN and options[0][0].endswith(f"event {MAX_SHOWN + 4}")
        assert f"{MAX_SHOWN + 6:,} of {MAX_SHOWN + 6:,} events (the newest {MAX_SHOWN} listed)" in (
            panel.event_log.count.value
        )
    finally:
        panel.close()


def test_event_lines_name_each_field_and_missing_ones_with_a_dash() -> None:
    """The log's lines, read column-wise (all rows, or some positions), against lines written
    by hand for events with and without a step and an agent."""
    stamp = "2030-05-06T07:08:09Z"
    events = frames.events_frame(
        [
            {
                "event_id": "e1",
                "run_id": "r",
                "type": "tool_call",
                "timestamp": stamp,
                "summary": "a",
                "step_id": "s1",
                "agent_id": "agent-7",
            },
            {"event_id": "e2", "run_id": "r", "type": "status_change", "timestamp": stamp, "summary": "b"},
            {"event_id": "e3", "run_id": "r", "type": "a_new_type", "timestamp": stamp, "summary": "c" * 300},
        ]
    )
    by_hand = [
        ("07:08:09  tool_call       s1                agent-7         a", "e1"),
        ("07:08:09  status_change   -                 -               b", "e2"),
        ("07:08:09  a_new_type      -                 -               " + "c" * 159 + "…", "e3"),
    ]
    assert frame_lines(events) == by_hand
    assert frame_lines(events, [0, 2]) == [by_hand[0], by_hand[2]]
    assert frame_lines(events, [1]) == [by_hand[1]] and frame_lines(events, []) == []


def test_token_usage_and_cost_per_step_in_the_steps_tab_header_and_gantt(
    sandbox: Sandbox, client: missionlab.Client
) -> None:
    mission_id, run_id = external_run(client)
    for tokens, cost, step in ((1200, 0.004, "call"), (300, 0.001, "call"), (50, 0.0005, "plan")):
        usage = {"input_tokens": tokens - 10, "output_tokens": 10, "total_tokens": tokens}
        log(client, mission_id, run_id, "model call", type="tool_result", step_id=step,
            payload={"model": "m", "usage": usage, "cost_usd": cost})  # fmt: skip
    panel = RunPanel(client, mission_id, run_id, refresh_interval=600)
    try:
        assert "1,550 tokens · $0.0055" in panel.header.value
        figure = panel.timeline.figure
        assert figure is not None
        hover = " ".join(str(t.hovertemplate) for t in figure.data)
        assert "total_tokens" in hover and "cost_usd" in hover
        assert "rollup=['payload.usage.total_tokens', 'payload.cost_usd']" in (panel._code() or "")
        panel.tabs.selected_index = STEPS
        table = panel.steps.table.value
        assert "total_tokens" in table and "cost_usd" in table
        assert "<td>1550</td>" in table.replace(".0<", "<") and "<td>1500</td>" in table.replace(".0<", "<")
        assert "1,550 tokens" in panel.steps.summary.value
        log(client, mission_id, run_id, "model call", type="tool_result", step_id="call",
            payload={"usage": {"total_tokens": 450}, "cost_usd": 0.002})  # fmt: skip
        panel.refresh()  # counted from the new events only
        assert "2,000 tokens · $0.0075" in panel.header.value
        assert "<td>2000</td>" in panel.steps.table.value.replace(".0<", "<")
        assert sandbox.store is not None  # an event logged late, sorting before every one held
        late = {
            "type": "tool_result",
            "summary": "late",
            "step_id": "call",
            "timestamp": "2020-01-01T00:00:00Z",
        }
        sandbox.store.log_event(mission_id, run_id, {**late, "payload": {"usage": {"total_tokens": 100}}})
        panel.refresh()  # all events read again: the late one is counted once, the others not again
        assert "2,100 tokens · $0.0075" in panel.header.value
    finally:
        panel.close()
    mission_id, run_id = external_run(client, events=1)
    plain = RunPanel(client, mission_id, run_id, refresh_interval=600)
    try:
        assert "Usage" not in plain.header.value  # no usage reported: no row, no hover, no column
        plain.tabs.selected_index = STEPS
        assert "total_tokens" not in plain.steps.table.value and "No event" in plain.steps.summary.value
    finally:
        plain.close()


def _figure_json(figure: Any) -> dict[str, Any]:
    """A figure's JSON as plotly writes it, arrays decoded, without what the pane sets itself."""
    from missionlab.figures._figure_patch import decoded

    spec: dict[str, Any] = decoded(json.loads(figure.to_json()))
    spec["layout"] = {k: v for k, v in spec["layout"].items() if k not in ("width", "autosize")}
    return spec


def test_a_refreshed_gantt_equals_a_gantt_drawn_afresh(
    client: missionlab.Client, front_end: FrontEnd
) -> None:
    """After refreshes that bring new events, steps that change status and new steps, the
    figure the browser holds (the pane's JSON: what it was sent whole, changed by every patch
    since) is the figure ``gantt()`` draws afresh for the same trace at the same moment."""
    mission_id, run_id = external_run(client, events=30)
    runs = client.missions.runs
    panel = RunPanel(client, mission_id, run_id, refresh_interval=600)
    try:
        drawn_whole = panel.timeline.outputs
        news = partial(log, client, mission_id, run_id)
        step = partial(runs.plan.update_step, mission_id=mission_id, run_id=run_id)
        added = [
            {"step_id": "book", "description": "Book", "sequence": 3},
            {"step_id": "pay", "description": "Pay", "sequence": 4},
        ]
        cycles: list[Callable[[], object]] = [
            partial(news, "calling search", type="tool_call", step_id="call", payload={"tool": "search"}),
            partial(step, "plan", status="in_progress"),
            partial(
                news,
                "search failed",
                type="tool_result",
                step_id="call",
                payload={"tool": "search", "ok": False},
            ),
            partial(step, "call", status="in_progress"),
            partial(runs.plan.add_steps_to_plan, run_id, mission_id=mission_id, steps=added),
            partial(step, "call", status="completed"),
            partial(news, "a note", step_id="book"),
            # from here on, the same traces: changed in place
            partial(news, "calling book", type="tool_call", step_id="book", payload={"tool": "book"}),
            partial(step, "book", status="in_progress"),
            partial(news, "another note", step_id="pay"),
        ]
        patched = []
        for change in cycles:
            change()
            log(client, mission_id, run_id, "news", step_id="plan")
            front_end.take()
            panel.refresh()
            assert panel.trace is not None
            redrawn = panel.timeline.outputs is not drawn_whole
            drawn_whole = panel.timeline.outputs
            patched.append(not redrawn)
            assert_shown_as_drawn_afresh(panel)
        assert patched[-4:] == [True] * 4  # new events, a step that changed status: not drawn anew
    finally:
        panel.close()


def assert_shown_as_drawn_afresh(panel: RunPanel) -> None:
    """The figure the browser holds is what ``gantt()`` draws afresh for the panel's trace at
    the moment of the panel's last build."""
    assert panel.trace is not None
    fresh = panel.trace.gantt(now=panel.gantt_builder.now, rollup=list(panel.usage) or None)
    shown = {k: v for k, v in (panel.timeline._spec or {}).items() if k != "config"}
    expected = _figure_json(fresh)
    assert shown["data"] == expected["data"]
    layout = {k: v for k, v in shown["layout"].items() if k not in ("width", "autosize")}
    assert layout == expected["layout"]


def test_a_gantt_refreshed_from_its_last_build_equals_one_drawn_afresh_as_steps_change(
    client: missionlab.Client, front_end: FrontEnd
) -> None:
    """The Gantt reuses what it drew from unchanged steps (bars, labels, failed attempts,
    plan drift) and draws a running step's bar to each refresh's moment: after every refresh
    (new events only, with a step running across several; a step that changes status midway;
    step events that time a step; the plan's metadata changing; steps added) the figure the
    browser holds is what ``gantt()`` draws afresh."""
    mission_id, run_id = external_run(client, events=20)
    runs = client.missions.runs
    news = partial(log, client, mission_id, run_id)
    step = partial(runs.plan.update_step, mission_id=mission_id, run_id=run_id)
    search = {"tool": "search"}
    cycles: list[Callable[[], object]] = [
        partial(step, "plan", status="in_progress"),
        partial(news, "calling search", type="tool_call", step_id="call", payload=search),
        partial(news, "no answer", step_id="call"),  # the plan step runs on: its bar grows
        partial(news, "search failed", type="tool_result", step_id="call", payload={**search, "ok": False}),
        partial(news, "more", step_id="plan"),
        partial(step, "plan", status="failed"),  # a status change midway through the events
        partial(news, "after the failure", step_id="plan"),
        partial(news, "call starts", type="step_started", step_id="call"),  # timed by its events
        partial(news, "still running", step_id="call"),
        partial(step, "call", metadata={"note": "changed <plan>"}),  # the plan changes
        partial(news, "unchanged plan again", step_id="call"),
        partial(
            runs.plan.add_steps_to_plan,
            run_id,
            mission_id=mission_id,
            steps=[{"step_id": "late", "description": "Added late", "sequence": 5}],
        ),
        partial(news, "calling search again", type="tool_call", step_id="late", payload=search),
        partial(step, "late", status="in_progress"),
        partial(news, "late runs", step_id="late"),
        partial(news, "late runs on", step_id="late"),
    ]
    panel = RunPanel(client, mission_id, run_id, refresh_interval=600)
    try:
        versions = []
        for change in cycles:
            change()
            front_end.take()
            panel.refresh()
            assert panel.trace is not None
            versions.append(panel.trace.steps_version)
            assert_shown_as_drawn_afresh(panel)
        # the steps were reused between the changes and built afresh at each
        built_afresh = [number for number, (a, b) in enumerate(pairwise(versions), 2) if b > a]
        assert built_afresh == [6, 8, 10, 12, 14]  # the changes to the steps, counted from 1
    finally:
        panel.close()


class FailingGets(httpx.BaseTransport):
    """httpx's transport, answering 503 to the GETs whose path ends with ``failing`` (when set)."""

    def __init__(self) -> None:
        self.inner = httpx.HTTPTransport()
        self.failing: str | None = None

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if self.failing and request.method == "GET" and request.url.path.endswith(self.failing):
            return httpx.Response(503, json={"errors": [{"detail": "busy, try again"}]}, request=request)
        return self.inner.handle_request(request)

    def close(self) -> None:
        self.inner.close()


@pytest.mark.parametrize("failing", ["run", "/plan", "/events"])
def test_a_refresh_failing_midway_says_so_and_loses_nothing(sandbox: Sandbox, failing: str) -> None:
    """One of a refresh's three requests fails (the run's, made in the refreshing thread, or the
    plan's or the events', made in the pool): the panel says so inline and keeps what it showed;
    the next refresh brings every new event once, and the Gantt a fresh build draws."""
    transport = FailingGets()
    with sandbox.client(transport=transport, max_retries=0) as client:
        mission_id, run_id = external_run(client, events=120)
        panel = RunPanel(client, mission_id, run_id, refresh_interval=600)
        try:
            assert panel.trace is not None
            held = [event.event_id for event in panel.events]
            for number in range(3):
                log(client, mission_id, run_id, f"news {number}", step_id="call")
            transport.failing = run_id if failing == "run" else failing
            panel.refresh()  # raises nothing
            assert panel.notice.text == "Refresh failed (503): busy, try again"
            assert [event.event_id for event in panel.events] == held  # nothing half taken
            transport.failing = None
            panel.refresh()
            assert panel.notice.text == ""
            ids = [event.event_id for event in panel.events]
            assert ids[: len(held)] == held and len(set(ids)) == len(ids) == len(held) + 3
            assert [event.summary for event in panel.events[-3:]] == ["news 0", "news 1", "news 2"]
            fresh = load_run(client, mission_id, run_id)
            assert panel.trace.events == list(fresh.events) and panel.trace.steps == fresh.steps
            expected = _figure_json(panel.trace.gantt(now=panel.gantt_builder.now))
            shown = panel.timeline._spec or {}
            assert shown["data"] == expected["data"]
        finally:
            panel.close()
