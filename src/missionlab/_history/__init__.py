"""A local history of an organization's missions, runs, plan steps and events, as Delta Lake tables.

>>> history = missionlab.history(client, "missions-history")
>>> history.sync()                         # first time: everything; then only what changed
>>> runs = history.runs(mission="Travel booking assistant", since="2026-11-01")
>>> history.sql("SELECT status, count(*) FROM runs GROUP BY status")
>>> history.step_stats(since="2026-11-01") # per mission and step: p50/p95 durations, failures
>>> missionlab.History("missions-history", version=3)   # the history as the third sync left it

The folder holds one Delta Lake table per kind of record (``missions``, ``runs``,
``steps``, ``events``; their columns are listed in ``docs/history.md``), written with
delta-rs, so that DuckDB, Dask, Spark and Polars read them without missionlab and
see exactly what ``.runs()``, ``.steps()`` and ``.events()`` return. Needs the
``history`` extra (deltalake and DuckDB).
"""

from __future__ import annotations

import difflib
import html
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.dataset as ds

from ..client._json import loads
from ..client.errors import InvalidArgumentError
from ._common import SyncReport, utc
from ._errors import HistoryError, HistoryFormatError, HistorySyncConflictError
from ._legacy import refuse_legacy
from ._repair import RepairReport, repair
from ._schema import JSON_COLUMNS, SCHEMAS, history_columns
from ._state import pinned_versions, read_state
from ._sync import Syncer
from ._tables import RETENTION_HOURS, TABLES, Tables

if TYPE_CHECKING:
    from deltalake import DeltaTable

    from ..client._client import Client

__all__ = [
    "History",
    "HistoryError",
    "HistoryFormatError",
    "HistorySyncConflictError",
    "RepairReport",
    "SyncReport",
    "history",
]

_TIME_COLUMN = {"runs": "started_at", "steps": "started_at", "events": "timestamp"}


def history(client: Client | None, path: str | Path) -> History:
    """The history kept in the folder ``path``, synced from ``client`` (None: read only)."""
    return History(path, client)


