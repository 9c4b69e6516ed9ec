"""Pages of list results, lazy iteration across pages, and fetching everything.

A list call returns the first page (``.data``, ``.meta``). Iterating over a page
walks every item of every following page, fetching each page when it is
reached. ``fetch_all()`` starts from the first page (reused, whatever its size),
fetches the rest with as few requests as it can (8 at a time: ``_concurrent``'s policy),
and returns every item once, in the server's order: a newest-first list that grows while
it is read shifts items onto the next page, and those repeats are dropped by id.
``fetch_all(as_dicts=True)`` returns plain JSON dicts, without pydantic.
"""

from __future__ import annotations

import functools
import html
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from dataclasses import dataclass, replace
from operator import attrgetter
from typing import Any, Generic, Literal, Protocol, TypeVar, overload

import httpx
from pydantic import BaseModel

from ..limits import MAX_PAGE_SIZE
from . import _json
from ._call import Call, RequestOptions
from ._concurrent import bounded_gather, bounded_map
from ._display import frame_of, html_table
from ._progress import ProgressBar, progress_bar
from .models import PageMeta

T = TypeVar("T", bound=BaseModel)
R = TypeVar("R")
M = TypeVar("M", bound=BaseModel)


class _PageBody(BaseModel, Generic[T]):
    data: list[T]
    meta: PageMeta | None = None


@functools.cache
def _body_model(item: type[BaseModel]) -> type[_PageBody[Any]]:
    return _PageBody[item]  # type: ignore[valid-type]


@dataclass(frozen=True)
class Chunk:
    """The items of one page (models or dicts), its meta and the request that got it."""

    items: list[Any]
    meta: PageMeta | None
    request: PageRequest[Any]


@dataclass(frozen=True)
class PageRequest(Generic[T]):
    """Everything needed to request any page of one list."""

    path: str
    operation: str
    item: type[T]
    filters: dict[str, Any]
    page_number: int | None = None
    page_size: int | None = None
    options: RequestOptions | None = None

    def call(self, parse: Callable[[httpx.Response], R]) -> Call[R]:
        query = dict(self.filters)
        if self.page_number is not None:
            query["page[number]"] = self.page_number
        if self.page_size is not None:
            query["page[size]"] = self.page_size
        return Call(
            "GET", self.path, self.operation, parse, query=query, options=self.options or RequestOptions()
        )

    def parse_page(self, response: httpx.Response) -> tuple[_PageBody[T], bytes]:
        """The validated page, and the bytes it came from."""
        return _json.validate(_body_model(self.item), response.content), response.content

    def parse_chunk(self, response: httpx.Response) -> Chunk:
        """The page's items as plain dicts, without pydantic (but its meta checked)."""
        raw = _json.loads(response.content)
        if not isinstance(raw, dict) or not isinstance(raw.get("data"), list):
            raise ValueError("a list answer must be an object with a `data` list")
        items = raw["data"]
        if not all(isinstance(item, dict) for item in items):
            raise ValueError("the items of `data` must be objects")
        meta = raw.get("meta")
        return Chunk(items, None if meta is None else PageMeta.model_validate(meta), self)

    def key(self, as_dicts: bool) -> Callable[[Any], Any] | None:
        """The identity of an item (its id field, or a tuple of them), for dropping repeats."""
        fields: tuple[str, ...] = getattr(self.item, "_key_fields", ())
        if not fields:
            return None
        if len(fields) == 1:
            name = fields[0]
            return (lambda item: item.get(name)) if as_dicts else attrgetter(name)
        return (lambda item: tuple(item.get(n) for n in fields)) if as_dicts else attrgetter(*fields)


def _unique(chunks: Iterable[Chunk], key: Callable[[Any], Any] | None) -> list[Any]:
    """Every item once (its first appearance), in order; items without an id are all kept."""
    items: list[Any] = []
    if key is None:
        for chunk in chunks:
            items.extend(chunk.items)
        return items
    seen: set[Any] = set()
    for chunk in chunks:
        for item in chunk.items:
            identity = key(item)
            if identity is None or (type(identity) is tuple and None in identity):
                items.append(item)
            elif identity not in seen:
                seen.add(identity)
                items.append(item)
    return items


