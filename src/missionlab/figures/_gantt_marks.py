"""What :func:`missionlab.gantt` draws over the bars of :mod:`missionlab.figures._gantt`'s figure dict:
plan drift (added and reordered steps), failed attempts inside a step, the critical path,
and roll-ups in the bars' hover.

Each addition is a trace named by its ``meta`` (``drift:<kind>``, ``attempt:failed``,
``critical``), so that tests, the replay and a live widget can find it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from ..analysis._attempts import CallLog, Ended
from ..analysis._drift import critical_path, plan_drift
from ..analysis.rollup import rollup_frames, rollup_label
from ..frames._durations import duration_text
from ..frames._jsontext import json_object
from ._figure import _html
from ._gantt import BAR_HOVER, MARKER_OUTLINE, _iso, _utc, _utc64, drawn_until, run_start
from ._gantt_options import GanttOptions

__all__ = ["ATTEMPT_COLOR", "CRITICAL_COLOR", "DRIFT_STYLE", "decorate", "overlays"]

ATTEMPT_COLOR = "#3b1a00"  # dark brown hatching, read on every bar color
CRITICAL_COLOR = "#F0E442"
DIMMED = 0.35  # opacity of the bars off the critical path
DRIFT_SIGN = {"added": "+", "reordered": "↕"}
DRIFT_STYLE = {
    "added": ("added after the run started", "star", "#009E73"),
    "reordered": ("run out of plan order", "arrow-bar-down", "#E69F00"),
}
ATTEMPT_HOVER = "<b>failed attempt</b><br>%{customdata[0]}<br>%{customdata[1]}<extra></extra>"


def _iso_dates(series: pd.Series) -> np.ndarray[Any, Any]:
    """Timestamps as the ISO text a date axis reads (UTC, to the millisecond)."""
    return _iso(_utc(series))


def _row_of(spec: dict[str, Any]) -> dict[str, int]:
    return {key: row for row, key in enumerate(spec["layout"]["meta"]["rows"])}


DriftOf = Callable[[pd.DataFrame], pd.DataFrame]  # plan_drift, or a function giving what it gives


def _drift_traces(
    spec: dict[str, Any], steps: pd.DataFrame, origin: pd.Timestamp, drift_of: DriftOf = plan_drift
) -> list[dict[str, Any]]:
    """A marker per added or reordered step, at the time it appeared (an added step's
    ``added_at`` when its metadata has one, else its start; the run's start for a step that
    never started), and a sign before its label."""
    drift = drift_of(steps)
    rows = _row_of(spec)
    yaxis = spec["layout"]["yaxis"]
    labels = dict(zip(yaxis["tickvals"], yaxis["ticktext"], strict=True))
    traces = []
    kinds = drift["drift"].fillna("").to_numpy(dtype=str)
    for kind, (name, symbol, color) in DRIFT_STYLE.items():
        chosen = kinds == kind
        if not chosen.any():
            continue
        mine = drift[chosen]
        for step_id in mine["step_id"]:
            row = rows[str(step_id)]
            if row in labels:
                labels[row] = f'<span style="color:{color}"><b>{DRIFT_SIGN[kind]}</b></span> {labels[row]}'
        yaxis["ticktext"] = [labels[value] for value in yaxis["tickvals"]]
        text = [
            f"{_html(str(d))}<br>{_html(str(r))}"
            for d, r in zip(steps.loc[mine.index, "description"], mine["reason"], strict=True)
        ]
        traces.append(
            {
                "type": "scatter",
                "meta": f"drift:{kind}",
                "name": name,
                "mode": "markers",
                "x": _iso_dates(_appeared(steps.loc[mine.index], origin)),
                "y": np.array([rows[str(s)] for s in mine["step_id"]], dtype="int64"),
                "customdata": np.array(text, dtype=str),
                "hovertemplate": f"<b>{name}</b><br>%{{customdata}}<extra></extra>",
                "marker": {
                    "symbol": symbol,
                    "size": 11,
                    "color": color,
                    "line": {"width": 1.5, "color": MARKER_OUTLINE},
                },
                "cliponaxis": False,
            }
        )
    return traces


def _appeared(steps: pd.DataFrame, origin: pd.Timestamp) -> pd.Series:
    """When each step appeared in the run: its metadata's ``added_at``, else its start, else ``origin``."""
    stated_at = [json_object(m).get("added_at") for m in steps["metadata"]]
    stated = pd.to_datetime(pd.Series(stated_at, index=steps.index, dtype=object), utc=True, errors="coerce")
    started = steps["started_at"]
    # to_datetime takes its unit from the texts (seconds for "…T09:30:00Z"); fill in the steps' own
    stated = stated.astype(started.dtype)
    return stated.fillna(started).fillna(origin)


