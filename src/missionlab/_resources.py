"""The API's resource tree, written once for both clients.

Each method checks its arguments, describes its request as a :class:`Call`, and
hands it to the client: the sync client returns the result, the async client a
coroutine of it. Names and signatures follow the official ``telnyx`` SDK, so
``client.ai.missions.runs.plan.retrieve(run_id, mission_id=...)`` works here too.

Return annotations are the sync client's; with :class:`AsyncClient` await them.
"""

from __future__ import annotations

import uuid
from functools import cached_property
from typing import Any, TypeVar, cast

from pydantic import BaseModel

from . import _validate as v
from ._call import Call, check_options, parse_model, parse_nothing
from ._pagination import PageRequest, SyncPage
from .models import (
    Event,
    EventResponse,
    Mission,
    MissionResponse,
    ObjectListResponse,
    ObjectResponse,
    PlanResponse,
    PlanStepResponse,
    Run,
    RunResponse,
    TelnyxAgentListResponse,
    TelnyxAgentResponse,
)
from .types import EventType, ExecutionMode, RunStatus, StepStatus

T = TypeVar("T")
M = TypeVar("M", bound=BaseModel)

__all__ = ["Events", "KnowledgeBases", "McpServers", "Missions", "Plan", "Runs", "TelnyxAgents", "Tools"]


class _Resource:
    def __init__(self, client: Any) -> None:
        self._client = client

    # With the async client these return coroutines; the annotations are the sync client's.

    def _get(self, path: str, operation: str, model: type[M], options: dict[str, Any]) -> M:
        return cast(
            M,
            self._client._send(
                Call("GET", path, operation, parse_model(model), options=check_options(options))
            ),
        )

    def _write(
        self,
        method: str,
        path: str,
        operation: str,
        model: type[M],
        options: dict[str, Any],
        json: Any = None,
        *,
        idempotent: bool,
    ) -> M:
        return cast(
            M,
            self._client._send(
                Call(
                    method,
                    path,
                    operation,
                    parse_model(model),
                    json=json,
                    idempotent=idempotent,
                    options=check_options(options),
                )
            ),
        )

    def _delete(self, path: str, operation: str, options: dict[str, Any]) -> None:
        return cast(
            None,
            self._client._send(
                Call("DELETE", path, operation, parse_nothing, options=check_options(options))
            ),
        )

    def _list(
        self,
        path: str,
        operation: str,
        item: type[M],
        filters: dict[str, Any],
        page_number: Any,
        page_size: Any,
        options: dict[str, Any],
    ) -> SyncPage[M]:
        v.page_query(page_number, page_size)
        request = PageRequest(path, operation, item, filters, page_number, page_size, check_options(options))
        return cast(SyncPage[M], self._client._list(request))


def _mission_path(mission_id: Any) -> str:
    return f"/ai/missions/{v.uuid_arg('mission_id', mission_id)}"


def _run_path(mission_id: Any, run_id: Any) -> str:
    return f"{_mission_path(mission_id)}/runs/{v.uuid_arg('run_id', run_id)}"


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
        self, *, page_number: int | None = None, page_size: int | None = None, **options: Any
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
        **options: Any,
    ) -> MissionResponse:
        """Create a mission definition."""
        body = _mission_body(
            name=v.text_arg("name", name, required=True),
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
        **options: Any,
    ) -> SyncPage[Event]:
        """A page of recent events across every mission, newest first."""
        filters = v.body(type=v.enum_arg("type", type, EventType))
        return self._list(
            "/ai/missions/events", "GET /ai/missions/events", Event, filters, page_number, page_size, options
        )

    def retrieve(self, mission_id: str, **options: Any) -> MissionResponse:
        """A mission, with its tools, knowledge bases and MCP servers."""
        return self._get(_mission_path(mission_id), "GET /ai/missions/{mission_id}", MissionResponse, options)

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
        **options: Any,
    ) -> MissionResponse:
        """Change a mission's definition; fields not given stay as they are."""
        path = _mission_path(mission_id)
        body = _mission_body(
            name=v.text_arg("name", name, required=name is not None),
            description=description,
            execution_mode=execution_mode,
            instructions=instructions,
            metadata=metadata,
            model=model,
        )
        return self._write(
            "PUT", path, "PUT /ai/missions/{mission_id}", MissionResponse, options, body, idempotent=True
        )

    def delete_mission(self, mission_id: str, **options: Any) -> None:
        """Delete a mission with its runs, plans, events and links."""
        return self._delete(_mission_path(mission_id), "DELETE /ai/missions/{mission_id}", options)

    def clone_mission(self, mission_id: str, **options: Any) -> MissionResponse:
        """Copy a mission into a new one, returned."""
        return self._write(
            "POST",
            _mission_path(mission_id) + "/clone",
            "POST /ai/missions/{mission_id}/clone",
            MissionResponse,
            options,
            idempotent=False,
        )


