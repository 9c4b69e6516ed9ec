"""The views of one run, each a tab of the run panel: its diagnosis, a comparison with another
run, its linked agents and its steps with their token usage and cost (the event log is in
:mod:`.event_log`). Each takes the run's trace in ``show(trace)`` and
says in ``code()`` how to get what it shows."""

from __future__ import annotations

import html
import itertools
import json
from collections.abc import Callable
from typing import Any, cast

import ipywidgets as w
import pandas as pd
import plotly.graph_objects as go

from ..analysis.compare import Comparison
from ..analysis.rollup import payload_numbers
from ..client._client import Client
from ..figures._figure_patch import apply_patch, decoded, figure_patch
from ..figures.charts import compare_runs
from ..figures.timeline import figure_of
from ..frames._durations import duration_text
from ..trace import RunTrace, load_run
from ..types import ACTIVE_RUN_STATUSES, RunStatus
from ._common import Notice, button, dropdown, reporting, row
from ._figure_patcher import FigurePatcher
from .code import agents_code, compare_code, diagnosis_code, steps_code
from .event_log import EventLog
from .tables import frame_html

__all__ = ["AgentsView", "CompareView", "DiagnosisView", "EventLog", "FigurePane", "StepsView"]

TOKENS, COST = "payload.usage.total_tokens", "payload.cost_usd"
USAGE_PATHS = (TOKENS, COST)  # what the sandbox's model calls report (docs/sandbox.md)


def usage_totals(events: pd.DataFrame, totals: dict[str, float] | None = None) -> dict[str, float]:
    """The total of each of :data:`USAGE_PATHS` that some event of ``events`` (an events frame)
    reports, added to ``totals`` (the totals of the events before them); {} when none does."""
    totals = dict(totals or {})
    payloads = [text for text in events["payload"].tolist() if isinstance(text, str)]
    for path in USAGE_PATHS:
        if not any(f'"{path.rsplit(".", 1)[-1]}"' in text for text in payloads):
            continue  # no payload names it (payload_numbers reads only those that do)
        numbers = payload_numbers(events, path)
        if numbers.notna().any():
            totals[path] = totals.get(path, 0.0) + float(numbers.sum())
    return totals


def usage_text(totals: dict[str, float]) -> str | None:
    """ "12,345 tokens · $0.0421", or None when the run reports no usage."""
    parts = []
    if TOKENS in totals:
        parts.append(f"{totals[TOKENS]:,.0f} tokens")
    if COST in totals:
        parts.append(f"${totals[COST]:,.4f}")
    return " · ".join(parts) or None


class StepsView(w.VBox):
    """The plan's steps with their status and times and, where the events report them, the
    tokens and cost of each step with its children (:meth:`RunTrace.step_table`)."""

    def __init__(self) -> None:
        self.trace: RunTrace | None = None
        self.paths: list[str] = []
        self.notice = Notice()
        self.summary = w.HTML()
        self.table = w.HTML()
        super().__init__([self.notice, self.summary, self.table], layout=w.Layout(width="100%"))
        self.add_class("missionlab-steps")

    def show(self, trace: RunTrace, totals: dict[str, float] | None = None) -> None:
        """Show ``trace``'s steps; ``totals``: its usage totals when already added up
        (``usage_totals``), else they are."""
        self.trace = trace
        with reporting(self.notice, "Adding up the steps"):
            totals = usage_totals(trace.events_frame) if totals is None else totals
            self.paths = list(totals)
            table = trace.step_table(*self.paths).round({"duration_s": 1, "cost_usd": 6})
            usage = usage_text(totals)
            self.summary.value = (
                f'<p class="missionlab-hint">This run: {html.escape(usage)}. Each step counts its '
                "children's too.</p>"
                if usage
                else '<p class="missionlab-hint">No event of this run reports token usage or cost '
                "(<code>payload.usage.total_tokens</code>, <code>payload.cost_usd</code>).</p>"
            )
            self.table.value = frame_html(table)
            self.notice.clear()

    def code(self) -> str | None:
        if self.trace is None:
            return None
        return steps_code(self.trace.run.mission_id, self.trace.run.run_id, self.paths)


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
                self.findings.value = f"<p>{html.escape(consistent_note(str(trace.run.status)))}</p>"
            else:
                self.findings.value = frame_html(findings)

    def code(self) -> str | None:
        return diagnosis_code(self.trace.run.mission_id, self.trace.run.run_id) if self.trace else None


