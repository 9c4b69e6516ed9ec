"""The 41 endpoints of the Missions API, served from a :class:`Store`.

Handlers are closures over the store and simulator they are given, so that an
app holds no global state. Answers are encoded once with ``json`` and sent as
they are; the response models only document them.
"""

from __future__ import annotations

import json
from typing import Annotated, Any, Protocol
from uuid import UUID

from fastapi import APIRouter, Body, Query, Response

from . import schemas as s
from .store import OBJECT_KINDS, Store

PageNumber = Annotated[
    int, Query(alias="page[number]", ge=1, le=2**31 - 1, description="Page number (1-based)")
]
PageSize = Annotated[int, Query(alias="page[size]", gt=0, le=1000, description="Items per page")]

ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": s.ErrorEnvelope, "description": "Missing or wrong bearer token"},
    404: {"model": s.ErrorEnvelope, "description": "Not found"},
}
CONFLICT: dict[int | str, dict[str, Any]] = {409: {"model": s.ErrorEnvelope, "description": "Conflict"}}


class RunStarter(Protocol):
    def start(self, mission: dict[str, Any], run: dict[str, Any]) -> None: ...


def ok(payload: Any, status: int = 200) -> Response:
    """A JSON answer, encoded once."""
    return Response(
        json.dumps(payload, separators=(",", ":")), status_code=status, media_type="application/json"
    )


def page(rows: list[dict[str, Any]], meta: dict[str, int]) -> Response:
    return ok({"data": rows, "meta": meta})


def _doc(model: type, status: int = 200, conflict: bool = False) -> dict[str, Any]:
    answer = {"description": "Deleted"} if status == 204 else {"model": model}
    responses: dict[int | str, dict[str, Any]] = {status: answer, **ERRORS}
    if conflict:
        responses.update(CONFLICT)
    return {"status_code": status, "responses": responses, "response_class": Response}


