"""What a trace asks of a Missions run, as writes: create the run, declare a plan step, set a
step's status, log an event, set the run's outcome; each :class:`Timed` with when it
happened, so that a whole trace's writes can be put in order (see :mod:`._reading`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["END", "EVENT", "START", "Event", "RunEnd", "RunStart", "SetStep", "Step", "Timed", "Write"]


@dataclass(frozen=True)
class RunStart:
    """Create the run (and mark it running)."""

    input: dict[str, Any] | None
    metadata: dict[str, Any]


@dataclass(frozen=True)
class Step:
    """A plan step to declare."""

    step_id: str
    description: str
    sequence: int
    parent_step_id: str | None = None
    metadata: dict[str, Any] | None = None

    def spec(self) -> dict[str, Any]:
        spec: dict[str, Any] = {
            "step_id": self.step_id,
            "description": self.description,
            "sequence": self.sequence,
        }
        if self.parent_step_id is not None:
            spec["parent_step_id"] = self.parent_step_id
        if self.metadata:
            spec["metadata"] = self.metadata
        return spec


@dataclass(frozen=True)
class SetStep:
    """Set a step's status."""

    step_id: str
    status: str


@dataclass(frozen=True)
class Event:
    """Log an event; ``key`` is its idempotency key (from the span's ids)."""

    key: str
    type: str
    summary: str
    step_id: str | None
    payload: dict[str, Any] | None = None
    agent_id: str | None = None


@dataclass(frozen=True)
class RunEnd:
    """Set the run's outcome (``status`` None: leave it as it is)."""

    status: str | None
    fields: dict[str, Any] = field(default_factory=dict)


Write = RunStart | Step | SetStep | Event | RunEnd

# Within one moment: step starts, then events (in their exported order), then step ends.
START, EVENT, END = 0, 1, 2


@dataclass(frozen=True)
class Timed:
    """A write and when it happened: ``(time, phase, index)`` orders a trace's writes."""

    at: int
    phase: int
    index: float
    write: Write
