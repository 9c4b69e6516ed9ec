"""A request described as data, shared by the sync and async clients.

Resources build :class:`Call` objects (path, query, body, how to parse the
answer); the clients only send them. That keeps paths, argument checks and
parsing in one place for both clients.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Generic, TypedDict, TypeVar

import httpx
from pydantic import BaseModel

from ._exceptions import InvalidArgumentError

T = TypeVar("T")
M = TypeVar("M", bound=BaseModel)


class RequestOptions(TypedDict, total=False):
    """Per-call options accepted by every method, as in the official SDK."""

    timeout: float | httpx.Timeout | None
    extra_headers: dict[str, str] | None
    extra_query: dict[str, Any] | None
    extra_body: dict[str, Any] | None


_OPTION_NAMES = frozenset(RequestOptions.__annotations__)


def check_options(options: dict[str, Any]) -> RequestOptions:
    """Reject unknown keyword arguments by name instead of sending them."""
    for name in options:
        if name not in _OPTION_NAMES:
            raise InvalidArgumentError(name, "unexpected keyword argument")
    return options  # type: ignore[return-value]


@dataclass(frozen=True)
class Call(Generic[T]):
    """One API request, ready to send, and how to turn its answer into ``T``."""

    method: str
    path: str
    operation: str  # e.g. "GET /ai/missions/{mission_id}", for messages and logs
    parse: Callable[[httpx.Response], T]
    query: dict[str, Any] = field(default_factory=dict)
    json: Any = None
    idempotent: bool = True
    options: RequestOptions = field(default_factory=lambda: RequestOptions())

    def request_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for ``httpx.Client.request``."""
        query = {**self.query, **(self.options.get("extra_query") or {})}
        body = self.json
        if self.options.get("extra_body"):
            body = {**(body or {}), **self.options["extra_body"]}  # type: ignore[dict-item]
        kwargs: dict[str, Any] = {"params": query or None}
        if body is not None or self.method in {"POST", "PUT", "PATCH"}:
            kwargs["json"] = body if body is not None else {}
        if self.options.get("extra_headers"):
            kwargs["headers"] = self.options["extra_headers"]
        if "timeout" in self.options:
            kwargs["timeout"] = self.options["timeout"]
        return kwargs


def parse_model(model: type[M]) -> Callable[[httpx.Response], M]:
    """A parser that validates the JSON answer as ``model``."""

    def parse(response: httpx.Response) -> M:
        return model.model_validate_json(response.content)

    return parse


def parse_nothing(response: httpx.Response) -> None:
    """The parser for 204 answers."""
    return None