class History:
    """A history folder: ``sync()`` it from the API, query it as frames or with SQL.

    ``version`` (the number of a finished sync, 1 for the first) or ``as_of`` (a time)
    open the history as it was then, read only.
    """

    def __init__(
        self,
        path: str | Path,
        client: Client | None = None,
        *,
        version: int | None = None,
        as_of: Any = None,
    ) -> None:
        self.path = Path(path)
        self.client = client
        if client is None and not self.path.is_dir():
            # Read only: a folder that is not there is a mistyped path, not an empty history.
            raise InvalidArgumentError(
                "path",
                f"there is no history folder at {str(self.path)!r}: check the path, or open it "
                "with a client (missionlab.history(client, path)) and sync() to start one",
            )
        refuse_legacy(self.path)
        self._pinned = pinned_versions(self.path, version, as_of)
        self.version = version
        self.as_of = as_of
        self._tables = Tables(self.path, self._pinned)

    # -- syncing -------------------------------------------------------------------------------

    def sync(
        self,
        *,
        full: bool = False,
        verify: bool = False,
        relist_runs: bool = False,
        progress: bool | None = None,
    ) -> SyncReport:
        """Fetch what changed since the last sync (everything the first time).

        ``full`` re-lists every run and event (and re-reads the plan of any run whose steps
        are missing); ``relist_runs`` re-lists every run but not the events (one request per
        1,000 runs), storing again each run that changed since it was stored: labels added
        to old, finished runs, which an incremental sync does not see; ``verify`` checks
        every run's number of events (use it if the server's list of recent events may not
        reach back to all runs). ``progress``: None shows progress bars when a phase takes
        more than half a second.

        Another sync of the same folder that starts meanwhile takes it over: this one then
        stops with :class:`HistorySyncConflictError`, keeping what it committed.
        """
        if self.client is None:
            raise InvalidArgumentError(
                "client",
                "this history was opened without a client: it can be read, not "
                "synced (missionlab.history(client, path) to sync)",
            )
        if self._pinned is not None:
            raise InvalidArgumentError(
                "version", "a history opened at a version or as_of= is read only: open the latest to sync"
            )
        return Syncer(self._tables, self.client, progress=progress).run(
            full=full, verify=verify, relist_runs=relist_runs
        )

    def repair(self) -> RepairReport:
        """Make a damaged history readable again: keep every file that can be read, drop
        the others from the tables, and make the next ``sync()`` fetch what they held.

        Nothing outside the folder is read or deleted."""
        if self._pinned is not None:
            raise InvalidArgumentError("version", "repair the latest history, not a version of it")
        return repair(self.path)

    def vacuum(self, *, retention_hours: int = RETENTION_HOURS) -> list[str]:
        """Delete files that no version younger than ``retention_hours`` reads (each sync
        does this with the default of seven days); returns their paths. Versions older than
        that can no longer be opened with ``version=``/``as_of=``."""
        if self._pinned is not None:
            raise InvalidArgumentError("version", "vacuum the latest history, not a version of it")
        return self._tables.vacuum(retention_hours)

    @property
    def last_sync(self) -> dict[str, Any] | None:
        """What the last sync did (time, counts, requests), or None before the first one."""
        log = read_state(self._tables)["log"]
        if self._pinned is not None:
            log = [e for e in log if e["versions"] == self._pinned][:1]
        return {k: v for k, v in log[-1].items() if k != "versions"} if log else None

    @property
    def syncs(self) -> pd.DataFrame:
        """One row per finished sync (its number is the ``version`` that opens it)."""
        log = read_state(self._tables)["log"]
        rows = [{k: v for k, v in entry.items() if k != "versions"} for entry in log]
        frame = pd.DataFrame(rows, index=pd.RangeIndex(1, len(rows) + 1, name="version"))
        for column in ("at", "started"):
            if column in frame:
                frame[column] = pd.to_datetime(frame[column], utc=True, format="ISO8601")
        return frame

    # -- the tables, for other readers ---------------------------------------------------------

    def _table_name(self, table: str) -> str:
        if table not in TABLES:
            raise InvalidArgumentError("table", f"unknown table {table!r}: one of {', '.join(TABLES)}")
        return table

    def delta_table(self, table: str) -> DeltaTable | None:
        """``table``'s :class:`deltalake.DeltaTable` at this history's version (None if empty)."""
        return self._tables.open(self._table_name(table))

    def dataset(self, table: str) -> ds.Dataset:
        """``table`` as a pyarrow dataset of its live files (what DuckDB, Polars or pyarrow read)."""
        return self._tables.dataset(self._table_name(table))

    def files(self, table: str) -> list[str]:
        """Absolute paths of ``table``'s live files at this version (missions, runs, steps or
        events). They stay on disk until a vacuum at least seven days after a sync replaced them."""
        return self._tables.file_uris(self._table_name(table))

    # -- reading -------------------------------------------------------------------------------

    def _mission_ids(self, mission: str | Sequence[str] | None) -> list[str] | None:
        if mission is None:
            return None
        wanted = [mission] if isinstance(mission, str) else list(mission)
        table = self._tables.read("missions", columns=["mission_id", "name"])
        ids = set(table["mission_id"].to_pylist())
        by_name = dict(zip(table["name"].to_pylist(), table["mission_id"].to_pylist(), strict=True))
        unknown = [m for m in wanted if m not in ids and m not in by_name]
        if unknown:
            close = difflib.get_close_matches(str(unknown[0]), [*by_name, *ids], n=3)
            hint = f" (did you mean {', '.join(map(repr, close))}?)" if close else ""
            raise InvalidArgumentError(
                "mission",
                f"{unknown[0]!r} is neither the name nor the id of a mission in this history{hint}; "
                "history.missions() lists them",
            )
        return [m if m in ids else by_name[m] for m in wanted]

    def _read(
        self,
        table: str,
        *,
        mission: str | Sequence[str] | None,
        since: Any,
        until: Any,
        equal: dict[str, Any],
    ) -> pa.Table:
        where = ds.scalar(True)
        missions = self._mission_ids(mission)
        if missions is not None:
            where &= ds.field("mission_id").isin(pa.array(missions, pa.string()))
        column = _TIME_COLUMN[table]
        if since is not None:
            where &= ds.field(column) >= pa.scalar(
                utc(since).to_pydatetime(), SCHEMAS[table].field(column).type
            )
        if until is not None:
            end = utc(until)
            where &= ds.field(column) < pa.scalar(end.to_pydatetime(), SCHEMAS[table].field(column).type)
            # A run's rows are in the partition of the day it started, never after its rows' times.
            where &= ds.field("run_day") <= pa.scalar(end.date(), pa.date32())
        for name, value in equal.items():
            if value is None:
                continue
            values = [value] if isinstance(value, str) else [str(v) for v in value]
            where &= ds.field(name).isin(pa.array(values, pa.string()))
        return self._tables.read(table, filter=where)

    def missions(self) -> pd.DataFrame:
        """Every mission, as :func:`missionlab.frames.missions_frame`."""
        from ..frames import missions_frame

        return missions_frame(_records("missions", self._tables.read("missions")))

    def runs(
        self,
        *,
        mission: str | Sequence[str] | None = None,
        since: Any = None,
        until: Any = None,
        status: str | Sequence[str] | None = None,
    ) -> pd.DataFrame:
        """Runs that started in ``[since, until)`` (UTC), of the given missions (ids or names)
        and statuses, as :func:`missionlab.frames.runs_frame`."""
        from ..frames import runs_frame

        data = self._read("runs", mission=mission, since=since, until=until, equal={"status": status})
        return runs_frame(
            _records("runs", data.sort_by([("started_at", "descending"), ("run_id", "ascending")]))
        )

    def steps(
        self,
        *,
        mission: str | Sequence[str] | None = None,
        since: Any = None,
        until: Any = None,
        run: str | Sequence[str] | None = None,
        status: str | Sequence[str] | None = None,
    ) -> pd.DataFrame:
        """Plan steps that started in ``[since, until)``, as :func:`missionlab.frames.steps_frame`
        makes them with the runs' events: a step the plan gives no times has those of its
        step events (``times_from`` says where each step's times came from), and its
        ``working_s`` leaves out the time its run was paused (read from the run's status
        changes when the steps are read)."""
        from ..frames import TIMES_FROM, steps_frame
        from ._pauses import of_steps

        data = self._read(
            "steps", mission=mission, since=since, until=until, equal={"run_id": run, "status": status}
        )
        # Working time leaves out the runs' pauses, read from their status changes; a step left
        # open in a run that has ended is measured to the run's end.
        frame = steps_frame(
            _records("steps", data), events=of_steps(self._tables, data), runs=self._run_ends(data)
        )
        # The times are stored; where they came from is the history's own column.
        stored = pd.Series(
            data["times_from"].to_pylist(),
            index=pd.MultiIndex.from_arrays([data["run_id"].to_pylist(), data["step_id"].to_pylist()]),
            dtype=object,
        )
        source = stored.reindex(pd.MultiIndex.from_arrays([frame["run_id"], frame["step_id"]])).to_numpy()
        # Rows an earlier missionlab stored have none until a sync reads them again.
        given = pd.Series(pd.Categorical(source, dtype=TIMES_FROM), index=frame.index)
        frame["times_from"] = given.where(pd.notna(source), frame["times_from"])
        return frame

    def _run_ends(self, steps: pa.Table) -> pd.DataFrame:
        """The status and times of the runs of ``steps`` (rows of the steps table): what says
        whether, and when, each ended (see ``frames.steps_frame``'s ``runs``)."""
        runs = pa.array(sorted(set(steps["run_id"].to_pylist())), pa.string())
        table = self._tables.read(
            "runs",
            filter=ds.field("run_id").isin(runs),
            columns=["run_id", "status", "finished_at", "updated_at"],
        )
        frame: pd.DataFrame = table.to_pandas()
        return frame

    def events(
        self,
        *,
        mission: str | Sequence[str] | None = None,
        since: Any = None,
        until: Any = None,
        run: str | Sequence[str] | None = None,
        type: str | Sequence[str] | None = None,
    ) -> pd.DataFrame:
        """Events stamped in ``[since, until)``, oldest first, as
        :func:`missionlab.frames.events_frame`."""
        from ..frames import events_frame

        data = self._read(
            "events", mission=mission, since=since, until=until, equal={"run_id": run, "type": type}
        )
        return events_frame(
            _records("events", data.sort_by([("timestamp", "ascending"), ("event_id", "ascending")]))
        )

    # -- SQL and fleet views -------------------------------------------------------------------

    def sql(self, query: str) -> pd.DataFrame:
        """Run a DuckDB query over the tables ``missions``, ``runs``, ``steps``, ``events``.

        DuckDB is the local machine's SQL engine: a query can also read and write any file
        this process may (``COPY ... TO``, ``read_csv``), so run only SQL you trust."""
        from ._query import run_sql

        return run_sql(self._tables, query)

    def step_stats(
        self, *, mission: str | Sequence[str] | None = None, since: Any = None, until: Any = None
    ) -> pd.DataFrame:
        """Per mission and step: runs, finished, median/p95/max seconds, failure rate.

        The same statistics as :func:`missionlab.frames.step_stats` (of working time: the
        seconds a run was paused left out), grouped by mission too, computed by DuckDB over
        the table (the steps never all sit in memory).
        """
        from ._query import step_stats

        return step_stats(self._tables, self._mission_ids(mission), since, until)

    def find(
        self,
        text: str | None = None,
        *,
        type: str | Sequence[str] | None = None,
        tool: str | Sequence[str] | None = None,
        agent: str | Sequence[str] | None = None,
        step: str | Sequence[str] | None = None,
        mission: str | Sequence[str] | None = None,
        run: str | Sequence[str] | None = None,
        since: Any = None,
        until: Any = None,
        case: bool = False,
    ) -> pd.DataFrame:
        """Events of every run that match, as :func:`missionlab.frames.events_frame` (with its
        ``run_id``), ordered by time: the same matching rule as ``RunTrace.find`` (``text`` in
        the summary or the payload's JSON text, values with quotes as written; ``agent``,
        ``step``, ``type`` one value or several), over events stamped in ``[since, until)``.
        ``tool``: only events naming one of these tools in their payload (``"tool": ...``).

        The filters on type, step, agent, run, mission and time are pushed down to the files;
        the text is looked for in each batch with Arrow before the rule decides."""
        import pyarrow.compute as pc

        from ..frames import events_frame
        from ..frames._match import choices, event_mask, text_forms

        where = ds.scalar(True)
        missions = self._mission_ids(mission)
        if missions is not None:
            where &= ds.field("mission_id").isin(pa.array(missions, pa.string()))
        if since is not None:
            where &= ds.field("timestamp") >= pa.scalar(
                utc(since).to_pydatetime(), SCHEMAS["events"].field("timestamp").type
            )
        if until is not None:
            end = utc(until)
            where &= ds.field("timestamp") < pa.scalar(
                end.to_pydatetime(), SCHEMAS["events"].field("timestamp").type
            )
            where &= ds.field("run_day") <= pa.scalar(end.date(), pa.date32())
        for name, wanted in (("type", type), ("step_id", step), ("agent_id", agent), ("run_id", run)):
            values = choices(wanted)
            if values is not None:
                where &= ds.field(name).isin(pa.array(values, pa.string()))
        tools = choices(tool)
        hits: list[pa.Table] = []
        for batch in self._tables.dataset("events").to_batches(filter=where, batch_size=100_000):
            if text:  # a superset of the rule's matches, found by Arrow; the rule decides below
                rough = pc.match_substring(batch["summary"], text, ignore_case=not case)
                for form in text_forms(text):
                    rough = pc.or_kleene(
                        rough, pc.match_substring(batch["payload"], form, ignore_case=not case)
                    )
                batch = batch.filter(pc.fill_null(rough, False))
            if tools is not None:
                named = pc.fill_null(pc.match_substring(batch["payload"], '"tool"'), False)
                batch = batch.filter(named)
            if batch.num_rows:
                hits.append(pa.Table.from_batches([batch]))
        table = pa.concat_tables(hits) if hits else SCHEMAS["events"].empty_table()
        frame = events_frame(
            _records("events", table.sort_by([("timestamp", "ascending"), ("event_id", "ascending")]))
        )
        keep = event_mask(frame, text, case=case)
        if tools is not None:
            from ..frames._jsontext import json_object

            keep &= np.array([json_object(p).get("tool") in tools for p in frame["payload"]], dtype=bool)
        return frame[keep.to_numpy(dtype=bool)].reset_index(drop=True)

    def _fleet_events(
        self, *, since: Any, until: Any, mission: str | Sequence[str] | None, batch: int
    ) -> Any:
        """The events a fleet view reads, in frames of whole runs (see ``_query.fleet_events``)."""
        from ._query import fleet_events

        return fleet_events(self._tables, self._mission_ids(mission), since, until, batch)

    def _tool_stats(
        self,
        *,
        since: Any,
        until: Any,
        mission: str | Sequence[str] | None,
        keys: list[str],
        period_us: int | None,
        odd_calls: Any,
    ) -> pd.DataFrame:
        """Tool and model call statistics computed by DuckDB (see ``_query.tool_stats``)."""
        from ._query import tool_stats

        return tool_stats(
            self._tables,
            self._mission_ids(mission),
            since,
            until,
            keys=keys,
            period_us=period_us,
            odd_calls=odd_calls,
        )

    def _failure_parts(
        self, *, since: Any, until: Any, mission: str | Sequence[str] | None
    ) -> tuple[pd.DataFrame, tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]]:
        """Failed runs with their signatures' parts, and the odd ones' runs, steps and events
        (see ``_query.failure_parts``)."""
        from ._query import failure_parts

        return failure_parts(self._tables, self._mission_ids(mission), since, until)

    def _stored_run(self, run_id: str) -> Any:
        """One run with its mission, plan steps and events, as a run-like object (``run``,
        ``mission``, ``steps_frame``, ``events_frame``) that ``explain`` reads."""
        from types import SimpleNamespace

        runs = _records(
            "runs", self._read("runs", mission=None, since=None, until=None, equal={"run_id": run_id})
        )
        if not runs:
            raise InvalidArgumentError("run_id", f"no run {run_id[:40]!r} in this history")
        missions = _records(
            "missions",
            self._tables.read("missions", filter=ds.field("mission_id") == runs[0].get("mission_id")),
        )
        return SimpleNamespace(
            run=runs[0],
            mission=missions[0] if missions else None,
            steps_frame=self.steps(run=run_id),
            events_frame=self.events(run=run_id),
        )

    def outcomes_over_time(
        self,
        freq: str = "D",
        *,
        mission: str | Sequence[str] | None = None,
        since: Any = None,
        until: Any = None,
    ) -> pd.DataFrame:
        """Run counts per period and status (as :func:`missionlab.frames.outcomes_over_time`)."""
        from ..frames import outcomes_over_time

        return outcomes_over_time(self.runs(mission=mission, since=since, until=until), freq)

    def __repr__(self) -> str:
        last = self.last_sync
        when = f"last synced {last['at'][:19]}" if last else "never synced"
        at = "" if self._pinned is None else f" (version {self.version or self.as_of})"
        return f"<History {str(self.path)!r}{at}: {when}>"

    def _repr_html_(self) -> str:
        counts = {t: self.dataset(t).count_rows() for t in TABLES}
        rows = "".join(f"<tr><th>{t}</th><td>{n:,}</td></tr>" for t, n in counts.items())
        return f"<div><strong>{html.escape(repr(self))}</strong><table>{rows}</table></div>"


def _records(name: str, table: pa.Table) -> list[dict[str, Any]]:
    """Rows of the table ``name`` as API-shaped dicts (JSON columns parsed back, the history's
    own columns dropped)."""
    rows: list[dict[str, Any]] = table.drop_columns(
        [c for c in history_columns(name) if c in table.column_names]
    ).to_pylist()
    for row in rows:
        for column in JSON_COLUMNS[name] & row.keys():
            if row[column] is not None:
                row[column] = loads(row[column])
    return rows
