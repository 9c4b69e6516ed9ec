"""SQL over the history with DuckDB, and the fleet views computed there.

DuckDB reads each Delta table through its Arrow dataset (the table's live files,
as its log lists them), with filters and column choices pushed down to the files.
DuckDB is a full SQL engine of the local machine: a query can read and write any
file this process may (``COPY``, ``read_csv``, ...), as in the ``duckdb`` shell.
"""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from ._common import utc
from ._errors import HistoryFormatError
from ._pauses import COLUMNS, as_events, pauses_table
from ._schema import PARTITION
from ._tables import REPAIR_HINT, TABLES, Tables, reading


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


#: DuckDB's memory for a fleet view (``tool_stats``, ``failures``); more spills to disk.
FLEET_MEMORY = "256MB"


def _connect_files(tables: Tables, names: tuple[str, ...]) -> Any:
    """A connection where each table of ``names`` is a view of its live Parquet files (as its
    log lists them, checked as every read checks them), read by DuckDB's own Parquet reader:
    it reads only the columns and row groups a query needs, on every core."""
    connection = _connect(tables, ())
    connection.execute("SET preserve_insertion_order = false")  # the queries say their order
    # Out of core: past this much, DuckDB's joins, sorts and windows spill to a temp folder.
    spill = (Path(tempfile.gettempdir()) / "missionlab-duckdb").as_posix().replace("'", "''")
    connection.execute(f"SET memory_limit = '{FLEET_MEMORY}'")
    connection.execute(f"SET temp_directory = '{spill}'")
    for table in names:
        with reading(tables.path, table):
            files = tables.file_uris(table)
        if not files:
            connection.register(table, tables.dataset(table))
            continue
        listed = ", ".join("'" + file.replace("'", "''") + "'" for file in files)
        connection.execute(
            f"CREATE VIEW {table} AS SELECT * FROM read_parquet([{listed}], "
            "hive_partitioning = true, union_by_name = true)"
        )
    return connection


@contextlib.contextmanager
def _damaged(tables: Tables) -> Iterator[None]:
    """DuckDB's errors reading a table's files as HistoryFormatError."""
    import duckdb

    try:
        yield
    except (duckdb.IOException, duckdb.InvalidInputException) as error:
        raise HistoryFormatError(
            f"a table of {tables.path} is damaged ({str(error).splitlines()[0][:300]}): {REPAIR_HINT}"
        ) from error