AttemptTraces = Callable[[dict[str, Any], pd.DataFrame, pd.DataFrame, pd.Timestamp], list[dict[str, Any]]]
DriftTraces = Callable[[dict[str, Any], pd.DataFrame, pd.Timestamp], list[dict[str, Any]]]


def _attempt_trace(
    spec: dict[str, Any], steps: pd.DataFrame, failed: pd.DataFrame, now: pd.Timestamp
) -> list[dict[str, Any]]:
    """The ``failed`` calls (``CallLog.failed()``) as hatched bars inside their steps."""
    return attempt_bars(_row_of(spec), steps, failed, now)[0]


def attempt_bars(
    rows: dict[str, int], steps: pd.DataFrame, failed: pd.DataFrame, now: pd.Timestamp
) -> tuple[list[dict[str, Any]], bool]:
    """The trace of the ``failed`` calls (``CallLog.failed()``) on ``rows`` (row of each step
    id), and whether it depends on ``now`` (a call with no answer in a step not ended)."""
    if failed.empty:
        return [], False
    # a failed call's segment runs to its own result or error (its ``ended_at``): never to the
    # next call, which would lengthen it by the backoff. A call that got no answer at all ends
    # where it was given up, when the same tool was called again in its step; else at its
    # step's end, else now.
    steps_of = failed["step_id"].tolist()
    failed = failed[np.array([step in rows for step in steps_of], dtype=bool)]
    if failed.empty:
        return [], False
    steps_of = failed["step_id"].tolist()
    # the last of a repeated id
    step_end = dict(zip(steps["step_id"].tolist(), _utc(steps["completed_at"]), strict=True))
    missing = np.datetime64("NaT", "us")
    ends = np.array([step_end.get(step, missing) for step in steps_of], dtype="datetime64[us]")
    stop = _utc(failed["ended_at"])
    for fallback in (_utc(failed["called_again"]), ends):
        stop = np.where(np.isnat(stop), fallback, stop)
    open_ended = np.isnat(stop)
    stop = np.where(open_ended, _utc64(now), stop)
    seconds = np.maximum((stop - _utc(failed["called_at"])) / np.timedelta64(1, "s"), 0.001)
    label = [
        f"attempt {attempt} · {_html(tool)} · {duration_text(length)}"
        for attempt, tool, length in zip(
            failed["attempt"].tolist(), failed["tool"].tolist(), seconds.tolist(), strict=True
        )
    ]
    outcome = [_html(str(text)) for text in failed["outcome"].tolist()]
    y = np.array([rows[step] for step in steps_of], dtype="int64")
    trace = {
        "type": "bar",
        "meta": "attempt:failed",
        "name": "failed attempt",
        "orientation": "h",
        "y": y,
        "base": _iso_dates(failed["called_at"]),
        "x": seconds * 1000,
        "customdata": np.column_stack([np.array(label, dtype=str), np.array(outcome, dtype=str)]),
        "hovertemplate": ATTEMPT_HOVER,
        "width": 0.3,
        "marker": {
            # light fill, dark hatching: visible on a failed (orange) bar as on a green one,
            # and, being narrower than the bar, on light and dark backgrounds alike
            "color": "rgba(255, 255, 255, 0.55)",
            "pattern": {"shape": "/", "fgcolor": ATTEMPT_COLOR, "size": 6, "solidity": 0.5},
            "line": {"width": 1, "color": ATTEMPT_COLOR},
        },
    }
    return [trace], bool(open_ended.any())


def _critical(spec: dict[str, Any], steps: pd.DataFrame, now: pd.Timestamp) -> list[dict[str, Any]]:
    path = critical_path(steps, now)
    if not path:
        return []
    rows = _row_of(spec)
    on_path = {rows[step_id] for step_id in path}
    for trace in spec["data"]:
        if str(trace.get("meta", "")).startswith("bar:"):
            trace["marker"] = {
                **trace["marker"],
                "opacity": np.where(np.isin(trace["y"], list(on_path)), 1.0, DIMMED),
            }
    chosen = steps.set_index("step_id").loc[path]
    ends = chosen["completed_at"].fillna(now)
    return [
        {
            "type": "bar",
            "meta": "critical",
            "name": "critical path",
            "orientation": "h",
            "y": np.array([rows[s] for s in path], dtype="int64"),
            "base": _iso_dates(chosen["started_at"]),
            "x": ((ends - chosen["started_at"]).dt.total_seconds() * 1000)
            .clip(lower=1)
            .to_numpy(dtype="float64"),
            "customdata": np.array([_html(str(d)) for d in chosen["description"]], dtype=str),
            "hovertemplate": "<b>critical path</b><br>%{customdata}<extra></extra>",
            "width": 0.78,
            "marker": {"color": "rgba(0, 0, 0, 0)", "line": {"width": 2.5, "color": CRITICAL_COLOR}},
        }
    ]


