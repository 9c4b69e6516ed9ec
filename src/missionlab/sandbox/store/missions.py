"""Missions, with the objects (tools, knowledge bases, MCP servers) they include."""

from __future__ import annotations

import uuid
from typing import Any

from ..._wire.fields import MISSION
from ..errors import NotFound
from ._db import Database, _dump, _row, now
from ._encode import _load
from ._paging import ListQuery, Page

OBJECT_KINDS = {"tools": "tool_id", "knowledge-bases": "knowledge_base_id", "mcp-servers": "mcp_server_id"}

MISSION_FIELDS = MISSION.names


class MissionStore(Database):
    """Missions, and the objects of one kind a mission includes."""

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

    def list_missions(self, number: int, size: int) -> Page:
        """Missions, newest first."""
        query = ListQuery("missions", MISSION_FIELDS, "", (), "created_at", descending=True)
        return self._page(query, number, size)

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
        runs = "FROM runs WHERE mission_id=?"
        with self.transaction() as db:
            db.execute(f"DELETE FROM events WHERE run_key IN (SELECT run_key {runs})", (mission_id,))
            for table in ("steps", "agents", "simulations"):
                db.execute(f"DELETE FROM {table} WHERE run_id IN (SELECT run_id {runs})", (mission_id,))
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

    def list_objects(self, kind: str, mission_id: str) -> list[dict[str, Any]]:
        rows = self._all(
            "SELECT body FROM objects WHERE mission_id=? AND kind=? ORDER BY rowid", (mission_id, kind)
        )
        return [_load(r[0]) for r in rows]
