"""The live Gantt: a plotly ``FigureWidget`` kept equal to what the Gantt's builder produces.

Every update builds the figure dict again (:func:`missionlab.figures._gantt.gantt_spec`) and applies
the difference to the widget: traces are matched by their ``meta`` name, removed, added,
moved or restyled, and only the properties that changed are sent. Two things keep an
update small for a watched run: the markers of events already drawn are not built again
(only the new events' are, appended to them), and new events go to a second trace of
their type until it holds enough of them to be merged into the first, so that the
browser receives the new markers rather than every marker of the run again.
"""

from __future__ import annotations

import html
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from ..analysis._attempts import CallLog, Ended
from ..analysis._drift import plan_drift
from ..client.errors import InvalidArgumentError
from ..frames._runlike import RunLike, field
from ._figure import _esc
from ._gantt import (
    Points,
    Running,
    _iso,
    _step_traces,
    _utc,
    as_now,
    event_points,
    gantt_inputs,
    gantt_spec,
    restamped,
    row_keys,
    row_labels,
    run_start,
)
from ._gantt_marks import _drift_traces, _row_of, attempt_bars, overlays
from ._gantt_options import GanttOptions, gantt_options

__all__ = ["GanttBuilder", "LiveGantt"]

# the steps frame's columns plan_drift reads: its answer holds while they are the same
DRIFT_READS = ["step_id", "parent_step_id", "sequence", "status", "started_at", "metadata"]
FEW = 64  # new events read value by value (more: column by column)
MERGE_AT = 250  # new markers of a type kept apart before they join the others (or a quarter of those)


class LiveGantt:
    """The Gantt as a plotly ``FigureWidget`` that updates in place.

    ``update(trace)`` (or ``update(steps, events, run=...)``) shows whatever the Gantt's
    builder now produces in the same widget: the traces stay the same objects, only what
    changed is sent, the zoom is kept, and a run's new events are added to the markers
    already drawn. The options given here hold for every update (as do ``mission`` and
    ``run`` until an update gives others): ``options``, a :class:`GanttOptions`, or the
    keywords of :func:`missionlab.gantt` (``title``, ``max_label``, ``theme``,
    ``critical_path``, ``attempts``, ``drift``, ``rollup``), with the same defaults. A live
    Gantt shows the run as it stands: ``replay`` is for a figure (or the run player widget).
    """

    def __init__(
        self,
        trace_or_steps: RunLike | Any,
        events: Any = None,
        *,
        run: Any = None,
        mission: Any = None,
        now: datetime | None = None,
        options: GanttOptions | None = None,
        **option_values: Any,
    ) -> None:
        self.options = gantt_options(options, option_values)
        if self.options.replay:
            raise InvalidArgumentError(
                "replay", "a live Gantt shows the run as it stands; gantt(replay=True) replays it"
            )
        self._builder = GanttBuilder(self.options, split=True, run=run, mission=mission)
        self.widget = go.FigureWidget(
            self._builder.spec(trace_or_steps, events, run=run, mission=mission, now=now)
        )
        # plotly.js clears an axis's type whenever a restyle changes a trace's x data, and then
        # guesses it from the first trace: the bars' durations, so "linear", on which every date
        # (the events, the shapes, the ticks) is NaN. A type in the template is what it falls
        # back to instead: the time axis stays a date axis through every update.
        self.widget.layout.template.layout.xaxis.type = "date"

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
        spec = self._builder.spec(trace_or_steps, events, run=run, mission=mission, now=now)
        widget = self.widget
        restyles, _ = _apply_traces(widget, spec["data"])
        with widget.batch_update():
            for trace, props in restyles:
                trace.update(props)
            for key, value in spec["layout"].items():
                if key != "xaxis" and _without_zoom(_plain(widget.layout[key])) != _without_zoom(value):
                    widget.layout[key] = value  # the y axis only when its rows changed: keeps a zoom

    def __repr__(self) -> str:
        title = html.unescape(str(self.widget.layout.title.text or ""))
        return f"<LiveGantt {title}>"

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        bundle = dict(self.widget._repr_mimebundle_(**kwargs) or {})
        bundle["text/plain"] = repr(self)  # not the figure's full JSON
        return bundle


