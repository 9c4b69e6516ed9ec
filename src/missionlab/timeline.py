"""Plotly figures of runs: a run's Gantt, a live Gantt widget, and comparisons across runs.

Figures are built from the frames of :mod:`missionlab.frames` with graph_objects
directly (several times faster than ``px.timeline`` on large plans). They are plain
plotly Figures: restyle them, ``write_html`` or ``write_image`` them.

Every string from the server is HTML-escaped before it reaches a label or a hover
(``<``, ``>`` and ``&``: plotly's text renderer reads those entities, not ``&quot;``).
"""

from __future__ import annotations

import html
import json
import math
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from ._display import STATUS_COLORS
from .frames import events_frame, runs_frame, steps_frame
from .types import EventType, RunStatus, StepStatus

if TYPE_CHECKING:
    from .trace import RunTrace

__all__ = [
    "EVENT_SYMBOLS",
    "RUN_COLORS",
    "STEP_COLORS",
    "LiveGantt",
    "compare_runs",
    "gantt",
    "runs_chart",
    "step_durations",
    "theme_neutral",
]

RUN_COLORS = {s.value: STATUS_COLORS[s.value] for s in RunStatus}
STEP_COLORS = {s.value: STATUS_COLORS[s.value] for s in StepStatus}
STEP_COLORS["pending"] = "#BBBBBB"
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
MAX_LABEL = 40
ROW_HEIGHT = 22
MAX_HEIGHT = 4000
MIN_LABEL_PX = 12  # vertical pixels a tick label needs


def _html(text: str) -> str:
    """Escape text for plotly's pseudo-HTML labels (tags off; quotes are harmless there)."""
    return html.escape(text, quote=False)


def _esc(value: Any, limit: int = 300) -> str:
    if value is None or value is pd.NA or (isinstance(value, float) and value != value):
        return ""
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    text = text if len(text) <= limit else text[: limit - 1] + "…"
    return _html(text)


def _label(description: str, depth: int, limit: int) -> str:
    text = description if len(description) <= limit else description[: limit - 1] + "…"
    prefix = "\u00a0\u00a0\u00a0" * depth + ("└ " if depth else "")
    return prefix + _html(text)


def theme_neutral(figure: go.Figure) -> go.Figure:
    """Colors that read on light and dark backgrounds (JupyterLab's themes, Voila, GitHub)."""
    grid = "rgba(127, 127, 127, 0.25)"
    figure.update_layout(
        paper_bgcolor="rgba(0, 0, 0, 0)", plot_bgcolor="rgba(127, 127, 127, 0.08)", font={"color": "#808080"}
    )
    figure.update_xaxes(gridcolor=grid, zerolinecolor=grid, linecolor=grid)
    figure.update_yaxes(gridcolor=grid, zerolinecolor=grid, linecolor=grid)
    return figure


def _dates(series: pd.Series) -> np.ndarray[Any, Any]:
    """Timestamps as ISO strings (UTC): what a date axis reads both in a static figure and in a
    FigureWidget (which would send datetime64 arrays as raw integers)."""
    values = series.dt.tz_convert("UTC").dt.tz_localize(None).to_numpy(dtype="datetime64[us]")
    return np.datetime_as_string(values, unit="us").astype(object)


def _objects(frame: pd.DataFrame) -> np.ndarray[Any, Any]:
    """Hover data as one object array (plotly validates arrays far faster than lists)."""
    return frame.to_numpy(dtype=object)


def _fmt_time(series: pd.Series) -> pd.Series:
    return series.dt.strftime("%Y-%m-%d %H:%M:%S").fillna("—")


def _fmt_duration(seconds: pd.Series) -> pd.Series:
    def one(s: float) -> str:
        if s != s:
            return "—"
        if s < 60:
            return f"{s:.1f} s"
        minutes, rest = divmod(s, 60)
        if minutes < 60:
            return f"{minutes:.0f} min {rest:.0f} s"
        return f"{minutes // 60:.0f} h {minutes % 60:.0f} min"

    return seconds.map(one)


def _inputs(source: Any, events: Any, run: Any, mission: Any) -> tuple[pd.DataFrame, pd.DataFrame, Any, Any]:
    from .trace import RunTrace

    if isinstance(source, RunTrace):
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
    changes = events[events["type"] == "status_change"]
    intervals, paused_at = [], None
    for timestamp, payload in zip(changes["timestamp"], changes["payload"], strict=True):
        payload = payload if isinstance(payload, dict) else {}
        if payload.get("to") == "paused" and paused_at is None:
            paused_at = timestamp
        elif payload.get("from") == "paused" and paused_at is not None:
            intervals.append((paused_at, timestamp))
            paused_at = None
    if paused_at is not None:
        intervals.append((paused_at, pd.Timestamp(end)))
    return intervals


