"""Damaged and hostile history folders, and two syncs of one folder at once: typed errors,
nothing read or deleted outside the folder, and a repair after which a sync brings back
exactly what the API holds."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

import missionlab
from missionlab import History, HistoryFormatError, InvalidArgumentError, history
from missionlab._history import HistorySyncConflictError, _sync
from missionlab.sandbox import Sandbox

from .conftest import unique

TOKEN = "history-safety-token"


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(demo=False, token=TOKEN) as sb, sb.client() as api:
        mission = api.missions.create(name=unique("safety")).data
        for n in range(25):
            run = api.missions.runs.create(mission.mission_id, input={"n": n}).data
            steps = [{"step_id": f"s{k}", "description": f"S{k}", "sequence": k} for k in (1, 2)]
            api.missions.runs.plan.create(run.run_id, mission_id=mission.mission_id, steps=steps)
            api.missions.runs.events.log(
                run.run_id, mission_id=mission.mission_id, type="custom", summary="x"
            )
        yield sb


def contents(h: History) -> tuple[list[str], list[str], list[str]]:
    steps = h.steps()
    return (
        sorted(h.runs()["run_id"]),
        sorted(steps["run_id"] + "/" + steps["step_id"]),
        sorted(h.events()["event_id"]),
    )


def api_contents(api: missionlab.Client) -> tuple[list[str], list[str], list[str]]:
    runs = api.missions.runs.list_runs(page_size=1000).fetch_all(as_dicts=True)
    steps = [
        f"{r['run_id']}/{s.step_id}"
        for r in runs
        for s in api.missions.runs.plan.retrieve(r["run_id"], mission_id=r["mission_id"]).data
    ]
    events = api.missions.list_events(page_size=1000).fetch_all(as_dicts=True)
    return sorted(r["run_id"] for r in runs), sorted(steps), sorted(e["event_id"] for e in events)


@pytest.fixture
def synced(sandbox: Sandbox, tmp_path: Path) -> Iterator[tuple[History, missionlab.Client]]:
    with sandbox.client() as api:
        h = history(api, tmp_path / "h")
        h.sync(progress=False)
        yield h, api


def live_file(h: History, table: str) -> Path:
    return Path(h.files(table)[0])


def log_entries(h: History, table: str) -> list[Path]:
    return sorted((h.path / table / "_delta_log").glob("*.json"))


def ways_into_runs(h: History) -> dict[str, Callable[[], object]]:
    """Every call that reads the runs table, syncs or vacuums the history."""
    return {
        "runs": h.runs,
        "sql": lambda: h.sql("SELECT count(*) FROM steps"),  # every table is registered
        "step_stats": h.step_stats,
        "steps": h.steps,  # a step left open by an ended run is measured to the run's end
        "files": lambda: h.files("runs"),
        "dataset": lambda: h.dataset("runs"),
        "delta_table": lambda: h.delta_table("runs"),
        "sync": lambda: h.sync(progress=False),
        "vacuum": lambda: h.vacuum(retention_hours=0),
    }


@pytest.mark.parametrize(
    "damage",
    ["missing file", "corrupt file", "corrupt only log entry", "corrupt last log entry", "missing log entry"],
)
def test_a_damaged_table_is_a_format_error_and_repair_then_sync_restores_it(
    synced: tuple[History, missionlab.Client], damage: str
) -> None:
    h, api = synced
    want = api_contents(api)
    assert contents(h) == want
    if damage in ("corrupt last log entry", "missing log entry"):
        h.sync(progress=False)  # a second version of each table, so that the last one can be lost
        api.missions.runs.create(api.missions.list().data[0].mission_id)
        h.sync(progress=False)
        want = api_contents(api)
        assert len(log_entries(h, "runs")) > 1
    if damage == "missing file":
        live_file(h, "events").unlink()
    elif damage == "corrupt file":
        live_file(h, "steps").write_bytes(b"PAR1 not really parquet PAR1")
    elif damage == "corrupt only log entry":
        assert [p.name for p in log_entries(h, "runs")] == [f"{0:020d}.json"]
        log_entries(h, "runs")[0].write_text('{"add": {"path": ')
    elif damage == "corrupt last log entry":
        log_entries(h, "runs")[-1].write_text('{"add": {"path": ')
    else:
        log_entries(h, "runs")[-1].unlink()
    with pytest.raises(HistoryFormatError, match=r"history\.repair\(\)"):
        if damage == "missing log entry":  # the table reads fine: only the sync knows it is short
            h.sync(progress=False)
        elif damage == "corrupt file":
            h.sql("SELECT count(*) FROM steps")
        else:
            contents(h)
    report = h.repair()
    assert report.changed, report
    h.sync(progress=False)
    assert contents(h) == want
    assert contents(History(h.path)) == want
    assert len(h.syncs) >= 1 and contents(History(h.path, version=len(h.syncs))) == want


def hostile_log_entry(h: History, table: str, sentinel: Path, action: str) -> None:
    """Append a commit to ``table``'s log whose ``action``s (add or remove) name ``sentinel``,
    outside the folder, in every way a path can be written."""
    version = int(log_entries(h, table)[-1].stem) + 1
    paths = ("../../sentinel.parquet", str(sentinel), sentinel.as_uri(), "..%2F..%2Fsentinel.parquet")
    actions = [
        {
            action: {
                "path": path,
                "partitionValues": {"run_day": "2026-01-01"},
                "size": sentinel.stat().st_size,
                "modificationTime": 0,
                "deletionTimestamp": 0,
                "dataChange": True,
            }
        }
        for path in paths
    ]
    lines = [{"commitInfo": {"timestamp": 0, "operation": "WRITE"}}, *actions]
    entry = log_entries(h, table)[-1].with_name(f"{version:020d}.json")
    entry.write_text("\n".join(json.dumps(line) for line in lines) + "\n")


@pytest.mark.parametrize("action", ["add", "remove"])
def test_a_folder_whose_log_names_files_outside_it_reads_and_deletes_nothing_there(
    synced: tuple[History, missionlab.Client], tmp_path: Path, action: str
) -> None:
    """A log naming files outside the folder as live (add) or as removed, waiting for a
    vacuum (remove): every way in refuses, repair drops the entries, the sentinel survives."""
    h, api = synced
    sentinel = tmp_path / "sentinel.parquet"
    shutil.copy(live_file(h, "runs"), sentinel)
    os.utime(sentinel, (0, 0))  # as old as can be, for a vacuum
    before = sentinel.read_bytes()
    hostile_log_entry(h, "runs", sentinel, action)
    refused = ways_into_runs(h)
    want = api_contents(api)
    # What does not read the runs table at its latest version reads on: the other tables,
    # and the first sync's version of runs, written before the hostile entry.
    assert sorted(History(h.path, version=1).runs()["run_id"]) == want[0]
    steps = History(h.path, version=1).steps()
    assert sorted(steps["run_id"] + "/" + steps["step_id"]) == want[1]
    assert sorted(h.events()["event_id"]) == want[2]
    if action == "remove":  # removed files are a vacuum's business only: runs read on too
        assert contents(h) == want
        refused = {k: refused[k] for k in ("sync", "vacuum")}
    for name, call in refused.items():
        with pytest.raises(HistoryFormatError, match="outside its folder"):
            call()
        assert sentinel.read_bytes() == before, name
    report = h.repair()
    assert report.rebuilt == ["runs"], report  # delta-rs cannot remove a "..%2F" entry: rebuilt
    if action == "add":
        assert len(report.dropped["runs"]) == 4
    h.sync(progress=False)
    h.vacuum(retention_hours=0)
    assert contents(h) == api_contents(api)
    assert sentinel.read_bytes() == before


def test_a_link_inside_the_folder_is_refused_and_repair_removes_only_the_link(
    synced: tuple[History, missionlab.Client], tmp_path: Path
) -> None:
    h, api = synced
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "keep.parquet").write_bytes(b"precious")
    (h.path / "events" / "run_day=2000-01-01").symlink_to(outside, target_is_directory=True)
    with pytest.raises(HistoryFormatError, match="is a link inside the history folder"):
        h.sync(progress=False)
    with pytest.raises(HistoryFormatError, match="is a link inside the history folder"):
        h.vacuum(retention_hours=0)
    report = h.repair()
    assert report.links_removed == [str(h.path / "events" / "run_day=2000-01-01")]
    h.sync(progress=False)
    assert (outside / "keep.parquet").read_bytes() == b"precious"
    assert contents(h) == api_contents(api)


class StartsAnotherSync(httpx.HTTPTransport):
    """At the sync's fifth plan request, a second sync of the same folder runs to its end."""

    def __init__(self, other: History) -> None:
        super().__init__()
        self.other = other
        self.plans = 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/plan"):
            self.plans += 1
            if self.plans == 5:
                self.other.sync(progress=False)
        return super().handle_request(request)


def test_a_sync_started_meanwhile_takes_over_and_nothing_is_doubled(
    sandbox: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_sync, "PLAN_BATCH", 10)  # the 5th plan is in the first of three batches
    with (
        sandbox.client() as api,
        sandbox.client(transport=StartsAnotherSync(history(api, tmp_path / "h"))) as c,
    ):
        with pytest.raises(HistorySyncConflictError, match="took over while this one ran"):
            history(c, tmp_path / "h").sync(progress=False)
        h = History(tmp_path / "h")
        assert contents(h) == api_contents(api)
        assert len(h.syncs) == 1  # the second sync's; the first stopped


def test_a_mistyped_folder_is_named_not_read_as_an_empty_history(tmp_path: Path) -> None:
    missing = tmp_path / "histroy"
    with pytest.raises(InvalidArgumentError, match=r"there is no history folder at .*histroy"):
        History(missing)
    assert not missing.exists()  # nothing created by a read-only open
    (tmp_path / "empty").mkdir()
    assert len(History(tmp_path / "empty").runs()) == 0  # a folder that exists and holds nothing
