"""The runs panel: a mission's runs (or recent runs of all missions), newest first, paged and
filtered by status on the server, kept current while any of them is active; filtered by label
(kept in each run's metadata, see :meth:`missionlab.RunTrace.label`) in the panel, over every
run of that status, since the API has no label filter."""

from __future__ import annotations

import html
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import ipywidgets as w
import pandas as pd

from .._wire.labels import check_label, labels_of
from ..client._client import Client
from ..client._display import short_text
from ..client.models import Run
from ..frames._durations import duration_text
from ..limits import MAX_PAGE_SIZE
from ..trace import is_active
from ..types import RunStatus
from ._common import Notice, Refresher, button, dropdown, reporting, row
from ._style import ROOT, stylesheet
from .code import CodeView, runs_code
from .pager import Pager
from .snapshot import Snapshot, hide_rule
from .tables import SelectableTable, frame_html

RUN_TABLE = ["run", "status", "started", "duration", "labels", "summary"]
# The labels column is shown only when a run on the page carries one (it takes room at 1,024 px).
# An active run with no update for this long: abandoned by whoever drives it, or waiting on
# something slow (a person's approval). The list of runs cannot tell which: the run's events can.
STALE_AFTER = timedelta(hours=1)
STALE_HINT = (
    "stale: active, but nothing has changed for over an hour (the agent driving it may have "
    "gone away, or it waits on something slow, such as a person's approval); open it to see "
    "its last events, or cancel it."
)


def is_idle(run: Run, now: datetime) -> bool:
    """Active, with no update for more than :data:`STALE_AFTER` (nothing to refresh for)."""
    return is_active(run) and now - run.updated_at > STALE_AFTER


def is_stale(run: Run, now: datetime) -> bool:
    """Pending or running, yet idle: whoever drives it has probably gone (a paused run waits)."""
    return is_idle(run, now) and run.status != "paused"


def run_status(run: Run, now: datetime) -> str:
    """The status as the table shows it: "running · stale", "paused · 4.0 days", "failed"."""
    if is_stale(run, now):
        return f"{run.status} · stale"
    if is_idle(run, now):
        return f"{run.status} · {duration_text((now - run.updated_at).total_seconds())}"
    return str(run.status)


def run_row(run: Run, now: datetime) -> dict[str, str]:
    """How a run reads in the table: its duration so far while active, "stale" when abandoned."""
    end = run.finished_at or now
    seconds = max(0.0, (end - run.started_at).total_seconds())
    active = is_active(run)
    status = run_status(run, now)
    return {
        "run": run.run_id[:8],
        "status": status,
        "started": run.started_at.strftime("%Y-%m-%d %H:%M:%S"),
        "duration": duration_text(seconds) + (" so far" if active else ""),
        "labels": ", ".join(labels_of(run.metadata)),
        "summary": short_text(run.error or run.result_summary or "", 80),
    }


