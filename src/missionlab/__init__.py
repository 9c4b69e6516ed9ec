"""missionlab: a Jupyter toolkit for the Telnyx AI Missions API.

``import missionlab`` is fast: pandas, plotly, ipywidgets and the sandbox's
FastAPI are imported only when something that needs them is first used.
"""

# Only the names in __all__ are public here: helpers are imported under private names, and the
# submodules bound by the imports below are removed again at the end (``missionlab.models`` and
# friends still resolve, through __getattr__). tests/test_public_api.py checks vars(missionlab).
import typing as _typing
from importlib import import_module as _import_module
from types import ModuleType as _ModuleType

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

if _typing.TYPE_CHECKING:
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


def __getattr__(name: str) -> _typing.Any:
    if name in _LAZY:
        value = getattr(_import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    if not name.startswith("_"):
        try:
            return _import_module(f"{__name__}.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"{__name__}.{name}":
                raise
    raise AttributeError(f"module 'missionlab' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)


def _unbind_submodules() -> None:
    """Remove the public submodules that the imports above bound here (they stay importable)."""
    namespace = globals()
    for name, value in list(namespace.items()):
        if isinstance(value, _ModuleType) and value.__name__ == f"{__name__}.{name}" and name[0] != "_":
            del namespace[name]


_unbind_submodules()
