"""An event's id is unique within its run only: the API addresses an event as
``/runs/{run_id}/events/{event_id}``, so two runs may each have an ``ev-001``. Every
organisation-wide read keeps both (the paging walk, fetch_frames, the history's tables),
and a run's own list is read as before."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pyarrow.dataset as ds
import pytest

import missionlab
from missionlab.sandbox import Sandbox
from missionlab.sandbox.capsules import load_capsule

from .crafted import craft, event, step

MISSION = "22222222-2222-4222-8222-222222222222"
RUNS = [f"00000000-0000-4000-8000-0000000000a{n}" for n in range(3)]


def capsule(folder: Path, number: int) -> Path:
    """Run ``number``: one step, three events whose ids (ev-001...) every run's events use."""
    base = number * 100
    trace = craft(
        [step("a", base + 1, base + 5, sequence=1)],
        [event(base + 2, "message", "a", f"hello from run {number}")],
        run_id=RUNS[number],
        mission_id=MISSION,
        start=base,
    )
    path = folder / f"r{number}.json"
    trace.save(path)
    return path


def expected(folder: Path, numbers: range) -> set[tuple[str, str, str]]:
    """(run_id, event_id, summary) of every event the capsules of ``numbers`` hold."""
    held = set()
    for number in numbers:
        data = json.loads((folder / f"r{number}.json").read_text())
        held |= {(e["run_id"], e["event_id"], e["summary"]) for e in data["events"]}
    return held


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[Sandbox]:
    paths = [capsule(tmp_path, n) for n in range(3)]
    with Sandbox(load=paths[:2], token="event-ids-token") as sb:
        yield sb


def test_the_capsules_share_event_ids(tmp_path: Path, sandbox: Sandbox) -> None:
    """The scenario itself: the runs' events use the same ids, and the server holds all."""
    ids = [{e[1] for e in expected(tmp_path, range(n, n + 1))} for n in range(2)]
    assert ids[0] == ids[1] and len(ids[0]) == 3
    meta = sandbox.client().missions.list_events(page_size=1).meta
    assert meta is not None and meta.total_results == 6


@pytest.mark.parametrize("page_size", [2, 1000])
def test_the_organisation_wide_list_keeps_every_runs_events(
    tmp_path: Path, sandbox: Sandbox, page_size: int
) -> None:
    client = sandbox.client()
    first = client.missions.list_events(page_size=page_size)
    want = expected(tmp_path, range(2))
    models = first.fetch_all(progress=False)
    assert {(e.run_id, e.event_id, e.summary) for e in models} == want
    dicts = first.fetch_all(progress=False, as_dicts=True)
    assert {(e["run_id"], e["event_id"], e["summary"]) for e in dicts} == want
    assert {(e.run_id, e.event_id, e.summary) for e in first} == want
    frames = missionlab.fetch_frames(client, progress=False)
    assert set(frames.events[["run_id", "event_id", "summary"]].itertuples(index=False, name=None)) == want
    # a run's own list: its three events, as before
    own = client.missions.runs.events.list(RUNS[1], mission_id=MISSION, page_size=2).fetch_all(progress=False)
    assert [(e.run_id, e.event_id, e.summary) for e in own] == sorted(
        expected(tmp_path, range(1, 2)), key=lambda e: e[1]
    )


def stored_events(h: missionlab.History) -> list[tuple[str, str, str]]:
    table = h.dataset("events").to_table(columns=["run_id", "event_id", "summary"])
    return sorted(zip(*(table[c].to_pylist() for c in table.column_names), strict=True))


def test_the_history_keeps_every_runs_events_in_first_and_later_syncs(
    tmp_path: Path, sandbox: Sandbox
) -> None:
    client = sandbox.client()
    h = missionlab.history(client, tmp_path / "h")
    report = h.sync(progress=False)
    assert report.new_events == 6
    assert stored_events(h) == sorted(expected(tmp_path, range(2)))
    assert len(h.events()) == 6 and len(h.events(run=RUNS[0])) == 3
    # a later (incremental) sync reads the new run's events, whose ids the others use too
    assert sandbox.store is not None
    load_capsule(sandbox.store, json.loads((tmp_path / "r2.json").read_text()))
    report = h.sync(progress=False)
    assert report.new_events == 3
    assert stored_events(h) == sorted(expected(tmp_path, range(3)))
    # a repeated sync stores nothing twice
    assert h.sync(progress=False, full=True).new_events == 0
    assert stored_events(h) == sorted(expected(tmp_path, range(3)))


def test_a_sync_with_verify_reads_the_events_an_earlier_history_lost(
    tmp_path: Path, sandbox: Sandbox
) -> None:
    """A history synced before events were keyed by their run kept one run's ev-001 only: the
    events lost are read again by ``sync(verify=True)``."""
    from deltalake import DeltaTable

    h = missionlab.history(sandbox.client(), tmp_path / "h")
    h.sync(progress=False)
    DeltaTable(str(h.path / "events")).delete(f"run_id = '{RUNS[1]}'")  # what the old key dropped
    assert h.dataset("events").count_rows(filter=ds.field("run_id") == RUNS[1]) == 0
    h.sync(progress=False, verify=True)
    assert stored_events(h) == sorted(expected(tmp_path, range(2)))
