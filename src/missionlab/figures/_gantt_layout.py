"""The Gantt's layout: row labels, the run's start/end/now lines, paused intervals (or a
note that the run's events cannot tell them), title and size."""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

from ..frames._pauses import of_type, paused_intervals
from ..frames._run_end import run_end
from ..frames._runlike import field
from ..types import ACTIVE_RUN_STATUSES, EventType, RunStatus
from ._figure import Theme, _base_layout_dict, _naive_utc, _themed

END_LINE = "end"  # the name (and label) of the run's end line: a replay shows it once reached

PAUSED_FILL = "rgba(230, 159, 0, 0.18)"
PAUSED = "paused"
PAUSED_ASSUMED = "paused since its last update (assumed: no status events)"
NO_PAUSES = "Pauses are not recorded in this run's events (it has no status_change events)."
ROW_HEIGHT = 22
MAX_HEIGHT = 4000
MIN_LABEL_PX = 12  # vertical pixels a tick label needs


def _full_height(kind: str, x0: Any, x1: Any, **style: Any) -> dict[str, Any]:
    """A shape (``"line"`` or ``"rect"``) across the plot's whole height, from ``x0`` to ``x1``."""
    return {"type": kind, "xref": "x", "yref": "paper", "x0": x0, "x1": x1, "y0": 0, "y1": 1, **style}


def _pauses(events: pd.DataFrame, run: Any, end: Any) -> tuple[list[dict[str, Any]], str | None]:
    """Paused-interval shapes and, when the events cannot tell, a note saying so.

    Pauses are read from ``status_change`` events (a sandbox convention the published API
    does not promise). Without any, a paused run is shaded from its last update, named as
    an assumption in the legend, and the figure says that pauses are not recorded.
    """
    recorded = bool(of_type(events, EventType.STATUS_CHANGE).any())
    intervals = [(start, stop, PAUSED) for start, stop in paused_intervals(events, end)]
    paused_now = run is not None and str(field(run, "status")) == RunStatus.PAUSED
    if paused_now and not recorded and field(run, "updated_at") is not None:
        intervals.append((field(run, "updated_at"), end, PAUSED_ASSUMED))
    shapes = []
    for index, (start, stop, name) in enumerate(intervals):
        first = all(other != name for _, _, other in intervals[:index])
        style = {"fillcolor": PAUSED_FILL, "line": {"width": 0}, "layer": "below"}
        shapes.append(
            _full_height(
                "rect",
                _naive_utc(start),
                _naive_utc(stop),
                name=name,
                legendgroup=name,
                showlegend=first,
                **style,
            )
        )
    note = NO_PAUSES if run is not None and not recorded else None
    return shapes, note


def gantt_layout(
    keys: list[str],
    labels: list[str],
    steps: pd.DataFrame,
    events: pd.DataFrame,
    run: Any,
    mission: Any,
    now: pd.Timestamp,
    title: str | None,
    theme: Theme,
    now_label: str = "now",
) -> dict[str, Any]:
    """The Gantt's layout: row labels, start/end/now lines, paused shading, title, size;
    ``now_label`` names the line at ``now`` ("saved": a capsule's saved moment)."""
    shapes: list[dict[str, Any]] = []
    notes: list[dict[str, Any]] = []

    def vline(x: Any, text: str, color: str, dash: str) -> None:
        x = _naive_utc(x)
        shapes.append(
            _full_height("line", x, x, line={"color": color, "width": 1.5, "dash": dash}, name=text)
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

    status = field(run, "status") if run is not None else None
    finished_at = field(run, "finished_at") if run is not None else None
    if run is not None:
        vline(field(run, "started_at"), "start", "#8a8a8a", "dot")
        if finished_at is not None:
            vline(finished_at, END_LINE, "#8a8a8a", "dot")
    ended_at = run_end(run)
    # a run that has ended has no "now" on its timeline: nothing in it goes on after its end
    if ended_at is None and (status in ACTIVE_RUN_STATUSES or bool(steps["is_running"].any())):
        vline(now, now_label, "#D55E00", "dash")
    paused, note = _pauses(events, run, ended_at or now)
    shapes = paused + shapes
    meta: dict[str, Any] = {"rows": keys}
    if title is None:
        name = field(mission, "name") if mission is not None else None
        run_id = field(run, "run_id") if run is not None else (steps["run_id"].iloc[0] if len(steps) else "")
        title = f"{name or 'Run'} · run {str(run_id)[:8]}"
        if finished_at is not None:  # a replay's moments before the end do not know how it ended
            meta["title_before_end"] = title
        title += f" · {status}" if status else ""
    rows = len(keys)
    height = min(max(380, ROW_HEIGHT * rows + 120), MAX_HEIGHT)
    # Past what fits, label every n-th row (all rows stay, with full text on hover; zoom in).
    label_step = max(1, math.ceil(rows * MIN_LABEL_PX / (height - 120)))
    layout = _base_layout_dict(
        title,
        top=80 if note else 60,
        right=10,
        legend={"yanchor": "top", "y": 1, "x": 1.01, "font": {"size": 10}, "tracegroupgap": 2},
        barmode="overlay",
        hovermode="closest",
        height=height,
        shapes=shapes,
        annotations=notes,
        meta=meta,
        xaxis={"type": "date", "title": None, "showgrid": True},
        yaxis={
            "type": "linear",
            "tickmode": "array",
            "tickvals": list(range(rows))[::label_step],
            "ticktext": labels[::label_step],
            "automargin": True,
            # The margin grows to fit the labels, so none can overflow; plotly's default
            # ("hide past div") measures every label once per label on each redraw, which
            # made a 500-step replay frame take three times its 250 ms.
            "ticklabeloverflow": "allow",
            "range": [rows - 0.5, -0.5],  # reversed: first row on top
            "zeroline": False,
            "showgrid": False,
            "tickfont": {"size": 11 if label_step == 1 else 9},
        },
    )
    if note:
        layout["title"]["subtitle"] = {"text": note, "font": {"size": 11}}
    return _themed(layout, theme)
