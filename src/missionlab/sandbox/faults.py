"""Fault injection: seeded 5xx answers, 429s with Retry-After, latency, dropped connections.

Rules apply to every route under the API prefix or to the routes whose
``"METHOD /path"`` (path without the ``/v2`` prefix) matches a glob, e.g.
``"GET /ai/missions/*"`` or ``"*/events"``. The first matching rule wins. Set
them at start-up (``Faults.from_dict``, ``--faults JSON``) or at run time
(``PUT /_sandbox/faults`` or ``Sandbox.set_faults``).
"""

from __future__ import annotations

import asyncio
import fnmatch
import json
import random
import threading
from dataclasses import asdict, dataclass, field, fields
from typing import Any

from starlette.types import ASGIApp, Receive, Scope, Send


@dataclass
class FaultRule:
    """What goes wrong, and how often, on the routes matching ``route``."""

    route: str = "*"
    error_rate: float = 0.0  # probability of a 5xx answer (``error_status``)
    error_status: int = 503
    rate_limit_rate: float = 0.0  # probability of a 429 answer with Retry-After
    retry_after: float = 1.0  # seconds, sent as Retry-After and retry-after-ms
    latency: float = 0.0  # seconds added to every matching request
    drop_rate: float = 0.0  # probability the connection is dropped without an answer

    def __post_init__(self) -> None:
        for name in ("error_rate", "rate_limit_rate", "drop_rate"):
            value = getattr(self, name)
            if not 0 <= value <= 1:
                raise ValueError(f"{name} must be between 0 and 1, got {value!r}")
        if self.latency < 0 or self.retry_after < 0:
            raise ValueError("latency and retry_after must be >= 0")
        if not 500 <= self.error_status <= 599:
            raise ValueError(f"error_status must be a 5xx code, got {self.error_status!r}")

    def matches(self, method: str, path: str) -> bool:
        return fnmatch.fnmatchcase(f"{method} {path}", self.route) or fnmatch.fnmatchcase(path, self.route)


@dataclass
class Faults:
    """The fault rules in force, with their own seeded random generator."""

    rules: list[FaultRule] = field(default_factory=list)
    seed: int = 0

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed)
        self._lock = threading.Lock()

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Faults:
        faults = cls()
        faults.update(data)
        return faults

    def update(self, data: dict[str, Any]) -> None:
        """Replace the rules (and reseed when ``seed`` is given)."""
        if not isinstance(data, dict):
            raise TypeError("faults must be a JSON object with 'rules' and optional 'seed'")
        known = {f.name for f in fields(FaultRule)}
        rules = []
        for raw in data.get("rules", []):
            unknown = set(raw) - known
            if unknown:
                raise ValueError(f"unknown fault setting(s): {', '.join(sorted(unknown))}")
            rules.append(FaultRule(**raw))
        with self._lock:
            self.rules = rules
            if "seed" in data:
                self.seed = int(data["seed"])
                self._rng = random.Random(self.seed)

    def to_dict(self) -> dict[str, Any]:
        return {"seed": self.seed, "rules": [asdict(r) for r in self.rules]}

    def draw(self, method: str, path: str) -> tuple[float, str | None, FaultRule | None]:
        """(latency, fault, rule) for one request: fault is 'drop', 'error', '429' or None."""
        with self._lock:
            rule = next((r for r in self.rules if r.matches(method, path)), None)
            if rule is None:
                return 0.0, None, None
            roll = self._rng.random()
        fault = None
        if roll < rule.drop_rate:
            fault = "drop"
        elif roll < rule.drop_rate + rule.error_rate:
            fault = "error"
        elif roll < rule.drop_rate + rule.error_rate + rule.rate_limit_rate:
            fault = "429"
        return rule.latency, fault, rule


class FaultMiddleware:
    """ASGI middleware applying :class:`Faults` to requests under ``prefix``."""

    def __init__(self, app: ASGIApp, faults: Faults, prefix: str) -> None:
        self.app = app
        self.faults = faults
        self.prefix = prefix

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or not self.faults.rules or not path.startswith(self.prefix):
            await self.app(scope, receive, send)
            return
        latency, fault, rule = self.faults.draw(scope["method"], path[len(self.prefix) :])
        if latency:
            await asyncio.sleep(latency)
        if fault is None or rule is None:
            await self.app(scope, receive, send)
        elif fault == "drop":
            # Promise a body, send part of it and stop: the server closes the connection,
            # which the client sees as a dropped connection.
            await send(
                {
                    "type": "http.response.start",
                    "status": 200,
                    "headers": [(b"content-length", b"1000"), (b"content-type", b"application/json")],
                }
            )
            await send({"type": "http.response.body", "body": b'{"data"', "more_body": True})
        else:
            status = 429 if fault == "429" else rule.error_status
            detail = (
                "Rate limit exceeded (injected by the sandbox)"
                if status == 429
                else "Injected server error (sandbox fault injection)"
            )
            code = "rate_limited" if status == 429 else "injected_fault"
            title = "Too Many Requests" if status == 429 else "Server Error"
            body = json.dumps({"errors": [{"code": code, "title": title, "detail": detail}]})
            headers = [(b"content-type", b"application/json")]
            if status == 429:
                headers += [
                    (b"retry-after", f"{rule.retry_after:g}".encode()),
                    (b"retry-after-ms", f"{rule.retry_after * 1000:.0f}".encode()),
                ]
            await send({"type": "http.response.start", "status": status, "headers": headers})
            await send({"type": "http.response.body", "body": body.encode()})
