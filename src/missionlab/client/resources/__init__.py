"""The API's resource tree, written once for both clients.

Each method checks its arguments, describes its request as a ``Call`` (``client/_call.py``), and
hands it to the client. Names and signatures follow the official ``telnyx`` SDK,
so ``client.ai.missions.runs.plan.retrieve(run_id, mission_id=...)`` works here
too. These modules are the sync client's; ``_async/`` holds the async client's,
generated from them by ``tools/unasync.py`` (edit these, then run it).
"""

from .._call import RequestOptions
from . import _async
from ._async import *  # noqa: F403  (the async twins: tools/unasync.py writes them and their __all__)
from .events import Events
from .knowledge_bases import KnowledgeBases
from .mcp_servers import McpServers
from .missions import Missions
from .plan import Plan
from .runs import Runs
from .telnyx_agents import TelnyxAgents
from .tools import Tools

__all__ = [
    *_async.__all__,
    "Events",
    "KnowledgeBases",
    "McpServers",
    "Missions",
    "Plan",
    "RequestOptions",
    "Runs",
    "TelnyxAgents",
    "Tools",
]
