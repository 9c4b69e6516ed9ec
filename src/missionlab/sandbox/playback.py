"""The one interpreter of run scripts: what each ``script.Action`` does to a run.

The live simulator plays a script against the store as time passes; the demo history plays
the same script at once into plain records (``HistoryRun``). Both go through
``apply_action``, and both follow :mod:`.rules` for timestamps and status events, so a
demo run and a live run look alike field by field.
"""

from __future__ import annotations

from typing import Any, Protocol

from ..types import FINISHED_STEP_STATUSES
from .rules import run_status_changes, status_change_event, step_status_changes
from .script import Action


class ScriptTarget(Protocol):
    """Where a script's actions land: the store (live) or records being built (history)."""

    def set_run_status(self, status: str, at: str) -> None: ...
    def add_plan(self, steps: list[dict[str, Any]]) -> None: ...
    def set_step_status(self, step_id: str, status: str, at: str) -> None: ...
    def log_event(self, event: dict[str, Any]) -> None: ...
    def skip_open_steps(self, at: str) -> None: ...
    def finish(self, fields: dict[str, Any], at: str) -> bool:
        """Finish the run with ``fields`` (status included); False when it can't be finished."""
        ...


def finish_fields(data: dict[str, Any], speed: float) -> dict[str, Any]:
    """A ``finish`` action's run fields, with a success stated in real elapsed time: a run
    simulated ``speed`` times faster than real time says how long it really took, and how long
    it stands for."""
    fields = {k: v for k, v in data.items() if k not in ("steps_completed", "duration_s")}
    if "steps_completed" in data:
        done, simulated = data["steps_completed"], float(data["duration_s"])
        real = simulated / speed
        summary = f"Completed all {done} steps in {real:.0f} s"
        payload: dict[str, Any] = {"steps_completed": done, "duration_s": round(real, 1)}
        if speed != 1:
            summary += f" ({simulated:.0f} s of work simulated at {speed:g}x speed)"
            payload.update(simulated_duration_s=round(simulated, 1), speed=speed)
        fields.update(result_summary=summary, result_payload=payload)
    return fields


def apply_action(target: ScriptTarget, action: Action, at: str, *, run_id: str, speed: float = 1.0) -> bool:
    """Apply one action of ``run_id``'s script at ``at``; False when the script must stop."""
    data = action.data
    if action.kind == "status":
        target.set_run_status(data["status"], at)
    elif action.kind == "plan":
        target.add_plan(data["steps"])
    elif action.kind == "step":
        target.set_step_status(data["step_id"], data["status"], at)
    elif action.kind == "event":
        target.log_event({**data, "run_id": run_id, "timestamp": at})
    elif action.kind == "skip_rest":
        target.skip_open_steps(at)
    elif action.kind == "finish":
        return target.finish(finish_fields(data, speed), at)
    else:
        raise ValueError(f"unknown script action {action.kind!r}")
    return True


class HistoryRun:
    """A run played into plain records (``run``, ``steps``, ``events``), for the demo history."""

    def __init__(self, run: dict[str, Any]) -> None:
        self.run = run
        self.steps: dict[str, dict[str, Any]] = {}
        self.events: list[dict[str, Any]] = []

    def set_run_status(self, status: str, at: str) -> None:
        self.events.append(status_change_event(self.run["run_id"], self.run["status"], status, at))
        self.run.update(run_status_changes(self.run, status, at), updated_at=at)

    def add_plan(self, steps: list[dict[str, Any]]) -> None:
        for step in steps:
            self.steps[step["step_id"]] = {**step, "run_id": self.run["run_id"], "status": "pending"}

    def set_step_status(self, step_id: str, status: str, at: str) -> None:
        step = self.steps[step_id]
        for name, value in step_status_changes(step, status, at).items():
            if value is None:
                step.pop(name, None)
            else:
                step[name] = value

    def log_event(self, event: dict[str, Any]) -> None:
        self.events.append(event)

    def skip_open_steps(self, at: str) -> None:
        for step_id, step in self.steps.items():
            if step["status"] not in FINISHED_STEP_STATUSES:
                self.set_step_status(step_id, "skipped", at)

    def finish(self, fields: dict[str, Any], at: str) -> bool:
        self.run.update({k: v for k, v in fields.items() if k != "status"})
        self.set_run_status(fields["status"], at)
        return True
