"""One run's Gantt as a plain figure dict, the single builder behind :func:`missionlab.gantt`
and :class:`missionlab.figures.timeline.LiveGantt`.

Rows are numbered (the run's row 0, then the plan's steps in plan order) on a linear y
axis labelled with the steps' descriptions; the row keys are in ``layout.meta["rows"]``.
Per-point text is built column-wise (Arrow compute) into fixed-width string arrays,
times are ISO strings: plotly copies and serializes these without a per-point Python
step. Only traces that hold points are drawn; each is named by its ``meta``
(``bar:<status>``, ``mark:<status>``, ``event:<type>``), which a live widget keeps.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, NamedTuple

import numpy as np
import pandas as pd
import pyarrow.compute as pc

from ..frames import as_events_frame, ended, events_frame, steps_frame
from ..frames._durations import duration_text
from ..frames._run_end import run_end
from ..frames._runlike import field, is_runlike
from ..types import EventType
from ._figure import (
    STEP_COLORS,
    UNKNOWN_COLOR,
    _esc_all,
    _html,
    _joined,
    _label,
    _strings,
)
from ._gantt_layout import gantt_layout
from ._gantt_options import GanttOptions

RUN_ROW = "__run__"
EVENT_SYMBOLS: dict[str, str] = {
    EventType.STATUS_CHANGE: "diamond",
    EventType.STEP_STARTED: "triangle-right",
    EventType.STEP_COMPLETED: "triangle-left",
    EventType.STEP_FAILED: "square-x",
    EventType.TOOL_CALL: "circle",
    EventType.TOOL_RESULT: "circle-dot",
    EventType.MESSAGE: "square",
    EventType.ERROR: "x",
    EventType.CUSTOM: "star",
}
# Filled symbols only: an open symbol is drawn in its fill color alone, with no outline.
UNKNOWN_SYMBOL = "hexagon"
# Every marker's outline: dark enough to stand out on every bar color (an error marker on a
# failed bar of its own orange), while its fill stands out on a dark background.
MARKER_OUTLINE = "#1a1a1a"
EVENT_COLORS = {t.value: "#8a8a8a" for t in EventType}  # mid-gray: reads on light and dark
EVENT_COLORS.update(
    {
        EventType.ERROR: "#D55E00",
        EventType.STEP_FAILED: "#D55E00",
        EventType.TOOL_CALL: "#56B4E9",
        EventType.TOOL_RESULT: "#56B4E9",
        EventType.STATUS_CHANGE: "#E69F00",
    }
)
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

    def take(self, rows: slice) -> Points:
        return Points(*(values[rows] for values in self))


def row_keys(steps: pd.DataFrame) -> list[str]:
    """The row keys: the run's row, then each step id in plan order."""
    return [RUN_ROW, *(str(key) for key in steps["step_id"].tolist())]


def row_labels(steps: pd.DataFrame, max_label: int) -> list[str]:
    """The rows' labels: the run's, then each step's description (shortened, indented by depth)."""
    return ["<b>run</b>"] + [
        _label(str(d), int(depth), max_label)
        for d, depth in zip(steps["description"].tolist(), steps["depth"].tolist(), strict=True)
    ]


def _utc(times: pd.Series) -> np.ndarray[Any, Any]:
    """Timestamps as naive UTC ``datetime64[us]`` (NaT where missing)."""
    return times.to_numpy(dtype="datetime64[us]")


def _utc64(moment: pd.Timestamp) -> np.datetime64:
    return np.datetime64(moment.tz_convert("UTC").tz_localize(None), "us")


