"""The sandbox's database: its connections, transactions, the schema and its migrations,
and rows to and from the API's wire format.

Writes go through one connection, guarded by a lock, in WAL mode (a bulk load into a file
no other connection holds uses a rollback journal: see ``_alone_in_rollback_journal``);
every write is committed before the answer is sent, so an acknowledged write survives the
process being killed. A file database is read through a pool of read-only connections, one per
thread reading at the time, so reads run alongside each other and alongside a write
(WAL readers see the last commit); big list pages are read and answered one at a time
(see ``page_turn``). An in-memory database has the one connection only.
Rows come back as plain dicts in the API's wire format, pages of lists as JSON text.

A database file carries its schema version in ``PRAGMA user_version``: opening it applies
the migrations it has not had yet, in order, each in its own transaction. To change the
schema, append a migration to :data:`MIGRATIONS`; never edit one that has shipped.
"""

from __future__ import annotations

import json
import math
import sqlite3
import threading
import uuid
from collections.abc import Iterable, Iterator
from contextlib import AbstractContextManager, closing, contextmanager, nullcontext
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ..._wire.fields import EVENT, OBJECTS
from ...errors import MissionlabError
from ._encode import decoded_row
from ._paging import SMALL_PAGE, Listings, ListQuery, Page, page_marks, read_page

# Version 1: the schema as first released (files made then carry no version).
SCHEMA = """
CREATE TABLE IF NOT EXISTS missions (
    mission_id TEXT PRIMARY KEY, name TEXT NOT NULL, description TEXT, instructions TEXT,
    model TEXT, metadata TEXT, execution_mode TEXT NOT NULL,
    created_at TEXT NOT NULL, updated_at TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS missions_newest ON missions (created_at DESC);
CREATE TABLE IF NOT EXISTS runs (
    run_id TEXT PRIMARY KEY, mission_id TEXT NOT NULL, status TEXT NOT NULL,
    started_at TEXT NOT NULL, updated_at TEXT NOT NULL, finished_at TEXT,
    input TEXT, metadata TEXT, result_payload TEXT, result_summary TEXT, error TEXT);
CREATE INDEX IF NOT EXISTS runs_newest ON runs (started_at DESC);
CREATE INDEX IF NOT EXISTS runs_by_status ON runs (status, started_at DESC);
CREATE INDEX IF NOT EXISTS runs_by_mission ON runs (mission_id, started_at DESC);
CREATE INDEX IF NOT EXISTS runs_by_mission_status ON runs (mission_id, status, started_at DESC);
CREATE TABLE IF NOT EXISTS steps (
    run_id TEXT NOT NULL, step_id TEXT NOT NULL, sequence INTEGER NOT NULL,
    description TEXT NOT NULL, status TEXT NOT NULL, started_at TEXT, completed_at TEXT,
    parent_step_id TEXT, metadata TEXT, PRIMARY KEY (run_id, step_id));
CREATE INDEX IF NOT EXISTS steps_in_order ON steps (run_id, sequence);
CREATE TABLE IF NOT EXISTS events (
    event_id TEXT NOT NULL, run_id TEXT NOT NULL, mission_id TEXT NOT NULL, type TEXT NOT NULL,
    summary TEXT NOT NULL, timestamp TEXT NOT NULL, step_id TEXT, agent_id TEXT,
    idempotency_key TEXT, payload TEXT, PRIMARY KEY (run_id, event_id));
CREATE INDEX IF NOT EXISTS events_of_run ON events (run_id, timestamp);
CREATE INDEX IF NOT EXISTS events_of_run_by_type ON events (run_id, type, timestamp);
CREATE INDEX IF NOT EXISTS events_of_run_by_step ON events (run_id, step_id, timestamp);
CREATE INDEX IF NOT EXISTS events_of_run_by_agent ON events (run_id, agent_id, timestamp);
CREATE INDEX IF NOT EXISTS events_newest ON events (timestamp DESC);
CREATE INDEX IF NOT EXISTS events_newest_by_type ON events (type, timestamp DESC);
CREATE INDEX IF NOT EXISTS events_of_mission ON events (mission_id);
CREATE UNIQUE INDEX IF NOT EXISTS events_idempotency ON events (run_id, idempotency_key)
    WHERE idempotency_key IS NOT NULL;
CREATE TABLE IF NOT EXISTS agents (
    run_id TEXT NOT NULL, telnyx_agent_id TEXT NOT NULL, created_at TEXT NOT NULL,
    PRIMARY KEY (run_id, telnyx_agent_id));
CREATE TABLE IF NOT EXISTS objects (
    kind TEXT NOT NULL, mission_id TEXT NOT NULL, object_id TEXT NOT NULL, body TEXT NOT NULL,
    PRIMARY KEY (mission_id, kind, object_id));
CREATE TABLE IF NOT EXISTS simulations (
    run_id TEXT PRIMARY KEY, seed INTEGER NOT NULL, elapsed REAL NOT NULL DEFAULT 0,
    cursor INTEGER NOT NULL DEFAULT 0);
"""

