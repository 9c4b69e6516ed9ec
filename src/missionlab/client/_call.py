"""A request described as data, shared by the sync and async clients.

Resources build :class:`Call` objects (path, query, body, how to parse the
answer); the clients only send them. That keeps paths, argument checks and
parsing in one place for both clients.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, TypedDict, TypeVar, cast

import httpx
from pydantic import BaseModel

from ..errors import InvalidArgumentError
from ..limits import MAX_BODY_BYTES, MAX_NESTING_DEPTH
from . import _json
from ._validate import check_string, json_arg

T = TypeVar("T")
M = TypeVar("M", bound=BaseModel)


class RequestOptions(TypedDict, total=False):
    """Per-call options accepted by every method, as in the official SDK.

    ``deadline`` (seconds) bounds the whole call: every attempt, the waits between
    retries and the reading of slow answers; past it the call raises
    :class:`~missionlab.APITimeoutError`. ``timeout`` bounds each attempt's
    connect/read/write/pool steps, as in httpx.
    """

    timeout: float | httpx.Timeout | None
    deadline: float | None
    extra_headers: dict[str, str] | None
    extra_query: dict[str, Any] | None
    extra_body: dict[str, Any] | None


_OPTION_NAMES = frozenset(RequestOptions.__annotations__)


def header_problem(value: str) -> str | None:
    """Why ``value`` cannot be an HTTP header value, without quoting it (it may be a secret)."""
    if value != value.strip():
        return "starts or ends with whitespace"
    for index, char in enumerate(value):
        if not (" " <= char <= "~" or char == "\t"):
            return f"contains a character not allowed in an HTTP header (U+{ord(char):04X} at index {index})"
    return None


def check_options(options: Mapping[str, object]) -> RequestOptions:
    """Reject unknown or malformed per-call options by name instead of sending them."""
    for name, value in options.items():
        value = cast(Any, value)
        if name not in _OPTION_NAMES:
            raise InvalidArgumentError(name, "unexpected keyword argument")
        if value is None:
            continue
        if name in ("extra_headers", "extra_query", "extra_body") and not isinstance(value, dict):
            raise InvalidArgumentError(name, f"expected a dict, got {type(value).__name__}")
        if name == "extra_headers":
            for key, header in value.items():
                problem = header_problem(header) if isinstance(header, str) else "is not a string"
                if problem:
                    raise InvalidArgumentError(name, f"the value of {key!r} {problem}")
        elif name == "extra_query":
            for key, item in value.items():
                check_string(name, str(key), where="a key")
                if isinstance(item, str):
                    check_string(name, item, where=str(key))
        elif name == "extra_body":
            json_arg(name, value, MAX_NESTING_DEPTH + 1)
        elif name == "deadline" or (name == "timeout" and not isinstance(value, httpx.Timeout)):
            check_seconds(name, value)
    return cast(RequestOptions, options)


def check_seconds(name: str, value: Any) -> float:
    """A positive, finite number of seconds."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value < float("inf"):
        raise InvalidArgumentError(name, f"expected a positive number of seconds, got {value!r:.60}")
    return float(value)


@dataclass(frozen=True)
class Call(Generic[T]):
    """One API request, ready to send, and how to turn its answer into ``T``."""

    method: str
    path: str
    operation: str  # e.g. "GET /ai/missions/{mission_id}", for messages and logs
    parse: Callable[[httpx.Response], T]
    query: dict[str, Any] = field(default_factory=dict)
    json: Any = None  # None: the request has no body
    idempotent: bool = True
    options: RequestOptions = field(default_factory=lambda: RequestOptions())

    def request_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for ``httpx.Client.build_request`` (without the timeout)."""
        query = {**self.query, **(self.options.get("extra_query") or {})}
        body = self.json
        extra_body = self.options.get("extra_body")
        if extra_body:
            body = {**(body or {}), **extra_body}
        headers = dict(self.options.get("extra_headers") or {})
        kwargs: dict[str, Any] = {"params": query or None}
        if body is not None:
            content = _json.dumps(body)
            if len(content) > MAX_BODY_BYTES:
                raise _too_large(body, len(content), set(extra_body or ()))
            kwargs["content"] = content
            headers.setdefault("Content-Type", "application/json")
        if headers:
            kwargs["headers"] = headers
        return kwargs


def _too_large(body: dict[str, Any], size: int, extra: set[str]) -> InvalidArgumentError:
    largest = max(body, key=lambda name: len(_json.dumps(body[name])))
    return InvalidArgumentError(
        "extra_body" if largest in extra else largest,
        f"makes the request body {size:,} bytes; the limit is {MAX_BODY_BYTES:,} (1 MiB)",
    )


def parse_model(model: type[M]) -> Callable[[httpx.Response], M]:
    """A parser that validates the JSON answer as ``model``."""

    def parse(response: httpx.Response) -> M:
        return _json.validate(model, response.content)

    return parse


def parse_json(response: httpx.Response) -> Any:
    """The answer's JSON as it is (None for an empty body), for free-form answers."""
    return _json.loads(response.content) if response.content else None


def parse_nothing(response: httpx.Response) -> None:
    """The parser for 204 answers."""
    return None
