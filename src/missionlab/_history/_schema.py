"""The history's tables as Arrow schemas, and wire records (API JSON objects) as Arrow tables.

Each table keeps the API's fields with real types: ids and texts as strings,
timestamps as UTC microseconds, ``sequence`` as int64, and free-form objects
(``metadata``, ``input``, ``result_payload``, ``payload``) as JSON text, so that
any Parquet reader (pandas, DuckDB, Dask, Spark) reads them without missionlab.
One column is added: ``synced_at`` (when the row was written). Runs, steps and
events are partitioned into folders ``mission=<mission_id>/day=<YYYY-MM-DD>`` by
their mission and the UTC day their run started (the folder names are not columns
of the files, so engines that read Hive-style partitions add ``mission`` and ``day``).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

import pandas as pd
import pyarrow as pa

STRING = pa.string()
TIME = pa.timestamp("us", tz="UTC")
JSON_TEXT = pa.string()

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

    ``extra`` gives whole columns that are not in the records (e.g. ``mission_id``).
    """
    rows = list(records)
    schema = SCHEMAS[table]
    given = {name: list(values) for name, values in (extra or {}).items()}
    arrays = []
    for field in schema:
        if field.name == "synced_at":
            arrays.append(pa.array([synced_at.to_pydatetime()] * len(rows), type=TIME))
            continue
        values = given.get(field.name)
        if values is None:
            values = [row.get(field.name) for row in rows]
        if field.name in JSON_COLUMNS:
            arrays.append(pa.array([_json_text(v) for v in values], type=JSON_TEXT))
        elif field.type == TIME:
            arrays.append(_timestamps(values))
        elif pa.types.is_integer(field.type):
            arrays.append(pa.array(values, type=field.type))
        else:
            arrays.append(pa.array([None if v is None else str(v) for v in values], type=STRING))
    return pa.Table.from_arrays(arrays, schema=schema)


def day_of(started_at: Any) -> str:
    """The partition day (UTC date, ``YYYY-MM-DD``) of a run that started at ``started_at``."""
    return (
        str(pd.Timestamp(started_at).tz_convert("UTC").date())
        if pd.Timestamp(started_at).tzinfo
        else str(pd.Timestamp(started_at).date())
    )


def from_json_text(value: Any) -> Any:
    """A JSON column's value back as Python (None stays None)."""
    return None if value is None else json.loads(value)
