"""Calls of one tool made together in a step still open are calls still waiting, not failed
attempts: not on the run panel's live Gantt, not on ``gantt()``, not in ``diagnose()`` or
``explain()``, until the step (or the run) ends without their results. Each run is driven
through the sandbox as an agent would drive it, and which calls got no result is known from
the request ids put in them."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pandas as pd
import pytest

import missionlab
from missionlab.analysis._attempts import CallLog, Ended
from missionlab.analysis._run_view import RunView
from missionlab.sandbox import Sandbox
from missionlab.widgets import RunPanel

from .conftest import unique

TOOL = "flights.search"


@pytest.fixture(scope="module")
def client(sandbox: Sandbox) -> Iterator[missionlab.Client]:
    with sandbox.client() as c:
        yield c


class Agent:
    """A running run with a plan of two steps, "search" in progress, driven by this test."""

    def __init__(self, client: missionlab.Client) -> None:
        self.client, self.runs = client, client.missions.runs
        missions = client.missions
        self.mission = missions.create(name=unique("fan-out"), execution_mode="external").data.mission_id
        self.run = self.runs.create(self.mission).data.run_id
        self.runs.update(self.run, mission_id=self.mission, status="running")
        steps = [
            {"step_id": "search", "description": "Search flights", "sequence": 1},
            {"step_id": "book", "description": "Book", "sequence": 2},
        ]
        self.runs.plan.create(self.run, mission_id=self.mission, steps=steps)
        self.step("search", "in_progress")

    def step(self, step_id: str, status: str) -> None:
        self.runs.plan.update_step(step_id, mission_id=self.mission, run_id=self.run, status=status)

    def log(self, kind: str, summary: str, payload: dict[str, Any] | None = None) -> None:
        self.runs.events.log(
            self.run, mission_id=self.mission, step_id="search", type=kind, summary=summary, payload=payload
        )

    def fan_out(self, count: int = 3) -> None:
        """``count`` searches at once, none answered yet."""
        for i in range(count):
            self.log("tool_call", f"Calling {TOOL} ({i})", {"tool": TOOL, "request_id": f"req-{i}"})

    def answer(self, *requests: int) -> None:
        for i in requests:
            self.log("tool_result", f"{TOOL} returned", {"tool": TOOL, "request_id": f"req-{i}", "ok": True})

    def trace(self) -> missionlab.RunTrace:
        return missionlab.load_run(self.client, self.mission, self.run)


def _bars(data: list[Any]) -> int:
    """The failed attempts a figure's traces draw."""
    return sum(len(t.get("base", ())) for t in data if t.get("meta") == "attempt:failed")


def _gantt_bars(trace: missionlab.RunTrace) -> int:
    return _bars(json.loads(trace.gantt().to_json())["data"])


def _panel_bars(panel: RunPanel) -> int:
    """The failed attempts of the figure the browser holds (the live Gantt, patched in place)."""
    assert panel.timeline._spec is not None
    return _bars(panel.timeline._spec["data"])


def _findings(trace: missionlab.RunTrace) -> tuple[list[str], list[str]]:
    """The checks diagnose() and explain() find at the moment of the run's last event."""
    now = trace.events_frame["timestamp"].max().to_pydatetime() + timedelta(seconds=1)
    diagnosed = trace.diagnose(now=now)["check"].tolist()
    return diagnosed, [f.kind for f in trace.explain(baseline=False, now=now)]


def _failed(trace: missionlab.RunTrace) -> list[bool]:
    """Which calls failed, in call order, as the findings engine reads them."""
    view = RunView(trace, trace.events_frame["timestamp"].max())
    return view.tool_calls["failed"].tolist()


def test_calls_made_together_in_an_open_step_are_waiting_before_and_after_their_results(
    client: missionlab.Client,
) -> None:
    agent = Agent(client)
    panel = RunPanel(client, agent.mission, agent.run, refresh_interval=600)
    try:
        agent.fan_out()
        panel.refresh()
        trace = agent.trace()
        assert str(trace.run.status) == "running"
        assert _panel_bars(panel) == 0
        assert _gantt_bars(trace) == 0
        assert _failed(trace) == [False, False, False]
        assert _findings(trace) == ([], [])

        agent.answer(2, 0, 1)  # each its own result, in another order
        panel.refresh()
        trace = agent.trace()
        assert _panel_bars(panel) == 0
        assert _gantt_bars(trace) == 0
        assert _failed(trace) == [False, False, False]
        assert _findings(trace) == ([], [])
    finally:
        panel.close()