# Version 2: the lists' indexes in ascending order. Lists are ordered by time then rowid,
# both descending (or both ascending); an index on (time) holds (time, rowid) ascending, so
# read backwards it gives that order, where one on (time DESC) made SQLite sort the list.
ASCENDING_INDEXES = """
DROP INDEX IF EXISTS missions_newest;
CREATE INDEX missions_newest ON missions (created_at);
DROP INDEX IF EXISTS runs_newest;
CREATE INDEX runs_newest ON runs (started_at);
DROP INDEX IF EXISTS runs_by_status;
CREATE INDEX runs_by_status ON runs (status, started_at);
DROP INDEX IF EXISTS runs_by_mission;
CREATE INDEX runs_by_mission ON runs (mission_id, started_at);
DROP INDEX IF EXISTS runs_by_mission_status;
CREATE INDEX runs_by_mission_status ON runs (mission_id, status, started_at);
DROP INDEX IF EXISTS events_newest;
CREATE INDEX events_newest ON events (timestamp);
DROP INDEX IF EXISTS events_newest_by_type;
CREATE INDEX events_newest_by_type ON events (type, timestamp);
"""

# Version 3: the events' key as an index of its own, which a bulk load drops and builds
# again after (a table's PRIMARY KEY index cannot be dropped, and kept, it took most of a big
# load's time: a B-tree insert per row at a random place); no index on mission_id (only
# deleting a mission used it: it now deletes by the mission's runs). Rowids are kept: lists
# break ties by them.
EVENTS_KEY_APART = """
CREATE TABLE events_v3 (
    event_id TEXT NOT NULL, run_id TEXT NOT NULL, mission_id TEXT NOT NULL, type TEXT NOT NULL,
    summary TEXT NOT NULL, timestamp TEXT NOT NULL, step_id TEXT, agent_id TEXT,
    idempotency_key TEXT, payload TEXT);
INSERT INTO events_v3 (rowid, event_id, run_id, mission_id, type, summary, timestamp, step_id,
    agent_id, idempotency_key, payload)
    SELECT rowid, event_id, run_id, mission_id, type, summary, timestamp, step_id,
    agent_id, idempotency_key, payload FROM events ORDER BY rowid;
DROP TABLE events;
ALTER TABLE events_v3 RENAME TO events;
CREATE UNIQUE INDEX events_key ON events (run_id, event_id);
CREATE INDEX events_of_run ON events (run_id, timestamp);
CREATE INDEX events_of_run_by_type ON events (run_id, type, timestamp);
CREATE INDEX events_of_run_by_step ON events (run_id, step_id, timestamp);
CREATE INDEX events_of_run_by_agent ON events (run_id, agent_id, timestamp);
CREATE INDEX events_newest ON events (timestamp);
CREATE INDEX events_newest_by_type ON events (type, timestamp);
CREATE UNIQUE INDEX events_idempotency ON events (run_id, idempotency_key)
    WHERE idempotency_key IS NOT NULL;
"""

