"""A Gantt's time slider: what the figure showed at any moment, as plotly frames or as updates.

``moments(trace)`` picks evenly spaced moments from the run's start to its end;
``updates_at(spec, moment)`` says, per trace of a Gantt figure dict, what it shows at that
moment (bars cut at the moment, steps and events not reached yet hidden); ``with_replay``
adds those as plotly frames with a slider and play/pause buttons, which replay the run
in any browser with no kernel (a saved notebook, an exported HTML file). A live kernel
uses the same updates through :class:`missionlab.widgets.RunPlayer`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from ..frames._durations import duration_text
from ..frames._runlike import RunLike, as_of, field
from ._figure import STEP_COLORS
from ._gantt_layout import END_LINE

__all__ = [
    "REPLAY_LINE",
    "frame_moments",
    "moments",
    "replay_line",
    "running_bars",
    "updates_at",
    "with_replay",
]

REPLAY_LINE = "replay"
REPLAY_FRAMES = 30
_BARS = ("bar:", "attempt:", "critical")
_POINTS = ("event:", "mark:", "drift:")  # a drift mark shows once its step appeared
RUNNING = "replay:running"
# Bars of steps that had ended: before they ended, their colour (how they ended) is the future.
_UNFINISHED = ("bar:in_progress", "bar:pending", "bar:running")


def running_bars() -> dict[str, Any]:
    """An empty bar trace in the running colour, where a replay draws the steps still
    running at its moment (a Gantt colours each bar by how its step ended, which a
    moment before the end does not know yet)."""
    return {
        "type": "bar",
        "meta": RUNNING,
        "name": "running at this moment",
        "legendgroup": "step:in_progress",
        "showlegend": False,
        "orientation": "h",
        "y": [],
        "base": [],
        "x": [],
        "customdata": [],
        "hovertemplate": "<b>%{customdata}</b><br>running at this moment<extra></extra>",
        "marker": {"color": STEP_COLORS["in_progress"], "line": {"width": 0}},
        "width": 0.6,
    }


def moments(trace: RunLike, count: int = REPLAY_FRAMES, *, now: Any = None) -> list[pd.Timestamp]:
    """``count`` moments from the run's start to its end (or its last event, or ``now``:
    default, the moment ``trace`` is a record of: a capsule's ``saved_at`` for a run then active)."""
    now = as_of(trace) if now is None else now
    return frame_moments(trace.steps_frame, trace.events_frame, trace.run, count, now=now)


def frame_moments(
    steps: pd.DataFrame, events: pd.DataFrame, run: Any, count: int = REPLAY_FRAMES, *, now: Any = None
) -> list[pd.Timestamp]:
    """:func:`moments` of a steps frame, an events frame and a run (or None)."""
    if count < 2:
        raise ValueError("a replay needs at least two moments")
    candidates = [field(run, "started_at") if run is not None else None, steps["started_at"].min()]
    if len(events):
        candidates.append(events["timestamp"].min())
    first = min(_utc(c) for c in candidates if c is not None and not pd.isna(c))
    finished = field(run, "finished_at") if run is not None else None
    ends = [finished, steps["completed_at"].max(), now if finished is None else None]
    if len(events):
        ends.append(events["timestamp"].max())
    last = max(_utc(e) for e in ends if e is not None and not pd.isna(e))
    return list(pd.date_range(first, max(last, first + pd.Timedelta(seconds=1)), periods=count))


def _utc(moment: Any) -> pd.Timestamp:
    stamp = pd.Timestamp(moment)
    return stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")


def _times(values: Any) -> np.ndarray[Any, Any]:
    return np.asarray(values, dtype="datetime64[ms]")


def _prop(trace: Any, key: str) -> Any:
    return trace.get(key) if isinstance(trace, dict) else trace[key]


def updates_at(data: Sequence[Any], moment: pd.Timestamp) -> list[dict[str, Any]]:
    """Per trace of a Gantt's ``data`` (its figure dict's traces, or a figure's ``.data``),
    the properties that show it as it was at ``moment``: bars cut at the moment (steps not
    started yet: no bar), markers of later events hidden, and nothing that tells the
    future: a failed attempt appears when its failure came, and when ``data`` holds a
    :func:`running_bars` trace, a step still running at the moment is drawn there, in the
    running colour, instead of in the colour of how it ended."""
    at = np.datetime64(moment.tz_convert("UTC").tz_localize(None), "ms")
    has_running = any(str(_prop(trace, "meta") or "") == RUNNING for trace in data)
    running: dict[str, list[Any]] = {"y": [], "base": [], "x": [], "customdata": []}
    updates: list[dict[str, Any]] = []
    for trace in data:
        meta = str(_prop(trace, "meta") or "")
        if meta == RUNNING:
            updates.append(running)  # filled in by the other bars below
        elif meta.startswith(_BARS):
            base = _times(_prop(trace, "base"))
            length = np.asarray(_prop(trace, "x"), dtype="float64")
            elapsed = (at - base).astype("float64")
            started, ended = base <= at, length <= elapsed
            # a bar that starts later is not there yet (no zero-length tick of a future one)
            shown = np.where(started, np.minimum(length, elapsed), np.nan)
            if meta.startswith("attempt:"):
                shown = np.where(ended, length, np.nan)
            elif has_running and meta.startswith("bar:") and meta not in _UNFINISHED:
                moving = started & ~ended
                running["y"] += np.asarray(_prop(trace, "y"))[moving].tolist()
                running["base"] += np.asarray(_prop(trace, "base"))[moving].tolist()
                running["x"] += elapsed[moving].tolist()
                running["customdata"] += np.asarray(_prop(trace, "customdata"))[moving, 0].tolist()
                shown = np.where(moving, np.nan, shown)
            updates.append({"x": shown})
        elif meta.startswith(_POINTS):
            rows = np.asarray(_prop(trace, "y"), dtype="float64")
            updates.append({"y": np.where(_times(_prop(trace, "x")) <= at, rows, np.nan)})
        else:
            updates.append({})
    return updates


