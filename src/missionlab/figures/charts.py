"""Plotly figures across runs: runs aligned at their start, a mission's runs over time, and
step duration distributions.

Like :mod:`missionlab.figures.timeline`'s, these are plain plotly Figures built from the frames of
:mod:`missionlab.frames`, with every string from the server HTML-escaped.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from ..analysis.compare import Comparison
from ..frames import runs_frame
from ..frames._durations import duration_text
from ..frames._fleet import ENDED_STEP_STATUSES, fleet_frame, is_history
from ..frames._runlike import RunLike, field
from ..types import StepStatus
from ._figure import (
    LEGEND_ABOVE,
    MAX_LABEL,
    RUN_COLORS,
    UNKNOWN_COLOR,
    Theme,
    _apply_theme,
    _base_layout,
    _esc,
    _html,
    _label,
    theme_neutral,
)
from ._gantt import MARKER_OUTLINE
from ._notebook import NotebookFigure

__all__ = [
    "RUN_COLORS",
    "RUN_PALETTE",
    "compare_runs",
    "cost_chart",
    "runs_chart",
    "step_durations",
    "theme_neutral",
    "tool_latency_chart",
]

RUN_PALETTE = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000"]


def compare_runs(
    traces: Sequence[RunLike] | Comparison,
    *,
    labels: list[str] | None = None,
    theme: Theme = "neutral",
    divergence: Any = None,
) -> go.Figure:
    """Two or more runs of a mission aligned at their start, step by step.

    Bars start at seconds since their run's start; a failed step has a thick red
    outline, so a slower or failing step stands out. ``theme=None`` keeps plotly's template.
    ``divergence`` (a :class:`missionlab.analysis.compare.Divergence` of the last run from another):
    its step's row is shaded and its moment marked with a line and a note.

    Given a :class:`~missionlab.analysis.compare.Comparison` (``trace.compare(...)``), draws its
    baselines, then its run, with its first divergence marked.
    """
    if isinstance(traces, Comparison):
        divergence = traces.divergence if divergence is None else divergence
        traces = [*traces.baselines, traces.trace]
    if len(traces) < 2:
        raise ValueError("compare_runs() needs at least two runs")
    labels = labels or [f"{str(field(t.run, 'run_id'))[:8]} ({field(t.run, 'status')})" for t in traces]
    order: list[str] = []
    names: dict[str, str] = {}
    for trace in traces:
        for step_id, description in zip(
            trace.steps_frame["step_id"], trace.steps_frame["description"], strict=True
        ):
            if step_id not in names:
                order.append(str(step_id))
                names[str(step_id)] = _label(str(description), 0, MAX_LABEL)
    figure = NotebookFigure()
    for index, (trace, label) in enumerate(zip(traces, labels, strict=True)):
        origin = pd.Timestamp(field(trace.run, "started_at")).tz_convert("UTC")
        frame = trace.steps_frame[trace.steps_frame["started_at"].notna()]
        offset = (frame["started_at"] - origin).dt.total_seconds()
        failed = frame["status"] == StepStatus.FAILED
        figure.add_trace(
            go.Bar(
                name=_html(label),
                legendgroup=f"run{index}",
                offsetgroup=f"run{index}",
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
                        frame["duration_s"].map(duration_text),
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
        not_run = _not_run(trace)
        if len(not_run):
            figure.add_trace(_not_run_marks(not_run, origin, label, index))
    mission = traces[0].mission
    _base_layout(
        figure,
        f"{field(mission, 'name') if mission else 'Runs'} · {len(traces)} runs aligned at their start",
        top=COMPARE_TOP,
        legend=COMPARE_LEGEND,
        barmode="group",
        scattermode="group",
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
    )
    figure.update_layout(title={"y": 1, "yref": "container", "yanchor": "top", "pad": {"t": 12}})
    if divergence is not None:
        _mark_divergence(figure, divergence, order)
    return _apply_theme(figure, theme)


# The compare figure's top margin holds the title (at the top) and the divergence note (on
# the plot's top edge), one line each; the legend is at the right, from the plot's top edge
# down: the note and the legend can never meet.
COMPARE_TOP = 80
COMPARE_LEGEND = {"orientation": "v", "x": 1.02, "xanchor": "left", "y": 1, "yanchor": "top"}


def _not_run(trace: RunLike) -> pd.DataFrame:
    """The run's steps that will never run: not started, and skipped or failed, or of an
    ended run (a running run's pending steps may still start)."""
    steps = trace.steps_frame
    waiting = steps["status"].isin([StepStatus.PENDING, StepStatus.IN_PROGRESS])
    ended = field(trace.run, "finished_at") is not None
    return steps[steps["started_at"].isna() & (ended | ~waiting)]


def _not_run_marks(steps: pd.DataFrame, origin: pd.Timestamp, label: str, index: int) -> go.Scatter:
    """A run's steps that never started (skipped, or still pending when it ended), as marks
    on their rows: at the moment they were settled if known, else at the run's start."""
    settled = (steps["completed_at"] - origin).dt.total_seconds().fillna(0).clip(lower=0)
    return go.Scatter(
        name=f"{_html(label)} · not run",
        legendgroup=f"run{index}",
        offsetgroup=f"run{index}",
        mode="markers",
        y=steps["step_id"].astype(str).tolist(),
        x=settled.tolist(),
        marker={
            "symbol": "x",
            "size": 11,
            "color": RUN_PALETTE[index % len(RUN_PALETTE)],
            "line": {"width": 1.5, "color": MARKER_OUTLINE},
        },
        customdata=list(zip(steps["description"].map(_esc), steps["status"].astype(str), strict=True)),
        hovertemplate=(
            f"<b>{_html(label)}</b><br>%{{customdata[0]}}<br>status: %{{customdata[1]}} (never started)"
            "<extra></extra>"
        ),
    )


DIVERGENCE_COLOR = "#D55E00"


def _mark_divergence(figure: go.Figure, divergence: Any, order: list[str]) -> None:
    """Shade the diverging step's row, draw a line at its moment, and say what diverged."""
    step_id = getattr(divergence, "step_id", None)
    if step_id in order:
        row = order.index(step_id)
        figure.add_shape(
            type="rect",
            xref="paper",
            x0=0,
            x1=1,
            yref="y",
            y0=row - 0.5,
            y1=row + 0.5,
            fillcolor="rgba(213, 94, 0, 0.12)",
            line={"width": 0},
            layer="below",
            name="divergence",
        )
    at = float(divergence.at_s)
    bars = [t for t in figure.data if t.type == "bar" and len(t.x)]
    span = max((b + x for t in bars for b, x in zip(t.base, t.x, strict=True)), default=at)
    figure.add_shape(
        type="line",
        xref="x",
        x0=at,
        x1=at,
        yref="paper",
        y0=0,
        y1=1,
        line={"color": DIVERGENCE_COLOR, "width": 2, "dash": "dash"},
        layer="above",
        name="divergence",
    )
    figure.add_annotation(
        x=at,
        y=1,
        xref="x",
        yref="paper",
        yanchor="bottom",
        # toward the plot's middle, so that the note stays over the plot
        xanchor="left" if at <= span / 2 else "right",
        showarrow=False,
        align="left",
        font={"size": 11, "color": DIVERGENCE_COLOR},
        text=f"first divergence ({_html(str(divergence.kind))}) at +{duration_text(at)}",
        hovertext=_esc(divergence.text),
    )


def runs_chart(runs: Any, *, title: str | None = None, theme: Theme = "neutral", **filters: Any) -> go.Figure:
    """A mission's runs over time: one bar per run (height = duration), colored by outcome.

    A run still running is hatched, and its bar is capped at the longest ended run's
    duration (its hover says how long it has run so far): one run left open for days
    never flattens the others. ``runs``: a runs frame, runs, or a :class:`missionlab.History`
    with ``mission``/``since``/``until``/``status`` filters. ``theme=None`` keeps plotly's template.
    """
    runs = fleet_frame(runs, "runs", filters)
    frame = runs if isinstance(runs, pd.DataFrame) else runs_frame(runs)
    heights, lasted = _run_heights(frame)
    running = frame["is_running"].fillna(False).astype(bool)
    width = _bar_width_ms(frame["started_at"])
    figure = NotebookFigure()
    for status in frame["status"].cat.categories:
        mine = (frame["status"] == status).to_numpy()
        part = frame[mine]
        figure.add_trace(
            go.Bar(
                name=_html(status),
                x=part["started_at"].dt.tz_convert("UTC").dt.tz_localize(None).tolist(),
                y=(heights[mine] / 60).tolist(),
                width=width,
                marker={
                    "color": RUN_COLORS.get(status, UNKNOWN_COLOR),
                    "pattern": {"shape": ["/" if r else "" for r in running[mine]]},
                },
                customdata=list(
                    zip(
                        part["run_id"].astype(str),
                        lasted[mine].tolist(),
                        (part["error"].fillna(part["result_summary"])).map(_esc),
                        strict=True,
                    )
                ),
                hovertemplate=(
                    "run %{customdata[0]}<br>started %{x}<br>lasted %{customdata[1]}"
                    "<br>%{customdata[2]}<extra>" + _html(status).replace("%", "&#37;") + "</extra>"
                ),
                showlegend=not part.empty,
            )
        )
    _base_layout(
        figure,
        title or f"{len(frame)} runs over time",
        top=80,
        legend=LEGEND_ABOVE,
        barmode="overlay",
        bargap=0,
        xaxis={"type": "date"},
        yaxis={"title": "duration (min)"},
        height=420,
    )
    return _apply_theme(figure, theme)


def _bar_width_ms(starts: pd.Series) -> float:
    """One width for every run's bar: the shortest time between two runs' starts (plotly
    would size each status's bars by its own runs, so a status with one run got a hairline)."""
    utc = starts.dropna().dt.tz_convert("UTC").dt.tz_localize(None)
    times = np.sort(utc.to_numpy(dtype="datetime64[ms]"))
    gaps = np.diff(times).astype("float64")
    gaps = gaps[gaps > 0]
    return float(gaps.min()) if len(gaps) else 60_000.0


def _run_heights(frame: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
    """Each run's bar height in seconds (a running run's capped at the longest ended run's)
    and the hover's duration text (a running run's "so far")."""
    seconds = frame["duration_s"].astype("float64")
    running = frame["is_running"].fillna(False).astype(bool)
    ended = seconds[~running].dropna()
    cap = float(ended.max()) if len(ended) else float("inf")
    heights = seconds.where(~running, seconds.clip(upper=cap))
    text = seconds.map(duration_text)
    so_far = text + " so far, still running"
    capped = running & (seconds > cap)
    so_far = so_far.where(~capped, so_far + " (bar capped at the longest ended run)")
    return heights, text.where(~running, so_far)


def step_durations(
    steps: Any, *, top: int = 25, title: str | None = None, theme: Theme = "neutral", **filters: Any
) -> go.Figure:
    """Per-step duration distributions across runs (box plots, slowest median first).

    ``steps``: a steps frame, or a :class:`missionlab.History` with ``mission``/``since``/
    ``until`` filters. ``theme=None`` keeps plotly's template.
    """
    steps = fleet_frame(steps, "steps", filters)
    done = steps[steps["status"].isin(ENDED_STEP_STATUSES) & ~steps["is_running"]]
    medians = (
        done.groupby("step_id", observed=True)["duration_s"].median().sort_values(ascending=False).head(top)
    )
    figure = NotebookFigure()
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
    _base_layout(
        figure,
        title or "Step durations across runs (slowest first)",
        top=70,
        showlegend=False,
        xaxis={"title": "seconds", "type": "log", **log_ticks(done["duration_s"])},
        yaxis={"autorange": "reversed", "automargin": True},
        height=min(max(320, 28 * len(medians) + 150), 3000),
    )
    return _apply_theme(figure, theme)


def log_ticks(seconds: Any) -> dict[str, Any]:
    """Tick values and texts of a log axis over ``seconds``: 1, 2 and 5 times powers of ten
    (powers of ten only over more than three decades), each labelled with its whole value.

    Plotly's own log ticks label the 2 and 5 between powers of ten with their first digit
    only, so 0.2 s would read "2"."""
    values = np.asarray(seconds, dtype="float64")
    values = values[np.isfinite(values) & (values > 0)]
    if not len(values):
        return {}
    low, high = math.floor(math.log10(values.min())), math.ceil(math.log10(values.max()))
    high = max(high, low + 1)
    steps = (1,) if high - low > 3 else (1, 2, 5)
    ticks = [round(m * 10.0**k, 12) for k in range(low, high + 1) for m in steps]
    ticks = [t for t in ticks if t <= 10.0**high]
    text = [np.format_float_positional(t, trim="-") for t in ticks]
    return {"tickmode": "array", "tickvals": ticks, "ticktext": text}


def _fleet_stats(source: Any, by: Any, freq: str, filters: dict[str, Any]) -> pd.DataFrame:
    """``source`` as given when it is a ``tool_stats`` answer with periods, else its ``tool_stats``."""
    from ..analysis.tool_stats import tool_stats

    if isinstance(source, pd.DataFrame) and "period" in source and "p95_s" in source:
        if filters:
            raise TypeError("filters apply to a source of calls, not to a tool_stats answer")
        return source
    return tool_stats(source, by=by, freq=freq, **filters)


def _period(freq: str) -> str:
    return {"D": "day", "h": "hour", "H": "hour", "W": "week", "7D": "week"}.get(freq, freq)


def tool_latency_chart(
    source: Any, *, freq: str = "D", theme: Theme = "neutral", title: str | None = None, **filters: Any
) -> go.Figure:
    """Latency percentiles of each tool over time: p50 (thin), p95 (thick) and p99 (dotted)
    per period, one colour per tool, on a log axis of seconds.

    ``source``: what :func:`missionlab.tool_stats` reads (a History, frames, runs; with its
    ``since``/``until``/``mission`` filters) or its answer with ``freq`` (``period`` rows).
    """
    stats = _fleet_stats(source, "tool", freq, filters)
    figure = NotebookFigure()
    dashes = {"p50_s": ("p50", 1.2, "solid"), "p95_s": ("p95", 2.6, "solid"), "p99_s": ("p99", 1.4, "dot")}
    for index, (tool, part) in enumerate(stats.groupby("tool", sort=True, observed=True)):
        color = RUN_PALETTE[index % len(RUN_PALETTE)]
        when = part["period"].dt.tz_convert("UTC").dt.tz_localize(None).tolist()
        for column, (name, width, dash) in dashes.items():
            figure.add_trace(
                go.Scatter(
                    name=f"{_html(str(tool))} {name}",
                    legendgroup=_html(str(tool)),
                    x=when,
                    y=part[column].tolist(),
                    mode="lines+markers",
                    line={"color": color, "width": width, "dash": dash},
                    marker={"size": 4 if name == "p95" else 2},
                    customdata=list(zip(part["calls"], part["error_rate"], strict=True)),
                    hovertemplate=(
                        f"<b>{_html(str(tool))}</b> {name}: %{{y:.3g}} s<br>%{{x}}<br>"
                        "%{customdata[0]} calls, %{customdata[1]:.1%} failed<extra></extra>"
                    ),
                )
            )
    _base_layout(
        figure,
        title or f"Tool latency per {_period(freq)}: p50, p95 (thick), p99 (dotted)",
        top=60,
        right=10,
        legend={"orientation": "v", "x": 1.02, "xanchor": "left", "y": 1, "yanchor": "top"},
        xaxis={"type": "date"},
        yaxis={"title": "seconds", "type": "log"},
        height=440,
    )
    return _apply_theme(figure, theme)


def cost_chart(
    source: Any, *, freq: str = "D", theme: Theme = "neutral", title: str | None = None, **filters: Any
) -> go.Figure:
    """Tokens (top) and cost in USD (bottom) per period, stacked by mission: what the runs'
    tool calls and model calls used (``payload.usage.total_tokens``, ``payload.cost_usd``).

    ``source``: what :func:`missionlab.tool_stats` reads, with its filters, or its answer
    ``by="mission"`` with ``freq``.
    """
    from plotly.subplots import make_subplots

    stats = _fleet_stats(source, "mission", freq, filters)
    names: dict[Any, Any] = {}
    if is_history(source):  # missions by name
        known = source.missions()
        names = dict(zip(known["mission_id"].astype(object), known["name"].astype(object), strict=True))
    figure = make_subplots(rows=2, cols=1, shared_xaxes=True, vertical_spacing=0.06, figure=NotebookFigure())
    for index, (mission, part) in enumerate(stats.groupby("mission_id", sort=True, observed=True)):
        color = RUN_PALETTE[index % len(RUN_PALETTE)]
        name = _html(_label(str(names.get(mission) or mission), 0, MAX_LABEL))
        when = part["period"].dt.tz_convert("UTC").dt.tz_localize(None).tolist()
        for row, column, unit in ((1, "tokens", "%{y:,.0f} tokens"), (2, "cost_usd", "$%{y:,.2f}")):
            figure.add_trace(
                go.Bar(
                    name=name,
                    legendgroup=name,
                    showlegend=row == 1,
                    x=when,
                    y=part[column].tolist(),
                    marker={"color": color},
                    customdata=list(zip(part["runs"], part["calls"], strict=True)),
                    hovertemplate=(
                        f"<b>{name}</b><br>%{{x}}: {unit}<br>%{{customdata[0]}} runs, "
                        "%{customdata[1]} calls<extra></extra>"
                    ),
                ),
                row=row,
                col=1,
            )
    _base_layout(
        figure,
        title or f"Tokens and cost per {_period(freq)}, by mission",
        top=60,
        right=10,
        legend={"orientation": "v", "x": 1.02, "xanchor": "left", "y": 1, "yanchor": "top"},
        barmode="stack",
        height=520,
    )
    figure.update_yaxes(title_text="tokens", row=1, col=1)
    figure.update_yaxes(title_text="cost (USD)", row=2, col=1)
    return _apply_theme(figure, theme)
