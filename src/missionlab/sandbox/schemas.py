"""Request and response bodies of the sandbox's API, for validation and its OpenAPI document.

These mirror ``reference/missions-api.md``; the sandbox shares the wire format
with the client, not its code. The requests are written out here; the answers are derived
from each object's fields (``missionlab._wire.fields``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, create_model

from .._wire.fields import EVENT, MISSION, PLAN_STEP, RUN, TELNYX_AGENT, WireObject
from .._wire.fields import Field as WireField
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


# -- responses: derived from the objects' fields (missionlab._wire.fields) -----------------------


def _python_type(field: WireField) -> Any:
    if field.enum is not None:
        return Literal[tuple(member.value for member in field.enum)]
    if field.json_type == "object":
        return JSONObject
    if field.json_type == "integer":
        return int
    return {"uuid": UUID, "date-time": datetime}.get(field.format or "", str)


def _answer(wire: WireObject, name: str | None = None, **more: Any) -> type[BaseModel]:
    """The schema of ``wire`` in answers: its required fields first, then the others (null by
    default), each in wire order, as the published document lists them."""
    fields: dict[str, Any] = {
        field.name: (_python_type(field), ...) if field.required else (_python_type(field) | None, None)
        for field in sorted(wire.fields, key=lambda field: not field.required)
    }
    return create_model(name or wire.name, **fields, **more)


def _envelope(name: str, item: Any, *, many: bool = False, paged: bool = False) -> type[BaseModel]:
    """``{"data": item}`` (``many``: a list of them), with the page's ``meta`` when ``paged``."""
    fields: dict[str, Any] = {"data": (list[item] if many else item, ...)}
    if paged:
        fields["meta"] = (Meta, ...)
    return create_model(name, **fields)


class Meta(BaseModel):
    page_number: int
    page_size: int
    total_pages: int
    total_results: int


Mission = _answer(MISSION)
MissionWithObjects = _answer(
    MISSION,
    "MissionWithObjects",
    tools=(list[JSONObject], []),
    knowledge_bases=(list[JSONObject], []),
    mcp_servers=(list[JSONObject], []),
)
Run = _answer(RUN)
PlanStep = _answer(PLAN_STEP)
Event = _answer(EVENT)
TelnyxAgent = _answer(TELNYX_AGENT)

MissionOut = _envelope("MissionOut", MissionWithObjects)
MissionList = _envelope("MissionList", Mission, many=True, paged=True)
RunOut = _envelope("RunOut", Run)
RunList = _envelope("RunList", Run, many=True, paged=True)
PlanOut = _envelope("PlanOut", PlanStep, many=True)
StepOut = _envelope("StepOut", PlanStep)
EventOut = _envelope("EventOut", Event)
EventList = _envelope("EventList", Event, many=True, paged=True)
AgentOut = _envelope("AgentOut", TelnyxAgent)
AgentList = _envelope("AgentList", TelnyxAgent, many=True)


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
