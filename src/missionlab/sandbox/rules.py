"""The sandbox's rules for changing a run's or a step's status, where the published document is
silent; the store (API requests), the simulator and the demo history all follow them.

- A step's ``started_at`` is set the first time it is in progress, and kept.
- Its ``completed_at`` is when it last *became* finished: repeating the same finished
  status keeps it; setting the step back to pending or in progress clears it.
- A run that becomes succeeded, failed or cancelled gets ``finished_at`` (once), and every
  change of a run's status is recorded as a ``status_change`` event.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..types import FINISHED_STEP_STATUSES, TERMINAL_RUN_STATUSES, EventType, StepStatus

OPEN_STEP_STATUSES = frozenset(StepStatus) - FINISHED_STEP_STATUSES
"""Steps not finished yet: pending or in progress."""


def step_status_changes(step: Mapping[str, Any], status: str, at: str) -> dict[str, Any]:
    """The fields that change when ``step`` is set to ``status`` at ``at`` (None: cleared)."""
    changes: dict[str, Any] = {"status": status}
    if status == StepStatus.IN_PROGRESS and not step.get("started_at"):
        changes["started_at"] = at
    if status in FINISHED_STEP_STATUSES:
        if status != step.get("status") or not step.get("completed_at"):
            changes["completed_at"] = at
    elif step.get("completed_at"):
        changes["completed_at"] = None
    return changes


def run_status_changes(run: Mapping[str, Any], status: str, at: str) -> dict[str, Any]:
    """The fields that change when ``run`` is set to another ``status`` at ``at``."""
    changes: dict[str, Any] = {"status": status}
    if status in TERMINAL_RUN_STATUSES and not run.get("finished_at"):
        changes["finished_at"] = at
    return changes


def status_change_event(run_id: str, old: str, new: str, at: str) -> dict[str, Any]:
    """The event the sandbox records whenever a run's status changes."""
    return {
        "run_id": run_id,
        "type": str(EventType.STATUS_CHANGE),
        "timestamp": at,
        "summary": f"Run {old} -> {new}",
        "payload": {"from": old, "to": new},
    }
