"""A run's events."""

from __future__ import annotations

from functools import partial
from uuid import UUID

from fastapi import APIRouter, Response

from .. import schemas as s
from ..store import Store
from ._common import RUN_PATH, PageNumber, PageSize, _doc, ok, page_of


def add_event_routes(api: APIRouter, store: Store) -> None:
    """A run's events: list, log, get one."""

    @api.get(f"{RUN_PATH}/events", summary="List events", **_doc(s.EventList))
    async def list_events(
        mission_id: UUID,
        run_id: UUID,
        type: str | None = None,
        step_id: str | None = None,
        agent_id: str | None = None,
        page_number: PageNumber = 1,
        page_size: PageSize = 50,
    ) -> Response:
        given = {"type": type, "step_id": step_id, "agent_id": agent_id}
        filters = {name: value for name, value in given.items() if value is not None}
        read = partial(store.list_events, filters, mission_id=str(mission_id), run_id=str(run_id))
        return await page_of(store, read, page_number, page_size)

    log_doc = _doc(s.EventOut, 201, conflict=True)
    log_doc["responses"][200] = {
        "model": s.EventOut,
        "description": "Repeated idempotency_key with the same body: the original event",
    }

    @api.post(f"{RUN_PATH}/events", summary="Log event", **log_doc)
    async def log_event(mission_id: UUID, run_id: UUID, body: s.CreateEvent) -> Response:
        event, created = store.log_event(str(mission_id), str(run_id), body.model_dump(exclude_none=True))
        return ok({"data": event}, 201 if created else 200)

    @api.get(f"{RUN_PATH}/events/{{event_id}}", summary="Get event details", **_doc(s.EventOut))
    async def get_event(mission_id: UUID, run_id: UUID, event_id: str) -> Response:
        return ok({"data": store.get_event(str(mission_id), str(run_id), event_id)})
