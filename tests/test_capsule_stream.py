"""Capsules read as a stream (issue 22): ``open_run`` and ``serve --load`` parse a capsule's
events a block at a time, with the file read a chunk at a time, and give what a whole parse
gives, for any key order; a refused capsule leaves nothing and names the id it repeats.

The reader itself (``missionlab._wire.json_stream``) is checked against ``json.loads`` on
random texts read in tiny chunks: the same values, and the same error message for a broken
text. The memory it saves is measured by ``bench/capsule_load.py``, not here.
"""

from __future__ import annotations

import copy
import json
import random
from pathlib import Path
from typing import Any

import orjson
import pandas as pd
import pytest

import missionlab
from missionlab._wire import json_stream
from missionlab._wire.json_stream import Items, JSONStreamError, ObjectStream
from missionlab.analysis import capsule as analysis_capsule
from missionlab.errors import CapsuleError
from missionlab.sandbox import Store, capsules
from missionlab.sandbox.capsules import CapsuleLoadError, load_capsule, load_capsules
from missionlab.sandbox.store import simulations

from .test_capsule_bulk import EVENTS, TABLES, counts, generated

# -- the reader, against json.loads ----------------------------------------------------------


def _value(rng: random.Random, depth: int = 0) -> Any:
    roll = rng.random()
    if depth > 3 or roll < 0.35:
        return rng.choice(
            [0, -1, 1.5, -2.5e-7, 1e300, 10**30, "x", 'é\n"\\', "\U0001f600", True, False, None, "", 12345]
        )
    if roll < 0.6:
        return [_value(rng, depth + 1) for _ in range(rng.randint(0, 4))]
    return {f"{rng.choice('abc')}{i}": _value(rng, depth + 1) for i in range(rng.randint(0, 4))}


def _event(rng: random.Random, depth: int = 0) -> dict[str, Any]:
    """An item that begins as every other does ({"k": ...}), holding what looks like an item's
    end and the next one's beginning: in a string, and as nested objects."""
    item: dict[str, Any] = {"k": rng.choice(['}, {"k": 1', "x", 5])}
    for i in range(rng.randint(0, 3)):
        nested = [_event(rng, depth + 1) for _ in range(2)] if depth < 2 else 1
        item[f"p{i}"] = rng.choice([_value(rng, depth + 1), nested, '}, {"k":'])
    return item


def _read(data: bytes, chunk: int, size: int, text: bool, exact: bool) -> Any:
    """What the stream gives, as one value (the streamed array's blocks joined)."""
    stream = ObjectStream(data, chunk=chunk)
    if not stream.is_object():
        return stream.whole()
    out: dict[str, Any] = {}
    for key, value in stream.members("events"):
        if isinstance(value, Items):
            items: list[Any] = []
            lengths = []
            for start, block, block_text in value.blocks(size, text=text, exact=exact):
                assert start == len(items) and block
                if text:
                    assert block_text is not None and json.loads(block_text) == block
                items += block
                lengths.append(len(block))
            assert not exact or set(lengths[:-1]) <= {size}
            value = items
        out[key] = value
    return out


def _texts(seed: int, count: int) -> list[str]:
    rng = random.Random(seed)
    texts = []
    for _ in range(count):
        events = (
            [_event(rng) for _ in range(rng.randint(0, 30))]
            if rng.random() < 0.7
            else [_value(rng) for _ in range(rng.randint(0, 10))]
        )
        members = [("a", _value(rng)), ("events", events), ("z", _value(rng))]
        rng.shuffle(members)
        texts.append(json.dumps(dict(members), indent=rng.choice([None, 2]), ensure_ascii=rng.random() < 0.5))
    return texts


def test_the_stream_gives_what_json_loads_gives_in_any_chunks() -> None:
    rng = random.Random(7)
    for text in _texts(7, 400):
        data = text.encode()
        for chunk in (1, 3, 64, json_stream.CHUNK):
            exact = rng.random() < 0.5
            assert _read(data, chunk, rng.randint(1, 6), rng.random() < 0.5, exact) == json.loads(text)


def test_a_broken_text_is_refused_as_json_loads_refuses_it() -> None:
    rng = random.Random(11)
    compared = 0
    for text in _texts(11, 400):
        cut = rng.randint(0, len(text))
        broken = (
            text[:cut] + rng.choice(["", "x", ",", "]", "}", " 1", '"']) + text[cut + rng.randint(0, 2) :]
        )
        try:
            json.loads(broken)
            continue
        except json.JSONDecodeError as error:
            expected = str(error)
        for chunk in (1, 5, json_stream.CHUNK):
            with pytest.raises(JSONStreamError) as refused:
                _read(broken.encode(), chunk, 3, True, rng.random() < 0.5)
            assert str(refused.value) == expected
            compared += 1
    assert compared > 300


