"""Runs, their status changes and transitions (pause, resume, cancel)."""

from __future__ import annotations

import sqlite3
import uuid
from typing import Any

from ..._wire.fields import RUN
from ...types import ACTIVE_RUN_STATUSES, TERMINAL_RUN_STATUSES, RunStatus, StepStatus
from ..errors import Conflict, NotFound
from ..rules import OPEN_STEP_STATUSES, run_status_changes, status_change_event
from ._db import JSON_FIELDS, _dump, _row, now
from ._paging import ListQuery, Page
from .missions import MissionStore

RUN_FIELDS = RUN.names


class RunStore(MissionStore):
    """A mission's runs."""

    def create_run(
        self, mission_id: str, fields: dict[str, Any], *, run_id: str | None = None, at: str | None = None
    ) -> dict[str, Any]:
        self.get_mission(mission_id, with_objects=False)
        at = at or now()
        run_id = run_id or str(uuid.uuid4())
        row = {
            "run_id": run_id,
            "mission_id": mission_id,
            "status": "pending",
            "started_at": at,
            "updated_at": at,
            "input": _dump(fields.get("input")),
            "metadata": _dump(fields.get("metadata")),
        }
        with self.transaction() as db:
            db.execute(
                f"INSERT INTO runs ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})",
                tuple(row.values()),
            )
        return self.get_run(mission_id, run_id)

    def get_run(self, mission_id: str, run_id: str) -> dict[str, Any]:
        row = self._one(
            f"SELECT {', '.join(RUN_FIELDS)} FROM runs WHERE run_id=? AND mission_id=?", (run_id, mission_id)
        )
        if row is None:
            self.get_mission(mission_id, with_objects=False)
            raise NotFound(f"Run {run_id} not found in mission {mission_id}")
        return _row(RUN_FIELDS, row)

    def run_status(self, run_id: str) -> str | None:
        row = self._one("SELECT status FROM runs WHERE run_id=?", (run_id,))
        return None if row is None else str(row[0])

    def list_runs(self, mission_id: str | None, status: str | None, number: int, size: int) -> Page:
        """A mission's runs (or everybody's), newest first."""
        clauses, args = [], []
        if mission_id is not None:
            self.get_mission(mission_id, with_objects=False)
            clauses.append("mission_id=?")
            args.append(mission_id)
        if status is not None:
            clauses.append("status=?")
            args.append(status)
        query = ListQuery(
            "runs", RUN_FIELDS, " AND ".join(clauses), tuple(args), "started_at", descending=True
        )
        return self._page(query, number, size)

    def update_run(
        self, mission_id: str, run_id: str, fields: dict[str, Any], *, at: str | None = None
    ) -> dict[str, Any]:
        """PATCH a run: any status, except from a finished run back to an active one."""
        at = at or now()
        with self.transaction() as db:
            run = self.get_run(mission_id, run_id)
            changes = {k: (_dump(v) if k in JSON_FIELDS else v) for k, v in fields.items()}
            new_status = fields.get("status")
            if new_status is not None and new_status != run["status"]:
                if run["status"] in TERMINAL_RUN_STATUSES and new_status in ACTIVE_RUN_STATUSES:
                    raise Conflict(f"Run is {run['status']}; a finished run cannot become {new_status}")
                self._status_changed(db, run, new_status, at, changes)
            changes["updated_at"] = at
            db.execute(
                f"UPDATE runs SET {', '.join(f'{k}=?' for k in changes)} WHERE run_id=?",
                (*changes.values(), run_id),
            )
        return self.get_run(mission_id, run_id)

    _TRANSITIONS = {  # action: (allowed from, to, phrase)
        "pause": ({RunStatus.RUNNING}, RunStatus.PAUSED, "only a running run can be paused"),
        "resume": ({RunStatus.PAUSED}, RunStatus.RUNNING, "only a paused run can be resumed"),
        "cancel": (
            ACTIVE_RUN_STATUSES,
            RunStatus.CANCELLED,
            "only a pending, running or paused run can be cancelled",
        ),
    }

    def transition(self, mission_id: str, run_id: str, action: str) -> dict[str, Any]:
        """pause, resume or cancel a run, or 409 naming its current status."""
        allowed, target, phrase = self._TRANSITIONS[action]
        at = now()
        with self.transaction() as db:
            run = self.get_run(mission_id, run_id)
            if run["status"] not in allowed:
                raise Conflict(f"Run is {run['status']}, cannot {action}: {phrase}")
            changes: dict[str, Any] = {"updated_at": at}
            self._status_changed(db, run, str(target), at, changes)
            if action == "cancel" and self._is_simulated(db, run_id):
                self._skip_open_steps(db, run_id, at)
            db.execute(
                f"UPDATE runs SET {', '.join(f'{k}=?' for k in changes)} WHERE run_id=?",
                (*changes.values(), run_id),
            )
        return self.get_run(mission_id, run_id)

    @staticmethod
    def _skip_open_steps(db: sqlite3.Connection, run_id: str, at: str) -> None:
        open_statuses = sorted(OPEN_STEP_STATUSES)
        db.execute(
            f"UPDATE steps SET status=?, completed_at=? WHERE run_id=? AND "
            f"status IN ({', '.join('?' * len(open_statuses))})",
            (str(StepStatus.SKIPPED), at, run_id, *open_statuses),
        )

    def skip_open_steps(self, run_id: str, at: str) -> None:
        """Mark every step not yet finished as skipped."""
        with self.transaction() as db:
            self._skip_open_steps(db, run_id, at)

    def _is_simulated(self, db: sqlite3.Connection, run_id: str) -> bool:
        return db.execute("SELECT 1 FROM simulations WHERE run_id=?", (run_id,)).fetchone() is not None

    def _status_changed(
        self, db: sqlite3.Connection, run: dict[str, Any], status: str, at: str, changes: dict[str, Any]
    ) -> None:
        """Record a status change: the new status, finished_at, and a status_change event."""
        changes.update(run_status_changes(run, status, at))
        self._insert_event(
            db, run["mission_id"], status_change_event(run["run_id"], run["status"], status, at)
        )
