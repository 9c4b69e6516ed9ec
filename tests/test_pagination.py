"""Pages, lazy iteration across pages, and fetching everything concurrently."""

from __future__ import annotations

import collections
import gc
import io
import threading
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import httpx
import pytest

import missionlab
from missionlab.sandbox import Sandbox

from .conftest import Api, Portal, unique


@pytest.fixture(scope="module")
def counted() -> Any:
    """A sandbox whose requests are counted per (path, page number, page size)."""
    with Sandbox() as sb:
        yield sb


def counting_client(sandbox: Sandbox) -> tuple[missionlab.Client, collections.Counter[Any]]:
    seen: collections.Counter[Any] = collections.Counter()
    lock = threading.Lock()

    def hook(request: httpx.Request) -> None:
        with lock:
            seen[
                (
                    request.url.path,
                    request.url.params.get("page[number]"),
                    request.url.params.get("page[size]"),
                )
            ] += 1

    http = httpx.Client(event_hooks={"request": [hook]})
    return missionlab.Client(api_key=sandbox.token, base_url=sandbox.url, http_client=http), seen


def mission_with_runs(sandbox: Sandbox, count: int) -> str:
    store = sandbox.store
    assert store is not None
    mission = store.create_mission({"name": unique("paging")})
    for _ in range(count):
        store.create_run(mission["mission_id"], {})
    return str(mission["mission_id"])


