"""One tree of errors: every exception class missionlab exports derives from MissionlabError,
appears in the tree drawn in ``missionlab.errors``' docstring under its real parent, and
survives a pickle round trip (multiprocessing and Dask pickle exceptions) with its message
and attributes."""

from __future__ import annotations

import importlib
import inspect
import pickle
import pkgutil
import re
import warnings
from collections.abc import Callable
from typing import Any

import httpx
import pytest

import missionlab
import missionlab.errors
from missionlab.client.errors import status_error


def exported_exception_classes() -> dict[str, type[BaseException]]:
    """Every exception class (warnings aside) that a module of missionlab defines or exports
    under a public name, by class name."""
    found: dict[str, type[BaseException]] = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        modules = [missionlab, *(importlib.import_module(m.name) for m in _walk())]
    for module in modules:
        for name in dir(module):
            value = getattr(module, name, None)
            if (
                not name.startswith("_")
                and inspect.isclass(value)
                and issubclass(value, BaseException)
                and not issubclass(value, Warning)
                and value.__module__.startswith("missionlab")
            ):
                assert found.setdefault(value.__name__, value) is value, f"two classes named {name}"
    return found


def _walk() -> list[pkgutil.ModuleInfo]:
    return list(pkgutil.walk_packages(missionlab.__path__, "missionlab."))


def _response(status: int, body: Any) -> httpx.Response:
    request = httpx.Request("POST", "https://api.telnyx.com/v2/ai/missions", headers={"Authorization": "x"})
    return httpx.Response(status, json=body, request=request)


def _status(status: int) -> Callable[[], BaseException]:
    body = {"errors": [{"detail": "busy", "source": {"pointer": "/name"}}]}
    return lambda: status_error(_response(status, body), "POST /ai/missions")


def _sandbox(name: str, *args: Any) -> Callable[[], BaseException]:
    return lambda: getattr(importlib.import_module("missionlab.sandbox.errors"), name)(*args)


# Each class built as the code builds it, with real arguments.
BUILT: dict[str, Callable[[], BaseException]] = {
    "MissionlabError": lambda: missionlab.MissionlabError("something failed"),
    "InvalidArgumentError": lambda: missionlab.InvalidArgumentError("page_size", "must be at most 1000"),
    "MissingAPIKeyError": lambda: missionlab.MissingAPIKeyError("no API key: set TELNYX_API_KEY"),
    "APIError": lambda: missionlab.APIError("the answer was not JSON", operation="GET /ai/missions"),
    "APIConnectionError": lambda: missionlab.APIConnectionError("refused", operation="GET /ai/missions"),
    "APITimeoutError": lambda: missionlab.APITimeoutError("timed out", operation="GET /ai/missions"),
    "IncompleteListError": lambda: missionlab.IncompleteListError(
        operation="GET /ai/missions/runs", expected=45, got=20
    ),
    "ResponseTooLargeError": lambda: missionlab.ResponseTooLargeError(
        operation="GET /ai/missions/runs", limit=1_048_576
    ),
    "APIStatusError": _status(418),
    "BadRequestError": _status(400),
    "AuthenticationError": _status(401),
    "PermissionDeniedError": _status(403),
    "NotFoundError": _status(404),
    "ConflictError": _status(409),
    "UnprocessableEntityError": _status(422),
    "RateLimitError": _status(429),
    "InternalServerError": _status(503),
    "RecorderError": lambda: missionlab.RecorderError("could not finish run 42: the server is down"),
    "CapsuleError": lambda: missionlab.errors.CapsuleError("not a run capsule (not JSON): unexpected end"),
    "CapsuleLoadError": lambda: importlib.import_module("missionlab.sandbox.capsules").CapsuleLoadError(
        "run.json: the capsule has no mission"
    ),
    "LabelMetadataError": lambda: importlib.import_module("missionlab._wire.labels").LabelMetadataError(
        "the run's metadata holds a str under 'missionlab', where missionlab keeps its labels"
    ),
    "JSONStreamError": lambda: importlib.import_module("missionlab._wire.json_stream").JSONStreamError(
        "Expecting ',' delimiter: line 3 column 5 (char 41)"
    ),
    "DatasetError": lambda: missionlab.DatasetError(
        "dataset index, run 1: `file` '../x.json' is not a plain name"
    ),
    "HistoryError": lambda: missionlab.HistoryError("the history at /tmp/h cannot be used"),
    "HistoryFormatError": lambda: missionlab.HistoryFormatError("/tmp/h holds the history of another server"),
    "HistorySyncConflictError": lambda: missionlab.HistorySyncConflictError(
        "another sync of /tmp/h took over while this one ran"
    ),
    "SchemaVersionError": lambda: importlib.import_module("missionlab.sandbox.store").SchemaVersionError(
        "The sandbox database x.db has schema version 9; this missionlab knows versions up to 2"
    ),
    "ExportError": lambda: importlib.import_module("missionlab.otel").ExportError(
        "could not send 512 spans to the OTLP endpoint http://127.0.0.1:6006/v1/traces"
    ),
    "SandboxError": _sandbox("SandboxError", "the store is closed"),
    "NotFound": _sandbox("NotFound", "Mission 42 not found"),
    "Conflict": _sandbox("Conflict", "Run is succeeded, cannot pause"),
    "Invalid": _sandbox("Invalid", ["body", "steps", 0, "parent_step_id"], "Unknown parent_step_id 'x'"),
}


