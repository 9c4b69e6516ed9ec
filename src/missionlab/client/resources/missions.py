"""``client.missions``: mission definitions, and the lists across all missions."""

from __future__ import annotations

from functools import cached_property
from typing import Any, Unpack

from ...types import EventType, ExecutionMode
from .. import _validate as v
from .._call import RequestOptions
from .._pagination import SyncPage
from ..models import Event, Mission, MissionResponse
from ._args import free_mission_path, mission_body, mission_path
from ._base import _Resource
from .knowledge_bases import KnowledgeBases
from .mcp_servers import McpServers
from .runs import Runs
from .tools import Tools


class Missions(_Resource):
    """``client.missions``: mission definitions, and the lists across all missions."""

    @cached_property
    def runs(self) -> Runs:
        return Runs(self._client)

    @cached_property
    def tools(self) -> Tools:
        return Tools(self._client)

    @cached_property
    def knowledge_bases(self) -> KnowledgeBases:
        return KnowledgeBases(self._client)

    @cached_property
    def mcp_servers(self) -> McpServers:
        return McpServers(self._client)

    def list(
        self,
        *,
        page_number: int | None = None,
        page_size: int | None = None,
        **options: Unpack[RequestOptions],
    ) -> SyncPage[Mission]:
        """A page of missions, newest first."""
        return self._list("/ai/missions", "GET /ai/missions", Mission, {}, page_number, page_size, options)

    def create(
        self,
        *,
        name: str,
        description: str | None = None,
        execution_mode: ExecutionMode | str | None = None,
        instructions: str | None = None,
        metadata: dict[str, Any] | None = None,
        model: str | None = None,
        **options: Unpack[RequestOptions],
    ) -> MissionResponse:
        """Create a mission definition."""
        if name is None:
            raise v.InvalidArgumentError("name", "is required")
        body = mission_body(
            name=name,
            description=description,
            execution_mode=execution_mode,
            instructions=instructions,
            metadata=metadata,
            model=model,
        )
        return self._write(
            "POST", "/ai/missions", "POST /ai/missions", MissionResponse, options, body, idempotent=False
        )

    def list_events(
        self,
        *,
        type: EventType | str | None = None,
        page_number: int | None = None,
        page_size: int | None = None,
        **options: Unpack[RequestOptions],
    ) -> SyncPage[Event]:
        """A page of recent events across every mission, newest first; ``type``: any event type."""
        filters = v.body(type=v.filter_arg("type", type))
        return self._list(
            "/ai/missions/events", "GET /ai/missions/events", Event, filters, page_number, page_size, options
        )

    def retrieve(self, mission_id: str, **options: Unpack[RequestOptions]) -> MissionResponse:
        """A mission, with its tools, knowledge bases and MCP servers."""
        return self._get(
            mission_path(mission_id, reading=True), "GET /ai/missions/{mission_id}", MissionResponse, options
        )

    def update_mission(
        self,
        mission_id: str,
        *,
        name: str | None = None,
        description: str | None = None,
        execution_mode: ExecutionMode | str | None = None,
        instructions: str | None = None,
        metadata: dict[str, Any] | None = None,
        model: str | None = None,
        **options: Unpack[RequestOptions],
    ) -> MissionResponse:
        """Change a mission's definition; fields not given stay as they are."""
        path = mission_path(mission_id)
        body = mission_body(
            name=name,
            description=description,
            execution_mode=execution_mode,
            instructions=instructions,
            metadata=metadata,
            model=model,
        )
        return self._write(
            "PUT", path, "PUT /ai/missions/{mission_id}", MissionResponse, options, body, idempotent=True
        )

    def delete_mission(self, mission_id: str, **options: Unpack[RequestOptions]) -> None:
        """Delete a mission with its runs, plans, events and links."""
        return self._delete(mission_path(mission_id), "DELETE /ai/missions/{mission_id}", options)

    def clone_mission(self, mission_id: str, **options: Unpack[RequestOptions]) -> Any:
        """Copy a mission into a new one.

        Returns the answer's JSON as the server sent it: the published document
        gives it no schema (the sandbox answers ``{"data": <the new mission>}``).
        """
        return self._write_json(
            "POST",
            free_mission_path(mission_id) + "/clone",
            "POST /ai/missions/{mission_id}/clone",
            options,
            idempotent=False,
        )
