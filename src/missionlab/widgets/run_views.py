"""The views of one run, each a tab of the run panel: its event log, its diagnosis, a comparison
with another run, and its linked agents. Each takes the run's trace in ``show(trace)`` and
says in ``code()`` how to get what it shows."""

from __future__ import annotations

import html
import json
from collections.abc import Callable
from typing import Any

import ipywidgets as w
import plotly.graph_objects as go

from .._client import Client
from .._display import short_text
from ..charts import compare_runs
from ..models import Event
from ..trace import RunTrace, load_run
from ._common import Notice, button, dropdown, reporting, row
from .code import agents_code, compare_code, diagnosis_code, events_code
from .tables import frame_html

EVENT_COLUMNS = ("time", "type", "step", "agent", "summary")
EVENT_WIDTHS = (8, 14, 16, 14)  # characters of the aligned columns before the summary
DETAIL_HINT = "Select an event above to see all its fields and its payload here."


def _set_options(dropdown: w.Dropdown, options: list[tuple[str, str]]) -> None:
    """Replace a filter's options, keeping its value when it is still offered."""
    if list(dropdown.options) == options:
        return
    keep = dropdown.value if dropdown.value in {value for _, value in options} else ""
    dropdown.options, dropdown.value = options, keep


def _cells(values: tuple[str, ...]) -> str:
    padded = [short_text(v, width).ljust(width) for v, width in zip(values, EVENT_WIDTHS, strict=False)]
    return "  ".join([*padded, *values[len(EVENT_WIDTHS) :]])


def event_line(event: Event) -> str:
    """One event as a line of aligned columns (the log shows them in a monospace font)."""
    return _cells(
        (
            f"{event.timestamp:%H:%M:%S}",
            str(event.type),
            event.step_id or "-",
            event.agent_id or "-",
            short_text(event.summary, 160),
        )
    )


class EventLog(w.VBox):
    """The run's events, newest first, in aligned columns; filters by type, step and text; the
    selected event's fields and payload underneath."""

    def __init__(self) -> None:
        self.mission_id = self.run_id = ""
        self.events: list[Event] = []
        self.on_change: Callable[[], Any] | None = None  # after the filters change
        self.type_filter = dropdown("Type", [("all", "")], "")
        self.step_filter = dropdown("Step", [("all", "")], "")
        self.search = w.Text(
            placeholder="Search summaries",
            continuous_update=False,
            layout=w.Layout(flex="1 1 200px", width="auto", min_width="0"),
        )
        self.count = w.HTML()
        header = w.HTML(
            f"<pre style='margin:0 0 0 4px;font-weight:600'>{html.escape(_cells(EVENT_COLUMNS))}</pre>"
        )
        header.add_class("missionlab-mono")
        self.event_list = w.Select(options=[], rows=12, layout=w.Layout(width="100%"))
        self.event_list.add_class("missionlab-mono")
        self.event_detail = w.Textarea(
            placeholder=DETAIL_HINT, disabled=True, layout=w.Layout(width="100%", height="160px")
        )
        self.event_detail.add_class("missionlab-mono")
        for control in (self.type_filter, self.step_filter, self.search):
            control.observe(lambda _: self.render(), "value")
        self.event_list.observe(lambda _: self._show_detail(), "value")
        super().__init__(
            [
                row(self.type_filter, self.step_filter, self.search, self.count),
                header,
                self.event_list,
                self.event_detail,
            ],
            layout=w.Layout(width="100%"),
        )
        self.add_class("missionlab-event-log")

    def show(self, trace: RunTrace) -> None:
        self.mission_id, self.run_id = trace.run.mission_id, trace.run.run_id
        self.events = list(trace.events)
        types = sorted({str(e.type) for e in self.events})
        steps = [s.step_id for s in trace.steps]
        _set_options(self.type_filter, [("all", "")] + [(t, t) for t in types])
        _set_options(self.step_filter, [("all", ""), ("(run)", "__run__")] + [(s, s) for s in steps])
        self.render()

    def filtered(self) -> list[Event]:
        """The events that pass the filters, newest first."""
        kind, step = self.type_filter.value, self.step_filter.value
        needle = self.search.value.strip().lower()
        return [
            e
            for e in reversed(self.events)
            if (not kind or str(e.type) == kind)
            and (not step or (e.step_id or "__run__") == step)
            and (not needle or needle in e.summary.lower())
        ]

    def render(self) -> None:
        position = {id(event): index for index, event in enumerate(self.events)}
        shown = self.filtered()
        options = [(event_line(e), position[id(e)]) for e in shown]
        selected = self.event_list.value
        if list(self.event_list.options) != options:
            self.event_list.options = options
            if selected in {value for _, value in options}:
                self.event_list.value = selected
        self.count.value = f'<span class="missionlab-hint">{len(shown)} of {len(self.events)} events</span>'
        self._show_detail()
        if self.on_change is not None:
            self.on_change()

    def _show_detail(self) -> None:
        index = self.event_list.value
        if index is None or not 0 <= index < len(self.events):
            self.event_detail.value = ""
            return
        event = self.events[index]
        self.event_detail.value = json.dumps(event.model_dump(mode="json", exclude_none=True), indent=2)

    def code(self) -> str:
        return events_code(
            self.mission_id, self.run_id, self.type_filter.value, self.step_filter.value, self.search.value
        )