# Version 4: an event refers to its run by the run's integer key (``runs.run_key``, the
# runs' rowid made explicit, so that it is kept as it is), not by the run's 36-character id
# and the mission's: five of the events' eight indexes begin with the run, and every one of
# their entries carried those 36 bytes (a 10^6-event file went from 777 to 532 MB, its load's
# index builds from 7.2 to 4.5 s of CPU; see docs/benchmarks.md). The routes answer as
# before: a row's run id is read back through the key (:data:`EVENT_COLUMNS`). Rowids are
# kept (lists break ties by them); an event whose run is gone (none is made so) is dropped.
RUN_KEYS = """
CREATE TABLE runs_v4 (
    run_key INTEGER PRIMARY KEY, run_id TEXT NOT NULL UNIQUE, mission_id TEXT NOT NULL,
    status TEXT NOT NULL, started_at TEXT NOT NULL, updated_at TEXT NOT NULL, finished_at TEXT,
    input TEXT, metadata TEXT, result_payload TEXT, result_summary TEXT, error TEXT);
INSERT INTO runs_v4 (run_key, run_id, mission_id, status, started_at, updated_at, finished_at,
    input, metadata, result_payload, result_summary, error)
    SELECT rowid, run_id, mission_id, status, started_at, updated_at, finished_at,
    input, metadata, result_payload, result_summary, error FROM runs ORDER BY rowid;
DROP TABLE runs;
ALTER TABLE runs_v4 RENAME TO runs;
CREATE INDEX runs_newest ON runs (started_at);
CREATE INDEX runs_by_status ON runs (status, started_at);
CREATE INDEX runs_by_mission ON runs (mission_id, started_at);
CREATE INDEX runs_by_mission_status ON runs (mission_id, status, started_at);
CREATE TABLE events_v4 (
    event_id TEXT NOT NULL, run_key INTEGER NOT NULL, type TEXT NOT NULL, summary TEXT NOT NULL,
    timestamp TEXT NOT NULL, step_id TEXT, agent_id TEXT, idempotency_key TEXT, payload TEXT);
INSERT INTO events_v4 (rowid, event_id, run_key, type, summary, timestamp, step_id, agent_id,
    idempotency_key, payload)
    SELECT events.rowid, event_id, run_key, type, summary, timestamp, step_id, agent_id,
    idempotency_key, payload FROM events JOIN runs USING (run_id) ORDER BY events.rowid;
DROP TABLE events;
ALTER TABLE events_v4 RENAME TO events;
CREATE UNIQUE INDEX events_key ON events (run_key, event_id);
CREATE INDEX events_of_run ON events (run_key, timestamp);
CREATE INDEX events_of_run_by_type ON events (run_key, type, timestamp);
CREATE INDEX events_of_run_by_step ON events (run_key, step_id, timestamp);
CREATE INDEX events_of_run_by_agent ON events (run_key, agent_id, timestamp);
CREATE INDEX events_newest ON events (timestamp);
CREATE INDEX events_newest_by_type ON events (type, timestamp);
CREATE UNIQUE INDEX events_idempotency ON events (run_key, idempotency_key)
    WHERE idempotency_key IS NOT NULL;
"""

# MIGRATIONS[n - 1] takes a database from version n - 1 to version n.
MIGRATIONS: list[str] = [SCHEMA, ASCENDING_INDEXES, EVENTS_KEY_APART, RUN_KEYS]

OF_RUN = "run_key=(SELECT run_key FROM runs WHERE run_id=?)"
"""The WHERE clause for the events of one run, given its id."""


class SchemaVersionError(MissionlabError, RuntimeError):
    """The database file was written by a newer missionlab, with a schema this one does not know."""


EVENT_FIELDS = EVENT.names

EVENT_COLUMNS = tuple(
    "(SELECT run_id FROM runs WHERE runs.run_key=events.run_key)" if name == "run_id" else name
    for name in EVENT_FIELDS
)
"""What to select from ``events`` for each of ``EVENT_FIELDS`` (the run's id through its key)."""

JSON_FIELDS = frozenset().union(*(wire.json_names for wire in OBJECTS))
"""The columns holding JSON text: every object's free-form objects (metadata, payload, ...)."""


def now() -> str:
    """The current time in the wire format (UTC, microseconds, 'Z')."""
    return stamp(datetime.now(UTC))


def stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _dump(value: Any) -> str | None:
    return None if value is None else json.dumps(value, separators=(",", ":"))


