"""Capsules loaded in bulk (issue 22): a generated capsule of a few thousand events is served
whole, each event as it was saved; a bad event anywhere leaves the store as it was; the
run page and the notebook fragment stay bounded above ``max_events``.

The speed and memory figures (10^5 and 10^6 events) are measured by ``bench/capsule_load.py``,
not here.
"""

from __future__ import annotations

import copy
import json
import re
import sqlite3
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import missionlab
from missionlab.figures.share import display_parts, plotly_js, run_fragment
from missionlab.sandbox import Sandbox, Store
from missionlab.sandbox.capsules import CapsuleLoadError, load_capsules
from missionlab.sandbox.store import simulations, stored_json

RUN_ID = "0b7e3c1a-4a4e-4c1e-9f53-2f4c7a9d0e11"
MISSION_ID = "5f0c2b8e-3d7a-4b9c-8e21-6a1d4c3b2a10"
START = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)
EVENTS = 3_000
TABLES = ("missions", "objects", "runs", "steps", "events", "agents")


def generated(events: int = EVENTS) -> dict[str, Any]:
    """A capsule of one finished run with three steps and ``events`` events: times in three
    spellings (the sandbox's, ``+00:00``, ``+02:00``), payloads with floats,
    non-ASCII text and nesting, one error in 50."""

    def at(seconds: float, spelling: int = 0) -> str:
        moment = START + timedelta(seconds=seconds)
        if spelling == 1:
            return moment.isoformat()  # +00:00
        if spelling == 2:
            return moment.astimezone(timezone(timedelta(hours=2))).isoformat()
        return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")

    steps = [
        {"step_id": f"s{n}", "run_id": RUN_ID, "sequence": n, "description": f"Step {n}",
         "status": "completed", "started_at": at(n * 1000), "completed_at": at(n * 1000 + 999),
         "metadata": {"tools": ["search"]}}
        for n in range(3)
    ]  # fmt: skip
    return {
        "format": "missionlab-run-capsule",
        "version": 1,
        "mission": {"mission_id": MISSION_ID, "name": "bulk", "execution_mode": "external",
                    "created_at": at(0), "updated_at": at(0),
                    "tools": [{"tool_id": "search", "name": "Search", "type": "webhook"}]},
        "run": {"run_id": RUN_ID, "mission_id": MISSION_ID, "status": "succeeded", "started_at": at(0),
                "updated_at": at(3000), "finished_at": at(3000), "input": {"q": "naïve"}},
        "plan": steps,
        "events": [
            {"event_id": f"ev-{i:05d}", "run_id": RUN_ID, "type": "error" if i % 50 == 0 else "tool_call",
             "summary": f"call {i} → ok", "timestamp": at(i * 2999 / events, i % 3),
             "step_id": f"s{i * 3 // events}", "agent_id": "agent-1",
             "payload": {"usage": {"total_tokens": i}, "cost_usd": i * 1.5e-7, "text": "é" * (i % 4)}}
            for i in range(events)
        ],
        "agents": [{"run_id": RUN_ID, "telnyx_agent_id": "agent-1", "created_at": at(1)}],
    }  # fmt: skip


def write(folder: Path, data: Any, name: str = "run.json") -> Path:
    path = folder / name
    path.write_text(json.dumps(data))
    return path


def counts(store: Store) -> dict[str, int]:
    return {table: store.count(table) for table in TABLES}


def indexes(store: Store) -> list[tuple[str, str]]:
    return store._all("SELECT name, sql FROM sqlite_master WHERE type='index' ORDER BY name", ())


def test_every_event_is_served_back_as_it_was_saved(tmp_path: Path) -> None:
    capsule = generated()
    with Sandbox(db=tmp_path / "s.db", load=[write(tmp_path, capsule)]) as sandbox:
        client = sandbox.client()
        served = client.missions.runs.events.list(RUN_ID, mission_id=MISSION_ID, page_size=1000).fetch_all()
        run = client.missions.runs.retrieve(RUN_ID, mission_id=MISSION_ID).data
        plan = client.missions.runs.plan.retrieve(RUN_ID, mission_id=MISSION_ID).data
    saved = capsule["events"]
    assert len(served) == EVENTS
    assert [e.event_id for e in served] == [e["event_id"] for e in saved]  # oldest first: as saved
    for event, original in zip(served, saved, strict=True):
        assert event.payload == original["payload"] and event.summary == original["summary"]
        assert event.timestamp == datetime.fromisoformat(original["timestamp"])  # the same moment
    assert run.input == {"q": "naïve"} and [s.step_id for s in plan] == ["s0", "s1", "s2"]