def test_the_stream_refuses_what_a_whole_parse_keeps_quiet() -> None:
    with pytest.raises(JSONStreamError, match="the key 'events' appears twice"):
        _read(b'{"events": [1], "events": [2]}', 4, 1, False, True)
    with pytest.raises(JSONStreamError, match="NaN is not JSON"):
        _read(b'{"events": [1, NaN]}', 4, 1, False, True)
    with pytest.raises(JSONStreamError, match="not UTF-8"):
        _read(b'{"a": "\xff"}', 4, 1, False, True)


def test_a_byte_order_mark_is_read_past_as_json_loads_reads_past_it() -> None:
    """A UTF-8 byte-order mark (what some Windows editors write first) is not part of the
    text, for ``json.loads`` of the bytes as for the stream, whatever the chunks cut it at;
    the position of a problem is counted without it, as ``json.loads`` counts it."""
    for text in _texts(13, 40):
        data = b"\xef\xbb\xbf" + text.encode()
        for chunk in (1, 2, 3, json_stream.CHUNK):
            assert _read(data, chunk, 3, True, True) == json.loads(data) == json.loads(text)
    broken = b'\xef\xbb\xbf{"events": [1,\n 2 x]}'
    with pytest.raises(json.JSONDecodeError) as whole:
        json.loads(broken)
    for chunk in (1, 4, json_stream.CHUNK):
        with pytest.raises(JSONStreamError) as refused:
            _read(broken, chunk, 1, False, True)
        assert str(refused.value) == str(whole.value) == "Expecting ',' delimiter: line 2 column 4 (char 18)"


def test_items_not_taken_are_read_past_and_checked() -> None:
    stream = ObjectStream(b'{"events": [1, 2, 3, 4], "after": true}', chunk=2)
    seen = {}
    for key, value in stream.members("events"):
        if isinstance(value, Items):
            seen[key] = next(value.blocks(1))[1]  # the first block only
        else:
            seen[key] = value
    assert seen == {"events": [1], "after": True}
    with pytest.raises(JSONStreamError, match="Expecting value"):  # a broken item not taken
        for _ in ObjectStream(b'{"events": [1, 2, ], "after": true}', chunk=2).members("events"):
            pass


# -- capsules ------------------------------------------------------------------------------


def ordered(data: dict[str, Any], first: list[str]) -> dict[str, Any]:
    """``data`` with the keys ``first`` first, in that order."""
    return {**{key: data[key] for key in first}, **{k: v for k, v in data.items() if k not in first}}


def rows(store: Store) -> dict[str, list[Any]]:
    return {table: store._all(f"SELECT * FROM {table} ORDER BY rowid", ()) for table in TABLES}


KEY_ORDERS = {
    "as saved": [],
    "events first": ["events"],
    "events before the run": ["format", "version", "mission", "events", "run"],
    "agents and plan first": ["agents", "plan"],
    "version last": ["events", "agents", "plan", "run", "mission", "format"],
}


@pytest.mark.parametrize("order", list(KEY_ORDERS))
def test_a_capsule_reads_the_same_in_any_key_order(tmp_path: Path, order: str) -> None:
    capsule = generated()
    as_saved = tmp_path / "saved.json"
    as_saved.write_text(json.dumps(capsule))
    other = tmp_path / "other.json"
    other.write_text(json.dumps(ordered(capsule, KEY_ORDERS[order])))
    stores = []
    for path in (as_saved, other):
        store = Store()
        load_capsules(store, [path])
        stores.append(rows(store))
    assert stores[0] == stores[1] and len(stores[1]["events"]) == EVENTS
    opened = missionlab.open_run(other)
    assert [e.model_dump() for e in opened.events] == [
        e.model_dump() for e in missionlab.open_run(capsule).events
    ]


