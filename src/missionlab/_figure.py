"""What the figures of :mod:`missionlab.timeline` and :mod:`missionlab.charts` share: status
colors, the neutral theme, escaping and formatting.

Every string from the server is HTML-escaped before it reaches a label or a hover
(``<``, ``>`` and ``&``: plotly's text renderer reads those entities, not ``&quot;``).
"""

from __future__ import annotations

import html
import json
from typing import Any, Literal

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from ._display import STATUS_COLORS
from .types import RunStatus, StepStatus

RUN_COLORS = {s.value: STATUS_COLORS[s.value] for s in RunStatus}
STEP_COLORS = {s.value: STATUS_COLORS[s.value] for s in StepStatus}
STEP_COLORS["pending"] = "#BBBBBB"
MAX_LABEL = 40
LEGEND_ABOVE = {"orientation": "h", "yanchor": "bottom", "y": 1.02, "x": 0}

Theme = Literal["neutral"] | None


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


def _apply_theme(figure: go.Figure, theme: Theme) -> go.Figure:
    """``"neutral"``: :func:`theme_neutral`; ``None``: plotly's template, left alone."""
    if theme == "neutral":
        return theme_neutral(figure)
    if theme is not None:
        raise ValueError(f"theme must be 'neutral' or None, not {theme!r}")
    return figure


def _base_layout(
    figure: go.Figure,
    title: str,
    *,
    top: int,
    right: int = 20,
    legend: dict[str, Any] | None = None,
    **layout: Any,
) -> None:
    """What every figure's layout has: its escaped title at the left, narrow margins (``top``
    makes room for the title and a legend above the plot), the legend, and ``layout``."""
    if legend is not None:
        layout["legend"] = legend
    margin = {"l": 10, "r": right, "t": top, "b": 40}
    figure.update_layout(title={"text": _html(title), "x": 0.01}, margin=margin, **layout)


def _dates(series: pd.Series) -> np.ndarray[Any, Any]:
    """Timestamps as ISO strings (UTC): what a date axis reads both in a static figure and in a
    FigureWidget (which would send datetime64 arrays as raw integers)."""
    values = series.dt.tz_convert("UTC").dt.tz_localize(None).to_numpy(dtype="datetime64[us]")
    return np.datetime_as_string(values, unit="us").astype(object)


def _add_axis_anchor(figure: go.Figure, first: pd.Timestamp, last: pd.Timestamp, row: str) -> None:
    """An invisible first trace from ``first`` to ``last`` on ``row``.

    plotly.js re-guesses an axis's type from the first trace with data whenever a live update
    changes the data; a Gantt's bars have durations (numbers) as x, which would make the time
    axis linear and every date-placed shape a NaN path. This trace makes the guess "date" (and
    "category" for the rows, whatever the step ids look like).
    """
    figure.add_trace(
        go.Scatter(
            name="run span",
            mode="markers",
            x=_dates(pd.Series([first, last])),
            y=[row, row],
            marker={"opacity": 0, "size": 1},
            hoverinfo="skip",
            showlegend=False,
        )
    )


def _naive_utc(moment: Any) -> pd.Timestamp:
    """A moment as a naive UTC timestamp, as plotly places it on a date axis."""
    return pd.Timestamp(moment).tz_convert("UTC").tz_localize(None)


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
