"""``client.missions.runs.plan``: a run's plan steps."""

from __future__ import annotations

from typing import Any, Unpack

from ...limits import MAX_ID_LENGTH
from ...types import StepStatus
from .. import _validate as v
from .._call import RequestOptions
from ..models import PlanResponse, PlanStepResponse
from ._args import run_path
from ._base import _Resource


class Plan(_Resource):
    """``client.missions.runs.plan``: a run's plan steps."""

    def retrieve(self, run_id: str, *, mission_id: str, **options: Unpack[RequestOptions]) -> PlanResponse:
        """Every step of the plan, by sequence."""
        return self._get(
            run_path(mission_id, run_id, reading=True) + "/plan",
            "GET .../runs/{run_id}/plan",
            PlanResponse,
            options,
        )

    def create(
        self,
        run_id: str,
        *,
        mission_id: str,
        steps: list[dict[str, Any]],
        **options: Unpack[RequestOptions],
    ) -> PlanResponse:
        """Create the run's initial plan."""
        body = {"steps": v.steps_arg("steps", steps)}
        return self._write(
            "POST",
            run_path(mission_id, run_id) + "/plan",
            "POST .../runs/{run_id}/plan",
            PlanResponse,
            options,
            body,
            idempotent=False,
        )

    def add_steps_to_plan(
        self,
        run_id: str,
        *,
        mission_id: str,
        steps: list[dict[str, Any]],
        **options: Unpack[RequestOptions],
    ) -> PlanResponse:
        """Add steps to the run's plan."""
        body = {"steps": v.steps_arg("steps", steps)}
        return self._write(
            "POST",
            run_path(mission_id, run_id) + "/plan/steps",
            "POST .../runs/{run_id}/plan/steps",
            PlanResponse,
            options,
            body,
            idempotent=False,
        )

    def get_step_details(
        self, step_id: str, *, mission_id: str, run_id: str, **options: Unpack[RequestOptions]
    ) -> PlanStepResponse:
        """One plan step."""
        step = v.path_id("step_id", step_id, MAX_ID_LENGTH)
        path = f"{run_path(mission_id, run_id, reading=True)}/plan/steps/{step}"
        return self._get(path, "GET .../plan/steps/{step_id}", PlanStepResponse, options)

    def update_step(
        self,
        step_id: str,
        *,
        mission_id: str,
        run_id: str,
        status: StepStatus | str | None = None,
        metadata: dict[str, Any] | None = None,
        **options: Unpack[RequestOptions],
    ) -> PlanStepResponse:
        """Set a step's status (which stamps its start/end times) and/or metadata."""
        path = f"{run_path(mission_id, run_id)}/plan/steps/{v.path_id('step_id', step_id, MAX_ID_LENGTH)}"
        body = v.body(
            status=v.enum_arg("status", status, StepStatus), metadata=v.object_arg("metadata", metadata)
        )
        return self._write(
            "PATCH", path, "PATCH .../plan/steps/{step_id}", PlanStepResponse, options, body, idempotent=True
        )
