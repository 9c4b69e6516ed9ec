"""SQL over the history with DuckDB, and the fleet views computed there.

DuckDB reads each Delta table through its Arrow dataset (the table's live files,
as its log lists them), with filters and column choices pushed down to the files.
DuckDB is a full SQL engine of the local machine: a query can read and write any
file this process may (``COPY``, ``read_csv``, ...), as in the ``duckdb`` shell.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from ._errors import HistoryFormatError
from ._tables import REPAIR_HINT, TABLES, Tables


def _connect(tables: Tables, names: tuple[str, ...] = TABLES) -> Any:
    try:
        import duckdb
    except ImportError as error:
        raise ImportError(
            "the history's SQL queries and step_stats need DuckDB: pip install 'missionlab[history]' "
            "(reading frames with .runs(), .steps() and .events() works without it)"
        ) from error

    connection = duckdb.connect()
    connection.execute("SET TimeZone = 'UTC'")
    for table in names:  # each table's files are listed from its log: only those the query reads
        connection.register(table, tables.dataset(table))
    return connection


def _execute(tables: Tables, query: str, params: list[Any] | None = None) -> pd.DataFrame:
    connection = _connect(tables)  # says what to install when DuckDB is missing
    import duckdb

    try:
        frame: pd.DataFrame = connection.execute(query, params).df()
    except duckdb.Error as error:
        if "reading the stream" not in str(error):  # DuckDB's words for an Arrow read error
            raise
        raise HistoryFormatError(  # a table's file could not be read
            f"a table of {tables.path} is damaged ({str(error).splitlines()[0][:300]}): {REPAIR_HINT}"
        ) from error
    finally:
        connection.close()
    return frame


def run_sql(tables: Tables, query: str) -> pd.DataFrame:
    """``query``'s result as a DataFrame."""
    return _execute(tables, query)


STEP_STATS = """
WITH finished AS (
    SELECT mission_id, step_id, run_id, description, status,
           CASE WHEN status IN ('completed', 'failed') AND started_at IS NOT NULL
                     AND completed_at IS NOT NULL
                THEN (epoch_us(completed_at) - epoch_us(started_at)) / 1e6 END AS seconds
    FROM steps WHERE {where}
)
SELECT mission_id, step_id, any_value(description) AS description,
       count(DISTINCT run_id) AS runs,
       count(*) FILTER (WHERE status IN ('completed', 'failed')) AS finished,
       median(seconds) AS median_s, quantile_cont(seconds, 0.95) AS p95_s,
       max(seconds) AS max_s,
       count(*) FILTER (WHERE status = 'failed')::DOUBLE
           / nullif(count(*) FILTER (WHERE status IN ('completed', 'failed')), 0) AS failure_rate
FROM finished GROUP BY mission_id, step_id
ORDER BY mission_id, median_s DESC NULLS LAST
"""


def step_stats(tables: Tables, missions: list[str] | None, since: Any, until: Any) -> pd.DataFrame:
    """Per mission and step duration statistics, over steps started in ``[since, until)``."""
    clauses: list[str] = ["TRUE"]
    params: list[Any] = []
    if missions is not None:
        clauses.append("mission_id IN (SELECT unnest(?))")
        params.append(missions)
    if since is not None:
        clauses.append("started_at >= ?")
        params.append(
            pd.Timestamp(since, tz="UTC") if pd.Timestamp(since).tzinfo is None else pd.Timestamp(since)
        )
    if until is not None:
        clauses.append("started_at < ?")
        params.append(
            pd.Timestamp(until, tz="UTC") if pd.Timestamp(until).tzinfo is None else pd.Timestamp(until)
        )
    frame = _execute(tables, STEP_STATS.format(where=" AND ".join(clauses)), params)
    for column in ("mission_id", "step_id", "description"):
        frame[column] = frame[column].astype("string")
    for column in ("runs", "finished"):
        frame[column] = frame[column].astype("int64")
    return frame


FLEET_EVENTS = """
SELECT run_id, mission_id, event_id, type, step_id, "timestamp", summary, payload
FROM events
WHERE {where} AND (type IN ('tool_call', 'tool_result', 'error')
                   OR contains(payload, '"model"') OR contains(payload, '"usage"')
                   OR contains(payload, '"cost_usd"'))
ORDER BY run_id, "timestamp", event_id
"""