def _row(fields: tuple[str, ...], values: Iterable[Any]) -> dict[str, Any]:
    return decoded_row(fields, values, JSON_FIELDS)


def insert_statement(table: str, columns: tuple[str, ...] | list[str], rows: int = 1) -> str:
    """The INSERT of ``rows`` rows of ``columns`` into ``table`` (their values one row after
    the other): for ``events``, the run's id (``run_id``) is stored as its key, and
    ``mission_id``, when given, must be the run's (a mismatch, like an unknown run, leaves no
    key: ``NOT NULL constraint failed: events.run_key``)."""
    if table != "events" or "run_id" not in columns:
        values = f"({', '.join('?' * len(columns))})"
        return f"INSERT INTO {table} ({', '.join(columns)}) VALUES {', '.join([values] * rows)}"
    stored = [name for name in columns if name not in ("run_id", "mission_id")]
    each = []
    for row in range(rows):
        mark = {name: f"?{number}" for number, name in enumerate(columns, start=1 + row * len(columns))}
        run = f"run_id={mark['run_id']}"
        if "mission_id" in mark:
            run += f" AND mission_id={mark['mission_id']}"
        each.append(f"((SELECT run_key FROM runs WHERE {run}), {', '.join(mark[name] for name in stored)})")
    return f"INSERT INTO events (run_key, {', '.join(stored)}) VALUES {', '.join(each)}"


def page_meta(number: int, size: int, total: int) -> dict[str, int]:
    return {
        "page_number": number,
        "page_size": size,
        "total_pages": math.ceil(total / size),
        "total_results": total,
    }


def _statements(script: str) -> Iterator[str]:
    """The statements of an SQL script, one by one (``executescript`` would commit first)."""
    statement = ""
    for line in script.splitlines(keepends=True):
        statement += line
        if sqlite3.complete_statement(statement):
            yield statement
            statement = ""
    if statement.strip():
        yield statement  # incomplete: sqlite says what is wrong with it


@contextmanager
def _snapshot(db: sqlite3.Connection) -> Iterator[None]:
    """Reads in one state of the database (a read transaction, unless one is open already)."""
    if db.in_transaction:
        yield
        return
    db.execute("BEGIN")
    try:
        yield
    finally:
        db.execute("COMMIT")  # nothing was written: this only ends the read


