"""A JSON object read member by member from a file a chunk at a time, one array member's
items handed over in blocks: what lets a capsule of a million events be read without its
whole text, or all of its events, in memory at once.

``ObjectStream(source).members("events")`` yields the object's ``(key, value)`` pairs in
the file's order: every value parsed whole (by the standard library's C scanner), except
an array under the key named, which comes as an :class:`Items` whose ``blocks()`` parse its
items a block at a time. Items not taken before the next member is asked for are read past
(parsed and dropped). The whole text is checked as ``json.loads`` checks it (a syntax error
anywhere is a :class:`JSONStreamError` naming its line, column and character, as
``json.loads`` does; a UTF-8 byte-order mark is read past, as ``json.loads`` of bytes reads
past it); a key repeated at the top level is refused (``json.loads`` would keep
the last value, which a stream cannot do).
"""

from __future__ import annotations

import codecs
import io
import json
import json.scanner
import re
from collections.abc import Callable, Generator, Iterator
from pathlib import Path
from typing import IO, Any

from ..errors import MissionlabError

__all__ = ["CHUNK", "Items", "JSONStreamError", "ObjectStream"]

CHUNK = 1 << 22  # bytes read (and decoded) at a time: 4 MiB

_WS = re.compile(r"[ \t\n\r]*")
_AFTER_ITEM = re.compile(r"[ \t\n\r]*([,\]])[ \t\n\r]*")  # after an array's item: more, or its end


class JSONStreamError(MissionlabError, ValueError):
    """The text is not JSON (or not one JSON object), said as ``json.loads`` says it; or,
    with ``is_json``, JSON this reader refuses: a key repeated at the top level (its readers,
    ``open_run`` and the sandbox's loader, raise it as a ``CapsuleError``)."""

    def __init__(self, message: str, *, is_json: bool = False) -> None:
        super().__init__(message)
        self.is_json = is_json


def _refuse_constant(name: str) -> Any:
    raise JSONStreamError(f"{name} is not JSON")


# Parsing stopped (or a number ended) this close to the end of the text read so far may be
# the text read so far ending: ``-``, ``1.``, ``1e+``, ``tru``, a ``\\uXXXX`` escape cut.
_NEAR_END = 10


def _cut(error: json.JSONDecodeError, length: int) -> bool:
    """Whether ``error`` may only be the text read so far ending too soon."""
    return error.msg.startswith("Unterminated string") or error.pos >= length - _NEAR_END


