"""``client.missions.runs.events``: what happened during a run."""

from __future__ import annotations

import uuid
from typing import Any

from .. import _validate as v
from .._pagination import SyncPage
from ..models import Event, EventResponse
from ..types import EventType
from ._base import _Resource, _run_path


class Events(_Resource):
    """``client.missions.runs.events``: what happened during a run."""

    def list(
        self,
        run_id: str,
        *,
        mission_id: str,
        type: EventType | str | None = None,
        step_id: str | None = None,
        agent_id: str | None = None,
        page_number: int | None = None,
        page_size: int | None = None,
        **options: Any,
    ) -> SyncPage[Event]:
        """A page of a run's events, oldest first, optionally filtered."""
        filters = v.body(
            type=v.enum_arg("type", type, EventType),
            step_id=None if step_id is None else v.id_arg("step_id", step_id),
            agent_id=None if agent_id is None else v.id_arg("agent_id", agent_id),
        )
        return self._list(
            _run_path(mission_id, run_id) + "/events",
            "GET .../runs/{run_id}/events",
            Event,
            filters,
            page_number,
            page_size,
            options,
        )

    def log(
        self,
        run_id: str,
        *,
        mission_id: str,
        type: EventType | str,
        summary: str,
        step_id: str | None = None,
        agent_id: str | None = None,
        payload: dict[str, Any] | None = None,
        idempotency_key: str | None = None,
        **options: Any,
    ) -> EventResponse:
        """Log an event. An ``idempotency_key`` is generated when none is given, so that
        a retried request can never store the event twice."""
        if type is None:
            raise v.InvalidArgumentError("type", "is required")
        body = v.body(
            type=v.enum_arg("type", type, EventType),
            summary=v.text_arg("summary", summary, required=True),
            step_id=None if step_id is None else v.id_arg("step_id", step_id),
            agent_id=None if agent_id is None else v.id_arg("agent_id", agent_id),
            payload=v.object_arg("payload", payload),
            idempotency_key=v.text_arg("idempotency_key", idempotency_key) or uuid.uuid4().hex,
        )
        return self._write(
            "POST",
            _run_path(mission_id, run_id) + "/events",
            "POST .../runs/{run_id}/events",
            EventResponse,
            options,
            body,
            idempotent=True,
        )

    def get_event_details(
        self, event_id: str, *, mission_id: str, run_id: str, **options: Any
    ) -> EventResponse:
        """One event."""
        path = f"{_run_path(mission_id, run_id)}/events/{v.id_arg('event_id', event_id)}"
        return self._get(path, "GET .../events/{event_id}", EventResponse, options)
