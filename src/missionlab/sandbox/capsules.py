"""Run capsules loaded into the sandbox's store, so that it serves them under their own ids.

``load_capsules(store, paths)`` reads each capsule (see :mod:`missionlab.analysis.capsule` for the
format; plain JSON here, the sandbox does not use the client's models) and inserts its
mission (once, when several capsules share it, with its tools, knowledge bases and MCP
servers), run, plan steps, events and linked agents. Loaded runs are not simulated: they
stand as they were saved. Every capsule is checked and turned into rows first, then all of
them are inserted in one transaction: a call loads every capsule or none (a bad capsule
never leaves part of itself, which would then pass for "loaded" on the next try). Loading a
capsule whose run the store holds already is a no-op
when it is the same version of the run (same ``updated_at``), an error otherwise.
A folder (a dataset saved by ``missionlab.dataset``, or any folder of capsules) stands for
every capsule it holds: those its index ``dataset.json`` lists, or, without an index, its
``*.json`` files (see ``missionlab._wire.dataset``; an index naming a file outside the
folder is refused before anything is read).
Fields the sandbox has no column for (a hosted run's extra fields) are not kept.
Timestamps are rewritten in the sandbox's own format (UTC, microseconds, ``Z``) so that
lists sort as they do for the sandbox's own data.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .._wire.capsule import check_capsule
from .._wire.dataset import folder_capsules
from ..errors import CapsuleError
from .errors import NotFound
from .store import (
    AGENT_FIELDS,
    EVENT_FIELDS,
    MISSION_FIELDS,
    OBJECT_KINDS,
    RUN_FIELDS,
    STEP_FIELDS,
    Store,
    stamp,
)

__all__ = ["CapsuleLoadError", "capsule_files", "load_capsule", "load_capsules"]

_TIMES = ("created_at", "updated_at", "started_at", "finished_at", "completed_at", "timestamp")


class CapsuleLoadError(CapsuleError):
    """A capsule the sandbox cannot load (not a capsule, too new, or a run it holds already)."""


def _row(item: dict[str, Any], fields: Iterable[str], **extra: Any) -> dict[str, Any]:
    row = {name: item.get(name) for name in fields}
    for name in _TIMES:
        value = row.get(name)
        if isinstance(value, str):
            row[name] = stamp(datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC))
    return {**row, **extra}


def _check(data: Any, where: str) -> dict[str, Any]:
    """A capsule the sandbox can host: a capsule (see ``check_capsule``) with its mission."""
    try:
        capsule = check_capsule(data)
    except CapsuleError as error:
        raise CapsuleLoadError(f"{where}: {error}") from None
    if not isinstance(capsule.get("mission"), dict):
        raise CapsuleLoadError(f"{where}: run capsule without a mission")
    return capsule


def _has_mission(store: Store, mission_id: str) -> bool:
    try:
        store.get_mission(mission_id, with_objects=False)
    except NotFound:
        return False
    return True


Tables = list[tuple[str, list[dict[str, Any]]]]


def _prepare(store: Store, data: Any, where: str, missions: set[str]) -> tuple[tuple[str, str], Tables]:
    """One capsule's (mission_id, run_id) and the rows to insert (none when the store holds
    this very run); ``missions``: those the store will hold, updated."""
    data = _check(data, where)
    mission, run = data["mission"], data["run"]
    mission_id, run_id = str(mission.get("mission_id")), str(run.get("run_id"))
    if str(run.get("mission_id")) != mission_id:
        raise CapsuleLoadError(
            f"{where}: the run belongs to mission {run.get('mission_id')}, not {mission_id}"
        )
    if store.run_status(run_id) is not None:
        held = store.get_run(mission_id, run_id) if _has_mission(store, mission_id) else {}
        if held.get("updated_at") == _row(run, ("updated_at",))["updated_at"]:
            return (mission_id, run_id), []  # this capsule, loaded before (a database file kept)
        raise CapsuleLoadError(f"{where}: the sandbox already holds another version of run {run_id}")
    tables: Tables = []
    if mission_id not in missions and not _has_mission(store, mission_id):
        objects = []
        for kind, id_field in OBJECT_KINDS.items():
            for body in _items(mission.get(kind.replace("-", "_")), f"mission.{kind}"):
                if body.get(id_field) is not None:
                    objects.append(
                        {"kind": kind, "mission_id": mission_id, "object_id": body[id_field], "body": body}
                    )
        tables += [("missions", [_row(mission, MISSION_FIELDS)]), ("objects", objects)]
    missions.add(mission_id)
    tables += [
        ("runs", [_row(run, RUN_FIELDS)]),
        ("steps", [_row(step, STEP_FIELDS, run_id=run_id) for step in _items(data.get("plan"), "plan")]),
        (
            "events",
            [
                _row(event, EVENT_FIELDS, run_id=run_id, mission_id=mission_id)
                for event in _items(data.get("events"), "events")
            ],
        ),
        (
            "agents",
            [_row(agent, AGENT_FIELDS, run_id=run_id) for agent in _items(data.get("agents"), "agents")],
        ),
    ]
    return (mission_id, run_id), tables


def _items(value: Any, name: str) -> list[dict[str, Any]]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
        raise ValueError(f"`{name}` must be a list of objects")
    return value


def load_capsule(store: Store, data: dict[str, Any], *, where: str = "capsule") -> tuple[str, str]:
    """Insert one capsule's mission (unless the store has it), run, plan, events and agents,
    all or nothing; returns (mission_id, run_id)."""
    return _load(store, [(where, data)])[0]


def capsule_files(paths: Iterable[str | Path]) -> list[Path]:
    """The capsule files of ``paths``: a file stands for itself, a folder for its capsules."""
    files: list[Path] = []
    for path in paths:
        if Path(path).is_dir():
            try:
                found = folder_capsules(path)
            except CapsuleError as error:
                raise CapsuleLoadError(f"{path}: {error}") from None
            if not found:
                raise CapsuleLoadError(f"{path}: the folder holds no run capsule (*.json)")
            files += found
        else:
            files.append(Path(path))
    return files


def load_capsules(store: Store, paths: Iterable[str | Path]) -> list[tuple[str, str]]:
    """:func:`load_capsule` of each capsule file (a folder: each capsule it holds, see
    :func:`capsule_files`), in one transaction (every capsule or none); returns their
    (mission_id, run_id)."""
    capsules = []
    for path in capsule_files(paths):
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, ValueError, RecursionError) as error:
            raise CapsuleLoadError(f"{path}: cannot read the capsule: {error}") from None
        capsules.append((str(path), data))
    return _load(store, capsules)


def _load(store: Store, capsules: list[tuple[str, Any]]) -> list[tuple[str, str]]:
    loaded: list[tuple[str, str]] = []
    tables: Tables = []
    missions: set[str] = set()
    for where, data in capsules:
        try:
            ids, rows = _prepare(store, data, where, missions)
        except CapsuleError:
            raise
        except (TypeError, ValueError, AttributeError, KeyError) as error:
            raise CapsuleLoadError(f"{where}: not a capsule the sandbox can load: {error}") from None
        loaded.append(ids)
        tables += rows
    try:
        store.bulk_load_all(tables)
    except (sqlite3.Error, TypeError, ValueError, OverflowError) as error:
        names = ", ".join(where for where, _ in capsules)
        raise CapsuleLoadError(f"{names}: cannot be loaded ({error}); nothing was loaded") from None
    return loaded
