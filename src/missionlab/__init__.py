"""missionlab: a Jupyter toolkit for the Telnyx AI Missions API.

``import missionlab`` is fast: pandas, plotly, ipywidgets and the sandbox's
FastAPI are imported only when something that needs them is first used.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from ._client import AsyncClient, Client
from ._exceptions import (
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
    UnprocessableEntityError,
)
from ._pagination import AsyncPage, SyncPage
from ._version import __version__
from .models import Event, Mission, PlanStep, Run, TelnyxAgent
from .recorder import RecorderError, RunRecorder
from .types import EventType, ExecutionMode, RunStatus, StepStatus

if TYPE_CHECKING:
    from ._connect import connect
    from .diagnosis import diagnose
    from .frames import to_frame
    from .timeline import gantt
    from .trace import RunTrace, load_run
    from .widgets import browse


# Names whose modules pull in heavy dependencies, imported on first use.
_LAZY = {
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
    "UnprocessableEntityError",
    "__version__",
    "browse",
    "connect",
    "diagnose",
    "gantt",
    "load_run",
    "to_frame",
]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'missionlab' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