@pytest.mark.parametrize("count", [0, 1, 7, 2345])
def test_iteration_and_fetch_all_agree(counted: Sandbox, count: int) -> None:
    mission_id = mission_with_runs(counted, count)
    client, seen = counting_client(counted)
    first = client.missions.runs.list(mission_id, page_size=3)
    assert first.meta is not None and first.meta.total_results == count
    assert first.meta.total_pages == -(-count // 3)
    walked = [r.run_id for r in first]  # lazily, page after page
    seen.clear()
    everything = [r.run_id for r in first.fetch_all(progress=False)]
    assert walked == everything and len(everything) == count
    assert len(set(everything)) == count
    # newest first, as the API orders runs
    store = counted.store
    assert store is not None
    expected = [
        r[0]
        for r in store._all(
            "SELECT run_id FROM runs WHERE mission_id=? ORDER BY started_at DESC, rowid DESC", (mission_id,)
        )
    ]
    assert everything == expected
    # fetch_all reuses the first page; for the rest it uses the largest page size (fewer requests
    # than pages of 3) and asks for each page once
    assert all(size == "1000" for (_, _, size) in seen)
    assert all(n == 1 for n in seen.values())
    assert len(seen) == (0 if count <= 3 else -(-count // 1000))


def test_fetch_all_reuses_a_first_page_of_the_largest_size(counted: Sandbox) -> None:
    mission_id = mission_with_runs(counted, 2100)
    client, seen = counting_client(counted)
    first = client.missions.runs.list(mission_id, page_size=1000)
    items = first.fetch_all(progress=False)
    assert len(items) == 2100
    assert sorted(str(n) for (_, n, _) in seen) == ["2", "3", "None"]  # page 1 asked once


def test_iter_pages_and_next_page(counted: Sandbox) -> None:
    mission_id = mission_with_runs(counted, 5)
    client, _ = counting_client(counted)
    pages = list(client.missions.runs.list(mission_id, page_size=2).iter_pages())
    assert [len(p.data) for p in pages] == [2, 2, 1]
    assert [p.meta.page_number for p in pages if p.meta] == [1, 2, 3]
    assert not pages[-1].has_next_page() and pages[0].has_next_page()
    assert pages[0].get_next_page().data == pages[1].data


def test_progress_bar_shows_and_can_be_turned_off(counted: Sandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    mission_id = mission_with_runs(counted, 2500)
    client, _ = counting_client(counted)
    import tqdm.auto

    bars: list[Any] = []
    real = tqdm.auto.tqdm

    def spy(*args: Any, **kwargs: Any) -> Any:
        kwargs["file"] = io.StringIO()
        bar = real(*args, **kwargs)
        bars.append(bar)
        return bar

    monkeypatch.setattr(tqdm.auto, "tqdm", spy)
    client.missions.runs.list(mission_id).fetch_all(progress=True)
    assert len(bars) == 1 and bars[0].total == 4 and bars[0].n == 4  # the first page of 20, then 3
    client.missions.runs.list(mission_id).fetch_all(progress=False)
    assert len(bars) == 1


PAGE = {
    "run_id": "182bd5e5-6e1a-4fe4-a799-aa6d9a6ab26e",
    "mission_id": "182bd5e5-6e1a-4fe4-a799-aa6d9a6ab26e",
    "status": "running",
    "started_at": "2026-01-01T00:00:00Z",
    "updated_at": "2026-01-01T00:00:00Z",
}


def runs(page: int, count: int) -> list[dict[str, Any]]:
    """``count`` distinct runs for page number ``page``."""
    return [{**PAGE, "run_id": f"182bd5e5-6e1a-4fe4-a799-{page:06d}{i:06d}"} for i in range(count)]


def test_missing_meta_pages_until_an_empty_page() -> None:
    calls: list[str | None] = []

    def server(request: httpx.Request) -> httpx.Response:
        number = request.url.params.get("page[number]")
        calls.append(number)
        data = runs(int(number or "1"), 2) if (number or "1") in ("1", "2") else []
        return httpx.Response(200, json={"data": data})  # no meta at all

    client = missionlab.Client(base_url="http://mock/v2", transport=httpx.MockTransport(server))
    page = client.missions.runs.list_runs()
    assert page.meta is None and len(page.data) == 2
    assert len(list(page)) == 4
    assert len(page.fetch_all(progress=False)) == 4
    assert calls[:3] == [None, "2", "3"]


def test_missing_meta_with_a_server_that_caps_page_size() -> None:
    """A short page is not the end: the server may serve fewer items than asked for."""

    def server(request: httpx.Request) -> httpx.Response:
        number = int(request.url.params.get("page[number]", "1"))
        return httpx.Response(200, json={"data": runs(number, 1) if number <= 3 else []})

    client = missionlab.Client(base_url="http://mock/v2", transport=httpx.MockTransport(server))
    assert len(list(client.missions.runs.list_runs(page_size=5))) == 3
    assert len(client.missions.runs.list_runs(page_size=5).fetch_all(progress=False)) == 3


def test_async_pages(api: Api, counted: Sandbox, portal: Portal) -> None:
    mission_id = mission_with_runs(counted, 1234)
    client = counted.async_client()

    async def scenario() -> tuple[list[str], list[str]]:
        first = await client.missions.runs.list(mission_id, page_size=100)
        walked = [r.run_id async for r in first]
        everything = [r.run_id for r in await first.fetch_all(progress=False)]
        await client.aclose()
        return walked, everything

    walked, everything = portal.run(scenario())
    assert walked == everything and len(everything) == 1234


def test_fetch_all_reuses_a_first_page_of_any_size(counted: Sandbox) -> None:
    """Issue 12: main threw away every first page not of size 1000 and asked for page 1 again."""
    small, larger = mission_with_runs(counted, 80), mission_with_runs(counted, 150)
    client, seen = counting_client(counted)
    first = client.missions.runs.list(small, page_size=100)
    seen.clear()
    assert [r.run_id for r in first.fetch_all(progress=False)] == [r.run_id for r in first.data]
    assert not seen  # everything was on the first page
    first = client.missions.runs.list(larger, page_size=100)
    seen.clear()
    everything = first.fetch_all(progress=False)
    assert len({r.run_id for r in everything}) == len(everything) == 150
    assert [(n, size) for (_, n, size) in seen] == [("2", "100")]  # one request, no page asked twice


def test_fetch_all_drops_repeats_while_another_client_writes(counted: Sandbox) -> None:
    """Issue 10 item 10: runs created while a newest-first list is read shift items onto the
    next page; main returned them twice."""
    mission_id = mission_with_runs(counted, 2500)
    store = counted.store
    assert store is not None
    lock = threading.Lock()
    written: list[str] = []

    def another_client_writes(request: httpx.Request) -> None:
        with lock:  # before pages 2 and 3 are sent, 7 new runs are put at the front
            if request.url.params.get("page[number]") in ("2", "3") and not written:
                written.extend(store.create_run(mission_id, {})["run_id"] for _ in range(7))

    original = [
        r[0]
        for r in store._all(
            "SELECT run_id FROM runs WHERE mission_id=? ORDER BY started_at DESC, rowid DESC", (mission_id,)
        )
    ]
    http = httpx.Client(event_hooks={"request": [another_client_writes]})
    client = missionlab.Client(api_key=counted.token, base_url=counted.url, http_client=http)
    first = client.missions.runs.list(mission_id, page_size=1000)
    for as_dicts in (False, True):
        written.clear()
        if as_dicts:
            ids = [item["run_id"] for item in first.fetch_all(progress=False, as_dicts=True)]
        else:
            ids = [item.run_id for item in first.fetch_all(progress=False)]
        assert len(written) == 7
        assert ids == original  # every run of the first read, once, in the server's order


def test_fetch_all_as_dicts_gives_the_servers_json_in_the_same_order(counted: Sandbox) -> None:
    mission_id = mission_with_runs(counted, 1234)
    client, _ = counting_client(counted)
    page = client.missions.runs.list(mission_id, page_size=50)
    models = page.fetch_all(progress=False)
    dicts = page.fetch_all(progress=False, as_dicts=True)
    assert all(type(d) is dict for d in dicts)
    assert [d["run_id"] for d in dicts] == [m.run_id for m in models]
    assert datetime.fromisoformat(dicts[0]["started_at"]) == models[0].started_at  # as sent: a string
    assert set(dicts[0]) == set(models[0].model_dump(exclude_unset=True))


@pytest.mark.parametrize("as_dicts", [False, True])
def test_fetch_all_gathers_pages_with_the_collector_paused(counted: Sandbox, as_dicts: bool) -> None:
    """Issue 24: the parsed pages piling up set off collections that went over them again and
    again; fetch_all pauses the collector while it gathers them (the young objects are then
    collected once), and leaves it as it was."""
    mission_id = mission_with_runs(counted, 2345)
    client, _ = counting_client(counted)
    first = client.missions.runs.list(mission_id, page_size=20)
    expected = [run.run_id for run in first]  # walked page by page, collections allowed
    started: list[int] = []

    def read() -> Sequence[Any]:
        return first.fetch_all(progress=False, as_dicts=True) if as_dicts else first.fetch_all(progress=False)

    def ids(items: Sequence[Any]) -> list[str]:  # (an item list makes its models here)
        return [item["run_id"] if as_dicts else item.run_id for item in items]

    def note(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            started.append(info["generation"])

    gc.callbacks.append(note)
    try:
        items = read()
    finally:
        gc.callbacks.remove(note)
    assert len(started) <= 1 and gc.isenabled()  # one pass when it resumes, none while reading
    assert ids(items) == expected
    gc.disable()
    try:
        assert ids(read()) == expected
        assert not gc.isenabled()  # paused by the caller: left paused
    finally:
        gc.enable()
