"""``client.missions.runs.plan``: a run's plan steps."""

from __future__ import annotations

from typing import Any

from .. import _validate as v
from ..models import PlanResponse, PlanStepResponse
from ..types import StepStatus
from ._base import _Resource, _run_path


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
