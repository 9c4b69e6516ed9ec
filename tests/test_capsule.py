"""Run capsules: save -> open gives the same frames offline; save -> serve --load gives the
same run, plan and events to this client and to the official SDK."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pandas as pd
import pytest
import telnyx

import missionlab
from missionlab.analysis.capsule import CapsuleError, read_capsule
from missionlab.sandbox import Sandbox, Store
from missionlab.sandbox.capsules import CapsuleLoadError, load_capsule
from missionlab.trace import RunTrace, load_run

HOSTED = Path(__file__).parent / "data" / "hosted"
KEY = "sk-capsule-test-0123456789"


def same_frames(a: RunTrace, b: RunTrace) -> None:
    pd.testing.assert_frame_equal(a.steps_frame, b.steps_frame)
    pd.testing.assert_frame_equal(a.events_frame, b.events_frame)
    pd.testing.assert_frame_equal(a.run_frame, b.run_frame)


def hosted_trace() -> RunTrace:
    """The hosted-shaped run of tests/data/hosted (its `blocked` step and `llm_call` event
    mapped to known values until the models keep unknown ones)."""

    def answer(name: str) -> Any:
        return json.loads((HOSTED / name).read_text())["data"]

    plan = [
        {**s, "status": "pending" if s["status"] == "blocked" else s["status"]} for s in answer("plan.json")
    ]
    events = [
        {**e, "type": "custom" if e["type"] == "llm_call" else e["type"]} for e in answer("events.json")
    ]
    return RunTrace(
        run=missionlab.Run.model_validate(answer("run.json")),
        steps=[missionlab.PlanStep.model_validate(s) for s in plan],
        events=[missionlab.Event.model_validate(e) for e in events],
        mission=missionlab.Mission.model_validate(answer("mission.json")),
        agents=[missionlab.TelnyxAgent.model_validate(a) for a in answer("agents.json")],
    )


@pytest.fixture(scope="module")
def saved(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[RunTrace, RunTrace, Path, Path]]:
    """A failed and a succeeded run of the sandbox's travel mission, saved as capsules."""
    folder = tmp_path_factory.mktemp("capsules")
    with Sandbox(demo=True, speed=50, token=KEY) as sandbox:
        client = sandbox.client()
        travel = next(
            m for m in client.missions.list(page_size=50).data if m.name == "Travel booking assistant"
        )
        runs = client.missions.runs.list(travel.mission_id, page_size=100).data
        failed, good = (next(r for r in runs if r.status == s) for s in ("failed", "succeeded"))
        bad_trace = load_run(client, travel.mission_id, failed.run_id)
        good_trace = load_run(client, travel.mission_id, good.run_id)
        yield (
            bad_trace,
            good_trace,
            bad_trace.save(folder / "bad.json"),
            good_trace.save(folder / "good.json"),
        )


def test_a_capsule_is_one_versioned_file_without_the_key(saved: Any) -> None:
    bad, _, path, _ = saved
    text = path.read_text()
    data = json.loads(text)
    assert list(data) == [
        "format",
        "version",
        "saved_at",
        "source",
        "mission",
        "run",
        "plan",
        "events",
        "agents",
    ]
    assert data["format"] == "missionlab-run-capsule" and data["version"] == 1
    assert data["source"]["base_url"] == str(bad.client.base_url) and KEY not in text
    assert data["run"]["run_id"] == bad.run.run_id and data["run"]["status"] == "failed"
    assert [s["step_id"] for s in data["plan"]] == [s.step_id for s in bad.steps]
    assert [e["event_id"] for e in data["events"]] == [e.event_id for e in bad.events]
    assert data["mission"]["tools"][0]["tool_id"] == "flights.search"  # the mission as the API gave it


def test_open_gives_the_same_frames_and_every_view_works_offline(saved: Any) -> None:
    bad, good, bad_path, good_path = saved
    opened = missionlab.open_run(bad_path)
    assert isinstance(opened, RunTrace) and opened.client is None and opened.capsule_source is not None
    assert opened.capsule_source["base_url"] == str(bad.client.base_url)
    same_frames(bad, opened)
    assert opened.run == bad.run and opened.mission == bad.mission and opened.agents == bad.agents
    figure = opened.gantt(replay=5, critical_path=True)
    assert len(figure.frames) == 5
    assert (
        str(opened.explain(baseline=False)).splitlines()[1]
        == str(bad.explain(baseline=False)).splitlines()[1]
    )
    comparison = opened.compare(missionlab.open_run(good_path))
    assert comparison.divergence is not None and comparison.baseline.run.run_id == good.run.run_id
    assert opened.diagnose().equals(bad.diagnose())
    assert "<html" in opened.to_html()


