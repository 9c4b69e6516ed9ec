"""What the figures of :mod:`missionlab.figures.timeline` and :mod:`missionlab.figures.charts` share: status
colors, the neutral theme, escaping and formatting (durations: :mod:`missionlab.frames._durations`).

Every string from the server is HTML-escaped before it reaches a label or a hover
(``<``, ``>`` and ``&``: plotly's text renderer reads those entities, not ``&quot;``).
"""

from __future__ import annotations

import html
from typing import Any, Literal

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pyarrow as pa
import pyarrow.compute as pc

from ..client._display import STATUS_COLORS
from ..client._json import short_json
from ..types import RunStatus, StepStatus
from ._notebook import NotebookFigure

RUN_COLORS = {s.value: STATUS_COLORS[s.value] for s in RunStatus}
STEP_COLORS = {s.value: STATUS_COLORS[s.value] for s in StepStatus}
STEP_COLORS[StepStatus.PENDING] = "#BBBBBB"
UNKNOWN_COLOR = "#8a8a8a"  # a status or type missionlab does not know: neutral, under its own name
MAX_LABEL = 40
LEGEND_ABOVE = {"orientation": "h", "yanchor": "bottom", "y": 1.02, "x": 0}

Theme = Literal["neutral"] | None


def _html(text: str) -> str:
    """Escape text for plotly's pseudo-HTML labels (tags off; quotes are harmless there)."""
    return html.escape(text, quote=False)


def _esc(value: Any, limit: int = 300) -> str:
    """One value as escaped label text, shortened to ``limit`` characters (nested JSON
    through the depth- and length-limited ``short_json``, never ``json.dumps``)."""
    if value is None or value is pd.NA or (isinstance(value, float) and value != value):
        return ""
    if not isinstance(value, str):
        return _html(short_json(value, limit))
    return _html(value if len(value) <= limit else value[: limit - 1] + "…")


def _esc_all(values: Any, limit: int = 300) -> pa.Array:
    """:func:`_esc` of every value of a string column at once (Arrow compute): missing
    values become empty strings."""
    text = pc.cast(pa.array(values, from_pandas=True), pa.string())
    lengths = pc.utf8_length(text)
    if (pc.max(lengths).as_py() or 0) > limit:  # cut only when some are long (most columns: none)
        text = pc.if_else(
            pc.greater(lengths, limit),
            pc.binary_join_element_wise(pc.utf8_slice_codeunits(text, 0, limit - 1), "…", ""),
            text,
        )
    for char, entity in (("&", "&amp;"), ("<", "&lt;"), (">", "&gt;")):
        text = pc.replace_substring(text, char, entity)
    return pc.fill_null(text, "")


def _joined(*parts: Any) -> pa.Array:
    """Strings joined element by element (Arrow arrays or plain strings)."""
    return pc.binary_join_element_wise(*parts, "")


def _strings(values: pa.Array) -> np.ndarray[Any, Any]:
    """Arrow strings as a numpy array of fixed-width strings: what plotly copies and
    serializes fastest."""
    return np.asarray(values.to_numpy(zero_copy_only=False), dtype=str)


def _label(description: str, depth: int, limit: int) -> str:
    text = description if len(description) <= limit else description[: limit - 1] + "…"
    prefix = "\u00a0\u00a0\u00a0" * depth + ("└ " if depth else "")
    return prefix + _html(text)


_GRID = "rgba(127, 127, 127, 0.25)"
NEUTRAL_LAYOUT = {
    "paper_bgcolor": "rgba(0, 0, 0, 0)",
    "plot_bgcolor": "rgba(127, 127, 127, 0.08)",
    "font": {"color": "#808080"},
}
NEUTRAL_AXIS = {"gridcolor": _GRID, "zerolinecolor": _GRID, "linecolor": _GRID}


def theme_neutral(figure: go.Figure) -> go.Figure:
    """Colors that read on light and dark backgrounds (JupyterLab's themes, Voila, GitHub)."""
    figure.update_layout(NEUTRAL_LAYOUT)
    figure.update_xaxes(NEUTRAL_AXIS)
    figure.update_yaxes(NEUTRAL_AXIS)
    return figure


def _check_theme(theme: Theme) -> None:
    if theme not in ("neutral", None):
        raise ValueError(f"theme must be 'neutral' or None, not {theme!r}")


def _themed(layout: dict[str, Any], theme: Theme) -> dict[str, Any]:
    """A layout dict with ``theme``'s colors (the dict form of :func:`_apply_theme`)."""
    _check_theme(theme)
    if theme is None:
        return layout
    axes = {k: {**v, **NEUTRAL_AXIS} for k, v in layout.items() if k.startswith(("xaxis", "yaxis"))}
    return {**layout, **NEUTRAL_LAYOUT, **axes}


def _apply_theme(figure: go.Figure, theme: Theme) -> go.Figure:
    """``"neutral"``: :func:`theme_neutral`; ``None``: plotly's template, left alone."""
    _check_theme(theme)
    return theme_neutral(figure) if theme == "neutral" else figure


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
    figure.update_layout(_base_layout_dict(title, top=top, right=right, legend=legend, **layout))


def _base_layout_dict(
    title: str, *, top: int, right: int = 20, legend: dict[str, Any] | None = None, **layout: Any
) -> dict[str, Any]:
    """:func:`_base_layout` as a dict."""
    if legend is not None:
        layout["legend"] = legend
    margin = {"l": 10, "r": right, "t": top, "b": 40}
    return {"title": {"text": _html(title), "x": 0.01}, "margin": margin, **layout}


def _figure(spec: dict[str, Any]) -> go.Figure:
    """A plotly Figure of a figure dict built here (trusted keys, typed arrays): plotly's
    validation, which deep-copies every array, is skipped while building and on again for
    whatever the user changes afterwards."""
    figure = NotebookFigure(spec, _validate=False)
    for part in (figure, figure.layout, *figure.data):
        part._validate = True
    return figure


def _naive_utc(moment: Any) -> pd.Timestamp:
    """A moment as a naive UTC timestamp, as plotly places it on a date axis."""
    return pd.Timestamp(moment).tz_convert("UTC").tz_localize(None)
