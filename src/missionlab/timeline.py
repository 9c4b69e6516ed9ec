"""Plotly figures of one run: its Gantt, and a live Gantt widget.

Figures are built from the frames of :mod:`missionlab.frames` with graph_objects
directly (several times faster than ``px.timeline`` on large plans). They are plain
plotly Figures: restyle them, ``write_html`` or ``write_image`` them. Figures across
runs are in :mod:`missionlab.charts`.

Every string from the server is HTML-escaped before it reaches a label or a hover
(``<``, ``>`` and ``&``: plotly's text renderer reads those entities, not ``&quot;``).
"""

from __future__ import annotations

import html
import math
from datetime import UTC, datetime
from typing import Any

import pandas as pd
import plotly.graph_objects as go

from ._figure import (
    MAX_LABEL,
    STEP_COLORS,
    Theme,
    _apply_theme,
    _base_layout,
    _dates,
    _esc,
    _fmt_duration,
    _fmt_time,
    _label,
    _naive_utc,
    _objects,
    theme_neutral,
)
from ._jsontext import json_object
from ._runlike import RunLike, is_runlike
from .frames import events_frame, steps_frame
from .types import ACTIVE_RUN_STATUSES, EventType, RunStatus

__all__ = ["EVENT_SYMBOLS", "STEP_COLORS", "LiveGantt", "gantt", "paused_intervals", "theme_neutral"]

EVENT_SYMBOLS = {
    "status_change": "diamond",
    "step_started": "triangle-right",
    "step_completed": "triangle-left",
    "step_failed": "x",
    "tool_call": "circle",
    "tool_result": "circle-open",
    "message": "square",
    "error": "x-thin-open",
    "custom": "star",
}
EVENT_COLORS = {t.value: "#8a8a8a" for t in EventType}  # mid-gray: reads on light and dark
EVENT_COLORS.update(
    {
        "error": "#D55E00",
        "step_failed": "#D55E00",
        "tool_call": "#56B4E9",
        "tool_result": "#56B4E9",
        "status_change": "#E69F00",
    }
)
RUN_ROW = "__run__"
PAUSED_FILL = "rgba(230, 159, 0, 0.18)"
ROW_HEIGHT = 22
MAX_HEIGHT = 4000
MIN_LABEL_PX = 12  # vertical pixels a tick label needs


def _inputs(source: Any, events: Any, run: Any, mission: Any) -> tuple[pd.DataFrame, pd.DataFrame, Any, Any]:
    if is_runlike(source):
        return (
            source.steps_frame,
            source.events_frame if events is None else _events(events),
            run or source.run,
            mission or source.mission,
        )
    steps = source if isinstance(source, pd.DataFrame) else steps_frame(source)
    return steps, _events(events), run, mission


def _events(events: Any) -> pd.DataFrame:
    if events is None:
        return events_frame([])
    return events if isinstance(events, pd.DataFrame) else events_frame(events)


def paused_intervals(events: pd.DataFrame, end: datetime) -> list[tuple[Any, Any]]:
    """(start, end) of each time the run was paused, from its status_change events."""
    changes = events[events["type"] == EventType.STATUS_CHANGE]
    intervals, paused_at = [], None
    for timestamp, text in zip(changes["timestamp"], changes["payload"], strict=True):
        payload = json_object(text)
        if payload.get("to") == RunStatus.PAUSED and paused_at is None:
            paused_at = timestamp
        elif payload.get("from") == RunStatus.PAUSED and paused_at is not None:
            intervals.append((paused_at, timestamp))
            paused_at = None
    if paused_at is not None:
        intervals.append((paused_at, pd.Timestamp(end)))
    return intervals


def gantt(
    trace_or_steps: RunLike | Any,
    events: Any = None,
    *,
    run: Any = None,
    mission: Any = None,
    now: datetime | None = None,
    title: str | None = None,
    max_label: int = MAX_LABEL,
    theme: Theme = "neutral",
) -> go.Figure:
    """A run's plan as a Gantt timeline, with its events on top.

    One row per plan step, in plan order, children indented under their parent;
    bars from start to end colored by status (in-progress bars run to a "now"
    line); pending and skipped steps are listed too. Events are markers on their
    step's row (or the run's row), one symbol per type. Paused intervals are
    shaded, the run's start and end marked. ``theme=None`` keeps plotly's template instead
    of colors that read on light and dark backgrounds.
    """
    steps, events_df, run, mission = _inputs(trace_or_steps, events, run, mission)
    now_ts = pd.Timestamp(now or datetime.now(UTC)).tz_convert("UTC")
    figure = go.Figure()
    _fill(figure, steps, events_df, run, mission, now_ts, title, max_label)
    return _apply_theme(figure, theme)


