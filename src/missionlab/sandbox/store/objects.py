"""Tools, knowledge bases and MCP servers: free-form objects attached to a mission."""

from __future__ import annotations

import sqlite3
import uuid
from typing import Any

from ..errors import Conflict, NotFound
from ._db import _dump
from ._encode import _load
from .missions import OBJECT_KINDS, MissionStore


class ObjectStore(MissionStore):
    """Creating, reading, changing and deleting one object of a mission."""

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
        result: dict[str, Any] = _load(row[0])
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
