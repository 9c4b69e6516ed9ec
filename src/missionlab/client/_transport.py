"""The HTTP connections the clients make for themselves (unless given their own).

- No SSL context for ``http://`` base URLs: building one costs ~20 ms and a local
  sandbox never uses it.
- No cookie jar: the API sets no cookies, and httpx's jar takes a lock on every
  answer, which serialised ``fetch_all``'s concurrent page fetches.
- Every network read, write and connect of the sync client is bounded by the
  running call's deadline (a context variable set by the client), so that a
  server trickling bytes cannot hold a call past it.
"""

from __future__ import annotations

import ssl
from http.cookiejar import Cookie, CookieJar
from typing import Any

import httpcore
import httpx

from ._deadline import remaining

__all__ = ["NoCookies", "async_transport", "sync_transport"]


def _bounded(timeout: float | None, error: type[Exception]) -> float | None:
    left = remaining()
    if left is None:
        return timeout
    if left <= 0:
        raise error("the call's deadline has passed")
    return left if timeout is None else min(timeout, left)


class _DeadlineStream(httpcore.NetworkStream):
    def __init__(self, stream: httpcore.NetworkStream) -> None:
        self._stream = stream

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._stream.read(max_bytes, _bounded(timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._stream.write(buffer, _bounded(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._stream.close()

    def start_tls(
        self, ssl_context: ssl.SSLContext, server_hostname: str | None = None, timeout: float | None = None
    ) -> httpcore.NetworkStream:
        bounded = _bounded(timeout, httpcore.ConnectTimeout)
        return _DeadlineStream(self._stream.start_tls(ssl_context, server_hostname, bounded))

    def get_extra_info(self, info: str) -> Any:
        return self._stream.get_extra_info(info)


class _DeadlineBackend(httpcore.NetworkBackend):
    def __init__(self) -> None:
        self._backend = httpcore.SyncBackend()

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Any = None,
    ) -> httpcore.NetworkStream:
        bounded = _bounded(timeout, httpcore.ConnectTimeout)
        return _DeadlineStream(self._backend.connect_tcp(host, port, bounded, local_address, socket_options))

    def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Any = None
    ) -> httpcore.NetworkStream:
        bounded = _bounded(timeout, httpcore.ConnectTimeout)
        return _DeadlineStream(self._backend.connect_unix_socket(path, bounded, socket_options))

    def sleep(self, seconds: float) -> None:
        self._backend.sleep(seconds)


class NoCookies(CookieJar):
    """A cookie jar that keeps nothing and takes no lock."""

    def extract_cookies(self, response: Any, request: Any) -> None:
        return None

    def add_cookie_header(self, request: Any) -> None:
        return None

    def set_cookie(self, cookie: Cookie) -> None:
        return None


def _ssl_context(base_url: str) -> ssl.SSLContext | None:
    # None lets httpcore build a default context lazily, if an https URL is ever used.
    return httpx.create_ssl_context() if base_url.startswith("https:") else None


def _pool_options(base_url: str, limits: httpx.Limits) -> dict[str, Any]:
    return {
        "ssl_context": _ssl_context(base_url),
        "max_connections": limits.max_connections,
        "max_keepalive_connections": limits.max_keepalive_connections,
        "keepalive_expiry": limits.keepalive_expiry,
    }


class _SyncTransport(httpx.HTTPTransport):
    """httpx's transport over a connection pool of our own (see the module's docstring)."""

    def __init__(self, base_url: str, limits: httpx.Limits) -> None:
        # Not super().__init__(): it would build its own pool, with an SSL context.
        self._pool = httpcore.ConnectionPool(
            **_pool_options(base_url, limits), network_backend=_DeadlineBackend()
        )


class _AsyncTransport(httpx.AsyncHTTPTransport):
    """The async counterpart (its deadline is enforced by the client around each attempt)."""

    def __init__(self, base_url: str, limits: httpx.Limits) -> None:
        self._pool = httpcore.AsyncConnectionPool(**_pool_options(base_url, limits))


def sync_transport(base_url: str, limits: httpx.Limits) -> httpx.HTTPTransport:
    return _SyncTransport(base_url, limits)


def async_transport(base_url: str, limits: httpx.Limits) -> httpx.AsyncHTTPTransport:
    return _AsyncTransport(base_url, limits)
