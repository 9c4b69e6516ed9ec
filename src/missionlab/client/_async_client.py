"""The asynchronous client: the same resource tree as :class:`~missionlab.Client`, awaited.

A module of its own so that ``import missionlab`` does not import asyncio.
"""

from __future__ import annotations

import asyncio
import time
from functools import cached_property
from typing import TYPE_CHECKING, Any, Self, TypeVar

import httpx
from pydantic import BaseModel

from ..errors import APIError
from ._call import Call
from ._client import (
    DEFAULT_DEADLINE,
    DEFAULT_LIMITS,
    DEFAULT_MAX_RESPONSE_BYTES,
    DEFAULT_MAX_RETRIES,
    DEFAULT_TIMEOUT,
    _BaseClient,
    _BearerAuth,
)
from ._pagination import AsyncPage, PageRequest
from ._retry import RetryDecision

if TYPE_CHECKING:
    from .resources._async import AsyncMissions

__all__ = ["AsyncClient"]

T = TypeVar("T")
M = TypeVar("M", bound=BaseModel)


class AsyncClient(_BaseClient):
    """Asynchronous client: the same resource tree as :class:`Client`, every call awaited.

    The options are :class:`Client`'s; the deadline bounds each whole call,
    including with your own ``http_client`` or ``transport``.
    """

    def __init__(
        self,
        api_key: str | None = None,
        *,
        base_url: str | None = None,
        timeout: float | httpx.Timeout | None = DEFAULT_TIMEOUT,
        max_retries: int = DEFAULT_MAX_RETRIES,
        deadline: float | None = DEFAULT_DEADLINE,
        max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
        http_client: httpx.AsyncClient | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        super().__init__(api_key, base_url, timeout, max_retries, deadline, max_response_bytes)
        self._owns_http = http_client is None
        if http_client is None:
            from ._transport import NoCookies, async_transport

            http_client = httpx.AsyncClient(
                transport=transport or async_transport(self.base_url, DEFAULT_LIMITS), cookies=NoCookies()
            )
        self._http: httpx.AsyncClient = http_client
        self._http.auth = _BearerAuth(self._secret)

    @cached_property
    def missions(self) -> AsyncMissions:
        """Missions, and through them runs, plans, events, agents, tools, KBs, MCP servers."""
        from .resources._async import AsyncMissions

        return AsyncMissions(self)

    async def _send(self, call: Call[T]) -> T:
        seconds, end = self._call_deadline(call)
        retry_number = 0
        while True:
            retry_number += 1
            outcome: RetryDecision | APIError
            try:
                async with asyncio.timeout(None if end is None else end - time.monotonic()):
                    response = await self._receive(call, end)
            except TimeoutError:  # the deadline passed during the attempt
                outcome = self._past_deadline(call, seconds, "the last attempt was still running")
                why = ""
            except httpx.DecodingError as exc:
                raise self._undecodable(call, exc) from None
            except httpx.TransportError as exc:
                outcome = self._on_transport_error(call, exc, retry_number, seconds, end)
                why = type(exc).__name__
            else:
                done, result, outcome = self._on_response(call, response, retry_number)
                if done:
                    return result  # type: ignore[no-any-return]
                why = f"the last answer was HTTP {response.status_code}"
            if isinstance(outcome, APIError):
                raise outcome
            await asyncio.sleep(self._delay(call, outcome, seconds, end, why))

    async def _receive(self, call: Call[Any], end: float | None) -> httpx.Response:
        """One attempt's answer, its body read up to ``max_response_bytes``."""
        response = await self._http.send(self._request(call, end), stream=True)
        try:
            body = self._body_counter(call, response)
            async for chunk in response.aiter_bytes():
                body.add(chunk)
        finally:
            await response.aclose()
        return body.response_read()

    async def _list(self, request: PageRequest[M]) -> AsyncPage[M]:
        def parse(response: httpx.Response) -> AsyncPage[M]:
            return AsyncPage(self, request, *request.parse_page(response))

        return await self._send(request.call(parse))

    async def aclose(self) -> None:
        """Close the connections this client opened."""
        if self._owns_http:
            await self._http.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.aclose()
