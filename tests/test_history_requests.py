"""What a history sync asks the API for, counted on the wire, and what it stores, compared
with the sandbox's own tables (its SQLite store, not the API): a first sync asks for each
run's plan once and each page once; a sync with nothing changed asks for no plan; a first
sync interrupted among its plans and resumed stores what an uninterrupted one does,
asking again only for the plans it had not committed."""

from __future__ import annotations

import collections
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from missionlab import History, history
from missionlab._history import _sync
from missionlab._wire.labels import with_label
from missionlab.client.labels import label_run, unlabel_run
from missionlab.sandbox import Sandbox

from .conftest import unique
from .test_history import (
    Interrupted,
    InterruptingTransport,
    RecordingTransport,
    at_plan,
    demo_sandbox,
)


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    yield from demo_sandbox()


def sandbox_rows(sb: Sandbox) -> dict[str, set[tuple[str, ...]]]:
    """Every run, event and plan step in the sandbox's own store, by id."""
    assert sb.store is not None
    with sb.store.transaction() as db:
        return {
            "runs": {tuple(row) for row in db.execute("SELECT run_id FROM runs")},
            "events": {tuple(row) for row in db.execute("SELECT event_id FROM events")},
            "steps": {tuple(row) for row in db.execute("SELECT run_id, step_id FROM steps")},
        }


def stored_rows(h: History) -> dict[str, list[tuple[str, ...]]]:
    steps = h.steps()
    return {
        "runs": [(r,) for r in h.runs()["run_id"]],
        "events": [(e,) for e in h.events()["event_id"]],
        "steps": list(zip(steps["run_id"], steps["step_id"], strict=True)),
    }


def assert_holds_the_store(h: History, sb: Sandbox) -> None:
    """Each record of the store once, and nothing else (row counts and ids)."""
    have, want = stored_rows(h), sandbox_rows(sb)
    for table in ("runs", "events", "steps"):
        assert len(have[table]) == len(want[table]), table
        assert set(have[table]) == want[table], table


def plan_runs(queries: list[tuple[str, dict[str, str]]]) -> collections.Counter[str]:
    """How many times each run's plan was asked for (by run id)."""
    return collections.Counter(path.split("/")[-2] for path, _ in queries if path.endswith("/plan"))


def pages(queries: list[tuple[str, dict[str, str]]], list_path: str) -> list[tuple[str, str]]:
    """The (page number, page size) of every request of the list at ``list_path``."""
    return [
        (query.get("page[number]", "1"), query.get("page[size]", ""))
        for path, query in queries
        if path.endswith(list_path) and "status" not in query
    ]


def table(h: History, name: str, key: str) -> pd.DataFrame:
    """A table as stored (all but the time of the sync that wrote each row), in key order."""
    return h.sql(f"SELECT * EXCLUDE (synced_at) FROM {name} ORDER BY {key}")


