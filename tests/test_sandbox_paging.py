"""Pages of every list (and plans), byte for byte as a straightforward implementation serves them.

The reference below is how the sandbox first served pages: ``count(*)``, ``ORDER BY ...
LIMIT/OFFSET``, every row decoded to a dict and the answer encoded with ``json.dumps``.
The sandbox now seeks from cached positions and encodes rows without decoding them; its
answers must not differ by a byte, on any page, at any size, before and after writes
(its own, and another connection's to the same file).
"""

from __future__ import annotations

import asyncio
import json
import math
import random
import re
import sqlite3
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing
from pathlib import Path
from typing import Any

import httpx
import pytest

from missionlab.sandbox import Store
from missionlab.sandbox.app import create_app
from missionlab.sandbox.demo import seed_demo
from missionlab.sandbox.routes._common import page_of
from missionlab.sandbox.store import EVENT_FIELDS, MISSION_FIELDS, RUN_FIELDS, SMALL_PAGE, STEP_FIELDS, Page
from missionlab.sandbox.store._encode import answer_json, row_items

JSON_COLUMNS = {"metadata", "input", "result_payload", "payload"}
NEWEST = "DESC"
OLDEST = ""


class Reference:
    """Answers computed the plain way, on a connection of its own to the file."""

    def __init__(self, path: Path) -> None:
        self.db = sqlite3.connect(path)
        # The events as the API shows them (the file keeps each one's run as the run's key).
        self.db.execute(
            "CREATE TEMP VIEW events AS SELECT e.rowid AS rowid, e.event_id, r.run_id, r.mission_id, "
            "e.type, e.summary, e.timestamp, e.step_id, e.agent_id, e.idempotency_key, e.payload "
            "FROM main.events AS e JOIN main.runs AS r ON r.run_key = e.run_key"
        )

    def answer(
        self,
        table: str,
        fields: tuple[str, ...],
        filters: dict[str, str],
        sort: str,
        direction: str,
        number: int,
        size: int,
    ) -> bytes:
        where = " AND ".join(f"{name}=?" for name in filters) or "1=1"
        args = tuple(filters.values())
        total = self.db.execute(f"SELECT count(*) FROM {table} WHERE {where}", args).fetchone()[0]
        rows = self.db.execute(
            f"SELECT {', '.join(fields)} FROM {table} WHERE {where} "
            f"ORDER BY {sort} {direction}, rowid {direction} LIMIT ? OFFSET ?",
            (*args, size, (number - 1) * size),
        ).fetchall()
        data = [
            {
                name: json.loads(value) if name in JSON_COLUMNS else value
                for name, value in zip(fields, row, strict=True)
                if value is not None
            }
            for row in rows
        ]
        meta = {
            "page_number": number,
            "page_size": size,
            "total_pages": math.ceil(total / size),
            "total_results": total,
        }
        return json.dumps({"data": data, "meta": meta}, separators=(",", ":")).encode()

    def plan(self, run_id: str) -> bytes:
        fields = STEP_FIELDS
        query = f"SELECT {', '.join(fields)} FROM steps WHERE run_id=? ORDER BY sequence, rowid"
        steps = [
            {
                name: json.loads(value) if name in JSON_COLUMNS else value
                for name, value in zip(fields, row, strict=True)
                if value is not None
            }
            for row in self.db.execute(query, (run_id,))
        ]
        return json.dumps({"data": steps}, separators=(",", ":")).encode()


ODD_TEXT = 'Café ☕ 😀 "quoted" back\\slash \x00\x01\x1f\x7f \u2028 tab\tnew\nline'
ODD_JSON: dict[str, Any] = {
    "text": ODD_TEXT,
    "floats": [1.5e-07, 1e16, -0.0, 0.1, 123456789.125],
    "ints": [0, -1, 2**53 + 1, 10**30],
    "nested": {"a": [1, {"b": None, "c": [True, False]}], "ü": {}},
    "empty": [],
}


