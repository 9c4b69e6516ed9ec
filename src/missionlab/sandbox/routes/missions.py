"""Missions: ``/ai/missions`` and ``/ai/missions/{mission_id}``, and the lists across all missions."""

from __future__ import annotations

from functools import partial
from uuid import UUID

from fastapi import APIRouter, Response

from .. import schemas as s
from ..store import Store
from ._common import PageNumber, PageSize, _doc, ok, page_of


def add_mission_routes(api: APIRouter, store: Store) -> None:
    """Missions, and the lists of recent events and runs across all missions.

    ``/events`` and ``/runs`` are added before ``/{mission_id}``, which would otherwise take them for
    a mission id.
    """

    @api.get("", summary="List missions", **_doc(s.MissionList))
    async def list_missions(page_number: PageNumber = 1, page_size: PageSize = 20) -> Response:
        return await page_of(store, store.list_missions, page_number, page_size)

    @api.post("", summary="Create mission", **_doc(s.MissionOut, 201))
    async def create_mission(body: s.CreateMission) -> Response:
        return ok({"data": store.create_mission(body.model_dump(exclude_none=True))}, 201)

    @api.get("/events", summary="List recent events", **_doc(s.EventList))
    async def list_recent_events(
        type: str | None = None, page_number: PageNumber = 1, page_size: PageSize = 50
    ) -> Response:
        filters = {"type": type} if type else {}
        return await page_of(store, partial(store.list_events, filters), page_number, page_size)

    @api.get("/runs", summary="List recent runs", **_doc(s.RunList))
    async def list_recent_runs(
        status: str | None = None, page_number: PageNumber = 1, page_size: PageSize = 20
    ) -> Response:
        return await page_of(store, partial(store.list_runs, None, status), page_number, page_size)

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
    async def clone_mission(mission_id: str) -> Response:  # a plain string in the published document
        return ok({"data": store.clone_mission(mission_id)}, 201)
