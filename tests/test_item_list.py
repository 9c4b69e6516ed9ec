"""``fetch_all()``'s ItemList (issue 24): models made a block at a time when first read, and
frames read from the JSON; every answer the same as the eager path's (a list of models
validated page by page): the same items, ids, models, frames and dtypes."""

from __future__ import annotations

import json
import pickle
import random
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pandas as pd
import pytest

import missionlab
from missionlab import ItemList, frames
from missionlab.client._items import BLOCK
from missionlab.client.models import Event, Run
from missionlab.frames import RUN_STATUS
from missionlab.frames._columns import field_reader, reader_of
from missionlab.sandbox import Sandbox

from .conftest import unique

NOW = datetime(2026, 12, 1, tzinfo=UTC)
COUNT = 2 * BLOCK + 345  # three blocks, the last one short


@pytest.fixture(scope="module")
def many(sandbox: Sandbox) -> tuple[str, list[str]]:
    """A mission with COUNT runs in every status (loaded in bulk), and their ids newest first."""
    store = sandbox.store
    assert store is not None
    mission_id = str(store.create_mission({"name": unique("items")})["mission_id"])
    rng = random.Random(24)
    start = datetime(2026, 11, 1, tzinfo=UTC)
    rows = []
    for i in range(COUNT):
        status = rng.choice(["succeeded", "failed", "running", "paused", "pending", "cancelled"])
        began = start + timedelta(seconds=7 * i)
        row: dict[str, Any] = {
            "run_id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
            "mission_id": mission_id,
            "status": status,
            "started_at": began.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
            "updated_at": (began + timedelta(seconds=30)).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
            "input": {"n": i, "deep": {"k": [i, str(i)]}},
            "metadata": {"team": f"t{i % 3}"} if i % 2 else None,
        }
        if status in ("succeeded", "failed", "cancelled"):
            row["finished_at"] = row["updated_at"]
        if status == "failed":
            row["error"] = f"error {i}"
        rows.append(row)
    store.bulk_load("runs", rows)
    newest_first = sorted(rows, key=lambda r: r["started_at"], reverse=True)
    return mission_id, [r["run_id"] for r in newest_first]


def eager(page: Any) -> list[Run]:
    """The slow path: every page validated as models, walked by iteration."""
    return list(page)


def test_fetch_all_gives_the_models_iteration_gives(sandbox: Sandbox, many: tuple[str, list[str]]) -> None:
    mission_id, expected = many
    with sandbox.client() as client:
        page = client.missions.runs.list(mission_id, page_size=1000)
        items = page.fetch_all(progress=False)
        assert isinstance(items, ItemList) and len(items) == COUNT
        slow = eager(page)
    assert [r.run_id for r in slow] == expected
    assert items == slow and slow == list(items)  # models equal field by field, in order
    assert all(type(item) is Run for item in items)
    assert items[0] is items[0] and items[-1] == slow[-1] and items[BLOCK] == slow[BLOCK]
    assert items[5 : BLOCK + 7 : 3] == slow[5 : BLOCK + 7 : 3]
    with pytest.raises(IndexError):
        items[COUNT]


def test_frames_of_item_lists_equal_frames_of_models(sandbox: Sandbox, many: tuple[str, list[str]]) -> None:
    mission_id, expected = many
    with sandbox.client() as client:
        page = client.missions.runs.list(mission_id, page_size=1000)
        slow = frames.runs_frame(eager(page), now=NOW)
        untouched = page.fetch_all(progress=False)
        from_json = missionlab.to_frame(untouched, now=NOW)
        assert untouched.to_frame(now=NOW).equals(from_json)
        partly = page.fetch_all(progress=False)
        assert partly[BLOCK + 1].run_id == expected[BLOCK + 1]  # the second block becomes models
        mixed = frames.runs_frame(partly, now=NOW)
        dicts = frames.runs_frame(page.fetch_all(progress=False, as_dicts=True), now=NOW)
    for frame in (from_json, mixed, dicts):
        pd.testing.assert_frame_equal(frame, slow)
    assert list(slow["run_id"]) == expected
    assert slow["status"].dtype == RUN_STATUS and slow["started_at"].dtype == "datetime64[us, UTC]"


def test_events_as_items_and_as_frames(sandbox: Sandbox, many: tuple[str, list[str]]) -> None:
    """Events of one run of this module's own mission (the demo adds events to its own runs
    while a test walks, so a list of the whole organization's events is not the same twice)."""
    mission_id, run_ids = many
    run_id = run_ids[0]
    store = sandbox.store
    assert store is not None
    rng = random.Random(7)
    start = datetime(2026, 11, 20, tzinfo=UTC)
    rows = [
        {
            "event_id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
            "run_id": run_id,
            "mission_id": mission_id,
            "type": rng.choice(["step_started", "tool_call", "tool_result", "message", "custom"]),
            "summary": f"event {i} \u00e9",
            "timestamp": (start + timedelta(milliseconds=37 * i)).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
            "step_id": f"s{i % 4}" if i % 3 else None,
            "payload": {"i": i, "tool": "search"} if i % 2 else None,
        }
        for i in range(BLOCK + 123)  # two blocks, the last one short
    ]
    store.bulk_load("events", rows)
    with sandbox.client() as client:
        page = client.missions.runs.events.list(run_id, mission_id=mission_id, page_size=1000)
        items = page.fetch_all(progress=False)
        slow = list(page)
        again = page.fetch_all(progress=False)
    assert [e.event_id for e in items] == [e.event_id for e in slow] == [r["event_id"] for r in rows]
    assert all(type(e) is Event for e in items)
    pd.testing.assert_frame_equal(missionlab.to_frame(again), frames.events_frame(slow))


