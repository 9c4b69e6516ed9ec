"""A run's plan: its steps."""

from __future__ import annotations

from typing import Any

from ..._wire.fields import PLAN_STEP
from ..errors import Conflict, Invalid, NotFound
from ..rules import step_status_changes
from ._db import JSON_FIELDS, _dump, _row, now
from ._encode import answer_json, row_items
from .runs import RunStore

STEP_FIELDS = PLAN_STEP.names


class PlanStore(RunStore):
    """A run's plan steps."""

    def get_plan(self, mission_id: str, run_id: str) -> list[dict[str, Any]]:
        return [_row(STEP_FIELDS, r) for r in self._plan_rows(mission_id, run_id)]

    def plan_json(self, mission_id: str, run_id: str) -> bytes:
        """The answer to GET .../plan, ``{"data": [steps]}``, encoded straight from the rows."""
        return answer_json({"data": row_items(STEP_FIELDS, self._plan_rows(mission_id, run_id), JSON_FIELDS)})

    def _plan_rows(self, mission_id: str, run_id: str) -> list[tuple[Any, ...]]:
        """The steps in order of sequence, then of creation."""
        self.get_run(mission_id, run_id)
        return self._all(
            f"SELECT {', '.join(STEP_FIELDS)} FROM steps WHERE run_id=? ORDER BY sequence, rowid", (run_id,)
        )

    def add_steps(
        self, mission_id: str, run_id: str, steps: list[dict[str, Any]], *, initial: bool
    ) -> list[dict[str, Any]]:
        """Create the initial plan (409 if one exists) or add steps to it."""
        with self.transaction() as db:
            self.get_run(mission_id, run_id)
            existing = {r[0] for r in db.execute("SELECT step_id FROM steps WHERE run_id=?", (run_id,))}
            if initial and existing:
                raise Conflict(f"Run {run_id} already has a plan; add steps with POST .../plan/steps")
            new_ids: set[str] = set()
            for step in steps:
                if step["step_id"] in existing or step["step_id"] in new_ids:
                    raise Conflict(f"Step {step['step_id']!r} already exists in run {run_id}")
                new_ids.add(step["step_id"])
            for index, step in enumerate(steps):
                parent = step.get("parent_step_id")
                if parent is not None and parent not in existing and parent not in new_ids:
                    raise Invalid(
                        ["body", "steps", index, "parent_step_id"],
                        f"Unknown parent_step_id {parent!r}: no such step in this run",
                    )
            db.executemany(
                "INSERT INTO steps (run_id, step_id, sequence, description, status, "
                "parent_step_id, metadata) VALUES (?, ?, ?, ?, 'pending', ?, ?)",
                [
                    (
                        run_id,
                        s["step_id"],
                        s["sequence"],
                        s["description"],
                        s.get("parent_step_id"),
                        _dump(s.get("metadata")),
                    )
                    for s in steps
                ],
            )
        order = {s["step_id"]: i for i, s in enumerate(steps)}
        created = [s for s in self.get_plan(mission_id, run_id) if s["step_id"] in order]
        return created

    def get_step(self, mission_id: str, run_id: str, step_id: str) -> dict[str, Any]:
        self.get_run(mission_id, run_id)
        row = self._one(
            f"SELECT {', '.join(STEP_FIELDS)} FROM steps WHERE run_id=? AND step_id=?", (run_id, step_id)
        )
        if row is None:
            raise NotFound(f"Step {step_id!r} not found in run {run_id}")
        return _row(STEP_FIELDS, row)

    def update_step(
        self, mission_id: str, run_id: str, step_id: str, fields: dict[str, Any], *, at: str | None = None
    ) -> dict[str, Any]:
        """Change a step's status (timestamps as ``rules.step_status_changes`` says) or metadata."""
        at = at or now()
        with self.transaction() as db:
            step = self.get_step(mission_id, run_id, step_id)
            changes: dict[str, Any] = {}
            if "metadata" in fields:
                changes["metadata"] = _dump(fields["metadata"])
            if fields.get("status") is not None:
                changes.update(step_status_changes(step, fields["status"], at))
            if changes:
                db.execute(
                    f"UPDATE steps SET {', '.join(f'{k}=?' for k in changes)} WHERE run_id=? AND step_id=?",
                    (*changes.values(), run_id, step_id),
                )
                db.execute("UPDATE runs SET updated_at=? WHERE run_id=?", (at, run_id))
        return self.get_step(mission_id, run_id, step_id)