def test_a_capsule_opened_and_saved_again_keeps_where_it_came_from(saved: Any, tmp_path: Path) -> None:
    bad, _, path, _ = saved
    again = missionlab.open_run(path).save(tmp_path / "again.json")
    assert json.loads(again.read_text())["source"]["base_url"] == str(bad.client.base_url)
    assert json.loads(again.read_text())["events"] == json.loads(path.read_text())["events"]


def test_what_the_server_serves_and_json_holds_is_saved_and_read_back(tmp_path: Path) -> None:
    """An integer beyond 64 bits (served by the sandbox) and a lone surrogate (a JSON escape
    a capsule may hold) are saved, not refused, and read back as they were."""
    with Sandbox() as sandbox:
        client = sandbox.client()
        mission = client.missions.create(name="big numbers", execution_mode="external").data
        run = client.missions.runs.create(mission.mission_id).data
        client.missions.runs.events.log(
            run.run_id, mission_id=mission.mission_id, type="custom", summary="x", payload={"order": 2**70}
        )
        trace = load_run(client, mission.mission_id, run.run_id)
    path = trace.save(tmp_path / "big.json")
    assert missionlab.open_run(path).events[0].payload == {"order": 2**70} == trace.events[0].payload
    text = json.loads(path.read_text())
    text["events"][0]["payload"] = {"order": 2**70, "name": "\ud800"}
    odd = missionlab.open_run(json.dumps(text).encode())
    back = missionlab.open_run(odd.save(tmp_path / "odd.json"))
    assert back.events[0].payload == {"order": 2**70, "name": "\ud800"}
    assert missionlab.dataset([back], tmp_path / "set")[0].events[0].payload == back.events[0].payload


def test_a_hosted_run_round_trips() -> None:
    hosted = hosted_trace()
    data = json.loads(json.dumps(missionlab.analysis.capsule.capsule(hosted)))  # as written and read back
    assert data["run"]["cost_usd"] == 0.42  # a field the client does not know, kept
    opened = missionlab.open_run(data)
    same_frames(hosted, opened)
    assert (
        opened.steps_frame["times_from"].astype(str).tolist()
        == hosted.steps_frame["times_from"].astype(str).tolist()
    )


def test_files_that_are_not_capsules_are_refused(tmp_path: Path) -> None:
    with pytest.raises(CapsuleError, match="not JSON"):
        read_capsule(b"{nope")
    with pytest.raises(CapsuleError, match="its format is not"):
        read_capsule({"format": "other"})
    with pytest.raises(CapsuleError, match="reads versions up to 1, upgrade"):
        read_capsule({"format": "missionlab-run-capsule", "version": 2, "run": {}})
    newer = tmp_path / "newer.json"
    newer.write_text(json.dumps({"format": "missionlab-run-capsule", "version": 9, "run": {}, "mission": {}}))
    with pytest.raises(
        CapsuleLoadError, match=r"newer.json: run capsule version 9: this missionlab reads versions up to 1"
    ):
        Sandbox(load=[newer]).start()


NOT_CAPSULES = [
    ([], "not a run capsule: its format is not 'missionlab-run-capsule'"),
    (
        {"format": "other", "version": 1, "run": {}},
        "not a run capsule: its format is not 'missionlab-run-capsule'",
    ),
    ({"format": "missionlab-run-capsule", "run": {}}, "run capsule version None is not a version number"),
    (
        {"format": "missionlab-run-capsule", "version": "1", "run": {}},
        "run capsule version '1' is not a version number",
    ),
    (
        {"format": "missionlab-run-capsule", "version": 2, "run": {}},
        "run capsule version 2: this missionlab reads versions up to 1, upgrade missionlab",
    ),
    ({"format": "missionlab-run-capsule", "version": 1, "run": []}, "run capsule without a run"),
]


