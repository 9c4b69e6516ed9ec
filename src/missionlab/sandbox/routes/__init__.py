"""The endpoints of the Missions API (:func:`api_operations` lists them), served from a
:class:`Store`.

Handlers are closures over the store and simulator they are given, so that an
app holds no global state. Answers are encoded once and sent as they are; the
response models only document them. The lists answer their big pages in FastAPI's
thread pool, so that a long page does not hold up the event loop, one page at a time
(see ``Store.page_turn``). The other handlers are quick and stay on the loop, which
also keeps writes in one thread.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.routing import APIRoute

from ..store import Store
from ._common import RunStarter
from .agents import add_agent_routes
from .events import add_event_routes
from .missions import add_mission_routes
from .objects import add_object_routes
from .plan import add_plan_routes
from .runs import add_run_routes

__all__ = ["RunStarter", "api_operations", "build_router"]


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


class _NoSimulator:
    def start(self, mission: dict[str, Any], run: dict[str, Any]) -> None:
        pass


def api_operations() -> list[str]:
    """Every operation the routes define, as ``"GET /ai/missions/{mission_id}"`` labels, in order."""
    router = build_router(Store(), _NoSimulator())
    return [
        f"{method} {route.path}"
        for route in router.routes
        if isinstance(route, APIRoute)
        for method in sorted(route.methods or ())
    ]