class DiagnosisView(w.VBox):
    """Why the run ended as it did (``trace.explain()``, where the trace has it) and what looks
    wrong with it (:func:`missionlab.diagnose`), as a table; errors inline."""

    def __init__(self) -> None:
        self.trace: RunTrace | None = None
        self.notice = Notice()
        self.explanation = w.HTML()
        self.findings = w.HTML()
        super().__init__([self.notice, self.explanation, self.findings], layout=w.Layout(width="100%"))

    def show(self, trace: RunTrace) -> None:
        self.trace = trace
        self.notice.clear()
        with reporting(self.notice, "Explaining the run"):
            self.explanation.value = explanation_html(trace)
        with reporting(self.notice, "Diagnosing the run"):
            findings = trace.diagnose()
            if findings.empty:
                self.findings.value = (
                    "<p>Nothing looks wrong with this run: its steps, events and status agree.</p>"
                )
            else:
                self.findings.value = frame_html(findings)

    def code(self) -> str | None:
        return diagnosis_code(self.trace.run.mission_id, self.trace.run.run_id) if self.trace else None


def explanation_html(trace: RunTrace) -> str:
    """``trace.explain()`` as HTML when the trace can explain itself (newer missionlab), else ""."""
    explain = getattr(trace, "explain", None)
    if explain is None:
        return ""
    explanation = explain()
    to_html = getattr(explanation, "_repr_html_", None)
    return str(to_html()) if to_html is not None else f"<pre>{html.escape(str(explanation))}</pre>"


def comparison_figure(trace: RunTrace, other: RunTrace) -> go.Figure:
    """The two runs aligned: ``trace.compare(other).figure()`` where the trace has it, else
    :func:`missionlab.charts.compare_runs`."""
    compare = getattr(trace, "compare", None)
    if compare is not None:
        figure: go.Figure = compare(other).figure()
        return figure
    return compare_runs([trace, other])


class CompareView(w.VBox):
    """The run next to another run of its mission, picked from the mission's recent runs."""

    def __init__(self, client: Client) -> None:
        self.client = client
        self.trace: RunTrace | None = None
        self.other: RunTrace | None = None
        self.on_change: Callable[[], Any] | None = None  # after a comparison is drawn
        self.notice = Notice()
        self.choice = dropdown("Compare with", [("(pick a run)", "")], "", width="100%")
        self.compare_button = button("Compare", "columns", disabled=True)
        self.choice.observe(
            lambda _: setattr(self.compare_button, "disabled", not self.choice.value), "value"
        )
        self.compare_button.on_click(lambda _: self.compare(self.choice.value))
        self.figure = FigurePane()
        super().__init__(
            [row(self.choice, self.compare_button), self.notice, self.figure], layout=w.Layout(width="100%")
        )

    def show(self, trace: RunTrace) -> None:
        first = self.trace is None or self.trace.run.run_id != trace.run.run_id
        self.trace = trace
        if first:
            with reporting(self.notice, "Loading the mission's runs"):
                runs = self.client.missions.runs.list(trace.run.mission_id, page_size=50).data
                self.choice.options = [("(pick a run)", "")] + [
                    (f"{r.run_id[:8]} · {r.status} · {r.started_at:%Y-%m-%d %H:%M}", r.run_id)
                    for r in runs
                    if r.run_id != trace.run.run_id
                ]

    def compare(self, run_id: str) -> go.Figure | None:
        """Load ``run_id`` and draw it aligned with this run."""
        if self.trace is None or not run_id:
            return None
        with reporting(self.notice, "Compare", self.compare_button):
            self.other = load_run(self.client, self.trace.run.mission_id, run_id)
            figure = comparison_figure(self.trace, self.other)
            self.figure.show(figure)
            self.notice.clear()
            if self.on_change is not None:
                self.on_change()
            return figure
        return None

    def code(self) -> str | None:
        if self.trace is None or self.other is None:
            return None
        return compare_code(self.trace.run.mission_id, self.trace.run.run_id, self.other.run.run_id)