def test_every_exported_error_derives_from_missionlab_error_and_has_a_case_here() -> None:
    found = exported_exception_classes()
    assert set(found) == set(BUILT), "add a case to BUILT for each new error class"
    assert not [name for name, cls in found.items() if not issubclass(cls, missionlab.MissionlabError)]


def test_errors_keep_the_builtin_classes_users_catch() -> None:
    found = exported_exception_classes()
    assert issubclass(found["InvalidArgumentError"], ValueError)
    assert issubclass(found["CapsuleError"], ValueError)
    assert issubclass(found["CapsuleLoadError"], found["CapsuleError"])
    assert issubclass(found["SchemaVersionError"], RuntimeError)


@pytest.mark.parametrize("name", sorted(BUILT))
def test_every_error_pickles_round_trip(name: str) -> None:
    error = BUILT[name]()
    assert type(error).__name__ == name
    error.add_note("while syncing the history")
    copy = pickle.loads(pickle.dumps(error))
    assert type(copy) is type(error)
    assert str(copy) == str(error) and copy.args == error.args
    assert copy.__notes__ == ["while syncing the history"]
    expected = dict(vars(error))
    if "response" in expected:  # a status error travels without its response (and its headers)
        assert isinstance(expected.pop("response"), httpx.Response)
        assert copy.response is None  # type: ignore[attr-defined]
        vars(copy).pop("response")
    assert vars(copy) == expected


def test_the_pickled_status_error_keeps_the_servers_reasons() -> None:
    error = pickle.loads(pickle.dumps(_status(409)()))
    assert isinstance(error, missionlab.ConflictError)
    assert (error.status_code, error.operation) == (409, "POST /ai/missions")
    assert error.reasons == ["name: busy"] and error.fields == ["name"]
    assert str(error) == "409 Conflict: POST /ai/missions failed\n  - name: busy"


def drawn_tree() -> dict[str, str | None]:
    """{class name: its parent's name} as drawn in missionlab.errors' docstring."""
    doc = missionlab.errors.__doc__ or ""
    drawing = doc.split("::", 1)[1].split("\n\n", 2)[1]
    parents: dict[str, str | None] = {}
    stack: list[str] = []
    for line in drawing.splitlines():
        match = re.match(r"^(\s*(?:[│ ]   |[├└]── )*)(\w+)", line)
        assert match, line
        depth = len(match.group(1)) // 4 - 1
        del stack[depth:]
        parents[match.group(2)] = stack[-1] if stack else None
        stack.append(match.group(2))
    return parents


def test_the_drawn_tree_is_the_real_one() -> None:
    found = exported_exception_classes()
    drawn = drawn_tree()
    assert set(drawn) == set(found)
    for name, cls in found.items():
        parent = next((base.__name__ for base in cls.__mro__[1:] if base.__name__ in found), None)
        assert drawn[name] == parent, name
