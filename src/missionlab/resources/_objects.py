"""The shared base of the free-form objects attached to a mission."""

from __future__ import annotations

from typing import Any

from .. import _validate as v
from ..models import ObjectListResponse, ObjectResponse
from ._base import _mission_path, _Resource


class _MissionObjects(_Resource):
    """Free-form objects attached to a mission: tools, knowledge bases, MCP servers.

    Subclasses name the URL segment and expose the SDK's method names.
    """

    segment = ""

    def _path(self, mission_id: Any, object_id: Any = None) -> str:
        path = f"{_mission_path(mission_id)}/{self.segment}"
        return path if object_id is None else f"{path}/{v.id_arg(self.segment + ' id', object_id)}"

    def _op(self, method: str, one: bool) -> str:
        return f"{method} /ai/missions/{{mission_id}}/{self.segment}" + ("/{id}" if one else "")

    def _list_objects(self, mission_id: Any, options: dict[str, Any]) -> ObjectListResponse:
        return self._get(self._path(mission_id), self._op("GET", False), ObjectListResponse, options)

    def _create(self, mission_id: Any, body: Any, options: dict[str, Any]) -> ObjectResponse:
        return self._write(
            "POST",
            self._path(mission_id),
            self._op("POST", False),
            ObjectResponse,
            options,
            v.object_arg("body", body) or {},
            idempotent=False,
        )

    def _retrieve(self, object_id: Any, mission_id: Any, options: dict[str, Any]) -> ObjectResponse:
        return self._get(self._path(mission_id, object_id), self._op("GET", True), ObjectResponse, options)

    def _update(self, object_id: Any, mission_id: Any, body: Any, options: dict[str, Any]) -> ObjectResponse:
        return self._write(
            "PUT",
            self._path(mission_id, object_id),
            self._op("PUT", True),
            ObjectResponse,
            options,
            v.object_arg("body", body) or {},
            idempotent=True,
        )

    def _delete_object(self, object_id: Any, mission_id: Any, options: dict[str, Any]) -> None:
        return self._delete(self._path(mission_id, object_id), self._op("DELETE", True), options)
