"""Rows of the database in the API's wire format: as plain dicts, or as JSON encoded once.

The answers are compact ``json.dumps`` text (ASCII, every other character escaped), and
must stay byte for byte what they were. Rows become dicts and are encoded by orjson, with
JSON columns passed through as stored (``json.dumps`` wrote them, with these separators)
instead of being decoded and encoded again. orjson writes UTF-8 and leaves DEL as it is
where ``json.dumps`` escapes them; as those characters only occur inside strings, they
are escaped afterwards, on the rare answers that have any.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from typing import Any

import orjson

from ...limits import MAX_NESTING_DEPTH
from ..input_checks import json_depth

UNSERVABLE = {
    "_unservable": f"not served: stored nested deeper than {MAX_NESTING_DEPTH} levels, or with NaN/Infinity"
}


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _may_be_unservable(text: str) -> bool:
    """Cheap screen: only text with many brackets or a NaN/Infinity word needs a full look."""
    return text.count("{") + text.count("[") > MAX_NESTING_DEPTH or "NaN" in text or "Infinity" in text


def _load(text: str) -> Any:
    """A stored JSON value; one no request can store any more (too deep, NaN), written by an
    older sandbox, is served as :data:`UNSERVABLE` so that it cannot break every answer it is in."""
    try:
        value = json.loads(text, parse_constant=_refuse_constant)
    except (ValueError, RecursionError):
        return dict(UNSERVABLE)
    if text.count("{") + text.count("[") > MAX_NESTING_DEPTH and json_depth(value) > MAX_NESTING_DEPTH:
        return dict(UNSERVABLE)
    return value


def _servable_text(text: str) -> str:
    """Stored JSON text to pass through as it is, or its :data:`UNSERVABLE` stand-in."""
    if not _may_be_unservable(text):
        return text
    value = _load(text)
    return json.dumps(value, separators=(",", ":")) if value == UNSERVABLE else text


_NOT_PLAIN_ASCII = re.compile("[^\x00-\x7e]")


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    if code < 0x10000:
        return f"\\u{code:04x}"
    code -= 0x10000  # as a UTF-16 surrogate pair, like json.dumps
    return f"\\u{0xD800 | (code >> 10):04x}\\u{0xDC00 | (code & 0x3FF):04x}"


def ascii_json(text: bytes) -> bytes:
    """orjson's output as ``json.dumps`` (``ensure_ascii``) writes it."""
    if text.isascii() and b"\x7f" not in text:
        return text
    return _NOT_PLAIN_ASCII.sub(_escape, text.decode()).encode("ascii")


def _stdlib_encoder() -> Callable[[Any], str]:
    """``json.dumps(value, separators=(",", ":"))`` without making the standard library's C
    encoder anew per call (which took half of a big load's encoding time)."""
    plain = json.JSONEncoder(separators=(",", ":"), allow_nan=False).encode
    make = getattr(json.encoder, "c_make_encoder", None)
    if make is None:
        return plain
    encoder = make(None, None, json.encoder.encode_basestring_ascii, None, ":", ",", False, False, False)

    def encode(value: Any) -> str:
        return "".join(encoder(value, 0))

    return encode


_stdlib_json = _stdlib_encoder()


def stored_json(value: Any) -> str:
    """A value parsed from JSON (dicts, lists, strings, numbers, booleans, None) as a JSON
    column stores it: ``json.dumps(value, separators=(",", ":"))``'s text, written by orjson
    (several times faster) wherever orjson writes the same text. NaN and infinities (a
    number such as ``1e400`` parses to one) raise ``ValueError``: they are not JSON.

    orjson refuses integers beyond 64 bits, lone surrogates and deep nesting, writes NaN and
    infinities as ``null``, and numbers of magnitude below 1e-4 its own way (``1e-7`` for
    ``1e-07``, ``0.00001`` for ``1e-05``): text with ``null``, ``e-`` or ``0.0000`` anywhere is
    written by the standard library instead."""
    try:
        text = orjson.dumps(value).decode()
    except TypeError:
        return _stdlib_json(value)
    if "null" in text or "e-" in text or "0.0000" in text:  # str tests: cheaper than bytes'
        return _stdlib_json(value)
    if text.isascii() and "\x7f" not in text:
        return text
    return _NOT_PLAIN_ASCII.sub(_escape, text)  # as ascii_json does


def decoded_row(
    columns: tuple[str, ...], values: Iterable[Any], json_columns: frozenset[str]
) -> dict[str, Any]:
    """A row as a plain dict in the wire format: JSON columns decoded, null values left out
    (as the API does). ``values`` may go on past ``columns`` (a sort key): those are ignored."""
    out: dict[str, Any] = {}
    for name, value in zip(columns, values, strict=False):
        if value is not None:
            out[name] = _load(value) if name in json_columns else value
    return out


def row_items(
    columns: tuple[str, ...], rows: Iterable[tuple[Any, ...]], json_columns: frozenset[str]
) -> list[dict[str, Any]]:
    """``rows`` as dicts to encode with :func:`answer_json`: their first values named by
    ``columns`` (further values are ignored), null values left out as the API does. Values
    are strings, integers or, in ``json_columns``, JSON text (kept as it is)."""
    fields = [(name, name in json_columns) for name in columns]
    Fragment, short = orjson.Fragment, MAX_NESTING_DEPTH
    # _may_be_unservable inline (two calls per value were a quarter of a page's encoding);
    # a text of at most MAX_NESTING_DEPTH characters has no more brackets than that.
    return [
        {
            name: Fragment(
                value
                if (len(value) <= short or value.count("{") + value.count("[") <= short)
                and "NaN" not in value
                and "Infinity" not in value
                else _servable_text(value)
            )
            if is_json
            else value
            for (name, is_json), value in zip(fields, row, strict=False)  # the sort key follows
            if value is not None
        }
        for row in rows
    ]


def answer_json(answer: Any) -> bytes:
    """An answer (with items from :func:`row_items`) as compact ``json.dumps`` would write it."""
    return ascii_json(orjson.dumps(answer))
