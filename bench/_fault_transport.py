"""A seeded fault layer between a client and a real server, for the reliability soak.

:class:`FaultTransport` wraps :class:`httpx.HTTPTransport`. For each request it
draws (seeded) whether something goes wrong, and when:

- before the server sees the request: ``connect`` (a connection error), ``503``
  or ``429`` (a synthetic answer, the request is never forwarded);
- after the server committed it: the request is forwarded, the real answer is
  read and thrown away, and the client gets ``drop`` (the connection breaks),
  ``timeout`` (a read timeout) or ``502`` (a synthetic Bad Gateway).

Requests are attributed to a logical operation, named by the ``x-soak-op``
header (what pages fetched on a pool thread carry) or else by the operation the
calling thread declared with :meth:`FaultTransport.op`. For each operation the
transport keeps what happened on the wire: each attempt's fault and, when the
request was forwarded, the real status the server answered. That tells a
failed operation the server never acted on from one it committed.
"""

from __future__ import annotations

import random
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import httpx

OP_HEADER = "x-soak-op"
BEFORE = ("connect", "503", "429")
AFTER = ("drop", "timeout", "502")
DEFAULT_MIX = {"connect": 0.15, "503": 0.15, "429": 0.1, "drop": 0.25, "timeout": 0.1, "502": 0.25}
# Synthetic answers ask for a short wait, so that the soak stays bounded in time.
RETRY_AFTER_MS = "20"


@dataclass(frozen=True)
class Attempt:
    """One request of an operation: the injected fault, and the server's real answer."""

    fault: str | None
    real_status: int | None = None  # None: never forwarded, or forwarding failed
    real_error: str | None = None  # a transport error of the real connection

    @property
    def committed(self) -> bool:
        """The server answered 2xx: it acted, whatever the client was told."""
        return self.real_status is not None and 200 <= self.real_status < 300


class FaultTransport(httpx.BaseTransport):
    """Injects ``rate`` of faults, chosen by ``mix`` (weights per fault), seeded by ``seed``."""

    def __init__(
        self, inner: httpx.BaseTransport, *, rate: float, seed: int, mix: dict[str, float] | None = None
    ) -> None:
        if not 0 <= rate <= 1:
            raise ValueError(f"rate must be between 0 and 1, got {rate!r}")
        self._inner = inner
        self.rate = rate
        self.seed = seed
        weights = mix or DEFAULT_MIX
        unknown = set(weights) - set(BEFORE + AFTER)
        if unknown:
            raise ValueError(f"unknown fault(s): {', '.join(sorted(unknown))}")
        self._faults = list(weights)
        self._weights = [weights[f] for f in self._faults]
        self._lock = threading.Lock()
        self._local = threading.local()
        self._attempts: dict[str, list[Attempt]] = {}
        self._draws: Counter[str] = Counter()
        self.injected: Counter[str] = Counter()
        self.server_errors: Counter[int] = Counter()  # the server's own 5xx answers
        self.requests = 0

    @contextmanager
    def op(self, name: str) -> Iterator[None]:
        """Attribute this thread's requests to the operation ``name`` while the block runs."""
        self._local.op = name
        try:
            yield
        finally:
            self._local.op = None

    def take(self, name: str) -> list[Attempt]:
        """The attempts recorded for operation ``name``, forgetting them."""
        with self._lock:
            self._draws.pop(name, None)
            return self._attempts.pop(name, [])

    def _draw(self, op: str | None) -> str | None:
        with self._lock:
            self.requests += 1
            if op is None:
                return None
            # One generator per (seed, operation, request): the faults an operation meets do
            # not depend on how the threads interleave.
            number = self._draws[op]
            self._draws[op] += 1
        rng = random.Random(f"{self.seed}:{op}:{number}")
        if rng.random() >= self.rate:
            return None
        return rng.choices(self._faults, self._weights)[0]

    def _record(self, op: str | None, attempt: Attempt) -> None:
        with self._lock:
            if attempt.fault:
                self.injected[attempt.fault] += 1
            if attempt.real_status is not None and attempt.real_status >= 500:
                self.server_errors[attempt.real_status] += 1
            if op is not None:
                self._attempts.setdefault(op, []).append(attempt)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        op = request.headers.get(OP_HEADER) or getattr(self._local, "op", None)
        fault = self._draw(op)
        if fault == "connect":
            self._record(op, Attempt(fault))
            raise httpx.ConnectError("injected: connection refused", request=request)
        if fault in ("503", "429"):
            self._record(op, Attempt(fault))
            return _synthetic(int(fault), request)
        try:
            response = self._inner.handle_request(request)
            response.read()
        except httpx.TransportError as exc:
            self._record(op, Attempt(fault, real_error=type(exc).__name__))
            raise
        self._record(op, Attempt(fault, real_status=response.status_code))
        if fault is None:
            return response
        response.close()
        if fault == "drop":
            raise httpx.RemoteProtocolError(
                "injected: server disconnected without sending a response", request=request
            )
        if fault == "timeout":
            raise httpx.ReadTimeout("injected: timed out reading the response", request=request)
        return _synthetic(502, request)

    def close(self) -> None:
        self._inner.close()


def _synthetic(status: int, request: httpx.Request) -> httpx.Response:
    title = {429: "Too Many Requests", 502: "Bad Gateway", 503: "Service Unavailable"}[status]
    body = {
        "errors": [
            {
                "code": "injected_fault",
                "title": title,
                "detail": f"{title} (injected by the soak's fault layer)",
            }
        ]
    }
    return httpx.Response(status, json=body, headers={"retry-after-ms": RETRY_AFTER_MS}, request=request)
