"""The local history: sync, incremental sync, interruption and resume at known points,
concurrent readers, the tables' schema, queries and their filters. Outside readers are in
test_history_readers.py, damaged and hostile folders in test_history_safety.py."""

from __future__ import annotations

import dataclasses
import json
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pandas as pd
import pyarrow as pa
import pytest

import missionlab
from missionlab import History, HistoryFormatError, frames, history
from missionlab._history import _schema, _sync
from missionlab._history._schema import SCHEMAS
from missionlab.figures import charts
from missionlab.frames import step_stats
from missionlab.sandbox import Sandbox

from .conftest import unique

TOKEN = "history-token"


def demo_sandbox() -> Iterator[Sandbox]:
    """The demo sandbox, once its live run has finished (for a module's fixture)."""
    with Sandbox(demo=True, speed=100_000, token=TOKEN) as sb:
        with sb.client() as client:
            wait_for_live_run(client)
        yield sb


@pytest.fixture(scope="module")
def history_sandbox() -> Iterator[Sandbox]:
    yield from demo_sandbox()


def wait_for_live_run(client: missionlab.Client, timeout: float = 30.0) -> None:
    """Let the demo's live run finish, so that the API's answers stop changing under the comparisons."""
    deadline = time.monotonic() + timeout
    last = -1
    while time.monotonic() < deadline:
        meta = client.missions.list_events(page_size=1).meta
        assert meta is not None  # the sandbox always sends meta
        total = meta.total_results
        if total == last:
            return
        last = total
        time.sleep(0.5)
    raise AssertionError(f"the demo's live run still adds events after {timeout} s")


@pytest.fixture
def api(history_sandbox: Sandbox) -> Iterator[missionlab.Client]:
    with history_sandbox.client() as client:
        yield client


@pytest.fixture(scope="module")
def synced(history_sandbox: Sandbox, tmp_path_factory: pytest.TempPathFactory) -> History:
    """One first sync of the demo data, shared by the tests that only read it."""
    h = history(history_sandbox.client(), tmp_path_factory.mktemp("synced") / "h")
    h.sync(progress=False)
    return h


def everything(client: missionlab.Client) -> dict[str, set[str]]:
    """Ids of every run and event, and (run, step) of every plan step, from the API."""
    runs = client.missions.runs.list_runs(page_size=1000).fetch_all(progress=False)
    events = client.missions.list_events(page_size=1000).fetch_all(progress=False)
    steps = set()
    for run in runs:
        for step in client.missions.runs.plan.retrieve(run.run_id, mission_id=run.mission_id).data:
            steps.add(f"{run.run_id}/{step.step_id}")
    return {"runs": {r.run_id for r in runs}, "events": {e.event_id for e in events}, "steps": steps}


def stored(h: History) -> dict[str, list[str]]:
    steps = h.steps()
    return {
        "runs": h.runs()["run_id"].tolist(),
        "events": h.events()["event_id"].tolist(),
        "steps": (steps["run_id"] + "/" + steps["step_id"]).tolist(),
    }


def assert_same(h: History, client: missionlab.Client) -> None:
    """The history holds exactly what the API has, each record once."""
    have, want = stored(h), everything(client)
    for table in ("runs", "events", "steps"):
        assert len(have[table]) == len(set(have[table])), f"duplicated {table}"
        assert set(have[table]) == want[table], table


def test_first_sync_stores_everything_once(api: missionlab.Client, synced: History) -> None:
    h = synced
    report = h.last_sync
    assert report is not None and report["first"]
    assert report["new_runs"] == report["plans"] == len(h.runs()) > 300
    assert_same(h, api)
    missions = h.missions()
    assert set(missions["name"]) >= {"Travel booking assistant", "Lead qualification"}


def test_incremental_sync_reads_only_new_and_changed_runs(api: missionlab.Client, tmp_path: Path) -> None:
    h = history(api, tmp_path / "h")
    h.sync(progress=False)
    first_requests = h.last_sync["requests"] if h.last_sync else 0
    mission = api.missions.create(name=unique("history")).data
    runs = api.missions.runs
    new = runs.create(mission.mission_id, input={"n": 1}).data
    runs.plan.create(
        new.run_id, mission_id=mission.mission_id, steps=[{"step_id": "a", "description": "A", "sequence": 1}]
    )
    runs.plan.update_step("a", mission_id=mission.mission_id, run_id=new.run_id, status="in_progress")
    runs.events.log(new.run_id, mission_id=mission.mission_id, type="tool_call", summary="go", step_id="a")
    old = runs.create(mission.mission_id).data
    h.sync(progress=False)
    runs.update(old.run_id, mission_id=mission.mission_id, status="failed", error="boom")
    runs.plan.update_step("a", mission_id=mission.mission_id, run_id=new.run_id, status="completed")
    report = h.sync(progress=False)
    assert report.new_runs == 0 and report.changed_runs >= 2
    assert report.requests < first_requests / 5
    assert_same(h, api)
    changed = h.runs(mission=mission.mission_id).set_index("run_id")
    assert changed.loc[old.run_id, "status"] == "failed"
    assert changed.loc[old.run_id, "error"] == "boom"
    step = h.steps(run=new.run_id)
    assert step["status"].tolist() == ["completed"] and step["completed_at"].notna().all()


