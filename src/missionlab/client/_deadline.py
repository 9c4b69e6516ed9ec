"""The running call's deadline, shared by the client and its transport without imports."""

from __future__ import annotations

import time
from contextvars import ContextVar

__all__ = ["call_deadline", "remaining"]

call_deadline: ContextVar[float | None] = ContextVar("missionlab_call_deadline", default=None)
"""The running call's deadline, as a ``time.monotonic()`` value (None: no deadline)."""


def remaining() -> float | None:
    """Seconds left before the running call's deadline (may be <= 0), or None."""
    end = call_deadline.get()
    return None if end is None else end - time.monotonic()
