"""The explorer: missions | runs | run, as a master-detail view that reads on a laptop and uses
a wide screen (the two lists side by side when they fit, the run underneath at full width)."""

from __future__ import annotations

import html
from typing import Any

import ipywidgets as w

from ..client._client import Client
from ..client.counts import run_counts
from ..client.models import Mission, Run
from ..trace import is_active
from ._common import reporting
from ._style import ROOT, stylesheet
from .forms import StartRunForm
from .grid_view import GridView
from .missions import MissionsPanel
from .run_panel import RunPanel, run_header_html
from .runs import RunsPanel
from .snapshot import Snapshot, hide_rule

TABS = ("Run", "Grid")
RUN_HINT = (
    "Select a run in the list, or start one, to see its timeline, events, diagnosis, a comparison "
    "with another run and its agents here."
)


def _title(text: str) -> w.HTML:
    return w.HTML(f"<h3 style='margin:4px 0'>{html.escape(text)}</h3>")


def _column(*children: w.Widget) -> w.VBox:
    box = w.VBox(list(children), layout=w.Layout(min_width="0"))
    box.add_class("missionlab-column")
    return box


class Explorer(Snapshot, w.VBox):
    """Missions, their runs, a start-run form and, in two tabs, the selected run and the
    selected mission's grid of its last runs by plan step (a click on a cell of the grid, or
    its run picker, opens the run in the Run tab).

    While a shown run is active, the runs list, the mission's run counts and the run panel
    refresh themselves every ``refresh_interval`` seconds; ``close()`` stops them.
    """

    snapshot_title = "the missionlab explorer"

    def __init__(self, client: Client, *, refresh_interval: float = 3.0) -> None:
        self.client = client
        self.refresh_interval = refresh_interval
        self.run_panel: RunPanel | None = None
        self.missions = MissionsPanel(client, on_select=self._mission_selected)
        self.runs = RunsPanel(
            client,
            on_open=self.open_run,
            on_refreshed=self._runs_refreshed,
            refresh_interval=refresh_interval,
        )
        self.start_form = StartRunForm(client, on_started=self._started)
        self.runs_title = _title("Recent runs of all missions")
        self.run_box = w.VBox(
            [w.HTML(f'<p class="missionlab-hint">{RUN_HINT}</p>')], layout=w.Layout(width="100%")
        )
        self.grid = GridView(client, on_open=self.open_run)
        self.tabs = w.Tab([self.run_box, self.grid], titles=TABS, layout=w.Layout(width="100%"))
        self.tabs.observe(lambda _: self._tab_changed(), "selected_index")
        columns = w.Box(
            [
                _column(_title("Missions"), self.missions),
                _column(self.runs_title, self.runs, self.start_form),
            ],
            layout=w.Layout(width="100%"),
        )
        columns.add_class("missionlab-columns")
        super().__init__(
            [stylesheet(hide_rule(self.snapshot_id)), columns, self.tabs],
            layout=w.Layout(width="100%"),
        )
        self.add_class(ROOT)
        self.add_class("missionlab-explorer")

    def __repr__(self) -> str:
        return f"<missionlab Explorer: {len(self.missions.missions)} missions>"

    def _mission_selected(self, mission: Mission | None) -> None:
        self.start_form.mission_id = mission.mission_id if mission else None
        title = f"Runs of {mission.name}" if mission else "Recent runs of all missions"
        self.runs_title.value = f"<h3 style='margin:4px 0'>{html.escape(title)}</h3>"
        self.runs.show_mission(mission.mission_id if mission else None)
        self.grid.show_mission(mission.mission_id if mission else None)
        self._tab_changed()
        self.update_snapshot()

    def _tab_changed(self) -> None:
        """The Grid tab draws the selected mission's grid when it is shown."""
        if self.tabs.selected_index == TABS.index("Grid"):
            self.grid.load()

    def _runs_refreshed(self, runs: RunsPanel) -> None:
        """Keep the run counts of the missions on screen current while their runs change."""
        ids = (
            [runs.mission_id]
            if runs.mission_id
            else sorted({r.mission_id for r in runs.runs if is_active(r)})
        )
        if ids:
            with reporting(self.missions.notice, "Counting runs"):  # a refresh thread's callback
                self.missions.update_counts(run_counts(self.client, ids))

    def _run_changed(self, run: Run) -> None:
        """A run panel saw news (or acted): the run's row and its mission's counts follow at once."""
        self.update_snapshot()
        self.runs.update_run(run)
        with reporting(self.missions.notice, "Counting runs"):
            self.missions.update_counts(run_counts(self.client, [run.mission_id]))

    def _started(self, run: Run) -> None:
        self.runs.load(1)  # the new run is the newest
        self.open_run(run)

    def open_run(self, run: Run) -> RunPanel:
        """Show ``run`` in the run panel (closing the one shown before)."""
        if self.run_panel is not None:
            self.run_panel.close()
        self.run_panel = RunPanel(
            self.client,
            run.mission_id,
            run.run_id,
            refresh_interval=self.refresh_interval,
            on_change=self._run_changed,
        )
        self.run_box.children = (self.run_panel,)
        self.tabs.selected_index = TABS.index("Run")
        self.runs.select_run(run.run_id, where="below, in the Run tab")
        if self.run_panel.run is not None:
            self._run_changed(self.run_panel.run)
        self.update_snapshot()
        return self.run_panel

    def close(self) -> None:
        """Stop every refresh and close the widgets."""
        if self.run_panel is not None:
            self.run_panel.close()
        self.runs.close()
        super().close()

    def snapshot_html(self) -> str:
        parts = [
            "<h3>Missions</h3>",
            self.missions.snapshot_html(),
            self.runs_title.value,
            self.runs.snapshot_html(),
        ]
        panel = self.run_panel
        if panel is not None and panel.run is not None and panel.trace is not None:
            mission = panel.trace.mission.name if panel.trace.mission else None
            parts += ["<h3>Run</h3>", run_header_html(panel.run, mission)]
        return "".join(parts)


def browse(client: Client | None = None, **kwargs: Any) -> Explorer:
    """The explorer; without a client, :func:`missionlab.connect` picks one."""
    if client is None:
        from .._connect import connect

        client = connect()
    return Explorer(client, **kwargs)