def _time(value: Any) -> pd.Timestamp:
    return pd.Timestamp(value, tz="UTC") if pd.Timestamp(value).tzinfo is None else pd.Timestamp(value)


def fleet_events(
    tables: Tables, missions: list[str] | None, since: Any, until: Any, batch: int
) -> Iterator[pd.DataFrame]:
    """The tool calls, results, errors and events carrying usage stamped in ``[since,
    until)``, ordered by run, time and id, in frames of about ``batch`` rows that each hold
    whole runs (DuckDB sorts and streams them: they never all sit in memory at once)."""
    # No parameters: DuckDB streams a relation's rows to Arrow without a copy, not a cursor's.
    # The times are literals of timestamps made here; the missions, a registered table.
    clauses: list[str] = ["TRUE"]
    if since is not None:
        clauses.append(f"\"timestamp\" >= TIMESTAMPTZ '{_time(since).isoformat()}'")
    if until is not None:
        end = _time(until)
        clauses.append(f"\"timestamp\" < TIMESTAMPTZ '{end.isoformat()}' AND run_day <= DATE '{end.date()}'")
    connection = _connect(tables, ("events",))
    try:
        if missions is not None:
            connection.register("wanted_missions", pa.table({"mission_id": pa.array(missions, pa.string())}))
            clauses.append("mission_id IN (SELECT mission_id FROM wanted_missions)")
        reader = connection.sql(FLEET_EVENTS.format(where=" AND ".join(clauses))).to_arrow_reader(batch)
        held: pd.DataFrame | None = None
        for part in reader:
            frame = part.to_pandas()
            if held is not None:
                frame = pd.concat([held, frame], ignore_index=True)
            if frame.empty:
                continue
            last = frame["run_id"].iat[-1]
            cut = int(np.searchsorted(frame["run_id"].to_numpy() == last, True))  # the last run's first row
            held = frame.iloc[cut:]
            if cut:
                yield frame.iloc[:cut]
        if held is not None and len(held):
            yield held
    finally:
        connection.close()


def failed_runs(
    tables: Tables, missions: list[str] | None, since: Any, until: Any
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """The failed runs that started in ``[since, until)`` (by run id), their plan steps (by
    run, in plan order) and their error and tool events (by run, time and id): what failure
    clusters read, and only that."""
    clauses: list[str] = ["status = 'failed'"]
    days: list[str] = ["TRUE"]  # a run's steps and events are in the partition of its start day
    if since is not None:
        start = _time(since)
        clauses.append(f"started_at >= TIMESTAMPTZ '{start.isoformat()}'")
        days.append(f"run_day >= DATE '{start.date()}'")
    if until is not None:
        end = _time(until)
        clauses.append(f"started_at < TIMESTAMPTZ '{end.isoformat()}'")
        days.append(f"run_day <= DATE '{end.date()}'")
    connection = _connect(tables, ("runs", "steps", "events"))
    try:
        if missions is not None:
            connection.register("wanted_missions", pa.table({"mission_id": pa.array(missions, pa.string())}))
            clauses.append("mission_id IN (SELECT mission_id FROM wanted_missions)")
        connection.execute(
            "CREATE TEMP TABLE failed AS SELECT run_id, mission_id, started_at, finished_at, "
            f"updated_at, error FROM runs WHERE {' AND '.join(clauses)}"
        )
        day = " AND ".join(days)
        runs = connection.execute("SELECT * FROM failed ORDER BY run_id").df()
        steps = connection.execute(
            "SELECT run_id, step_id, parent_step_id, status, completed_at FROM steps "
            f"WHERE {day} AND run_id IN (SELECT run_id FROM failed) ORDER BY run_id, sequence, step_id"
        ).df()
        events = connection.execute(
            'SELECT run_id, event_id, type, step_id, "timestamp", summary, payload FROM events '
            f"WHERE {day} AND type IN ('error', 'tool_call', 'tool_result') "
            'AND run_id IN (SELECT run_id FROM failed) ORDER BY run_id, "timestamp", event_id'
        ).df()
    finally:
        connection.close()
    return runs, steps, events
