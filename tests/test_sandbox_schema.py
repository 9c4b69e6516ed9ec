"""The sandbox database's schema version (``PRAGMA user_version``) and its migrations."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest

from missionlab.sandbox import Store
from missionlab.sandbox.store import _db
from missionlab.sandbox.store._db import MIGRATIONS, SCHEMA, SchemaVersionError


def user_version(path: Path) -> int:
    with closing(sqlite3.connect(path)) as db:
        return int(db.execute("PRAGMA user_version").fetchone()[0])


def tables(path: Path) -> set[str]:
    with closing(sqlite3.connect(path)) as db:
        return {name for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}


def test_a_new_database_gets_the_latest_version(tmp_path: Path) -> None:
    path = tmp_path / "new.db"
    Store(path).close()
    assert user_version(path) == len(MIGRATIONS) >= 1
    assert {"missions", "runs", "steps", "events", "agents", "objects", "simulations"} <= tables(path)
    assert Store()._one("PRAGMA user_version", ()) == (len(MIGRATIONS),)


def test_a_file_from_before_versions_is_taken_as_version_1_and_stamped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "old.db"
    with closing(sqlite3.connect(path)) as db:  # what Store wrote before it kept a version
        db.executescript(SCHEMA)
        db.execute(
            "INSERT INTO missions (mission_id, name, execution_mode, created_at, updated_at) "
            "VALUES ('m-1', 'kept', 'external', '2026-01-01T00:00:00.000000Z', '2026-01-01T00:00:00.000000Z')"
        )
        db.commit()
    assert user_version(path) == 0
    # Were version 1 applied again to the file, this marker table would appear.
    monkeypatch.setattr(_db, "MIGRATIONS", [SCHEMA + "CREATE TABLE applied_again (x);\n", *MIGRATIONS[1:]])
    store = Store(path)
    assert store.get_mission("m-1")["name"] == "kept"
    store.close()
    assert user_version(path) == len(MIGRATIONS)
    assert "applied_again" not in tables(path)


def test_a_new_migration_runs_once_and_bumps_the_version(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "db.sqlite"
    store = Store(path)
    mission_id = store.create_mission({"name": "before"})["mission_id"]
    store.close()
    added = (
        "ALTER TABLE missions ADD COLUMN color TEXT;\n"
        "UPDATE missions SET color = 'teal';\n"
        "CREATE TABLE IF NOT EXISTS runs_of_migration (n INTEGER);\n"
        "INSERT INTO runs_of_migration VALUES (1);\n"
    )
    monkeypatch.setattr(_db, "MIGRATIONS", [*MIGRATIONS, added])
    for _ in range(2):
        store = Store(path)
        assert store.get_mission(mission_id)["name"] == "before"
        store.close()
    assert user_version(path) == len(MIGRATIONS) + 1
    with closing(sqlite3.connect(path)) as db:
        assert db.execute("SELECT color FROM missions").fetchall() == [("teal",)]
        assert db.execute("SELECT count(*) FROM runs_of_migration").fetchone() == (1,)


def test_a_failing_migration_leaves_the_file_as_it_was(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "db.sqlite"
    Store(path).close()
    broken = "CREATE TABLE half_done (x);\nINSERT INTO no_such_table VALUES (1);\n"
    monkeypatch.setattr(_db, "MIGRATIONS", [*MIGRATIONS, broken])
    with pytest.raises(sqlite3.OperationalError, match="no_such_table"):
        Store(path)
    assert user_version(path) == len(MIGRATIONS)
    assert "half_done" not in tables(path)


def test_a_database_newer_than_the_code_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "future.db"
    Store(path).close()
    future = len(MIGRATIONS) + 1
    with closing(sqlite3.connect(path)) as db:
        db.execute(f"PRAGMA user_version = {future}")
    message = rf"schema version {future}; this missionlab knows versions up to {len(MIGRATIONS)}: upgrade"
    with pytest.raises(SchemaVersionError, match=message):
        Store(path)
    assert user_version(path) == future


def old_rows(tmp_path: Path) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """The demo's runs and every second one of its events (gaps in the rowids), with their
    rowids, as versions 2 and 3 kept them (an event naming its run and mission by id)."""
    from missionlab.sandbox.demo import seed_demo

    seeded = Store(tmp_path / "seeded.db")
    seed_demo(seeded)
    runs = seeded._all(f"SELECT rowid, {', '.join(RUN_COLUMNS)} FROM runs ORDER BY rowid", ())
    events = served_events(seeded)[::2]
    seeded.close()
    assert len(runs) > 100 and len(events) > 1000
    return runs, events


def old_file(path: Path, version: int, runs: list[tuple[Any, ...]], events: list[tuple[Any, ...]]) -> None:
    """A database file as version ``version`` (2 or 3) wrote it, holding ``runs`` and ``events``."""
    with closing(sqlite3.connect(path)) as db:
        for script in MIGRATIONS[:version]:
            db.executescript(script)
        db.execute(f"PRAGMA user_version = {version}")
        for table, columns, rows in (("runs", RUN_COLUMNS, runs), ("events", COLUMNS, events)):
            marks = ", ".join("?" * (len(columns) + 1))
            db.executemany(f"INSERT INTO {table} (rowid, {', '.join(columns)}) VALUES ({marks})", rows)
        db.commit()


def served_events(store: Store) -> list[tuple[Any, ...]]:
    """Every event with its rowid, its run and mission named by id, read through the run's key."""
    columns = ", ".join(f"r.{c}" if c in ("run_id", "mission_id") else f"e.{c}" for c in COLUMNS)
    joined = "events AS e JOIN runs AS r ON r.run_key = e.run_key"
    return store._all(f"SELECT e.rowid, {columns} FROM {joined} ORDER BY e.rowid", ())


