"""Plotly figures across runs: runs aligned at their start, a mission's runs over time, and
step duration distributions.

Like :mod:`missionlab.figures.timeline`'s, these are plain plotly Figures built from the frames of
:mod:`missionlab.frames`, with every string from the server HTML-escaped.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd
import plotly.graph_objects as go

from ..analysis.compare import Comparison
from ..frames import runs_frame
from ..frames._durations import duration_text
from ..frames._fleet import ENDED_STEP_STATUSES, fleet_frame
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

__all__ = ["RUN_COLORS", "RUN_PALETTE", "compare_runs", "runs_chart", "step_durations", "theme_neutral"]

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
    figure = go.Figure()
    for index, (trace, label) in enumerate(zip(traces, labels, strict=True)):
        frame = trace.steps_frame[trace.steps_frame["started_at"].notna()]
        origin = pd.Timestamp(field(trace.run, "started_at")).tz_convert("UTC")
        offset = (frame["started_at"] - origin).dt.total_seconds()
        failed = frame["status"] == StepStatus.FAILED
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
    mission = traces[0].mission
    _base_layout(
        figure,
        f"{field(mission, 'name') if mission else 'Runs'} · {len(traces)} runs aligned at their start",
        top=90,
        legend=LEGEND_ABOVE,
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
    )
    if divergence is not None:
        _mark_divergence(figure, divergence, order)
    return _apply_theme(figure, theme)


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
        showarrow=False,
        align="left",
        font={"size": 11, "color": DIVERGENCE_COLOR},
        text=f"first divergence ({_html(str(divergence.kind))}) at +{duration_text(at)}",
        hovertext=_esc(divergence.text),
    )


def runs_chart(runs: Any, *, title: str | None = None, theme: Theme = "neutral", **filters: Any) -> go.Figure:
    """A mission's runs over time: one bar per run (height = duration), colored by outcome.

    ``runs``: a runs frame, runs, or a :class:`missionlab.History` with ``mission``/``since``/
    ``until``/``status`` filters. ``theme=None`` keeps plotly's template.
    """
    runs = fleet_frame(runs, "runs", filters)
    frame = runs if isinstance(runs, pd.DataFrame) else runs_frame(runs)
    figure = go.Figure()
    for status in frame["status"].cat.categories:
        part = frame[frame["status"] == status]
        figure.add_trace(
            go.Bar(
                name=_html(status),
                x=part["started_at"].dt.tz_convert("UTC").dt.tz_localize(None).tolist(),
                y=(part["duration_s"] / 60).tolist(),
                marker={"color": RUN_COLORS.get(status, UNKNOWN_COLOR)},
                customdata=list(
                    zip(
                        part["run_id"].astype(str),
                        part["duration_s"].map(duration_text),
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
    _base_layout(
        figure,
        title or "Step durations across runs (slowest first)",
        top=70,
        showlegend=False,
        xaxis={"title": "seconds", "type": "log"},
        yaxis={"autorange": "reversed", "automargin": True},
        height=min(max(320, 28 * len(medians) + 150), 3000),
    )
    return _apply_theme(figure, theme)
