"""The run panel: status, times, input and result; pause/resume/cancel; the run's views in tabs
(timeline, events, diagnosis, compare, agents), each with the code that reproduces it.
Refreshes itself while the run is active, in a background thread, fetching only new events.
"""

from __future__ import annotations

import html
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import ipywidgets as w

from .._client import Client
from .._display import badge, html_fields
from ..models import Event, Run
from ..trace import RunTrace, load_run
from ._common import Notice, Refresher, button, reporting, row
from ._style import ROOT, stylesheet
from .code import CodeView, timeline_code
from .run_views import AgentsView, CompareView, DiagnosisView, EventLog, FigurePane
from .runs import is_active, is_idle, is_stale, span
from .snapshot import Snapshot, hide_rule
from .tables import frame_html

EVENTS_PAGE = 1000
TABS = ("Timeline", "Events", "Diagnosis", "Compare", "Agents")


class RunPanel(Snapshot, w.VBox):
    """Everything about one run, kept up to date while it is active.

    ``refresh_interval``: seconds between background refreshes (while the run is
    pending, running or paused). ``close()`` stops refreshing. ``on_change(run)`` is
    called whenever the run's state changes (an action, a refresh that saw news).
    """

    snapshot_title = "the run panel"

    def __init__(
        self,
        client: Client,
        mission_id: str,
        run_id: str,
        *,
        refresh_interval: float = 3.0,
        on_change: Callable[[Run], Any] | None = None,
    ) -> None:
        self.client = client
        self.mission_id = mission_id
        self.run_id = run_id
        self.on_change = on_change
        self._lock = threading.RLock()
        self.notice = Notice()
        self.header = w.HTML()
        self.pause_button = button("Pause", "pause")
        self.resume_button = button("Resume", "play")
        self.cancel_button = button("Cancel", "stop")
        self.refresh_button = button("Refresh", "refresh")
        self.pause_button.on_click(lambda _: self._act("pause_run", "Pause"))
        self.resume_button.on_click(lambda _: self._act("resume_run", "Resume"))
        self.cancel_button.on_click(lambda _: self._act("cancel_run", "Cancel"))
        self.refresh_button.on_click(lambda _: self.refresh())
        self.live = w.HTML()
        self.event_log = EventLog()
        self.diagnosis = DiagnosisView()
        self.compare = CompareView(client)
        self.agents = AgentsView(client, on_change=self.refresh)
        self.timeline = FigurePane()
        self.tabs = w.Tab(
            [self.timeline, self.event_log, self.diagnosis, self.compare, self.agents],
            titles=TABS,
            layout=w.Layout(width="100%"),
        )
        self.tabs.observe(lambda _: self._tab_changed(), "selected_index")
        self.code = CodeView(self._code)
        self.event_log.on_change = self.compare.on_change = self.code.refresh
        self.trace: RunTrace | None = None
        self._refresher = Refresher(self._background_tick, refresh_interval)
        super().__init__(
            [
                stylesheet(hide_rule(self.snapshot_id)),
                self.header,
                row(
                    self.pause_button, self.resume_button, self.cancel_button, self.refresh_button, self.live
                ),
                self.notice,
                self.tabs,
                self.code,
            ],
            layout=w.Layout(width="100%"),
        )
        self.add_class(ROOT)
        self.add_class("missionlab-run-panel")
        with reporting(self.notice, "Loading the run"):
            self._load()
        self._sync_refresher()

    def __repr__(self) -> str:
        status = str(self.run.status) if self.run else "not loaded"
        return f"<RunPanel run {self.run_id} ({status})>"

    # -- loading and refreshing ---------------------------------------------------------------

    @property
    def run(self) -> Run | None:
        return self.trace.run if self.trace else None

    @property
    def events(self) -> list[Event]:
        return list(self.trace.events) if self.trace else []

    @property
    def refreshing(self) -> bool:
        """Whether the background refresh is running."""
        return self._refresher.alive

    def _load(self) -> None:
        self.trace = load_run(self.client, self.mission_id, self.run_id)
        self._render()

    def _fetch_changes(self) -> RunTrace:
        """The run and plan, and only the events after the ones already shown."""
        assert self.trace is not None
        runs = self.client.missions.runs
        run = runs.retrieve(self.run_id, mission_id=self.mission_id).data
        steps = runs.plan.retrieve(self.run_id, mission_id=self.mission_id).data
        known = self.trace.events
        first_page = len(known) // EVENTS_PAGE + 1
        page = runs.events.list(
            self.run_id, mission_id=self.mission_id, page_size=EVENTS_PAGE, page_number=first_page
        )
        fresh = [e for p in page.iter_pages() for e in p.data]
        new = fresh[len(known) - (first_page - 1) * EVENTS_PAGE :]
        agents = runs.telnyx_agents.list(self.run_id, mission_id=self.mission_id).data
        return RunTrace(run, steps, [*known, *new], self.trace.mission, agents)

    def refresh(self) -> None:
        """Fetch what changed and update the panel (the manual Refresh button does this)."""
        with self._lock, reporting(self.notice, "Refresh", self.refresh_button):
            if self.trace is None:
                self._load()
            else:
                before = self.trace.run
                self.trace = self._fetch_changes()
                self._render()
                if self.trace.run != before:
                    self._changed(self.trace.run)
            self.notice.clear()
        self._sync_refresher()

    def _changed(self, run: Run) -> None:
        self.update_snapshot()
        if self.on_change is not None:
            self.on_change(run)

    def snapshot_html(self) -> str:
        """The run's status and its newest events, as static, escaped HTML."""
        if self.trace is None or self.run is None:
            return html.escape(self.notice.text)
        mission = self.trace.mission.name if self.trace.mission else None
        events = self.trace.events_frame[["timestamp", "type", "step_id", "summary"]].iloc[::-1].head(20)
        return run_header_html(self.run, mission) + "<h4>Newest events</h4>" + frame_html(events)

    def _background_tick(self) -> bool:
        self.refresh()
        return self.run is not None and is_active(self.run)

    def _sync_refresher(self) -> None:
        live = self.run is not None and is_active(self.run)
        if live:
            self._refresher.start()
        seconds = self._refresher.interval
        self.live.value = (
            f'<span class="missionlab-hint">● live: refreshing every {seconds:g} s</span>' if live else ""
        )

    def close(self) -> None:
        """Stop refreshing and close the panel's widgets."""
        self._refresher.stop()
        super().close()

    # -- rendering ----------------------------------------------------------------------------

    def _render(self) -> None:
        run = self.run
        if run is None or self.trace is None:
            return
        status = str(run.status)
        self.pause_button.disabled = status != "running"
        self.resume_button.disabled = status != "paused"
        self.cancel_button.disabled = not is_active(run)
        # a disabled "danger" button still looks red, i.e. clickable: only style it when it is
        self.cancel_button.button_style = "" if self.cancel_button.disabled else "danger"
        self.header.value = run_header_html(run, self.trace.mission.name if self.trace.mission else None)
        self.timeline.show(self.trace.gantt())
        self.event_log.show(self.trace)
        self.agents.show(self.trace)
        self._tab_changed()

    def _tab_changed(self) -> None:
        """Bring the tab on screen up to date (the costlier ones are only computed when shown)."""
        if self.trace is None:
            return
        view = self.tabs.children[self.tabs.selected_index or 0]
        if view is self.diagnosis:
            self.diagnosis.show(self.trace)
        elif view is self.compare:
            self.compare.show(self.trace)
        self.code.refresh()

    def _code(self) -> str | None:
        view = self.tabs.children[self.tabs.selected_index or 0]
        if view is self.timeline:
            return timeline_code(self.mission_id, self.run_id)
        code: Callable[[], str | None] = view.code
        return code()

    # -- actions ------------------------------------------------------------------------------

    def _act(self, method: str, label: str) -> None:
        runs = self.client.missions.runs
        with reporting(self.notice, label):
            run = getattr(runs, method)(self.run_id, mission_id=self.mission_id).data
            self._changed(run)  # lists showing this run update at once
            self.notice.info(f"{label}: the run is now {run.status}")
            self._refresh_keeping_notice()

    def _refresh_keeping_notice(self) -> None:
        """Refresh, keeping the action's message unless the refresh itself fails."""
        message = self.notice.value
        self.refresh()
        if not self.notice.text:
            self.notice.value = message