def test_a_big_capsule_is_read_in_blocks_holding_a_bounded_text(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The file is read 64 KiB at a time and the loader takes 1,000 events at a time: the
    text held at once stays about a chunk and a block, an eighth of the file, and the loaded
    and opened events are the file's."""
    monkeypatch.setattr(json_stream, "CHUNK", 1 << 16)
    monkeypatch.setattr(capsules, "_BLOCK", 1000)
    monkeypatch.setattr(analysis_capsule, "_GUESSED", 1000)
    capsule = generated(12_000)
    path = tmp_path / "big.json"
    path.write_bytes(orjson.dumps(capsule, option=orjson.OPT_INDENT_2))  # as trace.save writes it
    held: list[int] = []
    more = ObjectStream._more

    def watched(self: ObjectStream, keep: int, at_least: int = 0) -> None:
        more(self, keep, at_least)
        held.append(len(self._buf))

    monkeypatch.setattr(ObjectStream, "_more", watched)
    store = Store()
    load_capsules(store, [path])
    assert path.stat().st_size > 8 * max(held) and len(held) > 10
    events = rows(store)["events"]
    assert [row[0] for row in events] == [event["event_id"] for event in capsule["events"]]
    assert [json.loads(row[-1]) for row in events] == [event["payload"] for event in capsule["events"]]
    held.clear()
    opened = missionlab.open_run(path)
    assert path.stat().st_size > 8 * max(held) and len(held) > 10
    whole = missionlab.open_run(capsule)
    assert list(opened.events) == list(whole.events)
    pd.testing.assert_frame_equal(opened.events_frame, whole.events_frame)


def test_a_capsule_of_indented_text_is_held_compact(tmp_path: Path) -> None:
    """open_run keeps each block of events as text: the file's own, or, for an indented file
    (as ``trace.save`` writes), written again without the indentation."""
    capsule = generated()
    spaced, indented = tmp_path / "spaced.json", tmp_path / "indented.json"
    spaced.write_text(json.dumps(capsule))
    indented.write_bytes(orjson.dumps(capsule, option=orjson.OPT_INDENT_2))
    held = {}
    for path in (spaced, indented):
        events = missionlab.open_run(path).events
        blocks = events._blocks  # type: ignore[attr-defined]
        assert all(isinstance(block, str) for block in blocks)
        held[path.name] = sum(len(block) for block in blocks)
        assert list(events) == list(missionlab.open_run(capsule).events)
    compact = len(json.dumps(capsule["events"], separators=(",", ":")))  # one array, not three
    assert held["indented.json"] == compact + EVENTS // 1000 - 1 < held["spaced.json"]


def test_events_that_look_like_their_neighbours_inside_are_loaded_exactly(tmp_path: Path) -> None:
    """The loader guesses where a block of events ends (the next ``{"event_id":``): payloads
    holding that text in a string, and nested objects beginning so, make wrong guesses,
    which must cost time only."""
    capsule = generated()
    for index, event in enumerate(capsule["events"]):
        if index % 7 == 0:
            event["payload"]["text"] = '"}, {"event_id": "x", ' * (index % 5)
        if index % 11 == 0:
            event["payload"]["nested"] = [{"event_id": f"inner-{index}", "run_id": "r"}, {"event_id": "y"}]
    path = tmp_path / "look-alike.json"
    path.write_text(json.dumps(capsule))
    store = Store()
    load_capsules(store, [path])
    payloads = [json.loads(row[-1]) for row in rows(store)["events"]]
    assert payloads == [event["payload"] for event in capsule["events"]]
    assert [row[0] for row in rows(store)["events"]] == [event["event_id"] for event in capsule["events"]]


# -- refusals ------------------------------------------------------------------------------


@pytest.mark.parametrize("rebuild", [False, True], ids=["indexes kept", "indexes rebuilt"])
@pytest.mark.parametrize("order", ["as saved", "events first"])
def test_a_repeated_event_id_is_named_with_both_places(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, rebuild: bool, order: str
) -> None:
    monkeypatch.setattr(simulations, "REBUILD_INDEXES_ABOVE", 100 if rebuild else 10**9)
    bad = generated()
    bad["events"][2999]["event_id"] = bad["events"][17]["event_id"]
    path = tmp_path / "run.json"
    path.write_text(json.dumps(ordered(bad, KEY_ORDERS[order])))
    store = Store()
    with pytest.raises(CapsuleLoadError) as refused:
        load_capsules(store, [path])
    assert str(refused.value) == (
        f"{path}: events[2999].event_id: 'ev-00017' is events[17]'s too (one event_id per run); "
        "nothing was loaded"
    )
    assert counts(store) == dict.fromkeys(TABLES, 0)


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (
            lambda d: d["plan"][2].update(step_id="s0"),
            "plan[2].step_id: 's0' is plan[0]'s too (one step_id per run)",
        ),
        (
            lambda d: d["agents"].append(dict(d["agents"][0])),
            "agents[1].telnyx_agent_id: 'agent-1' is agents[0]'s too (one telnyx_agent_id per run)",
        ),
        (
            lambda d: d["mission"]["tools"].append({"tool_id": "search", "name": "Again"}),
            "mission.tools[1].tool_id: 'search' is mission.tools[0]'s too (one tool_id per mission)",
        ),
    ],
)
def test_other_repeated_ids_are_named(change: Any, reason: str) -> None:
    bad = generated(50)
    change(bad)
    store = Store()
    with pytest.raises(CapsuleLoadError) as refused:
        load_capsule(store, bad, where="run.json")
    assert str(refused.value) == f"run.json: {reason}; nothing was loaded"
    assert counts(store) == dict.fromkeys(TABLES, 0)


