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

from ._errors import HistoryFormatError
from ._tables import REPAIR_HINT, TABLES, Tables


def _connect(tables: Tables) -> Any:
    try:
        import duckdb
    except ImportError as error:
        raise ImportError(
            "the history's SQL queries and step_stats need DuckDB: pip install 'missionlab[history]' "
            "(reading frames with .runs(), .steps() and .events() works without it)"
        ) from error

    connection = duckdb.connect()
    connection.execute("SET TimeZone = 'UTC'")
    for table in TABLES:
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
    clauses: list[str] = ["TRUE"]
    params: list[Any] = []
    if missions is not None:
        clauses.append("mission_id IN (SELECT unnest(?))")
        params.append(missions)
    if since is not None:
        clauses.append('"timestamp" >= ?')
        params.append(_time(since))
    if until is not None:
        clauses.append('"timestamp" < ? AND run_day <= ?')
        params.extend([_time(until), _time(until).date()])
    connection = _connect(tables)
    try:
        reader = connection.execute(FLEET_EVENTS.format(where=" AND ".join(clauses)), params).to_arrow_reader(
            batch
        )
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