def gantt(
    trace_or_steps: RunTrace | Any,
    events: Any = None,
    *,
    run: Any = None,
    mission: Any = None,
    now: datetime | None = None,
    title: str | None = None,
    max_label: int = MAX_LABEL,
) -> go.Figure:
    """A run's plan as a Gantt timeline, with its events on top.

    One row per plan step, in plan order, children indented under their parent;
    bars from start to end colored by status (in-progress bars run to a "now"
    line); pending and skipped steps are listed too. Events are markers on their
    step's row (or the run's row), one symbol per type. Paused intervals are
    shaded, the run's start and end marked.
    """
    steps, events_df, run, mission = _inputs(trace_or_steps, events, run, mission)
    now_ts = pd.Timestamp(now or datetime.now(UTC)).tz_convert("UTC")
    figure = go.Figure()
    _fill(figure, steps, events_df, run, mission, now_ts, title, max_label)
    return theme_neutral(figure)


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
            "metadata": steps["metadata"].map(lambda m: _esc(m, 200) if m else ""),
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
                "payload": part["payload"].map(lambda p: _esc(p, 200) if p else ""),
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
        x = pd.Timestamp(x).tz_convert("UTC").tz_localize(None)
        shapes.append(
            {
                "type": "line",
                "xref": "x",
                "yref": "paper",
                "x0": x,
                "x1": x,
                "y0": 0,
                "y1": 1,
                "line": {"color": color, "width": 1.5, "dash": dash},
                "name": text,
            }
        )
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

    active = run is not None and run.status in ("pending", "running", "paused")
    finished_at = getattr(run, "finished_at", None)
    if run is not None:
        vline(run.started_at, "start", "#8a8a8a", "dot")
        if finished_at is not None:
            vline(finished_at, "end", "#8a8a8a", "dot")
    if active or bool(steps["is_running"].any()):
        vline(now, "now", "#D55E00", "dash")
    pause_end = finished_at or now
    for start, stop in paused_intervals(events, pause_end):
        shapes.append(
            {
                "type": "rect",
                "xref": "x",
                "yref": "paper",
                "y0": 0,
                "y1": 1,
                "x0": pd.Timestamp(start).tz_convert("UTC").tz_localize(None),
                "x1": pd.Timestamp(stop).tz_convert("UTC").tz_localize(None),
                "fillcolor": PAUSED_FILL,
                "line": {"width": 0},
                "layer": "below",
                "name": "paused",
            }
        )
    if title is None:
        name = getattr(mission, "name", None) or "Run"
        run_id = getattr(run, "run_id", None) or (steps["run_id"].iloc[0] if len(steps) else "")
        status = getattr(getattr(run, "status", None), "value", None)
        title = f"{name} · run {str(run_id)[:8]}" + (f" · {status}" if status else "")
    rows = len(keys)
    height = min(max(380, ROW_HEIGHT * rows + 120), MAX_HEIGHT)
    # Past what fits, label every n-th row (all rows stay, with full text on hover; zoom in).
    label_step = max(1, math.ceil(rows * MIN_LABEL_PX / (height - 120)))
    figure.update_layout(
        title={"text": _html(title), "x": 0.01},
        barmode="overlay",
        bargap=0.3,
        hovermode="closest",
        height=height,
        margin={"l": 10, "r": 10, "t": 60, "b": 40},
        legend={"yanchor": "top", "y": 1, "x": 1.01, "font": {"size": 10}, "tracegroupgap": 2},
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

    def __init__(self, trace_or_steps: RunTrace | Any, events: Any = None, **kwargs: Any) -> None:
        self.widget = go.FigureWidget(gantt(trace_or_steps, events, **kwargs))

    def update(
        self,
        trace_or_steps: RunTrace | Any,
        events: Any = None,
        *,
        run: Any = None,
        mission: Any = None,
        now: datetime | None = None,
    ) -> None:
        """Show new plan/event data (and run status) in the same widget."""
        fresh = gantt(trace_or_steps, events, run=run, mission=mission, now=now)
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


# -- across runs --------------------------------------------------------------------------------

RUN_PALETTE = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000"]


def compare_runs(traces: list[RunTrace], *, labels: list[str] | None = None) -> go.Figure:
    """Two or more runs of a mission aligned at their start, step by step.

    Bars start at seconds since their run's start; a failed step has a thick red
    outline, so a slower or failing step stands out.
    """
    if len(traces) < 2:
        raise ValueError("compare_runs() needs at least two runs")
    labels = labels or [f"{t.run.run_id[:8]} ({t.run.status.value})" for t in traces]
    order: list[str] = []
    names: dict[str, str] = {}
    for trace in traces:
        for step_id, description in zip(
            trace.steps_frame["step_id"], trace.steps_frame["description"], strict=True
        ):
            if step_id not in names:
                order.append(str(step_id))
                names[str(step_id)] = _label(str(description), 0, MAX_LABEL)
    figure = go.Figure()
    for index, (trace, label) in enumerate(zip(traces, labels, strict=True)):
        frame = trace.steps_frame[trace.steps_frame["started_at"].notna()]
        origin = pd.Timestamp(trace.run.started_at).tz_convert("UTC")
        offset = (frame["started_at"] - origin).dt.total_seconds()
        failed = frame["status"] == "failed"
        figure.add_trace(
            go.Bar(
                name=_html(label),
                orientation="h",
                y=frame["step_id"].astype(str).tolist(),
                base=offset.tolist(),
                x=frame["duration_s"].clip(lower=0.05).tolist(),
                marker={
                    "color": RUN_PALETTE[index % len(RUN_PALETTE)],
                    "line": {
                        "color": ["#D55E00" if f else "rgba(0,0,0,0)" for f in failed],
                        "width": [3 if f else 0 for f in failed],
                    },
                },
                customdata=list(
                    zip(
                        frame["description"].map(_esc),
                        frame["status"].astype(str),
                        _fmt_duration(frame["duration_s"]),
                        strict=True,
                    )
                ),
                hovertemplate=(
                    f"<b>{_html(label)}</b><br>%{{customdata[0]}}<br>"
                    "status: %{customdata[1]}<br>+%{base:.1f} s, lasted "
                    "%{customdata[2]}<extra></extra>"
                ),
            )
        )
    mission = traces[0].mission
    figure.update_layout(
        title={
            "text": _html(
                f"{mission.name if mission else 'Runs'} · {len(traces)} runs aligned at their start"
            ),
            "x": 0.01,
        },
        barmode="group",
        bargap=0.25,
        height=min(max(320, 26 * len(order) * len(traces) // 2 + 170), 4000),
        xaxis={"title": "seconds since the run started"},
        yaxis={
            "type": "category",
            "categoryorder": "array",
            "categoryarray": order,
            "tickvals": order,
            "ticktext": [names[k] for k in order],
            "autorange": "reversed",
            "automargin": True,
        },
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.02, "x": 0},
        margin={"l": 10, "r": 20, "t": 90, "b": 40},
    )
    return theme_neutral(figure)


def runs_chart(runs: Any, *, title: str | None = None) -> go.Figure:
    """A mission's runs over time: one bar per run (height = duration), colored by outcome."""
    frame = runs if isinstance(runs, pd.DataFrame) else runs_frame(runs)
    figure = go.Figure()
    for status in frame["status"].cat.categories:
        part = frame[frame["status"] == status]
        figure.add_trace(
            go.Bar(
                name=status,
                x=part["started_at"].dt.tz_convert("UTC").dt.tz_localize(None).tolist(),
                y=(part["duration_s"] / 60).tolist(),
                marker={"color": RUN_COLORS[status]},
                customdata=list(
                    zip(
                        part["run_id"].astype(str),
                        _fmt_duration(part["duration_s"]),
                        (part["error"].fillna(part["result_summary"])).map(_esc),
                        strict=True,
                    )
                ),
                hovertemplate=(
                    "run %{customdata[0]}<br>started %{x}<br>lasted %{customdata[1]}"
                    "<br>%{customdata[2]}<extra>" + status + "</extra>"
                ),
                showlegend=not part.empty,
            )
        )
    figure.update_layout(
        title={"text": _html(title or f"{len(frame)} runs over time"), "x": 0.01},
        barmode="overlay",
        bargap=0,
        xaxis={"type": "date"},
        yaxis={"title": "duration (min)"},
        legend={"orientation": "h", "y": 1.02, "yanchor": "bottom", "x": 0},
        margin={"l": 10, "r": 20, "t": 80, "b": 40},
        height=420,
    )
    return theme_neutral(figure)


def step_durations(steps: pd.DataFrame, *, top: int = 25, title: str | None = None) -> go.Figure:
    """Per-step duration distributions across runs (box plots, slowest median first)."""
    done = steps[steps["status"].isin(["completed", "failed"]) & ~steps["is_running"]]
    medians = (
        done.groupby("step_id", observed=True)["duration_s"].median().sort_values(ascending=False).head(top)
    )
    figure = go.Figure()
    for step_id in medians.index:
        part = done[done["step_id"] == step_id]
        description = str(part["description"].iloc[0])
        figure.add_trace(
            go.Box(
                x=part["duration_s"].tolist(),
                name=_label(description, 0, MAX_LABEL),
                marker={"color": "#0072B2"},
                boxpoints="outliers",
                orientation="h",
                hovertemplate=f"{_esc(description)}<br>%{{x:.1f}} s<extra></extra>",
            )
        )
    figure.update_layout(
        title={"text": _html(title or "Step durations across runs (slowest first)"), "x": 0.01},
        showlegend=False,
        xaxis={"title": "seconds", "type": "log"},
        yaxis={"autorange": "reversed", "automargin": True},
        height=min(max(320, 28 * len(medians) + 150), 3000),
        margin={"l": 10, "r": 20, "t": 70, "b": 40},
    )
    return theme_neutral(figure)