class GanttBuilder:
    """Builds one run's Gantt figure dict again and again as the run goes on (what
    :func:`missionlab.gantt` builds), making markers only for the events that are new since the
    last build. ``split``: new markers go to a second trace of their type until they are
    many (see ``figures._gantt._event_traces``), for a widget that sends
    whole traces; without it, every build equals ``gantt()``'s figure. ``mission`` and
    ``run`` hold until a build gives others."""

    def __init__(self, options: GanttOptions, *, split: bool = False, run: Any = None, mission: Any = None):
        self.options, self.split = options, split
        self._run, self._mission = run, mission
        self._points: dict[str, Points] = {}
        self._seen: tuple[int, Any, list[str]] = (0, None, [])  # events built, the last one's id, rows
        self._shown: dict[str, int] | None = None  # split: markers per type in the first trace of the type
        self.now: pd.Timestamp | None = None  # the moment of the last build
        self._calls: CallLog | None = None  # the tool calls of the events built
        self._ended: tuple[Any, Ended] | None = None  # (the run's status and end, what has ended)
        self._drift: tuple[pd.DataFrame, pd.DataFrame] | None = None  # (steps, their plan drift)
        # what the last build drew from its steps, and what it was drawn from (see _reused)
        self._steps_key: tuple[Any, int] | None = None
        self._rows: tuple[list[str], dict[int, list[str]]] | None = None  # keys, labels by max_label
        self._bars: tuple[pd.Timestamp, list[dict[str, Any]], Running] | None = None  # origin, traces
        self._attempts: tuple[pd.DataFrame, pd.Timestamp | None, list[dict[str, Any]]] | None = None
        self._drift_marks: tuple[pd.Timestamp, list[str], list[dict[str, Any]], list[str]] | None = None

    def spec(
        self,
        source: Any,
        events: Any = None,
        *,
        run: Any = None,
        mission: Any = None,
        now: datetime | None = None,
        options: GanttOptions | None = None,
    ) -> dict[str, Any]:
        """The figure dict of ``source`` (a run-like, or steps with ``events``) at ``now``;
        ``options``: this build's, else the builder's."""
        options = options or self.options
        steps, events_df, run, mission = gantt_inputs(source, events, run, mission or self._mission)
        self._run = run = run or self._run
        self._mission = mission
        same = self._same_steps(source, steps)
        keys, labels = self._row_labels(steps, same, options.max_label)
        extends = self._extends(events_df, keys)
        points = self._event_points(events_df, keys, extends)
        calls, ended = None, None
        if options.attempts:
            calls = self._tool_calls(events_df, extends)
            ended = self._ended_of(run, steps, same)
        else:
            self._calls = None  # not kept up to date meanwhile
        self._seen = (len(events_df), events_df["event_id"].iat[-1] if len(events_df) else None, keys)
        self.now = moment = as_now(now)
        origin = run_start(run, steps, events_df, moment)
        spec = gantt_spec(
            steps,
            events_df,
            run=run,
            mission=mission,
            now=moment,
            options=options,
            points=points,
            drawn=self._shown if self.split else None,
            keys=keys,
            labels=labels,
            step_traces=self._step_traces(steps, same, moment, origin),
        )
        return overlays(
            spec,
            steps,
            events_df,
            run,
            moment,
            options,
            calls=calls,
            ended=ended,
            attempt_traces=self._attempt_traces,
            drift_traces=self._drift_traces,
        )

    def _same_steps(self, source: Any, steps: pd.DataFrame) -> bool:
        """Whether ``steps`` are those of the last build but for their running steps' durations:
        the same trace at the same ``steps_version`` (frames given as such are not assumed
        unchanged: one may have been changed in place)."""
        version = getattr(source, "steps_version", None)
        key = (source, version) if isinstance(version, int) else None
        last, self._steps_key = self._steps_key, key
        return key is not None and last is not None and last[0] is key[0] and last[1] == key[1]

    def _row_labels(self, steps: pd.DataFrame, same: bool, max_label: int) -> tuple[list[str], list[str]]:
        """The rows' keys and labels, kept while the steps are the same."""
        if not same or self._rows is None:
            self._rows = (row_keys(steps), {})
            self._bars = self._attempts = self._drift_marks = None
        keys, labels = self._rows
        if max_label not in labels:
            labels[max_label] = row_labels(steps, max_label)
        return keys, labels[max_label]

    def _step_traces(
        self, steps: pd.DataFrame, same: bool, now: pd.Timestamp, origin: pd.Timestamp
    ) -> list[dict[str, Any]]:
        """The steps' traces: those of the last build when the steps are the same, with the
        running steps' bars drawn to ``now``."""
        if self._bars is None or not same or self._bars[0] != origin:
            traces = _step_traces(steps, now, origin)
            self._bars = (origin, traces, Running.of(steps))
            return [dict(trace) for trace in traces]  # copies: the overlays set some properties
        _, traces, running = self._bars
        return [dict(restamped(trace, running, now)) for trace in traces]

    def _ended_of(self, run: Any, steps: pd.DataFrame, same: bool) -> Ended:
        """What has ended of the run and its plan (:meth:`Ended.of`), kept while the steps and
        the run's status and end are the same."""
        state = (field(run, "status"), field(run, "finished_at")) if run is not None else None
        if not same or self._ended is None or self._ended[0] != state:
            self._ended = (state, Ended.of(run, steps))
        return self._ended[1]

    def _attempt_traces(
        self, spec: dict[str, Any], steps: pd.DataFrame, failed: pd.DataFrame, now: pd.Timestamp
    ) -> list[dict[str, Any]]:
        """The ``failed`` calls' trace, kept while the failed calls and the steps are the same
        (and ``now``, when a call with no answer runs to it)."""
        kept = self._attempts
        if kept is None or not kept[0].equals(failed) or (kept[1] is not None and kept[1] != now):
            traces, open_ended = attempt_bars(_row_of(spec), steps, failed, now)
            self._attempts = kept = (failed, now if open_ended else None, traces)
        return [dict(trace) for trace in kept[2]]

    def _drift_traces(
        self, spec: dict[str, Any], steps: pd.DataFrame, origin: pd.Timestamp
    ) -> list[dict[str, Any]]:
        """The plan drift's markers and signed row labels, kept while the steps, their
        labels and the run's start are the same."""
        yaxis = spec["layout"]["yaxis"]
        labels = yaxis["ticktext"]
        kept = self._drift_marks
        if kept is None or kept[0] != origin or kept[1] != labels:
            traces = _drift_traces(spec, steps, origin, self._plan_drift)
            self._drift_marks = kept = (origin, list(labels), traces, yaxis["ticktext"])
        yaxis["ticktext"] = list(kept[3])
        return [dict(trace) for trace in kept[2]]

    def _plan_drift(self, steps: pd.DataFrame) -> pd.DataFrame:
        """:func:`~missionlab.analysis._drift.plan_drift` of ``steps``, computed again only when
        what it reads changed (a watched run's plan seldom does)."""
        if self._drift is not None and _same_columns(self._drift[0], steps, DRIFT_READS):
            return self._drift[1]
        drift = plan_drift(steps)
        self._drift = (steps, drift)
        return drift

    def _extends(self, events: pd.DataFrame, keys: list[str]) -> bool:
        """Whether ``events`` are those of the last build followed by new ones, on the same rows."""
        count, last_id, seen_keys = self._seen
        ids = events["event_id"]
        return keys == seen_keys and len(events) >= count and (count == 0 or ids.iat[count - 1] == last_id)

    def _tool_calls(self, events: pd.DataFrame, extends: bool) -> CallLog:
        """The events' tool calls, reading only the new events when they follow the others."""
        new = events.iloc[self._seen[0] :] if extends else events
        if self._calls is None or not extends or not self._calls.follows(new):
            self._calls, new = CallLog(arguments=False), events
        self._calls.feed(new)
        return self._calls

    def _event_points(self, events: pd.DataFrame, keys: list[str], extends: bool) -> dict[str, Points]:
        """The events' markers, built only for the events after those built last time when
        the rows are the same and those events are still the first ones, in order."""
        count = self._seen[0]
        if extends and (self._shown is not None or not self.split):
            points = dict(self._points)
            for event_type, new in _new_points(events.iloc[count:], keys).items():
                points[event_type] = points[event_type] + new if event_type in points else new
            order = [str(t) for t in events["type"].cat.categories if str(t) in points]
            points = {t: points[t] for t in order}
            if self._shown is not None:
                for event_type, part in points.items():  # merge the new markers once they are many
                    shown = self._shown.get(event_type, 0)
                    if len(part.x) - shown > max(MERGE_AT, shown // 4):
                        self._shown[event_type] = len(part.x)
        else:
            points = event_points(events, keys)
            if self.split:
                self._shown = {event_type: len(part.x) for event_type, part in points.items()}
        self._points = points
        return points


def _new_points(events: pd.DataFrame, keys: list[str]) -> dict[str, Points]:
    """:func:`~missionlab.figures._gantt.event_points` of ``events``; a few of them (a
    refresh's) read value by value, which costs less than Arrow compute's calls do."""
    if len(events) > FEW:
        return event_points(events, keys)
    first: dict[str, int] = {}
    for row, key in enumerate(keys):
        first.setdefault(key, row)
    columns = {name: events[name].tolist() for name in ("step_id", "summary", "agent_id", "payload")}
    rows = np.array([0 if _missing(s) else first.get(str(s), 0) for s in columns["step_id"]], dtype="int64")
    steps = [_esc(s) or "run" for s in columns["step_id"]]  # no step: the run's own event
    summary = np.asarray([_esc(s) for s in columns["summary"]], dtype=str)
    step_agent = np.asarray(
        [f"{step} · agent: {_esc(agent)}" for step, agent in zip(steps, columns["agent_id"], strict=True)],
        dtype=str,
    )
    payload = np.asarray([_esc(p, 200) for p in columns["payload"]], dtype=str)
    x = _iso(_utc(events["timestamp"]))
    types = events["type"]
    codes = types.cat.codes.to_numpy()
    points = {}
    for code in np.unique(codes[codes >= 0]):
        mine = codes == code
        event_type = str(types.cat.categories[code])
        points[event_type] = Points(x[mine], rows[mine], summary[mine], step_agent[mine], payload[mine])
    return points


def _missing(value: Any) -> bool:
    return value is None or value is pd.NA or (isinstance(value, float) and value != value)


def _same_columns(old: pd.DataFrame, new: pd.DataFrame, columns: list[str]) -> bool:
    """Whether ``columns`` of two frames hold the same values (missing ones alike), dtypes included."""
    return len(old) == len(new) and all(old[c].array.equals(new[c].array) for c in columns)


def _apply_traces(
    widget: go.FigureWidget, data: list[dict[str, Any]]
) -> tuple[list[tuple[Any, dict[str, Any]]], bool]:
    """Make the widget's traces those of ``data`` (matched by ``meta``): remove, add and
    reorder traces now; return the restyles of the others (to send in one batch) and
    whether traces were removed, added or moved."""
    wanted = [trace["meta"] for trace in data]
    reshaped = [trace.meta for trace in widget.data] != wanted
    if any(trace.meta not in wanted for trace in widget.data):
        widget.data = [trace for trace in widget.data if trace.meta in wanted]
    present = {trace.meta for trace in widget.data}
    missing = [trace for trace in data if trace["meta"] not in present]
    if missing:
        widget.add_traces(missing)
    if [trace.meta for trace in widget.data] != wanted:
        by_meta = {trace.meta: trace for trace in widget.data}
        widget.data = [by_meta[meta] for meta in wanted]
    added = {trace["meta"] for trace in missing}
    restyles = [
        (trace, _changes(trace, new))
        for trace, new in zip(widget.data, data, strict=True)
        if new["meta"] not in added
    ]
    return [(trace, props) for trace, props in restyles if props], reshaped


def _plain(value: Any) -> Any:
    """A layout part as plain data (one part: the whole layout would copy plotly's template)."""
    if hasattr(value, "to_plotly_json"):
        return value.to_plotly_json()
    if isinstance(value, tuple):
        return [_plain(item) for item in value]
    return value


def _without_zoom(part: Any) -> Any:
    if isinstance(part, dict):
        return {k: v for k, v in part.items() if k not in ("range", "autorange")}
    return part


def _changes(trace: Any, new: dict[str, Any]) -> dict[str, Any]:
    """The properties of ``new`` (a trace dict) that differ from the widget's ``trace``."""
    changes = {
        key: value
        for key, value in new.items()
        if key not in ("type", "meta") and not _same(trace[key], value)
    }
    return changes  # (the builder gives every trace of a kind the same properties)


def _same(old: Any, new: Any) -> bool:
    """Whether the widget's ``old`` value shows ``new`` (arrays compared by value, also inside a
    dict such as a marker whose opacity dims the bars off the critical path)."""
    if isinstance(new, np.ndarray):
        return old is not None and len(old) == len(new) and bool(np.array_equal(np.asarray(old), new))
    if isinstance(new, dict):
        old = old.to_plotly_json() if hasattr(old, "to_plotly_json") else old
        return isinstance(old, dict) and old.keys() == new.keys() and all(_same(old[k], new[k]) for k in new)
    return bool(old == new)
