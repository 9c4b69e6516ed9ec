"""One run's Gantt as a plain figure dict, the single builder behind :func:`missionlab.gantt`
and :class:`missionlab.timeline.LiveGantt`.

Rows are numbered (the run's row 0, then the plan's steps in plan order) on a linear y
axis labelled with the steps' descriptions; the row keys are in ``layout.meta["rows"]``.
Per-point text is built column-wise (Arrow compute) into fixed-width string arrays,
times are ISO strings: plotly copies and serializes these without a per-point Python
step. Only traces that hold points are drawn; each is named by its ``meta``
(``bar:<status>``, ``mark:<status>``, ``event:<type>``), which a live widget keeps.
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from ._figure import (
    STEP_COLORS,
    UNKNOWN_COLOR,
    Theme,
    _base_layout_dict,
    _dates,
    _esc_all,
    _fmt_duration,
    _html,
    _joined,
    _label,
    _naive_utc,
    _strings,
    _themed,
)
from ._jsontext import json_object
from ._runlike import field
from .types import ACTIVE_RUN_STATUSES, EventType, RunStatus

RUN_ROW = "__run__"
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
UNKNOWN_SYMBOL = "hexagon-open"
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
PAUSED_FILL = "rgba(230, 159, 0, 0.18)"
PAUSED = "paused"
PAUSED_ASSUMED = "paused since its last update (assumed: no status events)"
NO_PAUSES = "Pauses are not recorded in this run's events (it has no status_change events)."
ROW_HEIGHT = 22
MAX_HEIGHT = 4000
MIN_LABEL_PX = 12  # vertical pixels a tick label needs
_TIME = "%Y-%m-%d %H:%M:%S"
EVENT_HOVER = f"%{{x|{_TIME}}}<br>%{{text}}<br>step: %{{customdata}}<br>%{{hovertext}}<extra></extra>"
BAR_HOVER = (
    "<b>%{customdata[0]}</b><br>status: %{customdata[1]}<br>start: %{customdata[2]}<br>"
    "end: %{customdata[3]}<br>duration: %{customdata[4]}<br>%{customdata[5]}<extra></extra>"
)


class Points(NamedTuple):
    """One event type's markers: ISO times, rows, and the hover's summary (``text``), step
    and agent (``customdata``) and payload (``hovertext``): three flat string arrays, which
    plotly copies and serializes faster than one two-dimensional one."""

    x: np.ndarray[Any, Any]
    y: np.ndarray[Any, Any]
    text: np.ndarray[Any, Any]
    customdata: np.ndarray[Any, Any]
    hovertext: np.ndarray[Any, Any]

    def __add__(self, other: Points) -> Points:  # type: ignore[override]
        return Points(*(np.concatenate([a, b]) for a, b in zip(self, other, strict=True)))


def row_keys(steps: pd.DataFrame) -> list[str]:
    """The row keys: the run's row, then each step id in plan order."""
    return [RUN_ROW, *steps["step_id"].astype(str).tolist()]


def _clock(times: pd.Series) -> pa.Array:
    """UTC times as ``YYYY-mm-dd HH:MM:SS`` text, "—" where missing (numpy writes ISO times
    several times faster than strftime)."""
    seconds = times.dt.tz_convert(None).to_numpy(dtype="datetime64[s]")
    iso = pa.array(np.datetime_as_string(seconds, unit="s"))
    return pc.replace_substring(pc.replace_substring(iso, "T", " "), "NaT", "—")


def _rows_of(keys: list[str], ids: pd.Series) -> np.ndarray[Any, Any]:
    """The row of each id (the run's row, 0, for a missing or unknown id)."""
    first: dict[str, int] = {}
    for row, key in enumerate(keys):
        first.setdefault(key, row)
    codes, distinct = pd.factorize(ids)  # few distinct step ids among many events
    table = np.array([first.get(str(key), 0) for key in distinct] + [0], dtype="int64")
    return table[codes]  # code -1 (missing id): the last entry, the run's row


