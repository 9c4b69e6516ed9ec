"""Each panel's "Show code" snippet, executed, gives the data the panel shows; a displayed
panel leaves a static snapshot for notebooks opened without a kernel."""

from __future__ import annotations

import ast
import html
from collections.abc import Iterator
from typing import Any

import pandas as pd
import pytest
from IPython.core.interactiveshell import InteractiveShell
from IPython.utils.capture import capture_output

import missionlab
from missionlab.sandbox import Sandbox
from missionlab.widgets import Explorer, MissionsPanel, RunPanel, RunsPanel
from missionlab.widgets.code import events_code, missions_code, runs_code


@pytest.fixture(scope="module")
def client() -> Iterator[missionlab.Client]:
    with Sandbox(demo=True) as sandbox:
        yield sandbox.client()


def run_snippet(code: str, client: missionlab.Client) -> Any:
    """Execute a snippet as a notebook cell would, with ``client`` defined: its last value."""
    tree = ast.parse(code)
    *body, last = tree.body
    assert isinstance(last, ast.Expr), "a snippet ends in the expression that shows the view"
    namespace: dict[str, Any] = {"client": client}
    exec(compile(ast.Module(body, type_ignores=[]), "<snippet>", "exec"), namespace)
    return eval(compile(ast.Expression(last.value), "<snippet>", "eval"), namespace)


def shown_code(view: Any) -> str:
    """The snippet as the user sees it under "Show code" (unescaped from its HTML)."""
    view.code.toggle.value = True
    text = view.code.code.value
    assert '<pre class="missionlab-code">' in text
    return html.unescape(text.split('<pre class="missionlab-code">', 1)[1].rsplit("</pre>", 1)[0])


def test_the_missions_snippet_gives_the_missions_found(client: missionlab.Client) -> None:
    panel = MissionsPanel(client)
    panel.search.value = "ASSIST"  # as typed: the search ignores case
    frame = run_snippet(shown_code(panel), client)
    assert frame["mission_id"].tolist() == [m.mission_id for m in panel.found]
    assert panel.found and all("assist" in m.name.lower() for m in panel.found)
    assert len(run_snippet(missions_code(""), client)) == len(panel.missions)


@pytest.mark.parametrize("status", [None, "failed"])
def test_the_runs_snippet_gives_the_page_on_screen(client: missionlab.Client, status: str | None) -> None:
    travel = next(m for m in client.missions.list().data if m.name.startswith("Travel"))
    panel = RunsPanel(client, travel.mission_id, page_size=10)
    try:
        panel.status.value = status or ""
        panel.pager.next_button.click()
        frame = run_snippet(shown_code(panel), client)
        assert frame["run_id"].tolist() == [r.run_id for r in panel.runs] and len(frame) == 10
        shown = panel.frame()["status"].str.split(" · ").str[0]  # "running · stale" is a running run
        assert frame["status"].astype(str).tolist() == shown.tolist()
        recent = run_snippet(runs_code(None, status, 1, 5), client)  # recent runs of all missions
        assert len(recent) == 5 and recent["mission_id"].nunique() >= 1
    finally:
        panel.close()


