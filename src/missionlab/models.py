"""Pydantic models of the API's objects and of the envelopes they arrive in.

Every model keeps fields it does not know (``extra="allow"``), so that fields a
newer server adds survive a round trip. Timestamps are always timezone-aware:
a naive timestamp from a server is read as UTC.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, ClassVar

from pydantic import AfterValidator, BaseModel, ConfigDict

from ._display import DisplayMixin
from .types import EventType, ExecutionMode, RunStatus, StepStatus

__all__ = [
    "Event",
    "EventResponse",
    "Mission",
    "MissionResponse",
    "ObjectListResponse",
    "ObjectResponse",
    "PageMeta",
    "PlanResponse",
    "PlanStep",
    "PlanStepResponse",
    "Run",
    "RunResponse",
    "TelnyxAgent",
    "TelnyxAgentListResponse",
    "TelnyxAgentResponse",
]


def _as_utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


Timestamp = Annotated[datetime, AfterValidator(_as_utc)]


class APIModel(DisplayMixin, BaseModel):
    """Base of every model: keeps unknown fields, compares by value."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)


class Mission(APIModel):
    """A reusable definition of an agent's job (``MissionData``)."""

    _repr_fields: ClassVar[tuple[str, ...]] = ("mission_id", "name", "execution_mode")

    mission_id: str
    name: str
    execution_mode: ExecutionMode
    created_at: Timestamp
    updated_at: Timestamp
    description: str | None = None
    instructions: str | None = None
    model: str | None = None
    metadata: dict[str, Any] | None = None


class Run(APIModel):
    """One execution of a mission (``MissionRunData``)."""

    _repr_fields: ClassVar[tuple[str, ...]] = ("run_id", "status", "started_at")

    run_id: str
    mission_id: str
    status: RunStatus
    started_at: Timestamp
    updated_at: Timestamp
    finished_at: Timestamp | None = None
    input: dict[str, Any] | None = None
    metadata: dict[str, Any] | None = None
    result_payload: dict[str, Any] | None = None
    result_summary: str | None = None
    error: str | None = None


class PlanStep(APIModel):
    """One step of a run's plan (``PlanStepData``)."""

    _repr_fields: ClassVar[tuple[str, ...]] = ("step_id", "sequence", "status")

    step_id: str
    run_id: str
    sequence: int
    description: str
    status: StepStatus
    started_at: Timestamp | None = None
    completed_at: Timestamp | None = None
    parent_step_id: str | None = None
    metadata: dict[str, Any] | None = None


class Event(APIModel):
    """Something that happened during a run (``EventData``)."""

    _repr_fields: ClassVar[tuple[str, ...]] = ("type", "step_id", "summary")

    event_id: str
    run_id: str
    type: EventType
    summary: str
    timestamp: Timestamp
    step_id: str | None = None
    agent_id: str | None = None
    idempotency_key: str | None = None
    payload: dict[str, Any] | None = None


class TelnyxAgent(APIModel):
    """A Telnyx voice or messaging agent linked to a run."""

    run_id: str
    telnyx_agent_id: str
    created_at: Timestamp


class PageMeta(APIModel):
    """Pagination facts of a list response."""

    page_number: int
    page_size: int
    total_pages: int
    total_results: int


# Envelopes: single objects come as {"data": {...}}, plain lists as {"data": [...]}.


class MissionResponse(APIModel):
    data: Mission


class RunResponse(APIModel):
    data: Run


class PlanResponse(APIModel):
    data: list[PlanStep]


class PlanStepResponse(APIModel):
    data: PlanStep


class EventResponse(APIModel):
    data: Event


class TelnyxAgentResponse(APIModel):
    data: TelnyxAgent


class TelnyxAgentListResponse(APIModel):
    data: list[TelnyxAgent]


class ObjectResponse(APIModel):
    """A free-form object (tool, knowledge base, MCP server) in its envelope."""

    data: dict[str, Any]


class ObjectListResponse(APIModel):
    """A list of free-form objects in its envelope."""

    data: list[dict[str, Any]]
