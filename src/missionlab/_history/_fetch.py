"""Requests run a few at a time while their answers are used in order.

The sync streams: run pages, the plans of their runs and event pages are fetched by
a small pool while the answers that came back are written in large batches.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TypeVar

T = TypeVar("T")


def ordered(pool: ThreadPoolExecutor, jobs: Iterable[Callable[[], T]], window: int) -> Iterator[T]:
    """The results of ``jobs``, in order, with at most ``window`` of them submitted ahead.

    ``jobs`` is read lazily (it may itself be fed by another ``ordered``); jobs not
    started yet are cancelled when the consumer stops early.
    """
    pending: deque[Future[T]] = deque()
    try:
        for job in jobs:
            pending.append(pool.submit(job))
            while len(pending) >= window:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()
    finally:
        for future in pending:
            future.cancel()