def test_a_version_2_file_gets_the_events_key_apart_with_its_rows_and_their_order(tmp_path: Path) -> None:
    """Version 3 moves the events' key out of the table into an index of its own: every row
    is kept with its rowid (lists break ties by it), and a repeated id is still refused."""
    runs, events = old_rows(tmp_path)
    path = tmp_path / "v2.db"
    old_file(path, 2, runs, events)
    with closing(sqlite3.connect(path)) as db:
        assert db.execute("SELECT 1 FROM sqlite_master WHERE name='sqlite_autoindex_events_1'").fetchone()
    store = Store(path)
    assert served_events(store) == events
    store.close()
    assert user_version(path) == len(MIGRATIONS) == 4
    with closing(sqlite3.connect(path)) as db:
        names = {n for (n,) in db.execute("SELECT name FROM sqlite_master WHERE tbl_name='events'")}
        assert "sqlite_autoindex_events_1" not in names and "events_of_mission" not in names
        assert {"events", "events_key", "events_of_run", "events_idempotency"} <= names
        with pytest.raises(
            sqlite3.IntegrityError, match=r"UNIQUE constraint failed: events.run_key, events.event_id"
        ):
            db.execute("INSERT INTO events SELECT * FROM events WHERE rowid = ?", (events[0][0],))


def test_a_version_3_file_gets_run_keys_with_every_row_and_the_same_answers(tmp_path: Path) -> None:
    """Version 4 stores an event's run as the run's integer key: every run keeps its rowid
    (now its key), every event its rowid and its run; the lists answer as they did, which
    is computed here from the rows as version 3 held them; an event whose run is gone is dropped."""
    runs, events = old_rows(tmp_path)
    orphan = (events[-1][0] + 7, "orphan", "no-such-run", *events[-1][3:])
    path = tmp_path / "v3.db"
    old_file(path, 3, runs, [*events, orphan])
    store = Store(path)
    assert user_version(path) == 4
    assert store._all(f"SELECT run_key, {', '.join(RUN_COLUMNS)} FROM runs ORDER BY run_key", ()) == runs
    assert served_events(store) == events
    by_run: dict[str, list[tuple[Any, ...]]] = {}
    for event in events:
        by_run.setdefault(event[2], []).append(event)
    run_id, held = max(by_run.items(), key=lambda item: len(item[1]))
    mission_id = held[0][3]
    oldest_first = [e[1] for e in sorted(held, key=lambda e: (e[6], e[0]))]
    page = store.list_events({}, 1, 1000, mission_id=mission_id, run_id=run_id)
    assert [e["event_id"] for e in page.data] == oldest_first and {e["run_id"] for e in page.data} == {run_id}
    messages = [e[1] for e in sorted(held, key=lambda e: (e[6], e[0])) if e[4] == "message"]
    page = store.list_events({"type": "message"}, 1, 1000, mission_id=mission_id, run_id=run_id)
    assert [e["event_id"] for e in page.data] == messages
    newest = [(e[1], e[2]) for e in sorted(events, key=lambda e: (e[6], e[0]), reverse=True)][:50]
    assert [(e["event_id"], e["run_id"]) for e in store.list_events({}, 1, 50).data] == newest
    assert store.list_events({}, 1, 1).meta["total_results"] == len(events)
    one = held[len(held) // 2]
    assert store.get_event(mission_id, run_id, one[1])["summary"] == one[5]
    store.close()
    with closing(sqlite3.connect(path)) as db:
        columns = [row[1] for row in db.execute("PRAGMA table_info(events)")]
        assert "run_key" in columns and "run_id" not in columns and "mission_id" not in columns
        assert db.execute("SELECT count(*) FROM events WHERE event_id='orphan'").fetchone() == (0,)


COLUMNS = (
    "event_id", "run_id", "mission_id", "type", "summary", "timestamp", "step_id", "agent_id",
    "idempotency_key", "payload",
)  # fmt: skip
RUN_COLUMNS = (
    "run_id", "mission_id", "status", "started_at", "updated_at", "finished_at", "input", "metadata",
    "result_payload", "result_summary", "error",
)  # fmt: skip


def test_deleting_a_mission_deletes_its_runs_events_and_no_others(tmp_path: Path) -> None:
    from missionlab.sandbox.demo import seed_demo

    store = Store(tmp_path / "s.db")
    seed_demo(store)
    per_mission = "SELECT mission_id, count(*) FROM events JOIN runs USING (run_key) GROUP BY mission_id"
    missions = store._all(per_mission + " ORDER BY 2", ())
    assert len(missions) >= 2
    gone, kept = missions[-1][0], {m: n for m, n in missions[:-1]}
    store.delete_mission(gone)
    left = dict(store._all(per_mission, ()))
    assert left == kept
    store.close()
