"""fetch_frames: the organization's runs, events and plans as frames, the fast way."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pandas as pd
import pytest

import missionlab
from missionlab import frames
from missionlab.frames import _fetch as _fetch_frames
from missionlab.sandbox import Sandbox

NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)


def test_organization_as_frames(sandbox: Sandbox) -> None:
    client = sandbox.client()
    found = missionlab.fetch_frames(client, progress=False, now=NOW)
    assert repr(found) == f"<FetchedFrames {len(found.runs):,} runs, {len(found.events):,} events>"
    assert found.steps is None
    runs_meta = client.missions.runs.list_runs(page_size=1).meta
    events_meta = client.missions.list_events(page_size=1).meta
    assert runs_meta is not None and events_meta is not None  # the sandbox always sends meta
    total_runs, total_events = runs_meta.total_results, events_meta.total_results
    assert (
        abs(len(found.runs) - total_runs) <= 2 and abs(len(found.events) - total_events) <= 50
    )  # live runs go on
    assert found.runs["run_id"].is_unique and found.events["event_id"].is_unique
    for frame, function in ((found.runs, frames.runs_frame), (found.events, frames.events_frame)):
        assert frame.dtypes.to_dict() == function([]).dtypes.to_dict()
    finished = found.runs[~found.runs["is_running"]]
    assert (
        finished["started_at"].is_monotonic_decreasing
        or finished["started_at"].iloc[0] >= finished["started_at"].iloc[-1]
    )  # newest first, as the API lists them


def test_one_missions_runs_with_plans(sandbox: Sandbox) -> None:
    client = sandbox.client()
    mission = next(m for m in client.missions.list().fetch_all(progress=False) if m.name.startswith("Travel"))
    found = missionlab.fetch_frames(
        client, mission_id=mission.mission_id, steps=True, progress=False, now=NOW
    )
    assert set(found.runs["mission_id"]) == {mission.mission_id}
    assert set(found.events["run_id"]) <= set(found.runs["run_id"]) and len(found.events)
    assert found.steps is not None and list(found.steps.columns) == frames.STEP_COLUMNS
    plan_runs = list(dict.fromkeys(found.steps["run_id"]))
    assert plan_runs == [r for r in found.runs["run_id"] if r in set(plan_runs)]  # in the order of runs
    stats = frames.step_stats(found.steps)
    assert "book" in set(stats["step_id"])


def test_frames_built_a_chunk_at_a_time_equal_one_build(
    sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    body = httpx.get(
        f"{sandbox.url}/ai/missions/events",
        params={"page[size]": 1000},
        headers={"Authorization": f"Bearer {sandbox.token}"},
    ).json()
    items = [*body["data"], {**body["data"][0], "event_id": "odd", "type": "llm_call"}]
    monkeypatch.setattr(_fetch_frames, "CHUNK", 300)
    chunked = _fetch_frames._framed(list(items), frames.events_frame)
    pd.testing.assert_frame_equal(chunked, frames.events_frame(items))
    assert list(chunked["type"].cat.categories)[-1] == "llm_call"