def add_odd_history(store: Store) -> dict[str, str]:
    """Data the demo lacks: non-ASCII and control characters, numbers of every kind, null
    fields, timestamps shared by several events and events stored out of time order."""
    mission = store.create_mission({"name": ODD_TEXT, "metadata": ODD_JSON, "description": "ü"})
    mission_id = mission["mission_id"]
    run = store.create_run(mission_id, {"input": ODD_JSON})
    run_id = run["run_id"]
    store.update_run(mission_id, run_id, {"status": "running"})
    for i in range(40):  # ten instants, four events each, stored newest instant first
        at = f"2026-11-27T10:00:{59 - i // 4:02d}.000000Z"
        event: dict[str, Any] = {
            "run_id": run_id,
            "type": "message",
            "summary": f"{ODD_TEXT} {i}",
            "timestamp": at,
        }
        if i % 3 == 0:
            event["payload"] = {**ODD_JSON, "i": i}
        if i % 5 == 0:
            event["step_id"] = "step-ü"
        if i % 2 == 0:
            event["agent_id"] = "agent-☕"
        store.record_event(mission_id, event)
    steps = [  # two of the same sequence: by creation between them
        {"step_id": "step-ü", "description": ODD_TEXT, "sequence": 2, "metadata": ODD_JSON},
        {"step_id": "a", "description": "same sequence", "sequence": 2},
        {"step_id": "b", "description": "first", "sequence": -5, "parent_step_id": "step-ü"},
    ]
    store.add_steps(mission_id, run_id, steps, initial=True)
    store.update_step(mission_id, run_id, "b", {"status": "completed"})
    store.update_run(mission_id, run_id, {"status": "succeeded", "result_payload": ODD_JSON})
    return {"mission_id": mission_id, "run_id": run_id}