class RecordingTransport(httpx.HTTPTransport):
    """Keeps the query of every request, to see how the history asks for pages."""

    def __init__(self) -> None:
        super().__init__()
        self.queries: list[tuple[str, dict[str, str]]] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.queries.append((request.url.path, dict(request.url.params)))
        return super().handle_request(request)


def test_new_events_arrive_in_one_page_of_about_their_size(history_sandbox: Sandbox, tmp_path: Path) -> None:
    recording = RecordingTransport()
    with history_sandbox.client(transport=recording) as client:
        h = history(client, tmp_path / "h")
        h.sync(progress=False)
        mission = client.missions.create(name=unique("history-pages")).data
        run = client.missions.runs.create(mission.mission_id).data
        for n in range(30):
            client.missions.runs.events.log(
                run.run_id, mission_id=mission.mission_id, type="custom", summary=f"e{n}"
            )
        recording.queries.clear()
        report = h.sync(progress=False)
        queries = list(recording.queries)
        assert_same(h, client)
    assert report.new_runs == 1 and report.new_events == 30
    sizes = [int(q["page[size]"]) for path, q in queries if path.endswith("/ai/missions/events")]
    # One item to learn the list's size, then pages sized for the 30 new events and some
    # slack (the demo's recent events, within the slack, may take a page or two more).
    assert sizes[0] == 1 and len(sizes) <= 4 and all(30 < size < 100 for size in sizes[1:]), sizes


def test_a_history_is_synced_from_one_api_only(synced: History) -> None:
    with (
        Sandbox(demo=False) as other,
        other.client() as client,
        pytest.raises(HistoryFormatError, match=r"holds the history of http://127\.0\.0\.1:"),
    ):
        history(client, synced.path).sync(progress=False)
    assert len(synced.runs()) > 300  # nothing lost


class Interrupted(BaseException):
    """Stands for Ctrl-C or a killed process, at a chosen request."""


class InterruptingTransport(RecordingTransport):
    """Records every request; raises :class:`Interrupted` at the first one ``stop`` matches."""

    def __init__(self, stop: Callable[[str, dict[str, str]], bool] | None = None) -> None:
        super().__init__()
        self.stop = stop

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if self.stop is not None and self.stop(request.url.path, dict(request.url.params)):
            self.stop = None
            raise Interrupted
        return super().handle_request(request)


def at_plan(number: int) -> Callable[[str, dict[str, str]], bool]:
    """A ``stop`` for :class:`InterruptingTransport`: the ``number``-th plan request."""
    seen = 0

    def stop(path: str, query: dict[str, str]) -> bool:
        nonlocal seen
        seen += path.endswith("/plan")
        return seen == number

    return stop


def plan_requests(queries: list[tuple[str, dict[str, str]]]) -> int:
    return sum(path.endswith("/plan") for path, _ in queries)


def test_an_interrupted_incremental_sync_resumes_at_the_cost_of_what_was_left(
    history_sandbox: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_sync, "PLAN_BATCH", 10)
    with history_sandbox.client() as client:
        reference, interrupted = history(client, tmp_path / "a"), history(client, tmp_path / "b")
        reference.sync(progress=False)
        interrupted.sync(progress=False)
        mission = client.missions.create(name=unique("history-resume")).data
        for n in range(30):
            run = client.missions.runs.create(mission.mission_id, input={"n": n}).data
            steps = [{"step_id": "a", "description": "A", "sequence": 1}]
            client.missions.runs.plan.create(run.run_id, mission_id=mission.mission_id, steps=steps)
        uninterrupted = reference.sync(progress=False)
    stopping = InterruptingTransport(at_plan(15))
    with history_sandbox.client(transport=stopping) as client, pytest.raises(Interrupted):
        history(client, interrupted.path).sync(progress=False)
    committed = len(History(interrupted.path).runs(mission=mission.mission_id))
    assert committed == 10  # one batch of ten runs and their plans was committed before the stop
    resuming = InterruptingTransport()
    with history_sandbox.client(transport=resuming) as client:
        resumed = history(client, interrupted.path).sync(progress=False)
    with history_sandbox.client() as client:
        assert_same(History(interrupted.path), client)
    assert plan_requests(resuming.queries) == 30 - committed
    assert resumed.new_runs == 30 - committed
    assert len(resuming.queries) <= uninterrupted.requests


