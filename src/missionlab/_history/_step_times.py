"""The times of the steps table's rows, as :func:`missionlab.frames.steps_frame` gives them.

The published API does not promise step times in a plan; the step events carry them. A
step the plan gives no ``started_at``/``completed_at`` gets them from its run's
``step_started`` and ``step_completed``/``step_failed`` events by the frames' one rule
(:func:`missionlab.frames._steps.times_from`), and the history's own column ``times_from``
says where each step's times came from (null: no times), as the frames' column of that
name does. A plan is stored before its run's events arrive, so its rows first hold the
plan's times; a sync then fills in the times of the runs whose plans it stored without
some times, or whose step events it stored, from every step event the history holds of
them.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds

from ..frames._columns import field_reader
from ..frames._steps import times_from
from ..types import FINISHED_STEP_STATUSES, EventType
from ._schema import TIME, TIMES_FROM

#: The event types that carry a step's times.
MARKS = (EventType.STEP_STARTED.value, EventType.STEP_COMPLETED.value, EventType.STEP_FAILED.value)
_FINISHED = pa.array(sorted(str(s.value) for s in FINISHED_STEP_STATUSES), pa.string())
_NAIVE = pa.timestamp("us")


def _naive(column: pa.ChunkedArray) -> np.ndarray:
    """A UTC time column as a writable naive ``datetime64[us]`` array (NaT for null)."""
    return np.array(pc.cast(column, _NAIVE).to_numpy(zero_copy_only=False), dtype="datetime64[us]")


def _keys(steps: pa.Table) -> list[tuple[str, str]]:
    return list(zip(steps["run_id"].to_pylist(), steps["step_id"].to_pylist(), strict=True))


def _finished(steps: pa.Table) -> np.ndarray:
    return np.asarray(pc.fill_null(pc.is_in(steps["status"], value_set=_FINISHED), False), dtype=bool)


def _set_times(steps: pa.Table, start: np.ndarray, end: np.ndarray, source: pd.Categorical) -> pa.Table:
    columns = {
        "started_at": pa.array(start, _NAIVE, from_pandas=True).cast(TIME),
        "completed_at": pa.array(end, _NAIVE, from_pandas=True).cast(TIME),
        TIMES_FROM: pa.array(np.asarray(source.astype(object)), pa.string(), from_pandas=True),
    }
    for name, values in columns.items():
        steps = steps.set_column(steps.schema.get_field_index(name), name, values)
    return steps


def planned(steps: pa.Table) -> pa.Table:
    """Rows of plans as the API gave them, with their ``times_from`` (``plan``, or null)."""
    start, end = _naive(steps["started_at"]), _naive(steps["completed_at"])
    source = times_from(_keys(steps), _finished(steps), start, end, None)
    return _set_times(steps, start, end, source)


def lacking_times(steps: list[Any]) -> set[str]:
    """The runs of plan items (``steps``: JSON dicts or models) that leave a step without a
    start, or a finished step without an end: those whose times the step events may give."""
    read = field_reader(steps)
    finished = {str(s.value) for s in FINISHED_STEP_STATUSES}
    return {
        run
        for run, start, end, status in zip(
            read("run_id"), read("started_at"), read("completed_at"), read("status"), strict=True
        )
        if start is None or (end is None and str(status) in finished)
    }


def may_change() -> ds.Expression:
    """The rows whose times the step events may give or change: a time is missing (the
    start, or the end of a finished step), or came from events."""
    source = ds.field(TIMES_FROM)
    return (
        source.is_null()
        | (source != "plan")
        | ds.field("started_at").is_null()
        | (ds.field("completed_at").is_null() & ds.field("status").isin(_FINISHED))
    )


def retimed(steps: pa.Table, events: pa.Table) -> pa.Table:
    """The rows of ``steps`` whose times change once read again from ``events`` (the step
    events of their runs: ``run_id``, ``step_id``, ``type``, ``timestamp``), with their new
    times and ``times_from``; the times the plan gave are kept."""
    start, end = _naive(steps["started_at"]), _naive(steps["completed_at"])
    stored = steps[TIMES_FROM].to_pylist()
    for row, source in enumerate(stored):  # back to the plan's own times, then the rule again
        if source in ("events", "start from events"):
            start[row] = np.datetime64("NaT")
        if source in ("events", "end from events"):
            end[row] = np.datetime64("NaT")
    frame = pd.DataFrame(
        {
            "run_id": events["run_id"].to_pylist(),
            "step_id": events["step_id"].to_pylist(),
            "type": pd.Categorical(events["type"].to_pylist()),
            "timestamp": _naive(events["timestamp"]),
        }
    )
    source = times_from(_keys(steps), _finished(steps), start, end, frame)
    new = _set_times(steps, start, end, source)
    same = np.ones(steps.num_rows, dtype=bool)
    for column in ("started_at", "completed_at", TIMES_FROM):
        before, after = steps[column], new[column]
        equal = pc.fill_null(pc.equal(before, after), False)
        both_null = pc.and_(pc.is_null(before), pc.is_null(after))
        same &= np.asarray(pc.or_(equal, both_null), dtype=bool)
    return new.filter(pa.array(~same))
