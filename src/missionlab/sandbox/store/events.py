"""A run's events, and the recent events of every run."""

from __future__ import annotations

from typing import Any

from ..errors import Conflict, NotFound
from ._db import EVENT_COLUMNS, EVENT_FIELDS, OF_RUN, _row
from ._paging import ListQuery, Page
from .runs import RunStore

# What a request to log an event may carry besides its idempotency_key (timestamp: the
# simulator's own events), compared when a key is reused.
_BODY_FIELDS = ("type", "summary", "step_id", "agent_id", "payload")


def _check_same_body(original: dict[str, Any], fields: dict[str, Any]) -> None:
    """Refuse a reused idempotency key whose body differs from the original's, as Stripe does."""
    differing = [name for name in _BODY_FIELDS if original.get(name) != fields.get(name)]
    if fields.get("timestamp") is not None and fields["timestamp"] != original.get("timestamp"):
        differing.append("timestamp")
    if differing:
        raise Conflict(
            f"idempotency_key {fields['idempotency_key']!r} was used for event {original['event_id']} "
            f"with a different {', '.join(differing)}: use a new key for a different event"
        )


class EventStore(RunStore):
    """Logging and reading events."""

    def log_event(self, mission_id: str, run_id: str, fields: dict[str, Any]) -> tuple[dict[str, Any], bool]:
        """Store an event; (event, created). A repeated idempotency_key returns the original
        event when the rest of the body is the same, and is a ``Conflict`` when it is not."""
        with self.transaction() as db:
            self.get_run(mission_id, run_id)
            key = fields.get("idempotency_key")
            if key is not None:
                row = db.execute(
                    f"SELECT {', '.join(EVENT_COLUMNS)} FROM events WHERE {OF_RUN} AND idempotency_key=?",
                    (run_id, key),
                ).fetchone()
                if row is not None:
                    original = _row(EVENT_FIELDS, row)
                    _check_same_body(original, fields)
                    return original, False
            event = self._insert_event(db, mission_id, {**fields, "run_id": run_id})
            db.execute("UPDATE runs SET updated_at=? WHERE run_id=?", (event["timestamp"], run_id))
        return event, True

    def get_event(self, mission_id: str, run_id: str, event_id: str) -> dict[str, Any]:
        self.get_run(mission_id, run_id)
        row = self._one(
            f"SELECT {', '.join(EVENT_COLUMNS)} FROM events WHERE {OF_RUN} AND event_id=?", (run_id, event_id)
        )
        if row is None:
            raise NotFound(f"Event {event_id!r} not found in run {run_id}")
        return _row(EVENT_FIELDS, row)

    def list_events(
        self,
        filters: dict[str, str],
        number: int,
        size: int,
        *,
        mission_id: str | None = None,
        run_id: str | None = None,
    ) -> Page:
        """A run's events oldest first, or (no run) everybody's newest first."""
        clauses, args = [], []
        if run_id is not None and mission_id is not None:
            self.get_run(mission_id, run_id)
            clauses.append(OF_RUN)
            args.append(run_id)
        for name in ("type", "step_id", "agent_id"):
            if filters.get(name) is not None:
                clauses.append(f"{name}=?")
                args.append(filters[name])
        where = " AND ".join(clauses)
        descending = not run_id
        query = ListQuery("events", EVENT_FIELDS, where, tuple(args), "timestamp", descending, EVENT_COLUMNS)
        return self._page(query, number, size)
