"""The sandbox database's schema version (``PRAGMA user_version``) and its migrations."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path

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


def test_a_version_2_file_gets_the_events_key_apart_with_its_rows_and_their_order(tmp_path: Path) -> None:
    """Version 3 moves the events' key out of the table into an index of its own: every row
    is kept with its rowid (lists break ties by it), and a repeated id is still refused."""
    from missionlab.sandbox.demo import seed_demo

    seeded = Store(tmp_path / "seeded.db")
    seed_demo(seeded)
    rows = seeded._all(f"SELECT rowid, {', '.join(COLUMNS)} FROM events ORDER BY rowid", ())[::2]  # gaps
    seeded.close()
    path = tmp_path / "v2.db"
    with closing(sqlite3.connect(path)) as db:  # what version 2 wrote
        for script in MIGRATIONS[:2]:
            db.executescript(script)
        db.execute("PRAGMA user_version = 2")
        marks = ", ".join("?" * (len(COLUMNS) + 1))
        db.executemany(f"INSERT INTO events (rowid, {', '.join(COLUMNS)}) VALUES ({marks})", rows)
        db.commit()
        assert db.execute("SELECT 1 FROM sqlite_master WHERE name='sqlite_autoindex_events_1'").fetchone()
    store = Store(path)
    assert store._all(f"SELECT rowid, {', '.join(COLUMNS)} FROM events ORDER BY rowid", ()) == rows
    store.close()
    assert user_version(path) == len(MIGRATIONS) == 3
    with closing(sqlite3.connect(path)) as db:
        names = {n for (n,) in db.execute("SELECT name FROM sqlite_master WHERE tbl_name='events'")}
        assert "sqlite_autoindex_events_1" not in names and "events_of_mission" not in names
        assert {"events", "events_key", "events_of_run", "events_idempotency"} <= names
        with pytest.raises(
            sqlite3.IntegrityError, match=r"UNIQUE constraint failed: events.run_id, events.event_id"
        ):
            db.execute(
                f"INSERT INTO events ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))})",
                rows[0][1:],
            )


COLUMNS = (
    "event_id", "run_id", "mission_id", "type", "summary", "timestamp", "step_id", "agent_id",
    "idempotency_key", "payload",
)  # fmt: skip


def test_deleting_a_mission_deletes_its_runs_events_and_no_others(tmp_path: Path) -> None:
    from missionlab.sandbox.demo import seed_demo

    store = Store(tmp_path / "s.db")
    seed_demo(store)
    missions = store._all("SELECT mission_id, count(*) FROM events GROUP BY mission_id ORDER BY 2", ())
    assert len(missions) >= 2
    gone, kept = missions[-1][0], {m: n for m, n in missions[:-1]}
    store.delete_mission(gone)
    left = dict(store._all("SELECT mission_id, count(*) FROM events GROUP BY mission_id", ()))
    assert left == kept
    store.close()