def _fill(
    figure: go.Figure,
    steps: pd.DataFrame,
    events: pd.DataFrame,
    run: Any,
    mission: Any,
    now: pd.Timestamp,
    title: str | None,
    max_label: int,
) -> None:
    """Put the Gantt's traces and layout into ``figure`` (always the same traces, in order)."""
    keys = [RUN_ROW, *steps["step_id"].astype(str).tolist()]
    labels = ["<b>run</b>"] + [
        _label(str(d), int(depth), max_label)
        for d, depth in zip(steps["description"], steps["depth"], strict=True)
    ]
    end = steps["completed_at"].where(~steps["is_running"], now)
    hover = pd.DataFrame(
        {
            "description": steps["description"].map(_esc),
            "status": steps["status"].astype(str),
            "start": _fmt_time(steps["started_at"]),
            "end": _fmt_time(end),
            "duration": _fmt_duration(steps["duration_s"]),
            "metadata": steps["metadata"].map(lambda m: _esc(m, 200)),
        }
    )
    bar_template = (
        "<b>%{customdata[0]}</b><br>status: %{customdata[1]}<br>"
        "start: %{customdata[2]}<br>end: %{customdata[3]}<br>"
        "duration: %{customdata[4]}<br>%{customdata[5]}<extra></extra>"
    )
    has_bar = steps["started_at"].notna()
    for status, color in STEP_COLORS.items():
        rows = has_bar & (steps["status"] == status)
        millis = (end[rows] - steps["started_at"][rows]).dt.total_seconds() * 1000
        figure.add_trace(
            go.Bar(
                name=status,
                orientation="h",
                y=steps["step_id"][rows].to_numpy(dtype=object),
                base=_dates(steps["started_at"][rows]),
                x=millis.clip(lower=1).to_numpy(),
                marker={"color": color, "line": {"width": 0}},
                customdata=_objects(hover[rows]),
                hovertemplate=bar_template,
                legendgroup=status,
                showlegend=bool(rows.any()),
                width=0.6,
            )
        )
    # Steps without a bar: pending ones at the run's start, skipped/failed ones at their end.
    unstarted = ~has_bar
    origin = _run_start(run, steps, events, now)
    at = steps["completed_at"].where(steps["completed_at"].notna(), origin)
    figure.add_trace(
        go.Scatter(
            name="not started",
            mode="markers",
            y=steps["step_id"][unstarted].to_numpy(dtype=object),
            x=_dates(at[unstarted]),
            marker={
                "symbol": "line-ew-open",
                "size": 16,
                "line": {"width": 3},
                "color": [STEP_COLORS.get(str(s), "#999") for s in steps["status"][unstarted]],
            },
            customdata=_objects(hover[unstarted]),
            hovertemplate=bar_template,
            showlegend=bool(unstarted.any()),
        )
    )
    _add_events(figure, events, set(keys))
    _layout(figure, keys, labels, steps, events, run, mission, now, title)


def _run_start(run: Any, steps: pd.DataFrame, events: pd.DataFrame, now: pd.Timestamp) -> pd.Timestamp:
    if run is not None:
        return pd.Timestamp(run.started_at).tz_convert("UTC")
    candidates = [steps["started_at"].min(), events["timestamp"].min() if len(events) else pd.NaT]
    valid = [c for c in candidates if not pd.isna(c)]
    return min(valid) if valid else now


def _add_events(figure: go.Figure, events: pd.DataFrame, rows: set[str]) -> None:
    step = events["step_id"].astype(object).where(events["step_id"].isin(rows), RUN_ROW)
    for event_type, symbol in EVENT_SYMBOLS.items():
        mine = events["type"] == event_type
        part = events[mine]
        custom = pd.DataFrame(
            {
                "summary": part["summary"].map(_esc),
                "agent": part["agent_id"].map(_esc),
                "payload": part["payload"].map(lambda p: _esc(p, 200)),
                "time": _fmt_time(part["timestamp"]),
                "step": part["step_id"].map(_esc),
            }
        )
        figure.add_trace(
            go.Scattergl(
                name=event_type,
                mode="markers",
                y=step[mine].to_numpy(dtype=object),
                x=_dates(part["timestamp"]),
                marker={
                    "symbol": symbol,
                    "size": 8,
                    "color": EVENT_COLORS[event_type],
                    "line": {"width": 1, "color": EVENT_COLORS[event_type]},
                },
                customdata=_objects(custom),
                legendgroup=f"event:{event_type}",
                hovertemplate=(
                    f"<b>{event_type}</b> %{{customdata[3]}}<br>%{{customdata[0]}}<br>"
                    "step: %{customdata[4]}<br>agent: %{customdata[1]}<br>"
                    "%{customdata[2]}<extra></extra>"
                ),
                showlegend=bool(mine.any()),
            )
        )


def _full_height(kind: str, x0: Any, x1: Any, **style: Any) -> dict[str, Any]:
    """A shape (``"line"`` or ``"rect"``) across the plot's whole height, from ``x0`` to ``x1``."""
    return {"type": kind, "xref": "x", "yref": "paper", "x0": x0, "x1": x1, "y0": 0, "y1": 1, **style}


