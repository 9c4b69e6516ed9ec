"""The history's tables as Arrow schemas, and wire records (API JSON objects) as Arrow tables.

The columns come from the wire fields' descriptions (:mod:`missionlab._wire.fields`), so
that a field described there becomes a column here with no other edit. A field's type
follows its JSON type and format: integers as int64, ``date-time`` strings as UTC
microsecond timestamps, free-form objects (``metadata``, ``input``, ``result_payload``,
``payload``) as JSON text, everything else (ids, texts, enumerations) as strings, so
that any reader of Delta Lake tables (DuckDB, Dask, Spark, Polars) reads them without
missionlab. A table's columns are in the order of its layout below, then any field the
layout does not place (at the end, where Delta Lake adds a new column to an existing
table). The history adds its own columns: ``synced_at`` (when the row was written),
``mission_id`` on steps and events, and, on runs, steps and events, ``run_day``: the
UTC day the row's run started, which partitions those tables (all of a run's rows are
in one partition, and a day's new runs touch only that day's files), and, on runs,
``labels``: the run's labels read from its metadata (see :mod:`missionlab._wire.labels`), a
list of strings that SQL filters directly (``list_contains(labels, 'wrong-refund')`` in
DuckDB), and, on steps, ``times_from``: where the step's times came from, its plan or its
step events (see :mod:`._step_times`). Rows are keyed by each object's ``key``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from .._wire.fields import EVENT, MISSION, PLAN_STEP, RUN, Field, WireObject
from .._wire.labels import labels_of
from ..frames._columns import field_reader, times
from ..frames._jsontext import json_texts
from ._common import instant

STRING = pa.string()
TIME = pa.timestamp("us", tz="UTC")
JSON_TEXT = pa.string()
DAY = pa.date32()
LABEL_LIST = pa.list_(pa.string())
PARTITION = "run_day"  # the partition column of runs, steps and events
LABELS = "labels"  # the runs' labels, from their metadata
TIMES_FROM = "times_from"  # where a step's times came from (see _step_times.py)

# The history's own columns (not fields of the object the table holds), and their types.
ADDED: dict[str, pa.DataType] = {
    "mission_id": STRING,
    "synced_at": TIME,
    PARTITION: DAY,
    LABELS: LABEL_LIST,
    TIMES_FROM: STRING,
}


def column_type(field: Field) -> pa.DataType:
    """The Arrow type of a wire field's column."""
    if field.json_type == "integer":
        return pa.int64()
    if field.json_type == "object":
        return JSON_TEXT
    if field.format == "date-time":
        return TIME
    return STRING


def table_schema(wire: WireObject, layout: list[str]) -> pa.Schema:
    """A table's schema: ``layout`` (fields of ``wire`` and the history's own columns, in the
    table's order), then every field of ``wire`` the layout does not place."""
    names = [*layout, *(name for name in wire.names if name not in layout)]
    return pa.schema(
        [(name, column_type(wire[name]) if name in wire.names else ADDED[name]) for name in names]
    )


OBJECTS: dict[str, WireObject] = {"missions": MISSION, "runs": RUN, "steps": PLAN_STEP, "events": EVENT}
LAYOUTS: dict[str, list[str]] = {
    "missions": [
        "mission_id",
        "name",
        "execution_mode",
        "model",
        "description",
        "instructions",
        "created_at",
        "updated_at",
        "metadata",
        "synced_at",
    ],
    "runs": [
        "run_id",
        "mission_id",
        "status",
        "started_at",
        "updated_at",
        "finished_at",
        "result_summary",
        "error",
        "input",
        "metadata",
        "result_payload",
        "synced_at",
        PARTITION,
        LABELS,
    ],
    "steps": [
        "run_id",
        "mission_id",
        "step_id",
        "parent_step_id",
        "sequence",
        "description",
        "status",
        "started_at",
        "completed_at",
        "metadata",
        "synced_at",
        PARTITION,
        TIMES_FROM,
    ],
    "events": [
        "event_id",
        "run_id",
        "mission_id",
        "type",
        "summary",
        "timestamp",
        "step_id",
        "agent_id",
        "idempotency_key",
        "payload",
        "synced_at",
        PARTITION,
    ],
}
SCHEMAS: dict[str, pa.Schema] = {name: table_schema(OBJECTS[name], LAYOUTS[name]) for name in OBJECTS}
KEYS: dict[str, tuple[str, ...]] = {name: wire.key for name, wire in OBJECTS.items()}
JSON_COLUMNS: dict[str, frozenset[str]] = {name: wire.json_names for name, wire in OBJECTS.items()}


