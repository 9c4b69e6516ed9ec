"""missionlab: a Jupyter toolkit for the Telnyx AI Missions API.

``import missionlab`` is fast: the client (httpx, pydantic), pandas, plotly,
ipywidgets and the sandbox's FastAPI are imported only when something that needs
them is first used.
"""

# Only the names in __all__ are public here: helpers are imported under private names, and the
# submodules bound by the imports below are removed again at the end (``missionlab.client.models`` and
# friends still resolve, through __getattr__). tests/test_public_api.py checks vars(missionlab).
import typing as _typing
from importlib import import_module as _import_module
from types import ModuleType as _ModuleType

from ._moved import install as _install_moved_paths

_install_moved_paths()

from ._version import __version__  # noqa: E402
from .client._display import register_frame_converter as _register_frame_converter  # noqa: E402
from .errors import (  # noqa: E402
    APIConnectionError,
    APIError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    ConflictError,
    IncompleteListError,
    InternalServerError,
    InvalidArgumentError,
    MissingAPIKeyError,
    MissionlabError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    ResponseTooLargeError,
    UnknownValueWarning,
    UnprocessableEntityError,
)
from .types import EventType, ExecutionMode, RunStatus, StepStatus  # noqa: E402

if _typing.TYPE_CHECKING:
    from ._connect import connect
    from ._history import (
        History,
        HistoryError,
        HistoryFormatError,
        HistorySyncConflictError,
        RepairReport,
        SyncReport,
        history,
    )
    from .analysis.diagnosis import diagnose
    from .client._async_client import AsyncClient
    from .client._client import Client
    from .client._items import ItemList
    from .client._pagination import AsyncPage, SyncPage
    from .client.models import Event, Mission, PlanStep, Run, TelnyxAgent
    from .client.recorder import RecorderError, RunRecorder
    from .datasets import Dataset, DatasetError, dataset, open_dataset
    from .figures.grid import grid
    from .figures.timeline import gantt
    from .frames import to_frame
    from .frames._fetch import FetchedFrames, fetch_frames
    from .trace import RunTrace, load_run, open_run
    from .widgets import browse


# Names whose modules pull in dependencies (httpx, pydantic, pandas, ...), imported on first use.
_LAZY = {
    "AsyncClient": "missionlab.client._async_client",
    "AsyncPage": "missionlab.client._pagination",
    "Client": "missionlab.client._client",
    "Event": "missionlab.client.models",
    "Mission": "missionlab.client.models",
    "PlanStep": "missionlab.client.models",
    "RecorderError": "missionlab.client.recorder",
    "RecorderWarning": "missionlab.client.recorder",
    "Run": "missionlab.client.models",
    "RunRecorder": "missionlab.client.recorder",
    "SyncPage": "missionlab.client._pagination",
    "TelnyxAgent": "missionlab.client.models",
    "browse": "missionlab.widgets",
    "connect": "missionlab._connect",
    "Dataset": "missionlab.datasets",
    "DatasetError": "missionlab.datasets",
    "dataset": "missionlab.datasets",
    "open_dataset": "missionlab.datasets",
    "diagnose": "missionlab.analysis.diagnosis",
    "failures": "missionlab.analysis.failures",
    "Failures": "missionlab.analysis.failures",
    "FetchedFrames": "missionlab.frames._fetch",
    "fetch_frames": "missionlab.frames._fetch",
    "gantt": "missionlab.figures.timeline",
    "grid": "missionlab.figures.grid",
    "history": "missionlab._history",
    "History": "missionlab._history",
    "HistoryError": "missionlab._history",
    "HistoryFormatError": "missionlab._history",
    "HistorySyncConflictError": "missionlab._history",
    "RepairReport": "missionlab._history",
    "SyncReport": "missionlab._history",
    "ItemList": "missionlab.client._items",
    "load_run": "missionlab.trace",
    "open_run": "missionlab.trace",
    "RunTrace": "missionlab.trace",
    "to_frame": "missionlab.frames",
    "tool_stats": "missionlab.analysis.tool_stats",
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
    "Dataset",
    "DatasetError",
    "Event",
    "EventType",
    "ExecutionMode",
    "Failures",
    "FetchedFrames",
    "History",
    "HistoryError",
    "HistoryFormatError",
    "HistorySyncConflictError",
    "IncompleteListError",
    "InternalServerError",
    "InvalidArgumentError",
    "ItemList",
    "MissingAPIKeyError",
    "Mission",
    "MissionlabError",
    "NotFoundError",
    "PermissionDeniedError",
    "PlanStep",
    "RateLimitError",
    "RecorderError",
    "RecorderWarning",
    "RepairReport",
    "ResponseTooLargeError",
    "Run",
    "RunRecorder",
    "RunStatus",
    "RunTrace",
    "StepStatus",
    "SyncPage",
    "SyncReport",
    "TelnyxAgent",
    "UnknownValueWarning",
    "UnprocessableEntityError",
    "__version__",
    "browse",
    "connect",
    "dataset",
    "diagnose",
    "failures",
    "fetch_frames",
    "gantt",
    "grid",
    "history",
    "load_run",
    "open_dataset",
    "open_run",
    "to_frame",
    "tool_stats",
]


def _to_frame(value: _typing.Any, **kwargs: _typing.Any) -> _typing.Any:
    """``page.to_frame()`` and ``model.to_frame()``: pandas is imported on first use."""
    return _import_module("missionlab.frames").to_frame(value, **kwargs)


_register_frame_converter(_to_frame)


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