def event_points(events: pd.DataFrame, keys: list[str]) -> dict[str, Points]:
    """Markers of ``events`` by type, in the order of the frame's type categories."""
    if events.empty:
        return {}
    rows = _rows_of(keys, events["step_id"])
    step = _esc_all(events["step_id"])
    step = pc.if_else(pc.equal(step, ""), "run", step)  # no step: the run's own event
    summary = _strings(_esc_all(events["summary"]))
    step_agent = _strings(_joined(step, " · agent: ", _esc_all(events["agent_id"])))
    payload = _strings(_esc_all(events["payload"], 200))
    x = _dates(events["timestamp"])
    types = events["type"]
    points = {}
    for event_type in types.cat.categories:
        mine = (types == event_type).to_numpy()
        if mine.any():
            points[str(event_type)] = Points(
                x[mine], rows[mine], summary[mine], step_agent[mine], payload[mine]
            )
    return points


def _event_traces(points: dict[str, Points]) -> list[dict[str, Any]]:
    traces = []
    for event_type, part in points.items():
        color = EVENT_COLORS.get(event_type, UNKNOWN_COLOR)
        name = _html(event_type)
        traces.append(
            {
                "type": "scattergl",
                "meta": f"event:{event_type}",
                "name": name,
                "legendgroup": f"event:{event_type}",
                "mode": "markers",
                **part._asdict(),
                "hovertemplate": f"<b>{name.replace('%', '&#37;')}</b> {EVENT_HOVER}",
                "marker": {
                    "symbol": EVENT_SYMBOLS.get(event_type, UNKNOWN_SYMBOL),
                    "size": 8,
                    "color": color,
                    "line": {"width": 1, "color": color},
                },
            }
        )
    return traces


def _step_traces(steps: pd.DataFrame, now: pd.Timestamp, origin: pd.Timestamp) -> list[dict[str, Any]]:
    """Per status, a bar trace of the steps that started and a marker trace of the others
    (pending ones at the run's start, skipped or failed ones at their end)."""
    if steps.empty:
        return []
    rows = np.arange(1, len(steps) + 1, dtype="int64")
    end = steps["completed_at"].where(~steps["is_running"], now)
    times_from = steps["times_from"].astype(object)
    start_note = np.where(times_from.isin(["events", "start from events"]), " (from events)", "")
    end_note = np.where(times_from.isin(["events", "end from events"]), " (from events)", "")
    hover = np.column_stack(
        [
            _strings(_esc_all(steps["description"])),
            _strings(_esc_all(steps["status"].astype(str))),
            _strings(_joined(_clock(steps["started_at"]), pa.array(start_note))),
            _strings(_joined(_clock(end), pa.array(end_note))),
            np.asarray(_fmt_duration(steps["duration_s"]).tolist(), dtype=str),
            _strings(_esc_all(steps["metadata"], 200)),
        ]
    )
    started = steps["started_at"].notna().to_numpy()
    at = _dates(steps["completed_at"].where(steps["completed_at"].notna(), origin))
    base = _dates(steps["started_at"].where(steps["started_at"].notna(), origin))
    millis = ((end - steps["started_at"]).dt.total_seconds() * 1000).clip(lower=1).to_numpy(dtype="float64")
    statuses = steps["status"]
    bars, marks = [], []
    for status in statuses.cat.categories:
        mine = (statuses == status).to_numpy()
        color = STEP_COLORS.get(str(status), UNKNOWN_COLOR)
        name = _html(str(status))
        common = {"name": name, "legendgroup": f"step:{status}", "hovertemplate": BAR_HOVER}
        drawn = mine & started
        if drawn.any():
            bars.append(
                {
                    **common,
                    "type": "bar",
                    "meta": f"bar:{status}",
                    "orientation": "h",
                    "y": rows[drawn],
                    "base": base[drawn],
                    "x": millis[drawn],
                    "customdata": hover[drawn],
                    "marker": {"color": color, "line": {"width": 0}},
                    "width": 0.6,
                    "showlegend": True,
                }
            )
        waiting = mine & ~started
        if waiting.any():
            marks.append(
                {
                    **common,
                    "type": "scatter",
                    "meta": f"mark:{status}",
                    "mode": "markers",
                    "y": rows[waiting],
                    "x": at[waiting],
                    "customdata": hover[waiting],
                    "marker": {
                        "symbol": "line-ew-open",
                        "size": 16,
                        "line": {"width": 3, "color": color},
                        "color": color,
                    },
                    "showlegend": not drawn.any(),  # one legend entry per status
                }
            )
    return bars + marks


