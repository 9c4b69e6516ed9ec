"""``client.missions.runs.telnyx_agents``: voice/messaging agents linked to a run."""

from __future__ import annotations

from typing import Any

from .. import _validate as v
from ..models import TelnyxAgentListResponse, TelnyxAgentResponse
from ._base import _Resource, _run_path


class TelnyxAgents(_Resource):
    """``client.missions.runs.telnyx_agents``: voice/messaging agents linked to a run."""

    def list(self, run_id: str, *, mission_id: str, **options: Any) -> TelnyxAgentListResponse:
        """Every agent linked to the run."""
        return self._get(
            _run_path(mission_id, run_id) + "/telnyx-agents",
            "GET .../runs/{run_id}/telnyx-agents",
            TelnyxAgentListResponse,
            options,
        )

    def link(
        self, run_id: str, *, mission_id: str, telnyx_agent_id: str, **options: Any
    ) -> TelnyxAgentResponse:
        """Link an agent to the run (linking a linked agent returns the existing link)."""
        body = {"telnyx_agent_id": v.id_arg("telnyx_agent_id", telnyx_agent_id)}
        return self._write(
            "POST",
            _run_path(mission_id, run_id) + "/telnyx-agents",
            "POST .../runs/{run_id}/telnyx-agents",
            TelnyxAgentResponse,
            options,
            body,
            idempotent=True,
        )

    def unlink(self, telnyx_agent_id: str, *, mission_id: str, run_id: str, **options: Any) -> None:
        """Unlink an agent from the run."""
        path = f"{_run_path(mission_id, run_id)}/telnyx-agents/{v.id_arg('telnyx_agent_id', telnyx_agent_id)}"
        return self._delete(path, "DELETE .../telnyx-agents/{telnyx_agent_id}", options)
