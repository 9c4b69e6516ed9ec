"""``client.missions.runs.telnyx_agents``: voice/messaging agents linked to a run."""

from __future__ import annotations

from typing import Unpack

from ...limits import MAX_ID_LENGTH
from .. import _validate as v
from .._call import RequestOptions
from ..models import TelnyxAgentListResponse, TelnyxAgentResponse
from ._args import run_path
from ._base import _Resource


class TelnyxAgents(_Resource):
    """``client.missions.runs.telnyx_agents``: voice/messaging agents linked to a run."""

    def list(
        self, run_id: str, *, mission_id: str, **options: Unpack[RequestOptions]
    ) -> TelnyxAgentListResponse:
        """Every agent linked to the run."""
        return self._get(
            run_path(mission_id, run_id, reading=True) + "/telnyx-agents",
            "GET .../runs/{run_id}/telnyx-agents",
            TelnyxAgentListResponse,
            options,
        )

    def link(
        self, run_id: str, *, mission_id: str, telnyx_agent_id: str, **options: Unpack[RequestOptions]
    ) -> TelnyxAgentResponse:
        """Link an agent to the run (linking a linked agent returns the existing link)."""
        body = {"telnyx_agent_id": v.id_arg("telnyx_agent_id", telnyx_agent_id, MAX_ID_LENGTH)}
        return self._write(
            "POST",
            run_path(mission_id, run_id) + "/telnyx-agents",
            "POST .../runs/{run_id}/telnyx-agents",
            TelnyxAgentResponse,
            options,
            body,
            idempotent=True,
        )

    def unlink(
        self, telnyx_agent_id: str, *, mission_id: str, run_id: str, **options: Unpack[RequestOptions]
    ) -> None:
        """Unlink an agent from the run."""
        agent = v.path_id("telnyx_agent_id", telnyx_agent_id, MAX_ID_LENGTH)
        return self._delete(
            f"{run_path(mission_id, run_id)}/telnyx-agents/{agent}",
            "DELETE .../telnyx-agents/{telnyx_agent_id}",
            options,
        )
