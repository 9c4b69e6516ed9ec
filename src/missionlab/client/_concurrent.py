"""Many requests at once, with one policy: at most ``MAX_CONCURRENT_REQUESTS`` in flight.

``bounded_map(call, items)`` is ``[call(item) for item in items]`` made concurrently (threads);
``bounded_imap`` yields those results in order as they are ready, while later calls run;
``await bounded_gather(call, items)`` is the same for coroutines. For all:

- results come in the order of ``items``;
- at most ``limit`` calls run at once, and ``items`` is read only as calls are started (it may
  be a generator still producing them); the two generators also hold at most ``limit`` calls
  running or done ahead of the next result taken, so a slow consumer holds back the calls
  instead of piling up their results;
- when a call fails, no further call is started, the ones running are waited for (or, for
  coroutines, cancelled), and that first failure's error is raised;
- the generators' threads are their own, joined before they finish (a call may itself use
  ``bounded_map``, e.g. pages inside a run's fetch, without waiting for a pool it is running in);
  ``bounded_map`` of at most ``limit`` items (a run's three refresh requests, the five of
  ``load_run``) runs the first in the caller's thread and the others in one long-lived pool of
  ``MAX_CONCURRENT_REQUESTS`` threads, which starting threads on every call would cost more CPU
  than the calls (a call made in that pool gets threads of its own, so none waits for the pool
  it runs in);
- ``progress``, a :class:`~._progress.ProgressBar`, advances by one per finished call, from
  the caller's thread.
"""

from __future__ import annotations

import itertools
import os
import threading
from collections.abc import AsyncGenerator, Awaitable, Callable, Generator, Iterable, Sized
from concurrent.futures import FIRST_COMPLETED, FIRST_EXCEPTION, Future, ThreadPoolExecutor, wait
from typing import TypeVar

from ._progress import ProgressBar

__all__ = ["MAX_CONCURRENT_REQUESTS", "bounded_aimap", "bounded_gather", "bounded_imap", "bounded_map"]

T = TypeVar("T")
R = TypeVar("R")

MAX_CONCURRENT_REQUESTS = 8
"""Requests one fetch keeps in flight: enough to hide a round trip, few enough for a server's
rate limits and the connection pool (32)."""


def bounded_map(
    call: Callable[[T], R],
    items: Iterable[T],
    *,
    limit: int = MAX_CONCURRENT_REQUESTS,
    progress: ProgressBar | None = None,
    name: str = "missionlab-fetch",
) -> list[R]:
    """``call(item)`` for every item, ``limit`` at a time in threads named ``name`` (a few
    items: in the caller's thread and the shared pool); see the module's docstring."""
    if isinstance(items, Sized) and 1 < len(items) <= limit and not getattr(_in_pool, "flag", False):
        return _few(call, list(items), progress)
    return list(bounded_imap(call, items, limit=limit, progress=progress, name=name))


_pool: tuple[int, ThreadPoolExecutor] | None = None  # (the process it was started in, the pool)
_pool_lock = threading.Lock()
_in_pool = threading.local()  # .flag: this thread is one of the pool's


def _mark_pool_thread() -> None:
    _in_pool.flag = True


def _shared_pool() -> ThreadPoolExecutor:
    """The long-lived pool (started again in a forked process, where its threads are gone)."""
    global _pool
    with _pool_lock:
        if _pool is None or _pool[0] != os.getpid():
            pool = ThreadPoolExecutor(MAX_CONCURRENT_REQUESTS, "missionlab-shared", _mark_pool_thread)
            _pool = (os.getpid(), pool)
        return _pool[1]


def _few(call: Callable[[T], R], items: list[T], progress: ProgressBar | None) -> list[R]:
    """``bounded_map`` of a few items: the first in this thread while the shared pool runs the
    others; after a failure, the calls not started are not, the running ones are waited for."""
    futures = [_shared_pool().submit(call, item) for item in items[1:]]
    try:
        first = _counted(call(items[0]), progress)
    except BaseException:
        for future in futures:
            future.cancel()
        wait(futures)
        raise
    finished, pending = wait(futures, return_when=FIRST_EXCEPTION)
    failed = [future for future in futures if future in finished and future.exception() is not None]
    if failed:
        for future in pending:
            future.cancel()
        wait(pending)
        raise failed[0].exception()  # type: ignore[misc]
    return [first, *(_counted(future.result(), progress) for future in futures)]


def bounded_imap(
    call: Callable[[T], R],
    items: Iterable[T],
    *,
    limit: int = MAX_CONCURRENT_REQUESTS,
    progress: ProgressBar | None = None,
    name: str = "missionlab-fetch",
) -> Generator[R, None, None]:
    """:func:`bounded_map` yielding each result as soon as it and those before it are done,
    while later calls run. Closing the generator early starts no further call and waits for
    the running ones."""
    if limit < 1:
        raise ValueError(f"limit must be at least 1, not {limit}")
    if limit == 1 or (isinstance(items, Sized) and len(items) <= 1):
        for item in items:  # no thread for one call
            yield _counted(call(item), progress)
        return
    done: dict[int, R] = {}
    running: dict[Future[R], int] = {}
    waiting = enumerate(items)
    following = 0  # the index of the next result to yield
    pool = ThreadPoolExecutor(limit, name)

    def start() -> None:  # up to `limit` calls running or done ahead of the next result taken
        for index, item in itertools.islice(waiting, limit - len(running) - len(done)):
            running[pool.submit(call, item)] = index

    try:
        start()
        while running:
            finished, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in sorted(finished, key=running.__getitem__):
                done[running.pop(future)] = _counted(future.result(), progress)
            while following in done:
                result = done.pop(following)
                following += 1
                start()
                yield result
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


async def bounded_gather(
    call: Callable[[T], Awaitable[R]],
    items: Iterable[T],
    *,
    limit: int = MAX_CONCURRENT_REQUESTS,
    progress: ProgressBar | None = None,
) -> list[R]:
    """``[await call(item) for item in items]``, ``limit`` at a time; see the module's docstring."""
    return [result async for result in bounded_aimap(call, items, limit=limit, progress=progress)]


async def bounded_aimap(
    call: Callable[[T], Awaitable[R]],
    items: Iterable[T],
    *,
    limit: int = MAX_CONCURRENT_REQUESTS,
    progress: ProgressBar | None = None,
) -> AsyncGenerator[R, None]:
    """:func:`bounded_gather` yielding each result as soon as it and those before it are done,
    while later calls run; closing it early (``contextlib.aclosing``) cancels the running ones."""
    import asyncio

    if limit < 1:
        raise ValueError(f"limit must be at least 1, not {limit}")
    done: dict[int, R] = {}
    running: dict[asyncio.Task[R], int] = {}
    waiting = enumerate(items)
    following = 0

    def start() -> None:  # up to `limit` calls running or done ahead of the next result taken
        for index, item in itertools.islice(waiting, limit - len(running) - len(done)):
            running[asyncio.ensure_future(call(item))] = index

    try:
        start()
        while running:
            finished, _ = await asyncio.wait(running, return_when=asyncio.FIRST_COMPLETED)
            for task in sorted(finished, key=running.__getitem__):
                done[running.pop(task)] = _counted(task.result(), progress)
            while following in done:
                result = done.pop(following)
                following += 1
                start()
                yield result
    finally:
        for task in running:
            task.cancel()
        if running:
            await asyncio.wait(running)
        for task in running:  # their errors are not the first: retrieved, so that none is logged
            if not task.cancelled():
                task.exception()


def _counted(result: R, progress: ProgressBar | None) -> R:
    if progress is not None:
        progress.update(1)
    return result