def _mission_body(
    *, name: str | None, description: Any, execution_mode: Any, instructions: Any, metadata: Any, model: Any
) -> dict[str, Any]:
    return v.body(
        name=name,
        description=v.text_arg("description", description),
        execution_mode=v.enum_arg("execution_mode", execution_mode, ExecutionMode),
        instructions=v.text_arg("instructions", instructions),
        metadata=v.object_arg("metadata", metadata),
        model=v.text_arg("model", model),
    )


class Runs(_Resource):
    """``client.missions.runs``: runs of a mission, and steering them."""

    @cached_property
    def events(self) -> Events:
        return Events(self._client)

    @cached_property
    def plan(self) -> Plan:
        return Plan(self._client)

    @cached_property
    def telnyx_agents(self) -> TelnyxAgents:
        return TelnyxAgents(self._client)

    def list(
        self,
        mission_id: str,
        *,
        status: RunStatus | str | None = None,
        page_number: int | None = None,
        page_size: int | None = None,
        **options: Any,
    ) -> SyncPage[Run]:
        """A page of a mission's runs, newest first, optionally of one status."""
        filters = v.body(status=v.enum_arg("status", status, RunStatus))
        return self._list(
            _mission_path(mission_id) + "/runs",
            "GET /ai/missions/{mission_id}/runs",
            Run,
            filters,
            page_number,
            page_size,
            options,
        )

    def list_runs(
        self,
        *,
        status: RunStatus | str | None = None,
        page_number: int | None = None,
        page_size: int | None = None,
        **options: Any,
    ) -> SyncPage[Run]:
        """A page of recent runs across every mission, newest first."""
        filters = v.body(status=v.enum_arg("status", status, RunStatus))
        return self._list(
            "/ai/missions/runs", "GET /ai/missions/runs", Run, filters, page_number, page_size, options
        )

    def create(
        self,
        mission_id: str,
        *,
        input: dict[str, Any] | None = None,
        metadata: dict[str, Any] | None = None,
        **options: Any,
    ) -> RunResponse:
        """Start a run of a mission."""
        body = v.body(input=v.object_arg("input", input), metadata=v.object_arg("metadata", metadata))
        return self._write(
            "POST",
            _mission_path(mission_id) + "/runs",
            "POST /ai/missions/{mission_id}/runs",
            RunResponse,
            options,
            body,
            idempotent=False,
        )

    def retrieve(self, run_id: str, *, mission_id: str, **options: Any) -> RunResponse:
        """A run."""
        return self._get(_run_path(mission_id, run_id), "GET .../runs/{run_id}", RunResponse, options)

    def update(
        self,
        run_id: str,
        *,
        mission_id: str,
        status: RunStatus | str | None = None,
        result_summary: str | None = None,
        result_payload: dict[str, Any] | None = None,
        error: str | None = None,
        metadata: dict[str, Any] | None = None,
        **options: Any,
    ) -> RunResponse:
        """Set a run's status and/or result."""
        body = v.body(
            status=v.enum_arg("status", status, RunStatus),
            result_summary=v.text_arg("result_summary", result_summary),
            result_payload=v.object_arg("result_payload", result_payload),
            error=v.text_arg("error", error),
            metadata=v.object_arg("metadata", metadata),
        )
        return self._write(
            "PATCH",
            _run_path(mission_id, run_id),
            "PATCH .../runs/{run_id}",
            RunResponse,
            options,
            body,
            idempotent=True,
        )

    def _transition(self, action: str, run_id: str, mission_id: str, options: dict[str, Any]) -> RunResponse:
        return self._write(
            "POST",
            f"{_run_path(mission_id, run_id)}/{action}",
            f"POST .../runs/{{run_id}}/{action}",
            RunResponse,
            options,
            idempotent=False,
        )

    def cancel_run(self, run_id: str, *, mission_id: str, **options: Any) -> RunResponse:
        """Cancel a pending, running or paused run."""
        return self._transition("cancel", run_id, mission_id, options)

    def pause_run(self, run_id: str, *, mission_id: str, **options: Any) -> RunResponse:
        """Pause a running run."""
        return self._transition("pause", run_id, mission_id, options)

    def resume_run(self, run_id: str, *, mission_id: str, **options: Any) -> RunResponse:
        """Resume a paused run."""
        return self._transition("resume", run_id, mission_id, options)


