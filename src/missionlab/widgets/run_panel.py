"""The run panel: status, times, input, result and token usage; pause/resume/cancel; the run's
views in tabs (timeline, events, steps, diagnosis, compare, agents), each with the code that
reproduces it. Refreshes itself while the run is active, in a background thread, with
:meth:`~missionlab.trace.RunTrace.refresh` (the run, its plan and only the new events); a refresh
that finds nothing new sends nothing to the browser, and a tab's view is only rebuilt while it is
shown.
"""

from __future__ import annotations

import html
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import ipywidgets as w

from ..client._client import Client
from ..client._display import badge, html_fields
from ..client.models import Event, Run
from ..figures.timeline import GanttBuilder, GanttOptions
from ..frames import events_frame
from ..frames._durations import duration_text
from ..trace import RunTrace, is_active, load_run
from ._common import Notice, Refresher, button, reporting, row
from ._style import ROOT, stylesheet
from .code import CodeView, timeline_code
from .run_views import (
    AgentsView,
    CompareView,
    DiagnosisView,
    EventLog,
    FigurePane,
    StepsView,
    usage_text,
    usage_totals,
)
from .runs import is_idle, is_stale
from .snapshot import Snapshot, hide_rule
from .tables import frame_html

TABS = ("Timeline", "Events", "Steps", "Diagnosis", "Compare", "Agents")


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
        self.refresh_button.on_click(lambda _: self._refresh_clicked())
        self.live = w.HTML()
        self.event_log = EventLog()
        self.diagnosis = DiagnosisView()
        self.compare = CompareView(client)
        self.agents = AgentsView(client, on_change=self._agents_changed)
        self.timeline = FigurePane()
        self.gantt_builder = GanttBuilder(GanttOptions())  # markers built for new events only
        self.steps = StepsView()
        self.tabs = w.Tab(
            [self.timeline, self.event_log, self.steps, self.diagnosis, self.compare, self.agents],
            titles=TABS,
            layout=w.Layout(width="100%"),
        )
        self.tabs.observe(lambda _: self._tab_changed(), "selected_index")
        self.code = CodeView(self._code)
        self.event_log.on_change = self.compare.on_change = self.code.refresh
        self.trace: RunTrace | None = None
        self.usage: dict[str, float] = {}  # the run's token and cost totals, where events report them
        self._shown: dict[int, int] = {}  # tab index -> the change (_version) its view last showed
        self._version = 0  # counts the changes a refresh found
        self._header_state: tuple[bool, bool] = (False, False)  # (idle, stale) when last drawn
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
        self.agents.show(self.trace)  # a refresh does not read the linked agents again
        self._render()

    def refresh(self) -> None:
        """Fetch what changed (:meth:`~missionlab.trace.RunTrace.refresh`: three requests when
        fewer than a page of events is new, only the new events) and update what is on screen;
        the manual Refresh button does this."""
        with self._lock, reporting(self.notice, "Refresh"):
            if self.trace is None:
                self._load()
            else:
                trace = self.trace
                run, steps, count = trace.run, trace.steps, len(trace.events)
                added = trace.refresh(self.client)
                if added or len(trace.events) != count or trace.steps != steps or trace.run != run:
                    self._render(added=added)
                else:
                    self._render_header_if_idle()
                if trace.run != run:
                    self._changed(trace.run)
            self.notice.clear()
        self._sync_refresher()

    def _refresh_clicked(self) -> None:
        with reporting(self.notice, "Refresh", self.refresh_button):
            self.refresh()

    def show_events_between(self, window: tuple[Any, Any] | None) -> None:
        """Show the events of ``window`` (two times, or seconds after the start; None: all) in
        the events tab. A Gantt that reports a selected range can drive it, e.g. a
        :class:`~missionlab.figures.timeline.LiveGantt`'s widget: ``on_time_window(live.widget,
        panel.show_events_between)`` (the panel's own figure is drawn as a plain output,
        which tells Python nothing)."""
        self.event_log.set_time_window(window)
        self.tabs.selected_index = TABS.index("Events")

    def _agents_changed(self) -> None:
        """An agent was linked or unlinked: read the linked agents again (a refresh doesn't)."""
        if self.trace is None:
            return
        with reporting(self.notice, "Reading the linked agents"):
            runs = self.client.missions.runs
            self.trace.agents = runs.telnyx_agents.list(self.run_id, mission_id=self.mission_id).data
            self.agents.show(self.trace)

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

    def _render(self, added: list[Event] | None = None) -> None:
        """Show a trace that changed: the header and buttons now, the tab on screen now, the
        other tabs when they are selected. ``added``: the events a refresh brought (wherever
        they fall in the run's order); the usage of the others is already counted. None:
        count every event."""
        run = self.run
        if run is None or self.trace is None:
            return
        status = str(run.status)
        self.pause_button.disabled = status != "running"
        self.resume_button.disabled = status != "paused"
        self.cancel_button.disabled = not is_active(run)
        # a disabled "danger" button still looks red, i.e. clickable: only style it when it is
        self.cancel_button.button_style = "" if self.cancel_button.disabled else "danger"
        self._version += 1
        if added is None:
            self.usage = usage_totals(self.trace.events_frame)
        elif added:
            frame = self.trace.events_frame
            held = self.trace.events
            # the added events are the frame's last rows unless they came among older ones
            tail = held[len(held) - len(added) :] == added
            new = frame.iloc[len(frame) - len(added) :] if tail else events_frame(added)
            self.usage = usage_totals(new, self.usage)
        self._render_header()
        self._tab_changed()

    def _render_header(self, now: datetime | None = None) -> None:
        assert self.run is not None and self.trace is not None
        now = now or datetime.now(UTC)
        self._header_state = (is_idle(self.run, now), is_stale(self.run, now))
        mission = self.trace.mission.name if self.trace.mission else None
        self.header.value = run_header_html(self.run, mission, now, usage=usage_text(self.usage))

    def _render_header_if_idle(self) -> None:
        """Nothing changed: redraw the header only when the run has just become idle or stale,
        which it says (its clock isn't worth a message every few seconds)."""
        now = datetime.now(UTC)
        if self.run is not None and (is_idle(self.run, now), is_stale(self.run, now)) != self._header_state:
            self._render_header(now)

    def _tab_changed(self) -> None:
        """Bring the tab on screen up to date: each view is rebuilt when it is shown and the
        trace changed since it last was (views not on screen cost nothing)."""
        if self.trace is None:
            return
        index = self.tabs.selected_index or 0
        view = self.tabs.children[index]
        if view is self.compare or self._shown.get(index) != self._version:
            self._shown[index] = self._version
            if view is self.timeline:
                options = GanttOptions(rollup=list(self.usage) or None)
                self.timeline.patch(self.gantt_builder.spec(self.trace, options=options))
            elif view is self.steps:
                self.steps.show(self.trace, self.usage)
            elif view in (self.event_log, self.diagnosis, self.compare):
                view.show(self.trace)
        self.code.refresh()

    def _code(self) -> str | None:
        view = self.tabs.children[self.tabs.selected_index or 0]
        if view is self.timeline:
            return timeline_code(self.mission_id, self.run_id, list(self.usage) or None)
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


