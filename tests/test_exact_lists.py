"""Exact list reads (issue 22): every path that walks pages returns every item of the list
once, or raises IncompleteListError; never fewer items than the server says it holds.

Servers that cap or ignore ``page[size]`` are the real sandbox with its ``page_cap`` fault;
servers whose pages lie, grow, shrink or repeat items are small MockTransport servers
(a real server can't be made to do those on cue)."""

from __future__ import annotations

import asyncio
import gc
import json
import threading
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import httpx
import pytest

import missionlab
from missionlab import fetch_frames
from missionlab.client._items import ItemList
from missionlab.client._pagination import PageRequest, fetch_every
from missionlab.client.models import Run
from missionlab.sandbox import Sandbox
from missionlab.sandbox.faults import FaultRule

from .conftest import Portal, unique


@pytest.fixture(scope="module")
def capped() -> Iterator[Sandbox]:
    with Sandbox() as sb:
        yield sb


def runs_of(sb: Sandbox, count: int) -> tuple[str, list[str]]:
    """A new mission with ``count`` runs, and their ids newest first (read from the store)."""
    store = sb.store
    assert store is not None
    mission_id = str(store.create_mission({"name": unique("exact")})["mission_id"])
    for _ in range(count):
        store.create_run(mission_id, {})
    rows = store._all(
        "SELECT run_id FROM runs WHERE mission_id=? ORDER BY started_at DESC, rowid DESC", (mission_id,)
    )
    return mission_id, [r[0] for r in rows]


@pytest.mark.parametrize("cap", [20, 999])
@pytest.mark.parametrize("ignores_size", [False, True])
@pytest.mark.parametrize("page_size", [None, 20, 1000])
def test_a_server_that_caps_pages_gives_every_item(
    capped: Sandbox, cap: int, ignores_size: bool, page_size: int | None
) -> None:
    count = 45 if cap == 20 else 2345
    mission_id, expected = runs_of(capped, count)
    rule = {"route": "GET /ai/missions/*", "page_cap": cap, "page_cap_ignores_size": ignores_size}
    capped.set_faults({"rules": [rule]})
    try:
        with capped.client() as client:
            first = client.missions.runs.list(mission_id, page_size=page_size)
            assert len(first.data) == min(cap, count, page_size or 20) or ignores_size
            assert [r.run_id for r in first.fetch_all(progress=False)] == expected
            dicts = first.fetch_all(progress=False, as_dicts=True)
            assert [d["run_id"] for d in dicts] == expected
            assert [r.run_id for r in first] == expected
            assert [d["run_id"] for page in first.iter_dicts(progress=False) for d in page] == expected
            frames = fetch_frames(client, mission_id=mission_id, events=False, progress=False)
            assert list(frames.runs["run_id"]) == expected
    finally:
        capped.set_faults({"rules": []})


def test_async_pages_follow_a_capped_server(capped: Sandbox, portal: Portal) -> None:
    mission_id, expected = runs_of(capped, 61)
    capped.set_faults({"rules": [{"route": "GET /ai/missions/*", "page_cap": 20}]})
    try:

        async def scenario() -> tuple[list[str], list[str], list[str]]:
            async with capped.async_client() as client:
                first = await client.missions.runs.list(mission_id, page_size=1000)
                walked = [r.run_id async for r in first]
                streamed = [d["run_id"] async for page in first.iter_dicts(progress=False) for d in page]
                return walked, [r.run_id for r in await first.fetch_all(progress=False)], streamed

        walked, everything, streamed = portal.run(scenario())
        assert walked == everything == streamed == expected
    finally:
        capped.set_faults({"rules": []})


def test_fetch_frames_events_and_steps_under_a_cap(capped: Sandbox) -> None:
    mission_id, run_ids = runs_of(capped, 3)
    store = capped.store
    assert store is not None
    for run_id in run_ids:
        for n in range(30):
            store.log_event(mission_id, run_id, {"type": "message", "summary": f"m{n}"})
    (total_events,) = store._all("SELECT count(*) FROM events", ())[0]
    capped.set_faults({"rules": [{"route": "GET /ai/missions/*", "page_cap": 20}]})
    try:
        with capped.client() as client:
            frames = fetch_frames(client, progress=False)
        assert len(frames.events) == total_events and frames.events["event_id"].is_unique
        (total_runs,) = store._all("SELECT count(*) FROM runs", ())[0]
        assert len(frames.runs) == total_runs
    finally:
        capped.set_faults({"rules": []})


