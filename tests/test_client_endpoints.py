"""Every endpoint through both clients, against the real sandbox over HTTP."""

from __future__ import annotations

from datetime import datetime

import pytest

import missionlab
from missionlab import (
    ConflictError,
    EventType,
    NotFoundError,
    RunStatus,
    StepStatus,
    UnprocessableEntityError,
)
from missionlab.sandbox import Sandbox

from .conftest import Api, unique


def make_run(api: Api, mode: str = "external") -> tuple[str, str]:
    m = api(api.client.missions.create(name=unique("endpoints"), execution_mode=mode)).data
    r = api(api.client.missions.runs.create(m.mission_id, input={"q": 1})).data
    return m.mission_id, r.run_id


def test_missions_crud_and_lists(api: Api) -> None:
    missions = api.client.missions
    created = api(
        missions.create(
            name=unique("crud"),
            description="d",
            instructions="i",
            model="m",
            metadata={"k": [1, 2]},
            execution_mode="managed",
        )
    ).data
    assert isinstance(created, missionlab.Mission)
    assert created.execution_mode == "managed" and created.metadata == {"k": [1, 2]}
    assert created.created_at.tzinfo is not None

    fetched = api(missions.retrieve(created.mission_id)).data
    assert fetched.name == created.name
    assert fetched.tools == [] and fetched.knowledge_bases == [] and fetched.mcp_servers == []

    updated = api(missions.update_mission(created.mission_id, description="changed")).data
    assert updated.description == "changed" and updated.name == created.name
    assert updated.updated_at >= created.updated_at

    page = api(missions.list(page_size=5))
    assert len(page.data) <= 5 and page.meta.page_size == 5
    assert page.data[0].mission_id == created.mission_id  # newest first

    answer = api(missions.clone_mission(created.mission_id))  # the JSON as sent: {"data": {...}}
    clone = missionlab.client.models.mission_in(answer)
    assert isinstance(answer, dict) and clone is not None and answer["data"]["mission_id"] == clone.mission_id
    assert clone.mission_id != created.mission_id and clone.name.endswith("(copy)")
    assert clone.metadata == {"k": [1, 2]}

    assert api(missions.delete_mission(clone.mission_id)) is None
    with pytest.raises(NotFoundError):
        api(missions.retrieve(clone.mission_id))


def test_runs_lifecycle(api: Api) -> None:
    mission_id, run_id = make_run(api)
    runs = api.client.missions.runs
    run = api(runs.retrieve(run_id, mission_id=mission_id)).data
    assert run.status == RunStatus.PENDING and run.input == {"q": 1}

    assert api(runs.update(run_id, mission_id=mission_id, status="running")).data.status == "running"
    assert api(runs.pause_run(run_id, mission_id=mission_id)).data.status == "paused"
    with pytest.raises(ConflictError) as err:
        api(runs.pause_run(run_id, mission_id=mission_id))
    assert "paused" in str(err.value) and err.value.status_code == 409
    assert api(runs.resume_run(run_id, mission_id=mission_id)).data.status == "running"
    cancelled = api(runs.cancel_run(run_id, mission_id=mission_id)).data
    assert cancelled.status == "cancelled" and cancelled.finished_at is not None
    with pytest.raises(ConflictError):
        api(runs.update(run_id, mission_id=mission_id, status="running"))

    listed = api(runs.list(mission_id, status="cancelled"))
    assert [r.run_id for r in listed.data] == [run_id]
    recent = api(runs.list_runs(status="cancelled", page_size=50))
    assert all(r.status == "cancelled" for r in recent.data)
    assert run_id in [r.run_id for r in recent.data]


def test_update_run_result(api: Api) -> None:
    mission_id, run_id = make_run(api)
    done = api(
        api.client.missions.runs.update(
            run_id,
            mission_id=mission_id,
            status=RunStatus.SUCCEEDED,
            result_summary="ok",
            result_payload={"n": 3},
            metadata={"who": "test"},
        )
    ).data
    assert (done.status, done.result_summary, done.result_payload) == ("succeeded", "ok", {"n": 3})
    assert done.finished_at is not None