class Events(_Resource):
    """``client.missions.runs.events``: what happened during a run."""

    def list(
        self,
        run_id: str,
        *,
        mission_id: str,
        type: EventType | str | None = None,
        step_id: str | None = None,
        agent_id: str | None = None,
        page_number: int | None = None,
        page_size: int | None = None,
        **options: Any,
    ) -> SyncPage[Event]:
        """A page of a run's events, oldest first, optionally filtered."""
        filters = v.body(
            type=v.enum_arg("type", type, EventType),
            step_id=None if step_id is None else v.id_arg("step_id", step_id),
            agent_id=None if agent_id is None else v.id_arg("agent_id", agent_id),
        )
        return self._list(
            _run_path(mission_id, run_id) + "/events",
            "GET .../runs/{run_id}/events",
            Event,
            filters,
            page_number,
            page_size,
            options,
        )

    def log(
        self,
        run_id: str,
        *,
        mission_id: str,
        type: EventType | str,
        summary: str,
        step_id: str | None = None,
        agent_id: str | None = None,
        payload: dict[str, Any] | None = None,
        idempotency_key: str | None = None,
        **options: Any,
    ) -> EventResponse:
        """Log an event. An ``idempotency_key`` is generated when none is given, so that
        a retried request can never store the event twice."""
        if type is None:
            raise v.InvalidArgumentError("type", "is required")
        body = v.body(
            type=v.enum_arg("type", type, EventType),
            summary=v.text_arg("summary", summary, required=True),
            step_id=None if step_id is None else v.id_arg("step_id", step_id),
            agent_id=None if agent_id is None else v.id_arg("agent_id", agent_id),
            payload=v.object_arg("payload", payload),
            idempotency_key=v.text_arg("idempotency_key", idempotency_key) or uuid.uuid4().hex,
        )
        return self._write(
            "POST",
            _run_path(mission_id, run_id) + "/events",
            "POST .../runs/{run_id}/events",
            EventResponse,
            options,
            body,
            idempotent=True,
        )

    def get_event_details(
        self, event_id: str, *, mission_id: str, run_id: str, **options: Any
    ) -> EventResponse:
        """One event."""
        path = f"{_run_path(mission_id, run_id)}/events/{v.id_arg('event_id', event_id)}"
        return self._get(path, "GET .../events/{event_id}", EventResponse, options)


