"""The one policy for many requests at once (``bounded_map``, ``bounded_gather``), the one
progress bar, and the one function that fetches many runs' plans."""

from __future__ import annotations

import asyncio
import contextlib
import io
import subprocess
import sys
import threading
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from tqdm import tqdm

import missionlab
from missionlab.client._concurrent import (
    MAX_CONCURRENT_REQUESTS,
    bounded_aimap,
    bounded_gather,
    bounded_imap,
    bounded_map,
)
from missionlab.client._plans import fetch_plans
from missionlab.client._progress import progress_bar
from missionlab.sandbox import Sandbox

from .conftest import Portal, unique

GUARD = 60  # seconds a barrier waits before declaring a deadlock (never reached when it works)


def threads_named(prefix: str) -> list[threading.Thread]:
    return [thread for thread in threading.enumerate() if thread.name.startswith(prefix)]


def test_results_come_in_order_with_limit_calls_running_together() -> None:
    limit = 4
    together = threading.Barrier(limit, timeout=GUARD)  # passes only when 4 calls run at once
    active, most = 0, 0
    lock = threading.Lock()

    def call(item: int) -> int:
        nonlocal active, most
        with lock:
            active += 1
            most = max(most, active)
        together.wait()
        with lock:
            active -= 1
        return item * item

    assert bounded_map(call, range(12), limit=limit, name="test-order") == [i * i for i in range(12)]
    assert most == limit
    assert threads_named("test-order") == []


def test_the_first_failure_is_raised_and_nothing_after_it_starts() -> None:
    started: list[int] = []
    lock = threading.Lock()
    failure = LookupError("run 5 not found")

    def call(item: int) -> int:
        with lock:
            started.append(item)
        if item == 5:
            raise failure
        return item

    pulled: list[int] = []

    def items() -> Iterator[int]:
        for item in range(1000):
            pulled.append(item)
            yield item

    with pytest.raises(LookupError) as raised:
        bounded_map(call, items(), limit=3, name="test-failure")
    assert raised.value is failure
    assert max(started) <= 5 + 3 - 1 and max(pulled) <= 5 + 3 - 1  # only the window around it
    assert threads_named("test-failure") == []  # the calls that were running were waited for


def test_imap_yields_each_result_while_later_calls_run_and_stops_when_closed() -> None:
    """The first result comes out while the calls after it are held; closing the generator
    then starts nothing more and leaves no thread."""
    release = threading.Event()
    started: list[int] = []
    lock = threading.Lock()

    def call(item: int) -> int:
        with lock:
            started.append(item)
        if item > 0:
            assert release.wait(GUARD)
        return item * 10

    results = bounded_imap(call, range(100), limit=4, name="test-imap")
    assert next(results) == 0  # while calls 1..4 still wait
    release.set()
    assert next(results) == 10
    results.close()
    assert threads_named("test-imap") == []
    assert max(started) <= 1 + 4  # the window around what was taken, not the 100
    assert list(bounded_imap(lambda i: i + 1, range(20), limit=3)) == list(range(1, 21))


def test_imap_holds_back_calls_while_its_consumer_is_slow() -> None:
    """Calls are started only from the generator, up to ``limit`` ahead of the result taken:
    while the consumer holds the first result, at most items 0..4 have started, however fast
    the calls finish; the rest come in order when asked for."""
    started: list[int] = []
    lock = threading.Lock()

    def call(item: int) -> int:
        with lock:
            started.append(item)
        return -item

    results = bounded_imap(call, range(100), limit=4, name="test-window")
    assert next(results) == 0
    with lock:
        assert max(started) <= 4  # 0 taken: 1..4 at most, not the 100
    assert list(results) == [-i for i in range(1, 100)]
    assert sorted(started) == list(range(100))


def test_aimap_yields_in_order_and_cancels_what_runs_when_closed(portal: Portal) -> None:
    async def scenario() -> tuple[list[int], list[int], int]:
        cancelled = 0

        async def call(item: int) -> int:  # later items finish first
            await asyncio.sleep(0 if item == 0 else 0.001 * (20 - item))
            return item

        async def held(item: int) -> int:  # 0 and 1 at once; the others until cancelled
            nonlocal cancelled
            if item < 2:
                return item
            try:
                await asyncio.Event().wait()
            except asyncio.CancelledError:
                cancelled += 1
                raise
            return item

        every = [r async for r in bounded_aimap(call, range(20), limit=5)]
        taken = []
        async with contextlib.aclosing(bounded_aimap(held, range(20), limit=5)) as results:
            async for result in results:
                taken.append(result)
                if len(taken) == 2:
                    break
        return every, taken, cancelled

    every, taken, cancelled = portal.run(scenario())
    # 2..4 were running with 0 and 1 (5 and 6, started as those were taken, may not have begun)
    assert every == list(range(20)) and taken == [0, 1] and cancelled >= 3


