"""Plotly figures of one run: its Gantt, and a live Gantt widget.

Figures are built from the frames of :mod:`missionlab.frames` as plain figure dicts
(:mod:`missionlab._gantt`) turned into plotly Figures without plotly's per-array
validation copies: faster than ``px.timeline`` for the same bars while drawing the
events, hover text and shading too. They are plain plotly Figures: restyle them,
``write_html`` or ``write_image`` them. Figures across runs are in :mod:`missionlab.charts`.

Every string from the server is HTML-escaped before it reaches a label or a hover
(``<``, ``>`` and ``&``: plotly's text renderer reads those entities, not ``&quot;``).
Hosted runs are drawn as faithfully as sandbox runs: step times missing from the plan
come from the step events (the hover says so), a status or event type missionlab does
not know is drawn in a neutral color under its own name, and a run whose events record
no pauses says so instead of showing none.
"""

from __future__ import annotations

import html
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from ._figure import MAX_LABEL, STEP_COLORS, Theme, _check_theme, _figure, theme_neutral
from ._gantt import (
    EVENT_COLORS,
    EVENT_SYMBOLS,
    PAUSED_FILL,
    RUN_ROW,
    Points,
    event_points,
    gantt_spec,
    paused_intervals,
    row_keys,
)
from ._runlike import RunLike, is_runlike
from .frames import as_events_frame, events_frame, steps_frame

__all__ = [
    "EVENT_COLORS",
    "EVENT_SYMBOLS",
    "PAUSED_FILL",
    "RUN_ROW",
    "STEP_COLORS",
    "LiveGantt",
    "gantt",
    "paused_intervals",
    "theme_neutral",
]


def _inputs(source: Any, events: Any, run: Any, mission: Any) -> tuple[pd.DataFrame, pd.DataFrame, Any, Any]:
    """Steps and events frames, run and mission, from a run-like or from steps and events."""
    if is_runlike(source):
        events_df = source.events_frame if events is None else as_events_frame(events)
        return source.steps_frame, events_df, run or source.run, mission or source.mission
    events_df = events_frame([]) if events is None else as_events_frame(events)
    steps = source if isinstance(source, pd.DataFrame) else steps_frame(source, events=events_df)
    return steps, events_df, run, mission


def _now(now: datetime | None) -> pd.Timestamp:
    return pd.Timestamp(now or datetime.now(UTC)).tz_convert("UTC")


def gantt(
    trace_or_steps: RunLike | Any,
    events: Any = None,
    *,
    run: Any = None,
    mission: Any = None,
    now: datetime | None = None,
    title: str | None = None,
    max_label: int = MAX_LABEL,
    theme: Theme = "neutral",
) -> go.Figure:
    """A run's plan as a Gantt timeline, with its events on top.

    One row per plan step, in plan order, children indented under their parent;
    bars from start to end colored by status (in-progress bars run to a "now" line),
    steps that never started marked at the run's start (pending) or at their end, under
    their status in the legend. Events are markers on their step's row (or the run's
    row), one symbol per type. Paused intervals are shaded, the run's start and end
    marked. ``theme=None`` keeps plotly's template instead of colors that read on light
    and dark backgrounds.
    """
    _check_theme(theme)
    steps, events_df, run, mission = _inputs(trace_or_steps, events, run, mission)
    spec = gantt_spec(
        steps,
        events_df,
        run=run,
        mission=mission,
        now=_now(now),
        title=title,
        max_label=max_label,
        theme=theme,
    )
    return _figure(spec)


