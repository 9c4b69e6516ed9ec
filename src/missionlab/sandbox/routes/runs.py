"""Runs of a mission, and steering them (cancel, pause, resume)."""

from __future__ import annotations

from functools import partial
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Body, Response

from .. import schemas as s
from ..store import Store
from ._common import RUN_PATH, PageNumber, PageSize, RunStarter, _doc, ok, page_of


def add_run_routes(api: APIRouter, store: Store, simulator: RunStarter) -> None:
    """A mission's runs; managed runs are handed to ``simulator`` when they start."""

    @api.get("/{mission_id}/runs", summary="List runs for mission", **_doc(s.RunList))
    async def list_runs(
        mission_id: UUID,
        status: str | None = None,
        page_number: PageNumber = 1,
        page_size: PageSize = 20,
    ) -> Response:
        return await page_of(store, partial(store.list_runs, str(mission_id), status), page_number, page_size)

    @api.post("/{mission_id}/runs", summary="Start a run", **_doc(s.RunOut, 201))
    async def create_run(mission_id: UUID, body: Annotated[s.CreateRun | None, Body()] = None) -> Response:
        mission = store.get_mission(str(mission_id), with_objects=False)
        fields = body.model_dump(exclude_none=True) if body else {}
        run = store.create_run(mission["mission_id"], fields)
        if mission["execution_mode"] == "managed":
            simulator.start(mission, run)
        return ok({"data": run}, 201)

    @api.get(RUN_PATH, summary="Get run details", **_doc(s.RunOut))
    async def get_run(mission_id: UUID, run_id: UUID) -> Response:
        return ok({"data": store.get_run(str(mission_id), str(run_id))})

    @api.patch(RUN_PATH, summary="Update run", **_doc(s.RunOut, conflict=True))
    async def update_run(mission_id: UUID, run_id: UUID, body: s.UpdateRun) -> Response:
        fields = body.model_dump(exclude_unset=True, exclude_none=True)
        return ok({"data": store.update_run(str(mission_id), str(run_id), fields)})

    def transition(action: str, summary: str) -> None:
        @api.post(
            f"{RUN_PATH}/{action}", summary=summary, name=f"{action}_run", **_doc(s.RunOut, conflict=True)
        )
        async def handler(mission_id: UUID, run_id: UUID) -> Response:
            return ok({"data": store.transition(str(mission_id), str(run_id), action)})

    transition("cancel", "Cancel run")
    transition("pause", "Pause run")
    transition("resume", "Resume run")