def test_plan_and_steps(api: Api) -> None:
    mission_id, run_id = make_run(api)
    plan = api.client.missions.runs.plan
    created = api(
        plan.create(
            run_id,
            mission_id=mission_id,
            steps=[
                {"step_id": "a", "description": "A", "sequence": 1},
                {"step_id": "b", "description": "B", "sequence": 2, "metadata": {"x": 1}},
            ],
        )
    ).data
    assert [s.step_id for s in created] == ["a", "b"]
    with pytest.raises(ConflictError):
        api(
            plan.create(
                run_id, mission_id=mission_id, steps=[{"step_id": "c", "description": "C", "sequence": 3}]
            )
        )
    added = api(
        plan.add_steps_to_plan(
            run_id,
            mission_id=mission_id,
            steps=[{"step_id": "a1", "description": "A.1", "sequence": 1, "parent_step_id": "a"}],
        )
    ).data
    assert added[0].parent_step_id == "a"
    with pytest.raises(UnprocessableEntityError) as err:
        api(
            plan.add_steps_to_plan(
                run_id,
                mission_id=mission_id,
                steps=[{"step_id": "z", "description": "Z", "sequence": 9, "parent_step_id": "nope"}],
            )
        )
    assert "parent_step_id" in str(err.value)
    with pytest.raises(ConflictError):
        api(
            plan.add_steps_to_plan(
                run_id, mission_id=mission_id, steps=[{"step_id": "b", "description": "B", "sequence": 5}]
            )
        )

    steps = api(plan.retrieve(run_id, mission_id=mission_id)).data
    assert [s.sequence for s in steps] == sorted(s.sequence for s in steps)

    started = api(
        plan.update_step("a", mission_id=mission_id, run_id=run_id, status=StepStatus.IN_PROGRESS)
    ).data
    assert started.started_at is not None and started.completed_at is None
    done = api(
        plan.update_step("a", mission_id=mission_id, run_id=run_id, status="completed", metadata={"rows": 5})
    ).data
    assert done.completed_at is not None and done.started_at == started.started_at
    assert done.metadata == {"rows": 5}
    one = api(plan.get_step_details("a", mission_id=mission_id, run_id=run_id)).data
    assert one.status == "completed"
    with pytest.raises(NotFoundError):
        api(plan.get_step_details("missing", mission_id=mission_id, run_id=run_id))


def test_events(api: Api) -> None:
    mission_id, run_id = make_run(api)
    events = api.client.missions.runs.events
    first = api(
        events.log(
            run_id,
            mission_id=mission_id,
            type="tool_call",
            summary="call",
            step_id="s1",
            agent_id="agent-1",
            payload={"tool": "x"},
        )
    ).data
    assert first.idempotency_key  # generated by the client
    again = api(
        events.log(
            run_id,
            mission_id=mission_id,
            type="tool_call",
            summary="call",
            step_id="s1",
            agent_id="agent-1",
            payload={"tool": "x"},
            idempotency_key=first.idempotency_key,
        )
    ).data
    assert again.event_id == first.event_id
    with pytest.raises(missionlab.ConflictError, match="idempotency_key"):  # same key, another body
        api(
            events.log(
                run_id,
                mission_id=mission_id,
                type="tool_call",
                summary="call",
                idempotency_key=first.idempotency_key,
            )
        )
    api(events.log(run_id, mission_id=mission_id, type=EventType.MESSAGE, summary="hi"))

    page = api(events.list(run_id, mission_id=mission_id))
    assert [e.summary for e in page.data] == ["call", "hi"]  # oldest first
    assert [e.event_id for e in api(events.list(run_id, mission_id=mission_id, type="tool_call")).data] == [
        first.event_id
    ]
    assert len(api(events.list(run_id, mission_id=mission_id, step_id="s1")).data) == 1
    assert len(api(events.list(run_id, mission_id=mission_id, agent_id="agent-1")).data) == 1
    detail = api(events.get_event_details(first.event_id, mission_id=mission_id, run_id=run_id)).data
    assert detail.payload == {"tool": "x"} and isinstance(detail.timestamp, datetime)

    recent = api(api.client.missions.list_events(type="tool_call", page_size=10))
    assert all(e.type == "tool_call" for e in recent.data)