def test_one_item_or_a_limit_of_one_uses_no_thread() -> None:
    def where(item: int) -> str:
        return threading.current_thread().name

    main = threading.current_thread().name
    assert bounded_map(where, [1]) == [main]
    assert bounded_map(where, range(3), limit=1) == [main] * 3
    assert bounded_map(where, []) == []
    with pytest.raises(ValueError, match="at least 1"):
        bounded_map(where, [1, 2], limit=0)


def test_a_few_calls_run_together_in_this_thread_and_the_shared_pool() -> None:
    """At most ``limit`` items: the first runs in the caller's thread, the others at the same
    time in the long-lived pool (no thread started per call: the pool never grows past its size)."""
    together = threading.Barrier(3, timeout=GUARD)  # passes only when the 3 calls run at once

    def call(item: int) -> tuple[int, str]:
        together.wait()
        return item * 10, threading.current_thread().name

    for _ in range(20):
        results = bounded_map(call, [1, 2, 3], name="test-few")
        assert [value for value, _ in results] == [10, 20, 30]
        assert results[0][1] == threading.current_thread().name
        assert all(name.startswith("missionlab-shared") for _, name in results[1:])
    assert threads_named("test-few") == []
    assert len(threads_named("missionlab-shared")) <= MAX_CONCURRENT_REQUESTS


def test_a_few_calls_made_in_the_shared_pool_do_not_wait_for_it() -> None:
    """Calls running in the pool that map a few calls of their own get threads of their own: with
    the pool's threads all busy with the outer calls, the inner ones still run together."""
    outer_count = MAX_CONCURRENT_REQUESTS
    outers = threading.Barrier(outer_count, timeout=GUARD)  # the pool's threads all busy

    def inner_calls(outer: int) -> list[int]:
        outers.wait()
        together = threading.Barrier(3, timeout=GUARD)  # broken (an error) if they can't all run

        def inner(item: int) -> int:
            together.wait()
            return outer * 100 + item

        return bounded_map(inner, [0, 1, 2], name="test-inner")

    results = bounded_map(inner_calls, list(range(outer_count)))
    assert results == [[o * 100, o * 100 + 1, o * 100 + 2] for o in range(outer_count)]
    assert threads_named("test-inner") == []


@pytest.mark.parametrize("failing", [0, 2])  # the caller's own call, a call in the pool
def test_a_failure_among_a_few_calls_is_raised_after_the_others_finished(failing: int) -> None:
    failure = LookupError(f"call {failing} failed")
    together = threading.Barrier(3, timeout=GUARD)
    release = threading.Event()
    finished: list[int] = []

    def call(item: int) -> int:
        together.wait()  # all three running
        if item == failing:
            release.set()  # the others end only once this one has failed
            raise failure
        assert release.wait(GUARD)
        finished.append(item)
        return item

    with pytest.raises(LookupError) as raised:
        bounded_map(call, [0, 1, 2])
    assert raised.value is failure
    assert sorted(finished) == [item for item in (0, 1, 2) if item != failing]  # waited for


def test_progress_counts_each_finished_call() -> None:
    bar = tqdm(total=30, file=io.StringIO())
    bounded_map(lambda item: item, range(30), progress=bar)
    assert bar.n == 30


async def test_bounded_gather_keeps_order_and_limit() -> None:
    active, most = 0, 0

    async def call(item: int) -> int:
        nonlocal active, most
        active += 1
        most = max(most, active)
        await asyncio.sleep(0)  # let the others start
        active -= 1
        return -item

    assert await bounded_gather(call, range(50), limit=6) == [-i for i in range(50)]
    assert most == 6


async def test_bounded_gather_cancels_the_rest_after_the_first_failure() -> None:
    never = asyncio.Event()
    cancelled: list[int] = []
    started: list[int] = []

    async def call(item: int) -> int:
        started.append(item)
        if item == 2:
            raise KeyError("boom")
        try:
            await never.wait()
        except asyncio.CancelledError:
            cancelled.append(item)
            raise
        return item

    with pytest.raises(KeyError, match="boom"):
        await bounded_gather(call, range(100), limit=4)
    assert sorted(started) == [0, 1, 2, 3]
    assert sorted(cancelled) == [0, 1, 3]