def build_router(store: Store, simulator: RunStarter) -> APIRouter:
    """The API's routes over ``store``; managed runs are handed to ``simulator``."""
    api = APIRouter(prefix="/ai/missions")

    # -- missions --------------------------------------------------------------------------

    @api.get("", summary="List missions", **_doc(s.MissionList))
    async def list_missions(page_number: PageNumber = 1, page_size: PageSize = 20) -> Response:
        return page(*store.list_missions(page_number, page_size))

    @api.post("", summary="Create mission", **_doc(s.MissionOut, 201))
    async def create_mission(body: s.CreateMission) -> Response:
        return ok({"data": store.create_mission(body.model_dump(exclude_none=True))}, 201)

    @api.get("/events", summary="List recent events", **_doc(s.EventList))
    async def list_recent_events(
        type: s.EventType | None = None, page_number: PageNumber = 1, page_size: PageSize = 50
    ) -> Response:
        return page(*store.list_events({"type": type} if type else {}, page_number, page_size))

    @api.get("/runs", summary="List recent runs", **_doc(s.RunList))
    async def list_recent_runs(
        status: s.RunStatus | None = None, page_number: PageNumber = 1, page_size: PageSize = 20
    ) -> Response:
        return page(*store.list_runs(None, status, page_number, page_size))

    @api.get("/{mission_id}", summary="Get mission", **_doc(s.MissionOut))
    async def get_mission(mission_id: UUID) -> Response:
        return ok({"data": store.get_mission(str(mission_id))})

    @api.put("/{mission_id}", summary="Update mission", **_doc(s.MissionOut))
    async def update_mission(mission_id: UUID, body: s.UpdateMission) -> Response:
        fields = body.model_dump(exclude_unset=True, exclude_none=True)
        return ok({"data": store.update_mission(str(mission_id), fields)})

    @api.delete("/{mission_id}", summary="Delete mission", **_doc(type(None), 204))
    async def delete_mission(mission_id: UUID) -> Response:
        store.delete_mission(str(mission_id))
        return Response(status_code=204)

    @api.post("/{mission_id}/clone", summary="Clone mission", **_doc(s.MissionOut, 201))
    async def clone_mission(mission_id: UUID) -> Response:
        return ok({"data": store.clone_mission(str(mission_id))}, 201)

    # -- runs ------------------------------------------------------------------------------

    @api.get("/{mission_id}/runs", summary="List runs for mission", **_doc(s.RunList))
    async def list_runs(
        mission_id: UUID,
        status: s.RunStatus | None = None,
        page_number: PageNumber = 1,
        page_size: PageSize = 20,
    ) -> Response:
        return page(*store.list_runs(str(mission_id), status, page_number, page_size))

    @api.post("/{mission_id}/runs", summary="Start a run", **_doc(s.RunOut, 201))
    async def create_run(mission_id: UUID, body: Annotated[s.CreateRun | None, Body()] = None) -> Response:
        mission = store.get_mission(str(mission_id), with_objects=False)
        fields = body.model_dump(exclude_none=True) if body else {}
        run = store.create_run(mission["mission_id"], fields)
        if mission["execution_mode"] == "managed":
            simulator.start(mission, run)
        return ok({"data": run}, 201)

    run_path = "/{mission_id}/runs/{run_id}"

    @api.get(run_path, summary="Get run details", **_doc(s.RunOut))
    async def get_run(mission_id: UUID, run_id: UUID) -> Response:
        return ok({"data": store.get_run(str(mission_id), str(run_id))})

    @api.patch(run_path, summary="Update run", **_doc(s.RunOut, conflict=True))
    async def update_run(mission_id: UUID, run_id: UUID, body: s.UpdateRun) -> Response:
        fields = body.model_dump(exclude_unset=True, exclude_none=True)
        return ok({"data": store.update_run(str(mission_id), str(run_id), fields)})

    def transition(action: str, summary: str) -> None:
        @api.post(
            f"{run_path}/{action}", summary=summary, name=f"{action}_run", **_doc(s.RunOut, conflict=True)
        )
        async def handler(mission_id: UUID, run_id: UUID) -> Response:
            return ok({"data": store.transition(str(mission_id), str(run_id), action)})

    transition("cancel", "Cancel run")
    transition("pause", "Pause run")
    transition("resume", "Resume run")

    # -- events ----------------------------------------------------------------------------

    @api.get(f"{run_path}/events", summary="List events", **_doc(s.EventList))
    async def list_events(
        mission_id: UUID,
        run_id: UUID,
        type: s.EventType | None = None,
        step_id: str | None = None,
        agent_id: str | None = None,
        page_number: PageNumber = 1,
        page_size: PageSize = 50,
    ) -> Response:
        given = {"type": type, "step_id": step_id, "agent_id": agent_id}
        filters = {name: value for name, value in given.items() if value is not None}
        return page(
            *store.list_events(
                filters, page_number, page_size, mission_id=str(mission_id), run_id=str(run_id)
            )
        )

    log_doc = _doc(s.EventOut, 201)
    log_doc["responses"][200] = {
        "model": s.EventOut,
        "description": "Repeated idempotency_key: the original event",
    }

    @api.post(f"{run_path}/events", summary="Log event", **log_doc)
    async def log_event(mission_id: UUID, run_id: UUID, body: s.CreateEvent) -> Response:
        event, created = store.log_event(str(mission_id), str(run_id), body.model_dump(exclude_none=True))
        return ok({"data": event}, 201 if created else 200)

    @api.get(f"{run_path}/events/{{event_id}}", summary="Get event details", **_doc(s.EventOut))
    async def get_event(mission_id: UUID, run_id: UUID, event_id: str) -> Response:
        return ok({"data": store.get_event(str(mission_id), str(run_id), event_id)})

    # -- plan ------------------------------------------------------------------------------

    @api.get(f"{run_path}/plan", summary="Get plan", **_doc(s.PlanOut))
    async def get_plan(mission_id: UUID, run_id: UUID) -> Response:
        return ok({"data": store.get_plan(str(mission_id), str(run_id))})

    @api.post(f"{run_path}/plan", summary="Create initial plan", **_doc(s.PlanOut, 201, conflict=True))
    async def create_plan(mission_id: UUID, run_id: UUID, body: s.CreatePlan) -> Response:
        steps = [step.model_dump(exclude_none=True) for step in body.steps]
        return ok({"data": store.add_steps(str(mission_id), str(run_id), steps, initial=True)}, 201)

    @api.post(f"{run_path}/plan/steps", summary="Add step(s) to plan", **_doc(s.PlanOut, 201, conflict=True))
    async def add_steps(mission_id: UUID, run_id: UUID, body: s.CreatePlan) -> Response:
        steps = [step.model_dump(exclude_none=True) for step in body.steps]
        return ok({"data": store.add_steps(str(mission_id), str(run_id), steps, initial=False)}, 201)

    @api.get(f"{run_path}/plan/steps/{{step_id}}", summary="Get step details", **_doc(s.StepOut))
    async def get_step(mission_id: UUID, run_id: UUID, step_id: str) -> Response:
        return ok({"data": store.get_step(str(mission_id), str(run_id), step_id)})

    @api.patch(f"{run_path}/plan/steps/{{step_id}}", summary="Update step status", **_doc(s.StepOut))
    async def update_step(mission_id: UUID, run_id: UUID, step_id: str, body: s.UpdatePlanStep) -> Response:
        fields = body.model_dump(exclude_unset=True, exclude_none=True)
        return ok({"data": store.update_step(str(mission_id), str(run_id), step_id, fields)})

    # -- linked agents ---------------------------------------------------------------------

    @api.get(f"{run_path}/telnyx-agents", summary="List linked Telnyx agents", **_doc(s.AgentList))
    async def list_agents(mission_id: UUID, run_id: UUID) -> Response:
        return ok({"data": store.list_agents(str(mission_id), str(run_id))})

    link_doc = _doc(s.AgentOut, 201)
    link_doc["responses"][200] = {"model": s.AgentOut, "description": "Already linked: the existing link"}

    @api.post(f"{run_path}/telnyx-agents", summary="Link Telnyx agent to run", **link_doc)
    async def link_agent(mission_id: UUID, run_id: UUID, body: s.LinkAgent) -> Response:
        agent, created = store.link_agent(str(mission_id), str(run_id), body.telnyx_agent_id)
        return ok({"data": agent}, 201 if created else 200)

    @api.delete(
        f"{run_path}/telnyx-agents/{{telnyx_agent_id}}",
        summary="Unlink Telnyx agent",
        **_doc(type(None), 204),
    )
    async def unlink_agent(mission_id: UUID, run_id: UUID, telnyx_agent_id: str) -> Response:
        store.unlink_agent(str(mission_id), str(run_id), telnyx_agent_id)
        return Response(status_code=204)

    # -- tools, knowledge bases, MCP servers -----------------------------------------------

    for kind, id_field in OBJECT_KINDS.items():
        _object_routes(api, store, kind, id_field)
    return api


