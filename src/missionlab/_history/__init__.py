"""A local history of an organization's missions, runs, plan steps and events, as Parquet.

>>> history = missionlab.history(client, "missions-history")
>>> history.sync()                         # first time: everything; then only what changed
>>> runs = history.runs(mission="Travel booking assistant", since="2026-11-01")
>>> history.sql("SELECT status, count(*) FROM runs GROUP BY status")
>>> history.step_stats(since="2026-11-01") # per mission and step: p50/p95 durations, failures

The folder is plain Parquet (its columns are listed in ``docs/history.md``),
partitioned by mission and the day each run started, so Dask, Spark, DuckDB or
pandas read it without missionlab (``history.files("events")`` lists a consistent
set of files). Queries read only the partitions and columns they need.
Needs the ``history`` extra (pyarrow and DuckDB).
"""

from __future__ import annotations

import html
import json
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from ._common import SyncReport
from ._dataset import Dataset, HistoryFormatError
from ._schema import JSON_COLUMNS, SCHEMAS
from ._sync import Syncer

if TYPE_CHECKING:
    from ..client._client import Client

__all__ = ["History", "HistoryFormatError", "SyncReport", "history"]

_TIME_COLUMN = {"runs": "started_at", "steps": "started_at", "events": "timestamp"}


def history(client: Client | None, path: str | Path) -> History:
    """The history kept in the folder ``path``, synced from ``client`` (None: read only)."""
    return History(path, client)


class History:
    """A history folder: ``sync()`` it from the API, query it as frames or with SQL."""

    def __init__(self, path: str | Path, client: Client | None = None) -> None:
        self.path = Path(path)
        self.client = client
        self._dataset = Dataset(self.path)

    # -- syncing -------------------------------------------------------------------------------

    def sync(self, *, full: bool = False, verify: bool = False, progress: bool | None = None) -> SyncReport:
        """Fetch what changed since the last sync (everything the first time).

        ``full`` re-reads every run; ``verify`` checks every run's number of events (use it
        if the server's list of recent events may not reach back to all runs). ``progress``:
        None shows progress bars when a phase takes more than half a second.
        """
        if self.client is None:
            raise ValueError(
                "this history was opened without a client: it can be read, not "
                "synced (missionlab.history(client, path) to sync)"
            )
        return Syncer(self._dataset, self.client, progress=progress).run(full=full, verify=verify)

    @property
    def last_sync(self) -> dict[str, Any] | None:
        """What the last sync did (time, counts, requests), or None before the first one."""
        self._dataset.reload()
        syncs = self._dataset.manifest["syncs"]
        return dict(syncs[-1]) if syncs else None

    def files(self, table: str) -> list[str]:
        """Absolute paths of ``table``'s current files (missions, runs, steps or events)."""
        if table not in SCHEMAS:
            raise ValueError(f"unknown table {table!r}: one of {', '.join(SCHEMAS)}")
        self._dataset.reload()
        return self._dataset.absolute(table)

    # -- reading -------------------------------------------------------------------------------

    def _mission_ids(self, mission: str | Sequence[str] | None) -> list[str] | None:
        if mission is None:
            return None
        wanted = [mission] if isinstance(mission, str) else list(mission)
        table = self._dataset.read("missions", columns=["mission_id", "name"])
        by_name = dict(zip(table["name"].to_pylist(), table["mission_id"].to_pylist(), strict=True))
        return [by_name.get(m, m) for m in wanted]

    def _read(
        self,
        table: str,
        *,
        mission: str | Sequence[str] | None,
        since: Any,
        until: Any,
        equal: dict[str, Any],
    ) -> pa.Table:
        self._dataset.reload()
        start = (
            None
            if since is None
            else pd.Timestamp(since, tz="UTC")
            if pd.Timestamp(since).tzinfo is None
            else pd.Timestamp(since).tz_convert("UTC")
        )
        end = (
            None
            if until is None
            else pd.Timestamp(until, tz="UTC")
            if pd.Timestamp(until).tzinfo is None
            else pd.Timestamp(until).tz_convert("UTC")
        )
        # Partitions are by run start day; an event or step of a run may be later than it.
        days = (None, None if end is None else str(end.date()))
        data = self._dataset.read(table, missions=self._mission_ids(mission), days=days)
        column = _TIME_COLUMN.get(table)
        if column and start is not None:
            data = data.filter(pc.greater_equal(data[column], pa.scalar(start, data[column].type)))
        if column and end is not None:
            data = data.filter(pc.less(data[column], pa.scalar(end, data[column].type)))
        for name, value in equal.items():
            if value is None:
                continue
            values = [value] if isinstance(value, str) else list(value)
            data = data.filter(pc.is_in(data[name], value_set=pa.array(values, pa.string())))
        return data

    def missions(self) -> pd.DataFrame:
        """Every mission, as :func:`missionlab.frames.missions_frame`."""
        from ..frames import missions_frame

        self._dataset.reload()
        return missions_frame(_records(self._dataset.read("missions")))

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
        return runs_frame(_records(data.sort_by([("started_at", "descending")])))

    def steps(
        self,
        *,
        mission: str | Sequence[str] | None = None,
        since: Any = None,
        until: Any = None,
        run: str | Sequence[str] | None = None,
        status: str | Sequence[str] | None = None,
    ) -> pd.DataFrame:
        """Plan steps that started in ``[since, until)``, as :func:`missionlab.frames.steps_frame`."""
        from ..frames import steps_frame

        data = self._read(
            "steps", mission=mission, since=since, until=until, equal={"run_id": run, "status": status}
        )
        return steps_frame(_records(data))

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
        return events_frame(_records(data.sort_by([("timestamp", "ascending")])))

    # -- SQL and fleet views -------------------------------------------------------------------

    def sql(self, query: str) -> pd.DataFrame:
        """Run a DuckDB query over the tables ``missions``, ``runs``, ``steps``, ``events``."""
        from ._query import run_sql

        self._dataset.reload()
        return run_sql(self._dataset, query)

    def step_stats(
        self, *, mission: str | Sequence[str] | None = None, since: Any = None, until: Any = None
    ) -> pd.DataFrame:
        """Per mission and step: runs, finished, median/p95/max seconds, failure rate.

        The same statistics as :func:`missionlab.frames.step_stats`, grouped by mission too,
        computed by DuckDB over the files (the steps never all sit in memory).
        """
        from ._query import step_stats

        self._dataset.reload()
        return step_stats(self._dataset, self._mission_ids(mission), since, until)

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
        return f"<History {str(self.path)!r}: {when}>"

    def _repr_html_(self) -> str:
        counts = {
            t: sum(pq.ParquetFile(f).metadata.num_rows for f in self.files(t))
            for t in ("missions", "runs", "steps", "events")
        }
        rows = "".join(f"<tr><th>{t}</th><td>{n:,}</td></tr>" for t, n in counts.items())
        return f"<div><strong>{html.escape(repr(self))}</strong><table>{rows}</table></div>"


def _records(table: pa.Table) -> list[dict[str, Any]]:
    """Rows as API-shaped dicts (JSON columns parsed back, partition columns dropped)."""
    rows: list[dict[str, Any]] = table.drop_columns(
        [c for c in ("synced_at",) if c in table.column_names]
    ).to_pylist()
    for row in rows:
        for column in JSON_COLUMNS & row.keys():
            if row[column] is not None:
                row[column] = json.loads(row[column])
    return rows
