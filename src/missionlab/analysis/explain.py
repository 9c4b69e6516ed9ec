"""Explain a run: a few ranked sentences saying what happened, each with its evidence.

``explain(trace)`` tells, most important first:

- ``stuck_open``: a run still pending/running/paused that nothing has been heard from;
- ``failed_step`` (or ``run_failed``, ``cancelled``): the step the failure started in, its
  error, and the parents that failed with it;
- ``error_chain``: the tool calls, results and errors that led there;
- ``skipped``: the steps skipped because of it;
- ``slow_step``: steps that took far longer than in this mission's earlier runs, by their
  working time (the time the run was paused left out; with a ``baseline``: "Step 'Search
  flights' took 160 s, 4.2x its median of 38 s");
- ``retry_loop``: the same tool called again and again inside one step;
- ``silent_gap``: long stretches without any event while the run was active;
- ``failure_cluster``: with a ``fleet``, the failure cluster a failed run belongs to ("seen
  14 times since Nov 20, new in the last 24 h: no"; :func:`missionlab.failures`);
- ``inconsistency``: what :func:`missionlab.diagnose` finds wrong (its errors and warnings).

It is a view of the findings engine (:mod:`missionlab.analysis.engine`): the findings of
warning and error severity, each told once, heaviest first. Each finding has a ``kind``, a
``rank`` (1 first), a ``severity``, a ``text`` and its ``evidence`` (steps, event ids,
start/end times and numbers). The explanation prints as numbered sentences, renders as
escaped HTML, and converts to a frame (``to_frame()``).
"""

from __future__ import annotations

import html
from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

import pandas as pd

from ..frames._columns import TEXT
from ..frames._durations import duration_text
from ..frames._runlike import RunLike, field
from ..types import ACTIVE_RUN_STATUSES
from ._baseline import mission_baseline
from ._failure_clusters import FailureClusters, cluster_failures
from ._run_view import RunView
from .engine import KINDS, examine
from .finding import Finding, Settings

__all__ = ["KINDS", "Explanation", "Finding", "explain"]

FRAME_COLUMNS = ["rank", "kind", "severity", "step_id", "text", "steps", "events", "start", "end"]
NO_BASELINE = "No baseline: pass baseline= (a client, a History or a steps frame) to compare step durations."
_DEFAULT = Settings()


class Explanation:
    """A run's findings, most important first (``rank`` 1), after a one-line ``headline``."""

    def __init__(self, headline: str, findings: list[Finding], baseline_note: str) -> None:
        self.headline = headline
        self.findings = findings
        self.baseline_note = baseline_note

    def __iter__(self) -> Iterator[Finding]:
        return iter(self.findings)

    def __len__(self) -> int:
        return len(self.findings)

    def __getitem__(self, index: int) -> Finding:
        return self.findings[index]

    def of_kind(self, kind: str) -> list[Finding]:
        """The findings of one kind."""
        return [finding for finding in self.findings if finding.kind == kind]

    def __str__(self) -> str:
        lines = [self.headline]
        for finding in self.findings:
            lines.append(f"{finding.rank}. {finding.text}")
            if finding.evidence.text():
                lines.append(f"   evidence: {finding.evidence.text()}")
        if not self.findings:
            lines.append("Nothing stands out.")
        lines.append(self.baseline_note)
        return "\n".join(lines)

    def __repr__(self) -> str:
        return f"<Explanation {len(self.findings)} findings: {self.headline}>"

    def _repr_html_(self) -> str:
        return self.to_html()

    def to_html(self) -> str:
        """The explanation as an escaped HTML fragment."""
        items = "".join(
            f'<li><span style="opacity:.7">[{html.escape(x.kind)}]</span> {html.escape(x.text)}'
            f'<br><small style="opacity:.7">{html.escape(x.evidence.text())}</small></li>'
            for x in self.findings
        )
        body = f"<ol>{items}</ol>" if items else "<p>Nothing stands out.</p>"
        return (
            f'<div class="missionlab-explain"><p><b>{html.escape(self.headline)}</b></p>{body}'
            f'<p><small style="opacity:.7">{html.escape(self.baseline_note)}</small></p></div>'
        )

    def to_frame(self) -> pd.DataFrame:
        """One row per finding: rank, kind, severity, step_id, text, steps, events, start, end."""
        rows = [
            (
                x.rank,
                x.kind,
                x.severity,
                x.step_id,
                x.text,
                ", ".join(x.evidence.steps),
                ", ".join(x.evidence.events),
                x.evidence.start,
                x.evidence.end,
            )
            for x in self.findings
        ]
        frame = pd.DataFrame(rows, columns=FRAME_COLUMNS)
        for column in ("kind", "severity", "step_id", "text", "steps", "events"):
            frame[column] = frame[column].astype(TEXT)
        for column in ("start", "end"):
            frame[column] = pd.to_datetime(frame[column], utc=True)
        frame["rank"] = frame["rank"].astype("int64")
        return frame


def _headline(view: RunView) -> str:
    mission = view.mission
    name = f" of {field(mission, 'name')!r}" if mission is not None and field(mission, "name") else ""
    run_id = str(field(view.run, "run_id"))[:8]
    lasted = duration_text((view.end - view.start).total_seconds())
    if view.status in ACTIVE_RUN_STATUSES:
        return f"Run {run_id}{name} is {view.status}, {lasted} after it started."
    return f"Run {run_id}{name} {view.status} after {lasted}."


def explain(
    trace: RunLike,
    *,
    baseline: Any = None,
    now: datetime | None = None,
    silence: timedelta = _DEFAULT.silence,
    gap: timedelta | None = _DEFAULT.gap,
    slow: float = _DEFAULT.slow,
    limit: int = 8,
    fleet: Any = None,
) -> Explanation:
    """Why ``trace`` ended (or stands) as it does: up to ``limit`` ranked findings.

    ``baseline``: the mission's earlier runs to measure step durations against: a steps
    frame, a client (its recent succeeded runs are fetched), or a ``History``; None or
    False: none. A step is slow at ``slow`` times its median or more (and 5 s over it).
    ``now``: the moment to judge the run at (default: now). ``silence``: how long an active
    run may go unheard before it is "stuck open"; ``gap``: the shortest silence told inside
    a run (default: a minute, or ten times the run's usual time between events when that is
    longer). ``fleet``: failure clusters to place a failed run in (:func:`missionlab.failures`'
    result, or what it reads: a ``History``, ``fetch_frames(client, steps=True)``, runs).
    """
    settings = Settings(silence=silence, gap=gap, slow=slow)
    if fleet is not None and not isinstance(fleet, FailureClusters):
        fleet = cluster_failures(fleet, now=now)
    examined = examine(
        trace, now=now, baseline=mission_baseline(trace, baseline), settings=settings, fleet=fleet
    )
    told = [finding for finding in examined.told_once() if finding.severity != "info"]
    never = pd.Timestamp.max.tz_localize("UTC")
    told.sort(key=lambda x: (-x.weight, x.evidence.start if x.evidence.start is not None else never))
    findings = [replace(finding, rank=rank) for rank, finding in enumerate(told[:limit], start=1)]
    note = NO_BASELINE if examined.baseline is None else examined.baseline.note
    return Explanation(_headline(examined.view), findings, note)