def run_header_html(
    run: Run, mission_name: str | None, now: datetime | None = None, *, usage: str | None = None
) -> str:
    """The run's status, times, token usage and outcome, escaped; an abandoned-looking run says so."""
    now = now or datetime.now(UTC)
    end = run.finished_at or now
    seconds = max(0.0, (end - run.started_at).total_seconds())
    ago = duration_text((now - run.started_at).total_seconds())
    started = f"{run.started_at:%Y-%m-%d %H:%M:%S} UTC ({ago} ago)"
    rows = [
        ("Mission", mission_name or run.mission_id),
        ("Run", run.run_id),
        ("Started", started),
        ("Finished", f"{run.finished_at:%Y-%m-%d %H:%M:%S} UTC" if run.finished_at else None),
        ("Duration", duration_text(seconds) + (" so far" if is_active(run) else "")),
        ("Usage", usage),
        ("Input", run.input),
        ("Result", run.result_summary),
        ("Payload", run.result_payload),
        ("Error", run.error),
    ]
    note, idle = "", duration_text((now - run.updated_at).total_seconds())
    if is_stale(run, now):
        note = (
            f"Stale: {html.escape(str(run.status))} with no update for {idle}. Whoever drives this run "
            "may have stopped; its events show where. Cancel it if it is abandoned."
        )
    elif is_idle(run, now):
        note = f"Paused for {idle}: it waits for someone to resume or cancel it."
    note = f'<div class="missionlab-hint">{note}</div>' if note else ""
    return f"<div>{badge(str(run.status))}{note}{html_fields(rows, 400)}</div>"
