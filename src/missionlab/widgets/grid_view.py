"""The explorer's Grid tab: the selected mission's last runs by plan step
(:func:`missionlab.grid`); a click on a cell opens its run in the run panel, and so does the
run picker (the keyboard's way), whose runs are listed as the grid's columns read from the
right (newest first).

The figure is drawn by the notebook's own plotly renderer (as the run panel's are); its
pane's ``FigurePatcher`` sends a click on it to the kernel (``widgets._figure_patcher``).
"""

from __future__ import annotations

import html
from collections.abc import Callable
from typing import Any

import ipywidgets as w
import pandas as pd

from ..client._client import Client
from ..figures.grid import CELLS, LAST, GridData, grid_data, grid_figure
from ._common import Notice, button, dropdown, reporting, row
from .run_views import FigurePane

__all__ = ["GridView"]

GRID_HINT = "Select a mission to see its last runs by plan step here."


class GridView(w.VBox):
    """The last ``last`` runs of a mission by plan step; ``on_open(run)`` opens a run (a
    :class:`~missionlab.Run`). Nothing is fetched until :meth:`load` (the explorer loads the
    grid when its tab is shown)."""

    def __init__(self, client: Client, *, on_open: Callable[[Any], Any], last: int = LAST) -> None:
        self.client = client
        self.on_open = on_open
        self.last = last
        self.mission_id: str | None = None
        self.data: GridData | None = None
        self.loaded_for: str | None = None  # the mission whose grid is on screen
        self.notice = Notice()
        self.hint = w.HTML(f'<p class="missionlab-hint">{html.escape(GRID_HINT)}</p>')
        self.figure = FigurePane()
        self.figure.patcher.on_click(self.clicked)
        self.picker = dropdown("Run", [], None, width="auto")
        self.picker.layout.flex = "1 1 320px"
        self.picker.add_class("missionlab-grid-picker")
        self.open_button = button("Open in the run panel", "external-link", disabled=True)
        self.open_button.on_click(lambda _: self.open_run(self.picker.value))
        self.reload_button = button("Reload", "refresh", tooltip="Fetch the mission's last runs again")
        self.reload_button.on_click(lambda _: self.load(force=True))
        super().__init__(
            [self.hint, self.notice, row(self.picker, self.open_button, self.reload_button), self.figure],
            layout=w.Layout(width="100%"),
        )
        self.add_class("missionlab-grid")

    def __repr__(self) -> str:
        shown = (
            "nothing" if self.data is None else f"{len(self.data.runs)} runs x {len(self.data.steps)} steps"
        )
        return f"<GridView: {shown}>"

    def show_mission(self, mission_id: str | None) -> None:
        """Make ``mission_id`` the grid's mission (drawn at the next :meth:`load`)."""
        self.mission_id = mission_id
        if mission_id is None:
            self.hint.layout.display = None
            self.notice.clear()

    def load(self, *, force: bool = False) -> None:
        """Fetch and draw the mission's grid (again with ``force``; else only when the
        mission changed). Errors are shown in the tab."""
        if self.mission_id is None or (self.loaded_for == self.mission_id and not force):
            return
        with reporting(self.notice, "Drawing the grid", self.reload_button):
            self.notice.info("Fetching the mission's last runs…")
            data = grid_data(self.client, mission=self.mission_id, last=self.last)
            self.data, self.loaded_for = data, self.mission_id
            self.hint.layout.display = "none"
            self.picker.options = _choices(data.runs)
            self.picker.value = self.picker.options[0][1] if self.picker.options else None
            self.open_button.disabled = not self.picker.options
            self.figure.show(grid_figure(data))
            if len(data.runs):
                self.notice.clear()
            else:
                self.notice.info("This mission has no runs yet.")

    def run_at(self, point: dict[str, Any]) -> str | None:
        """The run of the grid on screen whose column holds ``point`` (a clicked point, as the
        browser sent it: the cell's or a drift mark's ``customdata``, whose first item is the
        run id, else a cell's column number ``x``); None when it names no run of the grid."""
        if self.data is None:
            return None
        runs = [str(run) for run in self.data.runs["run_id"]]
        custom = point.get("customdata")
        if isinstance(custom, list) and custom and isinstance(custom[0], str):
            return custom[0] if custom[0] in runs else None
        column = point.get("x")
        if point.get("meta") != CELLS or isinstance(column, bool) or not isinstance(column, int | float):
            return None
        if not float(column).is_integer() or not 0 <= column < len(runs):
            return None
        return runs[int(column)]

    def clicked(self, point: dict[str, Any]) -> None:
        """A click on the grid at ``point`` (see :meth:`run_at`): its run opens in the run
        panel, and the picker shows it."""
        with reporting(self.notice, "Opening the clicked run"):
            run_id = self.run_at(point)
            if run_id is None:
                return
            self.picker.value = run_id
            self.open_run(run_id)

    def open_run(self, run_id: str | None) -> None:
        """Open the run ``run_id`` of the grid in the run panel."""
        if run_id is None or self.mission_id is None:
            return
        with reporting(self.notice, "Opening the run", self.open_button):
            run = self.client.missions.runs.retrieve(run_id, mission_id=self.mission_id).data
            self.on_open(run)


def _choices(runs: pd.DataFrame) -> list[tuple[str, str]]:
    """The picker's runs, newest (the grid's rightmost column) first."""
    starts = pd.to_datetime(runs["started_at"], utc=True)
    choices = []
    for run_id, status, moment in zip(
        runs["run_id"].astype(str), runs["status"].astype(str), starts, strict=True
    ):
        when = "not started" if pd.isna(moment) else moment.strftime("%Y-%m-%d %H:%M")
        choices.append((f"{when} · {status} · {run_id}", run_id))
    return choices[::-1]