def _end_the_step_by_plan(agent: Agent) -> None:
    agent.step("search", "completed")


def _end_the_step_by_event(agent: Agent) -> None:  # the plan still says in progress
    agent.log("step_completed", "Search done")


def _end_the_run(agent: Agent) -> None:  # the run ends: the step with it, whatever the plan says
    agent.runs.update(agent.run, mission_id=agent.mission, status="cancelled")


@pytest.mark.parametrize("end", [_end_the_step_by_plan, _end_the_step_by_event, _end_the_run])
def test_a_call_never_answered_fails_once_its_step_ends(client: missionlab.Client, end: Any) -> None:
    agent = Agent(client)
    panel = RunPanel(client, agent.mission, agent.run, refresh_interval=600)
    try:
        agent.fan_out()
        agent.answer(1, 2)  # req-0 is never answered
        panel.refresh()
        trace = agent.trace()
        assert _panel_bars(panel) == _gantt_bars(trace) == 0
        assert _failed(trace) == [False, False, False]

        end(agent)
        panel.refresh()
        trace = agent.trace()
        assert _panel_bars(panel) == 1
        assert _gantt_bars(trace) == 1
        assert _failed(trace) == [True, False, False]
        calls = RunView(trace, trace.events_frame["timestamp"].max()).tool_calls
        assert calls["outcome"].tolist() == ["no result before the next call", "ok", "ok"]
        assert calls["attempt"].tolist() == [1, 2, 1]  # req-1 retried req-0
    finally:
        panel.close()


def test_two_calls_never_answered_make_a_retry_loop_once_their_step_ends(client: missionlab.Client) -> None:
    agent = Agent(client)
    agent.fan_out()
    agent.answer(2)
    assert _failed(agent.trace()) == [False, False, False]
    assert _findings(agent.trace()) == ([], [])
    agent.step("search", "completed")
    trace = agent.trace()
    assert _failed(trace) == [True, True, False]
    assert _findings(trace) == ([], ["retry_loop"])
    assert _gantt_bars(trace) == 2


def test_an_error_in_the_open_step_fails_the_waiting_call_at_once(client: missionlab.Client) -> None:
    agent = Agent(client)
    panel = RunPanel(client, agent.mission, agent.run, refresh_interval=600)
    try:
        agent.fan_out()
        agent.log("error", f"{TOOL} timed out")  # fails the tool's latest call, waiting for its result
        panel.refresh()
        trace = agent.trace()
        assert str(trace.run.status) == "running"
        calls = RunView(trace, trace.events_frame["timestamp"].max()).tool_calls
        assert calls["failed"].tolist() == [False, False, True]
        assert calls["outcome"].tolist() == ["", "", f"{TOOL} timed out"]
        assert _panel_bars(panel) == _gantt_bars(trace) == 1
    finally:
        panel.close()


def test_a_log_read_in_parts_holds_a_waiting_call_until_its_step_ends(client: missionlab.Client) -> None:
    """A CallLog fed the run's events one by one (as the live Gantt feeds it): the calls given
    up for another are waiting while the step is open, and failed on the ended record."""
    agent = Agent(client)
    agent.fan_out()
    agent.answer(2)
    trace = agent.trace()
    events = trace.events_frame.sort_values("timestamp", kind="stable", ignore_index=True)
    log = CallLog(arguments=False)
    for start in range(len(events)):
        log.feed(events.iloc[start : start + 1])
    running = Ended.of(trace.run, trace.steps_frame)
    assert running == Ended(False, frozenset())
    assert log.failed(running).empty
    assert log.frame(ended=running)["failed"].tolist() == [False, False, False]
    assert log.failed()["call_id"].tolist() == log.frame().loc[[0, 1], "call_id"].tolist()
    with_search_ended = Ended(False, frozenset({"search"}))
    pd.testing.assert_frame_equal(log.failed(with_search_ended), log.failed())