def test_a_first_sync_asks_for_each_plan_and_page_once_and_stores_the_sandboxs_rows(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    recording = RecordingTransport()
    with sandbox.client(transport=recording) as client:
        h = history(client, tmp_path / "h")
        report = h.sync(progress=False)
    queries = recording.queries
    want = sandbox_rows(sandbox)
    assert_holds_the_store(h, sandbox)
    plans = plan_runs(queries)
    assert set(plans) == {run_id for (run_id,) in want["runs"]}
    assert set(plans.values()) == {1}  # one request per run, no other per-run request
    per_run = [path for path, _ in queries if "/runs/" in path and not path.endswith("/plan")]
    assert per_run == []
    for list_path, total in (
        ("/ai/missions/runs", len(want["runs"])),
        ("/ai/missions/events", len(want["events"])),
    ):
        asked = pages(queries, list_path)
        assert len(asked) == len(set(asked)) == -(-total // 1000), (list_path, asked)
    assert report.requests == len(queries)


def mission_with_a_planned_run(client: Any, name: str) -> tuple[Any, Any]:
    """A new mission and one run of it with a one-step plan."""
    mission = client.missions.create(name=unique(name)).data
    run = client.missions.runs.create(mission.mission_id).data
    steps = [{"step_id": "a", "description": "A", "sequence": 1}]
    client.missions.runs.plan.create(run.run_id, mission_id=mission.mission_id, steps=steps)
    return mission, run


def test_a_sync_asks_for_no_plan_of_an_unchanged_run_and_one_for_a_changed_run(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    with sandbox.client() as client:
        mission, run = mission_with_a_planned_run(client, "history-requests")
        history(client, tmp_path / "h").sync(progress=False)
    recording = RecordingTransport()
    with sandbox.client(transport=recording) as client:
        unchanged = history(client, tmp_path / "h").sync(progress=False)
        assert plan_runs(recording.queries) == {}
        assert unchanged.plans == unchanged.new_runs == unchanged.changed_runs == 0
        client.missions.runs.update(run.run_id, mission_id=mission.mission_id, status="failed", error="boom")
        recording.queries.clear()
        changed = history(client, tmp_path / "h").sync(progress=False)
    assert plan_runs(recording.queries) == {run.run_id: 1}
    assert changed.changed_runs == 1 and changed.new_runs == 0
    h = History(tmp_path / "h")
    assert_holds_the_store(h, sandbox)
    assert h.runs(mission=mission.mission_id).set_index("run_id").loc[run.run_id, "status"] == "failed"


def test_a_first_sync_interrupted_among_its_plans_resumes_to_the_uninterrupted_result(
    sandbox: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_sync, "PLAN_BATCH", 100)
    with sandbox.client() as client:
        history(client, tmp_path / "whole").sync(progress=False)
    runs = len(sandbox_rows(sandbox)["runs"])
    assert runs > 300
    stopping = InterruptingTransport(at_plan(250))
    with sandbox.client(transport=stopping) as client, pytest.raises(Interrupted):
        history(client, tmp_path / "cut").sync(progress=False)
    committed = set(History(tmp_path / "cut").runs()["run_id"])
    # Batches of 100 runs, each committed with its plans: two whole batches before the stop
    # (the third was fetching its plans); every committed run has its plan.
    assert len(committed) == 200
    assert set(History(tmp_path / "cut").steps()["run_id"]) <= committed
    before = plan_runs(stopping.queries)
    resuming = InterruptingTransport()
    with sandbox.client(transport=resuming) as client:
        resumed = history(client, tmp_path / "cut").sync(progress=False)
    again = plan_runs(resuming.queries)
    assert set(again) == {run_id for (run_id,) in sandbox_rows(sandbox)["runs"]} - committed
    assert set(again.values()) == {1}
    assert resumed.new_runs == runs - 200
    # Over both parts: each plan once, but for those of the batch lost at the stop.
    assert sum((before + again).values()) <= runs + 100
    assert_holds_the_store(History(tmp_path / "cut"), sandbox)
    whole, cut = History(tmp_path / "whole"), History(tmp_path / "cut")
    for name, key in (("runs", "run_id"), ("steps", "run_id, step_id"), ("events", "event_id")):
        pd.testing.assert_frame_equal(table(cut, name, key), table(whole, name, key))


def label_of(h: History, mission_id: str, run_id: str) -> list[str]:
    runs = h.runs(mission=mission_id)
    return next(list(labels) for labels in runs.loc[runs["run_id"] == run_id, "labels"])


def test_relisting_the_runs_picks_up_labels_of_old_finished_runs_without_reading_the_events_again(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    with sandbox.client() as client:
        mission, old = mission_with_a_planned_run(client, "history-labels")
        client.missions.runs.update(old.run_id, mission_id=mission.mission_id, status="succeeded")
        client.missions.runs.create(mission.mission_id)  # a newer run: the old one is not on top
        history(client, tmp_path / "h").sync(progress=False)
        label_run(client, mission.mission_id, old.run_id, "wrong-refund", note="refunded twice")
        total_runs = client.missions.runs.list_runs(page_size=1).meta.total_results  # type: ignore[union-attr]
    recording = RecordingTransport()
    with sandbox.client(transport=recording) as client:
        report = history(client, tmp_path / "h").sync(relist_runs=True, progress=False)
    h = History(tmp_path / "h")
    assert label_of(h, mission.mission_id, old.run_id) == ["wrong-refund"]
    labelled = h.sql("SELECT run_id FROM runs WHERE list_contains(labels, 'wrong-refund')")
    assert labelled["run_id"].tolist() == [old.run_id]
    # Every page of runs once, the plan of the relabelled run only, no walk down the events.
    queries = recording.queries
    assert pages(queries, "/ai/missions/runs") == [
        (str(n), "1000") for n in range(1, -(-total_runs // 1000) + 1)
    ]
    assert plan_runs(queries) == {old.run_id: 1}
    assert (report.new_runs, report.changed_runs) == (0, 1)
    events = [query for path, query in queries if path.endswith("/ai/missions/events")]
    assert events and all(query.get("page[size]") != "1000" for query in events)
    assert len(queries) == report.requests

    with sandbox.client() as client:
        unlabel_run(client, mission.mission_id, old.run_id, "wrong-refund")
        history(client, tmp_path / "h").sync(relist_runs=True, progress=False)
    assert label_of(History(tmp_path / "h"), mission.mission_id, old.run_id) == []

    # A server that changes a run's metadata without moving its updated_at: seen all the same.
    assert sandbox.store is not None
    with sandbox.store.transaction() as db:
        (metadata,) = db.execute("SELECT metadata FROM runs WHERE run_id=?", (old.run_id,)).fetchone()
        relabelled = with_label(
            json.loads(metadata) if metadata else None, "slow", None, "2026-12-07T12:00:00Z"
        )
        db.execute("UPDATE runs SET metadata=? WHERE run_id=?", (json.dumps(relabelled), old.run_id))
    with sandbox.client() as client:
        unchanged = history(client, tmp_path / "h").sync(progress=False)
        assert unchanged.changed_runs == 0  # an incremental sync does not re-read old runs
        relisted = history(client, tmp_path / "h").sync(relist_runs=True, progress=False)
    assert relisted.changed_runs == 1
    assert label_of(History(tmp_path / "h"), mission.mission_id, old.run_id) == ["slow"]
