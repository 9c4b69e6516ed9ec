"""The sync and async clients: configuration, authentication, sending with retries.

Everything about a request except the I/O (building it, deciding on retries,
turning the answer into a result or an error) is shared in :class:`_BaseClient`;
:class:`Client` and :class:`AsyncClient` only differ in how they wait.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import Generator
from functools import cached_property
from typing import Any, TypeVar, cast

import httpx

from ._call import Call
from ._exceptions import (
    APIConnectionError,
    APIError,
    APITimeoutError,
    MissingAPIKeyError,
    status_error,
)
from ._pagination import AsyncPage, PageRequest, SyncPage
from ._retry import RetryDecision, decide_after_error, decide_after_response, server_may_have_acted
from .resources import Missions

__all__ = ["DEFAULT_BASE_URL", "AsyncClient", "Client"]

T = TypeVar("T")

DEFAULT_BASE_URL = "https://api.telnyx.com/v2"
DEFAULT_TIMEOUT = 30.0
DEFAULT_MAX_RETRIES = 2
SANDBOX_KEY = "sandbox"  # sent to servers other than the hosted API when no key is set

log = logging.getLogger("missionlab")


class _Secret:
    """Holds the API key so that no repr, log or traceback can show it."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "<redacted>"

    __str__ = __repr__

    def __reduce__(self) -> Any:
        raise TypeError("the API key cannot be pickled")


class _BearerAuth(httpx.Auth):
    """Adds ``Authorization: Bearer <key>`` to each request as it is sent."""

    def __init__(self, secret: _Secret) -> None:
        self._secret = secret

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers["Authorization"] = "Bearer " + self._secret.reveal()
        yield request

    def __repr__(self) -> str:
        return "<BearerAuth redacted>"


def _is_hosted(base_url: str) -> bool:
    host = httpx.URL(base_url).host
    return host == "telnyx.com" or host.endswith(".telnyx.com")


class _BaseClient:
    _http: Any  # httpx.Client or httpx.AsyncClient, set by the subclass

    def __init__(
        self, api_key: str | None, base_url: str | None, timeout: float | httpx.Timeout, max_retries: int
    ) -> None:
        self.base_url = (base_url or os.environ.get("TELNYX_BASE_URL") or DEFAULT_BASE_URL).rstrip("/")
        key = api_key if api_key is not None else os.environ.get("TELNYX_API_KEY")
        if not key:
            if _is_hosted(self.base_url):
                raise MissingAPIKeyError(
                    "No API key for the hosted Telnyx API. Set the TELNYX_API_KEY environment "
                    "variable or pass api_key=...; or work offline against the local sandbox "
                    "with missionlab.connect() (or missionlab.sandbox.Sandbox().client())."
                )
            key = SANDBOX_KEY
        self._secret = _Secret(key)
        self.timeout = timeout
        if max_retries < 0:
            raise ValueError("max_retries must be >= 0")
        self.max_retries = max_retries

    @property
    def ai(self) -> Any:
        """The client itself, so that ``client.ai.missions`` works as in the official SDK."""
        return self

    @cached_property
    def missions(self) -> Missions:
        """Missions, and through them runs, plans, events, agents, tools, KBs, MCP servers."""
        return Missions(self)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(base_url={self.base_url!r}, api_key=<redacted>)"

    def _redact(self, text: str) -> str:
        key = self._secret.reveal()
        return text.replace(key, "<redacted>") if len(key) >= 4 else text

    def _request(self, call: Call[Any]) -> httpx.Request:
        kwargs = call.request_kwargs()
        kwargs.setdefault("timeout", self.timeout)
        request: httpx.Request = self._http.build_request(call.method, self.base_url + call.path, **kwargs)
        return request

    def _on_response(
        self, call: Call[T], response: httpx.Response, retry_number: int
    ) -> tuple[bool, Any, RetryDecision]:
        """(done, result, decision): the parsed result, or whether to retry, or raises."""
        if response.is_success:
            try:
                return True, call.parse(response), RetryDecision(False)
            except ValueError as exc:  # pydantic's ValidationError and JSON errors
                raise APIError(
                    f"{call.operation}: the server's answer (HTTP {response.status_code}) is not "
                    f"what the API documents: {self._redact(str(exc))[:1000]}",
                    operation=call.operation,
                ) from None
        if call.method == "DELETE" and retry_number > 1 and response.status_code == 404:
            return True, None, RetryDecision(False)  # an earlier attempt already deleted it
        decision = decide_after_response(
            response,
            idempotent=call.idempotent,
            retries_left=self.max_retries - retry_number + 1,
            retry_number=retry_number,
        )
        if not decision.retry:
            error = status_error(response, call.operation)
            error.reasons = [self._redact(r) for r in error.reasons]
            error.args = (self._redact(str(error)),)
            raise error
        log.info(
            "retrying %s in %.2fs (retry %d of %d) after HTTP %d",
            call.operation,
            decision.delay,
            retry_number,
            self.max_retries,
            response.status_code,
        )
        return False, None, decision

    def _on_transport_error(
        self, call: Call[Any], exc: httpx.TransportError, retry_number: int
    ) -> RetryDecision | APIError:
        """The retry decision after a transport error, or the error to raise.

        The caller raises the error outside its ``except`` block, unchained: the
        transport's own exception (and any frame holding it) may carry request details.
        """
        decision = decide_after_error(
            exc,
            idempotent=call.idempotent,
            retries_left=self.max_retries - retry_number + 1,
            retry_number=retry_number,
        )
        if decision.retry:
            log.info(
                "retrying %s in %.2fs (retry %d of %d) after %s",
                call.operation,
                decision.delay,
                retry_number,
                self.max_retries,
                type(exc).__name__,
            )
            return decision
        return self._connection_error(call, exc)

    def _connection_error(self, call: Call[Any], exc: httpx.TransportError) -> APIError:
        cls = APITimeoutError if isinstance(exc, httpx.TimeoutException) else APIConnectionError
        what = "timed out" if cls is APITimeoutError else "could not reach the server"
        reason = self._redact(str(exc) or type(exc).__name__)
        message = f"{call.operation} {what} at {self.base_url}: {reason}"
        if not call.idempotent and server_may_have_acted(exc):
            message += (
                " (the server may have acted on this request, so it was not retried "
                "automatically: check its effect before sending it again)"
            )
        return cls(message, operation=call.operation)


