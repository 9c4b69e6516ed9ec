"""Argument checks that run before a request is sent.

Each check names the argument it rejects and says what was expected, so that a
mistake costs no round trip and leaves nothing half-done on the server. Checked:
what the published API document constrains (UUID path ids, enums in request
bodies, required fields, page sizes) and the sandbox's documented limits
(:mod:`missionlab.limits`), plus what JSON or a URL cannot carry at all: lone
surrogates, NaN and infinities, ids that would change the URL's path.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Mapping
from enum import StrEnum
from typing import Any, TypeVar
from urllib.parse import quote

from ..errors import InvalidArgumentError
from ..limits import (
    MAX_ID_LENGTH,
    MAX_NESTING_DEPTH,
    MAX_PAGE_NUMBER,
    MAX_PAGE_SIZE,
    MAX_TEXT_LENGTH,
)

E = TypeVar("E", bound=StrEnum)


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def check_string(name: str, value: str, max_length: int = MAX_TEXT_LENGTH, where: str = "") -> str:
    """``value`` if it is within ``max_length`` characters and encodable as UTF-8."""
    if len(value) > max_length:
        raise InvalidArgumentError(name, f"is {len(value):,} characters long; the limit is {max_length:,}")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        at = f" in {_clip_path(where)}" if where else ""
        raise InvalidArgumentError(
            name,
            f"contains a lone surrogate ({value[exc.start]!r} at index {exc.start}{at}), which is not "
            "text and cannot be sent as JSON",
        ) from None
    return value


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


def read_id_arg(name: str, value: Any) -> str:
    """An id on a path we only read: a UUID (normalised), or any plain-string id, as ids a
    server sends may be (percent-encoded). Refused only where we write (``uuid_arg``)."""
    if isinstance(value, uuid.UUID):
        return str(value)
    try:
        return str(uuid.UUID(value)) if isinstance(value, str) else uuid_arg(name, value)
    except ValueError:
        return path_id(name, value)


def id_arg(name: str, value: Any, max_length: int = MAX_TEXT_LENGTH) -> str:
    """A free-form id: a non-empty string without '/', not '.' or '..'."""
    if not isinstance(value, str) or not value.strip():
        raise InvalidArgumentError(name, f"expected a non-empty string, got {_shown(value)}")
    if "/" in value:
        raise InvalidArgumentError(name, f"must not contain '/', got {_shown(value)}")
    if value in (".", ".."):
        raise InvalidArgumentError(name, f"{value!r} would name another URL path")
    return check_string(name, value, max_length)


def path_id(name: str, value: Any, max_length: int = MAX_TEXT_LENGTH) -> str:
    """A free-form id as a URL path segment (percent-encoded)."""
    return quote(id_arg(name, value, max_length), safe="")


def text_arg(
    name: str, value: Any, *, required: bool = False, max_length: int = MAX_TEXT_LENGTH
) -> str | None:
    """An optional (or required, non-empty) string."""
    if value is None and not required:
        return None
    if not isinstance(value, str) or (required and not value.strip()):
        expected = "a non-empty string" if required else "a string"
        raise InvalidArgumentError(name, f"expected {expected}, got {_shown(value)}")
    return check_string(name, value, max_length)


def filter_arg(name: str, value: Any, max_length: int = MAX_TEXT_LENGTH) -> str | None:
    """An optional query filter: any non-empty string (the document lists no allowed values)."""
    if value is None:
        return None
    return text_arg(
        name, str(value) if isinstance(value, StrEnum) else value, required=True, max_length=max_length
    )


def enum_arg(name: str, value: Any, enum: type[E]) -> str | None:
    """An optional enum member, given as the member or its string value."""
    if value is None:
        return None
    try:
        return str(enum(value))
    except ValueError:
        allowed = ", ".join(repr(str(m)) for m in enum)
        raise InvalidArgumentError(name, f"expected one of {allowed}, got {_shown(value)}") from None


def json_arg(name: str, value: Any, max_depth: int = MAX_NESTING_DEPTH) -> None:
    """Check that ``value`` is JSON: dicts with string keys, lists, strings, finite numbers,
    booleans and None, nested at most ``max_depth`` containers deep."""
    stack: list[tuple[Any, str, int]] = [(value, name, 0)]
    while stack:
        item, where, depth = stack.pop()
        if isinstance(item, str):
            check_string(name, item, len(item), where)
        elif isinstance(item, float):
            if not math.isfinite(item):
                raise InvalidArgumentError(name, f"{item} at {where} is not a JSON number")
        elif item is None or isinstance(item, bool | int):
            continue
        elif isinstance(item, dict | list | tuple):
            if depth + 1 > max_depth:
                raise InvalidArgumentError(
                    name, f"is nested more than {max_depth} levels deep (at {_clip_path(where)})"
                )
            if isinstance(item, dict):
                for key, member in item.items():
                    if not isinstance(key, str):
                        raise InvalidArgumentError(
                            name, f"has a key that is not a string at {where}: {key!r}"
                        )
                    check_string(name, key, len(key), f"a key of {where}")
                    stack.append((member, f"{where}.{key}", depth + 1))
            else:
                stack.extend((member, f"{where}[{i}]", depth + 1) for i, member in enumerate(item))
        else:
            raise InvalidArgumentError(
                name, f"is not JSON-serializable: {type(item).__name__} at {_clip_path(where)}"
            )


def _clip_path(path: str) -> str:
    return path if len(path) <= 120 else path[:50] + " … " + path[-50:]


def object_arg(name: str, value: Any) -> dict[str, Any] | None:
    """An optional JSON object: a mapping with string keys that JSON can encode."""
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise InvalidArgumentError(name, f"expected a dict (JSON object), got {type(value).__name__}")
    checked: dict[str, Any] = dict(value)
    json_arg(name, checked)
    return checked


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
    number = int_arg("page_number", page_number, minimum=1, maximum=MAX_PAGE_NUMBER)
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
        step_id = id_arg(f"{where}.step_id", step["step_id"], MAX_ID_LENGTH)
        if step_id in seen:
            raise InvalidArgumentError(f"{where}.step_id", f"duplicate step_id {step_id!r}")
        seen.add(step_id)
        text_arg(f"{where}.description", step["description"], required=True)
        int_arg(f"{where}.sequence", step["sequence"], minimum=-(2**31), maximum=2**31 - 1)
        if step.get("parent_step_id") is not None:
            id_arg(f"{where}.parent_step_id", step["parent_step_id"], MAX_ID_LENGTH)
        object_arg(f"{where}.metadata", step.get("metadata"))
        extra = {k: v for k, v in step.items() if k not in _STEP_FIELDS and v is not None}
        json_arg(where, extra)
        steps.append({k: v for k, v in step.items() if v is not None})
    return steps


_STEP_FIELDS = frozenset({"step_id", "description", "sequence", "parent_step_id", "metadata"})


def body(**fields: Any) -> dict[str, Any]:
    """A JSON body of the fields that were given (None means not given)."""
    return {key: value for key, value in fields.items() if value is not None}
