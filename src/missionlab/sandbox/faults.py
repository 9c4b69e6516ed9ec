"""Fault injection: seeded 5xx answers, 429s with Retry-After, latency, dropped connections.

``drop_rate`` drops the connection before the request reaches the API (nothing happened);
``drop_after_rate`` lets the API act on it, then drops the connection instead of the
answer (it happened, but the client cannot know): the case idempotent writes are for.

Rules apply to every route under the API prefix or to the routes whose
``"METHOD /path"`` (path without the ``/v2`` prefix) matches a glob, e.g.
``"GET /ai/missions/*"`` or ``"*/events"``. The first matching rule wins. Set
them at start-up (``Faults.from_dict``, ``--faults JSON``) or at run time
(``PUT /_sandbox/faults`` or ``Sandbox.set_faults``).

Every setting is bounded (``BOUNDS``): a latency of 1e308 seconds would hold every request
for good and keep Ctrl-C from stopping the server. ``page_cap`` makes list routes serve at
most that many items per page whatever ``page[size]`` asks (meta tells the size served),
as some servers do; ``page_cap_ignores_size`` serves exactly ``page_cap`` per page.
"""

from __future__ import annotations

import asyncio
import fnmatch
import json
import math
import random
import threading
from dataclasses import asdict, dataclass, field, fields
from typing import Any
from urllib.parse import parse_qsl, urlencode

from starlette.types import ASGIApp, Receive, Scope, Send

BOUNDS: dict[str, tuple[float, float]] = {
    "error_rate": (0, 1),
    "rate_limit_rate": (0, 1),
    "drop_rate": (0, 1),
    "drop_after_rate": (0, 1),
    "latency": (0, 60),  # seconds
    "retry_after": (0, 3600),  # seconds
    "page_cap": (0, 1000),
}
MAX_RULES = 100


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
    drop_after_rate: float = 0.0  # probability the answer is dropped after the API acted
    page_cap: int = 0  # list routes serve at most this many items per page (0: no cap)
    page_cap_ignores_size: bool = False  # serve exactly page_cap per page, whatever is asked

    def __post_init__(self) -> None:
        if not isinstance(self.route, str) or len(self.route) > 1000:
            raise ValueError("route must be a glob string of at most 1000 characters")
        for name, (low, high) in BOUNDS.items():
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
                raise ValueError(f"{name} must be a number, got {value!r}")
            if not low <= value <= high:
                raise ValueError(f"{name} must be between {low} and {high}, got {value!r}")
        if not isinstance(self.error_status, int) or not 500 <= self.error_status <= 599:
            raise ValueError(f"error_status must be a 5xx code, got {self.error_status!r}")
        if not isinstance(self.page_cap, int) or isinstance(self.page_cap, bool):
            raise ValueError(f"page_cap must be a whole number, got {self.page_cap!r}")
        if not isinstance(self.page_cap_ignores_size, bool):
            raise ValueError("page_cap_ignores_size must be true or false")

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
        raw_rules = data.get("rules", [])
        if not isinstance(raw_rules, list) or len(raw_rules) > MAX_RULES:
            raise ValueError(f"rules must be a list of at most {MAX_RULES} objects")
        unknown_keys = set(data) - {"rules", "seed"}
        if unknown_keys:
            raise ValueError(f"unknown fault key(s): {', '.join(sorted(map(str, unknown_keys)))}")
        seed = data.get("seed", self.seed)
        if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < 2**63:
            raise ValueError(f"seed must be a whole number from 0 to 2**63-1, got {seed!r}")
        rules = []
        for raw in raw_rules:
            if not isinstance(raw, dict):
                raise ValueError("each rule must be an object")
            unknown = set(raw) - known
            if unknown:
                raise ValueError(f"unknown fault setting(s): {', '.join(sorted(unknown))}")
            rules.append(FaultRule(**raw))
        with self._lock:
            self.rules = rules
            if "seed" in data:
                self.seed = seed
                self._rng = random.Random(self.seed)

    def to_dict(self) -> dict[str, Any]:
        return {"seed": self.seed, "rules": [asdict(r) for r in self.rules]}

    def draw(self, method: str, path: str) -> tuple[float, str | None, FaultRule | None]:
        """(latency, fault, rule) for one request: 'drop', 'drop_after', 'error', '429' or None."""
        with self._lock:
            rule = next((r for r in self.rules if r.matches(method, path)), None)
            if rule is None:
                return 0.0, None, None
            roll = self._rng.random()
        fault = None
        for name, rate in (
            ("drop", rule.drop_rate),
            ("drop_after", rule.drop_after_rate),
            ("error", rule.error_rate),
            ("429", rule.rate_limit_rate),
        ):
            if roll < rate:
                fault = name
                break
            roll -= rate
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
        if rule is not None and rule.page_cap and scope["method"] == "GET":
            scope = {**scope, "query_string": _capped_query(scope.get("query_string", b""), rule)}
        if fault is None or rule is None:
            await self.app(scope, receive, send)
        elif fault in ("drop", "drop_after"):
            if fault == "drop_after":
                await self.app(scope, receive, _discard)
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


async def _discard(message: Any) -> None:
    """An ASGI ``send`` that throws the answer away."""


def _capped_query(query: bytes, rule: FaultRule) -> bytes:
    """The query string with ``page[size]`` capped at ``rule.page_cap`` (or set to it)."""
    pairs = [(k, v) for k, v in parse_qsl(query.decode("latin-1"), keep_blank_values=True)]
    asked = next((v for k, v in pairs if k == "page[size]"), None)
    if rule.page_cap_ignores_size:
        size = rule.page_cap
    elif asked is None or not asked.isdigit():
        return query  # the route's default size (20 or 50) is under any cap worth testing
    else:
        size = min(int(asked), rule.page_cap) or rule.page_cap
    kept = [(k, v) for k, v in pairs if k != "page[size]"]
    return urlencode([*kept, ("page[size]", str(size))]).encode("latin-1")
