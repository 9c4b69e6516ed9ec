"""JSON in and out of the client, for any nesting depth a server sends.

:func:`loads` parses with orjson, which stops at 1,024 levels (pydantic's own
parser stops at ~200, Python's ``json`` at the recursion limit). A document
orjson refuses is parsed again by a small iterative parser that has no depth
limit, so that one deeply nested payload never makes a list unreadable. orjson
also reads integers beyond 64 bits as floats: a document with such a number is
read by Python's ``json`` instead, which keeps them exact. :func:`validate`
reads a model with pydantic's own parser (faster than parsing, then validating),
and through :func:`loads` when that parser refuses the document. Text shown to
people goes through :func:`short_json`, which is bounded in depth and length,
never through ``json.dumps`` of server data.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from json.decoder import scanstring  # type: ignore[attr-defined]  # C-accelerated, not in typeshed
from typing import TYPE_CHECKING, Any, TypeVar

import orjson

if TYPE_CHECKING:
    from pydantic import BaseModel

__all__ = ["dumps", "loads", "short_json", "validate"]

M = TypeVar("M", bound="BaseModel")

SHORT_DEPTH = 20  # containers deeper than this show as {…} / […] in short_json


def loads(data: bytes | str) -> Any:
    """Parse a JSON document; raises ValueError when it is not JSON (NaN and Infinity are not)."""
    raw = data.encode("utf-8", "surrogatepass") if isinstance(data, str) else data
    long_number = has_long_number(raw)
    if not long_number:
        try:
            return orjson.loads(raw)
        except orjson.JSONDecodeError:
            pass  # deeper than orjson allows, a lone surrogate escape, or not JSON
    text = raw.decode("utf-8", "replace")
    if long_number and _SURROGATE_ESCAPE.search(raw) is None:
        try:
            return json.loads(text, parse_constant=_no_constant)
        except RecursionError:
            pass
    return _parse(text)


# A run of 19 digits may be an integer beyond 64 bits (or just a long digit string). Found by
# mapping every byte to "0" (digits) or " " (the rest): ~10x faster than a regex search.
_DIGITS_ONLY = bytes(48 if 48 <= byte <= 57 else 32 for byte in range(256))
_LONG_DIGITS = b"0" * 19
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")  # json.loads would keep a lone one


def has_long_number(raw: bytes) -> bool:
    """Whether ``raw`` holds a run of 19 digits (maybe an integer that orjson would read as a float)."""
    return _LONG_DIGITS in raw.translate(_DIGITS_ONLY)


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def validate(model: type[M], data: bytes) -> M:
    """``data`` validated as ``model``; raises ValueError (pydantic's ValidationError) if it isn't."""
    from pydantic import ValidationError

    try:
        return model.model_validate_json(data)
    except ValidationError as exc:
        if not any(error["type"] == "json_invalid" for error in exc.errors()):
            raise
    # Deeper than pydantic's parser goes, or a lone surrogate escape: parse, then validate.
    return model.model_validate(loads(data))


def dumps(value: Any) -> bytes:
    """Compact UTF-8 JSON of a value of JSON types (checked by the caller: no NaN)."""
    try:
        return orjson.dumps(value)
    except orjson.JSONEncodeError:  # integers beyond 64 bits
        return json.dumps(value, ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode()


# -- the iterative parser ------------------------------------------------------------------------

_SPACE = re.compile(r"[ \t\n\r]*")
_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)?")
_CONSTANTS = {"true": True, "false": False, "null": None}


class _Parser:
    """A JSON parser with an explicit stack instead of recursion."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    def fail(self, what: str) -> ValueError:
        return json.JSONDecodeError(what, self.text, min(self.pos, len(self.text)))

    def space(self) -> str:
        end = _SPACE.match(self.text, self.pos)
        self.pos = end.end() if end else self.pos
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def string(self) -> str:
        if self.space() != '"':
            raise self.fail("Expecting a string")
        value: str
        value, self.pos = scanstring(self.text, self.pos + 1, True)
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:  # a lone surrogate escape: keep the text, not the surrogate
            value = value.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
        return value

    def key(self) -> str:
        key = self.string()
        if self.space() != ":":
            raise self.fail("Expecting ':'")
        self.pos += 1
        return key

    def scalar(self, char: str) -> Any:
        if char == '"':
            return self.string()
        for word, constant in _CONSTANTS.items():
            if self.text.startswith(word, self.pos):
                self.pos += len(word)
                return constant
        number = _NUMBER.match(self.text, self.pos)
        if number is None or not number.group():
            raise self.fail("Expecting a value")
        self.pos = number.end()
        if number.group(1) or number.group(2):
            result = float(number.group())
            if result in (float("inf"), float("-inf")):
                raise self.fail("Number out of range")
            return result
        return int(number.group())

    def parse(self) -> Any:
        # Each stack entry is an open container and, for an object, the key being filled.
        stack: list[tuple[dict[str, Any] | list[Any], str]] = []
        while True:
            char = self.space()
            if char in ("{", "["):
                self.pos += 1
                closing = "}" if char == "{" else "]"
                if self.space() == closing:
                    self.pos += 1
                    value: Any = {} if char == "{" else []
                else:
                    stack.append(({}, self.key()) if char == "{" else ([], ""))
                    continue
            else:
                value = self.scalar(char)
            while True:  # put the value in its container; close the containers that end here
                if not stack:
                    if self.space():
                        raise self.fail("Extra data")
                    return value
                container, key = stack[-1]
                if isinstance(container, dict):
                    container[key] = value
                else:
                    container.append(value)
                char = self.space()
                self.pos += 1
                if char == ",":
                    if isinstance(container, dict):
                        stack[-1] = (container, self.key())
                    break
                if char != ("}" if isinstance(container, dict) else "]"):
                    self.pos -= 1
                    raise self.fail("Expecting ',' or the end of a container")
                stack.pop()
                value = container


def _parse(text: str) -> Any:
    return _Parser(text).parse()


# -- short text of any value ---------------------------------------------------------------------


def short_json(value: Any, limit: int = 200) -> str:
    """JSON-like text of ``value``, at most ``limit`` characters, for any depth and size.

    Containers nested deeper than 20 levels show as ``{…}``/``[…]``; values that
    are not JSON types show as ``str(value)``.
    """
    parts: list[str] = []
    size = 0
    # A stack of generators, one per open container, yielding text or (value, depth) to render.
    stack: list[Iterator[str | tuple[Any, int]]] = [iter([(value, 0)])]
    while stack and size <= limit:
        piece = next(stack[-1], None)
        if piece is None:
            stack.pop()
            continue
        if isinstance(piece, str):
            text = piece
        else:
            node, depth = piece
            text, members = _open(node, depth, limit - size)
            if members is not None:
                stack.append(members)
        parts.append(text[: limit + 1 - size])
        size += len(parts[-1])
    out = "".join(parts)
    return out if len(out) <= limit else out[: max(limit - 1, 0)] + "…"[:limit]


def _open(node: Any, depth: int, budget: int) -> tuple[str, Iterator[str | tuple[Any, int]] | None]:
    """The text that starts ``node``, and for a container the generator of its members."""
    if isinstance(node, Mapping | list | tuple) and node:
        if depth >= SHORT_DEPTH:
            return ("{…}" if isinstance(node, Mapping) else "[…]"), None
        if isinstance(node, Mapping):
            return "{", _object_members(node, depth, budget)
        return "[", _array_members(node, depth)
    if isinstance(node, Mapping):
        return "{}", None
    if isinstance(node, list | tuple):
        return "[]", None
    return _scalar(node, budget), None


def _object_members(node: Mapping[Any, Any], depth: int, budget: int) -> Iterator[str | tuple[Any, int]]:
    for index, (key, member) in enumerate(node.items()):
        yield ("" if index == 0 else ", ") + _scalar(str(key), budget) + ": "
        yield member, depth + 1
    yield "}"


def _array_members(node: list[Any] | tuple[Any, ...], depth: int) -> Iterator[str | tuple[Any, int]]:
    for index, member in enumerate(node):
        if index:
            yield ", "
        yield member, depth + 1
    yield "]"


def _scalar(value: Any, budget: int) -> str:
    if isinstance(value, str):
        return json.dumps(value[: max(budget, 0)], ensure_ascii=False)
    if value is None or isinstance(value, bool | int | float):
        return json.dumps(value)
    return str(value)[: max(budget, 0)]
