"""DataFrames: columns, dtypes, empty input, official-SDK objects, flattening, fleet views."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pandas as pd
import pytest
import telnyx
from pydantic import BaseModel

import missionlab
from missionlab import frames
from missionlab.sandbox import Sandbox

NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
UTC_TIME = "datetime64[us, UTC]"


@pytest.fixture(scope="module")
def demo() -> Any:
    with Sandbox(demo=True, speed=1) as sb:
        yield sb


def test_runs_frame_columns_and_dtypes(demo: Sandbox) -> None:
    client = demo.client()
    frame = client.missions.runs.list_runs(page_size=200).to_frame(now=NOW)
    assert list(frame.columns) == frames.RUN_COLUMNS
    assert str(frame["run_id"].dtype) == "string"
    assert str(frame["started_at"].dtype) == UTC_TIME
    assert str(frame["finished_at"].dtype) == UTC_TIME
    assert frame["status"].dtype == frames.RUN_STATUS
    assert list(frame["status"].cat.categories) == [s.value for s in missionlab.RunStatus]
    assert frame["status"].cat.ordered
    assert str(frame["duration"].dtype).startswith("timedelta64")
    finished = frame[frame["finished_at"].notna()]
    assert (finished["duration"] == finished["finished_at"] - finished["started_at"]).all()
    assert not finished["is_running"].any()
    active = frame[frame["status"].isin(["running", "paused", "pending"])]
    assert active["is_running"].all()
    assert (active["duration"] == pd.Timestamp(NOW) - active["started_at"]).all()
    assert frame["duration_s"].dtype == "float64"


def test_steps_frame_plan_order_depth_and_running_steps() -> None:
    t0 = datetime(2026, 11, 29, 11, 0, tzinfo=UTC)
    steps = [
        {
            "run_id": "r",
            "step_id": "b",
            "sequence": 2,
            "description": "B",
            "status": "in_progress",
            "started_at": t0,
        },
        {
            "run_id": "r",
            "step_id": "a1",
            "sequence": 1,
            "description": "A.1",
            "status": "completed",
            "parent_step_id": "a",
            "started_at": t0,
            "completed_at": t0 + timedelta(seconds=30),
        },
        {
            "run_id": "r",
            "step_id": "a",
            "sequence": 1,
            "description": "A",
            "status": "completed",
            "started_at": t0,
            "completed_at": t0 + timedelta(minutes=1),
        },
        {"run_id": "r", "step_id": "c", "sequence": 3, "description": "C", "status": "pending"},
    ]
    frame = frames.steps_frame(steps, now=NOW)
    assert list(frame.columns) == frames.STEP_COLUMNS
    assert frame["step_id"].tolist() == ["a", "a1", "b", "c"]
    assert frame["depth"].tolist() == [0, 1, 0, 0]
    assert frame["duration_s"].tolist()[:2] == [60.0, 30.0]
    assert frame["is_running"].tolist() == [False, False, True, False]
    assert frame.loc[2, "duration_s"] == 3600.0  # measured to now
    assert pd.isna(frame["duration_s"].iloc[3])
    assert str(frame["sequence"].dtype) == "Int64"


@pytest.mark.parametrize(
    "function,columns",
    [
        (frames.missions_frame, frames.MISSION_COLUMNS),
        (frames.runs_frame, frames.RUN_COLUMNS),
        (frames.steps_frame, frames.STEP_COLUMNS),
        (frames.events_frame, frames.EVENT_COLUMNS),
        (frames.agents_frame, frames.AGENT_COLUMNS),
    ],
)
def test_empty_input_keeps_columns_and_dtypes(demo: Sandbox, function: Any, columns: list[str]) -> None:
    empty = function([])
    assert list(empty.columns) == columns and empty.empty
    client = demo.client()
    samples: dict[Any, Callable[[], Any]] = {
        frames.missions_frame: lambda: client.missions.list().data,
        frames.runs_frame: lambda: client.missions.runs.list_runs().data,
        frames.events_frame: lambda: client.missions.list_events().data,
        frames.steps_frame: lambda: _some_plan(client),
        frames.agents_frame: lambda: _some_agents(client),
    }
    sample = samples[function]()
    full = function(sample)
    assert not full.empty
    assert empty.dtypes.astype(str).to_dict() == full.dtypes.astype(str).to_dict()


def _some_plan(client: missionlab.Client) -> list[Any]:
    run = client.missions.runs.list_runs(status="succeeded").data[0]
    return client.missions.runs.plan.retrieve(run.run_id, mission_id=run.mission_id).data


def _some_agents(client: missionlab.Client) -> list[Any]:
    for run in client.missions.runs.list_runs(status="succeeded", page_size=200).data:
        agents = client.missions.runs.telnyx_agents.list(run.run_id, mission_id=run.mission_id)
        if agents.data:
            return agents.data
    raise AssertionError("the demo data has linked agents")


def test_to_frame_dispatches_on_what_it_gets(demo: Sandbox) -> None:
    client = demo.client()
    missions = client.missions.list()
    assert list(missionlab.to_frame(missions).columns) == frames.MISSION_COLUMNS
    assert list(missionlab.to_frame(missions.data[0]).columns) == frames.MISSION_COLUMNS
    assert (
        list(missionlab.to_frame(client.missions.retrieve(missions.data[0].mission_id)).columns)
        == frames.MISSION_COLUMNS
    )
    runs = client.missions.runs.list_runs()
    assert list(missionlab.to_frame(iter(runs.data)).columns) == frames.RUN_COLUMNS
    dicts = [r.model_dump(mode="json") for r in runs.data]
    from_dicts = missionlab.to_frame(dicts)
    assert from_dicts["run_id"].tolist() == [r.run_id for r in runs.data]
    assert str(from_dicts["started_at"].dtype) == UTC_TIME
    plan = client.missions.runs.plan.retrieve(runs.data[-1].run_id, mission_id=runs.data[-1].mission_id)
    assert list(plan.to_frame().columns) == frames.STEP_COLUMNS
    with pytest.raises(ValueError, match="empty"):
        missionlab.to_frame([])
    with pytest.raises(TypeError):
        missionlab.to_frame([{"something": "else"}])


def test_official_sdk_objects(demo: Sandbox) -> None:
    official = telnyx.Telnyx(api_key=demo.token, base_url=demo.url)
    ours = demo.client()
    theirs = frames.runs_frame(official.ai.missions.runs.list_runs(page_size=50).data, now=NOW)
    mine = frames.runs_frame(ours.missions.runs.list_runs(page_size=50).data, now=NOW)
    # the demo's live run may change between the two lists: compare the history
    theirs, mine = (f[f["started_at"] < "2026-11-28"].reset_index(drop=True) for f in (theirs, mine))
    assert len(mine) >= 45
    pd.testing.assert_frame_equal(theirs, mine)
    events = official.ai.missions.list_events(page_size=20).data
    assert missionlab.to_frame(events)["event_id"].tolist() == [e.event_id for e in events]


def test_flattening(demo: Sandbox) -> None:
    client = demo.client()
    flat = client.missions.list().to_frame(flatten=True)
    assert "metadata" in flat and "metadata.team" in flat
    assert set(flat.columns[: len(frames.MISSION_COLUMNS)]) == set(frames.MISSION_COLUMNS)
    events = frames.events_frame(client.missions.list_events(type="tool_result").data, flatten=True)
    assert "payload.tool" in events and events["payload.tool"].notna().all()


def test_fleet_views(demo: Sandbox) -> None:
    client = demo.client()
    travel = next(m for m in client.missions.list().fetch_all(progress=False) if m.name.startswith("Travel"))
    runs = client.missions.runs.list(travel.mission_id).fetch_all(progress=False)
    plans = [client.missions.runs.plan.retrieve(r.run_id, mission_id=travel.mission_id).data for r in runs]
    steps = frames.steps_frame([s for plan in plans for s in plan], now=NOW)
    stats = frames.step_stats(steps)
    assert list(stats.columns) == [
        "step_id",
        "description",
        "runs",
        "finished",
        "median_s",
        "p95_s",
        "max_s",
        "failure_rate",
    ]
    book = stats.set_index("step_id").loc["book"]
    assert 0.05 < book["failure_rate"] < 0.5  # "book" fails often in the demo data
    assert (stats["p95_s"] >= stats["median_s"]).all()
    assert stats["median_s"].is_monotonic_decreasing
    outcomes = frames.outcomes_over_time(frames.runs_frame(runs, now=NOW), freq="W")
    assert list(outcomes.columns) == [s.value for s in missionlab.RunStatus]
    assert outcomes.to_numpy().sum() == len(runs)
    assert frames.step_stats(frames.steps_frame([])).empty
    assert frames.outcomes_over_time(frames.runs_frame([])).empty


def _json_items(sandbox: Sandbox, path: str) -> list[dict[str, Any]]:
    """Every item of a list as the client's fast path gives them: plain JSON dicts."""
    client = sandbox.client()
    if path == "/ai/missions/runs":
        return client.missions.runs.list_runs(page_size=1000).fetch_all(as_dicts=True, progress=False)
    if path == "/ai/missions/events":
        return client.missions.list_events(page_size=1000).fetch_all(as_dicts=True, progress=False)
    assert path == "/ai/missions"
    return client.missions.list(page_size=1000).fetch_all(as_dicts=True, progress=False)


