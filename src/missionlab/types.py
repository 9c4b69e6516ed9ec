"""The API's enumerations, as string enums that compare equal to their wire values."""

from __future__ import annotations

from enum import StrEnum

__all__ = [
    "ACTIVE_RUN_STATUSES",
    "CAPSULE_FORMAT",
    "CAPSULE_VERSION",
    "FINISHED_STEP_STATUSES",
    "TERMINAL_RUN_STATUSES",
    "EventType",
    "ExecutionMode",
    "RunStatus",
    "StepStatus",
]


class ExecutionMode(StrEnum):
    """Who drives a mission's runs: the caller's own agent, or Telnyx."""

    EXTERNAL = "external"
    MANAGED = "managed"


class RunStatus(StrEnum):
    """Lifecycle of a run, in the order a run usually goes through it."""

    PENDING = "pending"
    RUNNING = "running"
    PAUSED = "paused"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"


class StepStatus(StrEnum):
    """Lifecycle of a plan step."""

    PENDING = "pending"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    SKIPPED = "skipped"
    FAILED = "failed"


class EventType(StrEnum):
    """Kinds of events a run logs."""

    STATUS_CHANGE = "status_change"
    STEP_STARTED = "step_started"
    STEP_COMPLETED = "step_completed"
    STEP_FAILED = "step_failed"
    TOOL_CALL = "tool_call"
    TOOL_RESULT = "tool_result"
    MESSAGE = "message"
    ERROR = "error"
    CUSTOM = "custom"


ACTIVE_RUN_STATUSES = frozenset({RunStatus.PENDING, RunStatus.RUNNING, RunStatus.PAUSED})
TERMINAL_RUN_STATUSES = frozenset({RunStatus.SUCCEEDED, RunStatus.FAILED, RunStatus.CANCELLED})
FINISHED_STEP_STATUSES = frozenset({StepStatus.COMPLETED, StepStatus.SKIPPED, StepStatus.FAILED})

# A run capsule (one JSON file: a run with its mission, plan, events and agents, each as the
# API's wire JSON), written by missionlab.analysis.capsule and re-hosted by the sandbox.
CAPSULE_FORMAT = "missionlab-run-capsule"
CAPSULE_VERSION = 1
