"""Pages of a list: a cached total, and seeks from known positions.

The API pages by number (``page[number]``, ``page[size]``). Counting the list and skipping
``OFFSET`` rows on every page made page 200 cost 200 pages' worth of work. Instead, each
list (its table, filter and order) keeps, for the database's current write generation, its
total and the sort keys of rows at offsets it has already served ("marks"): a page starts
from the nearest mark at or before it, by key, and skips only what lies between. Paging
through a list in order costs the same on every page; a write to the database starts a new
generation, which discards what was cached.
"""

from __future__ import annotations

import bisect
import sqlite3
import threading
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Literal, overload

from ._encode import answer_json, decoded_row, row_items

MAX_LISTS = 256  # lists whose totals and marks are kept, most recently used
MAX_MARKS = 4096  # marks kept per list
SMALL_PAGE = 100  # rows: a page this small is read without waiting its turn (see Database._reading_pages)

Mark = tuple[Any, int]  # (sort value, rowid) of the row at an offset


class Page:
    """One page of a list: its rows, and the page's ``meta``.

    ``json()`` encodes the answer straight from the rows; ``data`` has them as plain dicts
    (decoded when first asked for). Unpacks as ``data, meta``.
    """

    def __init__(
        self,
        columns: tuple[str, ...],
        rows: list[tuple[Any, ...]],
        json_columns: frozenset[str],
        meta: dict[str, int],
    ) -> None:
        self.columns, self.rows, self.json_columns, self.meta = columns, rows, json_columns, meta
        self._data: list[dict[str, Any]] | None = None

    @property
    def data(self) -> list[dict[str, Any]]:
        if self._data is None:
            self._data = [decoded_row(self.columns, row, self.json_columns) for row in self.rows]
        return self._data

    def json(self) -> bytes:
        """The answer, ``{"data": [...], "meta": {...}}``, encoded in one go."""
        items = row_items(self.columns, self.rows, self.json_columns)
        return answer_json({"data": items, "meta": self.meta})

    def __iter__(self) -> Iterator[Any]:
        return iter((self.data, self.meta))

    @overload
    def __getitem__(self, index: Literal[0]) -> list[dict[str, Any]]: ...
    @overload
    def __getitem__(self, index: Literal[1]) -> dict[str, int]: ...
    def __getitem__(self, index: int) -> Any:
        return (self.data, self.meta)[index]


@dataclass(frozen=True)
class ListQuery:
    """A list: rows of ``table`` matching ``where`` (with ``args``), ordered by ``sort`` then
    insertion (rowid), newest first when ``descending``; ``columns`` are what an item shows,
    read as ``selected`` says (an SQL expression per column; the columns themselves if empty)."""

    table: str
    columns: tuple[str, ...]
    where: str
    args: tuple[Any, ...]
    sort: str
    descending: bool
    selected: tuple[str, ...] = ()

    def count_sql(self) -> str:
        # Without a WHERE clause, SQLite counts from the smallest b-tree's page headers.
        return f"SELECT count(*) FROM {self.table}" + (f" WHERE {self.where}" if self.where else "")

    def rows_sql(self, *, seek: bool) -> str:
        """The rows from an offset (``LIMIT ? OFFSET ?``), after a mark's key when ``seek``.

        Each row has ``columns``, then its sort key (value, rowid).
        """
        before, at_or_before = ("<", "<=") if self.descending else (">", ">=")
        clauses = [f"({self.where})"] if self.where else []
        if seek:  # the first part bounds the index range, the second breaks ties by rowid
            clauses.append(
                f"{self.sort} {at_or_before} ? AND ({self.sort} {before} ? OR rowid {at_or_before} ?)"
            )
        direction = " DESC" if self.descending else ""
        return (
            f"SELECT {', '.join(self.selected or self.columns)}, {self.sort}, rowid FROM {self.table}"
            + (f" WHERE {' AND '.join(clauses)}" if clauses else "")
            + f" ORDER BY {self.sort}{direction}, rowid{direction} LIMIT ? OFFSET ?"
        )


@dataclass
class _Listing:
    """What is known of one list in one generation: its total, and marks by offset."""

    generation: int
    total: int
    offsets: list[int] = field(default_factory=list)  # sorted
    marks: dict[int, Mark] = field(default_factory=dict)

    def nearest(self, offset: int) -> tuple[int, Mark] | None:
        index = bisect.bisect_right(self.offsets, offset)
        if index == 0:
            return None
        at = self.offsets[index - 1]
        return at, self.marks[at]

    def add(self, offset: int, mark: Mark) -> None:
        if offset in self.marks:
            return
        if len(self.offsets) >= MAX_MARKS:
            self.offsets.clear()
            self.marks.clear()
        bisect.insort(self.offsets, offset)
        self.marks[offset] = mark


class Listings:
    """Totals and marks of recently served lists, for one database; safe across threads."""

    def __init__(self) -> None:
        self._lists: OrderedDict[ListQuery, _Listing] = OrderedDict()
        self._lock = threading.Lock()

    def lookup(
        self, query: ListQuery, generation: int, offset: int
    ) -> tuple[int | None, tuple[int, Mark] | None]:
        """(total, nearest mark at or before ``offset``) known in ``generation``, or Nones."""
        with self._lock:
            listing = self._lists.get(query)
            if listing is None or listing.generation != generation:
                return None, None
            self._lists.move_to_end(query)
            return listing.total, listing.nearest(offset)

    def record(self, query: ListQuery, generation: int, total: int, marks: list[tuple[int, Mark]]) -> None:
        with self._lock:
            listing = self._lists.get(query)
            if listing is None or listing.generation != generation:
                listing = self._lists[query] = _Listing(generation, total)
            self._lists.move_to_end(query)
            for offset, mark in marks:
                listing.add(offset, mark)
            while len(self._lists) > MAX_LISTS:
                self._lists.popitem(last=False)


def read_page(
    db: sqlite3.Connection,
    query: ListQuery,
    offset: int,
    size: int,
    total: int | None,
    start: tuple[int, Mark] | None,
) -> tuple[int, list[tuple[Any, ...]]]:
    """(total, rows) of the page at ``offset``, counting unless ``total`` is known, from the
    mark ``start`` when given. Up to ``size + 1`` rows: the extra one marks the next page."""
    if total is None:
        total = int(db.execute(query.count_sql(), query.args).fetchone()[0])
    if offset >= total:
        return total, []
    if start is None:
        return total, db.execute(query.rows_sql(seek=False), (*query.args, size + 1, offset)).fetchall()
    at, (value, rowid) = start
    rows = db.execute(
        query.rows_sql(seek=True), (*query.args, value, value, rowid, size + 1, offset - at)
    ).fetchall()
    return total, rows


def page_marks(offset: int, size: int, rows: list[tuple[Any, ...]]) -> list[tuple[int, Mark]]:
    """The marks a page's rows give: its first row, and the next page's first row."""
    marks = [(offset, (rows[0][-2], rows[0][-1]))] if rows else []
    if len(rows) > size:
        marks.append((offset + size, (rows[size][-2], rows[size][-1])))
    return marks
