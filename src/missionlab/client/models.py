"""Pydantic models of the API's objects and of the envelopes they arrive in.

Each object's fields are described once, in ``missionlab._wire.fields``; these classes spell
them out for typing, and a test keeps the two the same.

Reading is tolerant: every model keeps fields it does not know
(``extra="allow"``), so that fields a newer server adds survive a round trip,
and an enumerated field (a status, an event type, an execution mode) keeps a
value it does not know as a plain ``str``, with one
:class:`~missionlab.UnknownValueWarning` per new value. Compare such fields with
``==`` or ``in``, or use ``str(x)``; never ``x.value``. Timestamps are always
timezone-aware: a naive timestamp from a server is read as UTC.
"""

from __future__ import annotations

import threading
import warnings
from collections.abc import Callable
from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Any, ClassVar

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from .._wire.fields import EVENT, MISSION, PLAN_STEP, RUN, TELNYX_AGENT
from ..errors import UnknownValueWarning
from ..types import EventType, ExecutionMode, RunStatus, StepStatus
from ._display import DisplayMixin

__all__ = [
    "APIModel",
    "AnyEventType",
    "AnyExecutionMode",
    "AnyRunStatus",
    "AnyStepStatus",
    "Event",
    "EventResponse",
    "Mission",
    "MissionResponse",
    "PageMeta",
    "PlanResponse",
    "PlanStep",
    "PlanStepResponse",
    "Run",
    "RunResponse",
    "TelnyxAgent",
    "TelnyxAgentListResponse",
    "TelnyxAgentResponse",
    "Timestamp",
]


def _as_utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


Timestamp = Annotated[datetime, AfterValidator(_as_utc)]

_warned: set[tuple[str, str]] = set()
_warned_lock = threading.Lock()


def _keep_unknown(enum: type[StrEnum]) -> Callable[[str], str]:
    """A validator that keeps an unknown value of ``enum`` as it is, warning once per value."""

    def keep(value: str) -> str:
        with _warned_lock:
            new = (enum.__name__, value) not in _warned
            _warned.add((enum.__name__, value))
        if new:
            warnings.warn(
                f"the server sent {enum.__name__} {value!r}, which this version of missionlab "
                f"doesn't know; it is kept as a plain string",
                UnknownValueWarning,
                stacklevel=2,
            )
        return value

    return keep


# Known values become enum members (validated in pydantic-core, no Python call); others stay str.
AnyRunStatus = Annotated[
    RunStatus | Annotated[str, AfterValidator(_keep_unknown(RunStatus))], Field(union_mode="left_to_right")
]
AnyStepStatus = Annotated[
    StepStatus | Annotated[str, AfterValidator(_keep_unknown(StepStatus))], Field(union_mode="left_to_right")
]
AnyEventType = Annotated[
    EventType | Annotated[str, AfterValidator(_keep_unknown(EventType))], Field(union_mode="left_to_right")
]
AnyExecutionMode = Annotated[
    ExecutionMode | Annotated[str, AfterValidator(_keep_unknown(ExecutionMode))],
    Field(union_mode="left_to_right"),
]


class APIModel(DisplayMixin, BaseModel):
    """Base of every model: keeps unknown fields, compares by value."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)


class Mission(APIModel):
    """A reusable definition of an agent's job (``MissionData``)."""

    _repr_fields: ClassVar[tuple[str, ...]] = ("mission_id", "name", "execution_mode")
    _key_fields: ClassVar[tuple[str, ...]] = MISSION.key

    mission_id: str
    name: str
    execution_mode: AnyExecutionMode
    created_at: Timestamp
    updated_at: Timestamp
    description: str | None = None
    instructions: str | None = None
    model: str | None = None
    metadata: dict[str, Any] | None = None


class Run(APIModel):
    """One execution of a mission (``MissionRunData``)."""

    _repr_fields: ClassVar[tuple[str, ...]] = ("run_id", "status", "started_at")
    _key_fields: ClassVar[tuple[str, ...]] = RUN.key

    run_id: str
    mission_id: str
    status: AnyRunStatus
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
    _key_fields: ClassVar[tuple[str, ...]] = PLAN_STEP.key

    step_id: str
    run_id: str
    sequence: int
    description: str
    status: AnyStepStatus
    started_at: Timestamp | None = None
    completed_at: Timestamp | None = None
    parent_step_id: str | None = None
    metadata: dict[str, Any] | None = None


class Event(APIModel):
    """Something that happened during a run (``EventData``)."""

    _repr_fields: ClassVar[tuple[str, ...]] = ("type", "step_id", "summary")
    _key_fields: ClassVar[tuple[str, ...]] = EVENT.key

    event_id: str
    run_id: str
    type: AnyEventType
    summary: str
    timestamp: Timestamp
    step_id: str | None = None
    agent_id: str | None = None
    idempotency_key: str | None = None
    payload: dict[str, Any] | None = None


class TelnyxAgent(APIModel):
    """A Telnyx voice or messaging agent linked to a run."""

    _key_fields: ClassVar[tuple[str, ...]] = TELNYX_AGENT.key

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


def mission_in(answer: Any) -> Mission | None:
    """The mission in a free-form answer (``clone_mission``'s): ``{"data": {...}}`` or the
    mission itself; None when the answer holds none (the published document allows ``{}``)."""
    candidate = answer.get("data", answer) if isinstance(answer, dict) else None
    if not isinstance(candidate, dict) or "mission_id" not in candidate:
        return None
    try:
        return Mission.model_validate(candidate)
    except ValueError:
        return None