def consistent_note(status: str) -> str:
    """What the Diagnosis tab says when diagnose() finds nothing, for a run of ``status``:
    diagnose() checks that the record is consistent, not why the run ended as it did."""
    agree = "its steps, events and status agree"
    if status in (RunStatus.FAILED, RunStatus.CANCELLED):
        return f"Why the run {status} is told above; the record itself is consistent: {agree}."
    if status in ACTIVE_RUN_STATUSES:
        return f"The record is consistent so far: {agree}."
    return f"Nothing looks wrong with this run: {agree}."


def explanation_html(trace: RunTrace) -> str:
    """``trace.explain()`` as HTML."""
    return trace.explain()._repr_html_()


TYPICAL = "typical"  # the choice that lets compare() pick the most typical succeeded run


def step_diff_html(comparison: Comparison) -> str:
    """Each aligned step side by side, this run vs the (first) baseline: status, duration and
    tools, the first divergence's step highlighted; why the baseline was chosen. Escaped."""
    divergence = comparison.divergence
    other_id = str(comparison.baseline.run.run_id)[:8]
    rows = []
    for step in comparison.steps.itertuples():
        first = divergence is not None and divergence.step_id == step.step_id
        name = step.description if isinstance(step.description, str) else step.step_id
        cells = [f"<td>{html.escape(str(name))}</td>"]
        for suffix in ("", "_other"):
            status = getattr(step, f"status{suffix}")
            seconds = getattr(step, f"duration_s{suffix}")
            tools = " → ".join(str(tool) for tool in getattr(step, f"tools{suffix}"))
            cells += [
                f"<td>{html.escape('—' if pd.isna(status) else str(status))}</td>",
                f"<td>{html.escape('—' if pd.isna(seconds) else duration_text(seconds))}</td>",
                f"<td>{html.escape(tools)}</td>",
            ]
        mark = ' class="missionlab-first-divergence" style="background:rgba(213,94,0,.18);font-weight:600"'
        rows.append(f"<tr{mark if first else ''}>{''.join(cells)}</tr>")
    said = (
        "No divergence." if divergence is None else f"First divergence ({divergence.kind}): {divergence.text}"
    )
    head = (
        "<tr><th rowspan=2>Step</th><th colspan=3>This run</th>"
        f"<th colspan=3>Baseline {html.escape(other_id)}</th></tr>"
        "<tr>" + "<th>status</th><th>duration</th><th>tools</th>" * 2 + "</tr>"
    )
    return (
        f'<div class="missionlab-step-diff"><p><b>{html.escape(said)}</b></p>'
        f"<p><small>Baseline: {html.escape(comparison.reason)}.</small></p>"
        '<div style="overflow-x:auto"><table style="border-collapse:collapse;font-size:12px">'
        f"<thead>{head}</thead><tbody>{''.join(rows)}</tbody></table></div></div>"
    )


