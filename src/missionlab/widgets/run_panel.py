"""The run panel: status, times, input and result; pause/resume/cancel; the live Gantt;
the event log with filters and payload details; linked agents. Refreshes itself while
the run is active, in a background thread, fetching only the new events.
"""

from __future__ import annotations

import json
import threading

import ipywidgets as w

from .._client import Client
from .._display import badge, html_fields, short_text
from ..models import Event, Run
from ..timeline import LiveGantt
from ..trace import RunTrace, load_run
from ._common import Notice, Refresher, reporting

ACTIVE = ("pending", "running", "paused")
EVENTS_PAGE = 1000
GANTT_WIDTH = 900


class RunPanel(w.VBox):
    """Everything about one run, kept up to date while it is active.

    ``refresh_interval``: seconds between background refreshes (while the run is
    pending, running or paused). ``close()`` stops refreshing.
    """

    def __init__(
        self, client: Client, mission_id: str, run_id: str, *, refresh_interval: float = 3.0
    ) -> None:
        self.client = client
        self.mission_id = mission_id
        self.run_id = run_id
        self._lock = threading.RLock()
        self.notice = Notice()
        self.header = w.HTML()
        self.pause_button = w.Button(description="Pause", icon="pause")
        self.resume_button = w.Button(description="Resume", icon="play")
        self.cancel_button = w.Button(description="Cancel", icon="stop", button_style="danger")
        self.refresh_button = w.Button(description="Refresh", icon="refresh")
        self.pause_button.on_click(lambda _: self._act("pause_run", "Pause"))
        self.resume_button.on_click(lambda _: self._act("resume_run", "Resume"))
        self.cancel_button.on_click(lambda _: self._act("cancel_run", "Cancel"))
        self.refresh_button.on_click(lambda _: self.refresh())
        # event log
        self.type_filter = w.Dropdown(description="Type", options=[("all", "")], value="")
        self.step_filter = w.Dropdown(description="Step", options=[("all", "")], value="")
        self.event_list = w.Select(options=[], rows=10, layout=w.Layout(width="100%"))
        self.event_detail = w.Textarea(disabled=True, layout=w.Layout(width="100%", height="120px"))
        self.type_filter.observe(lambda _: self._show_events(), "value")
        self.step_filter.observe(lambda _: self._show_events(), "value")
        self.event_list.observe(lambda _: self._show_event_detail(), "value")
        # linked agents
        self.agent_list = w.Select(options=[], rows=3, description="Agents")
        self.agent_id = w.Text(placeholder="telnyx_agent_id", description="Agent id")
        self.link_button = w.Button(description="Link", icon="link")
        self.unlink_button = w.Button(description="Unlink selected", icon="unlink")
        self.link_button.on_click(lambda _: self._link())
        self.unlink_button.on_click(lambda _: self._unlink())

        self.trace: RunTrace | None = None
        self.events: list[Event] = []
        self.gantt: LiveGantt | None = None
        self.gantt_box = w.Box(layout=w.Layout(width="100%"))
        self._refresher = Refresher(self._background_tick, refresh_interval)
        super().__init__(
            [
                self.header,
                w.HBox([self.pause_button, self.resume_button, self.cancel_button, self.refresh_button]),
                self.notice,
                self.gantt_box,
                w.HTML("<b>Events</b>"),
                w.HBox([self.type_filter, self.step_filter]),
                self.event_list,
                self.event_detail,
                w.HTML("<b>Linked Telnyx agents</b>"),
                self.agent_list,
                w.HBox([self.agent_id, self.link_button, self.unlink_button]),
            ]
        )
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
    def refreshing(self) -> bool:
        """Whether the background refresh is running."""
        return self._refresher.alive

    def _load(self) -> None:
        trace = load_run(self.client, self.mission_id, self.run_id)
        self.trace = trace
        self.events = list(trace.events)
        self.gantt = LiveGantt(trace)
        self.gantt.widget.layout.width = GANTT_WIDTH  # a widget does not size to its cell
        self.gantt_box.children = (self.gantt.widget,)
        self._render()

    def _fetch_changes(self) -> RunTrace:
        """The run and plan, and only the events after the ones already shown."""
        runs = self.client.missions.runs
        run = runs.retrieve(self.run_id, mission_id=self.mission_id).data
        steps = runs.plan.retrieve(self.run_id, mission_id=self.mission_id).data
        known = len(self.events)
        first_page = known // EVENTS_PAGE + 1
        page = runs.events.list(
            self.run_id, mission_id=self.mission_id, page_size=EVENTS_PAGE, page_number=first_page
        )
        fresh = [e for p in page.iter_pages() for e in p.data]
        new = fresh[known - (first_page - 1) * EVENTS_PAGE :]
        assert self.trace is not None
        return RunTrace(run, steps, self.events + new, self.trace.mission, self.trace.agents)

    def refresh(self) -> None:
        """Fetch what changed and update the panel (the manual Refresh button does this)."""
        with self._lock, reporting(self.notice, "Refresh", self.refresh_button):
            if self.trace is None:
                self._load()
            else:
                trace = self._fetch_changes()
                agents = self.client.missions.runs.telnyx_agents.list(
                    self.run_id, mission_id=self.mission_id
                ).data
                trace.agents = agents
                self.trace = trace
                self.events = list(trace.events)
                if self.gantt is not None:
                    self.gantt.update(trace)
                self._render()
            self.notice.clear()
        self._sync_refresher()

    def _background_tick(self) -> bool:
        self.refresh()
        return self.run is not None and self.run.status in ACTIVE

    def _sync_refresher(self) -> None:
        if self.run is not None and self.run.status in ACTIVE:
            self._refresher.start()

    def close(self) -> None:
        """Stop refreshing and close the panel's widgets."""
        self._refresher.stop()
        if self.gantt is not None:
            self.gantt.widget.close()
        super().close()

    # -- rendering ----------------------------------------------------------------------------

    def _render(self) -> None:
        run = self.run
        if run is None:
            return
        status = str(run.status)
        self.pause_button.disabled = status != "running"
        self.resume_button.disabled = status != "paused"
        self.cancel_button.disabled = status not in ACTIVE
        mission = self.trace.mission if self.trace else None
        rows = [
            ("Mission", mission.name if mission else run.mission_id),
            ("Run", run.run_id),
            ("Started", run.started_at),
            ("Finished", run.finished_at),
            ("Input", run.input),
            ("Result", run.result_summary),
            ("Payload", run.result_payload),
            ("Error", run.error),
        ]
        self.header.value = f"<div>{badge(status)}{html_fields(rows, 400)}</div>"
        self._render_filters()
        self._show_events()
        agents = self.trace.agents if self.trace else []
        self.agent_list.options = [a.telnyx_agent_id for a in agents]

    def _render_filters(self) -> None:
        types = sorted({str(e.type) for e in self.events})
        steps = [s.step_id for s in (self.trace.steps if self.trace else [])]
        _set_options(self.type_filter, [("all", "")] + [(t, t) for t in types])
        _set_options(self.step_filter, [("all", ""), ("(run)", "__run__")] + [(s, s) for s in steps])

    def filtered_events(self) -> list[Event]:
        """The events that pass the type and step filters."""
        kind, step = self.type_filter.value, self.step_filter.value
        return [
            e
            for e in self.events
            if (not kind or e.type == kind) and (not step or (e.step_id or "__run__") == step)
        ]

    def _show_events(self) -> None:
        position = {id(event): index for index, event in enumerate(self.events)}
        options = [
            (
                f"{e.timestamp:%H:%M:%S}  {e.type!s:<14} {(e.step_id or '-'):<16} "
                f"{(e.agent_id or '-'):<12} {short_text(e.summary, 120)}",
                position[id(e)],
            )
            for e in self.filtered_events()
        ]
        selected = self.event_list.value
        self.event_list.options = options
        if selected in {value for _, value in options}:
            self.event_list.value = selected

    def _show_event_detail(self) -> None:
        index = self.event_list.value
        if index is None or not 0 <= index < len(self.events):
            self.event_detail.value = ""
            return
        event = self.events[index]
        self.event_detail.value = json.dumps(event.model_dump(mode="json", exclude_none=True), indent=2)

    # -- actions ------------------------------------------------------------------------------

    def _act(self, method: str, label: str) -> None:
        runs = self.client.missions.runs
        with reporting(self.notice, label):
            run = getattr(runs, method)(self.run_id, mission_id=self.mission_id).data
            self.notice.info(f"{label}: the run is now {run.status}")
            self._refresh_keeping_notice()

    def _refresh_keeping_notice(self) -> None:
        """Refresh, keeping the action's message unless the refresh itself fails."""
        message = self.notice.value
        self.refresh()
        if not self.notice.text:
            self.notice.value = message

    def _link(self) -> None:
        agent_id = self.agent_id.value.strip()
        with reporting(self.notice, "Link agent", self.link_button):
            if not agent_id:
                raise ValueError("enter a telnyx_agent_id to link")
            self.client.missions.runs.telnyx_agents.link(
                self.run_id, mission_id=self.mission_id, telnyx_agent_id=agent_id
            )
            self.agent_id.value = ""
            self.refresh()

    def _unlink(self) -> None:
        agent_id = self.agent_list.value
        with reporting(self.notice, "Unlink agent", self.unlink_button):
            if not agent_id:
                raise ValueError("select a linked agent first")
            self.client.missions.runs.telnyx_agents.unlink(
                agent_id, mission_id=self.mission_id, run_id=self.run_id
            )
            self.refresh()


def _set_options(dropdown: w.Dropdown, options: list[tuple[str, str]]) -> None:
    """Replace a filter's options, keeping its value when it is still offered."""
    if list(dropdown.options) == options:
        return
    keep = dropdown.value if dropdown.value in {value for _, value in options} else ""
    dropdown.options, dropdown.value = options, keep