class Plan(_Resource):
    """``client.missions.runs.plan``: a run's plan steps."""

    def retrieve(self, run_id: str, *, mission_id: str, **options: Any) -> PlanResponse:
        """Every step of the plan, by sequence."""
        return self._get(
            _run_path(mission_id, run_id) + "/plan", "GET .../runs/{run_id}/plan", PlanResponse, options
        )

    def create(
        self, run_id: str, *, mission_id: str, steps: list[dict[str, Any]], **options: Any
    ) -> PlanResponse:
        """Create the run's initial plan."""
        body = {"steps": v.steps_arg("steps", steps)}
        return self._write(
            "POST",
            _run_path(mission_id, run_id) + "/plan",
            "POST .../runs/{run_id}/plan",
            PlanResponse,
            options,
            body,
            idempotent=False,
        )

    def add_steps_to_plan(
        self, run_id: str, *, mission_id: str, steps: list[dict[str, Any]], **options: Any
    ) -> PlanResponse:
        """Add steps to the run's plan."""
        body = {"steps": v.steps_arg("steps", steps)}
        return self._write(
            "POST",
            _run_path(mission_id, run_id) + "/plan/steps",
            "POST .../runs/{run_id}/plan/steps",
            PlanResponse,
            options,
            body,
            idempotent=False,
        )

    def get_step_details(
        self, step_id: str, *, mission_id: str, run_id: str, **options: Any
    ) -> PlanStepResponse:
        """One plan step."""
        path = f"{_run_path(mission_id, run_id)}/plan/steps/{v.id_arg('step_id', step_id)}"
        return self._get(path, "GET .../plan/steps/{step_id}", PlanStepResponse, options)

    def update_step(
        self,
        step_id: str,
        *,
        mission_id: str,
        run_id: str,
        status: StepStatus | str | None = None,
        metadata: dict[str, Any] | None = None,
        **options: Any,
    ) -> PlanStepResponse:
        """Set a step's status (which stamps its start/end times) and/or metadata."""
        path = f"{_run_path(mission_id, run_id)}/plan/steps/{v.id_arg('step_id', step_id)}"
        body = v.body(
            status=v.enum_arg("status", status, StepStatus), metadata=v.object_arg("metadata", metadata)
        )
        return self._write(
            "PATCH", path, "PATCH .../plan/steps/{step_id}", PlanStepResponse, options, body, idempotent=True
        )


class TelnyxAgents(_Resource):
    """``client.missions.runs.telnyx_agents``: voice/messaging agents linked to a run."""

    def list(self, run_id: str, *, mission_id: str, **options: Any) -> TelnyxAgentListResponse:
        """Every agent linked to the run."""
        return self._get(
            _run_path(mission_id, run_id) + "/telnyx-agents",
            "GET .../runs/{run_id}/telnyx-agents",
            TelnyxAgentListResponse,
            options,
        )

    def link(
        self, run_id: str, *, mission_id: str, telnyx_agent_id: str, **options: Any
    ) -> TelnyxAgentResponse:
        """Link an agent to the run (linking a linked agent returns the existing link)."""
        body = {"telnyx_agent_id": v.id_arg("telnyx_agent_id", telnyx_agent_id)}
        return self._write(
            "POST",
            _run_path(mission_id, run_id) + "/telnyx-agents",
            "POST .../runs/{run_id}/telnyx-agents",
            TelnyxAgentResponse,
            options,
            body,
            idempotent=True,
        )

    def unlink(self, telnyx_agent_id: str, *, mission_id: str, run_id: str, **options: Any) -> None:
        """Unlink an agent from the run."""
        path = f"{_run_path(mission_id, run_id)}/telnyx-agents/{v.id_arg('telnyx_agent_id', telnyx_agent_id)}"
        return self._delete(path, "DELETE .../telnyx-agents/{telnyx_agent_id}", options)


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


class KnowledgeBases(_MissionObjects):
    """``client.missions.knowledge_bases``: knowledge bases (free-form JSON objects)."""

    segment = "knowledge-bases"

    def list_knowledge_bases(self, mission_id: str, **options: Any) -> ObjectListResponse:
        return self._list_objects(mission_id, options)

    def create_knowledge_base(
        self, mission_id: str, *, body: dict[str, Any] | None = None, **options: Any
    ) -> ObjectResponse:
        return self._create(mission_id, body, options)

    def get_knowledge_base(
        self, knowledge_base_id: str, *, mission_id: str, **options: Any
    ) -> ObjectResponse:
        return self._retrieve(knowledge_base_id, mission_id, options)

    def update_knowledge_base(
        self, knowledge_base_id: str, *, mission_id: str, body: dict[str, Any] | None = None, **options: Any
    ) -> ObjectResponse:
        return self._update(knowledge_base_id, mission_id, body, options)

    def delete_knowledge_base(self, knowledge_base_id: str, *, mission_id: str, **options: Any) -> None:
        return self._delete_object(knowledge_base_id, mission_id, options)


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
