"""Headless widget tests against the sandbox: click buttons, set values, read traits."""

from __future__ import annotations

import html
import threading
import time
from collections.abc import Iterator
from typing import Any

import ipywidgets as w
import plotly.graph_objects as go
import pytest

import missionlab
from missionlab.sandbox import Sandbox
from missionlab.widgets import Explorer, MissionsPanel, RunPanel, RunsPanel, StartRunForm

from .conftest import unique, wait_for

QUICK_PLAN = {
    "plan": [
        {"step_id": "one", "description": "Step one", "duration": 3, "tools": ["t.a"]},
        {"step_id": "two", "description": "Step two", "duration": 3},
        {"step_id": "three", "description": "Step three", "duration": 3},
    ]
}


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(demo=True, speed=4) as sb:
        yield sb


@pytest.fixture
def client(sandbox: Sandbox) -> missionlab.Client:
    return sandbox.client()


def all_text(widget: w.Widget) -> str:
    """Every value a widget tree shows, as the browser would receive it."""
    parts: list[str] = []

    def visit(node: Any) -> None:
        for name in ("value", "description", "placeholder", "options", "_dt_args"):
            value = getattr(node, name, None)
            if value is not None:
                parts.append(str(value))
        for child in getattr(node, "children", ()):
            visit(child)

    visit(widget)
    return "\n".join(parts)


def test_explorer_start_steer_and_watch_a_run(client: missionlab.Client) -> None:
    mission = client.missions.create(
        name=unique("widget managed"), execution_mode="managed", metadata=QUICK_PLAN
    ).data
    explorer = Explorer(client, refresh_interval=0.3)
    try:
        names = [m.name for m in explorer.missions.shown]
        explorer.missions.table.selected_rows = [names.index(mission.name)]
        assert explorer.missions.selected.mission_id == mission.mission_id
        assert html.escape(mission.name) in explorer.missions.details.value
        assert explorer.start_form.mission_id == mission.mission_id

        explorer.start_form.input.area.value = '{"city": "Lisbon"}'
        explorer.start_form.start_button.click()
        panel = explorer.run_panel
        assert panel is not None and panel.run.input == {"city": "Lisbon"}
        assert panel.run_id in [r.run_id for r in explorer.runs.runs]  # in the runs list

        wait_for(lambda: not panel.pause_button.disabled)  # what the user sees: it runs
        assert panel.run.status == "running" and panel.resume_button.disabled
        assert not panel.cancel_button.disabled and panel.refreshing
        bars_before = sum(len(t.x) for t in panel.gantt.widget.data if isinstance(t, go.Bar))
        wait_for(
            lambda: sum(len(t.x) for t in panel.gantt.widget.data if isinstance(t, go.Bar)) > bars_before
        )  # the Gantt gains bars

        panel.pause_button.click()
        assert panel.run.status == "paused"
        assert panel.pause_button.disabled and not panel.resume_button.disabled
        panel.pause_button.click()  # a 409, shown inline
        assert "Pause failed (409)" in panel.notice.text and "paused" in panel.notice.text
        panel.resume_button.click()
        assert panel.run.status == "running" and not panel.pause_button.disabled
        panel.cancel_button.click()
        assert panel.run.status == "cancelled"
        assert panel.pause_button.disabled and panel.resume_button.disabled
        assert panel.cancel_button.disabled
        wait_for(lambda: not panel.refreshing, 5)  # stops refreshing once finished
        assert {str(s.status) for s in panel.trace.steps} <= {"completed", "skipped"}
    finally:
        explorer.close()


def test_event_log_filters_and_details(client: missionlab.Client) -> None:
    run = client.missions.runs.list_runs(status="succeeded", page_size=5).data[0]
    panel = RunPanel(client, run.mission_id, run.run_id)
    try:
        assert not panel.refreshing  # a finished run is not refreshed
        everything = len(panel.event_list.options)
        assert everything == len(panel.events) > 0
        panel.type_filter.value = "step_started"
        shown = [panel.events[i] for _, i in panel.event_list.options]
        assert shown and all(e.type == "step_started" for e in shown)
        step_id = shown[0].step_id
        panel.type_filter.value = ""
        panel.step_filter.value = step_id
        assert all(panel.events[i].step_id == step_id for _, i in panel.event_list.options)
        panel.step_filter.value = "__run__"
        assert all(panel.events[i].step_id is None for _, i in panel.event_list.options)
        panel.step_filter.value = ""
        panel.event_list.value = panel.event_list.options[0][1]
        assert panel.events[panel.event_list.value].event_id in panel.event_detail.value
    finally:
        panel.close()