def test_each_run_view_has_a_snippet_that_gives_its_data(client: missionlab.Client) -> None:
    travel = next(m for m in client.missions.list().data if m.name.startswith("Travel"))
    runs = client.missions.runs.list(travel.mission_id, status="failed", page_size=2).data
    good = client.missions.runs.list(travel.mission_id, status="succeeded", page_size=1).data[0]
    client.missions.runs.telnyx_agents.link(
        runs[0].run_id, mission_id=travel.mission_id, telnyx_agent_id="a-1"
    )
    panel = RunPanel(client, travel.mission_id, runs[0].run_id)
    try:
        # timeline: the same Gantt
        figure = run_snippet(shown_code(panel), client)
        shown = panel.timeline.figure
        assert shown is not None
        assert [t.name for t in figure.data] == [t.name for t in shown.data]
        assert [len(t.y) for t in figure.data] == [len(t.y) for t in shown.data]
        assert figure.layout.yaxis.ticktext == shown.layout.yaxis.ticktext

        # events, filtered as on screen, newest first
        panel.tabs.selected_index = 1
        log = panel.event_log
        log.type_filter.value = "tool_call"
        frame = run_snippet(shown_code(panel), client)
        shown = [event_id for _, event_id in log.event_list.options]
        assert frame["event_id"].tolist() == shown and len(frame) > 0
        step = next(step for step in log.filtered()["step_id"] if isinstance(step, str))
        log.type_filter.value, log.step_filter.value, log.search.value = "", step, "  "
        low, high = log.window.min, log.window.max
        log.window.value = (low, (low + high) // 2)
        frame = run_snippet(shown_code(panel), client)
        assert frame["event_id"].tolist() == [event_id for _, event_id in log.event_list.options]
        assert panel.trace is not None
        assert 0 < len(frame) < len(panel.trace.find(step=step))
        code = events_code(travel.mission_id, runs[0].run_id, step="__run__", text='say "hi"')
        assert run_snippet(code, client).empty  # quotes in what was typed stay valid Python

        # steps, with the tokens and cost the model calls report
        panel.tabs.selected_index = 2
        table = run_snippet(shown_code(panel), client)
        assert table["step_id"].tolist() == [s.step_id for s in panel.trace.steps]
        assert {"total_tokens", "cost_usd"} <= set(table.columns) and table["total_tokens"].sum() > 0

        # diagnosis
        panel.tabs.selected_index = 3
        findings = run_snippet(shown_code(panel), client)
        pd.testing.assert_frame_equal(findings, panel.trace.diagnose())

        # compare: nothing to reproduce until a run is picked
        panel.tabs.selected_index = 4
        assert "Nothing on screen" in panel.code.code.value
        assert good.run_id in [value for _, value in panel.compare.choice.options]
        panel.compare.choice.value = good.run_id
        panel.compare.compare_button.click()
        compared = run_snippet(shown_code(panel), client)
        assert panel.compare.figure.figure is not None
        assert [t.name for t in compared.data] == [t.name for t in panel.compare.figure.figure.data]
        assert [list(t.x) for t in compared.data] == [list(t.x) for t in panel.compare.figure.figure.data]

        # agents
        panel.tabs.selected_index = 5
        agents = run_snippet(shown_code(panel), client)
        assert agents["telnyx_agent_id"].tolist() == list(panel.agents.agent_list.options) == ["a-1"]
    finally:
        panel.close()


def test_a_displayed_explorer_leaves_a_static_snapshot(client: missionlab.Client) -> None:
    InteractiveShell.instance()
    explorer = Explorer(client, refresh_interval=60)
    try:
        with capture_output() as captured:
            explorer._ipython_display_()
        live, snapshot = captured.outputs
        assert "application/vnd.jupyter.widget-view+json" in live.data
        assert "text/plain" not in live.data  # no "<missionlab Explorer: ...>" in saved notebooks
        body = snapshot.data["text/html"]
        marker = f'data-missionlab-snapshot="{explorer.snapshot_id}"'
        assert marker in body and "run the cell for the live" in body
        assert "<table>" in body and html.escape(explorer.missions.shown[0].name) in body
        # while the live explorer is on the page, its stylesheet hides the copy
        assert marker in explorer.children[0].value and "display: none" in explorer.children[0].value

        explorer.missions.table.selected_rows = [0]
        explorer.runs.table.selected_rows = [0]
        with capture_output() as captured:
            explorer.update_snapshot()
        (update,) = captured.outputs
        assert explorer.run_panel is not None
        assert explorer.run_panel.run_id in update.data["text/html"]  # the run on screen
        assert "Runs of" in update.data["text/html"]
    finally:
        explorer.close()
