"""A run's events, and the recent events of every run."""

from __future__ import annotations

from typing import Any

from ..errors import NotFound
from ._db import EVENT_FIELDS, _row
from ._paging import ListQuery, Page
from .runs import RunStore


class EventStore(RunStore):
    """Logging and reading events."""

    def log_event(self, mission_id: str, run_id: str, fields: dict[str, Any]) -> tuple[dict[str, Any], bool]:
        """Store an event; (event, created). A repeated idempotency_key returns the original."""
        with self.transaction() as db:
            self.get_run(mission_id, run_id)
            key = fields.get("idempotency_key")
            if key is not None:
                row = db.execute(
                    f"SELECT {', '.join(EVENT_FIELDS)} FROM events WHERE run_id=? AND idempotency_key=?",
                    (run_id, key),
                ).fetchone()
                if row is not None:
                    return _row(EVENT_FIELDS, row), False
            event = self._insert_event(db, mission_id, {**fields, "run_id": run_id})
            db.execute("UPDATE runs SET updated_at=? WHERE run_id=?", (event["timestamp"], run_id))
        return event, True

    def get_event(self, mission_id: str, run_id: str, event_id: str) -> dict[str, Any]:
        self.get_run(mission_id, run_id)
        row = self._one(
            f"SELECT {', '.join(EVENT_FIELDS)} FROM events WHERE run_id=? AND event_id=?", (run_id, event_id)
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
            clauses.append("run_id=?")
            args.append(run_id)
        for name in ("type", "step_id", "agent_id"):
            if filters.get(name) is not None:
                clauses.append(f"{name}=?")
                args.append(filters[name])
        where = " AND ".join(clauses)
        query = ListQuery("events", EVENT_FIELDS, where, tuple(args), "timestamp", descending=not run_id)
        return self._page(query, number, size)