def test_an_item_list_behaves_like_the_list_it_was(sandbox: Sandbox, many: tuple[str, list[str]]) -> None:
    mission_id = many[0]
    with sandbox.client() as client:
        items = client.missions.runs.list(mission_id, page_size=1000).fetch_all(progress=False)
    plain = list(items)
    assert repr(items) == repr(plain)
    assert plain[3] in items and items.index(plain[BLOCK + 2]) == BLOCK + 2 and items.count(plain[0]) == 1
    assert items + plain[:2] == plain + plain[:2] and plain[:2] + items == plain[:2] + plain
    assert list(reversed(items)) == plain[::-1]
    restored = pickle.loads(pickle.dumps(items))
    assert isinstance(restored, ItemList) and restored == plain
    items.sort(key=lambda run: run.run_id)
    plain.sort(key=lambda run: run.run_id)
    assert items == plain
    first, three = plain[0], plain[:3]
    for changed in (items, plain):  # the same changes to both
        changed.append(first)
        del changed[1]
        changed.extend(three)
    assert items == plain and len(items) == len(plain) == COUNT + 3
    assert items.pop() == plain.pop() and items == plain
    frame = missionlab.to_frame(items, now=NOW)  # the models now: the changed list
    assert list(frame["run_id"]) == [r.run_id for r in plain]
    items.clear()
    assert len(items) == 0 and items == []


def test_an_item_the_document_refuses_raises_when_read() -> None:
    """A server can't be made to send a run without a status: a MockTransport one does. The
    list is read whole; the block holding the bad run raises APIError when first read, and
    the frame, which reads the JSON as fetch_frames does, keeps the run with its status missing."""
    good = {"mission_id": "m", "started_at": "2026-01-01T00:00:00Z", "updated_at": "2026-01-01T00:00:00Z"}
    data = [{**good, "run_id": f"r{i}", "status": "running"} for i in range(BLOCK + 5)]
    del data[BLOCK + 2]["status"]

    def answer(request: httpx.Request) -> httpx.Response:
        number = int(request.url.params.get("page[number]", "1"))
        size = int(request.url.params.get("page[size]", "20"))
        meta = {
            "page_number": number,
            "page_size": size,
            "total_pages": -(-len(data) // size),
            "total_results": len(data),
        }
        body = {"data": data[(number - 1) * size : number * size], "meta": meta}
        return httpx.Response(200, content=json.dumps(body))

    client = missionlab.Client(base_url="http://mock/v2", transport=httpx.MockTransport(answer))
    items = client.missions.runs.list_runs(page_size=20).fetch_all(progress=False)
    assert items[0].run_id == "r0"  # the first block is fine
    with pytest.raises(missionlab.APIError, match="not what the API documents"):
        items[BLOCK + 4]
    frame = items.to_frame(now=NOW)
    assert list(frame["run_id"]) == [d["run_id"] for d in data]
    assert frame["status"].isna().tolist() == [i == BLOCK + 2 for i in range(len(data))]


def test_frames_read_an_item_list_a_block_at_a_time() -> None:
    """``reader_of`` an item list gathers its model's fields a block at a time; every field,
    and a key the model does not declare (read item by item), comes out as reading every item
    once per field did, from blocks of JSON objects, of models and of JSON text alike."""
    rng = random.Random(5)
    data = [
        {
            "mission_id": "m",
            "started_at": "2026-01-01T00:00:00Z",
            "updated_at": "2026-01-01T00:00:00Z",
            "run_id": str(uuid.UUID(int=rng.getrandbits(128))),
            "status": rng.choice(["running", "succeeded", "no such status"]),
            "metadata": {"n": i} if i % 3 else None,
            "shard": i % 7 if i % 2 else None,  # a key the model does not declare
        }
        for i in range(2 * BLOCK + 3)
    ]
    as_json = ItemList(Run, data, "GET /ai/missions/runs")
    mixed = ItemList(Run, data, "GET /ai/missions/runs")
    with pytest.warns(UserWarning):  # the unknown status warns when its block becomes models
        assert mixed[BLOCK].run_id == data[BLOCK]["run_id"]
    texts = [json.dumps(data[i : i + BLOCK]) for i in range(0, len(data), BLOCK)]
    as_text = ItemList.of_json_blocks(Run, list(texts), len(data), "open_run")
    for items in (as_json, mixed, as_text):
        read = reader_of(items)
        item_by_item = field_reader(items.frame_items())
        for name in [*Run.model_fields, "shard"]:
            assert read(name) == item_by_item(name), name
    assert reader_of(as_json)("shard") == [d["shard"] for d in data]