def test_a_capsule_cut_short_after_many_events_leaves_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The events are inserted as they are read: a file that breaks after 2,500 of them is
    refused in one line naming where, and the transaction leaves the store as it was."""
    monkeypatch.setattr(simulations, "REBUILD_INDEXES_ABOVE", 100)
    text = json.dumps(generated())
    cut = text.index('"ev-02500"')
    path = tmp_path / "cut.json"
    path.write_text(text[: cut + 4])  # '... {"event_id": "ev-
    store = Store()
    with pytest.raises(CapsuleLoadError) as refused:
        load_capsules(store, [path])
    message = str(refused.value)
    assert message.startswith(f"{path}: cannot read the capsule: Unterminated string starting at: line 1")
    assert f"(char {cut})" in message and "\n" not in message
    assert counts(store) == dict.fromkeys(TABLES, 0)
    with pytest.raises(CapsuleError, match=rf"not a run capsule \(not JSON\): .*\(char {cut}\)"):
        missionlab.open_run(path)


def test_a_capsule_saved_with_a_byte_order_mark_opens_and_loads_as_without(tmp_path: Path) -> None:
    capsule = generated(50)
    plain, marked = tmp_path / "plain.json", tmp_path / "marked.json"
    plain.write_text(json.dumps(capsule))
    marked.write_bytes(b"\xef\xbb\xbf" + plain.read_bytes())
    assert [e.model_dump() for e in missionlab.open_run(marked).events] == [
        e.model_dump() for e in missionlab.open_run(plain).events
    ]
    stores = []
    for path in (plain, marked):
        store = Store()
        load_capsules(store, [path])
        stores.append(rows(store))
    assert stores[0] == stores[1] and len(stores[1]["events"]) == 50


def test_a_repeated_top_level_key_is_refused(tmp_path: Path) -> None:
    capsule = generated(10)
    text = json.dumps(capsule)
    path = tmp_path / "twice.json"
    path.write_text(text[:-1] + ', "run": ' + json.dumps(capsule["run"]) + "}")
    with pytest.raises(
        CapsuleLoadError, match=r"twice.json: cannot read the capsule: the key 'run' appears twice"
    ):
        load_capsules(Store(), [path])
    with pytest.raises(CapsuleError, match=r"^not a run capsule: the key 'run' appears twice"):
        missionlab.open_run(path)  # the text is JSON: not said to be "not JSON"


def test_open_run_checks_the_format_before_the_events_and_the_events_before_the_mission(
    tmp_path: Path,
) -> None:
    """The same problem is named first whatever the key order: the format, then the run, the
    plan, the events, the mission, as for a capsule given as a dict."""
    capsule = generated(10)
    capsule["events"][3]["timestamp"] = "soon"
    capsule["mission"]["name"] = 7
    for first in ([], ["events"]):
        path = tmp_path / "bad.json"
        path.write_text(json.dumps(ordered(capsule, first)))
        with pytest.raises(CapsuleError, match=r"events\[3\]\.timestamp"):
            missionlab.open_run(path)
        newer = copy.deepcopy(ordered(capsule, first))
        newer["version"] = 2
        path.write_text(json.dumps(newer))
        with pytest.raises(CapsuleError, match="reads versions up to 1"):
            missionlab.open_run(path)


@pytest.mark.parametrize("indented", [False, True])
def test_open_run_names_the_bad_event_of_a_file_in_any_spelling(tmp_path: Path, indented: bool) -> None:
    """An indented file's events are parsed in guessed blocks and checked 1,000 at a time:
    the bad one is still named by its place in the file."""
    bad = generated()
    bad["events"][2345]["timestamp"] = "soon"
    path = tmp_path / "bad.json"
    path.write_bytes(orjson.dumps(bad, option=orjson.OPT_INDENT_2) if indented else json.dumps(bad).encode())
    with pytest.raises(CapsuleError, match=r"events\[2345\]\.timestamp: Input should be a valid datetime"):
        missionlab.open_run(path)