def _rollup_hover(spec: dict[str, Any], steps: pd.DataFrame, events: pd.DataFrame, paths: list[str]) -> None:
    """Each path's total (and the step's own share) as more lines of the steps' hover."""
    columns, lines = [], []
    for number, path in enumerate(paths):
        table = rollup_frames(steps, events, path)  # row 0: the run, then the steps in row order
        columns.append(np.array([_amount(t, o) for t, o in zip(table["total"], table["own"], strict=True)]))
        lines.append(f"<br>{_html(rollup_label(path))}: %{{customdata[{6 + number}]}}")
    values = np.column_stack(columns).astype(str)
    template = BAR_HOVER.replace("<extra></extra>", "".join(lines) + "<extra></extra>")
    for trace in spec["data"]:
        if str(trace.get("meta", "")).startswith(("bar:", "mark:")):
            trace["customdata"] = np.column_stack([trace["customdata"], values[np.asarray(trace["y"])]])
            trace["hovertemplate"] = template


def _amount(total: float, own: float) -> str:
    def number(value: float) -> str:
        return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.4g}"

    return number(total) if own == total else f"{number(total)} (own {number(own)})"


def decorate(
    spec: dict[str, Any],
    steps: pd.DataFrame,
    events: pd.DataFrame,
    *,
    origin: pd.Timestamp,
    now: pd.Timestamp,
    drift: bool = True,
    attempts: bool = True,
    critical: bool = False,
    rollups: list[str] | None = None,
    run: Any = None,
    calls: CallLog | None = None,
    ended: Ended | None = None,
    attempt_traces: AttemptTraces = _attempt_trace,
    drift_traces: DriftTraces = _drift_traces,
) -> dict[str, Any]:
    """``spec`` (a Gantt figure dict) with the additions asked for, drawn over its bars;
    ``run``: the run (a call given up for another is a failed attempt once its step or its
    run has ended: ``analysis._attempts.Ended``); ``calls``: the events' tool calls when
    already read; ``ended``: what has ended of the run when already known (else read from
    ``run`` and ``steps``); ``attempt_traces``, ``drift_traces``: what draws the failed
    attempts and the plan drift (a builder's may reuse its last ones)."""
    extra: list[dict[str, Any]] = []
    if attempts:
        if calls is None:
            calls = CallLog(arguments=False)
            calls.feed(events)
        failed = calls.failed(Ended.of(run, steps) if ended is None else ended)
        extra += attempt_traces(spec, steps, failed, now)
    if critical:
        extra += _critical(spec, steps, now)
    if drift:
        extra += drift_traces(spec, steps, origin)
    if rollups:
        _rollup_hover(spec, steps, events, rollups)
    bars = [t for t in spec["data"] if t["type"] == "bar"]
    others = [t for t in spec["data"] if t["type"] != "bar"]
    spec["data"] = (
        bars + [t for t in extra if t["type"] == "bar"] + others + [t for t in extra if t["type"] != "bar"]
    )
    return spec


def overlays(
    spec: dict[str, Any],
    steps: pd.DataFrame,
    events: pd.DataFrame,
    run: Any,
    now: pd.Timestamp,
    options: GanttOptions,
    calls: CallLog | None = None,
    ended: Ended | None = None,
    attempt_traces: AttemptTraces = _attempt_trace,
    drift_traces: DriftTraces = _drift_traces,
) -> dict[str, Any]:
    """:func:`decorate` as ``options`` ask for it (``critical_path``, ``attempts``, ``drift``
    and ``rollup``), then the replay's frames (``replay``); ``calls``, ``ended``,
    ``attempt_traces``, ``drift_traces``: see :func:`decorate`."""
    from .time_slider import REPLAY_FRAMES, frame_moments, with_replay

    origin = run_start(run, steps, events, now)
    spec = decorate(
        spec,
        steps,
        events,
        origin=origin,
        now=drawn_until(run, now),
        drift=options.drift,
        attempts=options.attempts,
        critical=options.critical_path,
        rollups=options.rollup_paths,
        run=run,
        calls=calls,
        ended=ended,
        attempt_traces=attempt_traces,
        drift_traces=drift_traces,
    )
    replay = options.replay
    if replay:
        count = REPLAY_FRAMES if replay is True else int(replay)
        spec = with_replay(spec, frame_moments(steps, events, run, count, now=now))
    return spec
