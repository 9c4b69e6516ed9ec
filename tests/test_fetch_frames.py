"""fetch_frames: the organization's runs, events and plans as frames, the fast way."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import httpx
import pandas as pd

import missionlab
from missionlab import frames
from missionlab.frames import _fetch as _fetch_frames
from missionlab.frames._columns import ColumnBuffer
from missionlab.sandbox import Sandbox

from .conftest import unique

NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)


def test_organization_as_frames(sandbox: Sandbox) -> None:
    with sandbox.client() as client:
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
    with sandbox.client() as client:
        mission = next(
            m for m in client.missions.list().fetch_all(progress=False) if m.name.startswith("Travel")
        )
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


def _runs_now(items: Any) -> pd.DataFrame:
    return frames.runs_frame(items, now=NOW)


def test_frames_gathered_a_page_at_a_time_equal_one_build(sandbox: Sandbox) -> None:
    """fetch_frames reads each page's fields as the page arrives (payloads as JSON text at
    once) and types the columns at the end: the same frames as from every item at once, odd
    values included (unknown and non-text types, missing fields, a payload nested deeper than
    orjson goes, an integer beyond 64 bits, labels in a run's metadata)."""
    headers = {"Authorization": f"Bearer {sandbox.token}"}
    events = httpx.get(
        f"{sandbox.url}/ai/missions/events", params={"page[size]": 1000}, headers=headers
    ).json()["data"]
    deep: dict[str, object] = {}
    for _ in range(300):
        deep = {"d": deep}
    events += [
        {**events[0], "event_id": "odd", "type": "llm_call", "payload": deep},
        {"event_id": "bare", "run_id": events[0]["run_id"], "type": 7, "payload": {"n": 2**70}},
        {**events[1], "event_id": "text", "payload": "not an object"},
    ]
    runs = httpx.get(f"{sandbox.url}/ai/missions/runs", params={"page[size]": 1000}, headers=headers).json()[
        "data"
    ]
    labelled = {"missionlab": {"labels": [{"label": "wrong-refund", "labelled_at": "2026-12-07T12:00:00Z"}]}}
    runs += [{**runs[0], "run_id": "labelled", "metadata": labelled, "status": "queued", "input": deep}]
    for items, fields, texts, build in (
        (events, frames._EVENT_FIELDS, _fetch_frames._EVENT_TEXTS, frames.events_frame),
        (runs, frames._RUN_FIELDS, _fetch_frames._RUN_TEXTS, _runs_now),
    ):
        gathered = ColumnBuffer(fields, texts)
        for start in range(0, len(items), 7):
            gathered.add(items[start : start + 7])
        assert len(gathered) == len(items)
        pd.testing.assert_frame_equal(build(gathered), build(items))
    built = frames.events_frame(events)
    assert built["payload"].iloc[-3].startswith('{"d":{"d":')
    assert list(built["type"].cat.categories)[-2:] == ["7", "llm_call"]
    assert json.loads(built["payload"].iloc[-2]) == {"n": 2**70}
    assert frames.runs_frame(runs, now=NOW)["labels"].iloc[-1] == ["wrong-refund"]


def test_fetch_frames_equals_the_readme_path(sandbox: Sandbox) -> None:
    """The fast way and the README's way (``fetch_all()`` then ``to_frame``) give the same
    frames (the organization's events are read over several pages of 1,000)."""
    with sandbox.client() as client:
        mission = client.missions.create(name=unique("frames"), description="fetch_frames = README path")
        mission_id = mission.data.mission_id
        for number in range(3):
            run = client.missions.runs.create(mission_id, input={"n": number}, metadata={"k": [number]}).data
            for index in range(5 * number):
                client.missions.runs.events.log(
                    run.run_id,
                    mission_id=mission_id,
                    type="message",
                    summary=f"m{index}",
                    payload={"i": index},
                )
        found = missionlab.fetch_frames(client, mission_id=mission_id, progress=False, now=NOW)
        readme_runs = frames.runs_frame(
            client.missions.runs.list(mission_id).fetch_all(progress=False), now=NOW
        )
        pd.testing.assert_frame_equal(found.runs, readme_runs)
        every = missionlab.to_frame(client.missions.list_events().fetch_all(progress=False))
        ours = every[every["run_id"].isin(found.runs["run_id"])].reset_index(drop=True)
        pd.testing.assert_frame_equal(found.events, ours)
        assert len(found.events) == 15 and found.events["event_id"].is_unique
