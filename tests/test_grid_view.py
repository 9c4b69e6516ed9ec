"""The explorer's Grid tab, in the kernel: drawn when shown, a run of the grid opened in the
run panel (by the picker, or by a click the browser sends), errors shown in the tab."""

from __future__ import annotations

import html
from typing import Any

import missionlab
from missionlab.sandbox import Sandbox
from missionlab.widgets import Explorer
from tests.conftest import unique


def mission_with_runs(client: Any, name: str, plans: list[list[str]]) -> tuple[Any, list[str]]:
    """A new mission with a run per plan (the step ids given, in order); the runs' ids."""
    mission = client.missions.create(name=unique(name), execution_mode="external").data
    ids = []
    for plan in plans:
        run = client.missions.runs.create(mission.mission_id).data
        steps = [{"step_id": s, "description": f"Step {s}", "sequence": i} for i, s in enumerate(plan, 1)]
        client.missions.runs.plan.create(run.run_id, mission_id=mission.mission_id, steps=steps)
        ids.append(run.run_id)
    return mission, ids


def test_the_grid_tab_draws_the_mission_and_opens_a_run(sandbox: Sandbox) -> None:
    client = sandbox.client()
    mission, ids = mission_with_runs(client, "grid tab", [["a", "b"], ["a", "c"]])
    explorer = Explorer(client, refresh_interval=3600)
    try:
        explorer.missions.select(
            explorer.missions.missions[[m.name for m in explorer.missions.missions].index(mission.name)]
        )
        assert explorer.grid.data is None  # nothing fetched while the Run tab is shown
        explorer.tabs.selected_index = 1
        data = explorer.grid.data
        assert data is not None and list(data.runs["run_id"]) == ids
        assert data.steps == ["a", "b", "c"]  # b, of the older plan only, right after a
        figure = explorer.grid.figure.figure
        assert figure is not None and figure.layout.meta["runs"] == ids
        assert [value for _, value in explorer.grid.picker.options] == ids[::-1]  # newest first
        explorer.grid.picker.value = ids[0]
        explorer.grid.open_button.click()
        assert explorer.tabs.selected_index == 0
        assert explorer.run_panel is not None and explorer.run_panel.run is not None
        assert explorer.run_panel.run.run_id == ids[0]
        assert explorer.grid.notice.text == ""
    finally:
        explorer.close()


def test_errors_show_in_the_tab(sandbox: Sandbox) -> None:
    client = sandbox.client()
    explorer = Explorer(client, refresh_interval=3600)
    try:
        explorer.grid.show_mission("<b>gone</b>")
        explorer.tabs.selected_index = 1
        assert explorer.grid.notice.text.startswith("Drawing the grid failed: invalid argument `mission`")
        assert html.escape("'<b>gone</b>'") in explorer.grid.notice.value  # escaped
        mission = client.missions.create(name=unique("no runs"), execution_mode="external").data
        explorer.grid.show_mission(mission.mission_id)
        explorer.grid.load()
        assert explorer.grid.notice.text == "This mission has no runs yet."
        assert explorer.grid.open_button.disabled
        explorer.grid.open_run("00000000-0000-4000-8000-000000000000")
        assert explorer.grid.notice.text.startswith("Opening the run failed (404)")
    finally:
        explorer.close()


def test_grid_is_public() -> None:
    assert missionlab.grid.__module__ == "missionlab.figures.grid"


def browser_click(explorer: Explorer, point: Any) -> None:
    """A click on the grid as the browser sends it: a custom message on the patcher's comm."""
    message = {"kind": "missionlab-figure-click", "point": point}
    explorer.grid.figure.patcher._handle_msg(
        {"content": {"data": {"method": "custom", "content": message}}, "buffers": []}
    )


def test_a_click_on_a_cell_opens_its_run(sandbox: Sandbox) -> None:
    client = sandbox.client()
    mission, ids = mission_with_runs(client, "grid click", [["a", "b"], ["a", "c"], ["a"]])
    explorer = Explorer(client, refresh_interval=3600)
    try:
        assert explorer.grid.figure.patcher.clicks  # the browser is asked to send clicks
        explorer.missions.select(
            explorer.missions.missions[[m.name for m in explorer.missions.missions].index(mission.name)]
        )
        explorer.tabs.selected_index = 1
        figure = explorer.grid.figure.figure
        assert figure is not None
        cells = next(t for t in figure.data if t.meta == "grid:cells")
        # a cell of the middle run, with the customdata plotly gives a clicked heatmap point
        row = figure.layout.meta["steps"].index("b")
        browser_click(
            explorer,
            {
                "trace": 0,
                "meta": "grid:cells",
                "x": 0,
                "y": row,
                "customdata": list(cells.customdata[row][0]),
            },
        )
        assert explorer.tabs.selected_index == 0
        assert explorer.run_panel is not None and explorer.run_panel.run is not None
        assert explorer.run_panel.run.run_id == ids[0]
        assert explorer.grid.picker.value == ids[0]  # the keyboard's way follows
        assert f"run {ids[0][:8]} is open below, in the Run tab" in explorer.runs.hint.value
        # a cell without customdata (an empty one of a run's column): its column says the run
        explorer.tabs.selected_index = 1
        browser_click(explorer, {"trace": 0, "meta": "grid:cells", "x": 2, "y": row, "customdata": None})
        assert explorer.run_panel.run.run_id == ids[2] and explorer.tabs.selected_index == 0
        # what names no run of the grid opens nothing, raises nothing, says nothing
        shown = explorer.run_panel
        explorer.tabs.selected_index = 1
        for point in (
            {"meta": "grid:cells", "x": 3, "customdata": None},  # beyond the last run
            {"meta": "grid:cells", "x": 0.5},
            {"meta": "grid:cells", "x": True},
            {"meta": "legend:failed", "x": 1},
            {"customdata": ["00000000-0000-4000-8000-000000000000", "x"]},  # not a run of the grid
            {"customdata": [{"<b>": 1}], "x": "<b>1</b>"},
        ):
            browser_click(explorer, point)
        for junk in ("text", None, ["missionlab-figure-click"]):
            explorer.grid.figure.patcher._handle_msg(
                {
                    "content": {
                        "data": {
                            "method": "custom",
                            "content": {"kind": "missionlab-figure-click", "point": junk},
                        }
                    },
                    "buffers": [],
                }
            )
        assert explorer.run_panel is shown and explorer.tabs.selected_index == 1
        assert explorer.grid.notice.text == ""
        # the mission deleted since the grid was drawn: said in the tab, nothing raised
        client.missions.delete_mission(mission.mission_id)
        browser_click(explorer, {"meta": "grid:cells", "x": 1, "customdata": None})
        assert explorer.grid.notice.text.startswith("Opening the run failed (404)")
        assert explorer.run_panel is shown
    finally:
        explorer.close()
