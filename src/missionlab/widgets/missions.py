"""The missions panel: every mission in a searchable, paged table; the selected one's details,
run counts and actions (create, edit, clone, delete)."""

from __future__ import annotations

import html
from collections.abc import Callable
from typing import Any

import ipywidgets as w
import pandas as pd

from ..client._client import Client
from ..client._display import html_fields
from ..client.counts import RunCount, run_counts
from ..client.models import Mission, mission_in
from ._common import Notice, button, reporting, row
from ._style import ROOT, stylesheet
from .code import CodeView, missions_code
from .forms import MissionForm
from .pager import Pager
from .snapshot import Snapshot, hide_rule
from .tables import SelectableTable, frame_html

MISSION_TABLE = ["name", "mode", "model", "created", "runs", "last run"]


def when(value: Any) -> str:
    """A timestamp as "2024-05-01 14:03" (empty for None)."""
    return value.strftime("%Y-%m-%d %H:%M") if value is not None else ""


class MissionsPanel(Snapshot, w.VBox):
    """Missions in a searchable, paged table; the selected one's details and actions.

    ``on_select(mission)`` is called when a mission is selected (``None`` when the
    selection goes away, e.g. after a delete).
    """

    snapshot_title = "the missions panel"

    def __init__(
        self,
        client: Client,
        *,
        on_select: Callable[[Mission | None], Any] | None = None,
        page_size: int = 10,
    ) -> None:
        self.client = client
        self.on_select = on_select
        self.missions: list[Mission] = []
        self.found: list[Mission] = []  # the missions the search matches
        self.shown: list[Mission] = []  # the page of them on screen
        self.counts: dict[str, RunCount] = {}
        self.selected: Mission | None = None
        self.search = w.Text(
            placeholder="Search all missions by name or description",
            continuous_update=False,
            layout=w.Layout(flex="1 1 240px", width="auto", min_width="0"),
        )
        self.search.observe(lambda _: self.show_page(1), "value")
        self.refresh_button = button("Reload", "refresh", tooltip="Fetch the missions again")
        self.new_button = button("New mission", "plus")
        self.edit_button = button("Edit", "edit", disabled=True)
        self.clone_button = button("Clone", "copy", disabled=True)
        self.delete_button = button("Delete", "trash", disabled=True)
        self.refresh_button.on_click(lambda _: self.reload())
        self.new_button.on_click(lambda _: self._open_form(None))
        self.edit_button.on_click(lambda _: self._open_form(self.selected))
        self.clone_button.on_click(lambda _: self.clone())
        self.delete_button.on_click(lambda _: self._ask_delete())
        self.notice = Notice()
        self.pager = Pager(self.show_page, page_size=page_size, noun="missions", newer=False)
        self.table = SelectableTable(
            pd.DataFrame(columns=MISSION_TABLE),
            self._select_row,
            nowrap=["mode", "created", "runs", "last run"],
        )
        self.details = w.HTML()
        self.form_box = w.VBox(layout=w.Layout(width="100%"))
        self.confirm_box = row()
        self.code = CodeView(lambda: missions_code(self.search.value))
        super().__init__(
            [
                stylesheet(hide_rule(self.snapshot_id)),
                row(self.search, self.refresh_button, self.new_button),
                self.notice,
                self.pager,
                self.table,
                row(self.edit_button, self.clone_button, self.delete_button),
                self.confirm_box,
                self.form_box,
                self.details,
                self.code,
            ],
            layout=w.Layout(width="100%"),
        )
        self.add_class(ROOT)
        self.add_class("missionlab-missions-panel")
        self.reload()

    def __repr__(self) -> str:
        return f"<MissionsPanel: {len(self.missions)} missions>"

    def reload(self) -> None:
        """Fetch every mission (with run counts and last status) and show them."""
        with reporting(self.notice, "Loading missions", self.refresh_button):
            self.notice.info("Loading missions…")
            self.missions = list(self.client.missions.list(page_size=1000).fetch_all())
            self.counts = run_counts(self.client, [m.mission_id for m in self.missions])
            self.notice.clear()
            self.show_page(self.pager.page_number)

    def show_page(self, page_number: int) -> None:
        """Show one page of the missions the search matches."""
        needle = self.search.value.strip().lower()
        self.found = [
            m
            for m in self.missions
            if not needle or needle in m.name.lower() or needle in (m.description or "").lower()
        ]
        size = self.pager.page_size
        pages = max(1, -(-len(self.found) // size))
        page_number = min(max(1, page_number), pages)
        self.shown = self.found[(page_number - 1) * size : page_number * size]
        self.pager.set_total(page_number, pages, len(self.found))
        self._render_table()
        self.code.refresh()

    def frame(self) -> pd.DataFrame:
        """The rows on screen, as shown."""
        rows = []
        for m in self.shown:
            count = self.counts.get(m.mission_id, RunCount(0))
            rows.append(
                {
                    "name": m.name,
                    "mode": str(m.execution_mode),
                    "model": m.model or "",
                    "created": when(m.created_at),
                    "runs": count.total,
                    "last run": count.last_status,
                }
            )
        return pd.DataFrame(rows, columns=MISSION_TABLE)

    def _render_table(self) -> None:
        ids = [m.mission_id for m in self.shown]
        selected = self.selected.mission_id if self.selected else None
        self.table.show(self.frame(), ids.index(selected) if selected in ids else None)

    def update_counts(self, counts: dict[str, RunCount]) -> None:
        """New run counts for some missions (e.g. while their runs are live)."""
        if all(self.counts.get(k) == v for k, v in counts.items()):
            return
        self.counts.update(counts)
        self._render_table()

    def _select_row(self, index: int) -> None:
        self.select(self.shown[index])

    def select(self, mission: Mission | None) -> None:
        """Show ``mission``'s details (fetched with its tools, KBs and MCP servers)."""
        self.selected = mission
        for b in (self.edit_button, self.clone_button, self.delete_button):
            b.disabled = mission is None
        self.delete_button.button_style = "" if mission is None else "danger"
        self.confirm_box.children = ()
        if mission is None:
            self.details.value = ""
        else:
            with reporting(self.notice, "Loading the mission"):
                full = self.client.missions.retrieve(mission.mission_id).data
                self.details.value = mission_details_html(full)
        self._render_table()
        if self.on_select is not None:
            with reporting(self.notice, "Showing the mission's runs"):
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
        yes = button("Delete it", button_style="danger")
        no = button("Keep it")
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
            self.select(None)
            self.reload()
            self.notice.info(f"Deleted {name}")

    def snapshot_html(self) -> str:
        """The table on screen as static, escaped HTML."""
        return frame_html(self.frame())


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