class RunsPanel(Snapshot, w.VBox):
    """The runs of a mission (or recent runs of all missions), newest first, by status.

    One pager: the server pages and filters (status, page size); the table only sorts or
    filters the rows on screen. With a ``label`` typed in, every run of the status is listed
    and only those carrying that label are shown, paged in the panel. While a shown run is
    active (and not stale), the page refreshes itself every ``refresh_interval`` seconds;
    ``close()`` stops that.
    ``on_open(run)`` is called when a run is selected; ``on_refreshed(panel)`` after each load.
    """

    snapshot_title = "the runs panel"

    def __init__(
        self,
        client: Client,
        mission_id: str | None = None,
        *,
        page_size: int = 20,
        refresh_interval: float = 3.0,
        on_open: Callable[[Run], Any] | None = None,
        on_refreshed: Callable[[RunsPanel], Any] | None = None,
    ) -> None:
        self.client = client
        self.mission_id = mission_id
        self.on_open = on_open
        self.on_refreshed = on_refreshed
        self.runs: list[Run] = []
        self.selected_run_id: str | None = None
        self._shown_where: str | None = None
        self._lock = threading.RLock()
        self.status = dropdown("Status", [("all", "")] + [(s.value, s.value) for s in RunStatus], "")
        self.status.observe(lambda _: self.load(1), "value")
        self.label = w.Text(
            description="Label",
            placeholder="any",
            continuous_update=False,
            style={"description_width": "initial"},
            layout=w.Layout(width="14em"),
        )
        self.label.observe(lambda _: self.load(1), "value")
        self.pager = Pager(self.load, page_size=page_size, noun="runs")
        self.refresh_button = button("Refresh", "refresh", tooltip="Fetch this page again")
        self.refresh_button.on_click(lambda _: self.load(self.page_number))
        self.live = w.HTML()
        self.notice = Notice()
        self.table = SelectableTable(
            pd.DataFrame(columns=[c for c in RUN_TABLE if c != "labels"]),
            self._select_row,
            nowrap=["run", "started", "duration"],
            filter_label="Filter the rows on this page:",
        )
        self.hint = w.HTML()
        self.code = CodeView(
            lambda: runs_code(
                self.mission_id,
                self.status.value or None,
                self.page_number,
                self.page_size,
                self.label.value.strip() or None,
            )
        )
        self._refresher = Refresher(self._background_tick, refresh_interval)
        super().__init__(
            [
                stylesheet(hide_rule(self.snapshot_id)),
                row(self.status, self.label, self.refresh_button, self.live),
                self.pager,
                self.notice,
                self.table,
                self.hint,
                self.code,
            ],
            layout=w.Layout(width="100%"),
        )
        self.add_class(ROOT)
        self.add_class("missionlab-runs-panel")
        self.load(1)

    def __repr__(self) -> str:
        return f"<RunsPanel: page {self.page_number} of {max(self.pager.total_pages, 1)}>"

    @property
    def page_number(self) -> int:
        return self.pager.page_number

    @property
    def page_size(self) -> int:
        return self.pager.page_size

    @property
    def refreshing(self) -> bool:
        """Whether the background refresh is running."""
        return self._refresher.alive

    def show_mission(self, mission_id: str | None) -> None:
        self.mission_id = mission_id
        self.selected_run_id = None
        self.load(1)

    def load(self, page_number: int, *, quiet: bool = False) -> None:
        """Show one page of runs (1 is the newest); ``quiet`` for background refreshes."""
        status = self.status.value or None
        page_number = max(1, page_number)
        label = self.label.value.strip()
        with self._lock, reporting(self.notice, "Loading runs", None if quiet else self.refresh_button):
            if label:
                self._load_labelled(label, status, page_number)
            else:
                self._load_page(status, page_number)
            self.notice.clear()
        self._loaded()

    def _load_page(self, status: str | None, page_number: int) -> None:
        """One page of the list, as the server pages and filters it."""
        runs = self.client.missions.runs
        if self.mission_id is None:
            page = runs.list_runs(status=status, page_number=page_number, page_size=self.page_size)
        else:
            page = runs.list(
                self.mission_id, status=status, page_number=page_number, page_size=self.page_size
            )
        self.runs = page.data
        meta = page.meta
        total_pages = meta.total_pages if meta else page_number
        self.pager.set_total(page_number, total_pages, meta.total_results if meta else None)
        self._render()

    def _loaded(self) -> None:
        self.code.refresh()
        if self.on_refreshed is not None:
            self.on_refreshed(self)
        self._sync_refresher()

    def _load_labelled(self, label: str, status: str | None, page_number: int) -> None:
        """The runs carrying ``label``, of every page of the list, paged here (none shown for a
        label that is not valid: the notice says why)."""
        self.runs = []
        self._render()
        label = check_label(label)
        runs = self.client.missions.runs
        if self.mission_id is None:
            first = runs.list_runs(status=status, page_size=MAX_PAGE_SIZE)
        else:
            first = runs.list(self.mission_id, status=status, page_size=MAX_PAGE_SIZE)
        labelled = [run for run in first.fetch_all(progress=False) if label in labels_of(run.metadata)]
        total_pages = max(1, -(-len(labelled) // self.page_size))
        page_number = min(page_number, total_pages)
        start = (page_number - 1) * self.page_size
        self.runs = labelled[start : start + self.page_size]
        self.pager.set_total(page_number, total_pages, len(labelled))
        self._render()

    def refresh(self) -> None:
        """Fetch the page on screen again (what the background refresh does)."""
        self.load(self.page_number, quiet=True)

    def update_run(self, run: Run) -> None:
        """Show ``run``'s new state in its row at once (after an action or a run panel refresh)."""
        with self._lock:
            index = next((i for i, r in enumerate(self.runs) if r.run_id == run.run_id), None)
            if index is None or self.runs[index] == run:
                return
            self.runs[index] = run
            self._render()
        self._sync_refresher()

    def select_run(self, run_id: str | None, *, where: str | None = None) -> None:
        """Highlight a run's row (without opening it); ``where``: where the run is shown, said
        under the list while its row is on the page (the run panel can open out of sight)."""
        self.selected_run_id = run_id
        self._shown_where = where
        self._render()

    def frame(self) -> pd.DataFrame:
        """The rows on screen, as shown (the labels column only when a run has labels)."""
        now = datetime.now(UTC)
        rows = [run_row(r, now) for r in self.runs]
        labelled = any(row["labels"] for row in rows)
        return pd.DataFrame(rows, columns=[c for c in RUN_TABLE if labelled or c != "labels"])

    def _render(self) -> None:
        ids = [r.run_id for r in self.runs]
        selected = ids.index(self.selected_run_id) if self.selected_run_id in ids else None
        self.table.show(self.frame(), selected)
        now = datetime.now(UTC)
        stale = any(is_stale(r, now) for r in self.runs)
        hints = [STALE_HINT] if stale else []
        if selected is not None and self._shown_where:
            run = html.escape(str(self.selected_run_id)[:8])  # as its row shows it
            hints.insert(0, f"&#9660; run {run} is open {html.escape(self._shown_where)}")
        self.hint.value = "".join(f'<div class="missionlab-hint">{h}</div>' for h in hints)

    @property
    def has_live_runs(self) -> bool:
        """Whether a shown run is active and not stale (what keeps the list refreshing)."""
        now = datetime.now(UTC)
        return any(is_active(r) and not is_idle(r, now) for r in self.runs)

    def _background_tick(self) -> bool:
        self.refresh()
        return self.has_live_runs

    def _sync_refresher(self) -> None:
        live = self.has_live_runs
        if live:
            self._refresher.start()
        seconds = self._refresher.interval
        self.live.value = (
            f'<span class="missionlab-hint">● live: refreshing every {seconds:g} s</span>' if live else ""
        )

    def _select_row(self, index: int) -> None:
        if index < len(self.runs):
            self.selected_run_id = self.runs[index].run_id
            if self.on_open is not None:
                self.on_open(self.runs[index])

    def close(self) -> None:
        """Stop refreshing and close the panel's widgets."""
        self._refresher.stop()
        super().close()

    def snapshot_html(self) -> str:
        """The page on screen as static, escaped HTML."""
        return frame_html(self.frame())
