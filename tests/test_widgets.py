"""Headless widget tests against the sandbox: click buttons, set values, read traits."""

from __future__ import annotations

import html
import json
import re
import threading
import time
from collections.abc import Iterator
from typing import Any

import ipywidgets as w
import pytest

import missionlab
from missionlab.sandbox import Sandbox
from missionlab.widgets import Explorer, MissionsPanel, RunPanel, RunsPanel, StartRunForm
from missionlab.widgets.run_views import TYPICAL

from .conftest import unique, wait_for

# three steps of about 7 s each at the sandbox's speed: time to pause, resume and cancel
STEADY_PLAN = {
    "plan": [
        {"step_id": "one", "description": "Step one", "duration": 30, "tools": ["t.a"]},
        {"step_id": "two", "description": "Step two", "duration": 30},
        {"step_id": "three", "description": "Step three", "duration": 30},
    ]
}
QUICK_PLAN = {"plan": [{"step_id": "only", "description": "Only step", "duration": 4}]}


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(demo=True, speed=4) as sb:
        yield sb


@pytest.fixture
def client(sandbox: Sandbox) -> missionlab.Client:
    return sandbox.client()


def refresh_threads() -> set[threading.Thread]:
    return {t for t in threading.enumerate() if t.name == "missionlab-refresh"}


def test_explorer_start_steer_and_watch_a_run(client: missionlab.Client) -> None:
    mission = client.missions.create(
        name=unique("widget managed"), execution_mode="managed", metadata=STEADY_PLAN
    ).data
    explorer = Explorer(client, refresh_interval=0.3)
    try:
        explorer.missions.search.value = mission.name
        explorer.missions.table.selected_rows = [0]
        selected = explorer.missions.selected
        assert selected is not None and selected.mission_id == mission.mission_id
        assert html.escape(mission.name) in explorer.missions.details.value
        assert explorer.start_form.mission_id == mission.mission_id
        assert explorer.missions.frame()["runs"].tolist() == [0]

        explorer.start_form.input.area.value = '{"city": "Lisbon"}'
        explorer.start_form.start_button.click()
        panel = explorer.run_panel
        assert panel is not None and panel.run is not None and panel.run.input == {"city": "Lisbon"}
        assert [r.run_id for r in explorer.runs.runs] == [panel.run_id]  # in the list at once
        assert explorer.missions.frame()["runs"].tolist() == [1]  # and counted
        # the panel opens below the lists, maybe out of sight: the list says where it is
        assert f"run {panel.run_id[:8]} is open below, in the Run tab" in explorer.runs.hint.value
        assert explorer.tabs.selected_index == 0 and explorer.run_box.children == (panel,)

        wait_for(lambda: not panel.pause_button.disabled)  # what the user sees: it runs
        assert panel.run.status == "running" and panel.resume_button.disabled
        assert not panel.cancel_button.disabled and panel.refreshing
        assert panel.cancel_button.button_style == "danger"

        def bars() -> int:
            figure = panel.timeline.figure
            assert figure is not None
            return sum(len(t.x) for t in figure.data if t.type == "bar")

        before = bars()
        wait_for(lambda: bars() > before)  # the Gantt gains bars

        panel.pause_button.click()
        assert panel.run.status == "paused"
        assert explorer.runs.frame()["status"].tolist() == ["paused"]  # the row follows at once
        assert panel.pause_button.disabled and not panel.resume_button.disabled
        panel.pause_button.click()  # a 409, shown inline
        assert "Pause failed (409)" in panel.notice.text and "paused" in panel.notice.text
        panel.resume_button.click()
        assert panel.run.status == "running" and not panel.pause_button.disabled
        panel.cancel_button.click()
        assert panel.run.status == "cancelled"
        assert explorer.runs.frame()["status"].tolist() == ["cancelled"]
        assert explorer.missions.frame()["last run"].tolist() == ["cancelled"]
        assert panel.pause_button.disabled and panel.resume_button.disabled
        assert panel.cancel_button.disabled and panel.cancel_button.button_style == ""  # not red
        wait_for(lambda: not panel.refreshing, 5)  # stops refreshing once finished
        wait_for(lambda: not explorer.runs.refreshing, 5)  # so does the list
        assert panel.trace is not None
        assert {str(s.status) for s in panel.trace.steps} <= {"completed", "skipped"}
    finally:
        explorer.close()


