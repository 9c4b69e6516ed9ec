"""The history's tables as Arrow schemas, and wire records (API JSON objects) as Arrow tables.

This module is the one description of the history's columns. Each table keeps the
API's fields with real types: ids and texts as strings, timestamps as UTC
microseconds, ``sequence`` as int64, and free-form objects (``metadata``, ``input``,
``result_payload``, ``payload``) as JSON text, so that any reader of Delta Lake
tables (DuckDB, Dask, Spark, Polars) reads them without missionlab. Two columns are
added: ``synced_at`` (when the row was written) and, on runs, steps and events,
``run_day``: the UTC day the row's run started, which partitions those tables (all of
a run's rows are in one partition, and a day's new runs touch only that day's files).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

STRING = pa.string()
TIME = pa.timestamp("us", tz="UTC")
JSON_TEXT = pa.string()
DAY = pa.date32()
PARTITION = "run_day"  # the partition column of runs, steps and events

MISSIONS = pa.schema(
    [
        ("mission_id", STRING),
        ("name", STRING),
        ("execution_mode", STRING),
        ("model", STRING),
        ("description", STRING),
        ("instructions", STRING),
        ("created_at", TIME),
        ("updated_at", TIME),
        ("metadata", JSON_TEXT),
        ("synced_at", TIME),
    ]
)
RUNS = pa.schema(
    [
        ("run_id", STRING),
        ("mission_id", STRING),
        ("status", STRING),
        ("started_at", TIME),
        ("updated_at", TIME),
        ("finished_at", TIME),
        ("result_summary", STRING),
        ("error", STRING),
        ("input", JSON_TEXT),
        ("metadata", JSON_TEXT),
        ("result_payload", JSON_TEXT),
        ("synced_at", TIME),
        (PARTITION, DAY),
    ]
)
STEPS = pa.schema(
    [
        ("run_id", STRING),
        ("mission_id", STRING),
        ("step_id", STRING),
        ("parent_step_id", STRING),
        ("sequence", pa.int64()),
        ("description", STRING),
        ("status", STRING),
        ("started_at", TIME),
        ("completed_at", TIME),
        ("metadata", JSON_TEXT),
        ("synced_at", TIME),
        (PARTITION, DAY),
    ]
)
EVENTS = pa.schema(
    [
        ("event_id", STRING),
        ("run_id", STRING),
        ("mission_id", STRING),
        ("type", STRING),
        ("summary", STRING),
        ("timestamp", TIME),
        ("step_id", STRING),
        ("agent_id", STRING),
        ("idempotency_key", STRING),
        ("payload", JSON_TEXT),
        ("synced_at", TIME),
        (PARTITION, DAY),
    ]
)

SCHEMAS: dict[str, pa.Schema] = {"missions": MISSIONS, "runs": RUNS, "steps": STEPS, "events": EVENTS}
KEYS: dict[str, tuple[str, ...]] = {
    "missions": ("mission_id",),
    "runs": ("run_id",),
    "steps": ("run_id", "step_id"),
    "events": ("event_id",),
}
JSON_COLUMNS = frozenset({"metadata", "input", "result_payload", "payload"})
# Columns the history adds to the API's fields (not part of the frames it returns).
ADDED_COLUMNS = ("synced_at", PARTITION)


def partitioned(table: str) -> bool:
    """Whether ``table`` is partitioned by :data:`PARTITION` (all but missions)."""
    return PARTITION in SCHEMAS[table].names


def _json_text(value: Any) -> str | None:
    if value is None:
        return None
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def _timestamps(values: list[Any]) -> pa.Array:
    parsed = pd.to_datetime(pd.Series(values, dtype=object), utc=True, format="ISO8601")
    return pa.array(parsed.dt.as_unit("us"), type=TIME)


def to_table(
    table: str,
    records: Iterable[Mapping[str, Any]],
    *,
    synced_at: pd.Timestamp,
    extra: Mapping[str, Iterable[Any]] | None = None,
) -> pa.Table:
    """An Arrow table of ``table``'s schema from wire records (plain dicts of API JSON).

    ``extra`` gives whole columns that are not in the records (``mission_id`` and
    ``run_day`` of steps and events); a run's ``run_day`` comes from its ``started_at``.
    """
    rows = list(records)
    schema = SCHEMAS[table]
    given = {name: list(values) for name, values in (extra or {}).items()}
    arrays: dict[str, pa.Array] = {}
    for field in schema:
        if field.name == "synced_at":
            arrays[field.name] = pa.array([synced_at.to_pydatetime()] * len(rows), type=TIME)
            continue
        if field.name == PARTITION and PARTITION not in given:
            arrays[field.name] = pc.cast(arrays["started_at"], DAY)
            continue
        values = given.get(field.name)
        if values is None:
            values = [row.get(field.name) for row in rows]
        if field.name in JSON_COLUMNS:
            arrays[field.name] = pa.array([_json_text(v) for v in values], type=JSON_TEXT)
        elif field.type == TIME:
            arrays[field.name] = _timestamps(values)
        elif field.type == DAY:
            arrays[field.name] = pa.array(values, type=DAY)
        elif pa.types.is_integer(field.type):
            arrays[field.name] = pa.array(values, type=field.type)
        else:
            arrays[field.name] = pa.array([None if v is None else str(v) for v in values], type=STRING)
    return pa.Table.from_arrays([arrays[name] for name in schema.names], schema=schema)


def day_of(started_at: Any) -> date:
    """The partition day (the UTC date) of a run that started at ``started_at``."""
    stamp = pd.Timestamp(started_at)
    return (stamp.tz_convert("UTC") if stamp.tzinfo else stamp).date()
