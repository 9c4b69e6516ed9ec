"""Pages of list results, lazy iteration across pages, and fetching everything.

A list call returns the first page (``.data``, ``.meta``). Iterating over a page
walks every item of every following page, fetching each page when it is
reached. ``fetch_all()`` starts from the first page (reused, whatever its size),
fetches the rest with as few requests as it can (8 at a time: ``_concurrent``'s policy),
and returns every item once, in the server's order: an :class:`~._items.ItemList`, whose
models are made a block at a time when first read (a frame reads the JSON itself).
``fetch_all(as_dicts=True)`` returns the plain JSON dicts. Both read every page as JSON
dicts (orjson), without pydantic, on one path; :func:`fetch_every` is that path from a
request, without the models a page makes of its own items.

Every walk reads exactly (:class:`_Walk`): it follows the page size the server actually
served (a server may cap or ignore ``page[size]``), drops repeats by id (a newest-first
list that grows while it is read shifts items onto the next page), reads on page by page
from a concurrent page answered before the one ahead of it (:meth:`_Walk.take_planned`),
reads on to the list's new end when it grew, reads it once more when it shrank, and raises
:class:`~missionlab.IncompleteListError` rather than return fewer items than
``meta.total_results`` promised.
"""

from __future__ import annotations

import functools
import html
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import aclosing, closing
from dataclasses import dataclass, replace
from operator import attrgetter, methodcaller
from typing import Any, Generic, Literal, Protocol, TypeVar, overload

import httpx
from pydantic import BaseModel

from .._wire.collector import collection_paused
from ..errors import IncompleteListError
from ..limits import MAX_PAGE_SIZE
from . import _json
from ._call import Call, RequestOptions
from ._concurrent import bounded_aimap, bounded_imap
from ._display import frame_of, html_table
from ._items import ItemList
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

    def answer_call(self) -> Call[httpx.Response]:
        """The page's request whose result is the answer itself, read but not parsed: what
        the concurrent fetches of ``iter_dicts`` send (see :meth:`read_chunk`)."""
        return self.call(_answer)

    def read_chunk(self, client: AnswerParser, answer: httpx.Response) -> Chunk:
        """The chunk of an answer to :meth:`answer_call`, parsed by the thread that takes it,
        as ``client`` parses answers (:class:`~missionlab.APIError` when it is no list answer).
        Parsed in the fetching threads instead, eight pages ahead, ``fetch_frames`` took
        about 60% more CPU: the reader met objects that had left the CPU's caches, and the
        parsing threads took the GIL from it in turn."""
        return client._parsed(self.call(self.parse_chunk), answer)

    def parse_chunk(self, response: httpx.Response) -> Chunk:
        """The page's items as plain dicts, without pydantic (but its meta checked)."""
        raw = _json.loads(response.content)
        if not isinstance(raw, dict) or not isinstance(raw.get("data"), list):
            raise ValueError("a list answer must be an object with a `data` list")
        items = raw["data"]
        if not set(map(type, items)) <= {dict}:  # (JSON objects parse as plain dicts)
            raise ValueError("the items of `data` must be objects")
        meta = raw.get("meta")
        return Chunk(items, None if meta is None else PageMeta.model_validate(meta), self)

    def key(self, as_dicts: bool = True) -> Callable[[Any], Any] | None:
        """The identity of an item (its id field, or a tuple of them), for dropping repeats."""
        fields: tuple[str, ...] = getattr(self.item, "_key_fields", ())
        if not fields:
            return None
        if len(fields) == 1:
            name = fields[0]
            return methodcaller("get", name) if as_dicts else attrgetter(name)
        if len(fields) == 2 and as_dicts:  # (an event's run and id: spelled out, it is the faster)
            first, second = fields
            return lambda item: (item.get(first), item.get(second))
        return (lambda item: tuple(item.get(n) for n in fields)) if as_dicts else attrgetter(*fields)


def _answer(response: httpx.Response) -> httpx.Response:
    return response


def _served_size(chunk: Chunk) -> int:
    """The page size the server used for ``chunk``: the size asked for (or the one its meta
    states) when the page holds what a page of that size holds, else the count it served."""
    meta, count = chunk.meta, len(chunk.items)
    if meta is None:
        return count
    number = chunk.request.page_number or meta.page_number or 1
    for size in (chunk.request.page_size, meta.page_size):
        if size and size > 0 and count == max(0, min(size, meta.total_results - (number - 1) * size)):
            return size
    return count


