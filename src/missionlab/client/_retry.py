"""When to retry a request, and how long to wait first.

The rules, shared by the sync and async clients:

- Connection errors, timeouts, 408, 429 and 5xx are retried, up to
  ``max_retries`` times, unless the server says ``x-should-retry: false``;
  ``x-should-retry: true`` makes any status retryable.
- The wait is ``Retry-After``/``retry-after-ms`` when the server gives one
  between 0 and 60 s, else exponential backoff: 0.5 s doubling per attempt,
  capped at 8 s, less up to 25 % jitter.
- A request that is not idempotent (most POSTs) is retried only when the
  server cannot have acted on it: the connection was never made, the server
  refused it with 408/429, or it said ``x-should-retry: true``.
"""

from __future__ import annotations

import email.utils
import random
import time
from collections.abc import Mapping
from dataclasses import dataclass

import httpx

INITIAL_BACKOFF = 0.5
MAX_BACKOFF = 8.0
MAX_RETRY_AFTER = 60.0
RETRYABLE_STATUSES = frozenset({408, 429})
NOT_PROCESSED_STATUSES = frozenset({408, 429})


def backoff_delay(retry_number: int, *, rng: random.Random | None = None) -> float:
    """Seconds to wait before retry number ``retry_number`` (1-based), with jitter."""
    base = min(INITIAL_BACKOFF * 2 ** (retry_number - 1), MAX_BACKOFF)
    jitter: float = 1 - 0.25 * (rng or random).random()
    return float(base * jitter)


def retry_after(headers: Mapping[str, str], *, now: float | None = None) -> float | None:
    """The server's requested wait in seconds, or None when absent, invalid or out of range."""
    value: float | None = None
    ms = headers.get("retry-after-ms")
    if ms is not None:
        try:
            value = float(ms) / 1000
        except ValueError:
            value = None
    if value is None and (raw := headers.get("retry-after")) is not None:
        try:
            value = float(raw)
        except ValueError:
            try:
                parsed = email.utils.parsedate_to_datetime(raw)
            except (TypeError, ValueError, IndexError):
                parsed = None
            if parsed is not None and parsed.tzinfo is not None:
                value = parsed.timestamp() - (time.time() if now is None else now)
    if value is None or value != value or not 0 <= value <= MAX_RETRY_AFTER:
        return None
    return value


@dataclass(frozen=True)
class RetryDecision:
    """Whether to retry, and after how long."""

    retry: bool
    delay: float = 0.0


def decide_after_response(
    response: httpx.Response, *, idempotent: bool, retries_left: int, retry_number: int
) -> RetryDecision:
    """Retry decision for an error ``response``."""
    if retries_left <= 0:
        return RetryDecision(False)
    should = response.headers.get("x-should-retry", "").lower()
    status = response.status_code
    if should == "false":
        return RetryDecision(False)
    if should == "true":
        retryable = True
    else:
        retryable = status in RETRYABLE_STATUSES or status >= 500
        if not idempotent and status not in NOT_PROCESSED_STATUSES:
            retryable = False
    if not retryable:
        return RetryDecision(False)
    delay = retry_after(response.headers)
    return RetryDecision(True, backoff_delay(retry_number) if delay is None else delay)


def server_may_have_acted(exc: httpx.TransportError) -> bool:
    """False only when the request surely never reached the server."""
    return not isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout | httpx.PoolTimeout)


def decide_after_error(
    exc: httpx.TransportError, *, idempotent: bool, retries_left: int, retry_number: int
) -> RetryDecision:
    """Retry decision after a connection error or timeout."""
    if retries_left <= 0 or (not idempotent and server_may_have_acted(exc)):
        return RetryDecision(False)
    return RetryDecision(True, backoff_delay(retry_number))
