"""The missions panel, the runs panel, and the explorer that composes every panel."""

from __future__ import annotations

import html
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import ipywidgets as w
import pandas as pd

from .._client import Client
from .._display import html_fields, short_text
from ..models import Mission, Run, mission_in
from ..types import RunStatus
from ._common import Notice, reporting
from .forms import MissionForm, StartRunForm
from .run_panel import RunPanel
from .tables import SelectableTable

MISSION_TABLE = ["name", "mode", "model", "created", "runs", "last run"]
RUN_TABLE = ["run", "status", "started", "duration", "summary"]


def _when(value: Any) -> str:
    return value.strftime("%Y-%m-%d %H:%M") if value is not None else ""


class MissionsPanel(w.VBox):
    """Missions in a searchable, paged table; the selected one's details and actions.

    ``on_select(mission)`` is called when a mission is selected (``None`` when the
    selection goes away, e.g. after a delete).
    """

    def __init__(self, client: Client, *, on_select: Callable[[Mission | None], Any] | None = None) -> None:
        self.client = client
        self.on_select = on_select
        self.missions: list[Mission] = []
        self.shown: list[Mission] = []
        self.selected: Mission | None = None
        self.search = w.Text(
            placeholder="Search missions by name or description",
            continuous_update=False,
            layout=w.Layout(width="50%"),
        )
        self.search.observe(lambda _: self._filter(), "value")
        self.refresh_button = w.Button(description="Reload", icon="refresh")
        self.new_button = w.Button(description="New mission", icon="plus")
        self.edit_button = w.Button(description="Edit", icon="edit", disabled=True)
        self.clone_button = w.Button(description="Clone", icon="copy", disabled=True)
        self.delete_button = w.Button(
            description="Delete", icon="trash", disabled=True, button_style="danger"
        )
        self.refresh_button.on_click(lambda _: self.reload())
        self.new_button.on_click(lambda _: self._open_form(None))
        self.edit_button.on_click(lambda _: self._open_form(self.selected))
        self.clone_button.on_click(lambda _: self.clone())
        self.delete_button.on_click(lambda _: self._ask_delete())
        self.notice = Notice()
        self.table = SelectableTable(pd.DataFrame(columns=MISSION_TABLE), self._select_row)
        self.details = w.HTML()
        self.form_box = w.VBox()
        self.confirm_box = w.HBox()
        super().__init__(
            [
                w.HBox([self.search, self.refresh_button, self.new_button]),
                self.notice,
                self.table,
                w.HBox([self.edit_button, self.clone_button, self.delete_button]),
                self.confirm_box,
                self.form_box,
                self.details,
            ]
        )
        self.add_class("missionlab-missions-panel")
        self.reload()

    def __repr__(self) -> str:
        return f"<MissionsPanel: {len(self.missions)} missions>"

    def reload(self) -> None:
        """Fetch every mission (with run counts and last status) and show them."""
        with reporting(self.notice, "Loading missions", self.refresh_button):
            self.notice.info("Loading missions…")
            self.missions = self.client.missions.list(page_size=1000).fetch_all()
            self._stats = self._run_stats(self.missions)
            self.notice.clear()
            self._filter()

    def _run_stats(self, missions: list[Mission]) -> dict[str, tuple[int, str]]:
        runs = self.client.missions.runs

        def stats(mission: Mission) -> tuple[str, tuple[int, str]]:
            page = runs.list(mission.mission_id, page_size=1)
            total = page.meta.total_results if page.meta else len(page.data)
            last = str(page.data[0].status) if page.data else ""
            return mission.mission_id, (total, last)

        with ThreadPoolExecutor(8) as pool:
            return dict(pool.map(stats, missions))

    def _filter(self) -> None:
        needle = self.search.value.strip().lower()
        self.shown = [
            m
            for m in self.missions
            if not needle or needle in m.name.lower() or needle in (m.description or "").lower()
        ]
        rows = [
            {
                "name": m.name,
                "mode": str(m.execution_mode),
                "model": m.model or "",
                "created": _when(m.created_at),
                "runs": self._stats.get(m.mission_id, (0, ""))[0],
                "last run": self._stats.get(m.mission_id, (0, ""))[1],
            }
            for m in self.shown
        ]
        self.table.show(pd.DataFrame(rows, columns=MISSION_TABLE))

    def _select_row(self, index: int) -> None:
        self.select(self.shown[index])

    def select(self, mission: Mission | None) -> None:
        """Show ``mission``'s details (fetched with its tools, KBs and MCP servers)."""
        self.selected = mission
        for button in (self.edit_button, self.clone_button, self.delete_button):
            button.disabled = mission is None
        self.confirm_box.children = ()
        if mission is None:
            self.details.value = ""
        else:
            with reporting(self.notice, "Loading the mission"):
                full = self.client.missions.retrieve(mission.mission_id).data
                self.details.value = mission_details_html(full)
        if self.on_select is not None:
            self.on_select(mission)

    def _open_form(self, mission: Mission | None) -> None:
        self.form_box.children = (
            MissionForm(self.client, mission, on_saved=self._saved, on_cancel=self._close_form),
        )

    def _close_form(self) -> None:
        self.form_box.children = ()

    def _saved(self, mission: Mission) -> None:
        self._close_form()
        self.reload()
        self.notice.info(f"Saved mission {mission.name}")
        self.select(next((m for m in self.missions if m.mission_id == mission.mission_id), mission))

    def clone(self) -> Mission | None:
        if self.selected is None:
            return None
        with reporting(self.notice, "Clone mission", self.clone_button):
            clone = mission_in(self.client.missions.clone_mission(self.selected.mission_id))
            self.reload()
            if clone is None:  # the API documents no answer: {} is allowed
                self.notice.info(f"Cloned mission {self.selected.name}")
                return None
            self.notice.info(f"Cloned into {clone.name}")
            self.select(clone)
            return clone
        return None

    def _ask_delete(self) -> None:
        if self.selected is None:
            return
        yes = w.Button(description="Delete it", button_style="danger")
        no = w.Button(description="Keep it")
        yes.on_click(lambda _: self.delete())
        no.on_click(lambda _: setattr(self.confirm_box, "children", ()))
        question = w.Label(value=f"Delete {self.selected.name!r} with all its runs?")
        self.confirm_box.children = (question, yes, no)

    def delete(self) -> None:
        """Delete the selected mission (the Delete button asks first)."""
        if self.selected is None:
            return
        with reporting(self.notice, "Delete mission", self.delete_button):
            name = self.selected.name
            self.client.missions.delete_mission(self.selected.mission_id)
            self.confirm_box.children = ()
            self.reload()
            self.select(None)
            self.notice.info(f"Deleted {name}")


