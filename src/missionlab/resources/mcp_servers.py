"""``client.missions.mcp_servers``: MCP servers."""

from __future__ import annotations

from typing import Any

from ..models import ObjectListResponse, ObjectResponse
from ._objects import _MissionObjects


class McpServers(_MissionObjects):
    """``client.missions.mcp_servers``: MCP servers (free-form JSON objects)."""

    segment = "mcp-servers"

    def list_mcp_servers(self, mission_id: str, **options: Any) -> ObjectListResponse:
        return self._list_objects(mission_id, options)

    def create_mcp_server(
        self, mission_id: str, *, body: dict[str, Any] | None = None, **options: Any
    ) -> ObjectResponse:
        return self._create(mission_id, body, options)

    def get_mcp_server(self, mcp_server_id: str, *, mission_id: str, **options: Any) -> ObjectResponse:
        return self._retrieve(mcp_server_id, mission_id, options)

    def update_mcp_server(
        self, mcp_server_id: str, *, mission_id: str, body: dict[str, Any] | None = None, **options: Any
    ) -> ObjectResponse:
        return self._update(mcp_server_id, mission_id, body, options)

    def delete_mcp_server(self, mcp_server_id: str, *, mission_id: str, **options: Any) -> None:
        return self._delete_object(mcp_server_id, mission_id, options)