def _object_routes(api: APIRouter, store: Store, kind: str, id_field: str) -> None:
    """The five routes of one kind of free-form mission object."""
    base = f"/{{mission_id}}/{kind}"
    one = f"{base}/{{{id_field}}}"
    label = kind.replace("-", " ")
    tag = kind.replace("-", "_")

    @api.get(base, summary=f"List {label}", name=f"list_{tag}", **_doc(s.ObjectList))
    async def list_objects(mission_id: UUID) -> Response:
        store.get_mission(str(mission_id), with_objects=False)
        return ok({"data": store.list_objects(kind, str(mission_id))})

    @api.post(base, summary=f"Create {label}", name=f"create_{tag}", **_doc(s.ObjectOut, 201, conflict=True))
    async def create_object(
        mission_id: UUID, body: Annotated[dict[str, Any] | None, Body()] = None
    ) -> Response:
        return ok({"data": store.create_object(kind, str(mission_id), body or {})}, 201)

    async def get_object(mission_id: UUID, object_id: str) -> Response:
        return ok({"data": store.get_object(kind, str(mission_id), object_id)})

    async def update_object(
        mission_id: UUID, object_id: str, body: Annotated[dict[str, Any] | None, Body()] = None
    ) -> Response:
        return ok({"data": store.update_object(kind, str(mission_id), object_id, body or {})})

    async def delete_object(mission_id: UUID, object_id: str) -> Response:
        store.delete_object(kind, str(mission_id), object_id)
        return Response(status_code=204)

    # The path parameter is named per kind (tool_id, ...); FastAPI matches it by name.
    for method, handler, doc, verb in (
        ("GET", get_object, _doc(s.ObjectOut), "Get"),
        ("PUT", update_object, _doc(s.ObjectOut), "Update"),
        ("DELETE", delete_object, _doc(type(None), 204), "Delete"),
    ):
        api.add_api_route(
            one,
            _rename_param(handler, "object_id", id_field),
            methods=[method],
            summary=f"{verb} {label.rstrip('s')}",
            name=f"{verb.lower()}_{tag}",
            **doc,
        )


def _rename_param(handler: Any, old: str, new: str) -> Any:
    """Wrap ``handler`` so that its parameter ``old`` is called ``new`` in the route."""
    import functools
    import inspect

    signature = inspect.signature(handler)
    params = [p.replace(name=new) if p.name == old else p for p in signature.parameters.values()]

    @functools.wraps(handler)
    async def wrapper(**kwargs: Any) -> Response:
        kwargs[old] = kwargs.pop(new)
        result: Response = await handler(**kwargs)
        return result

    wrapper.__signature__ = signature.replace(parameters=params)  # type: ignore[attr-defined]
    return wrapper