class ObjectStream:
    """The JSON text of ``source`` (a path, or bytes), read in chunks of ``chunk`` bytes
    (default ``CHUNK``); ``size``: its length in bytes."""

    def __init__(self, source: str | Path | bytes, *, chunk: int | None = None) -> None:
        self._source = source if isinstance(source, bytes) else Path(source)
        self.size = len(source) if isinstance(source, bytes) else self._source.stat().st_size  # type: ignore[union-attr]
        self._file: IO[bytes] | None = None
        self._chunk = chunk or CHUNK
        self._decode = codecs.getincrementaldecoder("utf-8-sig")().decode
        make: Any = json.scanner.make_scanner  # the C scanner json.loads uses (typeshed: a class)
        self._scan: Callable[[str, int], tuple[Any, int]] = make(
            json.JSONDecoder(parse_constant=_refuse_constant)
        )
        self._buf = ""
        self._pos = 0  # where reading is, in _buf
        self._base = 0  # the text's offset of _buf[0]
        self._eof = False

    @property
    def offset(self) -> int:
        """How many characters of the text are read."""
        return self._base + self._pos

    # -- the text, a chunk at a time ---------------------------------------------------------

    def _more(self, keep: int, at_least: int = 0) -> None:
        """Drop ``_buf`` before ``keep`` and read on (at least ``at_least`` characters more,
        when the file has them); sets ``_eof`` at the end of the file."""
        if self._eof:
            return
        if self._file is None:
            self._file = self._open()
        parts = [self._buf[keep:]]
        self._base += keep
        self._pos -= keep
        got = 0
        while not self._eof and (got == 0 or got < at_least):
            raw = self._file.read(max(self._chunk, at_least - got))
            try:
                text = self._decode(raw, final=not raw)
            except UnicodeDecodeError as error:
                raise JSONStreamError(f"not UTF-8 text: {error}") from None
            if not raw:
                self._eof = True
                self.close()
            parts.append(text)
            got += len(text)
        self._buf = "".join(parts)

    def _open(self) -> IO[bytes]:
        source = self._source
        return io.BytesIO(source) if isinstance(source, bytes) else source.open("rb")

    def close(self) -> None:
        """Close the file."""
        if self._file is not None:
            self._file.close()

    def _error(self, message: str, pos: int) -> JSONStreamError:
        """``message`` at ``_buf[pos]``, with its line, column and character as json says them
        (the text before ``_buf`` read again to count its lines: only a refusal pays for it)."""
        lines, line_start = 0, 0
        if self._base:
            decode, read = codecs.getincrementaldecoder("utf-8-sig")().decode, 0
            with self._open() as again:
                while read < self._base:
                    text = decode(again.read(self._chunk))[: self._base - read]
                    if "\n" in text:
                        lines += text.count("\n")
                        line_start = read + text.rindex("\n") + 1
                    read += len(text)
        before = self._buf.rfind("\n", 0, pos)
        line = lines + self._buf.count("\n", 0, pos) + 1
        column = pos - before if before >= 0 else self._base + pos - line_start + 1
        return JSONStreamError(f"{message}: line {line} column {column} (char {self._base + pos})")

    def _peek(self) -> str:
        """The character at the reading position after any white space ('' at the end)."""
        while True:
            self._pos = _WS.match(self._buf, self._pos).end()  # type: ignore[union-attr]
            if self._pos < len(self._buf):
                return self._buf[self._pos]
            if self._eof:
                return ""
            self._more(self._pos)

    def _value(self) -> Any:
        """The JSON value at the reading position, parsed whole (more read until it is)."""
        self._peek()
        while True:
            buf, start = self._buf, self._pos
            try:
                value, end = self._scan(buf, start)
            except StopIteration as stop:
                message, pos = "Expecting value", int(stop.value)
                cut = pos >= len(buf) - _NEAR_END
            except json.JSONDecodeError as error:
                message, pos, cut = error.msg, error.pos, _cut(error, len(buf))
            else:
                if end < len(buf) - _NEAR_END or self._eof:  # a number near the end may go on
                    self._pos = end
                    return value
                message, pos, cut = "", end, True
            if self._eof or not cut:
                raise self._error(message, pos)
            self._more(start, at_least=len(buf) - start)

    def is_object(self) -> bool:
        """Whether the text is (or begins as) a JSON object."""
        return self._peek() == "{"

    def whole(self) -> Any:
        """The text's one JSON value, parsed whole."""
        value = self._value()
        if self._peek() != "":
            raise self._error("Extra data", self._pos)
        return value

    # -- the object ----------------------------------------------------------------------------

    def members(self, streamed: str | None = None) -> Iterator[tuple[str, Any]]:
        """The object's ``(key, value)`` pairs in the text's order; an array under ``streamed``
        comes as :class:`Items` (read past when the next pair is asked for before its end)."""
        try:
            yield from self._members(streamed)
        finally:
            self.close()

    def _members(self, streamed: str | None) -> Iterator[tuple[str, Any]]:
        if not self.is_object():
            if self._peek() == "":
                raise self._error("Expecting value", self._pos)
            raise self._error("Expecting an object", self._pos)
        self._pos += 1
        seen: set[str] = set()
        if self._peek() == "}":
            self._pos += 1
        else:
            while True:
                if self._peek() != '"':
                    raise self._error("Expecting property name enclosed in double quotes", self._pos)
                key = self._value()
                if key in seen:
                    raise JSONStreamError(f"the key {key!r} appears twice in the object", is_json=True)
                seen.add(key)
                if self._peek() != ":":
                    raise self._error("Expecting ':' delimiter", self._pos)
                self._pos += 1
                if key == streamed and self._peek() == "[":
                    self._pos += 1
                    items = Items(self)
                    yield key, items
                    for _ in items.blocks(1000, exact=False):  # what was not taken, read past
                        pass
                else:
                    yield key, self._value()
                following = self._peek()
                if following == "}":
                    self._pos += 1
                    break
                if following != ",":
                    raise self._error("Expecting ',' delimiter", self._pos)
                self._pos += 1
        if self._peek() != "":
            raise self._error("Extra data", self._pos)


