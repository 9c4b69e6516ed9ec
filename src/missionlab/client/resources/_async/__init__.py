"""The async client's resources, generated from ``missionlab.client.resources`` by tools/unasync.py.

Every method that sends a request is ``async``; the rest is the sync tree's.
"""

from .events import AsyncEvents
from .knowledge_bases import AsyncKnowledgeBases
from .mcp_servers import AsyncMcpServers
from .missions import AsyncMissions
from .plan import AsyncPlan
from .runs import AsyncRuns
from .telnyx_agents import AsyncTelnyxAgents
from .tools import AsyncTools

__all__ = [
    "AsyncEvents",
    "AsyncKnowledgeBases",
    "AsyncMcpServers",
    "AsyncMissions",
    "AsyncPlan",
    "AsyncRuns",
    "AsyncTelnyxAgents",
    "AsyncTools",
]
