"""What a request body may carry: bounded strings of valid Unicode, and JSON objects of bounded
depth with finite numbers (the limits are :mod:`missionlab.limits`).

Anything else is answered with 422 naming the field, before it reaches the store: a lone
surrogate cannot be stored (SQLite wants UTF-8), a value nested hundreds of levels deep
cannot be encoded again, and ``NaN`` would be echoed as invalid JSON.
"""

from __future__ import annotations

import math
from typing import Annotated, Any

from pydantic import AfterValidator, Field

from ..limits import (
    MAX_ID_LENGTH,
    MAX_IDEMPOTENCY_KEY_LENGTH,
    MAX_NAME_LENGTH,
    MAX_NESTING_DEPTH,
    MAX_TEXT_LENGTH,
)

_SURROGATE = "contains a lone surrogate (U+D800 to U+DFFF), which is not valid Unicode text"
# what a JSON value with NaN or an infinity (a number such as 1e400 parses to one) is refused for
NOT_JSON_NUMBERS = "contains NaN or Infinity, which are not JSON numbers"


def _has_lone_surrogate(value: str) -> bool:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def text_problem(value: str, max_length: int = MAX_TEXT_LENGTH) -> str | None:
    """Why ``value`` can't be stored as text, or None."""
    if len(value) > max_length:
        return f"longer than {max_length:,} characters"
    return _SURROGATE if _has_lone_surrogate(value) else None


def json_problem(value: Any, max_depth: int = MAX_NESTING_DEPTH) -> str | None:
    """Why the JSON value ``value`` can't be stored and served, or None.

    Walked without recursion, so that any depth is measured safely. An object or array is
    one level; ``{"a": {"b": 1}}`` is 2 deep.
    """
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict | list):
            if depth > max_depth:
                return f"nested deeper than {max_depth} levels"
            if isinstance(item, dict):
                for key in item:
                    problem = text_problem(key) if isinstance(key, str) else None
                    if problem:
                        return f"a key {problem}"
                stack.extend((child, depth + 1) for child in item.values())
            else:
                stack.extend((child, depth + 1) for child in item)
        elif isinstance(item, str):
            problem = text_problem(item)
            if problem:
                return f"a string {problem}"
        elif isinstance(item, float) and not math.isfinite(item):
            return NOT_JSON_NUMBERS
    return None


def json_depth(value: Any) -> int:
    """Levels of objects and arrays in ``value`` (0 for a scalar), measured without recursion."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict | list):
            deepest = max(deepest, depth)
            stack.extend((child, depth + 1) for child in (item.values() if isinstance(item, dict) else item))
    return deepest


def _checked_text(value: str) -> str:
    # The length is checked first, by the field's own max_length.
    if _has_lone_surrogate(value):
        raise ValueError(f"Text {_SURROGATE}")
    return value


def _checked_object(value: dict[str, Any]) -> dict[str, Any]:
    problem = json_problem(value)
    if problem:
        raise ValueError(f"Object {problem}")
    return value


Text = Annotated[str, Field(max_length=MAX_TEXT_LENGTH), AfterValidator(_checked_text)]
"""Any free text: a description, summary, error..."""

Name = Annotated[str, Field(min_length=1, max_length=MAX_NAME_LENGTH), AfterValidator(_checked_text)]
"""A mission's name."""

StepRef = Annotated[str, Field(min_length=1, max_length=MAX_ID_LENGTH), AfterValidator(_checked_text)]
"""A reference to a step or agent (``parent_step_id``, an event's ``step_id``)."""

NewId = Annotated[
    str, Field(min_length=1, max_length=MAX_ID_LENGTH, pattern=r"^[^/]+$"), AfterValidator(_checked_text)
]
"""An id the caller chooses (``step_id``, ``telnyx_agent_id``): it appears in paths, so no ``/``."""

IdempotencyKey = Annotated[str, Field(max_length=MAX_IDEMPOTENCY_KEY_LENGTH), AfterValidator(_checked_text)]

JSONObject = Annotated[dict[str, Any], AfterValidator(_checked_object)]
"""A free-form object (metadata, payload, input, result_payload, a tool's body)."""