# Servers a real server can't be made to be on cue: an in-memory newest-first list.

TEMPLATE = {
    "mission_id": "182bd5e5-6e1a-4fe4-a799-aa6d9a6ab26e",
    "status": "running",
    "started_at": "2026-01-01T00:00:00Z",
    "updated_at": "2026-01-01T00:00:00Z",
}


class ListServer:
    """Runs newest first, served ``cap`` per page at most, with a meta that may lie about the
    page size; ``on_request(n, server)`` may change the list before request ``n`` is answered."""

    def __init__(self, count: int, *, cap: int = 1000, lie: bool = False, on_request: Any = None) -> None:
        self.items = [self.run(i) for i in range(count)][::-1]
        self.cap, self.lie, self.on_request = cap, lie, on_request
        self.requests: list[tuple[int, int]] = []
        self.made = count

    @staticmethod
    def run(n: int) -> dict[str, Any]:
        return {**TEMPLATE, "run_id": f"run-{n:05d}"}

    def add_newest(self, k: int) -> None:
        self.items[:0] = [self.run(self.made + i) for i in range(k)][::-1]
        self.made += k

    def __call__(self, request: httpx.Request) -> httpx.Response:
        number = int(request.url.params.get("page[number]", "1"))
        asked = int(request.url.params.get("page[size]", "20"))
        if self.on_request is not None:
            self.on_request(len(self.requests), self)
        self.requests.append((number, asked))
        size = min(asked, self.cap)
        data = self.page(number, size)
        shown = asked if self.lie else size
        meta = {
            "page_number": number,
            "page_size": shown,
            "total_pages": -(-len(self.items) // shown),
            "total_results": len(self.items),
        }
        return httpx.Response(200, content=json.dumps({"data": data, "meta": meta}))

    def page(self, number: int, size: int) -> list[dict[str, Any]]:
        return self.items[(number - 1) * size : number * size]

    def client(self) -> missionlab.Client:
        return missionlab.Client(base_url="http://mock/v2", transport=httpx.MockTransport(self))


def ids(items: Sequence[Any]) -> list[str]:
    return [i["run_id"] if isinstance(i, dict) else i.run_id for i in items]


@pytest.mark.parametrize("page_size", [20, 1000])
def test_a_server_whose_meta_claims_the_size_asked_for(page_size: int) -> None:
    """Issue 22: main returned 20 of 45 runs, trusting a meta that named the size asked for."""
    server = ListServer(45, cap=20, lie=True)
    expected = ids(server.items)
    first = server.client().missions.runs.list_runs(page_size=page_size)
    assert ids(first.fetch_all(progress=False)) == expected
    assert ids(first.fetch_all(progress=False, as_dicts=True)) == expected
    assert ids(list(first)) == expected


def test_a_list_that_grows_while_it_is_read() -> None:
    """New runs at the front shift older ones onto the next page: every run of the first
    read once, in order, and the shifted tail read too."""

    def grow(n: int, server: ListServer) -> None:
        if n == 1:
            server.add_newest(3)

    for as_dicts in (False, True):
        server = ListServer(45, cap=20, on_request=grow)
        expected = ids(server.items)
        first = server.client().missions.runs.list_runs(page_size=20)
        got = ids(first.fetch_all(progress=False, as_dicts=as_dicts))
        assert got == expected  # 45 runs, none twice, none lost
        server = ListServer(45, cap=20, on_request=grow)
        streamed = server.client().missions.runs.list_runs(page_size=20).iter_dicts(progress=False)
        assert ids([d for page in streamed for d in page]) == expected
        server = ListServer(45, cap=20, on_request=grow)
        assert ids(list(server.client().missions.runs.list_runs(page_size=20))) == expected


def test_a_list_that_shrinks_while_it_is_read_is_read_again() -> None:
    """Deleting the newest runs shifts the others towards the front, past a page already
    read; the walk reads the list once more rather than lose them."""

    def shrink(n: int, server: ListServer) -> None:
        if n == 1:
            del server.items[:5]

    server = ListServer(45, cap=20, on_request=shrink)
    remaining = ids(server.items)[5:]
    got = ids(server.client().missions.runs.list_runs(page_size=20).fetch_all(progress=False))
    assert set(remaining) <= set(got) and len(got) == len(set(got))
    assert (1, 20) in server.requests[2:]  # read again from the first page


class ShrinksTwice(ListServer):
    """65 runs, 20 a page: the five newest are deleted while page 2 is asked for, in the first
    read and again in the read from the start, five newer runs having come in before it: runs
    20 to 24 are pushed back onto page 1, read already, both times."""

    def __init__(self) -> None:
        super().__init__(65, cap=20)
        self.asked: list[tuple[int, int]] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        asked = (int(request.url.params.get("page[number]", "1")), int(request.url.params["page[size]"]))
        self.asked.append(asked)
        if asked == (1, 20) and self.asked.count(asked) == 2:
            self.add_newest(5)
        if asked == (2, 20) and self.asked.count(asked) <= 2:
            del self.items[:5]
        return super().__call__(request)


def test_a_list_that_shrinks_while_it_is_read_again_raises() -> None:
    """After the one read from the start, a list still shrinking is an IncompleteListError,
    although more distinct runs were read than it holds (deleted ones among them)."""
    reads: list[Callable[[ListServer], Sequence[Any]]] = [
        lambda server: server.client().missions.runs.list_runs(page_size=20).fetch_all(progress=False),
        lambda server: list(server.client().missions.runs.list_runs(page_size=20)),
    ]
    for read in reads:
        server = ShrinksTwice()
        throughout = set(ids(server.items)[5:])  # never deleted
        with pytest.raises(missionlab.IncompleteListError) as caught:
            got = read(server)
            assert throughout <= set(ids(got))  # what a silent read would have missed
        assert caught.value.changing and not caught.value.repeated
        assert "try again" in str(caught.value)  # a list that changes may read whole later


def test_a_server_that_repeats_an_item_across_pages_raises() -> None:
    """Page 2 repeats an item of page 1 instead of the next one, with the total unchanged: an
    item is missing, and the read says so instead of returning 44 runs as if complete."""

    class Repeating(ListServer):
        def page(self, number: int, size: int) -> list[dict[str, Any]]:
            data = super().page(number, size)
            return [self.items[0], *data[1:]] if number == 2 else data

    server = Repeating(45, cap=20)
    first = server.client().missions.runs.list_runs(page_size=20)
    reads: list[Callable[[], Sequence[Any]]] = [lambda: first.fetch_all(progress=False), lambda: list(first)]
    for read in reads:
        with pytest.raises(missionlab.IncompleteListError) as caught:
            read()
        assert (caught.value.expected, caught.value.got) == (45, 44)
        assert "GET /ai/missions/runs" in str(caught.value)
        # read twice, the same pages: trying again cannot help, and the error says so
        assert caught.value.repeated and not caught.value.changing
        assert "try again" not in str(caught.value)
        assert "1 repeat the id of another item" in str(caught.value)
        assert gc.isenabled()  # fetch_all's pause of the collector ends with the read


def test_a_server_that_ignores_page_number_raises() -> None:
    class SamePage(ListServer):
        def page(self, number: int, size: int) -> list[dict[str, Any]]:
            return super().page(1, size)

    server = SamePage(45, cap=20)
    with pytest.raises(missionlab.IncompleteListError) as caught:
        server.client().missions.runs.list_runs().fetch_all(progress=False)
    assert (caught.value.expected, caught.value.got) == (45, 20)
    assert len(server.requests) < 12  # it stops: no endless walk


def test_a_fault_rule_out_of_bounds_is_refused(capped: Sandbox) -> None:
    """Issue 22: latency 1e308 hung every request; every setting now has a bound."""
    http = httpx.Client(headers={"Authorization": f"Bearer {capped.token}"})
    url = capped.url.removesuffix("/v2") + "/_sandbox/faults"
    before = http.get(url).json()
    bad_rules: list[Any] = [
        {"latency": 1e308},
        {"latency": -1},
        {"latency": True},
        {"retry_after": 1e9},
        {"error_rate": float("nan")},
        {"page_cap": 10**6},
        {"page_cap": 2.5},
        {"error_status": "503"},
        {"route": 7},
        "not an object",
    ]
    for rule in bad_rules:
        answer = http.put(url, content=json.dumps({"rules": [rule]}))
        assert answer.status_code == 422, rule
        assert answer.headers["content-type"].startswith("application/json")
    for body in (b"[" * 100_000 + b"]" * 100_000, b"{" * 50 + b"}", b"\xff", b'{"rules": [], "seed": 1e400}'):
        answer = http.put(url, content=body)
        assert answer.status_code in (413, 422), body[:20]
        assert answer.headers["content-type"].startswith("application/json")
    assert http.get(url).json() == before  # nothing changed
    with pytest.raises(ValueError):
        FaultRule(latency=61)


@pytest.mark.parametrize(
    "body", [b'{"data": [{"run_id": "run-1"', b'{"data": {"run_id": "x"}}', b'{"data": [1]}']
)
def test_a_broken_page_fetched_with_others_is_an_api_error(body: bytes, portal: Portal) -> None:
    """The pages after the first are fetched eight at a time and parsed by the thread that
    reads them, as it takes them: a later page that is no list answer (cut short, ``data`` no
    list, items no objects) is an APIError naming the operation, on every path."""

    class Broken(ListServer):
        def __call__(self, request: httpx.Request) -> httpx.Response:
            if request.url.params.get("page[number]") == "3":
                self.requests.append((3, int(request.url.params["page[size]"])))
                return httpx.Response(200, content=body)
            return super().__call__(request)

    server = Broken(4500)  # a first page of 20, then pages 1 to 5 of 1,000 fetched together
    first = server.client().missions.runs.list_runs()
    reads: list[Callable[[], Any]] = [
        lambda: first.fetch_all(progress=False),
        lambda: first.fetch_all(progress=False, as_dicts=True),
        lambda: [d for page in first.iter_dicts(progress=False) for d in page],
        lambda: fetch_frames(server.client(), events=False, progress=False),
    ]

    async def read_async() -> Any:
        client = missionlab.AsyncClient(base_url="http://mock/v2", transport=httpx.MockTransport(server))
        async with client:
            return await (await client.missions.runs.list_runs()).fetch_all(progress=False)

    reads.append(lambda: portal.run(read_async()))
    for read in reads:
        server.requests.clear()
        with pytest.raises(missionlab.APIError, match="not what the API documents") as caught:
            read()
        assert str(caught.value).startswith("GET /ai/missions/runs: the server's answer (HTTP 200)")
        assert (3, 1000) in server.requests


# A newest-first list that grows while its pages are fetched concurrently: the real sandbox,
# reached through a transport that answers page 1 after page 2, with events logged between the
# two answers (an order of answers a server can't be made to produce on cue).


@pytest.fixture(scope="module")
def events_of_one_run() -> Iterator[tuple[Sandbox, Callable[[], None]]]:
    """A sandbox whose newest-first event list holds 1,500 events, and what logs five more."""
    with Sandbox() as sb:
        store = sb.store
        assert store is not None
        mission_id = str(store.create_mission({"name": unique("grows")})["mission_id"])
        run_id = str(store.create_run(mission_id, {})["run_id"])
        for n in range(1500):
            store.log_event(mission_id, run_id, {"type": "custom", "summary": f"seed {n}"})

        def log_five() -> None:
            for n in range(5):
                store.log_event(mission_id, run_id, {"type": "custom", "summary": f"late {n}"})

        yield sb, log_five


def event_ids(sb: Sandbox) -> set[str]:
    """Every event id the sandbox holds, read from its store."""
    assert sb.store is not None
    return {row[0] for row in sb.store._all("SELECT event_id FROM events", ())}


def planned_page(request: httpx.Request) -> str | None:
    """The page number of a request for the event list by 1,000s (the pages fetched together)."""
    query = request.url.params
    if request.url.path.endswith("/ai/missions/events") and query.get("page[size]") == "1000":
        number: str | None = query.get("page[number]")
        return number
    return None


class PageOneAfterPageTwo(httpx.BaseTransport):
    """HTTP to the sandbox; the first request for page 1 is sent once page 2 is answered, after
    ``log()`` (page 1 then holds the new events, pushing its last ones past its end)."""

    def __init__(self, log: Callable[[], None]) -> None:
        self.base = httpx.HTTPTransport()
        self.log = log
        self.page_two = threading.Event()
        self.held = False

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        number = planned_page(request)
        if number == "1" and not self.held:
            self.held = True
            assert self.page_two.wait(30), "page 2 was not asked for alongside page 1"
            self.log()
        response = self.base.handle_request(request)
        if number == "2":
            response.read()
            self.page_two.set()
        return response

    def close(self) -> None:
        self.base.close()


class AsyncPageOneAfterPageTwo(httpx.AsyncBaseTransport):
    """:class:`PageOneAfterPageTwo` for the async client."""

    def __init__(self, log: Callable[[], None]) -> None:
        self.base = httpx.AsyncHTTPTransport()
        self.log = log
        self.page_two = asyncio.Event()
        self.held = False

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        number = planned_page(request)
        if number == "1" and not self.held:
            self.held = True
            await asyncio.wait_for(self.page_two.wait(), 30)
            self.log()
        response = await self.base.handle_async_request(request)
        if number == "2":
            await response.aread()
            self.page_two.set()
        return response

    async def aclose(self) -> None:
        await self.base.aclose()


def assert_every_event_once(before: set[str], got: list[str]) -> None:
    assert len(got) == len(set(got))  # no repeats
    missing = before - set(got)
    assert not missing, f"{len(missing)} of the events held before the call are missing"


@pytest.mark.parametrize("as_dicts", [False, True])
def test_pages_answered_out_of_order_while_the_list_grows(
    events_of_one_run: tuple[Sandbox, Callable[[], None]], as_dicts: bool
) -> None:
    """Issue 22: page 1 answered after page 2, with five events logged in between, lost the
    five events that page 1's later answer pushed past its end (the count still matched)."""
    sb, log_five = events_of_one_run
    before = event_ids(sb)
    transport = PageOneAfterPageTwo(log_five)
    with sb.client(transport=transport) as client:
        first = client.missions.list_events(page_size=1)
        if as_dicts:
            got = [e["event_id"] for e in first.fetch_all(progress=False, as_dicts=True)]
        else:
            got = [e.event_id for e in first.fetch_all(progress=False)]
    assert transport.held
    assert_every_event_once(before, got)


def test_async_pages_answered_out_of_order_while_the_list_grows(
    events_of_one_run: tuple[Sandbox, Callable[[], None]], portal: Portal
) -> None:
    sb, log_five = events_of_one_run
    before = event_ids(sb)
    transport = AsyncPageOneAfterPageTwo(log_five)

    async def scenario() -> list[str]:
        async with sb.async_client(transport=transport) as client:
            first = await client.missions.list_events(page_size=1)
            return [e.event_id for e in await first.fetch_all(progress=False)]

    got = portal.run(scenario())
    assert transport.held
    assert_every_event_once(before, got)


def test_fetch_frames_pages_answered_out_of_order_while_the_list_grows(
    events_of_one_run: tuple[Sandbox, Callable[[], None]],
) -> None:
    sb, log_five = events_of_one_run
    before = event_ids(sb)
    transport = PageOneAfterPageTwo(log_five)
    with sb.client(transport=transport) as client:
        frames = fetch_frames(client, progress=False)
    assert transport.held
    assert_every_event_once(before, list(frames.events["event_id"]))


class FirstPageNumbered(ListServer):
    """A server that numbers the page it answers with no ``page[number]`` as page 2."""

    def __call__(self, request: httpx.Request) -> httpx.Response:
        response = super().__call__(request)
        if "page[number]" in request.url.params:
            return response
        body = json.loads(response.content)
        body["meta"]["page_number"] = 2
        return httpx.Response(200, content=json.dumps(body))


@pytest.mark.parametrize(
    "server",
    [
        lambda: ListServer(0),
        lambda: ListServer(999),
        lambda: ListServer(4500),
        lambda: ListServer(2500, cap=300),
        lambda: ListServer(2500, cap=300, lie=True),
        lambda: FirstPageNumbered(2500),
    ],
)
def test_fetch_every_reads_as_the_first_page_fetch_all_does(server: Callable[[], ListServer]) -> None:
    """``fetch_every(client, request)`` (no model made for the first page) gives what
    ``fetch_all()`` of the page ``request`` asks for gives, with the same requests."""
    paged, direct = server(), server()
    expected = ids(paged.client().missions.runs.list_runs(page_size=1000).fetch_all(progress=False))
    request = PageRequest("/ai/missions/runs", "GET /ai/missions/runs", Run, {}, page_size=1000)
    items = fetch_every(direct.client(), request, progress=False)
    assert isinstance(items, ItemList) and ids(items) == expected == ids(paged.items)
    # the same requests; those made concurrently reach the server in any order
    assert direct.requests[0] == paged.requests[0] and sorted(direct.requests) == sorted(paged.requests)
