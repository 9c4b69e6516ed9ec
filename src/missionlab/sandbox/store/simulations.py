"""What the simulator and the demo seeder use: simulation state, raw events and bulk loads."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from itertools import chain, islice
from typing import Any

from ._db import JSON_FIELDS, _dump, insert_statement
from .missions import MissionStore

# A bulk insert of more rows than this (and than the table holds) drops the table's own
# indexes first and builds them again after: one sort per index instead of a B-tree insert
# per row and index (the primary key's index is kept: it refuses repeated ids as rows come).
REBUILD_INDEXES_ABOVE = 50_000
# Rows are inserted this many values at a time, several rows to a statement: a statement
# run per row took a third of the insert (999: the most an SQLite before 3.32 binds).
_MAX_VALUES = 999
BULK_CACHE_KIB = 256 * 1024  # the writer's page cache during a bulk insert (pages are only taken as used)


class BulkInsert:
    """Rows inserted as they come, inside the one transaction of :meth:`SimulationStore.bulk_insert`."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db

    def insert(
        self, table: str, columns: tuple[str, ...], rows: Iterable[tuple[Any, ...]], *, expected: int = 0
    ) -> None:
        """Insert ``rows`` (values in the order of ``columns``, JSON columns already encoded),
        in order, several to a statement; ``rows`` may be a generator: it is consumed as inserted, and
        an exception it raises ends the insert (and the transaction). ``expected``: how many
        rows are coming, when known (above ``REBUILD_INDEXES_ABOVE`` the indexes are rebuilt)."""
        statement = insert_statement(table, columns)
        indexes: list[tuple[str, str]] = []
        if expected > REBUILD_INDEXES_ABOVE:
            held = self._db.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
            if expected > held:
                indexes = self._db.execute(
                    "SELECT name, sql FROM sqlite_master "
                    "WHERE type='index' AND tbl_name=? AND sql IS NOT NULL",
                    (table,),
                ).fetchall()
        for name, _ in indexes:
            self._db.execute(f'DROP INDEX "{name}"')
        per_statement = max(1, _MAX_VALUES // len(columns))
        given = iter(rows)
        some = list(islice(given, per_statement))
        if len(some) == per_statement:  # else not worth preparing the statement of many rows
            rest: list[tuple[Any, ...]] = []

            def together(some: list[tuple[Any, ...]]) -> Iterator[tuple[Any, ...]]:
                while len(some) == per_statement:
                    yield tuple(chain.from_iterable(some))
                    some = list(islice(given, per_statement))
                rest.extend(some)

            self._db.executemany(insert_statement(table, columns, per_statement), together(some))
            some = rest
        self._db.executemany(statement, some)
        for _, sql in indexes:
            self._db.execute(sql)

    def run_key(self, run_id: str) -> int:
        """The key the events of run ``run_id`` (inserted here) refer to it by."""
        return int(self._db.execute("SELECT run_key FROM runs WHERE run_id=?", (run_id,)).fetchone()[0])


class SimulationStore(MissionStore):
    """The simulator's saved state, and writes as given (timestamps and ids set)."""

    def record_event(self, mission_id: str, event: dict[str, Any]) -> dict[str, Any]:
        """Store an event as given (its timestamp and id may be set)."""
        with self.transaction() as db:
            return self._insert_event(db, mission_id, event)

    def simulations(self) -> list[tuple[str, int, float, int]]:
        """(run_id, seed, elapsed, cursor) of every simulated run still on record."""
        return [
            (str(r[0]), int(r[1]), float(r[2]), int(r[3]))
            for r in self._all("SELECT run_id, seed, elapsed, cursor FROM simulations", ())
        ]

    def save_simulation(self, run_id: str, seed: int, elapsed: float, cursor: int) -> None:
        with self.transaction() as db:
            db.execute(
                "INSERT INTO simulations VALUES (?, ?, ?, ?) ON CONFLICT (run_id) DO "
                "UPDATE SET elapsed=excluded.elapsed, cursor=excluded.cursor",
                (run_id, seed, elapsed, cursor),
            )

    def end_simulation(self, run_id: str) -> None:
        with self.transaction() as db:
            db.execute("DELETE FROM simulations WHERE run_id=?", (run_id,))

    def mission_of_run(self, run_id: str) -> dict[str, Any] | None:
        row = self._one("SELECT mission_id FROM runs WHERE run_id=?", (run_id,))
        return None if row is None else self.get_mission(str(row[0]), with_objects=False)

    def bulk_load(self, table: str, rows: list[dict[str, Any]]) -> None:
        """Insert many rows at once (demo data); JSON fields are encoded here."""
        self.bulk_load_all([(table, rows)])

    @contextmanager
    def bulk_insert(self) -> Iterator[BulkInsert]:
        """One write transaction to insert many rows with (``.insert(table, columns, rows)``):
        committed when the block ends, rolled back (nothing inserted) if it raises. Reads
        of this thread inside the block see its rows.

        The writer's page cache is raised to ``BULK_CACHE_KIB`` for the block (a big load's
        pages are then written once, instead of whenever SQLite's 2 MB default fills) and index
        builds sort in memory; both are set back after. A file held by no other connection is
        in a rollback journal for the block (see ``Database._alone_in_rollback_journal``)."""
        with self._lock, self._alone_in_rollback_journal():
            db = self._db
            cache, temp = (
                db.execute(f"PRAGMA {name}").fetchone()[0] for name in ("cache_size", "temp_store")
            )
            db.execute(f"PRAGMA cache_size = -{BULK_CACHE_KIB}")
            db.execute("PRAGMA temp_store = MEMORY")
            try:
                with self.transaction():
                    yield BulkInsert(db)
            finally:
                db.execute(f"PRAGMA cache_size = {int(cache)}")
                db.execute(f"PRAGMA temp_store = {int(temp)}")

    def bulk_load_all(self, tables: list[tuple[str, list[dict[str, Any]]]]) -> None:
        """Insert the rows of several tables in one transaction: all of them, or none."""
        with self.transaction() as db:
            for table, rows in tables:
                if not rows:
                    continue
                columns = list(dict.fromkeys(key for row in rows for key in row))
                values = [
                    tuple(_dump(r.get(c)) if c in JSON_FIELDS or c == "body" else r.get(c) for c in columns)
                    for r in rows
                ]
                db.executemany(insert_statement(table, columns), values)

    def count(self, table: str) -> int:
        row = self._one(f"SELECT count(*) FROM {table}", ())
        return int(row[0]) if row else 0
