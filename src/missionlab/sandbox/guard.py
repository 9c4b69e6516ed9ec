"""What every request must pass before the app sees it: the local-server defences Jupyter uses,
and the body size limit.

- **Host**: only loopback names (``127.0.0.1``, ``localhost``, ``[::1]``, any port) and the
  names the sandbox was told to allow. A web page that rebinds its own DNS name to 127.0.0.1
  sends its own name as Host, so it is refused (DNS rebinding).
- **Origin**: a request a browser sends from a page carries ``Origin``; only loopback origins
  (and allowed names) pass. ``Origin: null`` (sandboxed frames, files) does not.
- **Content type**: a POST, PUT, PATCH or DELETE with a form or plain-text content type is
  what an HTML form or a simple cross-site ``fetch`` sends without asking (no CORS
  preflight); the API takes JSON only, so these are refused even without an Origin.
- **Body size**: at most :data:`missionlab.limits.MAX_BODY_BYTES`; larger bodies get 413.

Refusals are 403 (413 for size) in the Telnyx error envelope. The bearer token, when the
sandbox has one, is checked by the app itself.
"""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import urlsplit

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..limits import MAX_BODY_BYTES
from .errors import error_response

LOOPBACK_NAMES = frozenset({"127.0.0.1", "localhost", "::1"})

# Content types a browser may send cross-site without a CORS preflight.
_SIMPLE_CONTENT_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data", "text/plain")
_UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def host_name(host: str) -> str:
    """The name part of a Host header value: ``[::1]:8000`` -> ``::1``, ``a:1`` -> ``a``."""
    host = host.strip().lower()
    if host.startswith("["):
        return host[1 : host.find("]")] if "]" in host else host
    name, _, port = host.rpartition(":")
    return name if name and port.isdigit() else host


class RequestGuard:
    """ASGI middleware refusing requests from other hosts and origins, and oversized bodies.

    ``allowed_hosts``: names accepted besides the loopback ones (``"*"`` accepts any).
    """

    def __init__(self, app: ASGIApp, allowed_hosts: Iterable[str] = (), max_body: int = MAX_BODY_BYTES):
        self.app = app
        self.allowed = LOOPBACK_NAMES | {host_name(h) for h in allowed_hosts}
        self.max_body = max_body

    def _allows(self, name: str) -> bool:
        return "*" in self.allowed or name in self.allowed

    def _refusal(self, scope: Scope) -> str | None:
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        host = headers.get("host")
        if host is not None and not self._allows(host_name(host)):
            return (
                f"Host {host_name(host)!r} is not allowed: the sandbox answers on 127.0.0.1, localhost "
                "and [::1] (add other names with --allow-host)"
            )
        origin = headers.get("origin")
        if origin is not None:
            name = (urlsplit(origin).hostname or "") if origin != "null" else ""
            if not self._allows(name):
                return "Cross-origin requests are refused: the sandbox only answers pages on this machine"
        content_type = headers.get("content-type", "").split(";")[0].strip().lower()
        if scope["method"] in _UNSAFE_METHODS and content_type in _SIMPLE_CONTENT_TYPES:
            return f"Content-Type {content_type} is refused: send JSON with Content-Type: application/json"
        return None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        refusal = self._refusal(scope)
        if refusal is not None:
            await error_response(403, "forbidden", "Forbidden", refusal)(scope, receive, send)
            return
        declared = dict(scope.get("headers", [])).get(b"content-length", b"")
        too_long = declared.isdigit() and int(declared) > self.max_body
        body = None if too_long else await self._read_body(receive)
        if body is None:
            detail = f"The request body is larger than {self.max_body:,} bytes"
            await error_response(413, "request_too_large", "Payload Too Large", detail)(scope, receive, send)
            return
        await self.app(scope, _replay(body, receive), send)

    async def _read_body(self, receive: Receive) -> bytes | None:
        """The whole body, or None as soon as it is over the limit."""
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return b"".join(chunks)  # disconnected: the app will see an empty body
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body:
                return None
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks)


def _replay(body: bytes, receive: Receive) -> Receive:
    """A ``receive`` that gives the body read already, then waits on the real one (disconnects)."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay
