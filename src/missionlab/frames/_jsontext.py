"""Nested JSON (payloads, metadata, inputs) as compact text, at any depth.

Frames keep nested objects as this text: far smaller than Python dicts, the same whether
the object came from a plain dict or a model, and whole (text shown to people is cut by
``_json.short_json``). orjson renders almost everything; what it refuses (nesting deeper
than 255 levels, integers beyond 64 bits, lone surrogates, odd values) is rendered by an iterative writer
that has no depth limit, so a payload nested thousands of levels deep is text like any
other and never raises ``RecursionError``; ``_json.loads`` reads it back at any depth.
"""

from __future__ import annotations

import json
import math
from typing import Any

import orjson

from ..client._json import has_long_number, loads

__all__ = ["json_number", "json_object", "json_objects", "json_text", "json_texts"]


class _Raw(str):
    """Punctuation already rendered (told apart from string values on the writer's stack)."""


def json_text(value: Any) -> str:
    """``value`` as compact JSON text."""
    try:
        return orjson.dumps(value).decode()
    except TypeError:  # orjson.JSONEncodeError: too deep, an integer beyond 64 bits, an odd value
        return _write(value)


def json_texts(values: list[Any]) -> list[str | None]:
    """Each value as compact JSON text; None stays None."""
    return [None if value is None else json_text(value) for value in values]


def json_number(value: Any) -> float:
    """A JSON number as a float; NaN for anything else (``true`` included) and for a number
    beyond a float's range (hundreds of digits, or ``1e400``: no amount a float can hold)."""
    if not isinstance(value, int | float) or isinstance(value, bool):
        return float("nan")
    try:
        number = float(value)
    except OverflowError:
        return float("nan")
    return number if math.isfinite(number) else float("nan")


def json_object(text: Any) -> dict[str, Any]:
    """The object a JSON text holds (at any depth); ``{}`` for a missing value or a non-object."""
    if not isinstance(text, str):
        return {}
    value = loads(text)
    return value if isinstance(value, dict) else {}


def json_objects(texts: list[Any]) -> list[dict[str, Any]]:
    """:func:`json_object` of each text, with one scan for long numbers over all of them
    (then orjson straight away, :func:`~missionlab.client._json.loads` for what it refuses)."""
    strings = [text for text in texts if isinstance(text, str)]
    if has_long_number("\n".join(strings).encode("utf-8", "surrogatepass")):
        return [json_object(text) for text in texts]
    objects: list[dict[str, Any]] = []
    for text in texts:
        if not isinstance(text, str):
            objects.append({})
            continue
        try:
            value = orjson.loads(text)
        except orjson.JSONDecodeError:  # deeper than orjson allows, a lone surrogate, not JSON
            value = loads(text)
        objects.append(value if isinstance(value, dict) else {})
    return objects


def _scalar(value: Any) -> str:
    if isinstance(value, int) and not isinstance(value, bool):
        return str(int(value))  # exact beyond 64 bits, where orjson refuses
    try:
        return orjson.dumps(value).decode()
    except TypeError:  # an odd value, or text with a lone surrogate (JSON may escape one: "\\ud800")
        return json.dumps(str(value))  # escapes what UTF-8 can't hold, as the JSON it came from did


def _write(value: Any) -> str:
    out: list[str] = []
    stack: list[Any] = [value]
    while stack:
        item = stack.pop()
        if type(item) is _Raw:
            out.append(item)
        elif isinstance(item, dict):
            entries = list(item.items())
            stack.append(_Raw("}"))
            for index in range(len(entries) - 1, -1, -1):
                key, child = entries[index]
                stack.append(child)
                stack.append(_Raw(("," if index else "") + _scalar(str(key)) + ":"))
            out.append("{")
        elif isinstance(item, list | tuple):
            stack.append(_Raw("]"))
            for index in range(len(item) - 1, -1, -1):
                stack.append(item[index])
                if index:
                    stack.append(_Raw(","))
            out.append("[")
        else:
            out.append(_scalar(item))
    return "".join(out)
