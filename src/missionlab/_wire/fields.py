"""Each object of the API and its wire fields, described once.

A field has a name, a JSON type (``string``, ``integer``, ``object``), a format (``uuid``,
``date-time``), whether the published document requires it (a required field is always in
an answer and never null; any other may be missing or null), and for enumerations the
:mod:`missionlab.types` enum of its documented values (others are still read). Fields are in
wire order: the order of the keys in the sandbox's answers.

What is derived from these descriptions: the sandbox's columns (``*_FIELDS``), its JSON
columns and its response schemas (the OpenAPI document); the frames' column types; the
client models' keys. What is checked against them by tests: the client's models, the
sandbox's SQL schema, the published document. To add a field, see CONTRIBUTING.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Literal

from ..types import EventType, ExecutionMode, RunStatus, StepStatus

__all__ = ["EVENT", "MISSION", "OBJECTS", "PLAN_STEP", "RUN", "TELNYX_AGENT", "Field", "WireObject"]


@dataclass(frozen=True)
class Field:
    """One field of an object on the wire."""

    name: str
    json_type: Literal["string", "integer", "object"] = "string"
    format: Literal["uuid", "date-time"] | None = None
    required: bool = False
    enum: type[StrEnum] | None = None


@dataclass(frozen=True)
class WireObject:
    """An object of the API: its name, its schema's name in the published document, its fields
    in wire order, and the fields that identify one (its key)."""

    name: str
    schema: str
    fields: tuple[Field, ...]
    key: tuple[str, ...]

    @property
    def names(self) -> tuple[str, ...]:
        """The fields' names, in wire order."""
        return tuple(field.name for field in self.fields)

    @property
    def json_names(self) -> frozenset[str]:
        """The free-form JSON objects (``metadata``, ``payload``, ...)."""
        return frozenset(field.name for field in self.fields if field.json_type == "object")

    def __getitem__(self, name: str) -> Field:
        for field in self.fields:
            if field.name == name:
                return field
        raise KeyError(f"{self.name} has no field {name!r}")


def _time(name: str, *, required: bool = False) -> Field:
    return Field(name, format="date-time", required=required)


def _object(name: str) -> Field:
    return Field(name, "object")


MISSION = WireObject(
    "Mission",
    "MissionData",
    (
        Field("mission_id", format="uuid", required=True),
        Field("name", required=True),
        Field("description"),
        Field("instructions"),
        Field("model"),
        _object("metadata"),
        Field("execution_mode", required=True, enum=ExecutionMode),
        _time("created_at", required=True),
        _time("updated_at", required=True),
    ),
    key=("mission_id",),
)

RUN = WireObject(
    "Run",
    "MissionRunData",
    (
        Field("run_id", format="uuid", required=True),
        Field("mission_id", format="uuid", required=True),
        Field("status", required=True, enum=RunStatus),
        _time("started_at", required=True),
        _time("updated_at", required=True),
        _time("finished_at"),
        _object("input"),
        _object("metadata"),
        _object("result_payload"),
        Field("result_summary"),
        Field("error"),
    ),
    key=("run_id",),
)

PLAN_STEP = WireObject(
    "PlanStep",
    "PlanStepData",
    (
        Field("step_id", required=True),
        Field("run_id", format="uuid", required=True),
        Field("sequence", "integer", required=True),
        Field("description", required=True),
        Field("status", required=True, enum=StepStatus),
        _time("started_at"),
        _time("completed_at"),
        Field("parent_step_id"),
        _object("metadata"),
    ),
    key=("run_id", "step_id"),
)

EVENT = WireObject(
    "Event",
    "EventData",
    (
        Field("event_id", required=True),
        Field("run_id", required=True),
        Field("type", required=True, enum=EventType),
        Field("summary", required=True),
        _time("timestamp", required=True),
        Field("step_id"),
        Field("agent_id"),
        Field("idempotency_key"),
        _object("payload"),
    ),
    # An event's id is unique within its run only (the API addresses it as
    # /runs/{run_id}/events/{event_id}): the organization's list may repeat it across runs.
    key=("run_id", "event_id"),
)

TELNYX_AGENT = WireObject(
    "TelnyxAgent",
    "TelnyxAgentData",
    (
        Field("run_id", required=True),
        Field("telnyx_agent_id", required=True),
        _time("created_at", required=True),
    ),
    key=("run_id", "telnyx_agent_id"),
)

OBJECTS = (MISSION, RUN, PLAN_STEP, EVENT, TELNYX_AGENT)