def test_link_and_unlink_agents(client: missionlab.Client) -> None:
    mission = client.missions.create(name=unique("agents")).data
    run = client.missions.runs.create(mission.mission_id).data
    panel = RunPanel(client, mission.mission_id, run.run_id, refresh_interval=60)
    try:
        panel.link_button.click()
        assert "enter a telnyx_agent_id" in panel.notice.text
        panel.agent_id.value = "voice-agent-1"
        panel.link_button.click()
        assert panel.agent_list.options == ("voice-agent-1",)
        panel.agent_list.value = "voice-agent-1"
        panel.unlink_button.click()
        assert panel.agent_list.options == ()
    finally:
        panel.close()


def test_start_form_rejects_invalid_json_and_keeps_the_text(client: missionlab.Client) -> None:
    mission = client.missions.create(name=unique("form")).data
    started: list[Any] = []
    form = StartRunForm(client, mission.mission_id, on_started=started.append)
    form.input.area.value = '{"broken": '
    form.metadata.area.value = "[1, 2]"
    form.start_button.click()
    assert started == []
    assert "Invalid JSON" in form.input.message.value
    assert "Must be a JSON object" in form.metadata.message.value
    assert form.input.area.value == '{"broken": '  # nothing lost
    assert client.missions.runs.list(mission.mission_id).data == []  # nothing sent
    form.input.area.value = '{"ok": true}'
    form.metadata.area.value = ""
    form.start_button.click()
    assert len(started) == 1 and started[0].input == {"ok": True}
    assert form.input.message.value == ""


def test_mission_create_edit_clone_delete(client: missionlab.Client) -> None:
    panel = MissionsPanel(client)
    name = unique("crud panel")
    panel.new_button.click()
    form = panel.form_box.children[0]
    form.name.value = name
    form.metadata.area.value = "{bad"
    form.save_button.click()
    assert "Fix the metadata JSON" in form.notice.text and form.name.value == name
    form.metadata.area.value = '{"team": "qa"}'
    form.mode.value = "managed"
    form.save_button.click()
    created = panel.selected
    assert created.name == name and created.metadata == {"team": "qa"}
    assert name in [m.name for m in panel.shown]

    panel.edit_button.click()
    form = panel.form_box.children[0]
    assert form.name.value == name
    form.description.value = "edited"
    form.save_button.click()
    assert client.missions.retrieve(created.mission_id).data.description == "edited"

    panel.search.value = name
    assert [m.name for m in panel.shown] == [name]
    panel.clone_button.click()
    clone = panel.selected
    assert clone.mission_id != created.mission_id and clone.name == f"{name} (copy)"

    panel.delete_button.click()
    assert "Delete" in all_text(panel.confirm_box)
    assert client.missions.retrieve(clone.mission_id)  # not deleted until confirmed
    panel.confirm_box.children[1].click()
    assert panel.selected is None
    with pytest.raises(missionlab.NotFoundError):
        client.missions.retrieve(clone.mission_id)
    panel.search.value = ""
    assert clone.mission_id not in [m.mission_id for m in panel.missions]


def test_runs_panel_filters_and_pages(client: missionlab.Client) -> None:
    opened: list[Any] = []
    panel = RunsPanel(client, on_open=opened.append, page_size=10)
    assert len(panel.runs) == 10 and panel.prev_button.disabled
    starts = [r.started_at for r in panel.runs]
    assert starts == sorted(starts, reverse=True)  # newest first
    panel.next_button.click()
    assert panel.page_number == 2 and not panel.prev_button.disabled
    panel.status.value = "failed"
    assert panel.page_number == 1 and all(r.status == "failed" for r in panel.runs)
    panel.table.selected_rows = [2]
    assert opened == [panel.runs[2]]