class Client(_BaseClient):
    """Synchronous client of the Telnyx AI Missions API.

    ``api_key`` defaults to ``TELNYX_API_KEY`` and ``base_url`` to
    ``TELNYX_BASE_URL``, else the hosted API. Pass ``http_client`` or
    ``transport`` to send requests your own way (tests use
    ``httpx.MockTransport`` or an ASGI transport).
    """

    def __init__(
        self,
        api_key: str | None = None,
        *,
        base_url: str | None = None,
        timeout: float | httpx.Timeout = DEFAULT_TIMEOUT,
        max_retries: int = DEFAULT_MAX_RETRIES,
        http_client: httpx.Client | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        super().__init__(api_key, base_url, timeout, max_retries)
        self._owns_http = http_client is None
        self._http: httpx.Client = http_client or httpx.Client(
            transport=transport, limits=httpx.Limits(max_connections=32)
        )
        self._http.auth = _BearerAuth(self._secret)

    def _send(self, call: Call[T]) -> T:
        retry_number = 0
        while True:
            retry_number += 1
            try:
                response = self._http.send(self._request(call))
            except httpx.TransportError as exc:
                outcome = self._on_transport_error(call, exc, retry_number)
            else:
                done, result, outcome = self._on_response(call, response, retry_number)
                if done:
                    return cast(T, result)
            if isinstance(outcome, APIError):
                raise outcome
            decision = outcome
            time.sleep(decision.delay)

    def _list(self, request: PageRequest[Any]) -> SyncPage[Any]:
        call = request.call(
            request.page_number, request.page_size, lambda r: SyncPage(self, request, request.parse_body(r))
        )
        return self._send(call)

    def close(self) -> None:
        """Close the connections this client opened."""
        if self._owns_http:
            self._http.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class AsyncClient(_BaseClient):
    """Asynchronous client: the same resource tree as :class:`Client`, every call awaited."""

    def __init__(
        self,
        api_key: str | None = None,
        *,
        base_url: str | None = None,
        timeout: float | httpx.Timeout = DEFAULT_TIMEOUT,
        max_retries: int = DEFAULT_MAX_RETRIES,
        http_client: httpx.AsyncClient | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        super().__init__(api_key, base_url, timeout, max_retries)
        self._owns_http = http_client is None
        self._http: httpx.AsyncClient = http_client or httpx.AsyncClient(
            transport=transport, limits=httpx.Limits(max_connections=32)
        )
        self._http.auth = _BearerAuth(self._secret)

    async def _send(self, call: Call[T]) -> T:
        retry_number = 0
        while True:
            retry_number += 1
            try:
                response = await self._http.send(self._request(call))
            except httpx.TransportError as exc:
                outcome = self._on_transport_error(call, exc, retry_number)
            else:
                done, result, outcome = self._on_response(call, response, retry_number)
                if done:
                    return cast(T, result)
            if isinstance(outcome, APIError):
                raise outcome
            decision = outcome
            await asyncio.sleep(decision.delay)

    async def _list(self, request: PageRequest[Any]) -> AsyncPage[Any]:
        call = request.call(
            request.page_number, request.page_size, lambda r: AsyncPage(self, request, request.parse_body(r))
        )
        return await self._send(call)

    async def aclose(self) -> None:
        """Close the connections this client opened."""
        if self._owns_http:
            await self._http.aclose()

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()