def _iso(times: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    """ISO times, to the millisecond where needed: what a date axis reads."""
    return np.datetime_as_string(times.astype("datetime64[ms]"), unit="auto")


def _clock(times: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    """Times as ``YYYY-mm-dd HH:MM:SS`` text, "—" where missing."""
    text = np.char.replace(np.datetime_as_string(times.astype("datetime64[s]"), unit="s"), "T", " ")
    return np.where(np.isnat(times), "—", text)


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
    x = _iso(_utc(events["timestamp"]))
    types = events["type"]
    codes = types.cat.codes.to_numpy()
    points = {}
    for code, event_type in enumerate(types.cat.categories):
        mine = codes == code
        if mine.any():
            points[str(event_type)] = Points(
                x[mine], rows[mine], summary[mine], step_agent[mine], payload[mine]
            )
    return points


def _event_traces(points: dict[str, Points], drawn: dict[str, int] | None) -> list[dict[str, Any]]:
    """A marker trace per event type. With ``drawn`` (a live Gantt's markers already shown,
    per type), the markers after those are a second trace of the type (``event:<type>:new``,
    out of the legend), so that an update sends only them."""
    traces = []
    for event_type, part in points.items():
        color = EVENT_COLORS.get(event_type, UNKNOWN_COLOR)
        name = _html(event_type)
        style = {
            "type": "scattergl",
            "name": name,
            "legendgroup": f"event:{event_type}",
            "mode": "markers",
            "hovertemplate": f"<b>{name.replace('%', '&#37;')}</b> {EVENT_HOVER}",
            "marker": {
                "symbol": EVENT_SYMBOLS.get(event_type, UNKNOWN_SYMBOL),
                "size": 9,
                "color": color,
                "line": {"width": 1.5, "color": MARKER_OUTLINE},
            },
        }
        cut = len(part.x) if drawn is None else min(drawn.get(event_type, 0), len(part.x))
        if cut:
            head = part.take(slice(0, cut))._asdict()
            traces.append({"meta": f"event:{event_type}", **style, **head, "showlegend": True})
        if cut < len(part.x):
            tail = part.take(slice(cut, None))._asdict()
            traces.append({"meta": f"event:{event_type}:new", **style, **tail, "showlegend": not cut})
    return traces


def _step_traces(steps: pd.DataFrame, now: pd.Timestamp, origin: pd.Timestamp) -> list[dict[str, Any]]:
    """Per status, a bar trace of the steps that started and a marker trace of the others
    (pending ones at the run's start, skipped or failed ones at their end)."""
    if steps.empty:
        return []
    rows = np.arange(1, len(steps) + 1, dtype="int64")
    start, completed = _utc(steps["started_at"]), _utc(steps["completed_at"])
    running = steps["is_running"].to_numpy()
    # a step left open in a run that has ended is drawn to the run's end (its duration's end)
    closed = np.isnat(completed) & ~running & ~np.isnat(start) & steps["duration"].notna().to_numpy()
    measured = start + steps["duration"].to_numpy(dtype="timedelta64[us]")
    end = np.where(running, _utc64(now), np.where(closed, measured, completed))
    # a running step's hover says what its bar shows: measured to this figure's now, not
    # to the moment its frame was built
    seconds = np.where(running, (end - start) / np.timedelta64(1, "s"), steps["duration_s"].to_numpy())
    source = steps["times_from"].cat.codes.to_numpy()  # TIMES_FROM's codes: 1 events, 2 start, 3 end
    start_note = np.where(np.isin(source, [1, 2]), " (from events)", "")
    end_note = np.where(closed, " (the run's end)", _end_notes(steps))
    statuses = steps["status"]
    status_names = np.array([_html(str(status)) for status in statuses.cat.categories] + [""])
    hover = np.column_stack(
        [
            _strings(_esc_all(steps["description"])),
            status_names[statuses.cat.codes.to_numpy()],
            np.char.add(_clock(start), start_note),
            np.char.add(_clock(end), end_note),
            np.asarray([_duration_cell(s) for s in seconds], dtype=str),
            _strings(_esc_all(steps["metadata"], 200)),
        ]
    )
    started = ~np.isnat(start)
    origin64 = _utc64(origin)
    at = _iso(np.where(np.isnat(completed), origin64, completed))
    base = _iso(np.where(started, start, origin64))
    millis = np.maximum((end - start) / np.timedelta64(1, "ms"), 1.0)
    bars, marks = [], []
    codes = statuses.cat.codes.to_numpy()
    for code, status in enumerate(statuses.cat.categories):
        mine = codes == code
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


def _duration_cell(seconds: float) -> str:
    """A bar's duration in its hover; a step whose record ends before it starts (drawn as
    the shortest bar) has none."""
    if seconds < 0:
        return f"unknown: its end is {duration_text(-seconds)} before its start"
    return duration_text(seconds)


def _end_notes(steps: pd.DataFrame) -> np.ndarray[Any, Any]:
    """What each step's hover says after its end: whether its events gave it."""
    source = steps["times_from"].cat.codes.to_numpy()  # TIMES_FROM's codes: 1 events, 2 start, 3 end
    return np.where(np.isin(source, [1, 3]), " (from events)", "")


class Running(NamedTuple):
    """A steps frame's running steps: their rows (ascending), starts and end notes, what
    :func:`restamped` needs to draw their bars to another moment."""

    rows: np.ndarray[Any, Any]
    start: np.ndarray[Any, Any]
    note: np.ndarray[Any, Any]

    @classmethod
    def of(cls, steps: pd.DataFrame) -> Running:
        running = steps["is_running"].to_numpy(dtype=bool)
        return cls(
            np.flatnonzero(running) + 1, _utc(steps["started_at"])[running], _end_notes(steps)[running]
        )


def restamped(trace: dict[str, Any], running: Running, now: pd.Timestamp) -> dict[str, Any]:
    """``trace`` (one of :func:`_step_traces`') with the bars of the ``running`` steps drawn
    to ``now`` (length, end and duration in the hover), as :func:`_step_traces` draws them at
    ``now``; the trace itself when it has no running step's bar."""
    if trace["type"] != "bar" or not len(running.rows):
        return trace
    at = np.isin(trace["y"], running.rows)
    if not at.any():
        return trace
    which = np.searchsorted(running.rows, trace["y"][at])
    start = running.start[which]
    end = np.full(len(start), _utc64(now))
    x = trace["x"].copy()
    x[at] = np.maximum((end - start) / np.timedelta64(1, "ms"), 1.0)
    ends = np.char.add(_clock(end), running.note[which])
    lengths = np.asarray([duration_text(s) for s in (end - start) / np.timedelta64(1, "s")], dtype=str)
    width = max(a.dtype.itemsize // 4 for a in (trace["customdata"], ends, lengths))
    hover = trace["customdata"].astype(f"<U{width}")
    hover[at, 3] = ends
    hover[at, 4] = lengths
    return {**trace, "x": x, "customdata": hover}


def run_start(run: Any, steps: pd.DataFrame, events: pd.DataFrame, now: pd.Timestamp) -> pd.Timestamp:
    """When the run started: its ``started_at``, else its first step or event, else now."""
    started = field(run, "started_at") if run is not None else None
    if started is not None:
        return pd.Timestamp(started).tz_convert("UTC")
    candidates = [steps["started_at"].min(), events["timestamp"].min() if len(events) else pd.NaT]
    valid = [c for c in candidates if not pd.isna(c)]
    return min(valid) if valid else now


def gantt_spec(
    steps: pd.DataFrame,
    events: pd.DataFrame,
    *,
    run: Any,
    mission: Any,
    now: pd.Timestamp,
    options: GanttOptions,
    points: dict[str, Points] | None = None,
    drawn: dict[str, int] | None = None,
    keys: list[str] | None = None,
    labels: list[str] | None = None,
    step_traces: list[dict[str, Any]] | None = None,
    now_label: str = "now",
) -> dict[str, Any]:
    """The whole figure as a dict, before what is drawn over the bars (``options``' title,
    label length and theme); ``points``: the events' markers when already built; ``drawn``:
    see :func:`_event_traces`; ``keys``, ``labels``, ``step_traces``: the steps' row keys,
    row labels and traces when already built (:func:`row_keys`, :func:`row_labels`,
    :func:`_step_traces`); ``now_label``: the name of the line at ``now`` ("saved" for a
    capsule's saved moment)."""
    keys = row_keys(steps) if keys is None else keys
    labels = row_labels(steps, options.max_label) if labels is None else labels
    origin = run_start(run, steps, events, now)
    points = event_points(events, keys) if points is None else points
    if step_traces is None:
        step_traces = _step_traces(steps, now, origin)
    data = step_traces + _event_traces(points, drawn)
    return {
        "data": data,
        "layout": gantt_layout(
            keys, labels, steps, events, run, mission, now, options.title, options.theme, now_label
        ),
    }


def gantt_inputs(
    source: Any, events: Any, run: Any, mission: Any
) -> tuple[pd.DataFrame, pd.DataFrame, Any, Any]:
    """Steps and events frames, run and mission, from a run-like or from steps and events."""
    if is_runlike(source):
        events_df = source.events_frame if events is None else as_events_frame(events)
        run = run or source.run
        return ended(source.steps_frame, [run], events=events_df), events_df, run, mission or source.mission
    events_df = events_frame([]) if events is None else as_events_frame(events)
    runs = None if run is None else [run]
    if isinstance(source, pd.DataFrame):
        steps = ended(source, runs, events=events_df)
    else:
        steps = steps_frame(source, events=events_df, runs=runs)
    return steps, events_df, run, mission


def drawn_until(run: Any, now: pd.Timestamp) -> pd.Timestamp:
    """How far what is still open is drawn: to ``now``, but no later than the run's end once
    it has ended."""
    end = run_end(run)
    return now if end is None else min(now, end)


def as_now(now: datetime | None) -> pd.Timestamp:
    return pd.Timestamp(now or datetime.now(UTC)).tz_convert("UTC")
