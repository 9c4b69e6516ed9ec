"""``client.missions.runs.events``: what happened during a run."""

from __future__ import annotations

import uuid
from typing import Any, Unpack

from ...limits import MAX_ID_LENGTH, MAX_IDEMPOTENCY_KEY_LENGTH
from ...types import EventType
from .. import _validate as v
from .._call import RequestOptions
from .._pagination import SyncPage
from ..models import Event, EventResponse
from ._args import run_path
from ._base import _Resource


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
        **options: Unpack[RequestOptions],
    ) -> SyncPage[Event]:
        """A page of a run's events, oldest first, optionally filtered (``type``: any event type)."""
        filters = v.body(
            type=v.filter_arg("type", type),
            step_id=v.filter_arg("step_id", step_id, MAX_ID_LENGTH),
            agent_id=v.filter_arg("agent_id", agent_id),
        )
        return self._list(
            run_path(mission_id, run_id, reading=True) + "/events",
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
        **options: Unpack[RequestOptions],
    ) -> EventResponse:
        """Log an event. An ``idempotency_key`` is generated when none is given, so that
        a retried request can never store the event twice."""
        if type is None:
            raise v.InvalidArgumentError("type", "is required")
        key = v.text_arg("idempotency_key", idempotency_key, max_length=MAX_IDEMPOTENCY_KEY_LENGTH)
        body = v.body(
            type=v.enum_arg("type", type, EventType),
            summary=v.text_arg("summary", summary, required=True),
            step_id=None if step_id is None else v.id_arg("step_id", step_id, MAX_ID_LENGTH),
            agent_id=v.text_arg("agent_id", agent_id, required=agent_id is not None),
            payload=v.object_arg("payload", payload),
            idempotency_key=key or uuid.uuid4().hex,
        )
        return self._write(
            "POST",
            run_path(mission_id, run_id) + "/events",
            "POST .../runs/{run_id}/events",
            EventResponse,
            options,
            body,
            idempotent=True,
        )

    def get_event_details(
        self, event_id: str, *, mission_id: str, run_id: str, **options: Unpack[RequestOptions]
    ) -> EventResponse:
        """One event."""
        path = f"{run_path(mission_id, run_id, reading=True)}/events/{v.path_id('event_id', event_id)}"
        return self._get(path, "GET .../events/{event_id}", EventResponse, options)
