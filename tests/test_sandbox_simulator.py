"""The run simulator and the demo data."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

import missionlab
from missionlab.sandbox import Sandbox, Store
from missionlab.sandbox import script as script_module
from missionlab.sandbox.demo import seed_demo
from missionlab.sandbox.playback import finish_fields
from missionlab.sandbox.script import build_script

from .conftest import unique, wait_for

NESTED_PLAN = {
    "plan": [
        {"step_id": "first", "description": "First", "duration": 2, "tools": ["t.one"]},
        {
            "step_id": "group",
            "description": "Group",
            "children": [{"step_id": "inner", "description": "Inner", "duration": 2, "repeat": 2}],
        },
        {"step_id": "last", "description": "Last", "duration": 2},
    ]
}


@pytest.fixture(scope="module")
def fast() -> Any:
    with Sandbox(speed=40) as sb:
        yield sb


def managed(client: missionlab.Client, metadata: dict[str, Any] | None = None) -> str:
    return client.missions.create(
        name=unique("sim"), execution_mode="managed", metadata=metadata
    ).data.mission_id


def test_managed_run_plays_to_the_end(fast: Sandbox) -> None:
    client = fast.client()
    mission_id = managed(client, NESTED_PLAN)
    run = client.missions.runs.create(mission_id, input={"x": 1}).data
    assert run.status == "pending"
    runs = client.missions.runs
    done = wait_for(
        lambda: (
            (r := runs.retrieve(run.run_id, mission_id=mission_id).data).status in ("succeeded", "failed")
            and r
        )
    )
    plan = runs.plan.retrieve(run.run_id, mission_id=mission_id).data
    assert [s.step_id for s in plan] == ["first", "group", "inner-1", "inner-2", "last"]
    assert {s.parent_step_id for s in plan if s.step_id.startswith("inner")} == {"group"}
    assert all(s.status in ("completed", "failed", "skipped") for s in plan)
    for step in plan:
        if step.status == "completed":
            assert step.started_at is not None and step.completed_at is not None
            assert step.completed_at >= step.started_at
    group = next(s for s in plan if s.step_id == "group")
    inner = [s for s in plan if s.parent_step_id == "group" and s.status == "completed"]
    assert group.started_at is not None
    assert all(s.started_at is not None and group.started_at <= s.started_at for s in inner)
    events = runs.events.list(run.run_id, mission_id=mission_id, page_size=1000).data
    types = {e.type for e in events}
    assert {"status_change", "step_started", "tool_call", "tool_result"} <= types
    assert ("step_completed" in types) or ("step_failed" in types)
    assert all(e.step_id in {s.step_id for s in plan} for e in events if e.step_id)
    assert [e.timestamp for e in events] == sorted(e.timestamp for e in events)
    if done.status == "succeeded":  # real elapsed time, and the simulated time it stands for
        assert done.result_summary and "simulated at 40x speed" in done.result_summary
        assert done.result_payload and done.result_payload["speed"] == 40
        real = (done.finished_at - done.started_at).total_seconds()
        assert abs(done.result_payload["duration_s"] - real) < 2
    else:
        assert done.error


def test_pause_freezes_and_resume_continues(fast: Sandbox) -> None:
    client = fast.client()
    mission_id = managed(client)
    runs = client.missions.runs
    run = runs.create(mission_id).data
    wait_for(lambda: runs.retrieve(run.run_id, mission_id=mission_id).data.status == "running")
    runs.pause_run(run.run_id, mission_id=mission_id)
    frozen = runs.events.list(run.run_id, mission_id=mission_id, page_size=1000).meta
    time.sleep(0.6)
    assert runs.events.list(run.run_id, mission_id=mission_id, page_size=1000).meta == frozen
    runs.resume_run(run.run_id, mission_id=mission_id)
    wait_for(lambda: runs.retrieve(run.run_id, mission_id=mission_id).data.status in ("succeeded", "failed"))


def test_cancel_skips_the_remaining_steps(fast: Sandbox) -> None:
    client = fast.client()
    mission_id = managed(
        client,
        {
            "plan": [
                {"step_id": "a", "description": "A", "duration": 1},
                {"step_id": "b", "description": "B", "duration": 200},
                {"step_id": "c", "description": "C", "duration": 5},
            ]
        },
    )
    runs = client.missions.runs
    run = runs.create(mission_id).data
    wait_for(
        lambda: any(
            s.step_id == "b" and s.status == "in_progress"
            for s in runs.plan.retrieve(run.run_id, mission_id=mission_id).data
        )
    )
    cancelled = runs.cancel_run(run.run_id, mission_id=mission_id).data
    assert cancelled.status == "cancelled"
    plan = {s.step_id: s.status for s in runs.plan.retrieve(run.run_id, mission_id=mission_id).data}
    assert plan == {"a": "completed", "b": "skipped", "c": "skipped"}
    time.sleep(0.3)
    assert runs.retrieve(run.run_id, mission_id=mission_id).data.status == "cancelled"


def test_external_runs_are_left_alone(fast: Sandbox) -> None:
    client = fast.client()
    mission_id = client.missions.create(name=unique("ext")).data.mission_id
    run = client.missions.runs.create(mission_id).data
    time.sleep(0.5)
    assert client.missions.runs.retrieve(run.run_id, mission_id=mission_id).data.status == "pending"
    assert client.missions.runs.plan.retrieve(run.run_id, mission_id=mission_id).data == []


def test_speed_factor_scales_time() -> None:
    script = build_script("00000000-0000-4000-8000-000000000000", None, seed=1)
    length = script.actions[-1].at
    assert 30 < length < 600  # a realistic minutes-long run in simulated seconds
    with Sandbox(speed=length / 1.5) as sb:  # about 1.5 s of real time
        client = sb.client()
        mission_id = managed(client)
        run = client.missions.runs.create(mission_id).data
        started = time.monotonic()
        wait_for(
            lambda: (
                client.missions.runs.retrieve(run.run_id, mission_id=mission_id).data.status
                in ("succeeded", "failed")
            ),
            15,
        )
        assert time.monotonic() - started < 6


def test_scripts_are_deterministic() -> None:
    run_id = "11111111-2222-4333-8444-555555555555"
    one, two = build_script(run_id, NESTED_PLAN, 7), build_script(run_id, NESTED_PLAN, 7)
    assert one == two
    assert build_script(run_id, NESTED_PLAN, 8) != one


def test_simulations_resume_after_restart(tmp_path: Any) -> None:
    db = tmp_path / "sim.db"
    plan = {"plan": [{"step_id": "long", "description": "Long", "duration": 30}]}
    with Sandbox(db=db, speed=10) as sb:
        client = sb.client()
        mission_id = managed(client, plan)
        run_id = client.missions.runs.create(mission_id).data.run_id
        wait_for(
            lambda: client.missions.runs.retrieve(run_id, mission_id=mission_id).data.status == "running"
        )
    with Sandbox(db=db, speed=200) as sb:
        client = sb.client()
        done = wait_for(
            lambda: (
                (r := client.missions.runs.retrieve(run_id, mission_id=mission_id).data).status
                in ("succeeded", "failed")
                and r
            )
        )
        assert done.finished_at is not None


def test_demo_data() -> None:
    store = Store()
    counts = seed_demo(store)
    assert counts["missions"] >= 6 and counts["runs"] >= 300 and counts["events"] >= 3000
    statuses = dict(store._all("SELECT status, count(*) FROM runs GROUP BY status", ()))
    assert set(statuses) == {"pending", "running", "paused", "succeeded", "failed", "cancelled"}
    sizes = [n for (n,) in store._all("SELECT count(*) FROM steps GROUP BY run_id", ())]
    assert min(sizes) >= 3 and max(sizes) <= 40
    assert store._all("SELECT count(*) FROM steps WHERE parent_step_id IS NOT NULL", ())[0][0] > 0
    modes = {m for (m,) in store._all("SELECT DISTINCT execution_mode FROM missions", ())}
    assert modes == {"managed", "external"}
    kinds = {k for (k,) in store._all("SELECT DISTINCT kind FROM objects", ())}
    assert kinds == {"tools", "knowledge-bases", "mcp-servers"}
    assert store.count("agents") > 0
    assert len(store.simulations()) == 1  # one run plays live when the sandbox starts
    failing = store._all(
        "SELECT step_id, avg(status='failed') f FROM steps GROUP BY step_id "
        "HAVING count(*) > 20 ORDER BY f DESC LIMIT 1",
        (),
    )
    assert failing[0][1] > 0.1  # some steps fail often


def test_demo_data_is_deterministic() -> None:
    def snapshot() -> list[Any]:
        store = Store()
        seed_demo(store, id_key=b"one install")
        history = "started_at < '2026-11-28'"  # all but the live run, which starts now
        return (
            store._all(f"SELECT * FROM runs WHERE {history} ORDER BY run_id", ())
            + store._all("SELECT * FROM events ORDER BY event_id", ())
            + store._all("SELECT run_id FROM runs", ())
        )

    first, second = snapshot(), snapshot()
    assert first == second and len(first) > 10_000


def test_demo_ids_differ_from_one_seeding_to_the_next() -> None:
    """A web page can't know a user's demo ids in advance (issue 10): every seeding draws its
    own, while the history they name stays the same."""

    def seeded() -> Store:
        store = Store()
        seed_demo(store)
        return store

    one, two = seeded(), seeded()
    for table, id_field in (("missions", "mission_id"), ("runs", "run_id"), ("events", "event_id")):
        ids_one = {i for (i,) in one._all(f"SELECT {id_field} FROM {table}", ())}
        ids_two = {i for (i,) in two._all(f"SELECT {id_field} FROM {table}", ())}
        assert len(ids_one) == one.count(table) and not ids_one & ids_two, table
    history = "SELECT status, started_at, finished_at, result_summary FROM runs ORDER BY started_at"
    assert one._all(history, ())[:-1] == two._all(history, ())[:-1]  # the last is the live run


def test_demo_sandbox_has_a_live_run() -> None:
    with Sandbox(demo=True, speed=20) as sb:
        client = sb.client()

        def live_run() -> Any:
            newest = client.missions.runs.list_runs(status="running").data[0]
            return newest if time.time() - newest.started_at.timestamp() < 60 else None

        newest = wait_for(live_run)
        plan = wait_for(
            lambda: client.missions.runs.plan.retrieve(newest.run_id, mission_id=newest.mission_id).data
        )
        assert len(plan) >= 3


def test_a_finished_script_states_real_elapsed_time() -> None:
    data = {"status": "succeeded", "steps_completed": 8, "duration_s": 303.2}
    assert finish_fields(data, 1.0) == {
        "status": "succeeded",
        "result_summary": "Completed all 8 steps in 303 s",
        "result_payload": {"steps_completed": 8, "duration_s": 303.2},
    }
    fast = finish_fields(data, 10.0)
    assert fast["result_summary"] == "Completed all 8 steps in 30 s (303 s of work simulated at 10x speed)"
    assert fast["result_payload"] == {
        "steps_completed": 8,
        "duration_s": 30.3,
        "simulated_duration_s": 303.2,
        "speed": 10.0,
    }
    failed = {"status": "failed", "error": "TimeoutError"}
    assert finish_fields(failed, 10.0) == failed


def test_model_calls_report_their_usage_and_cost() -> None:
    script = build_script("11111111-2222-4333-8444-555555555555", NESTED_PLAN, 7)
    payloads = [a.data.get("payload") or {} for a in script.actions if a.kind == "event"]
    calls = [p for p in payloads if "usage" in p]
    tool_calls = [a.data for a in script.actions if a.kind == "event" and a.data["type"] == "tool_call"]
    assert tool_calls and all("usage" in call["payload"] for call in tool_calls)
    assert len(calls) > len(tool_calls)  # the plan, and messages, are model calls too
    for call in calls:
        usage = call["usage"]
        assert usage["total_tokens"] == usage["input_tokens"] + usage["output_tokens"] > 0
        assert call["model"] == "sim-llm-1"
        expected = (usage["input_tokens"] * 3.0 + usage["output_tokens"] * 15.0) / 1e6
        assert call["cost_usd"] == pytest.approx(expected, abs=1e-6)


def test_usage_leaves_the_rest_of_the_script_as_it_was(monkeypatch: pytest.MonkeyPatch) -> None:
    """Usage has a random generator of its own: every other draw, time and outcome is the
    same as in a script whose model calls report nothing."""
    run_id = "11111111-2222-4333-8444-555555555555"

    def stripped(script: Any) -> list[Any]:
        return [
            (a.at, a.kind, {k: v for k, v in a.data.items() if k != "payload"}, strip(a.data.get("payload")))
            for a in script.actions
        ]

    def strip(payload: dict[str, Any] | None) -> dict[str, Any] | None:
        rest = {k: v for k, v in (payload or {}).items() if k not in {"model", "usage", "cost_usd"}}
        return rest or None

    with_usage = [stripped(build_script(run_id, plan, 7)) for plan in (NESTED_PLAN, None)]
    monkeypatch.setattr(script_module._Builder, "model_call", lambda self, context: {})
    without_usage = [stripped(build_script(run_id, plan, 7)) for plan in (NESTED_PLAN, None)]
    assert with_usage == without_usage


def test_demo_runs_say_what_was_planted() -> None:
    store = Store()
    seed_demo(store)
    runs = store._all("SELECT run_id, status, metadata FROM runs WHERE metadata LIKE '%\"planted\"%'", ())
    failed_steps = {
        run_id: step_id
        for run_id, step_id in store._all(
            "SELECT run_id, step_id FROM steps WHERE status = 'failed' AND step_id NOT IN "
            "(SELECT parent_step_id FROM steps s2 WHERE s2.run_id = steps.run_id AND s2.status = 'failed' "
            "AND parent_step_id IS NOT NULL)",
            (),
        )
    }
    stopped = {"cancelled": "cancelled", "paused": "paused", "pending": "pending", "running": "stale"}
    assert len(runs) >= 300
    for run_id, status, metadata in runs:
        planted = json.loads(metadata)["demo"]["planted"]
        if status in stopped:
            assert stopped[status] in planted, (status, planted)
        elif status == "failed":
            assert f"failed:{failed_steps[run_id]}" in planted, planted
        else:
            assert status == "succeeded" and all(mark.startswith("slow:") for mark in planted), planted
    slow = [mark for (_, _, metadata) in runs for mark in json.loads(metadata)["demo"]["planted"]]
    assert sum(mark.startswith("slow:") for mark in slow) > 10


TIMEOUT_PLAN = {
    "plan": [
        {
            "step_id": "search",
            "duration": 10,
            "tools": ["x.search"],
            "failure_rate": 1.0,
            "errors": ["TimeoutError: x.search did not answer within 30 s"],
        }
    ]
}


def test_a_timeout_is_a_call_left_unanswered_for_its_time() -> None:
    script = build_script("22222222-2222-4333-8444-555555555555", TIMEOUT_PLAN, 3)
    assert script.outcome == "failed" and script.planted == ["failed:search"]
    events = [(a.at, a.data) for a in script.actions if a.kind == "event"]
    calls = [(at, e) for at, e in events if e["type"] == "tool_call"]
    results = [(at, e) for at, e in events if e["type"] == "tool_result"]
    last_call_at, last_call = calls[-1]
    answer = [
        (at, e) for at, e in results if e["payload"]["request_id"] == last_call["payload"]["request_id"]
    ]
    assert len(answer) == 1
    answered_at, result = answer[0]
    assert answered_at - last_call_at == pytest.approx(30.0)
    assert result["payload"]["ok"] is False and "within 30 s" in result["payload"]["error"]
    error_at = next(at for at, e in events if e["type"] == "error")
    assert 0 <= error_at - answered_at < 1  # the step fails as the call times out
    assert max(at for at, e in events if e.get("step_id") == "search") == error_at
    assert not any(e["payload"].get("ok") for _, e in results)  # no OK answer before the timeout


def test_a_failure_that_is_no_timeout_keeps_the_calls_answers() -> None:
    plan = {"plan": [{**TIMEOUT_PLAN["plan"][0], "errors": ["ValidationError: bad output"]}]}
    script = build_script("22222222-2222-4333-8444-555555555555", plan, 3)
    results = [a.data for a in script.actions if a.kind == "event" and a.data["type"] == "tool_result"]
    assert script.outcome == "failed" and results[-1]["payload"]["ok"] is True
