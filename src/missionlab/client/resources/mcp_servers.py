"""``client.missions.mcp_servers``: MCP servers."""

from __future__ import annotations

from typing import Any, Unpack

from .._call import RequestOptions
from ._objects import _MissionObjects


class McpServers(_MissionObjects):
    """``client.missions.mcp_servers``: MCP servers (free-form JSON)."""

    segment = "mcp-servers"
    id_name = "mcp_server_id"

    def list_mcp_servers(self, mission_id: str, **options: Unpack[RequestOptions]) -> Any:
        """The mission's MCP servers."""
        return self._list_objects(mission_id, options)

    def create_mcp_server(
        self, mission_id: str, *, body: dict[str, Any] | None = None, **options: Unpack[RequestOptions]
    ) -> Any:
        """Add a MCP server to the mission; ``body`` is sent as it is."""
        return self._create(mission_id, body, options)

    def get_mcp_server(
        self, mcp_server_id: str, *, mission_id: str, **options: Unpack[RequestOptions]
    ) -> Any:
        """One MCP server."""
        return self._retrieve(mcp_server_id, mission_id, options)

    def update_mcp_server(
        self,
        mcp_server_id: str,
        *,
        mission_id: str,
        body: dict[str, Any] | None = None,
        **options: Unpack[RequestOptions],
    ) -> Any:
        """Change a MCP server; ``body`` is sent as it is."""
        return self._update(mcp_server_id, mission_id, body, options)

    def delete_mcp_server(
        self, mcp_server_id: str, *, mission_id: str, **options: Unpack[RequestOptions]
    ) -> None:
        """Remove a MCP server from the mission."""
        return self._delete_object(mcp_server_id, mission_id, options)
