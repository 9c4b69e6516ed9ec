"""A run's plan and its steps."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter, Response

from .. import schemas as s
from ..store import Store
from ._common import RUN_PATH, _doc, ok


def add_plan_routes(api: APIRouter, store: Store) -> None:
    """A run's plan: get, create, add steps, get and update one step."""

    @api.get(f"{RUN_PATH}/plan", summary="Get plan", **_doc(s.PlanOut))
    async def get_plan(mission_id: UUID, run_id: UUID) -> Response:
        return Response(store.plan_json(str(mission_id), str(run_id)), media_type="application/json")

    @api.post(f"{RUN_PATH}/plan", summary="Create initial plan", **_doc(s.PlanOut, 201, conflict=True))
    async def create_plan(mission_id: UUID, run_id: UUID, body: s.CreatePlan) -> Response:
        steps = [step.model_dump(exclude_none=True) for step in body.steps]
        return ok({"data": store.add_steps(str(mission_id), str(run_id), steps, initial=True)}, 201)

    @api.post(f"{RUN_PATH}/plan/steps", summary="Add step(s) to plan", **_doc(s.PlanOut, 201, conflict=True))
    async def add_steps(mission_id: UUID, run_id: UUID, body: s.CreatePlan) -> Response:
        steps = [step.model_dump(exclude_none=True) for step in body.steps]
        return ok({"data": store.add_steps(str(mission_id), str(run_id), steps, initial=False)}, 201)

    @api.get(f"{RUN_PATH}/plan/steps/{{step_id}}", summary="Get step details", **_doc(s.StepOut))
    async def get_step(mission_id: UUID, run_id: UUID, step_id: str) -> Response:
        return ok({"data": store.get_step(str(mission_id), str(run_id), step_id)})

    @api.patch(f"{RUN_PATH}/plan/steps/{{step_id}}", summary="Update step status", **_doc(s.StepOut))
    async def update_step(mission_id: UUID, run_id: UUID, step_id: str, body: s.UpdatePlanStep) -> Response:
        fields = body.model_dump(exclude_unset=True, exclude_none=True)
        return ok({"data": store.update_step(str(mission_id), str(run_id), step_id, fields)})
