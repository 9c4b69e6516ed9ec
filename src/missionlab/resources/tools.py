"""``client.missions.tools``: actions agents may invoke."""

from __future__ import annotations

from typing import Any

from ..models import ObjectListResponse, ObjectResponse
from ._objects import _MissionObjects


class Tools(_MissionObjects):
    """``client.missions.tools``: actions agents may invoke (free-form JSON objects)."""

    segment = "tools"

    def list_tools(self, mission_id: str, **options: Any) -> ObjectListResponse:
        return self._list_objects(mission_id, options)

    def create_tool(
        self, mission_id: str, *, body: dict[str, Any] | None = None, **options: Any
    ) -> ObjectResponse:
        return self._create(mission_id, body, options)

    def get_tool(self, tool_id: str, *, mission_id: str, **options: Any) -> ObjectResponse:
        return self._retrieve(tool_id, mission_id, options)

    def update_tool(
        self, tool_id: str, *, mission_id: str, body: dict[str, Any] | None = None, **options: Any
    ) -> ObjectResponse:
        return self._update(tool_id, mission_id, body, options)

    def delete_tool(self, tool_id: str, *, mission_id: str, **options: Any) -> None:
        return self._delete_object(tool_id, mission_id, options)
