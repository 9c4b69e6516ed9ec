"""missionlab: a Jupyter toolkit for the Telnyx AI Missions API.

``import missionlab`` is fast: the client (httpx, pydantic), pandas, plotly,
ipywidgets and the sandbox's FastAPI are imported only when something that needs
them is first used.
"""

from __future__ import annotations

import importlib
import sys
import types
from typing import TYPE_CHECKING, Any


def _defer_httpx_cli() -> None:
    """Keep ``import httpx`` from importing its command line's rich, click and pygments.

    httpx's ``__init__`` imports ``httpx._main`` (its CLI) eagerly, which costs ~40 ms
    when those packages are installed, as they are next to Jupyter. This puts a
    stand-in for that module whose ``main`` loads the real one when called.
    """
    if "httpx" in sys.modules or "httpx._main" in sys.modules:
        return
    stand_in = types.ModuleType("httpx._main", "Stand-in for httpx's CLI, loaded when called.")

    def main(*args: Any, **kwargs: Any) -> Any:
        del sys.modules["httpx._main"]
        return importlib.import_module("httpx._main").main(*args, **kwargs)

    stand_in.main = main  # type: ignore[attr-defined]
    sys.modules["httpx._main"] = stand_in


_defer_httpx_cli()

from ._display import register_frame_converter  # noqa: E402
from ._exceptions import (  # noqa: E402
    APIConnectionError,
    APIError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    ConflictError,
    InternalServerError,
    InvalidArgumentError,
    MissingAPIKeyError,
    MissionlabError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    UnknownValueWarning,
    UnprocessableEntityError,
)
from .types import EventType, ExecutionMode, RunStatus, StepStatus  # noqa: E402

if TYPE_CHECKING:
    from ._async_client import AsyncClient
    from ._client import Client
    from ._connect import connect
    from ._pagination import AsyncPage, SyncPage
    from .diagnosis import diagnose
    from .frames import to_frame
    from .models import Event, Mission, PlanStep, Run, TelnyxAgent
    from .recorder import RecorderError, RunRecorder
    from .timeline import gantt
    from .trace import RunTrace, load_run
    from .widgets import browse

__version__ = "0.1.0"

# Names whose modules pull in dependencies (httpx, pydantic, pandas, ...), imported on first use.
_LAZY = {
    "AsyncClient": "missionlab._async_client",
    "AsyncPage": "missionlab._pagination",
    "Client": "missionlab._client",
    "Event": "missionlab.models",
    "Mission": "missionlab.models",
    "PlanStep": "missionlab.models",
    "RecorderError": "missionlab.recorder",
    "Run": "missionlab.models",
    "RunRecorder": "missionlab.recorder",
    "SyncPage": "missionlab._pagination",
    "TelnyxAgent": "missionlab.models",
    "browse": "missionlab.widgets",
    "connect": "missionlab._connect",
    "diagnose": "missionlab.diagnosis",
    "gantt": "missionlab.timeline",
    "load_run": "missionlab.trace",
    "RunTrace": "missionlab.trace",
    "to_frame": "missionlab.frames",
}

__all__ = [
    "APIConnectionError",
    "APIError",
    "APIStatusError",
    "APITimeoutError",
    "AsyncClient",
    "AsyncPage",
    "AuthenticationError",
    "BadRequestError",
    "Client",
    "ConflictError",
    "Event",
    "EventType",
    "ExecutionMode",
    "InternalServerError",
    "InvalidArgumentError",
    "MissingAPIKeyError",
    "Mission",
    "MissionlabError",
    "NotFoundError",
    "PermissionDeniedError",
    "PlanStep",
    "RateLimitError",
    "RecorderError",
    "Run",
    "RunRecorder",
    "RunStatus",
    "RunTrace",
    "StepStatus",
    "SyncPage",
    "TelnyxAgent",
    "UnknownValueWarning",
    "UnprocessableEntityError",
    "__version__",
    "browse",
    "connect",
    "diagnose",
    "gantt",
    "load_run",
    "to_frame",
]


def _to_frame(value: Any, **kwargs: Any) -> Any:
    """``page.to_frame()`` and ``model.to_frame()``: pandas is imported on first use."""
    from .frames import to_frame

    return to_frame(value, **kwargs)


register_frame_converter(_to_frame)


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'missionlab' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
