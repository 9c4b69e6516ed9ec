"""Tidy pandas DataFrames of missions, runs, plan steps, events and linked agents.

Every frame has fixed columns in a fixed order (the ``*_COLUMNS`` lists below), ids and
text as Arrow-backed strings, timestamps as tz-aware UTC datetimes, statuses and types as
ordered categoricals holding every documented value (then any value the server sends that
missionlab does not know yet, kept under its own name), and durations both as timedelta
and seconds. Items still in progress are measured to "now" and flagged ``is_running``, but a
step left in progress in a run that has ended is measured to the run's end (given its runs). A
step's ``duration_s`` is its wall time (end minus start: negative when the record puts its
end first); its ``working_s`` leaves out the time its run was paused while it was open (read
from the ``status_change`` events given to :func:`steps_frame`: none without them) and is
missing when no duration can be read (no start, or an end before the start). The checks
that compare step durations compare working times.
Nested ``metadata``/``payload``/``input`` are kept as compact JSON text (far smaller than
dicts, at any depth; ``json.loads`` gives the object back); ``flatten=True`` adds their
fields as prefixed columns (``metadata.team``). The runs frame's ``labels`` column holds each
run's labels (see :meth:`missionlab.RunTrace.label`), read from its metadata, as an Arrow list
of strings (an empty list for a run without). Empty input gives an empty frame with the same
columns and dtypes.

Inputs may be plain JSON dicts (the fast path: ``fetch_all(as_dicts=True)``, see
:func:`missionlab.fetch_frames`), our models, pages or iterators of them, envelopes
(``.data``), or the official ``telnyx`` SDK's objects; each column is built from every
item at once, and every kind of input gives the same frame.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from .._wire.fields import EVENT, MISSION, PLAN_STEP, RUN, TELNYX_AGENT, WireObject
from .._wire.fields import Field as WireField
from ..client._items import ItemList
from ..types import (
    ACTIVE_RUN_STATUSES,
    FINISHED_STEP_STATUSES,
    EventType,
    ExecutionMode,
    RunStatus,
    StepStatus,
)
from . import _columns as c
from ._fleet import outcomes_over_time, step_stats
from ._jsontext import json_object, json_text
from ._labels import run_labels
from ._pauses import paused_by_run, working_seconds
from ._run_end import step_run_ends
from ._runlike import RunLike, is_runlike
from ._steps import TIMES_FROM as _TIMES_FROM
from ._steps import plan_order, times_from

__all__ = [
    "AGENT_COLUMNS",
    "EVENT_COLUMNS",
    "MISSION_COLUMNS",
    "RUN_COLUMNS",
    "STEP_COLUMNS",
    "TIMES_FROM",
    "RunLike",
    "agents_frame",
    "as_events_frame",
    "concat",
    "events_frame",
    "missions_frame",
    "outcomes_over_time",
    "runs_frame",
    "step_stats",
    "steps_frame",
    "to_frame",
]


def _columns(wire: WireObject, layout: list[str]) -> list[str]:
    """A frame's columns: ``layout`` (the object's fields in the frame's order, and the frame's
    own columns), then any field of ``wire`` that the layout does not place."""
    return [*layout, *(name for name in wire.names if name not in layout)]


MISSION_COLUMNS = _columns(
    MISSION,
    [
        "mission_id",
        "name",
        "execution_mode",
        "model",
        "description",
        "instructions",
        "created_at",
        "updated_at",
        "metadata",
    ],
)
RUN_COLUMNS = _columns(
    RUN,
    [
        "run_id",
        "mission_id",
        "status",
        "started_at",
        "finished_at",
        "updated_at",
        "duration",
        "duration_s",
        "is_running",
        "result_summary",
        "error",
        "input",
        "metadata",
        "labels",
        "result_payload",
    ],
)
STEP_COLUMNS = _columns(
    PLAN_STEP,
    [
        "run_id",
        "step_id",
        "parent_step_id",
        "sequence",
        "depth",
        "description",
        "status",
        "started_at",
        "completed_at",
        "times_from",
        "duration",
        "duration_s",
        "working_s",
        "is_running",
        "metadata",
    ],
)
EVENT_COLUMNS = _columns(
    EVENT,
    [
        "run_id",
        "event_id",
        "timestamp",
        "type",
        "step_id",
        "agent_id",
        "summary",
        "idempotency_key",
        "payload",
    ],
)
AGENT_COLUMNS = _columns(TELNYX_AGENT, ["run_id", "telnyx_agent_id", "created_at"])

RUN_STATUS = pd.CategoricalDtype([s.value for s in RunStatus], ordered=True)
STEP_STATUS = pd.CategoricalDtype([s.value for s in StepStatus], ordered=True)
EVENT_TYPE = pd.CategoricalDtype([t.value for t in EventType], ordered=True)
EXECUTION_MODE = pd.CategoricalDtype([m.value for m in ExecutionMode], ordered=True)

FLATTEN_LEVELS = 16  # nesting levels that flatten=True turns into columns (deeper: JSON text)

#: Where a step's times came from (the steps frame's ``times_from``): ``plan``, ``events``,
#: ``start from events`` or ``end from events``; missing when the step has no times.
TIMES_FROM = _TIMES_FROM
_DOCUMENTED = [RUN_STATUS, STEP_STATUS, EVENT_TYPE, EXECUTION_MODE, TIMES_FROM]


def _category(dtype: pd.CategoricalDtype) -> Callable[[list[Any]], pd.Categorical]:
    known = list(dtype.categories)
    return lambda values: c.category(values, known)


def _converter(field: WireField) -> Callable[[list[Any]], Any]:
    """How a field's column is typed: enumerations as categoricals of their documented values,
    timestamps as UTC times, integers as nullable integers, objects as JSON text, the rest text."""
    if field.enum is not None:
        return _category(pd.CategoricalDtype([member.value for member in field.enum], ordered=True))
    if field.json_type == "object":
        return c.nested
    if field.json_type == "integer":
        return c.integers
    return c.times if field.format == "date-time" else c.text


def _typed(wire: WireObject, columns: list[str]) -> dict[str, Callable[[list[Any]], Any]]:
    """The converter of each of ``wire``'s fields, in the frame's column order."""
    return {name: _converter(wire[name]) for name in columns if name in wire.names}


def _nested(wire: WireObject, columns: list[str]) -> list[str]:
    """The columns of free-form objects, which ``flatten=True`` spreads out."""
    return [name for name in columns if name in wire.json_names]


_MISSION_FIELDS = _typed(MISSION, MISSION_COLUMNS)
_RUN_FIELDS = _typed(RUN, RUN_COLUMNS)
_STEP_FIELDS = _typed(PLAN_STEP, STEP_COLUMNS)
_EVENT_FIELDS = _typed(EVENT, EVENT_COLUMNS)
_AGENT_FIELDS = _typed(TELNYX_AGENT, AGENT_COLUMNS)


def _frame(read: Callable[[str], list[Any]], fields: dict[str, Callable[[list[Any]], Any]]) -> pd.DataFrame:
    """One typed column per field, each built from every item's value at once (``read``
    gives them: a :func:`~._columns.field_reader` or a :class:`~._columns.ColumnBuffer`)."""
    return pd.DataFrame({name: convert(read(name)) for name, convert in fields.items()}, copy=False)


def _now(now: datetime | None) -> pd.Timestamp:
    return pd.Timestamp(now or datetime.now(UTC)).tz_convert("UTC")


def _timing(
    start: np.ndarray[Any, Any],
    end: np.ndarray[Any, Any],
    running: np.ndarray[Any, Any],
    now: datetime | None,
) -> dict[str, Any]:
    """``duration`` (to now while running), ``duration_s`` and ``is_running`` columns, from
    naive UTC start and end times."""
    moment = np.datetime64(_now(now).tz_localize(None), "us")
    duration = np.where(running, moment, end) - start
    return {"duration": duration, "duration_s": duration / np.timedelta64(1, "s"), "is_running": running}


def _working(
    runs: list[Any],
    start: np.ndarray[Any, Any],
    end: np.ndarray[Any, Any],
    running: np.ndarray[Any, Any],
    now: datetime | None,
    events: pd.DataFrame | None,
) -> np.ndarray[Any, Any]:
    """The ``working_s`` column: each step's seconds (to now while running) less those its run
    was paused, by the ``status_change`` events of ``events`` (none without them)."""
    moment = _now(now)
    pauses = {} if events is None or events.empty else paused_by_run(events, moment)
    until = np.where(running, np.datetime64(moment.tz_localize(None), "us"), end)
    return working_seconds(runs, start, until, pauses)


def _within(value: dict[str, Any], levels: int) -> dict[str, Any]:
    """``value`` with the objects nested ``levels`` deep as their JSON text (which the
    flattening keeps in one column instead of going deeper)."""
    if levels <= 1:
        return {k: json_text(v) if isinstance(v, dict) else v for k, v in value.items()}
    return {k: _within(v, levels - 1) if isinstance(v, dict) else v for k, v in value.items()}


def _flatten(frame: pd.DataFrame, columns: Iterable[str]) -> pd.DataFrame:
    for column in columns:
        if column not in frame or frame.empty:
            continue
        values = [_within(json_object(text), FLATTEN_LEVELS) for text in frame[column].tolist()]
        flat = pd.json_normalize(values).add_prefix(f"{column}.")
        flat.index = frame.index
        frame = pd.concat([frame, flat], axis=1)
    return frame


def missions_frame(items: Any, *, flatten: bool = False) -> pd.DataFrame:
    """Missions, one row each, in the order given."""
    frame = _frame(c.reader_of(items), _MISSION_FIELDS)[MISSION_COLUMNS]
    return _flatten(frame, _nested(MISSION, MISSION_COLUMNS)) if flatten else frame


def runs_frame(items: Any, *, flatten: bool = False, now: datetime | None = None) -> pd.DataFrame:
    """Runs, with durations (active runs measured to now).

    A status missionlab does not know (say ``queued``) is kept as an extra category; such a
    run counts as running only while it has no ``finished_at`` and is not known to be over.
    """
    read = c.reader_of(items)
    frame = _frame(read, _RUN_FIELDS)
    frame["labels"] = run_labels(read("metadata"))
    start = frame["started_at"].to_numpy(dtype="datetime64[us]")
    end = frame["finished_at"].to_numpy(dtype="datetime64[us]")
    active = frame["status"].isin(ACTIVE_RUN_STATUSES).to_numpy() & np.isnat(end)
    frame = frame.assign(**_timing(start, end, active, now))[RUN_COLUMNS]
    return _flatten(frame, _nested(RUN, RUN_COLUMNS)) if flatten else frame


def steps_frame(
    items: Any,
    *,
    events: Any = None,
    runs: Any = None,
    flatten: bool = False,
    now: datetime | None = None,
) -> pd.DataFrame:
    """Plan steps in plan order (by sequence, children right after their parent), with depth.

    With the run's ``events`` (items or an events frame), a step the plan gives no
    ``started_at``/``completed_at`` gets them from its ``step_started`` and
    ``step_completed``/``step_failed`` events (the published API does not promise step
    times); ``times_from`` says where each step's times came from. With the steps' ``runs``
    (a runs frame, or runs as models or dicts), a step left ``in_progress`` in a run that has
    ended is measured to its run's end (``finished_at``) and is not running; without them, or
    while its run is active, to ``now``.
    """
    now = _now(now)  # one moment for every running step's duration and working time
    items = c.items_of(items)
    read = c.field_reader(items)
    order, depth = plan_order(read("run_id"), read("step_id"), read("parent_step_id"), read("sequence"))
    ordered = [items[row] for row in order]
    read = c.field_reader(ordered)
    columns = {name: convert(read(name)) for name, convert in _STEP_FIELDS.items()}
    start = np.asarray(columns["started_at"], dtype="datetime64[us]")
    end = np.asarray(columns["completed_at"], dtype="datetime64[us]")
    status = columns["status"]
    runs_of = read("run_id")
    keys = list(zip(runs_of, read("step_id"), strict=True))
    finished = np.isin(status.codes, [status.categories.get_loc(s) for s in FINISHED_STEP_STATUSES])
    events = None if events is None else as_events_frame(events)
    source = times_from(keys, finished, start, end, events)
    open_ = (status.codes == status.categories.get_loc(StepStatus.IN_PROGRESS)) & ~np.isnat(start)
    run_ends = step_run_ends(runs_of, runs)
    closed = open_ & ~np.isnat(run_ends)  # open in a run that has ended: measured to its end
    until = np.where(closed, run_ends, end)
    running = open_ & ~closed
    columns.update(
        depth=np.asarray(depth, dtype="int64"),
        started_at=c.utc_times(start),
        completed_at=c.utc_times(end),
        times_from=source,
        **_timing(start, until, running, now),
        working_s=_working(runs_of, start, until, running, now, events),
    )
    frame = pd.DataFrame({name: columns[name] for name in STEP_COLUMNS}, copy=False)
    return _flatten(frame, _nested(PLAN_STEP, STEP_COLUMNS)) if flatten else frame


def _remeasured(
    steps: pd.DataFrame,
    rows: np.ndarray[Any, Any],
    until: np.ndarray[Any, Any],
    running: np.ndarray[Any, Any],
    now: datetime | None,
    events: Any,
) -> pd.DataFrame:
    """``steps`` with its steps at ``rows`` measured again: to ``now`` where ``running``, else
    to ``until`` (and no longer running)."""
    start = steps["started_at"].to_numpy(dtype="datetime64[us]")[rows]
    run_ids = steps["run_id"].take(rows).tolist()
    timing = _timing(start, until, running, now)
    duration = steps["duration"].to_numpy(copy=True)
    duration[rows] = timing["duration"]
    seconds = steps["duration_s"].to_numpy(dtype="float64", copy=True)
    seconds[rows] = timing["duration_s"]
    flags = steps["is_running"].to_numpy(dtype=bool, copy=True)
    flags[rows] = running
    working = steps["working_s"].to_numpy(dtype="float64", copy=True)
    events = None if events is None else as_events_frame(events)
    working[rows] = _working(run_ids, start, until, running, now, events)
    return steps.assign(duration=duration, duration_s=seconds, is_running=flags, working_s=working)


def ended(steps: pd.DataFrame, runs: Any, *, events: Any = None) -> pd.DataFrame:
    """``steps`` (a steps frame) with its running steps whose run (of ``runs``: a runs frame, or
    runs as models or dicts) has ended measured to that run's end and no longer running, as
    :func:`steps_frame` measures them given the runs; the frame itself when there are none."""
    running = steps["is_running"].to_numpy(dtype=bool)
    if runs is None or not running.any():
        return steps
    rows = np.flatnonzero(running)
    run_ends = step_run_ends(steps["run_id"].take(rows).tolist(), runs)
    closed = ~np.isnat(run_ends)
    if not closed.any():
        return steps
    return _remeasured(
        steps, rows[closed], run_ends[closed], np.zeros(int(closed.sum()), dtype=bool), None, events
    )


def retimed(
    steps: pd.DataFrame, now: datetime | None = None, *, events: Any = None, runs: Any = None
) -> pd.DataFrame:
    """``steps`` (a steps frame) with its running steps measured to ``now`` (default: now), as
    :func:`steps_frame` would measure them (with the run's ``events``, for its pauses, and its
    ``runs``: see :func:`ended`); the frame itself when no step is running."""
    steps = ended(steps, runs, events=events)
    running = steps["is_running"].to_numpy(dtype=bool)
    if not running.any():
        return steps
    rows = np.flatnonzero(running)
    until = steps["completed_at"].to_numpy(dtype="datetime64[us]")[rows]
    return _remeasured(steps, rows, until, np.ones(len(rows), dtype=bool), _now(now), events)


def events_frame(items: Any, *, flatten: bool = False) -> pd.DataFrame:
    """Events, in the order given (a run's events come oldest first)."""
    frame = _frame(c.reader_of(items), _EVENT_FIELDS)
    return _flatten(frame, _nested(EVENT, EVENT_COLUMNS)) if flatten else frame


def as_events_frame(events: Any) -> pd.DataFrame:
    """``events`` as an events frame (a frame is returned as it is)."""
    return events if isinstance(events, pd.DataFrame) else events_frame(events)


def appended(frame: pd.DataFrame, new: pd.DataFrame) -> pd.DataFrame:
    """``new`` rows after those of ``frame`` (two frames of one kind), as :func:`concat` gives
    them, made column by column: a watched run's events frame grows by a few rows at each
    refresh. Its Arrow columns stay
    in few chunks, each longer than all those after it together (the last ones joined when
    not: a row is copied a few times at most, and a column of n rows has about log2 n chunks)."""
    if list(frame.columns) != list(new.columns):
        return concat([frame, new])
    columns = {}
    for name in frame.columns:
        old, extra = frame[name].array, new[name].array
        if isinstance(old, pd.arrays.ArrowStringArray) and isinstance(extra, pd.arrays.ArrowStringArray):
            before, after = old.__arrow_array__(), extra.__arrow_array__()
            chunks = _joined_chunks([*before.chunks, *after.chunks])
            columns[name] = pd.arrays.ArrowStringArray(pa.chunked_array(chunks, before.type))
        elif old.dtype == extra.dtype:  # numpy-backed (times, categories' codes, numbers): one array
            columns[name] = old._concat_same_type([old, extra])
        else:  # categories that differ (a value new to one of them): concat unites them
            columns[name] = concat([frame[[name]], new[[name]]])[name].array
    return pd.DataFrame(columns, copy=False)


def _joined_chunks(chunks: list[pa.Array]) -> list[pa.Array]:
    """``chunks`` with the last ones joined while one is no longer than those after it."""
    chunks = [chunk for chunk in chunks if len(chunk)] or chunks[:1]
    while len(chunks) > 1 and len(chunks[-2]) <= len(chunks[-1]):
        chunks[-2:] = [pa.concat_arrays(chunks[-2:])]
    return chunks


def concat(parts: list[pd.DataFrame]) -> pd.DataFrame:
    """Frames of one kind, one after the other, as one frame of that kind: statuses and
    types stay categoricals, with the documented values first and every unknown value of
    any part after them, as if the frame had been built from all the items at once."""
    if not parts:
        raise ValueError("concat() needs at least one frame")
    for column, dtype in parts[0].dtypes.items():
        if isinstance(dtype, pd.CategoricalDtype):
            known = _documented(list(dtype.categories))
            seen = {value for part in parts for value in part[column].cat.categories}
            united = [*known, *sorted(seen.difference(known))]
            parts = [
                part
                if list(part[column].cat.categories) == united
                else part.assign(**{str(column): part[column].cat.set_categories(united)})
                for part in parts
            ]
    return pd.concat(parts, ignore_index=True)


def _documented(categories: list[str]) -> list[str]:
    """The documented values a frame's categories start with (none for other categoricals)."""
    for dtype in _DOCUMENTED:
        known = list(dtype.categories)
        if categories[: len(known)] == known:
            return known
    return []


def agents_frame(items: Any) -> pd.DataFrame:
    """Telnyx agents linked to runs."""
    return _frame(c.reader_of(items), _AGENT_FIELDS)


_KINDS = [  # (a field only this kind has, its frame function), checked in order
    ("event_id", events_frame),
    ("sequence", steps_frame),
    ("telnyx_agent_id", agents_frame),
    ("run_id", runs_frame),
    ("mission_id", missions_frame),
]


def to_frame(obj: Any, **kwargs: Any) -> pd.DataFrame:
    """Any model, page, envelope, list or iterator of API objects (or plain JSON dicts)
    -> its DataFrame; a :class:`~missionlab.RunTrace` gives its steps frame.

    A page gives the items of that page; for a whole list use :func:`missionlab.fetch_frames`
    or ``page.fetch_all()``.
    """
    if is_runlike(obj):
        steps: pd.DataFrame = obj.steps_frame
        return steps
    items = c.items_of(obj)
    if not items:
        raise ValueError(
            "to_frame() cannot tell the kind of an empty input: use "
            "missions_frame, runs_frame, steps_frame, events_frame or agents_frame"
        )
    first = items[0]
    has = first.__contains__ if isinstance(first, Mapping) else lambda key: hasattr(first, key)
    for key, function in _KINDS:
        if has(key):
            # fetch_all()'s item list itself: read a block at a time (``reader_of``)
            result: pd.DataFrame = function(obj if isinstance(obj, ItemList) else items, **kwargs)
            return result
    fields = sorted(first) if isinstance(first, Mapping) else sorted(vars(first))
    raise TypeError(f"to_frame() does not know objects with fields {fields[:8]}")
