"""Pages of list results, lazy iteration across pages, and fetching everything.

A list call returns the first page (``.data``, ``.meta``). Iterating over a page
walks every item of every following page, fetching each page when it is
reached. ``fetch_all()`` reads ``total_pages`` from a first page of the largest
size the API allows and fetches the rest concurrently (8 at a time), keeping the
server's order and requesting each page once.
"""

from __future__ import annotations

import asyncio
import functools
import html
from collections.abc import AsyncIterator, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Generic, TypeVar

import httpx
from pydantic import BaseModel

from ._call import Call, RequestOptions
from ._display import html_table
from ._validate import MAX_PAGE_SIZE
from .models import PageMeta

if TYPE_CHECKING:
    from ._client import AsyncClient, Client

T = TypeVar("T", bound=BaseModel)

MAX_CONCURRENT_PAGES = 8
PROGRESS_DELAY = 0.5  # seconds before a progress bar appears


class _PageBody(BaseModel, Generic[T]):
    data: list[T]
    meta: PageMeta | None = None


@functools.cache
def _body_model(item: type[BaseModel]) -> type[_PageBody[Any]]:
    return _PageBody[item]  # type: ignore[valid-type]


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

    def call(self, number: int | None, size: int | None, parse: Callable[[httpx.Response], Any]) -> Call[Any]:
        query = dict(self.filters)
        if number is not None:
            query["page[number]"] = number
        if size is not None:
            query["page[size]"] = size
        return Call(
            "GET", self.path, self.operation, parse, query=query, options=self.options or RequestOptions()
        )

    def parse_body(self, response: httpx.Response) -> _PageBody[T]:
        return _body_model(self.item).model_validate_json(response.content)


def _progress(total: int, progress: bool | None, desc: str) -> Any:
    if progress is False:
        return None
    from tqdm.auto import tqdm

    return tqdm(total=total, unit="page", desc=desc, delay=0 if progress else PROGRESS_DELAY)


class _BasePage(Generic[T]):
    """What sync and async pages share: the data, the meta, and page arithmetic."""

    def __init__(self, request: PageRequest[T], body: _PageBody[T]) -> None:
        self._request = request
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

    def _all_request(self) -> PageRequest[T]:
        return replace(self._request, page_number=1, page_size=MAX_PAGE_SIZE)

    def _reusable_as_first(self) -> bool:
        return (
            self.page_number == 1
            and (self.meta.page_size if self.meta else self._request.page_size) == MAX_PAGE_SIZE
        )

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
        from .frames import to_frame

        return to_frame(self.data, **kwargs)


class SyncPage(_BasePage[T]):
    """One page of a list; iterate over it to walk every item of every page."""

    def __init__(self, client: Client, request: PageRequest[T], body: _PageBody[T]) -> None:
        super().__init__(request, body)
        self._client = client

    def _fetch(self, request: PageRequest[T]) -> SyncPage[T]:
        return self._client._list(request)

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

    def fetch_all(self, *, progress: bool | None = None) -> list[T]:
        """Every item of the list, in server order, fetching pages concurrently.

        ``progress``: None shows a progress bar only when fetching takes more
        than half a second, True always, False never.
        """
        first = self if self._reusable_as_first() else self._fetch(self._all_request())
        if first.meta is None:
            return [item for page in first.iter_pages() for item in page.data]
        numbers = range(2, first.meta.total_pages + 1)
        items = list(first.data)
        bar = _progress(first.meta.total_pages, progress, self._request.item.__name__ + "s")
        try:
            if bar is not None:
                bar.update(1)
            if numbers:
                request = first._request

                def fetch(number: int) -> SyncPage[T]:
                    page = self._fetch(replace(request, page_number=number))
                    if bar is not None:
                        bar.update(1)
                    return page

                with ThreadPoolExecutor(MAX_CONCURRENT_PAGES, "missionlab-page") as pool:
                    for page in pool.map(fetch, numbers):
                        items.extend(page.data)
        finally:
            if bar is not None:
                bar.close()
        return items


class AsyncPage(_BasePage[T]):
    """One page of a list; ``async for`` over it walks every item of every page."""

    def __init__(self, client: AsyncClient, request: PageRequest[T], body: _PageBody[T]) -> None:
        super().__init__(request, body)
        self._client = client

    async def _fetch(self, request: PageRequest[T]) -> AsyncPage[T]:
        return await self._client._list(request)

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

    async def fetch_all(self, *, progress: bool | None = None) -> list[T]:
        """Every item of the list, in server order, fetching pages concurrently."""
        first = self if self._reusable_as_first() else await self._fetch(self._all_request())
        if first.meta is None:
            return [item async for page in first.iter_pages() for item in page.data]
        bar = _progress(first.meta.total_pages, progress, self._request.item.__name__ + "s")
        limit = asyncio.Semaphore(MAX_CONCURRENT_PAGES)
        request = first._request

        async def fetch(number: int) -> AsyncPage[T]:
            async with limit:
                page = await self._fetch(replace(request, page_number=number))
            if bar is not None:
                bar.update(1)
            return page

        try:
            if bar is not None:
                bar.update(1)
            pages = await asyncio.gather(*(fetch(n) for n in range(2, first.meta.total_pages + 1)))
        finally:
            if bar is not None:
                bar.close()
        return [item for page in (first, *pages) for item in page.data]
