"""Request and response bodies of the sandbox's API, for validation and its OpenAPI document.

These mirror ``reference/missions-api.md``; the sandbox shares the wire format
with the client, not its code.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from .input_checks import IdempotencyKey, JSONObject, Name, NewId, StepRef, Text

ExecutionMode = Literal["external", "managed"]
RunStatus = Literal["pending", "running", "paused", "succeeded", "failed", "cancelled"]
StepStatus = Literal["pending", "in_progress", "completed", "skipped", "failed"]
EventType = Literal[
    "status_change",
    "step_started",
    "step_completed",
    "step_failed",
    "tool_call",
    "tool_result",
    "message",
    "error",
    "custom",
]


class _Body(BaseModel):
    model_config = ConfigDict(extra="ignore")


class CreateMission(_Body):
    name: Name
    description: Text | None = None
    instructions: Text | None = None
    model: Text | None = None
    metadata: JSONObject | None = None
    execution_mode: ExecutionMode = "external"


class UpdateMission(_Body):
    name: Name | None = None
    description: Text | None = None
    instructions: Text | None = None
    model: Text | None = None
    metadata: JSONObject | None = None
    execution_mode: ExecutionMode | None = None


class CreateRun(_Body):
    input: JSONObject | None = None
    metadata: JSONObject | None = None


class UpdateRun(_Body):
    status: RunStatus | None = None
    result_summary: Text | None = None
    result_payload: JSONObject | None = None
    error: Text | None = None
    metadata: JSONObject | None = None


class CreatePlanStep(_Body):
    step_id: NewId
    description: Text
    sequence: int = Field(ge=-(2**31), le=2**31 - 1)
    parent_step_id: StepRef | None = None
    metadata: JSONObject | None = None


class CreatePlan(_Body):
    steps: list[CreatePlanStep] = Field(min_length=1)


class UpdatePlanStep(_Body):
    status: StepStatus | None = None
    metadata: JSONObject | None = None


class CreateEvent(_Body):
    type: EventType
    summary: Text
    step_id: StepRef | None = None
    agent_id: Text | None = None
    payload: JSONObject | None = None
    idempotency_key: IdempotencyKey | None = None


class LinkAgent(_Body):
    telnyx_agent_id: NewId


# -- responses ----------------------------------------------------------------------------


class Mission(BaseModel):
    mission_id: UUID
    name: str
    execution_mode: ExecutionMode
    created_at: datetime
    updated_at: datetime
    description: str | None = None
    instructions: str | None = None
    model: str | None = None
    metadata: JSONObject | None = None


class MissionWithObjects(Mission):
    tools: list[JSONObject] = []
    knowledge_bases: list[JSONObject] = []
    mcp_servers: list[JSONObject] = []


class Run(BaseModel):
    run_id: UUID
    mission_id: UUID
    status: RunStatus
    started_at: datetime
    updated_at: datetime
    finished_at: datetime | None = None
    input: JSONObject | None = None
    metadata: JSONObject | None = None
    result_payload: JSONObject | None = None
    result_summary: str | None = None
    error: str | None = None


class PlanStep(BaseModel):
    step_id: str
    run_id: UUID
    sequence: int
    description: str
    status: StepStatus
    started_at: datetime | None = None
    completed_at: datetime | None = None
    parent_step_id: str | None = None
    metadata: JSONObject | None = None


class Event(BaseModel):
    event_id: str
    run_id: str
    type: EventType
    summary: str
    timestamp: datetime
    step_id: str | None = None
    agent_id: str | None = None
    idempotency_key: str | None = None
    payload: JSONObject | None = None


class TelnyxAgent(BaseModel):
    run_id: str
    telnyx_agent_id: str
    created_at: datetime


class Meta(BaseModel):
    page_number: int
    page_size: int
    total_pages: int
    total_results: int


class MissionOut(BaseModel):
    data: MissionWithObjects


class MissionList(BaseModel):
    data: list[Mission]
    meta: Meta


class RunOut(BaseModel):
    data: Run


class RunList(BaseModel):
    data: list[Run]
    meta: Meta


class PlanOut(BaseModel):
    data: list[PlanStep]


class StepOut(BaseModel):
    data: PlanStep


class EventOut(BaseModel):
    data: Event


class EventList(BaseModel):
    data: list[Event]
    meta: Meta


class AgentOut(BaseModel):
    data: TelnyxAgent


class AgentList(BaseModel):
    data: list[TelnyxAgent]


class ObjectOut(BaseModel):
    data: JSONObject


class ObjectList(BaseModel):
    data: list[JSONObject]


class ErrorItem(BaseModel):
    code: str
    title: str
    detail: str


class ErrorEnvelope(BaseModel):
    errors: list[ErrorItem]