def _plan(first: Chunk) -> list[PageRequest[Any]]:
    """The requests for every item after the first page, as few as possible.

    Either the following pages at the first page's size, or pages of the largest
    size from the one holding the first page's end (whose repeats are dropped).
    """
    meta = first.meta
    assert meta is not None
    size, total = _served_size(first), meta.total_results
    if size <= 0 or total <= len(first.items):
        return []
    same_size = range(2, -(-total // size) + 1)
    largest = range(size // MAX_PAGE_SIZE + 1, -(-total // MAX_PAGE_SIZE) + 1)
    if len(largest) < len(same_size):
        return [replace(first.request, page_number=n, page_size=MAX_PAGE_SIZE) for n in largest]
    return [replace(first.request, page_number=n, page_size=size) for n in same_size]


class _Walk:
    """One exact read of a whole list, fed page by page (the sync and async pages drive it).

    It keeps every item once (its first appearance; items without an id are all kept), the
    position reached in the list and the page size the server serves, and says which page
    to ask for next: none once the position reaches the list's latest ``total_results``.
    A list that shrank while it was read, or came up short, is read once more from the
    start (items shift towards the front past pages already read). ``result()`` refuses
    to return fewer items than the list held throughout the read, or a list that shrank
    again while it was read once more.
    """

    REREADS = 1

    def __init__(self, first: Chunk, key: Callable[[Any], Any] | None, *, keep: bool = True) -> None:
        self._key = key
        self._seen: set[Any] = set()
        self.items: list[Any] = []  # every item kept (with ``keep``; a stream yields them instead)
        self._keep_items = keep
        self.count = 0  # items kept so far
        self._template = first.request
        self._totals: list[int] = []  # every total_results seen, over every read
        self._rereads = 0
        self._restart = False
        self._changing = False  # it shrank in the last read allowed too
        self._before_reread = 0  # items kept when the list was read once more from the start
        self._exact = first.meta is not None and (first.request.page_number or 1) == 1
        self._size = first.request.page_size or MAX_PAGE_SIZE
        self._reset()
        self.first = self.add(first)  # the first page's items

    def _reset(self) -> None:
        self._position = 0  # items of the list before this point have been read
        self._last = (0, 0)  # (page number, page size) of the last page read
        self._pages = 0
        self._read_totals: list[int] = []  # the totals seen in this read
        self._served = 0  # items the pages of this read held, repeats included
        self._ended = False

    def add(self, chunk: Chunk) -> list[Any]:
        """Take one page's items; returns those not seen before."""
        if self._restart:
            self._restart = False
            self._reset()
        fresh = self._keep(chunk.items)
        self._served += len(chunk.items)
        meta = chunk.meta
        number = chunk.request.page_number or (meta.page_number if meta else 1) or 1
        asked = chunk.request.page_size or (meta.page_size if meta else 0)
        if chunk.items:
            size = self._size = _served_size(chunk)  # may differ from `asked`: follow the server
            self._position = max(self._position, (number - 1) * size + len(chunk.items))
        else:
            self._ended = True
        self._last = (number, asked)
        self._pages += 1
        if meta is not None:
            self._totals.append(meta.total_results)
            self._read_totals.append(meta.total_results)
        return fresh

    def _keep(self, items: list[Any]) -> list[Any]:
        fresh = self._fresh(items)
        self.count += len(fresh)
        if self._keep_items:
            self.items.extend(fresh)
        return fresh

    def _fresh(self, items: list[Any]) -> list[Any]:
        if self._key is None:
            return items
        identities = list(map(self._key, items))
        try:
            distinct = set(identities)
        except TypeError:  # an id that is no JSON scalar
            distinct = set()
        usual = (  # the usual page: every id there, new, once
            items
            and len(distinct) == len(items)
            and None not in distinct
            and distinct.isdisjoint(self._seen)
            and (type(identities[0]) is not tuple or not any(None in i for i in identities))
        )
        if usual:
            self._seen |= distinct
            return items
        fresh = []
        for item in items:
            identity = self._key(item)
            if identity is None or (type(identity) is tuple and None in identity):
                fresh.append(item)
                continue
            try:
                seen = identity in self._seen
            except TypeError:  # an id that is no JSON scalar: kept (its model will refuse it)
                fresh.append(item)
                continue
            if not seen:
                self._seen.add(identity)
                fresh.append(item)
        return fresh

    def plan(self, first: Chunk) -> list[PageRequest[Any]]:
        """The fast path's requests (fetched concurrently), when the first page has a meta."""
        return _plan(first) if first.meta is not None else []

    def take_planned(self, chunk: Chunk) -> list[Any] | None:
        """Take one of the fast path's pages, in order: its new items, or None (and no further
        planned page should be taken) when it does not hold what was asked (a server that caps
        or ignores ``page[size]``), or when its list held fewer items than the page before's:
        the rest is then read page by page (from that page on), at the size it was served at.

        Concurrent pages may be answered out of order. A page answered before the one ahead
        of it, when newer items came in at the front between the two answers, starts past
        the items that the later answer pushed off that page's end: they are on neither."""
        asked = chunk.request.page_size
        meta = chunk.meta
        earlier = meta is not None and bool(self._read_totals) and meta.total_results < self._read_totals[-1]
        if earlier or _served_size(chunk) != asked or (meta is not None and meta.page_size != asked):
            if chunk.items:
                self._size = _served_size(chunk)
            return None
        return self.add(chunk)

    def next_request(self) -> PageRequest[Any] | None:
        """The page to read next, or None when the list has been read."""
        if not self._read_totals:  # no meta: until a page comes back empty
            if self._ended:
                return None
            return replace(self._template, page_number=self._last[0] + 1, page_size=self._last[1] or None)
        total = self._read_totals[-1]
        enough = -(-max(self._read_totals) // max(self._size, 1)) + 2  # a server that never ends
        if not self._ended and self._position < total and self._pages <= enough:
            number = self._position // self._size + 1
            if self._last[1] == self._size and number <= self._last[0]:
                number = self._last[0] + 1
            return replace(self._template, page_number=number, page_size=self._size)
        shrank = min(self._read_totals) < self._read_totals[0]
        if self._exact and (shrank or self.count < min(self._totals)):
            if self._rereads < self.REREADS:
                self._rereads += 1
                self._before_reread = self.count
                self._restart = True
                return replace(self._template, page_number=1, page_size=self._size)
            self._changing = shrank
        return None

    def result(self, operation: str) -> list[Any]:
        """Every item kept, once; :class:`IncompleteListError` when some are missing, or may be
        (the list still shrank while it was read again)."""
        if self._exact and self._totals and (self._changing or self.count < min(self._totals)):
            expected = min(self._totals)
            # Read twice from the start, the list never changed, its pages held every item
            # it counts, and the second read found nothing new: some items share their id
            # with another item, and another try reads the same pages.
            repeated = (
                self._rereads > 0
                and not self._changing
                and max(self._totals) == expected
                and self._served >= expected
                and self.count == self._before_reread
            )
            raise IncompleteListError(
                operation=operation,
                expected=expected,
                got=self.count,
                changing=self._changing,
                repeated=repeated,
            )
        return self.items


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
        """The following page, at the size the server served this one (it may cap ``page[size]``)."""
        chunk = Chunk(self.data, self.meta, replace(self._request, page_number=self.page_number))
        size = _served_size(chunk) if self.data else self._request.page_size
        return replace(self._request, page_number=self.page_number + 1, page_size=size or None)

    def _first_chunk(self) -> Chunk | None:
        """This page (as JSON dicts) as the start of ``fetch_all``, if it is the first page."""
        if self.page_number != 1:
            return None
        return _as_first(Chunk(_json.loads(self._content)["data"], self.meta, self._request))

    def _own_chunk(self) -> Chunk:
        """This page as the start of an iteration."""
        return Chunk(self.data, self.meta, replace(self._request, page_number=self.page_number))

    def _answer(self, items: list[dict[str, Any]], as_dicts: bool) -> Any:
        """``fetch_all``'s answer from every item of the list as JSON dicts.

        ``fetch_all`` gathers them with the cyclic garbage collector paused: the parsed pages
        are new containers by the hundred thousand, all kept and none in a cycle, and each
        full collection the growing heap set off while they piled up went over all of them
        again (on 50,000 events, one such pass cost about a third of the fetch's CPU)."""
        return items if as_dicts else ItemList(self._request.item, items, self._request.operation)

    def _all_request(self) -> PageRequest[T]:
        return _all(self._request)

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


class AnswerParser(Protocol):
    """What parses a fetched answer: the client (:meth:`PageRequest.read_chunk`)."""

    def _parsed(self, call: Call[R], response: httpx.Response) -> R: ...


class PageSource(AnswerParser, Protocol):
    """What a page (and a resource) needs of its client: send a call, read one page.
    :class:`missionlab.Client` is one; naming it here would make the two modules import
    each other."""

    def _send(self, call: Call[R]) -> R: ...

    def _list(self, request: PageRequest[M]) -> SyncPage[M]: ...


class AsyncPageSource(AnswerParser, Protocol):
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

    def _chunk(self, request: PageRequest[Any]) -> Chunk:
        return self._client._send(request.call(request.parse_chunk))

    def _model_chunk(self, request: PageRequest[T]) -> Chunk:
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
        walk = _Walk(self._own_chunk(), self._request.key(False), keep=False)
        yield from walk.first
        while (request := walk.next_request()) is not None:
            yield from walk.add(self._model_chunk(request))
        walk.result(self._request.operation)

    def iter_dicts(self, *, progress: bool | None = None) -> Iterator[list[dict[str, Any]]]:
        """Every item of the list once, in server order, as the JSON dicts the server sent, a
        page at a time as pages arrive: the pages after the first are fetched concurrently
        (8 at a time) while the caller works on the ones before. This is the walk of
        :meth:`fetch_all` (exact: :class:`~missionlab.IncompleteListError`, raised after the
        last page, rather than fewer items); ``progress`` as there."""
        yield from _dicts(self._client, self._first_chunk() or self._chunk(self._all_request()), progress)

    @overload
    def fetch_all(self, *, progress: bool | None = None, as_dicts: Literal[False] = False) -> ItemList[T]: ...
    @overload
    def fetch_all(self, *, progress: bool | None = None, as_dicts: Literal[True]) -> list[dict[str, Any]]: ...
    def fetch_all(self, *, progress: bool | None = None, as_dicts: bool = False) -> Any:
        """Every item of the list once, in server order, fetching pages concurrently.

        Returns an :class:`~missionlab.ItemList` of models, each block of 1,000 made
        when first read (``to_frame()`` reads the JSON straight away). ``progress``: None
        shows a progress bar only when fetching takes more than half a second, True always,
        False never. ``as_dicts``: a plain list of the items as the server sent them (JSON
        dicts). Raises :class:`~missionlab.IncompleteListError` rather than return fewer
        items than the server says the list holds.
        """
        with collection_paused():  # see _BasePage._answer
            items = [item for chunk in self.iter_dicts(progress=progress) for item in chunk]
            return self._answer(items, as_dicts)


def _stream(first: Chunk) -> tuple[_Walk, list[PageRequest[Any]]]:
    """The walk of ``iter_dicts`` from the list's ``first`` page, and the pages to fetch
    concurrently."""
    walk = _Walk(first, first.request.key(), keep=False)
    return walk, walk.plan(first)


def _page_bar(request: PageRequest[Any], pages: int, progress: bool | None) -> ProgressBar:
    return progress_bar(pages, desc=request.item.__name__ + "s", unit="page", progress=progress)


def _as_first(chunk: Chunk) -> Chunk:
    """``chunk`` (the list's first page) as the start of a walk: asked for as page 1, at the
    size its meta states."""
    request = replace(chunk.request, page_number=1)
    if chunk.meta is not None:
        request = replace(request, page_size=chunk.meta.page_size)
    return replace(chunk, request=request)


def _dicts(client: PageSource, first: Chunk, progress: bool | None) -> Iterator[list[dict[str, Any]]]:
    """:meth:`SyncPage.iter_dicts` from the list's ``first`` page (JSON dicts)."""
    template = first.request
    walk, requests = _stream(first)
    if walk.first:
        yield walk.first
    with _page_bar(template, len(requests) + 1, progress) as bar:
        bar.update(1)

        def fetched(request: PageRequest[Any]) -> httpx.Response:
            return client._send(request.answer_call())

        with closing(bounded_imap(fetched, requests, progress=bar, name="missionlab-page")) as answers:
            for planned, answer in zip(requests, answers, strict=False):
                fresh = walk.take_planned(planned.read_chunk(client, answer))
                if fresh is None:
                    break
                if fresh:
                    yield fresh
        while (request := walk.next_request()) is not None:
            if fresh := walk.add(client._send(request.call(request.parse_chunk))):
                yield fresh
    walk.result(template.operation)


def fetch_every(client: PageSource, request: PageRequest[T], *, progress: bool | None = None) -> ItemList[T]:
    """What ``fetch_all(progress=progress)`` of the page ``request`` asks for returns, with no
    model made for that page's items (a page makes one per item, which ``fetch_all`` does not
    use): the first page's JSON dicts start the walk, as the later pages' do."""
    first = client._send(request.call(request.parse_chunk))
    number = first.meta.page_number if first.meta is not None else request.page_number or 1
    if number == 1:
        first = _as_first(first)
    else:  # not the first page: the walk starts from the first at the largest size
        every = _all(request)
        first = client._send(every.call(every.parse_chunk))
    with collection_paused():  # as fetch_all gathers (see _BasePage._answer)
        items = [item for chunk in _dicts(client, first, progress) for item in chunk]
    return ItemList(request.item, items, request.operation)


def _all(request: PageRequest[T]) -> PageRequest[T]:
    """The list's first page at the largest size."""
    return replace(request, page_number=1, page_size=MAX_PAGE_SIZE)


class AsyncPage(_BasePage[T]):
    """One page of a list; ``async for`` over it walks every item of every page."""

    def __init__(
        self, client: AsyncPageSource, request: PageRequest[T], body: _PageBody[T], content: bytes
    ) -> None:
        super().__init__(request, body, content)
        self._client = client

    async def _fetch(self, request: PageRequest[T]) -> AsyncPage[T]:
        return await self._client._list(request)

    async def _chunk(self, request: PageRequest[Any]) -> Chunk:
        return await self._client._send(request.call(request.parse_chunk))

    async def _fetched(self, request: PageRequest[Any]) -> httpx.Response:
        return await self._client._send(request.answer_call())

    async def _model_chunk(self, request: PageRequest[T]) -> Chunk:
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
        walk = _Walk(self._own_chunk(), self._request.key(False), keep=False)
        for item in walk.first:
            yield item
        while (request := walk.next_request()) is not None:
            for item in walk.add(await self._model_chunk(request)):
                yield item
        walk.result(self._request.operation)

    async def iter_dicts(self, *, progress: bool | None = None) -> AsyncIterator[list[dict[str, Any]]]:
        """:meth:`SyncPage.iter_dicts`, with ``async for``: the pages after the first are
        fetched concurrently (8 at a time) while the caller works on the ones before."""
        walk, requests = _stream(self._first_chunk() or await self._chunk(self._all_request()))
        if walk.first:
            yield walk.first
        with _page_bar(self._request, len(requests) + 1, progress) as bar:
            bar.update(1)
            async with aclosing(bounded_aimap(self._fetched, requests, progress=bar)) as answers:
                planned = iter(requests)
                async for answer in answers:
                    fresh = walk.take_planned(next(planned).read_chunk(self._client, answer))
                    if fresh is None:
                        break
                    if fresh:
                        yield fresh
            while (request := walk.next_request()) is not None:
                if fresh := walk.add(await self._chunk(request)):
                    yield fresh
        walk.result(self._request.operation)

    @overload
    async def fetch_all(
        self, *, progress: bool | None = None, as_dicts: Literal[False] = False
    ) -> ItemList[T]: ...
    @overload
    async def fetch_all(
        self, *, progress: bool | None = None, as_dicts: Literal[True]
    ) -> list[dict[str, Any]]: ...
    async def fetch_all(self, *, progress: bool | None = None, as_dicts: bool = False) -> Any:
        """Every item of the list once, in server order, fetching pages concurrently, as
        :meth:`SyncPage.fetch_all` (:class:`~missionlab.IncompleteListError` rather than
        fewer items)."""
        with collection_paused():  # see _BasePage._answer
            items = [item async for chunk in self.iter_dicts(progress=progress) for item in chunk]
            return self._answer(items, as_dicts)
