"""Argument checks that run before a request is sent.

Each check names the argument it rejects and says what was expected, so that a
mistake costs no round trip and leaves nothing half-done on the server.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from enum import StrEnum
from typing import Any, TypeVar

from ._exceptions import InvalidArgumentError

E = TypeVar("E", bound=StrEnum)

MAX_PAGE_SIZE = 1000


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def uuid_arg(name: str, value: Any) -> str:
    """A UUID given as a string (or :class:`uuid.UUID`), returned as a string."""
    if isinstance(value, uuid.UUID):
        return str(value)
    if not isinstance(value, str) or not value:
        raise InvalidArgumentError(name, f"expected a UUID string, got {_shown(value)}")
    try:
        return str(uuid.UUID(value))
    except ValueError:
        raise InvalidArgumentError(
            name, f"expected a UUID like '182bd5e5-6e1a-4fe4-a799-aa6d9a6ab26e', got {_shown(value)}"
        ) from None


def id_arg(name: str, value: Any) -> str:
    """A free-form id: a non-empty string without '/' (it goes into a URL path)."""
    if not isinstance(value, str) or not value.strip():
        raise InvalidArgumentError(name, f"expected a non-empty string, got {_shown(value)}")
    if "/" in value:
        raise InvalidArgumentError(name, f"must not contain '/', got {_shown(value)}")
    return value


def text_arg(name: str, value: Any, *, required: bool = False) -> str | None:
    """An optional (or required, non-empty) string."""
    if value is None and not required:
        return None
    if not isinstance(value, str) or (required and not value.strip()):
        expected = "a non-empty string" if required else "a string"
        raise InvalidArgumentError(name, f"expected {expected}, got {_shown(value)}")
    return value


def enum_arg(name: str, value: Any, enum: type[E]) -> str | None:
    """An optional enum member, given as the member or its string value."""
    if value is None:
        return None
    try:
        return enum(value).value
    except ValueError:
        allowed = ", ".join(repr(m.value) for m in enum)
        raise InvalidArgumentError(name, f"expected one of {allowed}, got {_shown(value)}") from None


def object_arg(name: str, value: Any) -> dict[str, Any] | None:
    """An optional JSON object: a mapping with string keys that JSON can encode."""
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise InvalidArgumentError(name, f"expected a dict (JSON object), got {type(value).__name__}")
    try:
        json.dumps(value, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise InvalidArgumentError(name, f"is not JSON-serializable: {exc}") from None
    return dict(value)


def int_arg(name: str, value: Any, *, minimum: int, maximum: int | None = None) -> int | None:
    """An optional integer within bounds."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidArgumentError(name, f"expected an integer, got {_shown(value)}")
    if value < minimum or (maximum is not None and value > maximum):
        bound = f"between {minimum} and {maximum}" if maximum is not None else f">= {minimum}"
        raise InvalidArgumentError(name, f"must be {bound}, got {value}")
    return value


def page_query(page_number: Any, page_size: Any) -> dict[str, int]:
    """The ``page[number]``/``page[size]`` query for a list call."""
    query: dict[str, int] = {}
    number = int_arg("page_number", page_number, minimum=1)
    size = int_arg("page_size", page_size, minimum=1, maximum=MAX_PAGE_SIZE)
    if number is not None:
        query["page[number]"] = number
    if size is not None:
        query["page[size]"] = size
    return query


def steps_arg(name: str, value: Any) -> list[dict[str, Any]]:
    """A non-empty list of plan steps, each with step_id, description and sequence."""
    if isinstance(value, str | bytes) or not isinstance(value, list | tuple) or not value:
        raise InvalidArgumentError(name, f"expected a non-empty list of steps, got {_shown(value)}")
    steps: list[dict[str, Any]] = []
    seen: set[str] = set()
    for index, raw in enumerate(value):
        where = f"{name}[{index}]"
        step = raw.model_dump(exclude_none=True) if hasattr(raw, "model_dump") else raw
        if not isinstance(step, Mapping):
            raise InvalidArgumentError(where, f"expected a dict, got {type(raw).__name__}")
        for required in ("step_id", "description", "sequence"):
            if required not in step:
                raise InvalidArgumentError(f"{where}.{required}", "is required")
        step_id = id_arg(f"{where}.step_id", step["step_id"])
        if step_id in seen:
            raise InvalidArgumentError(f"{where}.step_id", f"duplicate step_id {step_id!r}")
        seen.add(step_id)
        text_arg(f"{where}.description", step["description"], required=True)
        int_arg(f"{where}.sequence", step["sequence"], minimum=-(2**31), maximum=2**31 - 1)
        if step.get("parent_step_id") is not None:
            id_arg(f"{where}.parent_step_id", step["parent_step_id"])
        object_arg(f"{where}.metadata", step.get("metadata"))
        steps.append({k: v for k, v in step.items() if v is not None})
    return steps


def body(**fields: Any) -> dict[str, Any]:
    """A JSON body of the fields that were given (None means not given)."""
    return {key: value for key, value in fields.items() if value is not None}
