"""The explorer's Grid tab, in the kernel: drawn when shown, a run of the grid opened in the
run panel, errors shown in the tab."""

from __future__ import annotations

import html

import missionlab
from missionlab.sandbox import Sandbox
from missionlab.widgets import Explorer
from tests.conftest import unique


def test_the_grid_tab_draws_the_mission_and_opens_a_run(sandbox: Sandbox) -> None:
    client = sandbox.client()
    mission = client.missions.create(name=unique("grid tab"), execution_mode="external").data
    ids = []
    for plan in (["a", "b"], ["a", "c"]):
        run = client.missions.runs.create(mission.mission_id).data
        steps = [{"step_id": s, "description": f"Step {s}", "sequence": i} for i, s in enumerate(plan, 1)]
        client.missions.runs.plan.create(run.run_id, mission_id=mission.mission_id, steps=steps)
        ids.append(run.run_id)
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
