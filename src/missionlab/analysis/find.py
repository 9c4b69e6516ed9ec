"""Find things in a run: events by text, agent, step, type and time window, as frames.

``find(trace, "declined", agent="agent-7", start=..., end=...)`` returns the matching rows
of the run's events frame, oldest first. Times are datetimes, ISO strings (UTC unless they
say otherwise), or numbers of seconds since the run started. ``window_from_relayout`` turns
a range selected on a Gantt (a plotly ``relayout`` x-range, as a ``FigureWidget`` reports
it) into such a window.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import pandas as pd

from ..frames._match import event_mask
from ..frames._runlike import RunLike, field
from ._evidence import utc

__all__ = ["events_between", "find", "on_time_window", "window_from_relayout"]

Moment = Any  # datetime, pd.Timestamp, ISO string, or seconds since the run started


def _moment(trace: RunLike, value: Moment) -> pd.Timestamp | None:
    if value is None:
        return None
    if isinstance(value, int | float) and not isinstance(value, bool):
        start = utc(field(trace.run, "started_at"))
        if start is None:
            start = trace.events_frame["timestamp"].min()
        return pd.Timestamp(start) + pd.Timedelta(seconds=float(value))
    return utc(value)


def find(
    trace: RunLike,
    text: str | None = None,
    *,
    agent: str | Iterable[str] | None = None,
    step: str | Iterable[str] | None = None,
    type: str | Iterable[str] | None = None,
    start: Moment = None,
    end: Moment = None,
    case: bool = False,
) -> pd.DataFrame:
    """The run's events that match every filter given, oldest first.

    ``text``: a substring of the summary or of the payload's JSON text (keys and values,
    values with quotes as written), case-insensitive unless ``case``; ``agent``, ``step``,
    ``type``: one value or several; ``start``/``end``: the window ``[start, end]``. The
    matching rule is :func:`missionlab.frames._match.event_mask`, shared with ``History.find``.
    """
    events = trace.events_frame
    keep = event_mask(events, text, agent=agent, step=step, type=type, case=case)
    begin, finish = _moment(trace, start), _moment(trace, end)
    if begin is not None:
        keep &= events["timestamp"] >= begin
    if finish is not None:
        keep &= events["timestamp"] <= finish
    return events[keep].sort_values("timestamp", kind="stable")


def events_between(trace: RunLike, start: Moment, end: Moment) -> pd.DataFrame:
    """The run's events stamped in ``[start, end]``, oldest first."""
    return find(trace, start=start, end=end)


def window_from_relayout(change: Any) -> tuple[pd.Timestamp, pd.Timestamp] | None:
    """The time window a Gantt's x-range stands for, or None when the whole run is shown.

    ``change``: a plotly ``relayout`` dict (``{"xaxis.range[0]": ..., "xaxis.range[1]": ...}``,
    ``{"xaxis.range": [a, b]}`` or ``{"xaxis.autorange": True}``), or the ``(a, b)`` range a
    ``FigureWidget``'s ``layout.xaxis.on_change(callback, "range")`` gives. The Gantt's date
    axis is in UTC, so its naive times are read as UTC.
    """
    if change is None:
        return None
    if isinstance(change, Mapping):
        if change.get("xaxis.autorange") or change.get("autosize"):
            return None
        bounds: Any = change.get("xaxis.range")
        if bounds is None and "xaxis.range[0]" in change and "xaxis.range[1]" in change:
            bounds = (change["xaxis.range[0]"], change["xaxis.range[1]"])
        if bounds is None:
            return None
    else:
        bounds = change
    first, last = (utc(value) for value in tuple(bounds)[:2])
    if first is None or last is None:
        return None
    return (first, last) if first <= last else (last, first)


def on_time_window(figure: Any, callback: Any) -> None:
    """Call ``callback(window)`` whenever the x-range of a Gantt ``FigureWidget`` changes
    (the user selects a range, zooms or pans): ``window`` is ``(start, end)`` in UTC, or
    None when the range is cleared. For the run panel: ``on_time_window(gantt.widget,
    lambda w: show(trace.events_between(*w) if w else trace.events_frame))``."""

    def changed(_layout: Any, x_range: Any) -> None:
        callback(window_from_relayout(x_range))

    figure.layout.xaxis.on_change(changed, "range")