class Served:
    """A sandbox app on a file with demo and odd history (no simulator: nothing writes unasked),
    the reference on the same file, and the odd history's ids."""

    def __init__(self, path: Path) -> None:
        self.store = Store(path)
        seed_demo(self.store, seed=3)
        self.ids = add_odd_history(self.store)
        self.app = create_app(self.store, simulate=False)
        self.reference = Reference(path)

    def http(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(transport=httpx.ASGITransport(app=self.app), base_url="http://127.0.0.1/v2")


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    served = Served(tmp_path_factory.mktemp("paging") / "sandbox.db")
    yield served
    served.reference.db.close()
    served.store.close()


# Reference.answer's arguments before the page: table, fields, filters, sort column, direction.
ListSpec = tuple[str, tuple[str, ...], dict[str, str], str, str]


def lists(ids: dict[str, str], busiest_run: tuple[str, str]) -> list[tuple[str, dict[str, str], ListSpec]]:
    """(path, query filters, reference spec) of every paged list, with its filters."""
    mission_id, run_id = busiest_run
    odd_run = f"/ai/missions/{ids['mission_id']}/runs/{ids['run_id']}/events"
    run_events = f"/ai/missions/{mission_id}/runs/{run_id}/events"
    events = ("events", EVENT_FIELDS)
    runs = ("runs", RUN_FIELDS)
    return [
        ("/ai/missions", {}, ("missions", MISSION_FIELDS, {}, "created_at", NEWEST)),
        ("/ai/missions/events", {}, (*events, {}, "timestamp", NEWEST)),
        ("/ai/missions/events", {"type": "tool_call"}, (*events, {"type": "tool_call"}, "timestamp", NEWEST)),
        ("/ai/missions/runs", {}, (*runs, {}, "started_at", NEWEST)),
        ("/ai/missions/runs", {"status": "failed"}, (*runs, {"status": "failed"}, "started_at", NEWEST)),
        (f"/ai/missions/{mission_id}/runs", {}, (*runs, {"mission_id": mission_id}, "started_at", NEWEST)),
        (
            f"/ai/missions/{mission_id}/runs",
            {"status": "succeeded"},
            (*runs, {"mission_id": mission_id, "status": "succeeded"}, "started_at", NEWEST),
        ),
        (run_events, {}, (*events, {"run_id": run_id}, "timestamp", OLDEST)),
        (
            run_events,
            {"type": "step_started"},
            (*events, {"run_id": run_id, "type": "step_started"}, "timestamp", OLDEST),
        ),
        (odd_run, {}, (*events, {"run_id": ids["run_id"]}, "timestamp", OLDEST)),
        (
            odd_run,
            {"step_id": "step-ü"},
            (*events, {"run_id": ids["run_id"], "step_id": "step-ü"}, "timestamp", OLDEST),
        ),
        (
            odd_run,
            {"agent_id": "agent-☕", "type": "message"},
            (
                *events,
                {"run_id": ids["run_id"], "agent_id": "agent-☕", "type": "message"},
                "timestamp",
                OLDEST,
            ),
        ),
    ]


def page_numbers(total_pages: int, rng: random.Random, sample: int) -> list[int]:
    """Every page in order when there are few, else a sample; then backwards, random, past the end."""
    if total_pages <= 3 * sample:
        forward = list(range(1, total_pages + 1))
    else:
        forward = [1, 2, 3, *sorted(rng.sample(range(4, total_pages + 1), sample))]
    shuffled = rng.sample(forward, min(sample, len(forward)))
    return [*forward, total_pages + 1, *reversed(forward), *shuffled, 2**31 - 1]


def busiest_run(reference: Reference) -> tuple[str, str]:
    query = "SELECT mission_id, run_id FROM events GROUP BY run_id ORDER BY count(*) DESC, run_id LIMIT 1"
    mission_id, run_id = reference.db.execute(query).fetchone()
    return str(mission_id), str(run_id)


async def check_every_list(
    served: Served, seed: int, sizes: tuple[int, ...] = (1, 7, 50, 1000), sample: int = 8
) -> int:
    rng = random.Random(seed)
    checked = 0
    async with served.http() as http:
        for path, params, spec in lists(served.ids, busiest_run(served.reference)):
            for size in sizes:
                first = json.loads(served.reference.answer(*spec, 1, size))
                for number in page_numbers(max(1, first["meta"]["total_pages"]), rng, sample):
                    answer = await http.get(
                        path, params={**params, "page[number]": number, "page[size]": size}
                    )
                    assert answer.status_code == 200, answer.text
                    expected = served.reference.answer(*spec, number, size)
                    assert answer.content == expected, (path, params, size, number)
                    checked += 1
        runs = [busiest_run(served.reference), (served.ids["mission_id"], served.ids["run_id"])]
        for mission_id, run_id in runs:
            answer = await http.get(f"/ai/missions/{mission_id}/runs/{run_id}/plan")
            assert answer.content == served.reference.plan(run_id) and b'"step_id"' in answer.content
    return checked


async def test_every_list_matches_the_reference_on_every_page(served: Served) -> None:
    assert await check_every_list(served, seed=1) > 800


async def test_pages_stay_exact_after_writes_of_the_sandbox_and_of_another_connection(served: Served) -> None:
    await check_every_list(served, seed=2, sizes=(7, 1000), sample=5)  # positions are cached now
    mission_id, run_id = busiest_run(served.reference)
    async with served.http() as http:
        for i in range(3):  # through the API: new newest runs and events, a status change
            created = await http.post(f"/ai/missions/{mission_id}/runs", json={"input": {"i": i}})
            new_run = created.json()["data"]["run_id"]
            await http.post(
                f"/ai/missions/{mission_id}/runs/{run_id}/events",
                json={"type": "tool_call", "summary": f"late {i}", "payload": {"i": i}},
            )
            await http.post(f"/ai/missions/{mission_id}/runs/{new_run}/cancel")
    await check_every_list(served, seed=3, sizes=(7, 1000), sample=5)
    other = Store(served.store.path)  # another connection, as another process would have
    try:
        early = {"type": "message", "summary": "early", "timestamp": "2026-01-01T00:00:00.000000Z"}
        other.record_event(served.ids["mission_id"], {**early, "run_id": served.ids["run_id"]})
        other.delete_mission(mission_id)
    finally:
        other.close()
    await check_every_list(served, seed=4, sizes=(7, 1000), sample=5)


def test_lists_are_read_in_index_order_without_sorting(tmp_path: Path) -> None:
    store = Store()
    seed_demo(store)
    ids = add_odd_history(store)
    statements: list[str] = []
    store._db.set_trace_callback(statements.append)
    for number in (1, 2):  # page 2 seeks from where page 1 ended
        store.list_missions(number, 1)
        for status in (None, "succeeded"):
            for mission_id in (None, ids["mission_id"]):
                store.list_runs(mission_id, status, number, 1)
        for filters in (
            {},
            {"type": "message"},
            {"step_id": "step-ü"},
            {"agent_id": "agent-☕"},
            {"type": "message", "step_id": "step-ü"},
        ):
            store.list_events(filters, number, 1, mission_id=ids["mission_id"], run_id=ids["run_id"])
        store.list_events({}, number, 1)
        store.list_events({"type": "message"}, number, 1)
    store._db.set_trace_callback(None)
    pages = [s for s in statements if s.startswith("SELECT") and "ORDER BY" in s]
    seeks = [s for s in pages if "rowid <=" in s or "rowid >=" in s]
    assert len(pages) >= 20 and len(seeks) >= 10
    for statement in pages:
        plan = " / ".join(row[3] for row in store._db.execute(f"EXPLAIN QUERY PLAN {statement}"))
        assert "TEMP B-TREE" not in plan and "USING" in plan, (statement, plan)
    counts = [s for s in statements if s.startswith("SELECT count(*) FROM events")]
    assert len(counts) >= 7
    for statement in counts:  # counted from an index, never by reading the whole table
        plan = " / ".join(row[3] for row in store._db.execute(f"EXPLAIN QUERY PLAN {statement}"))
        assert re.match(r"(SEARCH|SCAN) events USING (COVERING )?INDEX events_", plan), plan
    store.close()


def test_a_version_1_file_gets_the_ascending_indexes(tmp_path: Path) -> None:
    from missionlab.sandbox.store._db import SCHEMA

    path = tmp_path / "v1.db"
    with closing(sqlite3.connect(path)) as db:
        db.executescript(SCHEMA)
        db.execute("PRAGMA user_version = 1")
    Store(path).close()
    with closing(sqlite3.connect(path)) as db:
        indexes = dict(
            db.execute("SELECT name, sql FROM sqlite_master WHERE type='index' AND sql IS NOT NULL")
        )
    assert "DESC" not in " ".join(indexes.values())
    assert indexes["events_newest"] == "CREATE INDEX events_newest ON events (timestamp)"


def test_rows_are_encoded_as_json_dumps_encodes_them() -> None:
    every_character = "".join(chr(c) for c in range(0x110000) if not 0xD800 <= c < 0xE000)
    stored = json.dumps(ODD_JSON, separators=(",", ":"))
    rows = [(every_character, stored, None, 7, "x"), ("plain", None, "ü\x7f", -(2**63), "x")]
    expected = [
        {"text": every_character, "payload": ODD_JSON, "sequence": 7},
        {"text": "plain", "step_id": "ü\x7f", "sequence": -(2**63)},
    ]
    items = row_items(("text", "payload", "step_id", "sequence"), rows, frozenset({"payload"}))
    encoded = answer_json(items)
    assert encoded == json.dumps(expected, separators=(",", ":")).encode()


def test_a_file_database_serves_reads_while_a_write_is_under_way(tmp_path: Path) -> None:
    store = Store(tmp_path / "db.sqlite")
    ids = add_odd_history(store)
    before = store.list_events({}, 1, 100).meta["total_results"]
    writing, done = threading.Event(), threading.Event()

    def write() -> None:
        with store.transaction() as db:
            db.execute("UPDATE runs SET error='x'")
            writing.set()
            done.wait(30)

    writer = threading.Thread(target=write)
    writer.start()
    try:
        assert writing.wait(30)
        with ThreadPoolExecutor(4) as pool:  # readers in other threads, the write lock held throughout
            pages = list(pool.map(lambda n: store.list_events({}, n, 7), range(1, 9), timeout=10))
            run = pool.submit(store.get_run, ids["mission_id"], ids["run_id"]).result(timeout=10)
        assert [p.meta["total_results"] for p in pages] == [before] * 8 and "error" not in run
    finally:
        done.set()
        writer.join(30)
    assert store.get_run(ids["mission_id"], ids["run_id"])["error"] == "x"
    assert store.list_events({}, 1, 100).meta["total_results"] == before
    store.close()


def test_big_pages_are_read_in_turn_and_small_ones_never_wait_for_them(tmp_path: Path) -> None:
    store = Store(tmp_path / "db.sqlite")
    add_odd_history(store)
    with ThreadPoolExecutor(2) as pool:
        with store.page_turn(SMALL_PAGE + 1):  # as while another thread answers a big page
            small = pool.submit(store.list_events, {}, 1, SMALL_PAGE)
            big = pool.submit(store.list_events, {}, 1, SMALL_PAGE + 1)
            assert small.result(timeout=10).meta["total_results"] > 0  # served meanwhile
            time.sleep(0.2)
            assert not big.done()  # waits its turn
        assert big.result(timeout=10).meta["total_results"] == small.result().meta["total_results"]
    store.close()


def test_a_big_page_is_read_and_encoded_in_its_turn_and_a_small_one_outside_it(tmp_path: Path) -> None:
    store = Store(tmp_path / "db.sqlite")
    add_odd_history(store)
    big_pages_turn: Any = store.page_turn(SMALL_PAGE + 1)
    taken_while_encoding: list[bool] = []

    def taken_by_another_thread() -> bool:
        def try_to_take() -> bool:
            if not big_pages_turn.acquire(blocking=False):
                return True
            big_pages_turn.release()
            return False

        with ThreadPoolExecutor(1) as other:
            return other.submit(try_to_take).result(timeout=10)

    class Encoded(Page):
        def json(self) -> bytes:
            taken_while_encoding.append(taken_by_another_thread())
            return super().json()

    def read(number: int, size: int) -> Page:
        page = store.list_events({}, number, size)
        return Encoded(page.columns, page.rows, page.json_columns, page.meta)

    for size in (SMALL_PAGE, SMALL_PAGE + 1):
        answer = asyncio.run(page_of(store, read, 1, size))
        assert answer.body == store.list_events({}, 1, size).json()
    assert taken_while_encoding == [False, True]
    store.close()


def test_a_page_unpacks_as_its_items_as_plain_dicts_and_its_meta() -> None:
    store = Store()
    ids = add_odd_history(store)
    for page in (
        store.list_events({}, 2, 7),
        store.list_runs(ids["mission_id"], None, 1, 5),
        store.list_missions(1, 3),
    ):
        data, meta = page
        assert json.loads(page.json()) == {"data": data, "meta": meta} and page[0] is data and page[1] is meta
        assert data and all(isinstance(item, dict) for item in data)
    assert store.list_runs(None, None, 1, 5).data[0]["input"] == ODD_JSON  # JSON columns decoded
    store.close()
