"""The clients' shared core, and the synchronous :class:`Client`.

Everything about a request except the I/O (building it, deciding on retries,
the deadline, turning the answer into a result or an error) is shared in
:class:`_BaseClient`; :class:`Client` and :class:`~missionlab.AsyncClient`
(in ``_async_client``) only differ in how they wait.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Generator
from functools import cached_property
from typing import TYPE_CHECKING, Any, Self, TypeVar
from urllib.parse import quote

import httpx

from ..errors import (
    APIConnectionError,
    APIError,
    APITimeoutError,
    InvalidArgumentError,
    MissingAPIKeyError,
    ResponseTooLargeError,
)
from ._call import Call, check_seconds, header_problem
from ._deadline import call_deadline
from ._pagination import PageRequest, SyncPage
from ._retry import RetryDecision, decide_after_error, decide_after_response, server_may_have_acted
from .errors import status_error

if TYPE_CHECKING:
    from .resources import Missions

__all__ = ["DEFAULT_BASE_URL", "Client"]

T = TypeVar("T")
M = TypeVar("M", bound=Any)

DEFAULT_BASE_URL = "https://api.telnyx.com/v2"
DEFAULT_TIMEOUT = 30.0
DEFAULT_DEADLINE = 300.0  # a whole call, retries included: a trickling server cannot hold it longer
DEFAULT_MAX_RETRIES = 2
DEFAULT_MAX_RESPONSE_BYTES = 256 * 1024 * 1024  # one answer, decompressed
DEFAULT_LIMITS = httpx.Limits(max_connections=32, max_keepalive_connections=32)
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


def _base_url(value: Any) -> str:
    """The base URL, checked: http(s), a host, no query or fragment."""
    given = value if value is not None else os.environ.get("TELNYX_BASE_URL") or DEFAULT_BASE_URL
    name = "base_url" if value is not None else "base_url (from TELNYX_BASE_URL)"
    if not isinstance(given, str):
        raise InvalidArgumentError(name, f"expected a URL string, got {type(given).__name__}")
    if any(char.isspace() or not char.isprintable() for char in given.strip()):
        raise InvalidArgumentError(name, "must not contain spaces or control characters")
    try:
        url = httpx.URL(given.strip())
    except httpx.InvalidURL as exc:
        raise InvalidArgumentError(name, f"is not a valid URL: {exc}") from None
    if url.scheme not in ("http", "https") or not url.host:
        raise InvalidArgumentError(
            name, f"expected an http:// or https:// URL with a host, like {DEFAULT_BASE_URL!r}"
        )
    if url.query or url.fragment:
        raise InvalidArgumentError(name, "must not have a query or a fragment")
    return given.strip().rstrip("/")


def _api_key(value: Any, base_url: str) -> str:
    """The API key, without surrounding whitespace; refused if a header could not carry it.

    The messages never contain the key.
    """
    key = value if value is not None else os.environ.get("TELNYX_API_KEY")
    name = "api_key" if value is not None else "api_key (from TELNYX_API_KEY)"
    if key is not None and not isinstance(key, str):
        raise InvalidArgumentError(name, f"expected a string, got {type(key).__name__}")
    key = (key or "").strip()
    if not key:
        if _is_hosted(base_url):
            raise MissingAPIKeyError(
                "No API key for the hosted Telnyx API. Set the TELNYX_API_KEY environment "
                "variable or pass api_key=...; or work offline against the local sandbox "
                "with missionlab.connect() (or missionlab.sandbox.Sandbox().client())."
            )
        return SANDBOX_KEY
    problem = header_problem(key)
    if problem:
        raise InvalidArgumentError(name, f"{problem}; check how the key was copied (the key is not shown)")
    return key


def _timeout(value: Any) -> float | httpx.Timeout | None:
    if value is None or isinstance(value, httpx.Timeout):
        return value
    return check_seconds("timeout", value)


def _max_retries(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise InvalidArgumentError("max_retries", f"expected an integer >= 0, got {value!r:.60}")
    return value


def _max_response_bytes(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise InvalidArgumentError("max_response_bytes", f"expected an integer >= 1, got {value!r:.60}")
    return value


def _capped(timeout: float | httpx.Timeout | None, left: float) -> httpx.Timeout:
    """``timeout`` with no step longer than ``left`` seconds."""
    full = timeout if isinstance(timeout, httpx.Timeout) else httpx.Timeout(timeout)

    def cap(step: float | None) -> float:
        return left if step is None else min(step, left)

    return httpx.Timeout(
        connect=cap(full.connect), read=cap(full.read), write=cap(full.write), pool=cap(full.pool)
    )


class _BodyCounter:
    """Collects an answer's decompressed chunks, and refuses it as soon as it passes the cap."""

    def __init__(self, operation: str, limit: int, response: httpx.Response) -> None:
        self.operation = operation
        self.limit = limit
        self.response = response
        self.chunks: list[bytes] = []
        self.size = 0

    def add(self, chunk: bytes) -> None:
        self.size += len(chunk)
        if self.size > self.limit:
            self.chunks.clear()
            raise ResponseTooLargeError(operation=self.operation, limit=self.limit)
        self.chunks.append(chunk)

    def response_read(self) -> httpx.Response:
        """The answer with its body read (and decoded: its encoding headers are dropped)."""
        original = self.response
        headers = [
            (name, value)
            for name, value in original.headers.multi_items()
            if name.lower() not in ("content-encoding", "content-length", "transfer-encoding")
        ]
        return httpx.Response(
            original.status_code,
            headers=headers,
            content=b"".join(self.chunks),
            request=original.request,
            extensions=original.extensions,
        )