def test_readable_errors_for_404_and_a_stopped_server() -> None:
    sandbox = Sandbox().start()
    client = sandbox.client(max_retries=0)
    mission = client.missions.create(name="soon gone").data
    run = client.missions.runs.create(mission.mission_id).data
    panel = RunPanel(client, mission.mission_id, run.run_id, refresh_interval=60)
    client.missions.delete_mission(mission.mission_id)
    panel.refresh_button.click()
    assert panel.notice.text == f"Refresh failed (404): Mission {mission.mission_id} not found"
    sandbox.stop()
    panel.cancel_button.click()
    assert panel.notice.text.startswith("Cancel failed: cannot reach the API")
    missing = RunPanel(client, mission.mission_id, run.run_id)
    assert "Loading the run failed: cannot reach the API" in missing.notice.text
    panel.close()
    missing.close()


def test_no_refresh_thread_outlives_its_closed_panel(client: missionlab.Client) -> None:
    mission = client.missions.create(
        name=unique("threads"),
        execution_mode="managed",
        metadata={"plan": [{"step_id": "slow", "description": "Slow", "duration": 600}]},
    ).data
    before = {t for t in threading.enumerate() if t.name == "missionlab-refresh"}
    panels = [
        RunPanel(
            client,
            mission.mission_id,
            client.missions.runs.create(mission.mission_id).data.run_id,
            refresh_interval=0.1,
        )
        for _ in range(3)
    ]
    assert all(p.refreshing for p in panels)
    time.sleep(0.3)
    for panel in panels:
        panel.close()
    after = {t for t in threading.enumerate() if t.name == "missionlab-refresh"}
    assert after <= before
    assert not any(p.refreshing for p in panels)
    explorer = Explorer(client, refresh_interval=0.1)
    explorer.open_run(client.missions.runs.create(mission.mission_id).data)
    first = explorer.run_panel
    explorer.open_run(client.missions.runs.create(mission.mission_id).data)
    assert not first.refreshing  # replaced panels stop too
    explorer.close()
    assert {t for t in threading.enumerate() if t.name == "missionlab-refresh"} <= before


PAYLOADS = [
    '<img src=x onerror="window.__xss=1">',
    "<script>alert(1)</script>",
    '<a href="javascript:alert(1)">click</a>',
    "</script><script>alert(2)</script>",
]


@pytest.mark.parametrize("payload", PAYLOADS)
def test_server_strings_render_as_text_in_every_panel(client: missionlab.Client, payload: str) -> None:
    mission = client.missions.create(
        name=payload + unique(""),
        description=payload,
        instructions=payload,
        model=payload,
        metadata={"note": payload},
    ).data
    client.missions.tools.create_tool(mission.mission_id, body={"name": payload})
    run = client.missions.runs.create(mission.mission_id, input={"q": payload}).data
    client.missions.runs.plan.create(
        run.run_id,
        mission_id=mission.mission_id,
        steps=[{"step_id": "s1", "description": payload, "sequence": 1, "metadata": {"x": payload}}],
    )
    client.missions.runs.events.log(
        run.run_id,
        mission_id=mission.mission_id,
        type="message",
        summary=payload,
        step_id="s1",
        agent_id="agent",
        payload={"p": payload},
    )
    client.missions.runs.update(
        run.run_id, mission_id=mission.mission_id, status="failed", error=payload, result_summary=payload
    )
    explorer = Explorer(client, refresh_interval=60)
    try:
        explorer.missions.search.value = mission.name
        explorer.missions.table.selected_rows = [0]
        explorer.open_run(run)
        for html_widget in _html_widgets(explorer):
            value = html_widget.value
            for bad in ("<img", "<script", "</script", "<a href"):
                assert bad not in value, (type(html_widget).__name__, value[:200])
        assert html.escape(payload) in explorer.missions.details.value
        assert html.escape(payload) in explorer.run_panel.header.value
        figure_json = explorer.run_panel.gantt.widget.to_json()
        assert "<img" not in figure_json and "<script" not in figure_json
        # tables are itables widgets, which escape cell contents in the browser
        assert explorer.missions.table._dt_args.get("allow_html") in (None, False)
    finally:
        explorer.close()
        client.missions.delete_mission(mission.mission_id)


def _html_widgets(root: Any) -> Iterator[w.HTML]:
    if isinstance(root, w.HTML | w.HTMLMath):
        yield root
    for child in getattr(root, "children", ()):
        yield from _html_widgets(child)
