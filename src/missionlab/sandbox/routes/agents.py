"""Telnyx agents linked to a run."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter, Response

from .. import schemas as s
from ..store import Store
from ._common import RUN_PATH, _doc, ok


def add_agent_routes(api: APIRouter, store: Store) -> None:
    """The Telnyx agents linked to a run: list, link, unlink."""

    @api.get(f"{RUN_PATH}/telnyx-agents", summary="List linked Telnyx agents", **_doc(s.AgentList))
    async def list_agents(mission_id: UUID, run_id: UUID) -> Response:
        return ok({"data": store.list_agents(str(mission_id), str(run_id))})

    link_doc = _doc(s.AgentOut, 201)
    link_doc["responses"][200] = {"model": s.AgentOut, "description": "Already linked: the existing link"}

    @api.post(f"{RUN_PATH}/telnyx-agents", summary="Link Telnyx agent to run", **link_doc)
    async def link_agent(mission_id: UUID, run_id: UUID, body: s.LinkAgent) -> Response:
        agent, created = store.link_agent(str(mission_id), str(run_id), body.telnyx_agent_id)
        return ok({"data": agent}, 201 if created else 200)

    @api.delete(
        f"{RUN_PATH}/telnyx-agents/{{telnyx_agent_id}}",
        summary="Unlink Telnyx agent",
        **_doc(type(None), 204),
    )
    async def unlink_agent(mission_id: UUID, run_id: UUID, telnyx_agent_id: str) -> Response:
        store.unlink_agent(str(mission_id), str(run_id), telnyx_agent_id)
        return Response(status_code=204)