def run_start(run: Any, steps: pd.DataFrame, events: pd.DataFrame, now: pd.Timestamp) -> pd.Timestamp:
    """When the run started: its ``started_at``, else its first step or event, else now."""
    started = field(run, "started_at") if run is not None else None
    if started is not None:
        return pd.Timestamp(started).tz_convert("UTC")
    candidates = [steps["started_at"].min(), events["timestamp"].min() if len(events) else pd.NaT]
    valid = [c for c in candidates if not pd.isna(c)]
    return min(valid) if valid else now


def paused_intervals(events: pd.DataFrame, end: Any) -> list[tuple[Any, Any]]:
    """(start, end) of each time the run was paused, from its ``status_change`` events."""
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


def _full_height(kind: str, x0: Any, x1: Any, **style: Any) -> dict[str, Any]:
    """A shape (``"line"`` or ``"rect"``) across the plot's whole height, from ``x0`` to ``x1``."""
    return {"type": kind, "xref": "x", "yref": "paper", "x0": x0, "x1": x1, "y0": 0, "y1": 1, **style}


def _pauses(events: pd.DataFrame, run: Any, end: Any) -> tuple[list[dict[str, Any]], str | None]:
    """Paused-interval shapes and, when the events cannot tell, a note saying so.

    Pauses are read from ``status_change`` events (a sandbox convention the published API
    does not promise). Without any, a paused run is shaded from its last update, named as
    an assumption in the legend, and the figure says that pauses are not recorded.
    """
    recorded = bool((events["type"] == EventType.STATUS_CHANGE).any()) if len(events) else False
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
) -> dict[str, Any]:
    """The Gantt's layout: row labels, start/end/now lines, paused shading, title, size."""
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
            vline(finished_at, "end", "#8a8a8a", "dot")
    if status in ACTIVE_RUN_STATUSES or bool(steps["is_running"].any()):
        vline(now, "now", "#D55E00", "dash")
    paused, note = _pauses(events, run, finished_at or now)
    shapes = paused + shapes
    if title is None:
        name = field(mission, "name") if mission is not None else None
        run_id = field(run, "run_id") if run is not None else (steps["run_id"].iloc[0] if len(steps) else "")
        title = f"{name or 'Run'} · run {str(run_id)[:8]}" + (f" · {status}" if status else "")
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
        meta={"rows": keys},
        xaxis={"type": "date", "title": None, "showgrid": True},
        yaxis={
            "type": "linear",
            "tickmode": "array",
            "tickvals": list(range(rows))[::label_step],
            "ticktext": labels[::label_step],
            "automargin": True,
            "range": [rows - 0.5, -0.5],  # reversed: first row on top
            "zeroline": False,
            "showgrid": False,
            "tickfont": {"size": 11 if label_step == 1 else 9},
        },
    )
    if note:
        layout["title"]["subtitle"] = {"text": note, "font": {"size": 11}}
    return _themed(layout, theme)


def gantt_spec(
    steps: pd.DataFrame,
    events: pd.DataFrame,
    *,
    run: Any,
    mission: Any,
    now: pd.Timestamp,
    title: str | None,
    max_label: int,
    theme: Theme,
    points: dict[str, Points] | None = None,
) -> dict[str, Any]:
    """The whole figure as a dict; ``points``: the events' markers when already built."""
    keys = row_keys(steps)
    labels = ["<b>run</b>"] + [
        _label(str(d), int(depth), max_label)
        for d, depth in zip(steps["description"], steps["depth"], strict=True)
    ]
    origin = run_start(run, steps, events, now)
    points = event_points(events, keys) if points is None else points
    data = _step_traces(steps, now, origin) + _event_traces(points)
    return {
        "data": data,
        "layout": gantt_layout(keys, labels, steps, events, run, mission, now, title, theme),
    }