def _rest(first: Chunk) -> list[PageRequest[Any]]:
    """The requests for every item after the first page, as few as possible.

    Either the following pages at the first page's size, or pages of the largest
    size from the one holding the first page's end (whose repeats are dropped).
    """
    meta = first.meta
    assert meta is not None
    size, total = meta.page_size, meta.total_results
    if meta.total_pages <= 1 or size <= 0 or total <= size:
        return []
    same_size = range(2, -(-total // size) + 1)
    largest = range(size // MAX_PAGE_SIZE + 1, -(-total // MAX_PAGE_SIZE) + 1)
    if len(largest) < len(same_size):
        return [replace(first.request, page_number=n, page_size=MAX_PAGE_SIZE) for n in largest]
    return [replace(first.request, page_number=n, page_size=size) for n in same_size]


class _BasePage(Generic[T]):
    """What sync and async pages share: the data, the meta, and page arithmetic."""

    def __init__(self, request: PageRequest[T], body: _PageBody[T], content: bytes) -> None:
        self._request = request
        self._content = content  # for fetch_all(as_dicts=True), which reuses this page
        self.data: list[T] = body.data
        self.meta: PageMeta | None = body.meta

    @property
    def page_number(self) -> int:
        if self.meta is not None:
            return self.meta.page_number
        return self._request.page_number or 1

    def has_next_page(self) -> bool:
        """Whether a following page may hold items.

        Like the official SDK: not after an empty page, nor when ``page_number`` has
        reached ``total_pages``; without ``meta``, until a page comes back empty.
        """
        if not self.data:
            return False
        return self.meta is None or self.meta.page_number < self.meta.total_pages

    def _next_request(self) -> PageRequest[T]:
        return replace(self._request, page_number=self.page_number + 1)

    def _first_chunk(self, as_dicts: bool) -> Chunk | None:
        """This page as the start of ``fetch_all``, if it is the first page."""
        if self.page_number != 1:
            return None
        request = replace(self._request, page_number=1)
        if self.meta is not None:
            request = replace(request, page_size=self.meta.page_size)
        return Chunk(_json.loads(self._content)["data"] if as_dicts else self.data, self.meta, request)

    def _all_request(self) -> PageRequest[T]:
        return replace(self._request, page_number=1, page_size=MAX_PAGE_SIZE)

    def _bar(self, pages: int, progress: bool | None) -> ProgressBar:
        return progress_bar(pages, desc=self._request.item.__name__ + "s", unit="page", progress=progress)

    def __len__(self) -> int:
        return len(self.data)

    def __repr__(self) -> str:
        meta = self.meta
        where = (
            f"page {meta.page_number}/{meta.total_pages}, {meta.total_results} in all"
            if meta
            else f"page {self.page_number}"
        )
        return f"<{type(self).__name__}[{self._request.item.__name__}] {len(self.data)} items, {where}>"

    def _repr_html_(self) -> str:
        rows = [item.model_dump() for item in self.data]
        columns = list(type(self.data[0]).model_fields) if self.data else []
        caption = repr(self).strip("<>")
        return f"<div><em>{html.escape(caption)}</em>{html_table(rows, columns)}</div>"

    def to_frame(self, **kwargs: Any) -> Any:
        """This page's items as a pandas DataFrame (see :func:`missionlab.to_frame`)."""
        return frame_of(self.data, **kwargs)


class PageSource(Protocol):
    """What a page (and a resource) needs of its client: send a call, read one page.
    :class:`missionlab.Client` is one; naming it here would make the two modules import
    each other."""

    def _send(self, call: Call[R]) -> R: ...

    def _list(self, request: PageRequest[M]) -> SyncPage[M]: ...


class AsyncPageSource(Protocol):
    """:class:`PageSource` awaited: what :class:`missionlab.AsyncClient` offers a page."""

    async def _send(self, call: Call[R]) -> R: ...

    async def _list(self, request: PageRequest[M]) -> AsyncPage[M]: ...


class SyncPage(_BasePage[T]):
    """One page of a list; iterate over it to walk every item of every page."""

    def __init__(
        self, client: PageSource, request: PageRequest[T], body: _PageBody[T], content: bytes
    ) -> None:
        super().__init__(request, body, content)
        self._client = client

    def _fetch(self, request: PageRequest[T]) -> SyncPage[T]:
        return self._client._list(request)

    def _chunk(self, request: PageRequest[Any], as_dicts: bool) -> Chunk:
        if as_dicts:
            return self._client._send(request.call(request.parse_chunk))
        page = self._fetch(request)
        return Chunk(page.data, page.meta, request)

    def get_next_page(self) -> SyncPage[T]:
        """The following page (check :meth:`has_next_page` first)."""
        return self._fetch(self._next_request())

    def iter_pages(self) -> Iterator[SyncPage[T]]:
        """This page and every following one, each fetched when reached."""
        page = self
        yield page
        while page.has_next_page():
            page = page.get_next_page()
            if not page.data:
                return
            yield page

    def __iter__(self) -> Iterator[T]:
        for page in self.iter_pages():
            yield from page.data

    @overload
    def fetch_all(self, *, progress: bool | None = None, as_dicts: Literal[False] = False) -> list[T]: ...
    @overload
    def fetch_all(self, *, progress: bool | None = None, as_dicts: Literal[True]) -> list[dict[str, Any]]: ...
    def fetch_all(self, *, progress: bool | None = None, as_dicts: bool = False) -> list[Any]:
        """Every item of the list once, in server order, fetching pages concurrently.

        ``progress``: None shows a progress bar only when fetching takes more
        than half a second, True always, False never. ``as_dicts``: the items as
        the server sent them (JSON dicts), skipping model validation.
        """
        first = self._first_chunk(as_dicts) or self._chunk(self._all_request(), as_dicts)
        key = self._request.key(as_dicts)
        if first.meta is None:  # no page count: walk until an empty page
            chunks = [first]
            while chunks[-1].items:
                request = chunks[-1].request
                chunks.append(
                    self._chunk(replace(request, page_number=(request.page_number or 1) + 1), as_dicts)
                )
            return _unique(chunks, key)
        requests = _rest(first)
        with self._bar(len(requests) + 1, progress) as bar:
            bar.update(1)
            rest = bounded_map(
                lambda request: self._chunk(request, as_dicts), requests, progress=bar, name="missionlab-page"
            )
        return _unique([first, *rest], key)


class AsyncPage(_BasePage[T]):
    """One page of a list; ``async for`` over it walks every item of every page."""

    def __init__(
        self, client: AsyncPageSource, request: PageRequest[T], body: _PageBody[T], content: bytes
    ) -> None:
        super().__init__(request, body, content)
        self._client = client

    async def _fetch(self, request: PageRequest[T]) -> AsyncPage[T]:
        return await self._client._list(request)

    async def _chunk(self, request: PageRequest[Any], as_dicts: bool) -> Chunk:
        if as_dicts:
            return await self._client._send(request.call(request.parse_chunk))
        page = await self._fetch(request)
        return Chunk(page.data, page.meta, request)

    async def get_next_page(self) -> AsyncPage[T]:
        """The following page (check :meth:`has_next_page` first)."""
        return await self._fetch(self._next_request())

    async def iter_pages(self) -> AsyncIterator[AsyncPage[T]]:
        """This page and every following one, each fetched when reached."""
        page = self
        yield page
        while page.has_next_page():
            page = await page.get_next_page()
            if not page.data:
                return
            yield page

    async def __aiter__(self) -> AsyncIterator[T]:
        async for page in self.iter_pages():
            for item in page.data:
                yield item

    @overload
    async def fetch_all(
        self, *, progress: bool | None = None, as_dicts: Literal[False] = False
    ) -> list[T]: ...
    @overload
    async def fetch_all(
        self, *, progress: bool | None = None, as_dicts: Literal[True]
    ) -> list[dict[str, Any]]: ...
    async def fetch_all(self, *, progress: bool | None = None, as_dicts: bool = False) -> list[Any]:
        """Every item of the list once, in server order, fetching pages concurrently."""
        first = self._first_chunk(as_dicts) or await self._chunk(self._all_request(), as_dicts)
        key = self._request.key(as_dicts)
        if first.meta is None:
            chunks = [first]
            while chunks[-1].items:
                request = chunks[-1].request
                next_request = replace(request, page_number=(request.page_number or 1) + 1)
                chunks.append(await self._chunk(next_request, as_dicts))
            return _unique(chunks, key)
        requests = _rest(first)
        with self._bar(len(requests) + 1, progress) as bar:
            bar.update(1)
            rest = await bounded_gather(
                lambda request: self._chunk(request, as_dicts), requests, progress=bar
            )
        return _unique([first, *rest], key)
