"""The sandbox's data: SQLite through the standard library.

One connection, guarded by a lock, in WAL mode; every write is committed before
the answer is sent, so an acknowledged write survives the process being killed.
Rows come back as plain dicts in the API's wire format.
"""

from __future__ import annotations

import json
import math
import sqlite3
import threading
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .errors import Conflict, Invalid, NotFound

ACTIVE = ("pending", "running", "paused")
TERMINAL = ("succeeded", "failed", "cancelled")
FINISHED_STEP = ("completed", "failed", "skipped")
OBJECT_KINDS = {"tools": "tool_id", "knowledge-bases": "knowledge_base_id", "mcp-servers": "mcp_server_id"}

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

MISSION_FIELDS = (
    "mission_id",
    "name",
    "description",
    "instructions",
    "model",
    "metadata",
    "execution_mode",
    "created_at",
    "updated_at",
)
RUN_FIELDS = (
    "run_id",
    "mission_id",
    "status",
    "started_at",
    "updated_at",
    "finished_at",
    "input",
    "metadata",
    "result_payload",
    "result_summary",
    "error",
)
STEP_FIELDS = (
    "step_id",
    "run_id",
    "sequence",
    "description",
    "status",
    "started_at",
    "completed_at",
    "parent_step_id",
    "metadata",
)
EVENT_FIELDS = (
    "event_id",
    "run_id",
    "type",
    "summary",
    "timestamp",
    "step_id",
    "agent_id",
    "idempotency_key",
    "payload",
)
JSON_FIELDS = frozenset({"metadata", "input", "result_payload", "payload"})


def now() -> str:
    """The current time in the wire format (UTC, microseconds, 'Z')."""
    return stamp(datetime.now(UTC))


def stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _dump(value: Any) -> str | None:
    return None if value is None else json.dumps(value, separators=(",", ":"))