def _layout(
    figure: go.Figure,
    keys: list[str],
    labels: list[str],
    steps: pd.DataFrame,
    events: pd.DataFrame,
    run: Any,
    mission: Any,
    now: pd.Timestamp,
    title: str | None,
) -> None:
    shapes: list[dict[str, Any]] = []
    notes: list[dict[str, Any]] = []

    def vline(x: Any, text: str, color: str, dash: str) -> None:
        x = _naive_utc(x)
        line = {"color": color, "width": 1.5, "dash": dash}
        shapes.append(_full_height("line", x, x, line=line, name=text))
        notes.append(
            {
                "x": x,
                "y": 1,
                "xref": "x",
                "yref": "paper",
                "text": text,
                "showarrow": False,
                "yanchor": "bottom",
                "font": {"size": 10, "color": color},
            }
        )

    active = run is not None and run.status in ACTIVE_RUN_STATUSES
    finished_at = getattr(run, "finished_at", None)
    if run is not None:
        vline(run.started_at, "start", "#8a8a8a", "dot")
        if finished_at is not None:
            vline(finished_at, "end", "#8a8a8a", "dot")
    if active or bool(steps["is_running"].any()):
        vline(now, "now", "#D55E00", "dash")
    pause_end = finished_at or now
    for start, stop in paused_intervals(events, pause_end):
        paused = {"fillcolor": PAUSED_FILL, "line": {"width": 0}, "layer": "below", "name": "paused"}
        shapes.append(_full_height("rect", _naive_utc(start), _naive_utc(stop), **paused))
    if title is None:
        name = getattr(mission, "name", None) or "Run"
        run_id = getattr(run, "run_id", None) or (steps["run_id"].iloc[0] if len(steps) else "")
        status = getattr(run, "status", None)
        title = f"{name} · run {str(run_id)[:8]}" + (f" · {status}" if status else "")
    rows = len(keys)
    height = min(max(380, ROW_HEIGHT * rows + 120), MAX_HEIGHT)
    # Past what fits, label every n-th row (all rows stay, with full text on hover; zoom in).
    label_step = max(1, math.ceil(rows * MIN_LABEL_PX / (height - 120)))
    _base_layout(
        figure,
        title,
        top=60,
        right=10,
        legend={"yanchor": "top", "y": 1, "x": 1.01, "font": {"size": 10}, "tracegroupgap": 2},
        barmode="overlay",
        bargap=0.3,
        hovermode="closest",
        height=height,
        shapes=shapes,
        annotations=notes,
        xaxis={"type": "date", "title": None, "showgrid": True},
        yaxis={
            "type": "category",
            "categoryorder": "array",
            "categoryarray": keys,
            "tickmode": "array",
            "tickvals": keys[::label_step],
            "ticktext": labels[::label_step],
            "automargin": True,
            "range": [rows - 0.5, -0.5],  # reversed: first row on top
            "tickfont": {"size": 11 if label_step == 1 else 9},
        },
    )


class LiveGantt:
    """The Gantt as a plotly ``FigureWidget`` that updates in place.

    ``update(steps, events, run=...)`` swaps each trace's data and the layout's
    shapes in one batch: the chart is not rebuilt and keeps its zoom.
    """

    def __init__(
        self, trace_or_steps: RunLike | Any, events: Any = None, *, theme: Theme = "neutral", **kwargs: Any
    ) -> None:
        self._theme = theme
        self.widget = go.FigureWidget(gantt(trace_or_steps, events, theme=theme, **kwargs))

    def update(
        self,
        trace_or_steps: RunLike | Any,
        events: Any = None,
        *,
        run: Any = None,
        mission: Any = None,
        now: datetime | None = None,
    ) -> None:
        """Show new plan/event data (and run status) in the same widget."""
        fresh = gantt(trace_or_steps, events, run=run, mission=mission, now=now, theme=self._theme)
        zoom = self.widget.layout.xaxis.range
        # plotly.js forgets an axis's type when a restyle changes its data, unless the same
        # update sets the type: clear it here so that the batch below sends it again.
        self.widget.layout.xaxis.type = None
        with self.widget.batch_update():
            for mine, new in zip(self.widget.data, fresh.data, strict=True):
                for prop in ("x", "y", "base", "customdata", "showlegend", "marker"):
                    if prop in new:
                        mine[prop] = new[prop]
            self.widget.layout.shapes = fresh.layout.shapes
            self.widget.layout.annotations = fresh.layout.annotations
            self.widget.layout.yaxis = fresh.layout.yaxis
            self.widget.layout.title = fresh.layout.title
            self.widget.layout.height = fresh.layout.height
            self.widget.layout.xaxis.type = "date"
            if zoom is not None and self.widget.layout.xaxis.autorange is False:
                self.widget.layout.xaxis.range = zoom

    def __repr__(self) -> str:
        title = html.unescape(str(self.widget.layout.title.text or ""))
        return f"<LiveGantt {title}>"

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        bundle = dict(self.widget._repr_mimebundle_(**kwargs) or {})
        bundle["text/plain"] = repr(self)  # not the figure's full JSON
        return bundle
