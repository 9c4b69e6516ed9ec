"""The 41 endpoints of the Missions API, served from a :class:`Store`.

Handlers are closures over the store and simulator they are given, so that an
app holds no global state. Answers are encoded once with ``json`` and sent as
they are; the response models only document them.
"""

from __future__ import annotations

from fastapi import APIRouter

from ..store import Store
from ._common import RunStarter
from .agents import add_agent_routes
from .events import add_event_routes
from .missions import add_mission_routes
from .objects import add_object_routes
from .plan import add_plan_routes
from .runs import add_run_routes

__all__ = ["RunStarter", "build_router"]


def build_router(store: Store, simulator: RunStarter) -> APIRouter:
    """The API's routes over ``store``; managed runs are handed to ``simulator``."""
    api = APIRouter(prefix="/ai/missions")
    add_mission_routes(api, store)
    add_run_routes(api, store, simulator)
    add_event_routes(api, store)
    add_plan_routes(api, store)
    add_agent_routes(api, store)
    add_object_routes(api, store)
    return api