def mission_details_html(mission: Mission) -> str:
    """An escaped summary of a mission, with its tools, knowledge bases and MCP servers."""
    extra = mission.model_extra or {}
    rows = [
        ("Description", mission.description),
        ("Instructions", mission.instructions),
        ("Model", mission.model),
        ("Mode", str(mission.execution_mode)),
        ("Metadata", mission.metadata),
    ]
    for key, label in (
        ("tools", "Tools"),
        ("knowledge_bases", "Knowledge bases"),
        ("mcp_servers", "MCP servers"),
    ):
        items = extra.get(key) or []
        names = [str(i.get("name") or next(iter(i.values()), "")) for i in items]
        rows.append((label, ", ".join(names)))
    return f"<div><b>{html.escape(mission.name)}</b>{html_fields(rows, 600)}</div>"


class RunsPanel(w.VBox):
    """The runs of a mission (or recent runs of all missions), newest first, by status.

    ``on_open(run)`` is called when a run is selected.
    """

    def __init__(
        self,
        client: Client,
        mission_id: str | None = None,
        *,
        page_size: int = 20,
        on_open: Callable[[Run], Any] | None = None,
    ) -> None:
        self.client = client
        self.mission_id = mission_id
        self.page_size = page_size
        self.on_open = on_open
        self.page_number = 1
        self.total_pages = 0
        self.runs: list[Run] = []
        self.status = w.Dropdown(
            description="Status", options=[("all", "")] + [(s.value, s.value) for s in RunStatus], value=""
        )
        self.status.observe(lambda _: self.load(1), "value")
        self.prev_button = w.Button(description="Newer", icon="arrow-left")
        self.next_button = w.Button(description="Older", icon="arrow-right")
        self.refresh_button = w.Button(description="Refresh", icon="refresh")
        self.prev_button.on_click(lambda _: self.load(self.page_number - 1))
        self.next_button.on_click(lambda _: self.load(self.page_number + 1))
        self.refresh_button.on_click(lambda _: self.load(self.page_number))
        self.page_label = w.Label(layout=w.Layout(min_width="110px"))
        self.notice = Notice()
        self.table = SelectableTable(pd.DataFrame(columns=RUN_TABLE), self._select_row)
        super().__init__(
            [
                w.HBox(
                    [self.status, self.prev_button, self.page_label, self.next_button, self.refresh_button]
                ),
                self.notice,
                self.table,
            ]
        )
        self.add_class("missionlab-runs-panel")
        self.load(1)

    def __repr__(self) -> str:
        return f"<RunsPanel: page {self.page_number} of {max(self.total_pages, 1)}>"

    def show_mission(self, mission_id: str | None) -> None:
        self.mission_id = mission_id
        self.load(1)

    def load(self, page_number: int) -> None:
        """Show one page of runs (1 is the newest)."""
        runs = self.client.missions.runs
        status = self.status.value or None
        with reporting(self.notice, "Loading runs", self.refresh_button):
            if self.mission_id is None:
                page = runs.list_runs(
                    status=status, page_number=max(1, page_number), page_size=self.page_size
                )
            else:
                page = runs.list(
                    self.mission_id, status=status, page_number=max(1, page_number), page_size=self.page_size
                )
            self.runs = page.data
            self.page_number = max(1, page_number)
            self.total_pages = page.meta.total_pages if page.meta else self.page_number
            frame = page.to_frame()
            self.table.show(
                pd.DataFrame(
                    {
                        "run": frame["run_id"].str.slice(0, 8),
                        "status": frame["status"].astype(str),
                        "started": frame["started_at"].dt.strftime("%Y-%m-%d %H:%M:%S"),
                        "duration": frame["duration_s"].map(_duration),
                        "summary": (
                            frame["error"]
                            .fillna(frame["result_summary"])
                            .fillna("")
                            .map(lambda s: short_text(s, 80))
                        ),
                    },
                    columns=RUN_TABLE,
                )
            )
            self.notice.clear()
        self.prev_button.disabled = self.page_number <= 1
        self.next_button.disabled = self.page_number >= self.total_pages
        self.page_label.value = f"page {self.page_number} of {max(self.total_pages, 1)}"

    def _select_row(self, index: int) -> None:
        if self.on_open is not None and index < len(self.runs):
            self.on_open(self.runs[index])