def test_frames_from_json_dicts_equal_frames_from_models(demo: Sandbox) -> None:
    """The fast path (plain dicts) and the model path give the same rows, ids, order, dtypes."""
    runs = _json_items(demo, "/ai/missions/runs")
    events = _json_items(demo, "/ai/missions/events")
    missions = _json_items(demo, "/ai/missions")
    run = next(r for r in runs if r["status"] == "failed")
    plan = httpx.get(
        f"{demo.url}/ai/missions/{run['mission_id']}/runs/{run['run_id']}/plan",
        headers={"Authorization": f"Bearer {demo.token}"},
    ).json()["data"]
    run_events = [e for e in events if e["run_id"] == run["run_id"]][::-1]  # oldest first
    assert len(runs) > 300 and len(events) > 10_000 and plan and run_events
    cases: list[tuple[Callable[..., pd.DataFrame], list[dict[str, Any]], type[BaseModel], dict[str, Any]]] = [
        (frames.runs_frame, runs, missionlab.Run, {"now": NOW}),
        (frames.events_frame, events, missionlab.Event, {}),
        (frames.missions_frame, missions, missionlab.Mission, {}),
        (frames.steps_frame, plan, missionlab.PlanStep, {"now": NOW, "events": run_events}),
    ]
    for function, dicts, model, kwargs in cases:
        fast = function(dicts, **kwargs)
        slow = function([model.model_validate(d) for d in dicts], **kwargs)
        pd.testing.assert_frame_equal(fast, slow)
        assert len(fast) == len(dicts)
        id_field = {missionlab.Run: "run_id", missionlab.Event: "event_id"}.get(model)
        if id_field:
            assert fast[id_field].tolist() == [d[id_field] for d in dicts]  # server order kept
    assert str(fast["run_id"].dtype) == "string" and fast["run_id"].array.dtype.storage == "pyarrow"


