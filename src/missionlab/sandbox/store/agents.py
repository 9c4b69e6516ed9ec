"""Telnyx agents linked to a run."""

from __future__ import annotations

from typing import Any

from ..._wire.fields import TELNYX_AGENT
from ..errors import NotFound
from ._db import _row, now
from .runs import RunStore

AGENT_FIELDS = TELNYX_AGENT.names


class AgentStore(RunStore):
    """Linking and unlinking agents."""

    def list_agents(self, mission_id: str, run_id: str) -> list[dict[str, Any]]:
        self.get_run(mission_id, run_id)
        rows = self._all(
            f"SELECT {', '.join(AGENT_FIELDS)} FROM agents WHERE run_id=? ORDER BY created_at, rowid",
            (run_id,),
        )
        return [_row(AGENT_FIELDS, r) for r in rows]

    def link_agent(
        self, mission_id: str, run_id: str, agent_id: str, *, at: str | None = None
    ) -> tuple[dict[str, Any], bool]:
        """Link an agent; (link, created). Linking a linked agent returns the existing link."""
        with self.transaction() as db:
            self.get_run(mission_id, run_id)
            created = (
                db.execute(
                    "INSERT OR IGNORE INTO agents (run_id, telnyx_agent_id, created_at) VALUES (?, ?, ?)",
                    (run_id, agent_id, at or now()),
                ).rowcount
                == 1
            )
        row = self._one(
            f"SELECT {', '.join(AGENT_FIELDS)} FROM agents WHERE run_id=? AND telnyx_agent_id=?",
            (run_id, agent_id),
        )
        assert row is not None
        return _row(AGENT_FIELDS, row), created

    def unlink_agent(self, mission_id: str, run_id: str, agent_id: str) -> None:
        with self.transaction() as db:
            self.get_run(mission_id, run_id)
            if (
                db.execute(
                    "DELETE FROM agents WHERE run_id=? AND telnyx_agent_id=?", (run_id, agent_id)
                ).rowcount
                == 0
            ):
                raise NotFound(f"Agent {agent_id!r} is not linked to run {run_id}")