class LiveGantt:
    """The Gantt as a plotly ``FigureWidget`` that updates in place.

    ``update(trace)`` (or ``update(steps, events, run=...)``) applies whatever the Gantt's
    builder now produces to the same widget, in one batch: only the traces and layout
    parts that changed are sent, the zoom is kept, and a run's new events are added to
    the markers already drawn rather than drawing every event again. The options given
    here (``title``, ``max_label``, ``theme``, ``mission``) hold for every update.
    """

    def __init__(
        self,
        trace_or_steps: RunLike | Any,
        events: Any = None,
        *,
        run: Any = None,
        mission: Any = None,
        now: datetime | None = None,
        title: str | None = None,
        max_label: int = MAX_LABEL,
        theme: Theme = "neutral",
    ) -> None:
        _check_theme(theme)
        self._options: dict[str, Any] = {"title": title, "max_label": max_label, "theme": theme}
        self._mission = mission
        self._run = run
        self._points: dict[str, Points] = {}
        self._drawn: tuple[int, Any, list[str]] = (0, None, [])
        self.widget = go.FigureWidget(self._spec(trace_or_steps, events, run, mission, now))

    def _spec(self, source: Any, events: Any, run: Any, mission: Any, now: datetime | None) -> dict[str, Any]:
        steps, events_df, run, mission = _inputs(source, events, run or None, mission or self._mission)
        self._run = run = run or self._run
        keys = row_keys(steps)
        points = self._event_points(events_df, keys)
        return gantt_spec(
            steps, events_df, run=run, mission=mission, now=_now(now), points=points, **self._options
        )

    def _event_points(self, events: pd.DataFrame, keys: list[str]) -> dict[str, Points]:
        """The events' markers: only the events after those drawn last time are built, when
        the rows are the same and the events drawn are still the first ones, in order."""
        drawn, last_id, drawn_keys = self._drawn
        ids = events["event_id"]
        extends = (
            keys == drawn_keys and len(events) >= drawn and (drawn == 0 or ids.iat[drawn - 1] == last_id)
        )
        if extends:
            points = dict(self._points)
            for event_type, new in event_points(events.iloc[drawn:], keys).items():
                points[event_type] = points[event_type] + new if event_type in points else new
            order = [str(t) for t in events["type"].cat.categories if str(t) in points]
            points = {t: points[t] for t in order}
        else:
            points = event_points(events, keys)
        self._points = points
        self._drawn = (len(events), ids.iat[-1] if len(events) else None, keys)
        return points

    def update(
        self,
        trace_or_steps: RunLike | Any,
        events: Any = None,
        *,
        run: Any = None,
        mission: Any = None,
        now: datetime | None = None,
    ) -> None:
        """Show new plan/event data (and run status) in the same widget."""
        spec = self._spec(trace_or_steps, events, run, mission, now)
        widget = self.widget
        same_traces = [t.meta for t in widget.data] == [t["meta"] for t in spec["data"]]
        changed = {
            i: _changes(t, new) for i, (t, new) in enumerate(zip(widget.data, spec["data"], strict=False))
        }
        data_changed = not same_traces or any(changed.values())
        if data_changed:
            # plotly.js forgets an axis's type when a restyle changes its data, unless the same
            # update sets the type: clear it here so that the batch below sends it again.
            widget.layout.xaxis.type = None
        with widget.batch_update():
            if same_traces:
                for index, props in changed.items():
                    widget.data[index].update(props)
            else:
                widget.data = ()
                widget.add_traces(spec["data"])
            current = widget.layout.to_plotly_json()
            for key, value in spec["layout"].items():
                if key != "xaxis" and _without_zoom(current.get(key)) != _without_zoom(value):
                    widget.layout[key] = value  # the y axis only when its rows changed: keeps a zoom
            if data_changed:
                widget.layout.xaxis.type = "date"

    def __repr__(self) -> str:
        title = html.unescape(str(self.widget.layout.title.text or ""))
        return f"<LiveGantt {title}>"

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        bundle = dict(self.widget._repr_mimebundle_(**kwargs) or {})
        bundle["text/plain"] = repr(self)  # not the figure's full JSON
        return bundle


def _without_zoom(part: Any) -> Any:
    if isinstance(part, dict):
        return {k: v for k, v in part.items() if k not in ("range", "autorange")}
    return part


def _changes(trace: Any, new: dict[str, Any]) -> dict[str, Any]:
    """The properties of ``new`` (a trace dict) that differ from the widget's ``trace``."""
    changes = {}
    for key, value in new.items():
        if key in ("type", "meta"):
            continue
        old = trace[key]
        if isinstance(value, np.ndarray):
            same = old is not None and len(old) == len(value) and bool(np.array_equal(np.asarray(old), value))
        elif isinstance(value, dict):
            same = old is not None and old.to_plotly_json() == value
        else:
            same = old == value
        if not same:
            changes[key] = value
    return changes