def _execute(
    tables: Tables, query: str, params: list[Any] | None = None, extra: dict[str, pa.Table] | None = None
) -> pd.DataFrame:
    """``query``'s result, over the tables and the Arrow tables ``extra`` (by their names)."""
    connection = _connect(tables)  # says what to install when DuckDB is missing
    import duckdb

    for name, table in (extra or {}).items():
        connection.register(name, table)

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
WITH timed AS (
    SELECT mission_id, step_id, run_id, description, status, started_at, completed_at,
           CASE WHEN status IN ('completed', 'failed') AND started_at IS NOT NULL
                     AND completed_at >= started_at
                THEN (epoch_us(completed_at) - epoch_us(started_at)) / 1e6 END AS wall
    FROM steps WHERE {where}
), paused AS (  -- each timed step's seconds inside its run's pauses
    SELECT t.run_id, t.step_id,
           sum(greatest(0, epoch_us(least(t.completed_at, p.ended_at))
                           - epoch_us(greatest(t.started_at, p.began_at)))) / 1e6 AS paused_s
    FROM timed t JOIN pauses p ON p.run_id = t.run_id
    WHERE t.wall IS NOT NULL
    GROUP BY t.run_id, t.step_id
), finished AS (  -- working time: the step's seconds less its run's pauses
    SELECT t.mission_id, t.step_id, t.run_id, t.description, t.status,
           t.wall - coalesce(p.paused_s, 0) AS seconds
    FROM timed t LEFT JOIN paused p ON p.run_id = t.run_id AND p.step_id = t.step_id
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
    pauses = _pauses(tables, missions, until)
    frame = _execute(tables, STEP_STATS.format(where=" AND ".join(clauses)), params, {"pauses": pauses})
    for column in ("mission_id", "step_id", "description"):
        frame[column] = frame[column].astype("string")
    for column in ("runs", "finished"):
        frame[column] = frame[column].astype("int64")
    return frame


PAUSE_EVENTS = """
SELECT run_id, type, "timestamp", payload FROM events
WHERE type = 'status_change' AND contains(payload, 'paused') AND {where}
"""


def _pauses(tables: Tables, missions: list[str] | None, until: Any) -> pa.Table:
    """The pauses of the runs of ``missions`` (all: None) that started before ``until``, read
    by DuckDB's Parquet reader (it reads the payloads of the status changes only)."""
    clauses: list[str] = ["TRUE"]
    params: list[Any] = []
    if missions is not None:
        clauses.append("mission_id IN (SELECT unnest(?))")
        params.append(missions)
    if until is not None:  # a run's rows are in the partition of the day it started
        clauses.append(f"{PARTITION} <= ?")
        params.append(utc(until).date())
    connection = _connect_files(tables, ("events",))
    try:
        with _damaged(tables):
            rows = connection.execute(PAUSE_EVENTS.format(where=" AND ".join(clauses)), params).fetchall()
    finally:
        connection.close()
    return pauses_table(as_events([dict(zip(COLUMNS, row, strict=True)) for row in rows]))


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
    # The times are literals of timestamps made here; the missions, a registered table.
    clauses = ["TRUE", *_window(since, until)]
    connection = _connect(tables, ("events",))
    try:
        _wanted(connection, missions, clauses)
        yield from _stream(connection, FLEET_EVENTS.format(where=" AND ".join(clauses)), batch)
    finally:
        connection.close()


def _wanted(connection: Any, missions: list[str] | None, clauses: list[str]) -> None:
    """Keep only the rows of ``missions`` (None: all), a registered table of them."""
    if missions is not None:
        connection.register("wanted_missions", pa.table({"mission_id": pa.array(missions, pa.string())}))
        clauses.append("mission_id IN (SELECT mission_id FROM wanted_missions)")


def _stream(connection: Any, query: str, batch: int) -> Iterator[pd.DataFrame]:
    """``query``'s rows (ordered by run) in frames of about ``batch`` rows holding whole runs."""
    # No parameters: DuckDB streams a relation's rows to Arrow without a copy, not a cursor's.
    reader = connection.sql(query).to_arrow_reader(batch)
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


# -- tool calls in SQL ---------------------------------------------------------------------
# The reading of ``analysis._attempts`` (a call, its result, whether it failed) done by DuckDB,
# for the runs where that reading is a plain join: every call and result names its tool
# (``payload.tool``) and a request id (``payload.request_id``, a string), a step's calls have
# distinct request ids, and each result answers one earlier call of its step by its id. Then a
# call with a result ends at it and failed when the result says so (``ok: false``, an integer
# ``status`` >= 400, an ``error`` that is not empty, a ``result.isError`` of true; a
# ``message`` alone says nothing), whatever came while it waited; a call that never got one
# failed, ending at the first ``error`` event of its step before its tool was called again in
# the step, or without an end when its tool was called again. A failed call was retried when
# a later call of its tool in its step was made at or after its end (one with no end: by its
# tool's next call), as ``analysis._attempts.retries`` reads it. The other runs ("odd runs":
# the fallback) are read by the Python reading itself, run by run.

_USAGE = (
    "(contains(payload, '\"model\"') OR contains(payload, '\"usage\"') OR contains(payload, '\"cost_usd\"'))"
)
# What a payload says, read in one parse of its JSON (v[1] to v[9]); each value is then told
# by its JSON text (as DuckDB writes it back, minified), not parsed again.
_PATHS = (
    "['$.tool', '$.request_id', '$.status', '$.ok', '$.result.isError', '$.error', "
    "'$.model', '$.usage.total_tokens', '$.cost_usd']"
)


def _is_text(v: str) -> str:
    return f"(left({v}, 1) = '\"')"


def _text(v: str) -> str:
    """A JSON string's value (parsed only when it has an escape)."""
    return f"(CASE WHEN contains({v}, '\\') THEN {v}->>'$' ELSE {v}[2:-2] END)"


def _is_number(v: str) -> str:
    """Whether a JSON value is a number (it starts with a digit or a minus)."""
    return f"(ascii({v}::VARCHAR) BETWEEN 48 AND 57 OR ascii({v}::VARCHAR) = 45)"


def _is_integer(v: str) -> str:
    return f"({_is_number(v)} AND NOT (contains({v}, '.') OR contains({v}, 'e') OR contains({v}, 'E')))"


def _number(v: str) -> str:
    return f"(CASE WHEN {_is_number(v)} THEN TRY_CAST({v} AS DOUBLE) END)"


def _amount(v: str) -> str:
    """A JSON number as a DOUBLE; NULL for anything else and for one beyond a DOUBLE's range
    (``frames._jsontext.json_number``)."""
    return f"(CASE WHEN {_is_number(v)} THEN nullif(nullif(TRY_CAST({v} AS DOUBLE), 'inf'), '-inf') END)"


def _truthy(v: str) -> str:
    """Whether a JSON value is true for Python (not null, false, 0, "", [] or {}); its braces
    are doubled, for the ``str.format`` of the query it goes in."""
    return (
        f"(CASE left({v}, 1) WHEN '\"' THEN {v} <> '\"\"' WHEN 't' THEN TRUE WHEN '[' THEN {v} <> '[]' "
        f"WHEN '{{{{' THEN {v} <> '{{{{}}}}' ELSE coalesce({_number(v)} <> 0, FALSE) END)"
    )


#: The tool, error and usage events of the window (``{where}``), one row each, with what their
#: payloads say: ``pos`` orders a run's events (time, then id), as the Python reading does.
FLEET_EV = f"""
CREATE TEMP TABLE ev AS
WITH raw AS (
    SELECT run_id, mission_id, event_id, type, step_id, "timestamp",
           -- a tool call or result is parsed anyway: when its text names none of the keys of
           -- usage (as the history writes payloads: keys unescaped), reading them finds none
           type IN ('tool_call', 'tool_result') OR {_USAGE} AS marked, payload
    FROM events
    WHERE {{where}} AND (type IN ('tool_call', 'tool_result', 'error') OR {_USAGE})
), parsed AS (
    SELECT * EXCLUDE (payload, v), v[1] AS tool_v, v[2] AS request_v, v[3] AS status_v,
           CASE WHEN type = 'tool_result' THEN v END AS r, CASE WHEN marked THEN v END AS u
    FROM (
        SELECT *, json_extract(CASE WHEN type IN ('tool_call', 'tool_result') OR marked THEN
                                   CASE WHEN json_valid(payload) THEN payload END END, {_PATHS}) AS v
        FROM raw
    )
), told AS (  -- narrow rows, before the window sorts them
SELECT run_id, mission_id, event_id, type, step_id, "timestamp",
       CASE WHEN {_is_text("tool_v")} AND tool_v <> '""' THEN {_text("tool_v")} END AS tool,
       CASE WHEN {_is_text("request_v")} THEN {_text("request_v")} END AS request,
       coalesce({_is_number("status_v")} AND NOT {_is_integer("status_v")}, FALSE) AS odd_status,
       coalesce(r[4] = 'false' OR ({_is_integer("r[3]")} AND TRY_CAST(r[3] AS DOUBLE) >= 400)
           OR r[5] = 'true' OR {_truthy("r[6]")}, FALSE) AS says_failed,
       CASE WHEN {_is_text("u[7]")} AND u[7] <> '""' THEN {_text("u[7]")} END AS model,
       {_amount("u[8]")} AS tokens,
       {_amount("u[9]")} AS cost
FROM parsed
)
SELECT *, row_number() OVER (PARTITION BY run_id ORDER BY "timestamp", event_id) AS pos FROM told
"""

#: The runs of ``ev`` whose calls the plain join would not read as the Python reading does.
#: (An event id given twice in a run, which the Python reading would also have to settle, is
#: not among them: the history keeps one event per run and id.) One pass over the calls and
#: results grouped by run, step and request id: a run is odd when
#: one of them has no tool, no request id or a status that is a number but not an integer,
#: when a step has two calls or two results with one request id, or when a result has no
#: call of its request id before it.
ODD_RUNS = """
CREATE TEMP TABLE odd AS
SELECT DISTINCT run_id FROM ev WHERE type IN ('tool_call', 'tool_result')
GROUP BY run_id, step_id, request
HAVING bool_or(tool IS NULL OR request IS NULL OR odd_status)
    OR count(*) FILTER (WHERE type = 'tool_call') > 1
    OR count(*) FILTER (WHERE type = 'tool_result') > 1
    OR (count(*) FILTER (WHERE type = 'tool_result') = 1
        AND coalesce(min(pos) FILTER (WHERE type = 'tool_call')
                     > min(pos) FILTER (WHERE type = 'tool_result'), TRUE))
"""

#: One row per tool call of the plain runs (the columns of ``analysis.tool_stats.calls_frame``
#: but ``attempt``, and ``retried``: a later call of its tool in its step was made once it had
#: ended, its retry if it failed), then one per other
#: event with a model's usage (a model's own call).
SQL_CALLS = """
CREATE TEMP TABLE sql_calls AS
WITH plain AS (SELECT * FROM ev ANTI JOIN odd USING (run_id)),
calls AS (SELECT * FROM plain WHERE type = 'tool_call'),
results AS (SELECT * FROM plain WHERE type = 'tool_result'),
paired AS (
    SELECT c.run_id, c.mission_id, c.step_id, c.tool, c.pos, c."timestamp" AS called_at,
           c.model AS call_model, c.tokens AS call_tokens, c.cost AS call_cost,
           r.pos AS result_pos, r."timestamp" AS result_at, r.says_failed,
           r.model AS result_model, r.tokens AS result_tokens, r.cost AS result_cost,
           lead(c.pos) OVER (PARTITION BY c.run_id, c.step_id, c.tool ORDER BY c.pos) AS next_pos,
           max(c."timestamp") OVER (PARTITION BY c.run_id, c.step_id, c.tool ORDER BY c.pos
                                    ROWS BETWEEN 1 FOLLOWING AND UNBOUNDED FOLLOWING) AS later_at
    FROM calls c LEFT JOIN results r
        ON r.run_id = c.run_id AND r.step_id IS NOT DISTINCT FROM c.step_id AND r.request = c.request
),
erred AS (  -- a call with no result: the first error of its step before its tool's next call
    SELECT p.run_id, p.pos, arg_min(e."timestamp", e.pos) AS error_at
    FROM paired p JOIN plain e
        ON e.type = 'error' AND e.run_id = p.run_id AND e.step_id IS NOT DISTINCT FROM p.step_id
           AND p.result_pos IS NULL AND e.pos > p.pos AND (p.next_pos IS NULL OR e.pos < p.next_pos)
    GROUP BY p.run_id, p.pos
)
SELECT p.run_id, p.mission_id, p.step_id, p.tool, coalesce(p.call_model, p.result_model) AS model,
       p.called_at, p.pos,
       -- called again once it ended (at or after its result or error; with neither, at all)
       coalesce(p.later_at >= coalesce(p.result_at, e.error_at), p.next_pos IS NOT NULL) AS retried,
       (epoch_us(coalesce(p.result_at, e.error_at)) - epoch_us(p.called_at)) / 1e6 AS latency_s,
       CASE WHEN p.result_pos IS NOT NULL THEN coalesce(p.says_failed, FALSE)
            ELSE e.error_at IS NOT NULL OR p.next_pos IS NOT NULL END AS failed,
       CASE WHEN p.call_tokens IS NULL AND p.result_tokens IS NULL THEN NULL
            ELSE coalesce(p.call_tokens, 0) + coalesce(p.result_tokens, 0) END AS tokens,
       CASE WHEN p.call_cost IS NULL AND p.result_cost IS NULL THEN NULL
            ELSE coalesce(p.call_cost, 0) + coalesce(p.result_cost, 0) END AS cost_usd
FROM paired p LEFT JOIN erred e USING (run_id, pos)
UNION ALL
SELECT run_id, mission_id, step_id, NULL, model, "timestamp", pos, NULL, NULL, FALSE, tokens, cost
FROM plain WHERE model IS NOT NULL AND type NOT IN ('tool_call', 'tool_result')
"""

#: Per group of ``{keys}`` (and period, when ``{period}`` is not NULL) of every call: the
#: columns of ``analysis.tool_stats.STATS_COLUMNS``.
CALL_STATS = """
WITH every AS (
    SELECT run_id, mission_id, tool, model, called_at, latency_s, failed, tokens, cost_usd FROM sql_calls
    UNION ALL
    SELECT run_id, mission_id, tool, model, called_at, latency_s, failed, tokens, cost_usd FROM odd_calls
), keyed AS (
    SELECT *, {period} AS period FROM every WHERE {present}
), grouped AS (
SELECT {keys}, count(*) AS calls, count(DISTINCT run_id) AS runs,
       count(*) FILTER (WHERE failed) AS errors,
       count(*) FILTER (WHERE failed) / count(*) AS error_rate,
       quantile_cont(latency_s, 0.5) AS p50_s, quantile_cont(latency_s, 0.95) AS p95_s,
       quantile_cont(latency_s, 0.99) AS p99_s,
       -- summed in the order of the values: the same sum in every run (a parallel sum is not)
       coalesce(list_sum(list(tokens ORDER BY tokens) FILTER (WHERE tokens IS NOT NULL)), 0) AS tokens,
       coalesce(list_sum(list(cost_usd ORDER BY cost_usd) FILTER (WHERE cost_usd IS NOT NULL)), 0) AS cost_usd
FROM keyed GROUP BY {keys}
)
SELECT {keys}, calls, runs, errors, error_rate, p50_s, p95_s, p99_s,
       tokens, tokens / calls AS tokens_per_call, tokens / runs AS tokens_per_run,
       cost_usd, cost_usd / calls AS cost_per_call, cost_usd / runs AS cost_per_run
FROM grouped ORDER BY {keys}
"""


def _window(since: Any, until: Any, column: str = '"timestamp"') -> list[str]:
    """SQL clauses of ``column`` in ``[since, until)`` (literals of timestamps made here), and
    of the partition days a run started in that window may be in."""
    clauses: list[str] = []
    if since is not None:
        clauses.append(f"{column} >= TIMESTAMPTZ '{_time(since).isoformat()}'")
    if until is not None:
        end = _time(until)
        clauses.append(f"{column} < TIMESTAMPTZ '{end.isoformat()}' AND run_day <= DATE '{end.date()}'")
    return clauses


def tool_stats(
    tables: Tables,
    missions: list[str] | None,
    since: Any,
    until: Any,
    *,
    keys: list[str],
    period_us: int | None,
    odd_calls: Callable[[Iterator[pd.DataFrame]], pa.Table],
    batch: int = 200_000,
) -> pd.DataFrame:
    """Per group of ``keys`` (``tool``, ``model``, ``mission_id``; with ``period`` first when
    ``period_us``, a period's length in microseconds, is given) the statistics of every tool
    and model call stamped in ``[since, until)``. DuckDB pairs the calls with their results and
    aggregates them; the events of the odd runs (see above) are handed to ``odd_calls``, in
    frames of whole runs, which returns their calls (an Arrow table of ``sql_calls``' columns)."""
    clauses = ["TRUE", *_window(since, until)]
    connection = _connect_files(tables, ("events",))
    try:
        with _damaged(tables):
            _wanted(connection, missions, clauses)
            connection.execute(FLEET_EV.format(where=" AND ".join(clauses)))
            connection.execute(ODD_RUNS)
            connection.execute(SQL_CALLS)
            (odd,) = connection.execute("SELECT count(*) FROM odd").fetchall()[0]
            events: Iterator[pd.DataFrame] = iter(())
            if odd:
                clauses.append("run_id IN (SELECT run_id FROM odd)")
                events = _stream(connection, FLEET_EVENTS.format(where=" AND ".join(clauses)), batch)
            connection.register("odd_calls", odd_calls(events))
            period = "NULL::TIMESTAMPTZ"
            if period_us is not None:
                at, step = "epoch_us(called_at)", period_us  # floored from the epoch, as pandas does
                period = f"make_timestamp({at} - (({at} % {step}) + {step}) % {step})::TIMESTAMPTZ"
            names = ([] if period_us is None else ["period"]) + keys
            frame: pd.DataFrame = connection.execute(
                CALL_STATS.format(
                    keys=", ".join(names),
                    period=period,
                    present=" AND ".join(f"{key} IS NOT NULL" for key in keys),
                )
            ).df()
    finally:
        connection.close()
    return frame


# -- failure signatures in SQL ------------------------------------------------------------

#: What a failed run's signature is made of, for the failed runs of ``failed`` whose plan is
#: flat (no step has a parent) and whose calls are plain: the failing step (the failed step
#: that ended first, the first in plan order among equals, or the first failed one when none
#: ended), the tool of its last failed call that was not retried, and its error:
#: the summary of the step's last ``error`` event, else the run's ``error``. The other failed
#: runs (``odd_failed``) are read by the Python reading (``analysis._failure_clusters``), as are
#: those whose error would be their failed call's outcome.
FAILURE_PARTS = """
CREATE TEMP TABLE odd_failed AS
SELECT run_id FROM odd
UNION SELECT run_id FROM fsteps WHERE parent_step_id IS NOT NULL OR step_id IS NULL
UNION SELECT run_id FROM fsteps GROUP BY run_id, step_id HAVING count(*) > 1;
CREATE TEMP TABLE parts AS
WITH origin AS (
    SELECT run_id, first(step_id ORDER BY completed_at NULLS LAST, ord) AS step_id
    FROM fsteps WHERE status = 'failed' GROUP BY run_id
), last_error AS (
    SELECT e.run_id, first(e.summary ORDER BY e."timestamp" DESC, e.event_id DESC) AS summary
    FROM ferrors e JOIN origin o ON o.run_id = e.run_id AND o.step_id = e.step_id
    GROUP BY e.run_id
), failed_tool AS (
    SELECT c.run_id, first(c.tool ORDER BY c.pos DESC) AS tool
    FROM sql_calls c JOIN origin o ON o.run_id = c.run_id AND o.step_id = c.step_id
    WHERE c.tool IS NOT NULL AND c.failed AND NOT c.retried GROUP BY c.run_id
)
SELECT f.run_id, f.mission_id, f.started_at, f.finished_at, f.updated_at, o.step_id, t.tool,
       CASE WHEN e.run_id IS NOT NULL THEN e.summary ELSE f.error END AS error,
       o.step_id IS NOT NULL AND e.run_id IS NULL AND f.error IS NULL AS by_outcome
FROM failed f LEFT JOIN origin o USING (run_id) LEFT JOIN last_error e USING (run_id)
    LEFT JOIN failed_tool t USING (run_id)
WHERE f.run_id NOT IN (SELECT run_id FROM odd_failed);
INSERT INTO odd_failed SELECT run_id FROM parts WHERE by_outcome;
"""


def failure_parts(
    tables: Tables, missions: list[str] | None, since: Any, until: Any
) -> tuple[pd.DataFrame, tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]]:
    """The failed runs that started in ``[since, until)`` with the parts of their signatures
    (``run_id``, ``mission_id``, ``started_at``, ``finished_at``, ``updated_at``, ``step_id``,
    ``tool``, ``error``; see ``FAILURE_PARTS``), and what the Python reading needs of the
    others (as :func:`_failed_runs` gives them)."""
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
    day = " AND ".join(days)
    connection = _connect_files(tables, ("runs", "steps", "events"))
    try:
        with _damaged(tables):
            _wanted(connection, missions, clauses)
            connection.execute(
                "CREATE TEMP TABLE failed AS SELECT run_id, mission_id, started_at, finished_at, "
                f"updated_at, error FROM runs WHERE {' AND '.join(clauses)}"
            )
            connection.execute(
                "CREATE TEMP TABLE fsteps AS SELECT run_id, step_id, parent_step_id, status, completed_at, "
                "row_number() OVER (PARTITION BY run_id ORDER BY sequence, step_id) AS ord "
                f"FROM steps WHERE {day} AND run_id IN (SELECT run_id FROM failed)"
            )
            connection.execute(
                'CREATE TEMP TABLE ferrors AS SELECT run_id, step_id, "timestamp", event_id, summary '
                f"FROM events WHERE {day} AND type = 'error' AND run_id IN (SELECT run_id FROM failed)"
            )
            kinds = "type IN ('error', 'tool_call', 'tool_result') AND run_id IN (SELECT run_id FROM failed)"
            connection.execute(FLEET_EV.format(where=f"{day} AND {kinds}"))
            connection.execute(ODD_RUNS)
            connection.execute(SQL_CALLS)
            connection.execute(FAILURE_PARTS)
            parts = connection.execute(
                "SELECT * EXCLUDE (by_outcome) FROM parts WHERE NOT by_outcome ORDER BY run_id"
            ).df()
            odd = _failed_runs(connection, day, "failed WHERE run_id IN (SELECT run_id FROM odd_failed)")
    finally:
        connection.close()
    return parts, odd


def _failed_runs(connection: Any, day: str, failed: str) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """The runs of ``failed`` (a table and its condition), their steps and their error and tool
    events, in the orders the Python reading reads them in."""
    runs = connection.execute(f"SELECT * FROM {failed} ORDER BY run_id").df()
    ids = f"(SELECT run_id FROM {failed})"
    steps = connection.execute(
        "SELECT run_id, step_id, parent_step_id, status, completed_at FROM steps "
        f"WHERE {day} AND run_id IN {ids} ORDER BY run_id, sequence, step_id"
    ).df()
    events = connection.execute(
        'SELECT run_id, event_id, type, step_id, "timestamp", summary, payload FROM events '
        f"WHERE {day} AND type IN ('error', 'tool_call', 'tool_result') "
        f'AND run_id IN {ids} ORDER BY run_id, "timestamp", event_id'
    ).df()
    return runs, steps, events