def test_the_store_holds_the_same_events_when_its_indexes_are_rebuilt(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Above ``REBUILD_INDEXES_ABOVE`` rows the events' indexes are dropped and built again:
    the same rows, and the same indexes afterwards, as a load that keeps them."""
    rows = {}
    for bound in (10**9, 100):
        monkeypatch.setattr(simulations, "REBUILD_INDEXES_ABOVE", bound)
        store = Store(tmp_path / f"s{bound}.db")
        before = indexes(store)
        load_capsules(store, [write(tmp_path, generated())])
        assert indexes(store) == before
        rows[bound] = store._all("SELECT * FROM events ORDER BY rowid", ())
        assert counts(store) == {
            "missions": 1, "objects": 1, "runs": 1, "steps": 3, "events": EVENTS, "agents": 1
        }  # fmt: skip
        store.close()
    assert rows[100] == rows[10**9]


def in_sandbox_times(capsule: dict[str, Any]) -> dict[str, Any]:
    """``capsule`` with every event's time in the sandbox's own spelling (UTC, 'Z')."""
    for event in capsule["events"]:
        moment = datetime.fromisoformat(event["timestamp"]).astimezone(UTC)
        event["timestamp"] = moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return capsule


@pytest.mark.parametrize("spellings", ["the sandbox's", "three"])
def test_events_checked_a_column_at_a_time_give_the_rows_checked_one_by_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, spellings: str
) -> None:
    """Many events are checked and encoded a column at a time; times in other spellings send
    them through the check of each event, which rewrites them: the same rows either way."""
    from missionlab.sandbox import capsules

    capsule = generated()
    if spellings == "the sandbox's":
        capsule = in_sandbox_times(capsule)
    by_column: list[bool] = []
    columns = capsules._Rows._columns

    def spied(self: Any, items: list[Any], context: dict[str, Any]) -> Any:
        found = columns(self, items, context)
        by_column.append(found is not None)
        return found

    monkeypatch.setattr(capsules._Rows, "_columns", spied)
    rows = {}
    for bound in (10**9, 100):
        monkeypatch.setattr(capsules, "_BY_COLUMN", bound)
        store = Store(tmp_path / f"s{bound}.db")
        load_capsules(store, [write(tmp_path, capsule)])
        rows[bound] = store._all("SELECT * FROM events ORDER BY rowid", ())
        store.close()
    assert by_column == [spellings == "the sandbox's"]  # only the run of 100 looked at columns
    assert rows[100] == rows[10**9] and len(rows[100]) == EVENTS
    payloads = [json.loads(row[-1]) for row in rows[100]]
    assert payloads == [event["payload"] for event in capsule["events"]]
    assert [row[-1] for row in rows[100]] == [
        json.dumps(event["payload"], separators=(",", ":")) for event in capsule["events"]
    ]  # the text the store's own writes give (ASCII, every other character escaped)


@pytest.mark.parametrize(
    "change, reason",
    [
        (lambda a, b: (a[:-1], "Z" + b), "events[1500].timestamp: a date-time without its time zone"),
        (lambda a, b: (a[:18] + "\u0663" + a[19:], b), "events[1500].timestamp: not a date-time"),
    ],
    ids=["one short and the next long", "an Arabic-Indic digit"],
)
def test_times_checked_a_column_at_a_time_are_each_a_time(
    tmp_path: Path, change: Callable[[str, str], tuple[str, str]], reason: str
) -> None:
    """The sandbox's times are checked all at once when many events have them: a time one
    character short followed by one a character long, or a digit that is not ASCII, are
    found as the check of each event finds them."""
    capsule = in_sandbox_times(generated())
    events = capsule["events"]
    events[1500]["timestamp"], events[1501]["timestamp"] = change(
        events[1500]["timestamp"], events[1501]["timestamp"]
    )
    store = Store()
    with pytest.raises(CapsuleLoadError, match=re.escape(reason)):
        load_capsules(store, [write(tmp_path, capsule)])
    assert counts(store) == dict.fromkeys(TABLES, 0)


def test_times_checked_at_once_leave_out_the_missing() -> None:
    from missionlab.sandbox.capsules import _stamps

    stamp = "2026-03-01T09:30:00.000000Z"
    assert _stamps([stamp, None, stamp]) and _stamps([None]) and _stamps([])
    assert not _stamps([stamp, None, stamp[:-1]]) and not _stamps([None, "soon"])


JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats()  # NaN and infinities too: the parser makes 1e999 an infinity
    | st.text(st.characters(codec=None)),  # any code point, lone surrogates among them
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)


@settings(max_examples=500, deadline=None, database=None)
@given(JSON_VALUES)
def test_a_json_column_stores_the_text_json_dumps_writes(value: Any) -> None:
    """Payloads are written by orjson where it writes what the standard library would, by
    the standard library elsewhere: the stored text is json.dumps' in every case (and NaN or
    an infinity is refused as json.dumps refuses it when it must write JSON)."""
    assert stored(stored_json, value) == stored(as_json_dumps, value)


def as_json_dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), allow_nan=False)


def stored(encode: Callable[[Any], str], value: Any) -> str | type[ValueError]:
    """What ``encode`` writes of ``value``, or ValueError when it refuses it."""
    try:
        return encode(value)
    except ValueError:
        return ValueError


@pytest.mark.parametrize(
    "value",
    [
        {"small": [1e-05, 1.5e-07, -2.5e-10, 0.0001, 1e-4 * 0.99]},  # orjson: 0.00001, 1.5e-7
        {"big": [1e16, 1.5e300, 2**64 - 1, 2**64, -(2**63) - 1]},  # beyond 64 bits: orjson refuses
        {"odd": [float("inf"), -0.0, None]},  # orjson: null; NaN, infinities: not JSON
        {"odd": [float("-inf")]},
        {"odd": [float("nan")]},
        {"odd": [-0.0, None]},
        {"text": ["\x00\x1f\b\f\n\r\t", "é漢😀\u2028", '"\\/']},  # orjson: UTF-8
        {"text": "DEL \x7f"},  # orjson: as it is
        {"text": ["\ud800"]},  # a lone surrogate: orjson refuses
        json.loads("[" * 300 + "]" * 300),  # deeper than orjson goes
    ],
    ids=[
        "below 1e-4",
        "big numbers",
        "infinity",
        "-infinity",
        "NaN",
        "null",
        "text",
        "DEL",
        "lone surrogate",
        "deep",
    ],
)
def test_values_orjson_writes_otherwise_are_stored_as_json_dumps_writes_them(value: Any) -> None:
    assert stored(stored_json, value) == stored(as_json_dumps, value)
    assert (stored(stored_json, value) is ValueError) == ("nan" in repr(value) or "inf" in repr(value))


@pytest.mark.parametrize("statements, more", [(0, 0), (0, 1), (1, -1), (1, 0), (1, 1), (2, 28)])
@pytest.mark.parametrize("mission", [False, True], ids=["by run", "by run and mission"])
def test_a_bulk_insert_keeps_every_row_in_order(statements: int, more: int, mission: bool) -> None:
    """Rows go in several to a statement (as many as fit in 999 values), the rest one by one:
    every row, in the order given, each event stored under its run's key; a mission that is
    not the run's leaves no key."""
    store = Store()
    mission_id = store.create_mission({"name": "m"})["mission_id"]
    runs = [store.create_run(mission_id, {})["run_id"] for _ in range(2)]
    named = ("mission_id",) if mission else ()
    columns = ("run_id", *named, "event_id", "type", "summary", "timestamp")
    count = statements * (999 // len(columns)) + more
    rows = [
        (runs[i % 2], *(mission_id for _ in named), f"e{i}", "t", f"s{i}", f"2026-01-01T00:00:{i:06d}Z")
        for i in range(count)
    ]
    with store.bulk_insert() as bulk:
        bulk.insert("events", columns, iter(rows))
    held = store._all(
        "SELECT run_id, event_id, type, summary, timestamp FROM events JOIN runs USING (run_key) "
        "ORDER BY events.rowid",
        (),
    )
    assert held == [(row[0], *row[-4:]) for row in rows]
    if mission and count:
        other = store.create_mission({"name": "another"})["mission_id"]
        bad = [(row[0], other if i == count - 1 else row[1], f"x{i}", *row[3:]) for i, row in enumerate(rows)]
        with (
            pytest.raises(sqlite3.IntegrityError, match=r"NOT NULL constraint failed: events\.run_key"),
            store.bulk_insert() as bulk,
        ):
            bulk.insert("events", columns, bad)
        assert store.count("events") == count


BAD_EVENTS: dict[str, tuple[str, Any, str]] = {
    "a time that is not one": ("timestamp", "soon", "events[1500].timestamp: not a date-time: 'soon'"),
    "a time without its zone": ("timestamp", "2026-03-01T09:30:00", "without its time zone"),
    "a summary that is a number": ("summary", 7, "events[1500].summary: not a string: 7"),
    "a payload that is a list": ("payload", [1], "events[1500].payload: not an object: [1]"),
    "no type": ("type", None, "events[1500].type: missing"),
    "another run's event": (
        "run_id",
        "someone-else",
        "events[1500].run_id: 'someone-else', not the capsule's",
    ),
    "a repeated id": (
        "event_id",
        "ev-00003",
        "run.json: events[1500].event_id: 'ev-00003' is events[3]'s too (one event_id per run); "
        "nothing was loaded",
    ),
}


@pytest.mark.parametrize("rebuild", [False, True], ids=["indexes kept", "indexes rebuilt"])
@pytest.mark.parametrize("name", list(BAD_EVENTS))
def test_a_bad_event_in_the_middle_leaves_the_store_as_it_was(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str, rebuild: bool
) -> None:
    monkeypatch.setattr(simulations, "REBUILD_INDEXES_ABOVE", 100 if rebuild else 10**9)
    field, value, reason = BAD_EVENTS[name]
    bad = generated()
    bad["events"][1500][field] = value
    store = Store(tmp_path / "s.db")
    before = indexes(store)
    with pytest.raises(CapsuleLoadError) as refused:
        load_capsules(store, [write(tmp_path, bad)])
    assert reason in str(refused.value) and "\n" not in str(refused.value)
    assert str(refused.value).startswith(str(tmp_path / "run.json"))
    assert counts(store) == dict.fromkeys(TABLES, 0)
    assert indexes(store) == before
    load_capsules(store, [write(tmp_path, generated(), "good.json")])  # the right one then loads whole
    assert store.count("events") == EVENTS
    store.close()


def test_a_repeated_idempotency_key_is_refused_when_the_unique_index_is_built(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(simulations, "REBUILD_INDEXES_ABOVE", 100)
    bad = generated()
    bad["events"][10]["idempotency_key"] = bad["events"][2000]["idempotency_key"] = "same"
    store = Store()
    with pytest.raises(
        CapsuleLoadError,
        match=r"events\[2000\]\.idempotency_key: 'same' is events\[10\]'s too "
        r"\(one idempotency_key per run\); nothing was loaded$",
    ):
        load_capsules(store, [write(tmp_path, bad)])
    assert counts(store) == dict.fromkeys(TABLES, 0)


def test_a_nan_in_a_payload_is_refused_before_anything_is_stored(tmp_path: Path) -> None:
    bad = generated()
    bad["events"][1500]["payload"]["cost_usd"] = float("nan")  # json.dumps writes NaN
    store = Store()
    with pytest.raises(CapsuleLoadError, match=r"run\.json: cannot read the capsule: NaN is not JSON"):
        load_capsules(store, [write(tmp_path, bad)])
    assert counts(store) == dict.fromkeys(TABLES, 0)


@pytest.mark.parametrize("events", [3, 3_000], ids=["item by item", "a column at a time"])
def test_a_number_beyond_a_double_is_refused_as_the_routes_refuse_it(tmp_path: Path, events: int) -> None:
    """1e400 parses to an infinity, which the sandbox's routes refuse (422) and could not
    serve back: a capsule holding one is refused, naming where, and nothing is loaded."""
    bad = generated(events)
    bad["events"][1]["payload"] = {"usage": {"cost": "HERE"}}
    path = tmp_path / "run.json"
    path.write_text(json.dumps(bad).replace('"HERE"', "1e400"))
    store = Store()
    with pytest.raises(CapsuleLoadError, match=r"events\[1\]\.payload: contains NaN or Infinity"):
        load_capsules(store, [path])
    assert counts(store) == dict.fromkeys(TABLES, 0)


def test_loading_a_dict_leaves_it_as_it_was(tmp_path: Path) -> None:
    from missionlab.sandbox.capsules import load_capsule

    capsule = generated(200)
    kept = copy.deepcopy(capsule)
    load_capsule(Store(), capsule)
    assert capsule == kept


def test_a_page_above_its_bound_samples_and_leaves_out_what_grows_with_the_run() -> None:
    trace = missionlab.open_run(generated())
    plotly = len(plotly_js())
    whole = trace.to_html(max_events=EVENTS)
    bounded = trace.to_html(max_events=500)
    # whole: the capsule embedded, the explanation and diagnosis there, no notes
    assert whole.count('id="missionlab-capsule"') == 1 and "<h2>Explanation</h2>" in whole
    assert "left out" not in whole and "a page draws at most" not in whole
    # bounded: each part that grows with the run says what it left out and how to get it
    assert 'id="missionlab-capsule"' not in bounded
    # 60 errors (one in 50) kept, and of the 2,940 others every ceil(2,940 / 440)th = 7th: 420
    assert "The timeline draws 480 of the run's 3,000 events" in bounded
    assert "The explanation is left out: the run has 3,000 events, above this page's bound of 500" in bounded
    assert "The diagnosis is left out" in bounded and "trace.explain()" in bounded
    assert "The run's capsule is not embedded" in bounded and "trace.save(path)" in bounded
    # the sampled Gantt draws 480 markers, where the whole one draws 3,000: the page shrinks
    # by more than the 2,520 markers' hover texts ("call N → ok") it no longer carries
    assert (len(whole) - plotly) - (len(bounded) - plotly) > 2_520 * len("call 1234 → ok")


def test_the_notebook_fragment_is_bounded_too() -> None:
    trace = missionlab.open_run(generated())
    whole, bounded = run_fragment(trace, max_events=EVENTS), run_fragment(trace, max_events=500)
    assert "left out" not in whole and "The explanation is left out" in bounded
    assert "The timeline draws 480 of the run's 3,000 events" in bounded
    assert len(bounded) < len(whole) / 2
    # what a trace's _ipython_display_ shows: the same bound, the figure drawing the sample
    head, figure = display_parts(trace, max_events=500)
    assert "The explanation is left out" in head and "draws 480 of the run's 3,000 events" in head
    assert sum(len(t.x) for t in figure.data if t.type == "scattergl") == 480
    head, figure = display_parts(trace, max_events=EVENTS)
    assert "left out" not in head and sum(len(t.x) for t in figure.data if t.type == "scattergl") == EVENTS


def test_open_run_keeps_events_lazy_and_every_view_gives_what_models_gave(tmp_path: Path) -> None:
    """``open_run`` checks the events against the model in blocks and keeps them as JSON
    objects: the frames, the explanation, the Gantt, ``find`` and the events themselves are
    what a trace of one model per event (as ``open_run`` made before) gives."""
    import pandas as pd

    from missionlab.client._items import ItemList
    from missionlab.client.models import Event, Mission, PlanStep, Run, TelnyxAgent

    capsule = generated()
    path = write(tmp_path, capsule)
    opened = missionlab.open_run(path)
    modelled = missionlab.RunTrace(
        run=Run.model_validate(capsule["run"]),
        steps=[PlanStep.model_validate(step) for step in capsule["plan"]],
        events=[Event.model_validate(event) for event in capsule["events"]],
        mission=Mission.model_validate(capsule["mission"]),
        agents=[TelnyxAgent.model_validate(agent) for agent in capsule["agents"]],
    )
    assert isinstance(opened.events, ItemList)
    assert all(isinstance(block, str) for block in opened.events._blocks)  # held as JSON text
    pd.testing.assert_frame_equal(opened.events_frame, modelled.events_frame)
    assert opened.events._models == [None] * len(opened.events._models)  # framed with no model made
    pd.testing.assert_frame_equal(opened.steps_frame, modelled.steps_frame)
    assert str(opened.explain()) == str(modelled.explain())
    assert opened.gantt().to_json() == modelled.gantt().to_json()
    pd.testing.assert_frame_equal(opened.find("call 7"), modelled.find("call 7"))
    pd.testing.assert_frame_equal(opened.find(type="error"), modelled.find(type="error"))
    assert list(opened.events) == modelled.events and len(opened.events) == EVENTS


@pytest.mark.parametrize(
    ("field", "value", "reason"),
    [
        ("timestamp", "soon", "events[2345].timestamp: Input should be a valid datetime"),
        ("summary", None, "events[2345].summary: Input should be a valid string"),
        ("payload", [1], "events[2345].payload: Input should be a valid dictionary"),
    ],
)
def test_open_run_names_the_bad_event_of_a_big_capsule(field: str, value: Any, reason: str) -> None:
    bad = generated()
    bad["events"][2345][field] = value
    with pytest.raises(missionlab.errors.CapsuleError) as refused:
        missionlab.open_run(json.dumps(bad).encode())
    assert reason in str(refused.value) and refused.value.__cause__ is None


def test_events_held_as_text_read_back_exactly_what_the_file_held(tmp_path: Path) -> None:
    """A block of events is kept as its JSON text: what only the standard library reads back
    (a float past the largest, an integer past 64 bits) comes back as it was parsed from the
    file, in the models and in the frame."""
    capsule = generated(2_500)
    odd = {"huge": 10**30, "nested": [{"é": -0.0}]}
    capsule["events"][1234]["payload"] = odd
    text = json.dumps(capsule).replace('"cost_usd": 0.0', '"cost_usd": 1e999', 1)  # event 0's
    path = tmp_path / "odd.json"
    path.write_text(text)
    parsed = json.loads(text)["events"]
    assert parsed[0]["payload"]["cost_usd"] == float("inf")
    opened = missionlab.open_run(path)
    assert [event.payload for event in opened.events] == [event["payload"] for event in parsed]
    assert json.loads(opened.events_frame["payload"].tolist()[1234]) == odd  # the frame holds JSON text


def wal_bytes(path: Path) -> int:
    wal = Path(f"{path}-wal")
    return wal.stat().st_size if wal.exists() else 0


def test_a_load_into_a_file_nobody_else_holds_writes_its_pages_once_and_leaves_it_in_wal(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With no other connection to the file, a load is journaled by a rollback journal (new
    pages go to the file once, not to the WAL first); with another one (here a second store
    on the file, as another process would hold it), in the WAL as before. Either way the file
    is in WAL mode after, the pool's readers on other threads read the load, and the
    other store sees it."""
    from concurrent.futures import ThreadPoolExecutor

    monkeypatch.setattr(simulations, "REBUILD_INDEXES_ABOVE", 100)
    capsule = write(tmp_path, generated())
    sizes = {}
    for shared in (False, True):
        path = tmp_path / f"shared-{shared}.db"
        store = Store(path)
        other = Store(path) if shared else None
        with ThreadPoolExecutor(2) as pool:  # pooled readers, idle when the load starts
            assert pool.submit(store.count, "events").result() == 0
            load_capsules(store, [capsule])
            assert store._one("PRAGMA journal_mode", ()) == ("wal",)
            page = pool.submit(store.list_events, {}, 1, 1000, mission_id=MISSION_ID, run_id=RUN_ID)
            assert [e["event_id"] for e in page.result().data] == [f"ev-{i:05d}" for i in range(1000)]
        sizes[shared] = (wal_bytes(path), path.stat().st_size)
        assert not Path(f"{path}-journal").exists()
        if other is not None:
            assert other.count("events") == EVENTS
            other.close()
        store.close()
    (alone_wal, alone_file), (shared_wal, _) = sizes[False], sizes[True]
    assert alone_wal < alone_file / 20  # the load's pages went to the file only
    assert shared_wal > alone_file / 2  # through the WAL (to be copied to the file at a checkpoint)


def test_a_read_on_another_thread_during_a_load_waits_for_all_of_it(tmp_path: Path) -> None:
    """While a load holds the file alone (in a rollback journal), a read of another thread
    starts on a pooled reader's thread and waits for the load's end: it sees every event
    (never part of them, never a locked file)."""
    import threading

    store = Store(tmp_path / "s.db")
    inserting = threading.Event()
    seen: list[int] = []

    def read_meanwhile() -> None:
        inserting.wait()
        seen.append(store.count("events"))

    def signal(sql: str) -> None:
        if sql.startswith("INSERT INTO events"):
            inserting.set()

    reader = threading.Thread(target=read_meanwhile)
    reader.start()
    store._db.set_trace_callback(signal)
    load_capsules(store, [write(tmp_path, generated())])
    store._db.set_trace_callback(None)
    reader.join()
    assert seen == [EVENTS]
    store.close()


@pytest.mark.slow
def test_a_million_events_with_a_repeated_id_at_the_end_leave_nothing_behind(tmp_path: Path) -> None:
    """Atomic at full size: the last of 10^6 events repeats the first one's id, which only
    the events' key (built after every row is in) finds; the file is left as it was, then
    takes the right capsule."""
    count = 1_000_000
    head = {key: value for key, value in generated(0).items() if key != "events"}
    path = tmp_path / "big.json"
    with path.open("w") as out:
        out.write(json.dumps(head)[:-1] + ', "events": [')
        out.write(
            ",".join(
                f'{{"event_id": "ev-{i if i < count - 1 else 0:07d}", "type": "tool_call", '
                f'"summary": "call {i}", "timestamp": "2026-03-01T09:30:00.{i:06d}Z", '
                f'"step_id": "s{i % 3}", "payload": {{"n": {i}}}}}'
                for i in range(count)
            )
        )
        out.write("]}")
    store = Store(tmp_path / "s.db")
    before = indexes(store)
    refused = (
        r"events\[999999\]\.event_id: 'ev-0000000' is events\[0\]'s too "
        r"\(one event_id per run\); nothing was loaded$"
    )
    with pytest.raises(CapsuleLoadError, match=refused):
        load_capsules(store, [path])
    assert counts(store) == dict.fromkeys(TABLES, 0)
    assert indexes(store) == before and store._one("PRAGMA journal_mode", ()) == ("wal",)
    assert not Path(f"{tmp_path / 's.db'}-journal").exists()
    load_capsules(store, [write(tmp_path, generated(), "good.json")])
    assert counts(store) == {**dict.fromkeys(TABLES, 1), "steps": 3, "events": EVENTS}
    store.close()


def test_a_load_killed_in_the_middle_leaves_the_file_as_it_was(tmp_path: Path) -> None:
    """A process that dies inside a load's transaction (here: when the events' indexes are
    being built again, every row inserted) leaves its rollback journal behind; the next
    store to open the file rolls it back: nothing of the load, the file in WAL mode."""
    import subprocess
    import sys

    path = tmp_path / "s.db"
    Store(path).close()
    capsule = write(tmp_path, generated())
    child = (
        "import os, sys\n"
        "from missionlab.sandbox import Store\n"
        "from missionlab.sandbox.capsules import load_capsules\n"
        "from missionlab.sandbox.store import simulations\n"
        "simulations.REBUILD_INDEXES_ABOVE = 100\n"
        "store = Store(sys.argv[1])\n"
        "store._db.set_trace_callback(lambda sql: sql.startswith('CREATE INDEX') and os._exit(3))\n"
        "load_capsules(store, [sys.argv[2]])\n"
    )
    died = subprocess.run([sys.executable, "-c", child, str(path), str(capsule)], check=False)
    assert died.returncode == 3
    assert Path(f"{path}-journal").exists()  # the load was in a rollback journal when it died
    store = Store(path)
    assert counts(store) == dict.fromkeys(TABLES, 0)
    assert store._one("PRAGMA journal_mode", ()) == ("wal",)
    load_capsules(store, [capsule])
    assert store.count("events") == EVENTS
    store.close()