class Items:
    """The items of an array member of an :class:`ObjectStream`, parsed a block at a time."""

    def __init__(self, stream: ObjectStream) -> None:
        self._stream = stream
        self._taken = 0  # items handed over
        self._done = False

    @property
    def stream(self) -> ObjectStream:
        """The stream the items are read from (its ``offset`` and ``size`` say how far)."""
        return self._stream

    def blocks(
        self, size: int, *, text: bool = False, exact: bool = True
    ) -> Generator[tuple[int, list[Any], str | None], None, None]:
        """``(index of the first, items, text)`` for each block of ``size`` items (the last
        may be shorter; none for an empty array); ``text``: the block's JSON text too, as an
        array (the file's own spelling of its items, between brackets), else None.

        Not ``exact``: blocks of about ``size`` items, which parse faster when the items are
        objects that begin alike (events: ``{"event_id": ...``): a block's end is guessed
        from the items' length so far, at the next place where an item seems to begin, and
        the text up to it parsed as one array in one call; the guess is taken only when that
        text is a whole array (so the place was an item's end: an end inside a string or a
        nested value leaves the text unparsable), else the block is read item by item."""
        stream = self._stream
        if not self._done and self._taken == 0 and stream._peek() == "]":  # an empty array
            stream._pos += 1
            self._done = True
        guess: tuple[re.Pattern[str], float] | None = None
        misses = 0
        while not self._done:
            got = self._guessed(*guess, size, text) if guess is not None and misses < 3 else None
            if got is None:
                if guess is not None:
                    misses += 1
                begin = stream.offset
                items, block_text, lead = self._block(size, text)
                if not exact and lead is not None and items:
                    guess = (_after_item(lead), (stream.offset - begin) / len(items))
            else:
                items, block_text = got
            if items:
                first, self._taken = self._taken, self._taken + len(items)
                yield first, items, block_text

    def _guessed(
        self, ends: re.Pattern[str], length: float, size: int, text: bool
    ) -> tuple[list[Any], str | None] | None:
        """About ``size`` items parsed in one call (see :meth:`blocks`), or None."""
        stream = self._stream
        want = int(length * size)
        missing = stream._pos + want + int(2 * length) + _NEAR_END - len(stream._buf)  # and an item more
        if missing > 0 and not stream._eof:
            stream._more(stream._pos, at_least=missing)
        buf, pos = stream._buf, stream._pos
        found = ends.search(buf, pos + want)
        if found is None or found.start() >= len(buf) - _NEAR_END:
            return None
        array = "[" + buf[pos : found.start() + 1] + "]"
        try:
            items, end = stream._scan(array, 0)
        except (StopIteration, ValueError, RecursionError):  # not an item's end (or not JSON)
            return None
        if end != len(array):
            return None
        stream._pos = found.end(1)
        return items, array if text else None

    def _block(self, size: int, text: bool) -> tuple[list[Any], str | None, str | None]:
        """The next ``size`` items (fewer at the array's end) read one at a time, the block's
        text (with ``text``), and how its last item begins (``{"key":``, None if not so)."""
        stream = self._stream
        stream._peek()
        scan, after = stream._scan, _AFTER_ITEM.match
        block: list[Any] = []
        buf, pos = stream._buf, stream._pos
        start = pos  # where the block's first item begins
        while True:
            try:
                item, end = scan(buf, pos)
            except StopIteration as stop:  # no value where one should begin (here or inside)
                message, at = "Expecting value", int(stop.value)
                cut = at >= len(buf) - _NEAR_END
            except json.JSONDecodeError as error:
                message, at, cut = error.msg, error.pos, _cut(error, len(buf))
            else:
                found = after(buf, end)
                if found is not None and (end < len(buf) - _NEAR_END or stream._eof):
                    block.append(item)
                    closing = found.group(1) == "]"
                    if len(block) == size or closing:
                        lead = _LEAD.match(buf, pos)
                        stream._pos, self._done = found.end(), closing
                        return (
                            block,
                            "[" + buf[start : found.start(1)] + "]" if text else None,
                            None if lead is None else lead.group(),
                        )
                    pos = found.end()
                    continue
                # the item is whole, but what follows is not there yet (or not ',' or ']');
                # near the end, a number may go on
                message, at = "Expecting ',' delimiter", _WS.match(buf, end).end()  # type: ignore[union-attr]
                cut = end >= len(buf) - _NEAR_END or at == len(buf)
            if stream._eof or not cut:
                raise stream._error(message, at)
            keep = start if text else pos
            stream._pos = pos
            stream._more(keep, at_least=len(buf) - pos)  # as much again as the item so far
            buf, pos = stream._buf, stream._pos
            start -= keep
            if not text:
                start = pos


_LEAD = re.compile(r'\{[ \t\n\r]*"[^"\\]{1,64}"[ \t\n\r]*:')  # how an object item begins: {"key":


def _after_item(lead: str) -> re.Pattern[str]:
    """Where an item seems to end and the next to begin (``lead``: how items begin)."""
    return re.compile(r"\}([ \t\n\r]*,[ \t\n\r]*)" + re.escape(lead))