def replay_line(moment: pd.Timestamp) -> dict[str, Any]:
    """The vertical line that marks the moment a replay shows."""
    x = moment.tz_convert("UTC").tz_localize(None)
    return {
        "type": "line",
        "name": REPLAY_LINE,
        "xref": "x",
        "yref": "paper",
        "x0": x,
        "x1": x,
        "y0": 0,
        "y1": 1,
        "line": {"color": "#0072B2", "width": 2},
    }


def layout_at(layout: Any, moment: pd.Timestamp) -> dict[str, Any]:
    """What a Gantt's ``layout`` (a figure dict's, or a figure's ``.layout``) shows at
    ``moment``, as layout properties: its lines and their labels only from before the
    moment (the run's end line and label, say, only once it ended), a pause still on at
    the moment shaded up to it, the replay line at the moment, and before the run's end a
    title that does not say how the run ended."""
    at = moment.tz_convert("UTC").tz_localize(None)
    shapes: list[dict[str, Any]] = []
    ended = False
    for shape in _prop(layout, "shapes") or ():
        shape = _as_dict(shape)
        later = shape.get("xref") == "x" and pd.Timestamp(shape["x0"]) > at
        ended = ended or (shape.get("name") == END_LINE and not later)
        if shape.get("name") == REPLAY_LINE or later:
            continue
        if shape.get("xref") == "x" and pd.Timestamp(shape["x1"]) > at:
            shape = {**shape, "x1": at}  # a pause still on at the moment
        shapes.append(shape)
    notes = [
        note
        for note in map(_as_dict, _prop(layout, "annotations") or ())
        if note.get("xref") != "x" or pd.Timestamp(note["x"]) <= at
    ]
    shown: dict[str, Any] = {"shapes": [*shapes, replay_line(moment)], "annotations": notes}
    before_end = _as_dict(_prop(layout, "meta") or {}).get("title_before_end")
    if before_end is not None:  # each moment sets it: a replay goes back and forth
        shown["title"] = {"text": _as_dict(_prop(layout, "title"))["text"] if ended else before_end}
    return shown


def _as_dict(item: Any) -> dict[str, Any]:
    """A layout item (a shape, an annotation, the meta) as a plain dict."""
    return item if isinstance(item, dict) else item.to_plotly_json()


def with_replay(spec: dict[str, Any], times: list[pd.Timestamp], *, frame_ms: int = 250) -> dict[str, Any]:
    """``spec`` with one plotly frame per moment, a slider over them and play/pause buttons.

    The figure itself shows the whole run (the slider starts at the end); each frame
    restyles only the bars' lengths and the markers' rows, and moves the replay line.
    Export it with ``write_html(..., auto_play=False)``, or the page plays it on load.
    """
    spec = {**spec, "data": [*spec["data"], running_bars()]}
    layout = spec["layout"]
    shapes = list(layout.get("shapes", []))
    indices = list(range(len(spec["data"])))
    start = times[0]
    frames, steps = [], []
    for number, moment in enumerate(times):
        name = f"t{number}"
        label = "+" + duration_text((moment - start).total_seconds())
        updates = updates_at(spec["data"], moment)
        frames.append(
            {
                "name": name,
                # each update names its trace's type: plotly reads an untyped one as a scatter
                "data": [{"type": t["type"], **u} for t, u in zip(spec["data"], updates, strict=True)],
                "traces": indices,
                "layout": layout_at(layout, moment),
            }
        )
        steps.append(
            {
                "label": label,
                "method": "animate",
                "args": [
                    [name],
                    {
                        "mode": "immediate",
                        "frame": {"duration": 0, "redraw": True},
                        "transition": {"duration": 0},
                    },
                ],
            }
        )
    # From the first moment every time: the slider rests at the end, where the figure starts.
    play = {
        "frame": {"duration": frame_ms, "redraw": True},
        "fromcurrent": False,
        "transition": {"duration": 0},
    }
    pause = {"mode": "immediate", "frame": {"duration": 0, "redraw": False}, "transition": {"duration": 0}}
    margin = dict(layout.get("margin", {}))
    margin["b"] = max(int(margin.get("b", 40)), 120)
    new_layout = {
        **layout,
        "margin": margin,
        "height": int(layout.get("height", 400)) + 80,
        "shapes": [*shapes, replay_line(times[-1])],
        "sliders": [
            {
                "active": len(times) - 1,
                "steps": steps,
                "x": 0.14,
                "len": 0.86,
                "y": 0,
                "yanchor": "top",
                "pad": {"t": 40},
                "currentvalue": {"prefix": "replay: ", "font": {"size": 11}},
                "font": {"size": 9},
            }
        ],
        "updatemenus": [
            {
                "type": "buttons",
                "direction": "left",
                "showactive": False,
                "x": 0,
                "y": 0,
                "xanchor": "left",
                "yanchor": "top",
                "pad": {"t": 48},
                "buttons": [
                    {"label": "▶", "method": "animate", "args": [None, play]},
                    {"label": "❚❚", "method": "animate", "args": [[None], pause]},
                ],
            }
        ],
    }
    return {**spec, "layout": new_layout, "frames": frames}