def event_page(path: str, query: dict[str, str]) -> int | None:
    """The number of a page of 1,000 of the organization's events that a request asks for."""
    if path.endswith("/ai/missions/events") and query.get("page[size]") == "1000":
        return int(query.get("page[number]", 1))
    return None


def test_an_interrupted_events_walk_carries_on_where_it_stopped(
    history_sandbox: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_sync, "EVENT_BATCH_PAGES", 2)
    with history_sandbox.client() as client:
        meta = client.missions.list_events(page_size=1).meta
        assert meta is not None
        pages = -(-meta.total_results // 1000)
    assert pages >= 10
    # Stopped (as by Ctrl-C, in the sync's own thread) right after its fourth batch of two
    # pages was handed to the writer, while the pages after it are being fetched.
    commit_walk = _sync.Syncer._commit_walk
    batches = 0

    def commit_then_stop(self: _sync.Syncer, walk: dict[str, Any], events: list[Any]) -> None:
        nonlocal batches
        commit_walk(self, walk, events)
        batches += 1
        if batches == 4:
            raise Interrupted

    monkeypatch.setattr(_sync.Syncer, "_commit_walk", commit_then_stop)
    with history_sandbox.client() as client, pytest.raises(Interrupted):
        history(client, tmp_path / "h").sync(progress=False)
    monkeypatch.setattr(_sync.Syncer, "_commit_walk", commit_walk)
    stored = len(History(tmp_path / "h").events())
    assert stored == 8000  # the four batches handed over were committed: pages 1 to 8
    resuming = InterruptingTransport()
    with history_sandbox.client(transport=resuming) as client:
        history(client, tmp_path / "h").sync(progress=False)
    with history_sandbox.client() as client:
        assert_same(History(tmp_path / "h"), client)
    again = [n for n in (event_page(p, q) for p, q in resuming.queries) if n is not None]
    # The pages not committed, with a page of overlap and one to check it: not the whole list.
    assert len(again) <= pages - stored // 1000 + 2, again
    assert min(again) >= stored // 1000 - 1, again


def test_a_reader_sees_consistent_snapshots_during_a_sync(api: missionlab.Client, tmp_path: Path) -> None:
    path = tmp_path / "h"
    path.mkdir()  # a reader opens a folder that exists (an empty one reads as an empty history)
    seen: list[tuple[int, int]] = []
    errors: list[BaseException] = []
    stop = threading.Event()

    def read() -> None:
        reader = History(path)
        while not stop.is_set():
            try:
                if (path / "runs").exists():
                    runs = reader.runs()
                    seen.append((len(runs), runs["run_id"].nunique()))
            except BaseException as exc:
                errors.append(exc)
            time.sleep(0.01)

    thread = threading.Thread(target=read)
    thread.start()
    try:
        history(api, path).sync(progress=False)
    finally:
        stop.set()
        thread.join()
    assert errors == []
    assert seen and all(rows == distinct for rows, distinct in seen)
    counts = [rows for rows, _ in seen]
    assert counts == sorted(counts)


TEXT, TIME, DAY, INT = pa.string(), pa.timestamp("us", tz="UTC"), pa.date32(), pa.int64()
DOCUMENTED = {  # the columns docs/history.md lists, written out
    "missions": [
        ("mission_id", TEXT), ("name", TEXT), ("execution_mode", TEXT), ("model", TEXT),
        ("description", TEXT), ("instructions", TEXT), ("created_at", TIME), ("updated_at", TIME),
        ("metadata", TEXT), ("synced_at", TIME),
    ],
    "runs": [
        ("run_id", TEXT), ("mission_id", TEXT), ("status", TEXT), ("started_at", TIME),
        ("updated_at", TIME), ("finished_at", TIME), ("result_summary", TEXT), ("error", TEXT),
        ("input", TEXT), ("metadata", TEXT), ("result_payload", TEXT), ("synced_at", TIME),
        ("run_day", DAY), ("labels", pa.list_(TEXT)),
    ],
    "steps": [
        ("run_id", TEXT), ("mission_id", TEXT), ("step_id", TEXT), ("parent_step_id", TEXT),
        ("sequence", INT), ("description", TEXT), ("status", TEXT), ("started_at", TIME),
        ("completed_at", TIME), ("metadata", TEXT), ("synced_at", TIME), ("run_day", DAY),
        ("times_from", TEXT),
    ],
    "events": [
        ("event_id", TEXT), ("run_id", TEXT), ("mission_id", TEXT), ("type", TEXT), ("summary", TEXT),
        ("timestamp", TIME), ("step_id", TEXT), ("agent_id", TEXT), ("idempotency_key", TEXT),
        ("payload", TEXT), ("synced_at", TIME), ("run_day", DAY),
    ],
}  # fmt: skip


def test_tables_are_delta_tables_with_the_documented_schema(synced: History) -> None:
    from deltalake import DeltaTable

    for table, columns in DOCUMENTED.items():
        delta = DeltaTable(str(synced.path / table))
        assert pa.schema(delta.schema()).remove_metadata().equals(pa.schema(columns)), table
        assert delta.metadata().partition_columns == ([] if table == "missions" else ["run_day"])
        assert synced.files(table) and all(Path(f).is_file() for f in synced.files(table))


def test_the_tables_columns_are_the_wire_fields_described_once() -> None:
    """Every described field is a column, typed by its JSON type and format; a field added to
    the description becomes a column at the end, with no other edit."""
    from missionlab._wire import fields

    arrow = {("integer", None): INT, ("object", None): TEXT, ("string", "date-time"): TIME}
    history_own = {  # the history's own columns
        "missions": {"synced_at"},
        "runs": {"synced_at", "run_day", "labels"},
        "steps": {"mission_id", "synced_at", "run_day", "times_from"},
        "events": {"mission_id", "synced_at", "run_day"},
    }
    for table, wire in {
        "missions": fields.MISSION, "runs": fields.RUN, "steps": fields.PLAN_STEP, "events": fields.EVENT
    }.items():  # fmt: skip
        schema = SCHEMAS[table]
        for field in wire.fields:
            assert schema.field(field.name).type == arrow.get((field.json_type, field.format), TEXT)
        assert set(schema.names) - set(wire.names) == history_own[table], table

    grown = dataclasses.replace(
        fields.RUN,
        fields=(
            *fields.RUN.fields,
            fields.Field("priority", "integer"),
            fields.Field("due", format="date-time"),
        ),
    )
    schema = _schema.table_schema(grown, _schema.LAYOUTS["runs"])
    assert schema.names == [name for name, _ in DOCUMENTED["runs"]] + ["priority", "due"]
    assert schema.field("priority").type == INT and schema.field("due").type == TIME


class RunsWithPriority(httpx.HTTPTransport):
    """The sandbox, with a ``priority`` on every run it lists (a field it does not know yet)."""

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = super().handle_request(request)
        if request.method != "GET" or not request.url.path.endswith("/ai/missions/runs"):
            return response
        body = json.loads(response.read())
        for run in body["data"]:
            run["priority"] = len(run["run_id"]) % 5
        headers = {k: v for k, v in response.headers.items() if k.lower() != "content-length"}
        return httpx.Response(response.status_code, headers=headers, json=body)


def test_a_newly_described_field_becomes_a_column_of_an_existing_history(
    history_sandbox: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from deltalake import DeltaTable

    with history_sandbox.client() as api:
        h = history(api, tmp_path / "h")
        h.sync(progress=False)
        before = set(h.runs()["run_id"])
        run = api.missions.runs.create(api.missions.list().data[0].mission_id).data
    from missionlab._wire import fields

    grown = dataclasses.replace(fields.RUN, fields=(*fields.RUN.fields, fields.Field("priority", "integer")))
    monkeypatch.setitem(_schema.SCHEMAS, "runs", _schema.table_schema(grown, _schema.LAYOUTS["runs"]))
    monkeypatch.setitem(_schema.OBJECTS, "runs", grown)
    with history_sandbox.client(transport=RunsWithPriority()) as api:
        history(api, h.path).sync(progress=False)
    delta = DeltaTable(str(h.path / "runs"))
    assert pa.schema(delta.schema()).names[-1] == "priority"
    stored = h.sql("SELECT run_id, priority FROM runs")
    priorities = dict(zip(stored["run_id"], stored["priority"], strict=True))
    assert priorities[run.run_id] == len(run.run_id) % 5  # the new run, with its value
    assert set(priorities) == before | {run.run_id}
    assert all(pd.isna(priorities[r]) for r in before)  # stored before the field was known


def test_queries_filter_and_agree_with_the_in_memory_views(synced: History) -> None:
    h = synced
    travel = h.runs(mission="Travel booking assistant")
    assert len(travel) and travel["mission_id"].nunique() == 1
    failed = h.runs(status="failed")
    assert len(failed) and set(failed["status"].astype(str)) == {"failed"}
    since = pd.Timestamp("2026-11-20", tz="UTC")
    recent = h.runs(since=since)
    assert len(recent) and (recent["started_at"] >= since).all()
    assert len(recent) < len(h.runs())
    sql = h.sql("SELECT count(*) AS n FROM events WHERE type = 'error'")
    assert sql["n"][0] == (h.events()["type"] == "error").sum()
    mission_id = travel["mission_id"].iloc[0]
    ours = h.step_stats(mission=mission_id).set_index("step_id")
    theirs = step_stats(h.steps(mission=mission_id)).set_index("step_id")
    assert sorted(ours.index) == sorted(theirs.index)
    for column in ("runs", "finished", "median_s", "p95_s", "failure_rate"):
        pd.testing.assert_series_equal(
            ours[column].sort_index(),
            theirs[column].sort_index(),
            check_dtype=False,
            check_names=False,
            rtol=1e-9,
        )


def test_the_fleet_views_take_a_history(synced: History) -> None:
    h = synced
    travel = h.missions().query("name == 'Travel booking assistant'")["mission_id"].iloc[0]
    until = "2026-11-28"
    pd.testing.assert_frame_equal(
        frames.step_stats(h, mission=travel, until=until), h.step_stats(mission=travel, until=until)
    )
    weekly = frames.outcomes_over_time(h, "W", until=until)
    from_frame = frames.outcomes_over_time(h.runs(until=until), "W")
    pd.testing.assert_frame_equal(weekly, from_frame, check_freq=False)
    assert weekly.to_numpy().sum() == len(h.runs(until=until)) > 300
    boxes = charts.step_durations(h, mission=travel)
    assert [b.name for b in boxes.data] == [
        b.name for b in charts.step_durations(h.steps(mission=travel)).data
    ]
    bars = charts.runs_chart(h, mission=travel, status="failed")
    assert sum(len(b.x) for b in bars.data) == len(h.runs(mission=travel, status="failed")) > 0
    with pytest.raises(TypeError, match=r"filters apply to a missionlab\.History"):
        frames.step_stats(h.steps(), mission=travel)


def test_a_history_needs_a_client_to_sync_and_refuses_other_folders(tmp_path: Path) -> None:
    (tmp_path / "h").mkdir()
    with pytest.raises(missionlab.InvalidArgumentError, match="without a client"):
        History(tmp_path / "h").sync()
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "notes.txt").write_text("mine")
    with pytest.raises(HistoryFormatError, match=r"not a missionlab history: it holds 'notes\.txt'"):
        History(tmp_path / "other")
    assert (tmp_path / "other" / "notes.txt").read_text() == "mine"


def test_a_folder_of_the_old_format_is_refused_with_how_to_sync_again(tmp_path: Path) -> None:
    old = tmp_path / "old"
    (old / "runs").mkdir(parents=True)
    (old / "manifest.json").write_text('{"format": "missionlab-history", "version": 1, "files": {}}')
    with pytest.raises(
        HistoryFormatError, match=r"old format .* missionlab\.history\(client, 'NEW-FOLDER'\)\.sync\(\)"
    ):
        History(old)
    assert sorted(p.name for p in old.iterdir()) == ["manifest.json", "runs"]  # left as it was


def test_an_unknown_mission_is_an_error_not_an_empty_frame(synced: History) -> None:
    for read in (synced.runs, synced.steps, synced.events, synced.step_stats):
        with pytest.raises(missionlab.InvalidArgumentError, match="'Travel bookin' is neither") as error:
            read(mission="Travel bookin")
        assert "did you mean 'Travel booking assistant'" in str(error.value)
    assert len(synced.runs(mission=["Travel booking assistant", "Lead qualification"])) > 0


def test_sql_without_duckdb_says_what_to_install(synced: History, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "duckdb", None)  # as if not installed
    with pytest.raises(ImportError, match=r"pip install 'missionlab\[history\]'"):
        synced.sql("SELECT 1")
    assert len(synced.runs()) > 300  # frames need no DuckDB