def _row(fields: tuple[str, ...], values: Iterable[Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, value in zip(fields, values, strict=True):
        if value is None:
            continue  # optional fields that are unset are left out, as the API does
        out[name] = json.loads(value) if name in JSON_FIELDS else value
    return out


def status_change_event(run_id: str, old: str, new: str, at: str) -> dict[str, Any]:
    """The event the sandbox records whenever a run's status changes."""
    return {
        "run_id": run_id,
        "type": "status_change",
        "timestamp": at,
        "summary": f"Run {old} -> {new}",
        "payload": {"from": old, "to": new},
    }


def page_meta(number: int, size: int, total: int) -> dict[str, int]:
    return {
        "page_number": number,
        "page_size": size,
        "total_pages": math.ceil(total / size),
        "total_results": total,
    }


class Store:
    """All of the sandbox's state. ``path`` is a file, or ``":memory:"``."""

    def __init__(self, path: str | Path = ":memory:") -> None:
        self.path = str(path)
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self._lock = threading.RLock()
        if self.path != ":memory:":
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute("PRAGMA foreign_keys=OFF")
        self._db.executescript(SCHEMA)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """A write transaction: committed when the block ends, rolled back if it raises."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def _one(self, sql: str, args: tuple[Any, ...]) -> tuple[Any, ...] | None:
        with self._lock:
            row: tuple[Any, ...] | None = self._db.execute(sql, args).fetchone()
            return row

    def _all(self, sql: str, args: tuple[Any, ...]) -> list[tuple[Any, ...]]:
        with self._lock:
            return self._db.execute(sql, args).fetchall()

    def _page(
        self,
        fields: tuple[str, ...],
        table: str,
        where: str,
        args: tuple[Any, ...],
        order: str,
        number: int,
        size: int,
    ) -> tuple[list[dict[str, Any]], dict[str, int]]:
        cols = ", ".join(fields)
        with self._lock:
            total = self._db.execute(f"SELECT count(*) FROM {table} WHERE {where}", args).fetchone()[0]
            rows = self._db.execute(
                f"SELECT {cols} FROM {table} WHERE {where} ORDER BY {order} LIMIT ? OFFSET ?",
                (*args, size, (number - 1) * size),
            ).fetchall()
        return [_row(fields, r) for r in rows], page_meta(number, size, total)

    # -- missions -------------------------------------------------------------------------

    def create_mission(
        self, fields: dict[str, Any], *, mission_id: str | None = None, at: str | None = None
    ) -> dict[str, Any]:
        at = at or now()
        row = {
            "mission_id": mission_id or str(uuid.uuid4()),
            "name": fields["name"],
            "description": fields.get("description"),
            "instructions": fields.get("instructions"),
            "model": fields.get("model"),
            "metadata": _dump(fields.get("metadata")),
            "execution_mode": fields.get("execution_mode") or "external",
            "created_at": at,
            "updated_at": at,
        }
        with self.transaction() as db:
            db.execute(
                f"INSERT INTO missions ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})",
                tuple(row.values()),
            )
        return self.get_mission(row["mission_id"], with_objects=False)

    def get_mission(self, mission_id: str, *, with_objects: bool = True) -> dict[str, Any]:
        row = self._one(f"SELECT {', '.join(MISSION_FIELDS)} FROM missions WHERE mission_id=?", (mission_id,))
        if row is None:
            raise NotFound(f"Mission {mission_id} not found")
        mission = _row(MISSION_FIELDS, row)
        if with_objects:
            for kind in OBJECT_KINDS:
                mission[kind.replace("-", "_")] = self.list_objects(kind, mission_id)
        return mission

    def list_missions(self, number: int, size: int) -> tuple[list[dict[str, Any]], dict[str, int]]:
        return self._page(MISSION_FIELDS, "missions", "1=1", (), "created_at DESC, rowid DESC", number, size)

    def update_mission(self, mission_id: str, fields: dict[str, Any]) -> dict[str, Any]:
        self.get_mission(mission_id, with_objects=False)
        changes = {k: (_dump(v) if k == "metadata" else v) for k, v in fields.items()}
        changes["updated_at"] = now()
        with self.transaction() as db:
            db.execute(
                f"UPDATE missions SET {', '.join(f'{k}=?' for k in changes)} WHERE mission_id=?",
                (*changes.values(), mission_id),
            )
        return self.get_mission(mission_id, with_objects=False)

    def delete_mission(self, mission_id: str) -> None:
        self.get_mission(mission_id, with_objects=False)
        runs = "SELECT run_id FROM runs WHERE mission_id=?"
        with self.transaction() as db:
            for table in ("steps", "agents", "simulations"):
                db.execute(f"DELETE FROM {table} WHERE run_id IN ({runs})", (mission_id,))
            db.execute("DELETE FROM events WHERE mission_id=?", (mission_id,))
            db.execute("DELETE FROM runs WHERE mission_id=?", (mission_id,))
            db.execute("DELETE FROM objects WHERE mission_id=?", (mission_id,))
            db.execute("DELETE FROM missions WHERE mission_id=?", (mission_id,))

    def clone_mission(self, mission_id: str) -> dict[str, Any]:
        source = self.get_mission(mission_id, with_objects=False)
        fields = {
            k: source.get(k) for k in ("description", "instructions", "model", "metadata", "execution_mode")
        }
        clone = self.create_mission({**fields, "name": f"{source['name']} (copy)"})
        with self.transaction() as db:
            db.execute(
                "INSERT INTO objects (kind, mission_id, object_id, body) "
                "SELECT kind, ?, object_id, body FROM objects WHERE mission_id=?",
                (clone["mission_id"], mission_id),
            )
        return clone

    # -- runs -----------------------------------------------------------------------------

    def create_run(
        self, mission_id: str, fields: dict[str, Any], *, run_id: str | None = None, at: str | None = None
    ) -> dict[str, Any]:
        self.get_mission(mission_id, with_objects=False)
        at = at or now()
        run_id = run_id or str(uuid.uuid4())
        row = {
            "run_id": run_id,
            "mission_id": mission_id,
            "status": "pending",
            "started_at": at,
            "updated_at": at,
            "input": _dump(fields.get("input")),
            "metadata": _dump(fields.get("metadata")),
        }
        with self.transaction() as db:
            db.execute(
                f"INSERT INTO runs ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})",
                tuple(row.values()),
            )
        return self.get_run(mission_id, run_id)

    def get_run(self, mission_id: str, run_id: str) -> dict[str, Any]:
        row = self._one(
            f"SELECT {', '.join(RUN_FIELDS)} FROM runs WHERE run_id=? AND mission_id=?", (run_id, mission_id)
        )
        if row is None:
            self.get_mission(mission_id, with_objects=False)
            raise NotFound(f"Run {run_id} not found in mission {mission_id}")
        return _row(RUN_FIELDS, row)

    def run_status(self, run_id: str) -> str | None:
        row = self._one("SELECT status FROM runs WHERE run_id=?", (run_id,))
        return None if row is None else str(row[0])

    def list_runs(
        self, mission_id: str | None, status: str | None, number: int, size: int
    ) -> tuple[list[dict[str, Any]], dict[str, int]]:
        clauses, args = [], []
        if mission_id is not None:
            self.get_mission(mission_id, with_objects=False)
            clauses.append("mission_id=?")
            args.append(mission_id)
        if status is not None:
            clauses.append("status=?")
            args.append(status)
        return self._page(
            RUN_FIELDS,
            "runs",
            " AND ".join(clauses) or "1=1",
            tuple(args),
            "started_at DESC, rowid DESC",
            number,
            size,
        )

    def update_run(
        self, mission_id: str, run_id: str, fields: dict[str, Any], *, at: str | None = None
    ) -> dict[str, Any]:
        """PATCH a run: any status, except from a finished run back to an active one."""
        at = at or now()
        with self.transaction() as db:
            run = self.get_run(mission_id, run_id)
            changes = {k: (_dump(v) if k in JSON_FIELDS else v) for k, v in fields.items()}
            new_status = fields.get("status")
            if new_status is not None and new_status != run["status"]:
                if run["status"] in TERMINAL and new_status in ACTIVE:
                    raise Conflict(f"Run is {run['status']}; a finished run cannot become {new_status}")
                self._status_changed(db, run, new_status, at, changes)
            changes["updated_at"] = at
            db.execute(
                f"UPDATE runs SET {', '.join(f'{k}=?' for k in changes)} WHERE run_id=?",
                (*changes.values(), run_id),
            )
        return self.get_run(mission_id, run_id)

    _TRANSITIONS = {  # action: (allowed from, to, phrase)
        "pause": (("running",), "paused", "only a running run can be paused"),
        "resume": (("paused",), "running", "only a paused run can be resumed"),
        "cancel": (ACTIVE, "cancelled", "only a pending, running or paused run can be cancelled"),
    }

    def transition(self, mission_id: str, run_id: str, action: str) -> dict[str, Any]:
        """pause, resume or cancel a run, or 409 naming its current status."""
        allowed, target, phrase = self._TRANSITIONS[action]
        at = now()
        with self.transaction() as db:
            run = self.get_run(mission_id, run_id)
            if run["status"] not in allowed:
                raise Conflict(f"Run is {run['status']}, cannot {action}: {phrase}")
            changes: dict[str, Any] = {"updated_at": at}
            self._status_changed(db, run, target, at, changes)
            if action == "cancel" and self._is_simulated(db, run_id):
                self._skip_open_steps(db, run_id, at)
            db.execute(
                f"UPDATE runs SET {', '.join(f'{k}=?' for k in changes)} WHERE run_id=?",
                (*changes.values(), run_id),
            )
        return self.get_run(mission_id, run_id)

    @staticmethod
    def _skip_open_steps(db: sqlite3.Connection, run_id: str, at: str) -> None:
        db.execute(
            "UPDATE steps SET status='skipped', completed_at=? WHERE run_id=? AND "
            "status IN ('pending', 'in_progress')",
            (at, run_id),
        )

    def skip_open_steps(self, run_id: str, at: str) -> None:
        """Mark every step not yet finished as skipped."""
        with self.transaction() as db:
            self._skip_open_steps(db, run_id, at)

    def _is_simulated(self, db: sqlite3.Connection, run_id: str) -> bool:
        return db.execute("SELECT 1 FROM simulations WHERE run_id=?", (run_id,)).fetchone() is not None

    def _status_changed(
        self, db: sqlite3.Connection, run: dict[str, Any], status: str, at: str, changes: dict[str, Any]
    ) -> None:
        """Record a status change: the new status, finished_at, and a status_change event."""
        changes["status"] = status
        if status in TERMINAL and not run.get("finished_at"):
            changes["finished_at"] = at
        self._insert_event(
            db, run["mission_id"], status_change_event(run["run_id"], run["status"], status, at)
        )

    # -- plan -----------------------------------------------------------------------------

    def get_plan(self, mission_id: str, run_id: str) -> list[dict[str, Any]]:
        self.get_run(mission_id, run_id)
        rows = self._all(
            f"SELECT {', '.join(STEP_FIELDS)} FROM steps WHERE run_id=? ORDER BY sequence, rowid", (run_id,)
        )
        return [_row(STEP_FIELDS, r) for r in rows]

    def add_steps(
        self, mission_id: str, run_id: str, steps: list[dict[str, Any]], *, initial: bool
    ) -> list[dict[str, Any]]:
        """Create the initial plan (409 if one exists) or add steps to it."""
        with self.transaction() as db:
            self.get_run(mission_id, run_id)
            existing = {r[0] for r in db.execute("SELECT step_id FROM steps WHERE run_id=?", (run_id,))}
            if initial and existing:
                raise Conflict(f"Run {run_id} already has a plan; add steps with POST .../plan/steps")
            new_ids: set[str] = set()
            for step in steps:
                if step["step_id"] in existing or step["step_id"] in new_ids:
                    raise Conflict(f"Step {step['step_id']!r} already exists in run {run_id}")
                new_ids.add(step["step_id"])
            for index, step in enumerate(steps):
                parent = step.get("parent_step_id")
                if parent is not None and parent not in existing and parent not in new_ids:
                    raise Invalid(
                        ["body", "steps", index, "parent_step_id"],
                        f"Unknown parent_step_id {parent!r}: no such step in this run",
                    )
            db.executemany(
                "INSERT INTO steps (run_id, step_id, sequence, description, status, "
                "parent_step_id, metadata) VALUES (?, ?, ?, ?, 'pending', ?, ?)",
                [
                    (
                        run_id,
                        s["step_id"],
                        s["sequence"],
                        s["description"],
                        s.get("parent_step_id"),
                        _dump(s.get("metadata")),
                    )
                    for s in steps
                ],
            )
        order = {s["step_id"]: i for i, s in enumerate(steps)}
        created = [s for s in self.get_plan(mission_id, run_id) if s["step_id"] in order]
        return created

    def get_step(self, mission_id: str, run_id: str, step_id: str) -> dict[str, Any]:
        self.get_run(mission_id, run_id)
        row = self._one(
            f"SELECT {', '.join(STEP_FIELDS)} FROM steps WHERE run_id=? AND step_id=?", (run_id, step_id)
        )
        if row is None:
            raise NotFound(f"Step {step_id!r} not found in run {run_id}")
        return _row(STEP_FIELDS, row)

    def update_step(
        self, mission_id: str, run_id: str, step_id: str, fields: dict[str, Any], *, at: str | None = None
    ) -> dict[str, Any]:
        """Change a step; in_progress stamps started_at once, a finished status completed_at."""
        at = at or now()
        with self.transaction() as db:
            step = self.get_step(mission_id, run_id, step_id)
            changes: dict[str, Any] = {}
            if "metadata" in fields:
                changes["metadata"] = _dump(fields["metadata"])
            status = fields.get("status")
            if status is not None:
                changes["status"] = status
                if status == "in_progress" and not step.get("started_at"):
                    changes["started_at"] = at
                if status in FINISHED_STEP:
                    changes["completed_at"] = at
            if changes:
                db.execute(
                    f"UPDATE steps SET {', '.join(f'{k}=?' for k in changes)} WHERE run_id=? AND step_id=?",
                    (*changes.values(), run_id, step_id),
                )
                db.execute("UPDATE runs SET updated_at=? WHERE run_id=?", (at, run_id))
        return self.get_step(mission_id, run_id, step_id)

    # -- events ---------------------------------------------------------------------------

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
        db.execute(
            f"INSERT INTO events ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})", tuple(row.values())
        )
        row["payload"] = event.get("payload")
        return {k: row[k] for k in EVENT_FIELDS if row[k] is not None}

    def log_event(self, mission_id: str, run_id: str, fields: dict[str, Any]) -> tuple[dict[str, Any], bool]:
        """Store an event; (event, created). A repeated idempotency_key returns the original."""
        with self.transaction() as db:
            self.get_run(mission_id, run_id)
            key = fields.get("idempotency_key")
            if key is not None:
                row = db.execute(
                    f"SELECT {', '.join(EVENT_FIELDS)} FROM events WHERE run_id=? AND idempotency_key=?",
                    (run_id, key),
                ).fetchone()
                if row is not None:
                    return _row(EVENT_FIELDS, row), False
            event = self._insert_event(db, mission_id, {**fields, "run_id": run_id})
            db.execute("UPDATE runs SET updated_at=? WHERE run_id=?", (event["timestamp"], run_id))
        return event, True

    def get_event(self, mission_id: str, run_id: str, event_id: str) -> dict[str, Any]:
        self.get_run(mission_id, run_id)
        row = self._one(
            f"SELECT {', '.join(EVENT_FIELDS)} FROM events WHERE run_id=? AND event_id=?", (run_id, event_id)
        )
        if row is None:
            raise NotFound(f"Event {event_id!r} not found in run {run_id}")
        return _row(EVENT_FIELDS, row)

    def list_events(
        self,
        filters: dict[str, str],
        number: int,
        size: int,
        *,
        mission_id: str | None = None,
        run_id: str | None = None,
    ) -> tuple[list[dict[str, Any]], dict[str, int]]:
        """A run's events oldest first, or (no run) everybody's newest first."""
        clauses, args = [], []
        if run_id is not None and mission_id is not None:
            self.get_run(mission_id, run_id)
            clauses.append("run_id=?")
            args.append(run_id)
        for name in ("type", "step_id", "agent_id"):
            if filters.get(name) is not None:
                clauses.append(f"{name}=?")
                args.append(filters[name])
        order = "timestamp, rowid" if run_id else "timestamp DESC, rowid DESC"
        return self._page(
            EVENT_FIELDS, "events", " AND ".join(clauses) or "1=1", tuple(args), order, number, size
        )

    # -- linked agents --------------------------------------------------------------------

    def list_agents(self, mission_id: str, run_id: str) -> list[dict[str, Any]]:
        self.get_run(mission_id, run_id)
        rows = self._all(
            "SELECT run_id, telnyx_agent_id, created_at FROM agents WHERE run_id=? "
            "ORDER BY created_at, rowid",
            (run_id,),
        )
        return [_row(("run_id", "telnyx_agent_id", "created_at"), r) for r in rows]

    def link_agent(
        self, mission_id: str, run_id: str, agent_id: str, *, at: str | None = None
    ) -> tuple[dict[str, Any], bool]:
        """Link an agent; (link, created). Linking a linked agent returns the existing link."""
        with self.transaction() as db:
            self.get_run(mission_id, run_id)
            created = (
                db.execute(
                    "INSERT OR IGNORE INTO agents VALUES (?, ?, ?)", (run_id, agent_id, at or now())
                ).rowcount
                == 1
            )
        row = self._one(
            "SELECT run_id, telnyx_agent_id, created_at FROM agents WHERE run_id=? AND telnyx_agent_id=?",
            (run_id, agent_id),
        )
        assert row is not None
        return _row(("run_id", "telnyx_agent_id", "created_at"), row), created

    def unlink_agent(self, mission_id: str, run_id: str, agent_id: str) -> None:
        with self.transaction() as db:
            self.get_run(mission_id, run_id)
            if (
                db.execute(
                    "DELETE FROM agents WHERE run_id=? AND telnyx_agent_id=?", (run_id, agent_id)
                ).rowcount
                == 0
            ):
                raise NotFound(f"Agent {agent_id!r} is not linked to run {run_id}")

    # -- tools, knowledge bases, MCP servers ----------------------------------------------

    def list_objects(self, kind: str, mission_id: str) -> list[dict[str, Any]]:
        rows = self._all(
            "SELECT body FROM objects WHERE mission_id=? AND kind=? ORDER BY rowid", (mission_id, kind)
        )
        return [json.loads(r[0]) for r in rows]

    def create_object(self, kind: str, mission_id: str, body: dict[str, Any]) -> dict[str, Any]:
        self.get_mission(mission_id, with_objects=False)
        id_field = OBJECT_KINDS[kind]
        object_id = body.get(id_field)
        if not isinstance(object_id, str) or not object_id or "/" in object_id:
            object_id = str(uuid.uuid4())
        stored = {**body, id_field: object_id}
        with self.transaction() as db:
            try:
                db.execute(
                    "INSERT INTO objects VALUES (?, ?, ?, ?)", (kind, mission_id, object_id, _dump(stored))
                )
            except sqlite3.IntegrityError:
                raise Conflict(f"{id_field} {object_id!r} already exists") from None
        return stored

    def get_object(self, kind: str, mission_id: str, object_id: str) -> dict[str, Any]:
        self.get_mission(mission_id, with_objects=False)
        row = self._one(
            "SELECT body FROM objects WHERE mission_id=? AND kind=? AND object_id=?",
            (mission_id, kind, object_id),
        )
        if row is None:
            raise NotFound(f"{OBJECT_KINDS[kind]} {object_id!r} not found in mission {mission_id}")
        result: dict[str, Any] = json.loads(row[0])
        return result

    def update_object(
        self, kind: str, mission_id: str, object_id: str, body: dict[str, Any]
    ) -> dict[str, Any]:
        self.get_object(kind, mission_id, object_id)
        stored = {**body, OBJECT_KINDS[kind]: object_id}
        with self.transaction() as db:
            db.execute(
                "UPDATE objects SET body=? WHERE mission_id=? AND kind=? AND object_id=?",
                (_dump(stored), mission_id, kind, object_id),
            )
        return stored

    def delete_object(self, kind: str, mission_id: str, object_id: str) -> None:
        self.get_object(kind, mission_id, object_id)
        with self.transaction() as db:
            db.execute(
                "DELETE FROM objects WHERE mission_id=? AND kind=? AND object_id=?",
                (mission_id, kind, object_id),
            )

    # -- used by the simulator and the demo seeder ----------------------------------------

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
        if not rows:
            return
        columns = list(dict.fromkeys(key for row in rows for key in row))
        values = [
            tuple(_dump(r.get(c)) if c in JSON_FIELDS or c == "body" else r.get(c) for c in columns)
            for r in rows
        ]
        with self.transaction() as db:
            db.executemany(
                f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})", values
            )

    def count(self, table: str) -> int:
        row = self._one(f"SELECT count(*) FROM {table}", ())
        return int(row[0]) if row else 0