def test_frames_are_no_larger_than_their_json(demo: Sandbox) -> None:
    for path, function in (
        ("/ai/missions/runs", frames.runs_frame),
        ("/ai/missions/events", frames.events_frame),
    ):
        items = _json_items(demo, path)
        json_bytes = len(json.dumps(items, separators=(",", ":")))
        frame = function(items)
        assert frame.memory_usage(deep=True).sum() <= json_bytes, path


def test_events_appended_a_few_at_a_time_equal_one_frame_in_few_chunks() -> None:
    """A watched run's events frame, grown by a few events 120 times (one of an unknown type
    among them), equals the frame of all its events built at once, and its text columns
    stay in a few chunks (about log2 of the count of additions), not one per addition."""
    start = datetime(2026, 1, 1, tzinfo=UTC)

    def event(number: int) -> dict[str, Any]:
        kind = "a_new_kind" if number == 700 else ["tool_call", "message", "tool_result"][number % 3]
        return {
            "event_id": f"e{number}",
            "run_id": "r1",
            "type": kind,
            "timestamp": (start + timedelta(seconds=number)).isoformat(),
            "summary": f"event <{number}>",
            "step_id": None if number % 7 == 0 else f"s{number % 5}",
            "payload": {"n": number},
        }

    items = [event(number) for number in range(1_000)]
    grown = frames.events_frame(items[:400])
    for first in range(400, 1_000, 5):
        grown = frames.appended(grown, frames.events_frame(items[first : first + 5]))
    pd.testing.assert_frame_equal(grown, frames.events_frame(items))
    assert list(grown["type"].cat.categories)[-1] == "a_new_kind"
    for name in ("event_id", "summary", "step_id", "payload"):
        chunks = grown[name].array.__arrow_array__().num_chunks
        assert 1 <= chunks <= 8, (name, chunks)  # 120 additions: 1 + log2(600 / 5) is about 8


@pytest.mark.parametrize(
    "spelling",
    ["2026-11-01T10:00:06z", "2026-11-01t10:00:06Z", "2026-11-01t12:00:06+02:00", "2026-11-01 10:00:06"],
)
def test_a_timestamp_the_models_read_is_framed_as_they_read_it(spelling: str) -> None:
    """RFC 3339 allows a lower-case "t" and "z"; pandas' ISO 8601 reading does not."""
    event = {"event_id": "e", "run_id": "r", "type": "message", "summary": "s", "timestamp": spelling}
    framed = frames.events_frame([event])["timestamp"].iat[0]
    assert framed == pd.Timestamp(datetime(2026, 11, 1, 10, 0, 6, tzinfo=UTC))
    assert framed == missionlab.Event.model_validate(event).timestamp


def test_a_timestamp_nothing_reads_is_named_in_an_api_error() -> None:
    events = [
        {"event_id": "e", "run_id": "r", "type": "message", "summary": "s", "timestamp": t}
        for t in ("2026-11-01T10:00:06z", "the tenth of November")
    ]
    with pytest.raises(missionlab.APIError, match="'the tenth of November'"):
        frames.events_frame(events)