class CompareView(w.VBox):
    """The run next to a baseline run of its mission: the most typical succeeded run (picked
    by :func:`~missionlab.analysis.compare.compare`, which says why) or one of the mission's
    recent runs; drawn aligned, and each step side by side."""

    def __init__(self, client: Client) -> None:
        self.client = client
        self.trace: RunTrace | None = None
        self.other: RunTrace | None = None
        self.automatic = False  # whether compare() chose the baseline
        self.on_change: Callable[[], Any] | None = None  # after a comparison is drawn
        self.notice = Notice()
        self.choice = dropdown("Compare with", [("(pick a run)", "")], "", width="100%")
        self.compare_button = button("Compare", "columns", disabled=True)
        self.choice.observe(
            lambda _: setattr(self.compare_button, "disabled", not self.choice.value), "value"
        )
        self.compare_button.on_click(lambda _: self.compare(self.choice.value))
        self.figure = FigurePane()
        self.diff = w.HTML()
        super().__init__(
            [row(self.choice, self.compare_button), self.notice, self.diff, self.figure],
            layout=w.Layout(width="100%"),
        )

    def show(self, trace: RunTrace) -> None:
        first = self.trace is None or self.trace.run.run_id != trace.run.run_id
        self.trace = trace
        if first:
            with reporting(self.notice, "Loading the mission's runs"):
                runs = self.client.missions.runs.list(trace.run.mission_id, page_size=50).data
                self.choice.options = [
                    ("(pick a run)", ""),
                    ("The most typical succeeded run (chosen for you)", TYPICAL),
                ] + [
                    (f"{r.run_id[:8]} · {r.status} · {r.started_at:%Y-%m-%d %H:%M}", r.run_id)
                    for r in runs
                    if r.run_id != trace.run.run_id
                ]

    def compare(self, run_id: str) -> go.Figure | None:
        """Load ``run_id`` (or, with ``TYPICAL``, let compare() pick the most typical
        succeeded run) and show it aligned with this run."""
        if self.trace is None or not run_id:
            return None
        with reporting(self.notice, "Compare", self.compare_button):
            self.automatic = run_id == TYPICAL
            if self.automatic:
                comparison = self.trace.compare(client=self.client)
                self.other = cast(RunTrace, comparison.baseline)
            else:
                self.other = load_run(self.client, self.trace.run.mission_id, run_id)
                comparison = self.trace.compare(self.other)
            self.diff.value = step_diff_html(comparison)
            figure = compare_runs(comparison)
            self.figure.show(figure)
            self.notice.clear()
            if self.on_change is not None:
                self.on_change()
            return figure
        return None

    def code(self) -> str | None:
        if self.trace is None or self.other is None:
            return None
        other_id = None if self.automatic else self.other.run.run_id
        return compare_code(self.trace.run.mission_id, self.trace.run.run_id, other_id)


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
    height, so nothing jumps); :meth:`patch` changes the figure on screen by sending only
    what changed (new points appended to their traces, the properties that changed), through
    a ``FigurePatcher`` (``widgets._figure_patcher``). Unlike a ``FigureWidget``,
    nothing here depends on a 4.7 MB widget module loading within the widget manager's
    two-second limit, which slow machines miss (the widget then stays an empty chart).
    """

    _panes = itertools.count(1)

    def __init__(self) -> None:
        super().__init__(layout=w.Layout(width="100%"))
        self._figure: go.Figure | None = None
        self._spec: dict[str, Any] | None = None  # the figure's JSON, as the browser has it
        self._drawn: dict[str, Any] | None = None  # the figure dict drawn last, when patchable
        self._name = f"missionlab-figure-{next(self._panes)}"
        self.patcher = FigurePatcher(self._name)
        self.add_class("missionlab-figure")
        self.add_class(self._name)

    @property
    def figure(self) -> go.Figure | None:
        """The figure on screen, as a plotly Figure."""
        if self._figure is None and self._drawn is not None:
            self._figure = figure_of(self._drawn)
        return self._figure

    def show(self, figure: go.Figure, drawn: dict[str, Any] | None = None) -> None:
        """Draw ``figure`` anew; ``drawn``: the figure dict it was made of, which a later
        :meth:`patch` compares with."""
        figure.update_layout(width=None, autosize=True)
        spec = decoded(json.loads(figure.to_json()))  # plotly's encoder: numpy arrays, dates
        # responsive: plotly.js follows the window's size (Voila sends the renderer no resize
        # of its own) within a box of the figure's height (the stylesheet makes it fill the box)
        spec["config"] = {"responsive": True, "displaylogo": False}
        self._figure, self._drawn = figure, drawn
        if spec == self._spec:
            return  # the same picture: don't make the browser draw it again
        self._spec = spec
        self.layout.height = f"{int(figure.layout.height or 450)}px"
        title = html.unescape(str(figure.layout.title.text or "figure"))
        bundle = {"application/vnd.plotly.v1+json": spec, "text/plain": f"<Figure {title}>"}
        self.set_trait("outputs", ({"output_type": "display_data", "data": bundle, "metadata": {}},))
        self.patcher.redrawn()

    def patch(self, drawn: dict[str, Any]) -> None:
        """Show ``drawn``, a figure dict as :mod:`missionlab.figures` builds them: when the
        figure on screen has the same traces, send only what changed (nothing when nothing
        did), else draw it anew."""
        ops = None if self._drawn is None or self._spec is None else figure_patch(self._drawn, drawn)
        if ops is None:
            self.show(figure_of(drawn), drawn)
            return
        self._drawn, self._figure = drawn, None
        if not ops:
            return
        assert self._spec is not None
        apply_patch(self._spec, ops)  # the kernel's copy stays what the browser shows
        self.patcher.apply(ops)