class AgentsView(w.VBox):
    """The Telnyx agents linked to the run: link one by id, unlink the selected one."""

    def __init__(self, client: Client, on_change: Callable[[], Any]) -> None:
        self.client = client
        self.on_change = on_change
        self.mission_id = self.run_id = ""
        self.notice = Notice()
        self.agent_list = w.Select(options=[], rows=4, layout=w.Layout(width="100%"))
        self.agent_id = w.Text(
            placeholder="telnyx_agent_id", layout=w.Layout(flex="1 1 200px", width="auto", min_width="0")
        )
        self.link_button = button("Link", "link")
        self.unlink_button = button("Unlink selected", "unlink")
        self.link_button.on_click(lambda _: self._link())
        self.unlink_button.on_click(lambda _: self._unlink())
        super().__init__(
            [self.agent_list, row(self.agent_id, self.link_button, self.unlink_button), self.notice],
            layout=w.Layout(width="100%"),
        )

    def show(self, trace: RunTrace) -> None:
        self.mission_id, self.run_id = trace.run.mission_id, trace.run.run_id
        options = [a.telnyx_agent_id for a in trace.agents]
        if list(self.agent_list.options) != options:
            self.agent_list.options = options

    def _link(self) -> None:
        agent_id = self.agent_id.value.strip()
        with reporting(self.notice, "Link agent", self.link_button):
            if not agent_id:
                raise ValueError("enter a telnyx_agent_id to link")
            self.client.missions.runs.telnyx_agents.link(
                self.run_id, mission_id=self.mission_id, telnyx_agent_id=agent_id
            )
            self.agent_id.value = ""
            self.notice.clear()
            self.on_change()

    def _unlink(self) -> None:
        agent_id = self.agent_list.value
        with reporting(self.notice, "Unlink agent", self.unlink_button):
            if not agent_id:
                raise ValueError("select a linked agent first")
            self.client.missions.runs.telnyx_agents.unlink(
                agent_id, mission_id=self.mission_id, run_id=self.run_id
            )
            self.notice.clear()
            self.on_change()

    def code(self) -> str | None:
        return agents_code(self.mission_id, self.run_id) if self.run_id else None


class FigurePane(w.Output):
    """A plotly figure, drawn by the notebook's own plotly renderer at its container's width.

    :meth:`show` replaces the figure (the browser draws it anew, in a box of the same
    height, so nothing jumps). Unlike a ``FigureWidget``, nothing here depends on a 4.7 MB
    widget module loading within the widget manager's two-second limit, which slow
    machines miss (the widget then stays an empty chart).
    """

    def __init__(self) -> None:
        super().__init__(layout=w.Layout(width="100%"))
        self.figure: go.Figure | None = None
        self._spec: dict[str, Any] | None = None
        self.add_class("missionlab-figure")

    def show(self, figure: go.Figure) -> None:
        figure.update_layout(width=None, autosize=True)
        spec = json.loads(figure.to_json())  # plotly's encoder: numpy arrays, dates
        # responsive: plotly.js follows the window's size (Voila sends the renderer no resize
        # of its own) within a box of the figure's height (the stylesheet makes it fill the box)
        spec["config"] = {"responsive": True, "displaylogo": False}
        self.figure = figure
        if spec == self._spec:
            return  # the same picture: don't make the browser draw it again
        self._spec = spec
        self.layout.height = f"{int(figure.layout.height or 450)}px"
        title = html.unescape(str(figure.layout.title.text or "figure"))
        bundle = {"application/vnd.plotly.v1+json": spec, "text/plain": f"<Figure {title}>"}
        self.set_trait("outputs", ({"output_type": "display_data", "data": bundle, "metadata": {}},))
