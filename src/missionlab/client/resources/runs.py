"""``client.missions.runs``: runs of a mission, and steering them."""

from __future__ import annotations

from functools import cached_property
from typing import Any, Unpack

from ...types import RunStatus
from .. import _validate as v
from .._call import RequestOptions
from .._pagination import SyncPage
from ..models import Run, RunResponse
from ._args import mission_path, run_path
from ._base import _Resource
from .events import Events
from .plan import Plan
from .telnyx_agents import TelnyxAgents


class Runs(_Resource):
    """``client.missions.runs``: runs of a mission, and steering them."""

    @cached_property
    def events(self) -> Events:
        return Events(self._client)

    @cached_property
    def plan(self) -> Plan:
        return Plan(self._client)

    @cached_property
    def telnyx_agents(self) -> TelnyxAgents:
        return TelnyxAgents(self._client)

    def list(
        self,
        mission_id: str,
        *,
        status: RunStatus | str | None = None,
        page_number: int | None = None,
        page_size: int | None = None,
        **options: Unpack[RequestOptions],
    ) -> SyncPage[Run]:
        """A page of a mission's runs, newest first; ``status``: any run status."""
        filters = v.body(status=v.filter_arg("status", status))
        return self._list(
            mission_path(mission_id, reading=True) + "/runs",
            "GET /ai/missions/{mission_id}/runs",
            Run,
            filters,
            page_number,
            page_size,
            options,
        )

    def list_runs(
        self,
        *,
        status: RunStatus | str | None = None,
        page_number: int | None = None,
        page_size: int | None = None,
        **options: Unpack[RequestOptions],
    ) -> SyncPage[Run]:
        """A page of recent runs across every mission, newest first; ``status``: any run status."""
        filters = v.body(status=v.filter_arg("status", status))
        return self._list(
            "/ai/missions/runs", "GET /ai/missions/runs", Run, filters, page_number, page_size, options
        )

    def create(
        self,
        mission_id: str,
        *,
        input: dict[str, Any] | None = None,
        metadata: dict[str, Any] | None = None,
        **options: Unpack[RequestOptions],
    ) -> RunResponse:
        """Start a run of a mission."""
        body = v.body(input=v.object_arg("input", input), metadata=v.object_arg("metadata", metadata))
        return self._write(
            "POST",
            mission_path(mission_id) + "/runs",
            "POST /ai/missions/{mission_id}/runs",
            RunResponse,
            options,
            body,
            idempotent=False,
        )

    def retrieve(self, run_id: str, *, mission_id: str, **options: Unpack[RequestOptions]) -> RunResponse:
        """A run."""
        return self._get(
            run_path(mission_id, run_id, reading=True), "GET .../runs/{run_id}", RunResponse, options
        )

    def update(
        self,
        run_id: str,
        *,
        mission_id: str,
        status: RunStatus | str | None = None,
        result_summary: str | None = None,
        result_payload: dict[str, Any] | None = None,
        error: str | None = None,
        metadata: dict[str, Any] | None = None,
        **options: Unpack[RequestOptions],
    ) -> RunResponse:
        """Set a run's status and/or result."""
        body = v.body(
            status=v.enum_arg("status", status, RunStatus),
            result_summary=v.text_arg("result_summary", result_summary),
            result_payload=v.object_arg("result_payload", result_payload),
            error=v.text_arg("error", error),
            metadata=v.object_arg("metadata", metadata),
        )
        return self._write(
            "PATCH",
            run_path(mission_id, run_id),
            "PATCH .../runs/{run_id}",
            RunResponse,
            options,
            body,
            idempotent=True,
        )

    def _transition(self, action: str, run_id: str, mission_id: str, options: RequestOptions) -> RunResponse:
        return self._write(
            "POST",
            f"{run_path(mission_id, run_id)}/{action}",
            f"POST .../runs/{{run_id}}/{action}",
            RunResponse,
            options,
            idempotent=False,
        )

    def cancel_run(self, run_id: str, *, mission_id: str, **options: Unpack[RequestOptions]) -> RunResponse:
        """Cancel a pending, running or paused run."""
        return self._transition("cancel", run_id, mission_id, options)

    def pause_run(self, run_id: str, *, mission_id: str, **options: Unpack[RequestOptions]) -> RunResponse:
        """Pause a running run."""
        return self._transition("pause", run_id, mission_id, options)

    def resume_run(self, run_id: str, *, mission_id: str, **options: Unpack[RequestOptions]) -> RunResponse:
        """Resume a paused run."""
        return self._transition("resume", run_id, mission_id, options)