class _BaseClient:
    _http: Any  # httpx.Client or httpx.AsyncClient, set by the subclass

    def __init__(
        self,
        api_key: str | None,
        base_url: str | None,
        timeout: float | httpx.Timeout | None,
        max_retries: int,
        deadline: float | None,
        max_response_bytes: int,
    ) -> None:
        self.base_url = _base_url(base_url)
        self._secret = _Secret(_api_key(api_key, self.base_url))
        self.timeout = _timeout(timeout)
        self.max_retries = _max_retries(max_retries)
        self.deadline = None if deadline is None else check_seconds("deadline", deadline)
        self.max_response_bytes = _max_response_bytes(max_response_bytes)

    @property
    def ai(self) -> Self:
        """The client itself, so that ``client.ai.missions`` works as in the official SDK."""
        return self

    def __repr__(self) -> str:
        return f"{type(self).__name__}(base_url={self.base_url!r}, api_key=<redacted>)"

    def _redact(self, text: str) -> str:
        key = self._secret.reveal()
        if len(key) < 4:
            return text
        return text.replace(key, "<redacted>").replace(quote(key, safe=""), "<redacted>")

    # -- the deadline -------------------------------------------------------------------------

    def _call_deadline(self, call: Call[Any]) -> tuple[float | None, float | None]:
        """(seconds, monotonic end) of the call's deadline, or (None, None)."""
        seconds = call.options.get("deadline", self.deadline)
        return (None, None) if seconds is None else (seconds, time.monotonic() + seconds)

    def _past_deadline(self, call: Call[Any], seconds: float | None, why: str) -> APITimeoutError:
        return APITimeoutError(
            f"{call.operation} did not finish within its deadline of {seconds:g} s at {self.base_url}: "
            + self._redact(why),
            operation=call.operation,
        )

    def _delay(
        self, call: Call[Any], decision: RetryDecision, seconds: float | None, end: float | None, why: str
    ) -> float:
        """The wait before the next attempt, or the error when it would pass the deadline."""
        if end is not None and time.monotonic() + decision.delay >= end:
            raise self._past_deadline(
                call, seconds, f"{why}, and the next attempt would start after it (in {decision.delay:.2f} s)"
            )
        return decision.delay

    # -- building and reading -----------------------------------------------------------------

    def _body_counter(self, call: Call[Any], response: httpx.Response) -> _BodyCounter:
        return _BodyCounter(call.operation, self.max_response_bytes, response)

    def _undecodable(self, call: Call[Any], exc: httpx.DecodingError) -> APIError:
        return APIError(
            f"{call.operation}: the server's answer could not be decoded "
            f"({self._redact(str(exc) or type(exc).__name__)[:300]})",
            operation=call.operation,
        )

    def _request(self, call: Call[Any], end: float | None) -> httpx.Request:
        kwargs = call.request_kwargs()
        timeout = call.options.get("timeout", self.timeout)
        if end is not None:
            timeout = _capped(timeout, max(end - time.monotonic(), 0.001))
        request: httpx.Request = self._http.build_request(
            call.method, self.base_url + call.path, timeout=timeout, **kwargs
        )
        return request

    def _parsed(self, call: Call[T], response: httpx.Response) -> T:
        """``call``'s result from its successful ``response`` (which another thread or task
        may have fetched); :class:`APIError` when the answer is not what the API documents."""
        try:
            return call.parse(response)
        except ValueError as exc:  # pydantic's ValidationError and JSON errors
            raise APIError(
                f"{call.operation}: the server's answer (HTTP {response.status_code}) is not "
                f"what the API documents: {self._redact(str(exc))[:1000]}",
                operation=call.operation,
            ) from None

    def _on_response(
        self, call: Call[T], response: httpx.Response, retry_number: int
    ) -> tuple[bool, Any, RetryDecision]:
        """(done, result, decision): the parsed result, or whether to retry, or raises."""
        if response.is_success:
            return True, self._parsed(call, response), RetryDecision(False)
        if call.method == "DELETE" and retry_number > 1 and response.status_code == 404:
            return True, None, RetryDecision(False)  # an earlier attempt already deleted it
        decision = decide_after_response(
            response,
            idempotent=call.idempotent,
            retries_left=self.max_retries - retry_number + 1,
            retry_number=retry_number,
        )
        if not decision.retry:
            raise status_error(response, call.operation, self._redact)
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
        self,
        call: Call[Any],
        exc: httpx.TransportError,
        retry_number: int,
        seconds: float | None,
        end: float | None,
    ) -> RetryDecision | APIError:
        """The retry decision after a transport error, or the error to raise.

        The caller raises the error outside its ``except`` block, unchained: the
        transport's own exception (and any frame holding it) may carry request details.
        """
        if end is not None and time.monotonic() >= end:
            return self._past_deadline(call, seconds, f"the last attempt ended with {type(exc).__name__}")
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

    ``api_key`` defaults to ``TELNYX_API_KEY`` (surrounding whitespace, such as
    the newline of a key read from a file, is removed; a key with other
    characters an HTTP header cannot carry is refused) and ``base_url`` to
    ``TELNYX_BASE_URL``, else the hosted API. ``timeout`` bounds each step of an
    attempt (as in httpx); ``deadline`` (seconds, 300 by default, None for none)
    bounds a whole call including retries, waits and slow answers; both can also
    be given per call. ``max_response_bytes`` (256 MiB by default) caps one
    answer once decompressed: past it the call raises
    :class:`~missionlab.ResponseTooLargeError`. Pass ``http_client`` or ``transport``
    to send requests your own way (tests use ``httpx.MockTransport`` or an ASGI
    transport); the deadline is then enforced between attempts and through the
    per-attempt timeout only.
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
        http_client: httpx.Client | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        super().__init__(api_key, base_url, timeout, max_retries, deadline, max_response_bytes)
        self._owns_http = http_client is None
        if http_client is None:
            from ._transport import NoCookies, sync_transport

            http_client = httpx.Client(
                transport=transport or sync_transport(self.base_url, DEFAULT_LIMITS), cookies=NoCookies()
            )
        self._http: httpx.Client = http_client
        self._http.auth = _BearerAuth(self._secret)

    @cached_property
    def missions(self) -> Missions:
        """Missions, and through them runs, plans, events, agents, tools, KBs, MCP servers."""
        from .resources import Missions

        return Missions(self)

    def _send(self, call: Call[T]) -> T:
        seconds, end = self._call_deadline(call)
        token = call_deadline.set(end)
        try:
            retry_number = 0
            while True:
                retry_number += 1
                try:
                    response = self._receive(call, end)
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
                time.sleep(self._delay(call, outcome, seconds, end, why))
        finally:
            call_deadline.reset(token)

    def _receive(self, call: Call[Any], end: float | None) -> httpx.Response:
        """One attempt's answer, its body read up to ``max_response_bytes``."""
        response = self._http.send(self._request(call, end), stream=True)
        try:
            body = self._body_counter(call, response)
            for chunk in response.iter_bytes():
                body.add(chunk)
        finally:
            response.close()
        return body.response_read()

    def _list(self, request: PageRequest[M]) -> SyncPage[M]:
        def parse(response: httpx.Response) -> SyncPage[M]:
            return SyncPage(self, request, *request.parse_page(response))

        return self._send(request.call(parse))

    def close(self) -> None:
        """Close the connections this client opened."""
        if self._owns_http:
            self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