def test_lists_refresh_themselves_while_a_shown_run_is_active(client: missionlab.Client) -> None:
    mission = client.missions.create(
        name=unique("live list"), execution_mode="managed", metadata=QUICK_PLAN
    ).data
    runs = RunsPanel(client, mission.mission_id, refresh_interval=0.2)
    try:
        assert runs.runs == [] and not runs.refreshing
        run = client.missions.runs.create(mission.mission_id).data
        runs.refresh_button.click()
        assert runs.refreshing and "live" in runs.live.value
        wait_for(lambda: runs.frame()["status"].tolist() == ["succeeded"])  # nobody clicked
        wait_for(lambda: not runs.refreshing, 5)  # finished: no more refreshing
        assert runs.live.value == "" and runs.runs[0].run_id == run.run_id
        client.missions.runs.create(mission.mission_id)
        runs.refresh_button.click()
        assert runs.refreshing
    finally:
        runs.close()
    assert not runs.refreshing


def test_stale_runs_read_as_such_and_keep_nothing_refreshing(client: missionlab.Client) -> None:
    stale = next(
        r
        for r in client.missions.runs.list_runs(status="running", page_size=100).data
        if (time.time() - r.updated_at.timestamp()) > 86400
    )  # the demo keeps a few runs whose agent went away
    runs = RunsPanel(client, stale.mission_id)
    try:
        runs.status.value = "running"
        row = runs.frame().iloc[[r.run_id for r in runs.runs].index(stale.run_id)]
        assert row["status"] == "running · stale" and row["duration"].endswith("days so far")
        assert "stale" in runs.hint.value
        assert not runs.has_live_runs or any(r.run_id != stale.run_id for r in runs.runs)
    finally:
        runs.close()
    panel = RunPanel(client, stale.mission_id, stale.run_id, refresh_interval=60)
    try:
        assert "Stale: running with no update for" in panel.header.value
    finally:
        panel.close()


def test_event_log_is_newest_first_filters_searches_and_shows_details(client: missionlab.Client) -> None:
    run = client.missions.runs.list_runs(status="succeeded", page_size=5).data[0]
    panel = RunPanel(client, run.mission_id, run.run_id)
    log = panel.event_log
    try:
        assert not panel.refreshing  # a finished run is not refreshed
        panel.tabs.selected_index = 1
        by_id = {e.event_id: e for e in panel.events}

        def shown() -> list[Any]:
            return [by_id[event_id] for _, event_id in log.event_list.options]

        assert len(shown()) == len(panel.events) > 0
        stamps = [e.timestamp for e in shown()]
        assert stamps == sorted(stamps, reverse=True)  # newest first
        lines = [label for label, _ in log.event_list.options]
        assert len({line.index(str(e.type)) for line, e in zip(lines, shown(), strict=True)}) == 1  # aligned
        assert log.event_detail.value == "" and "Select an event" in log.event_detail.placeholder
        log.type_filter.value = "step_started"
        assert shown() and all(e.type == "step_started" for e in shown())
        step_id = shown()[0].step_id
        word = shown()[0].summary.split()[0].upper()
        log.type_filter.value = ""
        log.step_filter.value = step_id
        assert all(e.step_id == step_id for e in shown())
        log.step_filter.value = "__run__"
        assert all(e.step_id is None for e in shown())
        log.step_filter.value = ""
        log.search.value = word
        assert shown()
        assert all(word.lower() in (e.summary + json.dumps(e.payload)).lower() for e in shown())
        assert f"{len(log.event_list.options)} of {len(panel.events)} events" in log.count.value
        log.event_list.value = log.event_list.options[0][1]
        assert log.event_list.value in log.event_detail.value
    finally:
        panel.close()


class _Explanation:
    def _repr_html_(self) -> str:
        return "<p>explained</p>"