class Database:
    """The connections, and the queries every resource uses. ``path`` is a file, or ``":memory:"``.

    Event rows are written here: status changes, logged events and the simulator all add them.
    """

    def __init__(self, path: str | Path = ":memory:") -> None:
        self.path = str(path)
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self._lock = threading.RLock()  # writes, and every use of an in-memory database
        self._writing_thread: int | None = None  # the thread inside transaction(), if any
        # Bumped to odd just before a commit and to even after it (and by 2 for a commit seen
        # from another process): what was read while it stayed the same and even is current.
        self._generation = 0
        self._listings = Listings()
        # "" is a private temporary database, which other connections cannot open either.
        self._readers: list[sqlite3.Connection] | None = None if self.path in (":memory:", "") else []
        self._idle_readers: list[sqlite3.Connection] = []  # a stack: the warmest cache is reused
        self._readers_in_use = 0
        self._alone = False  # see _alone_in_rollback_journal: reads then go through the writer
        # Only ever held for a moment (never during a write): the generation, the readers' list.
        self._generation_lock = threading.Lock()
        self._page_turn = threading.RLock()  # see page_turn
        self._watch: sqlite3.Connection | None = None  # its data_version moves on every commit
        self._watched_version = 0
        if self._readers is not None:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute("PRAGMA foreign_keys=OFF")
        try:
            self._migrate()
        except BaseException:
            self._db.close()
            raise
        if self._readers is not None:
            self._watch = self._connect_read_only()
            self._watched_version = self._watch_version()

    def _migrate(self) -> None:
        """Bring the file to the latest schema version, or refuse one newer than the code."""
        migrations = MIGRATIONS
        version = self._db.execute("PRAGMA user_version").fetchone()[0]
        if version == 0 and self._has_table("missions"):
            version = 1  # made before versions existed, with version 1's schema
            self._db.execute("PRAGMA user_version = 1")
        if version > len(migrations):
            raise SchemaVersionError(
                f"The sandbox database {self.path} has schema version {version}; this missionlab knows "
                f"versions up to {len(migrations)}: upgrade missionlab, or use another --db file"
            )
        for number, script in enumerate(migrations[version:], start=version + 1):
            with self.transaction() as db:
                if db.execute("PRAGMA user_version").fetchone()[0] >= number:
                    continue  # another connection to the file applied it meanwhile
                for statement in _statements(script):
                    db.execute(statement)
                db.execute(f"PRAGMA user_version = {number}")

    def _has_table(self, name: str) -> bool:
        query = "SELECT 1 FROM sqlite_master WHERE type='table' AND name=?"
        return self._db.execute(query, (name,)).fetchone() is not None

    def close(self) -> None:
        with self._lock, self._generation_lock:
            self._db.close()
            for reader in [*(self._readers or ()), *([self._watch] if self._watch else [])]:
                reader.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """A write transaction: committed when the block ends, rolled back if it raises."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            self._writing_thread = threading.get_ident()
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            finally:
                self._writing_thread = None
            with self._generation_lock:
                self._generation += 1
            try:
                self._db.execute("COMMIT")
            finally:
                with self._generation_lock:
                    if self._watch is not None:
                        self._watched_version = self._watch_version()  # this commit's, not another's
                    self._generation += 1

    @contextmanager
    def _reading(self) -> Iterator[sqlite3.Connection]:
        """A connection to read with: the writer's inside a transaction of this thread (to see
        its writes) or for an in-memory database, otherwise an idle reader of the pool."""
        pooled = self._readers is not None and self._writing_thread != threading.get_ident()
        db: sqlite3.Connection | None = None
        if pooled:
            with self._generation_lock:
                pooled = not self._alone
                if pooled:
                    self._readers_in_use += 1
                    db = self._idle_readers.pop() if self._idle_readers else None
        if not pooled:
            with self._lock:
                yield self._db
            return
        try:
            db = db or self._new_reader()
            yield db
        finally:
            if db is not None and db.in_transaction:  # never keep a snapshot open in an idle reader
                db.execute("ROLLBACK")
            with self._generation_lock:
                if db is not None:
                    self._idle_readers.append(db)
                self._readers_in_use -= 1

    def page_turn(self, size: int) -> AbstractContextManager[Any]:
        """What to hold while a list page of ``size`` is read and encoded into its answer:
        pages of more than ``SMALL_PAGE`` rows take turns, and are answered one at a time.

        sqlite3 lets go of the GIL for every row it steps to; threads reading big pages at
        once then queue for the GIL on every row (a convoy: 8 clients got 0.6x the pages/s of
        one). Pages read in turn but encoded side by side still shared the GIL, so they were
        all sent at about the time the last was (a run's 5 pages of events came back after
        13-20 ms each where one takes 4): answered in turn, the first is sent when it is
        ready, and its client reads it while the next is made. Small pages (which the routes
        may read on the event loop) and small reads (``_one``, ``_all``) never wait here.
        """
        return self._page_turn if size > SMALL_PAGE else nullcontext()

    @contextmanager
    def _reading_pages(self, size: int) -> Iterator[sqlite3.Connection]:
        """:meth:`_reading` for the rows of a list page of ``size``, in its :meth:`page_turn`
        on pooled readers (the writer's own connection, inside a transaction or of an in-memory
        database, is already taken one at a time)."""
        pooled = self._readers is not None and self._writing_thread != threading.get_ident()
        with self.page_turn(size) if pooled else nullcontext(), self._reading() as db:
            yield db

    @contextmanager
    def _alone_in_rollback_journal(self) -> Iterator[bool]:
        """For a bulk write (with the write lock held): the file in a rollback journal while
        the block runs, if no other connection has it open; yields whether it is.

        WAL writes every new page twice (to the log, then, at the checkpoint, to the file); a
        rollback journal keeps only the pages a transaction overwrites, so a load into new pages
        writes them once, as atomically (a failed or killed load is rolled back). The pool's
        readers are closed for the block, and reads of other threads wait for it (they go
        through the writer); another process cannot open the file meanwhile. When a reader is
        busy or another connection holds the file, nothing changes (WAL). WAL again after."""
        if self._readers is None:
            yield False
            return
        with self._generation_lock:
            if self._readers_in_use:
                alone = False
            else:
                self._alone = alone = True
                for reader in [*self._readers, *([self._watch] if self._watch else [])]:
                    reader.close()
                self._readers.clear()
                self._idle_readers.clear()
                self._watch = None
        if not alone:
            yield False
            return
        switched = False
        try:
            timeout = self._db.execute("PRAGMA busy_timeout").fetchone()[0]
            self._db.execute("PRAGMA busy_timeout = 0")  # another connection: WAL, at once
            try:
                switched = self._db.execute("PRAGMA journal_mode = DELETE").fetchone()[0] == "delete"
            except sqlite3.OperationalError:  # the file is locked by another connection
                pass
            finally:
                self._db.execute(f"PRAGMA busy_timeout = {int(timeout)}")
            yield switched
        finally:
            if switched:
                self._db.execute("PRAGMA journal_mode = WAL")
            with self._generation_lock:
                self._alone = False
                self._watch = self._connect_read_only()
                self._watched_version = self._watch_version()
                self._generation += 2  # whatever another process did meanwhile is news

    def _new_reader(self) -> sqlite3.Connection:
        db = self._connect_read_only()
        with self._generation_lock:
            assert self._readers is not None
            self._readers.append(db)
        return db

    def _connect_read_only(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        db.execute("PRAGMA query_only=ON")
        return db

    def _watch_version(self) -> int:
        assert self._watch is not None
        return int(self._watch.execute("PRAGMA data_version").fetchone()[0])

    def _current_generation(self) -> int:
        """The write generation, after taking in commits made by other processes to the file.

        The watching connection's ``data_version`` moves whenever another connection commits;
        transaction() takes in the moves of this store's own commits."""
        if self._watch is None:
            return self._generation
        with self._generation_lock:
            version = self._watch_version()
            if version != self._watched_version:
                self._watched_version = version
                self._generation += 2
            return self._generation

    def _one(self, sql: str, args: tuple[Any, ...]) -> tuple[Any, ...] | None:
        with self._reading() as db, closing(db.execute(sql, args)) as cursor:
            row: tuple[Any, ...] | None = cursor.fetchone()  # closed: no statement left reading
            return row

    def _all(self, sql: str, args: tuple[Any, ...]) -> list[tuple[Any, ...]]:
        with self._reading() as db:
            return db.execute(sql, args).fetchall()

    def _page(self, query: ListQuery, number: int, size: int) -> Page:
        """Page ``number`` of ``query``'s list at ``size`` items a page, with its meta."""
        offset = (number - 1) * size
        for _attempt in range(2):
            generation = self._current_generation()
            known_total, start = self._listings.lookup(query, generation, offset)
            with self._reading_pages(size) as db, _snapshot(db):
                total, rows = read_page(db, query, offset, size, known_total, start)
            if generation == self._generation and generation % 2 == 0:
                self._listings.record(query, generation, total, page_marks(offset, size, rows))
                break
            if known_total is None and start is None:
                break  # counted and read in one snapshot: consistent, though not cacheable
        return Page(query.columns, rows[:size], JSON_FIELDS, page_meta(number, size, total))

    def _insert_event(self, db: sqlite3.Connection, mission_id: str, event: dict[str, Any]) -> dict[str, Any]:
        row = {
            "event_id": event.get("event_id") or str(uuid.uuid4()),
            "mission_id": mission_id,
            "run_id": event["run_id"],
            "type": event["type"],
            "summary": event["summary"],
            "timestamp": event.get("timestamp") or now(),
            "step_id": event.get("step_id"),
            "agent_id": event.get("agent_id"),
            "idempotency_key": event.get("idempotency_key"),
            "payload": _dump(event.get("payload")),
        }
        db.execute(insert_statement("events", tuple(row)), tuple(row.values()))
        row["payload"] = event.get("payload")
        return {k: row[k] for k in EVENT_FIELDS if row[k] is not None}