@pytest.mark.parametrize(("data", "reason"), NOT_CAPSULES)
def test_open_run_and_the_sandbox_refuse_the_same_files_for_the_same_reason(data: Any, reason: str) -> None:
    with pytest.raises(CapsuleError) as opened:
        read_capsule(json.dumps(data).encode())  # as open_run reads a file
    assert str(opened.value) == reason
    with pytest.raises(CapsuleLoadError) as loaded:
        load_capsule(Store(), data, where="run.json")
    assert str(loaded.value) == f"run.json: {reason}"
    assert isinstance(loaded.value, CapsuleError) and isinstance(loaded.value, missionlab.MissionlabError)


def test_the_sandbox_also_needs_the_mission() -> None:
    data = {"format": "missionlab-run-capsule", "version": 1, "run": {"run_id": "r"}}
    assert read_capsule(data) is data  # open_run can do without it
    with pytest.raises(CapsuleLoadError, match=r"^run\.json: run capsule without a mission$"):
        load_capsule(Store(), data, where="run.json")


def test_sandbox_load_serves_the_same_run_to_this_client(saved: Any, tmp_path: Path) -> None:
    bad, good, bad_path, good_path = saved
    hosted_path = tmp_path / "hosted.json"
    missionlab.analysis.capsule.save_run(hosted_trace(), hosted_path)
    db = tmp_path / "kept.db"
    for _ in range(2):  # loading the same capsules into a kept database again changes nothing
        with Sandbox(db=db, load=[bad_path, good_path, hosted_path]) as sandbox:
            client = sandbox.client()
            for original in (bad, good, hosted_trace()):
                served = load_run(client, original.run.mission_id, original.run.run_id)
                same_frames(original, served)
                known = set(missionlab.Run.model_fields)  # the sandbox keeps no fields it does not know
                assert served.run.model_dump(include=known) == original.run.model_dump(include=known)
            listed = client.missions.runs.list(bad.run.mission_id).data
            assert {r.run_id for r in listed} == {bad.run.run_id, good.run.run_id}
            assert len(client.missions.list().data) == 2  # the travel mission once, and the hosted one
            assert client.missions.runs.list_runs(status="running").data == []  # nothing simulated
    changed = json.loads(bad_path.read_text())
    changed["run"]["updated_at"] = "2030-01-01T00:00:00Z"
    other = tmp_path / "changed.json"
    other.write_text(json.dumps(changed))
    with pytest.raises(CapsuleLoadError, match="another version of run"):
        Sandbox(db=db, load=[other]).start()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.slow
def test_serve_load_gives_the_official_sdk_the_same_run(saved: Any) -> None:
    bad, good, bad_path, good_path = saved
    port = free_port()
    token = "capsule-serve-token"
    command = [
        *[sys.executable, "-m", "missionlab.cli", "sandbox", "serve"],
        *["--port", str(port), "--token", token],
    ]
    server = subprocess.Popen([*command, "--load", str(bad_path), "--load", str(good_path)])
    base_url = f"http://127.0.0.1:{port}/v2"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(f"{base_url}/ai/missions", headers={"Authorization": f"Bearer {token}"}, timeout=2)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline and server.poll() is None, "the sandbox did not start"
                time.sleep(0.2)
        sdk = telnyx.Telnyx(api_key=token, base_url=base_url, _strict_response_validation=True)
        runs = sdk.ai.missions.runs.list(bad.run.mission_id)
        assert {r.run_id for r in runs.data} == {bad.run.run_id, good.run.run_id}
        run = sdk.ai.missions.runs.retrieve(bad.run.run_id, mission_id=bad.run.mission_id).data
        assert (run.status, run.error, run.started_at) == (bad.run.status, bad.run.error, bad.run.started_at)
        plan = sdk.ai.missions.runs.plan.retrieve(bad.run.run_id, mission_id=bad.run.mission_id).data
        assert [(s.step_id, s.status, s.started_at) for s in plan] == [
            (s.step_id, s.status, s.started_at) for s in bad.steps
        ]
        events = sdk.ai.missions.runs.events.list(
            bad.run.run_id, mission_id=bad.run.mission_id, page_size=100
        )
        assert [(e.event_id, e.type, e.timestamp, e.payload) for e in events.data] == [
            (e.event_id, e.type, e.timestamp, e.payload) for e in bad.events
        ]
    finally:
        server.terminate()
        server.wait(10)