def test_telnyx_agents(api: Api) -> None:
    mission_id, run_id = make_run(api)
    agents = api.client.missions.runs.telnyx_agents
    linked = api(agents.link(run_id, mission_id=mission_id, telnyx_agent_id="agent-a")).data
    assert linked.telnyx_agent_id == "agent-a"
    assert [a.telnyx_agent_id for a in api(agents.list(run_id, mission_id=mission_id)).data] == ["agent-a"]
    again = api(agents.link(run_id, mission_id=mission_id, telnyx_agent_id="agent-a")).data
    assert again.created_at == linked.created_at  # linking is idempotent
    assert api(agents.unlink("agent-a", mission_id=mission_id, run_id=run_id)) is None
    assert api(agents.list(run_id, mission_id=mission_id)).data == []
    with pytest.raises(NotFoundError):
        api(agents.unlink("agent-a", mission_id=mission_id, run_id=run_id))


@pytest.mark.parametrize(
    "kind,noun,id_field",
    [
        ("tools", "tool", "tool_id"),
        ("knowledge_bases", "knowledge_base", "knowledge_base_id"),
        ("mcp_servers", "mcp_server", "mcp_server_id"),
    ],
)
def test_mission_objects(api: Api, kind: str, noun: str, id_field: str) -> None:
    mission_id, _ = make_run(api)
    res = getattr(api.client.missions, kind)
    created = api(getattr(res, f"create_{noun}")(mission_id, body={"name": "one"}))["data"]
    object_id = created[id_field]
    assert created["name"] == "one"
    listed = api(getattr(res, f"list_{kind}")(mission_id))["data"]
    assert [o[id_field] for o in listed] == [object_id]
    got = api(getattr(res, f"get_{noun}")(object_id, mission_id=mission_id))["data"]
    assert got == created
    put = api(getattr(res, f"update_{noun}")(object_id, mission_id=mission_id, body={"name": "two"}))["data"]
    assert put == {"name": "two", id_field: object_id}
    mission = api(api.client.missions.retrieve(mission_id)).data
    assert getattr(mission, kind) == [put]  # "includes tools, knowledge_bases, mcp_servers"
    assert api(getattr(res, f"delete_{noun}")(object_id, mission_id=mission_id)) is None
    with pytest.raises(NotFoundError):
        api(getattr(res, f"get_{noun}")(object_id, mission_id=mission_id))


def test_delete_mission_cascades(api: Api, sandbox: Sandbox) -> None:
    mission_id, run_id = make_run(api)
    api(api.client.missions.runs.events.log(run_id, mission_id=mission_id, type="message", summary="x"))
    api(api.client.missions.runs.telnyx_agents.link(run_id, mission_id=mission_id, telnyx_agent_id="a"))
    store = sandbox.store
    assert store is not None
    (run_key,) = store._all("SELECT run_key FROM runs WHERE run_id=?", (run_id,))[0]
    api(api.client.missions.delete_mission(mission_id))
    assert store._all("SELECT count(*) FROM runs WHERE mission_id=?", (mission_id,)) == [(0,)]
    assert store._all("SELECT count(*) FROM events WHERE run_key=?", (run_key,)) == [(0,)]
    assert store._all("SELECT count(*) FROM agents WHERE run_id=?", (run_id,)) == [(0,)]


def test_ai_alias_is_the_client(client: missionlab.Client) -> None:
    assert client.ai is client
    assert client.ai.missions is client.missions