def history_columns(table: str) -> list[str]:
    """The columns of ``table`` that the history adds to its object's fields (not part of the
    frames it returns)."""
    return [name for name in SCHEMAS[table].names if name not in OBJECTS[table].names]


def partitioned(table: str) -> bool:
    """Whether ``table`` is partitioned by :data:`PARTITION` (all but missions)."""
    return PARTITION in SCHEMAS[table].names


def _strings(values: list[Any]) -> pa.Array:
    try:
        return pa.array(values, STRING)
    except (pa.ArrowInvalid, pa.ArrowTypeError):  # not all strings: an odd server value
        return pa.array([None if v is None else str(v) for v in values], STRING)


def _times(values: list[Any]) -> pa.Array:
    """UTC microsecond timestamps from ISO 8601 strings (Arrow reads the usual forms at once)
    or datetimes; any other form as :func:`~missionlab.frames._columns.times` reads it."""
    first = next((value for value in values if value is not None), None)
    if isinstance(first, str):
        try:
            return pa.array(values, STRING).cast(TIME)
        except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
            pass  # nanoseconds, or not all strings: read one by one below
    return pa.array(times(values), type=TIME)


def to_table(
    table: str,
    items: Iterable[Any],
    *,
    synced_at: pd.Timestamp,
    extra: Mapping[str, Iterable[Any]] | None = None,
) -> pa.Table:
    """An Arrow table of ``table``'s schema from API items (JSON dicts or models, read field by
    field: nothing is dumped).

    ``extra`` gives whole columns that are not in the items (``mission_id`` and ``run_day``
    of steps and events); a run's ``run_day`` comes from its ``started_at``, its ``labels``
    from its ``metadata``.
    """
    rows = items if isinstance(items, list) else list(items)
    schema = SCHEMAS[table]
    given = {name: v if isinstance(v, list) else list(v) for name, v in (extra or {}).items()}
    read = field_reader(rows)
    arrays: dict[str, pa.Array] = {}
    for field in schema:
        if field.name == "synced_at":
            arrays[field.name] = pa.repeat(pa.scalar(synced_at.to_pydatetime(), TIME), len(rows))
            continue
        if field.name == PARTITION and PARTITION not in given:
            arrays[field.name] = pc.cast(arrays["started_at"], DAY)
            continue
        if field.name == LABELS and LABELS not in given:
            arrays[field.name] = pa.array([labels_of(m) for m in read("metadata")], LABEL_LIST)
            continue
        values = given[field.name] if field.name in given else read(field.name)
        if field.name in JSON_COLUMNS[table]:
            arrays[field.name] = pa.array(json_texts(values), type=JSON_TEXT)
        elif field.type == TIME:
            arrays[field.name] = _times(values)
        elif field.type == DAY:
            arrays[field.name] = pa.array(values, type=DAY)
        elif pa.types.is_integer(field.type):
            arrays[field.name] = pa.array(values, type=field.type)
        else:
            arrays[field.name] = _strings(values)
    return pa.Table.from_arrays([arrays[name] for name in schema.names], schema=schema)


def day_of(started_at: Any) -> date:
    """The partition day (the UTC date) of a run that started at ``started_at``."""
    return instant(started_at).date()