def _duration(seconds: float) -> str:
    if seconds != seconds:
        return ""
    if seconds < 60:
        return f"{seconds:.0f} s"
    return f"{seconds / 60:.1f} min" if seconds < 3600 else f"{seconds / 3600:.1f} h"


class Explorer(w.VBox):
    """Missions, their runs, a start-run form and the selected run, in one panel."""

    def __init__(self, client: Client, *, refresh_interval: float = 3.0) -> None:
        self.client = client
        self.refresh_interval = refresh_interval
        self.run_panel: RunPanel | None = None
        self.runs = RunsPanel(client, on_open=self.open_run)
        self.start_form = StartRunForm(client, on_started=self.open_run)
        self.missions = MissionsPanel(client, on_select=self._mission_selected)
        self.run_box = w.VBox()
        self.runs_title = w.HTML("<h3>Recent runs</h3>")
        super().__init__(
            [
                w.HTML("<h3>Missions</h3>"),
                self.missions,
                self.runs_title,
                w.HBox([self.runs, self.start_form]),
                w.HTML("<h3>Run</h3>"),
                self.run_box,
            ]
        )
        self.add_class("missionlab-explorer")

    def __repr__(self) -> str:
        return f"<missionlab Explorer: {len(self.missions.missions)} missions>"

    def _mission_selected(self, mission: Mission | None) -> None:
        self.start_form.mission_id = mission.mission_id if mission else None
        title = f"Runs of {mission.name}" if mission else "Recent runs"
        self.runs_title.value = f"<h3>{html.escape(title)}</h3>"
        self.runs.show_mission(mission.mission_id if mission else None)

    def open_run(self, run: Run) -> RunPanel:
        """Show ``run`` in the run panel (closing the one shown before)."""
        if self.run_panel is not None:
            self.run_panel.close()
        self.run_panel = RunPanel(
            self.client, run.mission_id, run.run_id, refresh_interval=self.refresh_interval
        )
        self.run_box.children = (self.run_panel,)
        self.runs.load(self.runs.page_number)
        return self.run_panel

    def close(self) -> None:
        if self.run_panel is not None:
            self.run_panel.close()
        super().close()


def browse(client: Client | None = None, **kwargs: Any) -> Explorer:
    """The explorer; without a client, :func:`missionlab.connect` picks one."""
    if client is None:
        from .._connect import connect

        client = connect()
    return Explorer(client, **kwargs)