def run_header_html(run: Run, mission_name: str | None, now: datetime | None = None) -> str:
    """The run's status, times and outcome, escaped; an abandoned-looking run says so."""
    now = now or datetime.now(UTC)
    end = run.finished_at or now
    seconds = max(0.0, (end - run.started_at).total_seconds())
    started = f"{run.started_at:%Y-%m-%d %H:%M:%S} UTC ({span((now - run.started_at).total_seconds())} ago)"
    rows = [
        ("Mission", mission_name or run.mission_id),
        ("Run", run.run_id),
        ("Started", started),
        ("Finished", f"{run.finished_at:%Y-%m-%d %H:%M:%S} UTC" if run.finished_at else None),
        ("Duration", span(seconds) + (" so far" if is_active(run) else "")),
        ("Input", run.input),
        ("Result", run.result_summary),
        ("Payload", run.result_payload),
        ("Error", run.error),
    ]
    note, idle = "", span((now - run.updated_at).total_seconds())
    if is_stale(run, now):
        note = (
            f"Stale: {html.escape(str(run.status))} with no update for {idle}. Whoever drives this run "
            "may have stopped; its events show where. Cancel it if it is abandoned."
        )
    elif is_idle(run, now):
        note = f"Paused for {idle}: it waits for someone to resume or cancel it."
    note = f'<div class="missionlab-hint">{note}</div>' if note else ""
    return f"<div>{badge(str(run.status))}{note}{html_fields(rows, 400)}</div>"