def test_diagnosis_and_compare_use_explain_and_compare_where_traces_have_them(
    client: missionlab.Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    travel = next(m for m in client.missions.list(page_size=100).data if m.name.startswith("Travel"))
    run, other = client.missions.runs.list(travel.mission_id, status="succeeded", page_size=2).data
    panel = RunPanel(client, run.mission_id, run.run_id)
    try:
        assert panel.diagnosis.explanation.value == ""  # not computed until its tab is shown
        panel.tabs.selected_index = 3
        explained = panel.diagnosis.explanation.value  # the trace's own explanation, escaped
        assert (
            'class="missionlab-explain"' in explained and "&#x27;Travel booking assistant&#x27;" in explained
        )
    finally:
        panel.close()
    monkeypatch.setattr(missionlab.RunTrace, "explain", lambda self: _Explanation(), raising=False)
    panel = RunPanel(client, run.mission_id, run.run_id)
    try:
        panel.tabs.selected_index = 3
        assert panel.diagnosis.explanation.value == "<p>explained</p>"
        assert "print(trace.explain())" in (panel.diagnosis.code() or "")
        panel.tabs.selected_index = 4
        compared = panel.compare.compare(other.run_id)
        assert "comparison = trace.compare(other)" in (panel.compare.code() or "")
    finally:
        panel.close()
    # The compare tab draws the comparison: the other run (the baseline) first, then this one.
    assert compared is not None
    assert [bar.name[:8] for bar in compared.data if bar.type == "bar"] == [other.run_id[:8], run.run_id[:8]]

    def broken(self: Any) -> None:
        raise RuntimeError("no baseline")

    monkeypatch.setattr(missionlab.RunTrace, "explain", broken)
    panel = RunPanel(client, run.mission_id, run.run_id)
    try:
        panel.tabs.selected_index = 3  # the error shows in the tab; the panel keeps working
        assert "no baseline" in panel.diagnosis.notice.text
        assert panel.run is not None and panel.notice.text == ""
    finally:
        panel.close()


def test_link_and_unlink_agents(client: missionlab.Client) -> None:
    mission = client.missions.create(name=unique("agents")).data
    run = client.missions.runs.create(mission.mission_id).data
    panel = RunPanel(client, mission.mission_id, run.run_id, refresh_interval=60)
    agents = panel.agents
    try:
        agents.link_button.click()
        assert "enter a telnyx_agent_id" in agents.notice.text
        agents.agent_id.value = "voice-agent-1"
        agents.link_button.click()
        assert agents.agent_list.options == ("voice-agent-1",)
        agents.agent_list.value = "voice-agent-1"
        agents.unlink_button.click()
        assert agents.agent_list.options == ()
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
    assert created is not None and created.name == name and created.metadata == {"team": "qa"}
    assert name in [m.name for m in panel.found]

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
    assert clone is not None and clone.mission_id != created.mission_id and clone.name == f"{name} (copy)"

    panel.delete_button.click()
    question, yes, _ = panel.confirm_box.children
    assert "Delete" in question.value
    assert client.missions.retrieve(clone.mission_id)  # not deleted until confirmed
    yes.click()
    assert panel.selected is None and panel.delete_button.button_style == ""
    with pytest.raises(missionlab.NotFoundError):
        client.missions.retrieve(clone.mission_id)
    panel.search.value = ""
    assert clone.mission_id not in [m.mission_id for m in panel.missions]


def test_one_pager_done_by_the_server(client: missionlab.Client) -> None:
    opened: list[Any] = []
    panel = RunsPanel(client, on_open=opened.append, page_size=10)
    try:
        pager = panel.pager
        total = client.missions.runs.list_runs(page_size=10).meta
        assert total is not None
        assert len(panel.runs) == 10 and pager.prev_button.disabled
        assert pager.label.value == f"page 1 of {total.total_pages} · {total.total_results} runs"
        starts = [r.started_at for r in panel.runs]
        assert starts == sorted(starts, reverse=True)  # newest first
        pager.next_button.click()
        assert panel.page_number == 2 and not pager.prev_button.disabled
        second = client.missions.runs.list_runs(page_number=2, page_size=10).data
        assert [r.run_id for r in panel.runs] == [r.run_id for r in second]
        pager.size.value = 50  # the page size is the server's too
        assert panel.page_number == 1 and len(panel.runs) == 50
        panel.status.value = "failed"
        assert panel.page_number == 1 and all(r.status == "failed" for r in panel.runs)
        # the table has no pager, length menu or "all rows" search of its own
        options = panel.table._dt_args
        assert options["paging"] is False
        assert set(options["layout"].values()) <= {None, "search"}
        assert "on this page" in options["language"]["search"]
        panel.table.selected_rows = [2]
        assert opened == [panel.runs[2]]
    finally:
        panel.close()


def test_missions_page_through_every_search_result(client: missionlab.Client) -> None:
    tag = unique("paged")
    for index in range(7):
        client.missions.create(name=f"{tag} {index}")
    panel = MissionsPanel(client, page_size=5)
    panel.search.value = tag
    assert len(panel.found) == 7 and len(panel.shown) == 5
    assert panel.pager.label.value == "page 1 of 2 · 7 missions"
    panel.pager.next_button.click()
    assert len(panel.shown) == 2 and panel.pager.next_button.disabled


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
    before = refresh_threads()
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
    assert refresh_threads() <= before
    assert not any(p.refreshing for p in panels)
    explorer = Explorer(client, refresh_interval=0.1)
    explorer.missions.search.value = mission.name
    explorer.missions.table.selected_rows = [0]
    assert explorer.runs.refreshing  # its runs are live
    explorer.open_run(client.missions.runs.create(mission.mission_id).data)
    first = explorer.run_panel
    assert first is not None
    explorer.open_run(client.missions.runs.create(mission.mission_id).data)
    assert not first.refreshing  # replaced panels stop too
    explorer.close()
    assert refresh_threads() <= before


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
        assert explorer.run_panel is not None
        explorer.run_panel.tabs.selected_index = 3  # the diagnosis
        explorer.run_panel.code.toggle.value = True
        for html_widget in _html_widgets(explorer):
            value = html_widget.value
            for bad in ("<img", "<script", "</script", "<a href"):
                assert bad not in value, (type(html_widget).__name__, value[:200])
        assert html.escape(payload) in explorer.missions.details.value
        assert html.escape(payload) in explorer.run_panel.header.value
        snapshot = explorer.snapshot_html()
        assert html.escape(payload) in snapshot and "<img" not in snapshot and "<script" not in snapshot
        figure = explorer.run_panel.timeline.figure
        assert figure is not None
        figure_json = figure.to_json()
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


def test_the_diagnosis_tab_of_a_failed_run_says_why_is_told_above(client: missionlab.Client) -> None:
    travel = next(m for m in client.missions.list(page_size=100).data if m.name.startswith("Travel"))
    said = {}
    for status in ("failed", "succeeded"):
        run = client.missions.runs.list(travel.mission_id, status=status, page_size=1).data[0]
        panel = RunPanel(client, run.mission_id, run.run_id)
        try:
            panel.tabs.selected_index = 3
            assert panel.trace is not None and panel.trace.diagnose().empty  # the record is consistent
            said[status] = panel.diagnosis.findings.value
        finally:
            panel.close()
    assert "Nothing looks wrong" not in said["failed"]
    assert "Why the run failed is told above" in said["failed"] and "consistent" in said["failed"]
    assert "Nothing looks wrong with this run" in said["succeeded"]


def test_the_compare_tab_shows_each_step_side_by_side_with_the_typical_run(client: missionlab.Client) -> None:
    travel = next(m for m in client.missions.list(page_size=100).data if m.name.startswith("Travel"))
    failed = client.missions.runs.list(travel.mission_id, status="failed", page_size=100).fetch_all()
    run = failed[-1]  # the oldest: finished long ago
    panel = RunPanel(client, run.mission_id, run.run_id)
    try:
        panel.tabs.selected_index = 4
        view = panel.compare
        assert TYPICAL in [value for _, value in view.choice.options]
        view.choice.value = TYPICAL
        view.compare_button.click()
        assert view.notice.text == "" and view.other is not None
        # the same answer, computed without the widget
        comparison = missionlab.load_run(client, run.mission_id, run.run_id).compare()
        assert view.other.run.run_id == comparison.baseline.run.run_id
        divergence = comparison.divergence
        assert divergence is not None and divergence.kind == "status"
        diff = view.diff.value
        assert html.escape(comparison.reason) in diff
        rows = re.findall(r"<tr[^>]*>(.*?)</tr>", diff.split("<tbody>")[1])
        assert panel.trace is not None and len(rows) == len(panel.trace.steps)
        marked = re.findall(r'<tr class="missionlab-first-divergence"[^>]*>(.*?)</tr>', diff)
        failed_step = next(s for s in panel.trace.steps if s.status == "failed")
        assert len(marked) == 1 and html.escape(failed_step.description or "") in marked[0]
        assert ">failed<" in marked[0] and ">completed<" in marked[0]
        code = view.code() or ""
        assert "comparison = trace.compare()" in code and "load_run(client" in code
    finally:
        panel.close()


def test_the_side_by_side_steps_escape_every_server_string() -> None:
    from missionlab.widgets.run_views import step_diff_html

    from .crafted import craft, event, step
    from .injection import PAYLOADS, markup_of

    steps = [step(f"s{n}", n * 2, n * 2 + 1, sequence=n + 1, description=p) for n, p in enumerate(PAYLOADS)]
    calls = [event(0.5, "tool_call", "s0", payload={"tool": p}) for p in PAYLOADS]
    this = craft(steps, calls, run_id="run-this")
    other = craft(steps, run_id="run-other")
    rendered = step_diff_html(this.compare(other))
    body = rendered.split("<tbody>")[1]
    assert body.count("&lt;script&gt;alert(1)&lt;/script&gt;") == 2  # a step's name and a tool
    for payload in PAYLOADS:
        assert markup_of(rendered, payload) == [], payload
