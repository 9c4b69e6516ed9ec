"""``client.missions.tools``: actions agents may invoke."""

from __future__ import annotations

from typing import Any, Unpack

from .._call import RequestOptions
from ._objects import _MissionObjects


class Tools(_MissionObjects):
    """``client.missions.tools``: actions agents may invoke (free-form JSON)."""

    segment = "tools"
    id_name = "tool_id"

    def list_tools(self, mission_id: str, **options: Unpack[RequestOptions]) -> Any:
        """The mission's tools."""
        return self._list_objects(mission_id, options)

    def create_tool(
        self, mission_id: str, *, body: dict[str, Any] | None = None, **options: Unpack[RequestOptions]
    ) -> Any:
        """Add a tool to the mission; ``body`` is sent as it is."""
        return self._create(mission_id, body, options)

    def get_tool(self, tool_id: str, *, mission_id: str, **options: Unpack[RequestOptions]) -> Any:
        """One tool."""
        return self._retrieve(tool_id, mission_id, options)

    def update_tool(
        self,
        tool_id: str,
        *,
        mission_id: str,
        body: dict[str, Any] | None = None,
        **options: Unpack[RequestOptions],
    ) -> Any:
        """Change a tool; ``body`` is sent as it is."""
        return self._update(tool_id, mission_id, body, options)

    def delete_tool(self, tool_id: str, *, mission_id: str, **options: Unpack[RequestOptions]) -> None:
        """Remove a tool from the mission."""
        return self._delete_object(tool_id, mission_id, options)