def test_progress_bar_as_a_user_asks() -> None:
    with progress_bar(5, desc="Plans", unit="plan", progress=None) as later:
        assert later.delay == 0.5  # type: ignore[attr-defined]  # appears after half a second
    with progress_bar(5, desc="Plans", unit="plan", progress=True) as now:
        assert now.delay == 0  # type: ignore[attr-defined]
    code = (
        "import sys\n"
        "from missionlab.client._progress import progress_bar\n"
        "with progress_bar(3, desc='x', unit='y', progress=False) as bar:\n"
        "    bar.update(3)\n"
        "print('tqdm' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"  # off: tqdm not even imported


def test_fetch_all_stops_at_the_first_failed_page() -> None:
    """A page that fails stops the walk: the pages not started yet are never asked for."""
    asked: list[int] = []
    lock = threading.Lock()
    run = {
        "run_id": "182bd5e5-6e1a-4fe4-a799-aa6d9a6ab26e",
        "mission_id": "182bd5e5-6e1a-4fe4-a799-aa6d9a6ab26e",
        "status": "running",
        "started_at": "2026-01-01T00:00:00Z",
        "updated_at": "2026-01-01T00:00:00Z",
    }

    def server(request: httpx.Request) -> httpx.Response:
        number = int(request.url.params.get("page[number]", "1"))
        size = int(request.url.params.get("page[size]", "20"))
        with lock:
            asked.append(number)
        if number == 3:
            return httpx.Response(404, json={"errors": [{"detail": "page 3 is gone"}]})
        meta = {"page_number": number, "page_size": size, "total_pages": 40, "total_results": 40 * size}
        return httpx.Response(200, json={"data": [run] * size, "meta": meta})

    transport = httpx.MockTransport(server)
    client = missionlab.Client(base_url="http://mock/v2", transport=transport, max_retries=0)
    first = client.missions.runs.list_runs(page_size=1000)
    with pytest.raises(missionlab.NotFoundError, match="page 3 is gone"):
        first.fetch_all(progress=False, as_dicts=True)
    assert len(asked) <= 1 + 8 + 1  # the first page, and the window of 8 around page 3
    assert threads_named("missionlab-page") == []


@pytest.fixture(scope="module")
def planned() -> Iterator[tuple[Sandbox, list[tuple[str, str]]]]:
    """A sandbox with runs whose plans have 0 to 4 steps."""
    with Sandbox() as sandbox:
        client = sandbox.client()
        mission = client.missions.create(name=unique("plans")).data
        runs = []
        for size in range(5):
            run = client.missions.runs.create(mission.mission_id).data
            if size:
                steps = [{"step_id": f"s{n}", "description": f"step {n}", "sequence": n} for n in range(size)]
                client.missions.runs.plan.create(run.run_id, mission_id=mission.mission_id, steps=steps)
            runs.append((run.run_id, mission.mission_id))
        yield sandbox, runs


def test_fetch_plans_gives_each_runs_plan_in_order(planned: tuple[Sandbox, list[tuple[str, str]]]) -> None:
    sandbox, runs = planned
    client = sandbox.client()
    one_by_one = [client.missions.runs.plan.retrieve(r, mission_id=m).data for r, m in reversed(runs)]
    assert fetch_plans(client, list(reversed(runs))) == one_by_one
    assert [len(plan) for plan in fetch_plans(client, iter(runs))] == [0, 1, 2, 3, 4]


def test_fetch_plans_of_a_deleted_run(planned: tuple[Sandbox, list[tuple[str, str]]]) -> None:
    sandbox, runs = planned
    client = sandbox.client()
    gone = ("182bd5e5-6e1a-4fe4-a799-aa6d9a6ab26e", runs[0][1])
    with pytest.raises(missionlab.NotFoundError):
        fetch_plans(client, [runs[1], gone])
    plans = fetch_plans(client, [runs[1], gone, runs[2]], missing="empty")
    assert [[step.step_id for step in plan] for plan in plans] == [["s0"], [], ["s0", "s1"]]


def test_fetch_plans_shows_a_plans_bar(
    planned: tuple[Sandbox, list[tuple[str, str]]], monkeypatch: pytest.MonkeyPatch
) -> None:
    import tqdm.auto

    bars: list[Any] = []
    real = tqdm.auto.tqdm

    def spy(*args: Any, **kwargs: Any) -> Any:
        bars.append(real(*args, **{**kwargs, "file": io.StringIO()}))
        return bars[-1]

    monkeypatch.setattr(tqdm.auto, "tqdm", spy)
    sandbox, runs = planned
    fetch_plans(sandbox.client(), runs, progress=True)
    assert [(bar.desc, bar.total, bar.n) for bar in bars] == [("Plans", 5, 5)]
