"""The clients' static types (issue 11), checked by ``mypy --strict`` (this module is in its
``files``) with ``assert_type``, and run against the sandbox so that they are also true."""

from __future__ import annotations

import uuid
from typing import Any, assert_type

import pytest

import missionlab
from missionlab import AsyncPage, EventType, ItemList, RunStatus, StepStatus, SyncPage
from missionlab.client import models
from missionlab.sandbox import Sandbox


def sync_calls(client: missionlab.Client, mission_id: str) -> str:
    assert_type(client.ai, missionlab.Client)
    assert_type(client.ai.missions.retrieve(mission_id), models.MissionResponse)
    page = client.missions.runs.list(mission_id, status="running", deadline=10)
    assert_type(page, SyncPage[models.Run])
    assert_type(page.fetch_all(progress=False), ItemList[models.Run])
    assert_type(page.fetch_all(progress=False, as_dicts=True), list[dict[str, Any]])
    run = client.missions.runs.create(mission_id, input={"a": 1}).data
    assert_type(run, models.Run)
    assert_type(run.status, RunStatus | str)  # a status the client doesn't know stays a str
    steps = client.missions.runs.plan.create(
        run.run_id, mission_id=mission_id, steps=[{"step_id": "s", "description": "S", "sequence": 1}]
    ).data
    assert_type(steps[0].status, StepStatus | str)
    events = client.missions.runs.events.list(run.run_id, mission_id=mission_id)
    assert_type([event.type for event in events.data], list[EventType | str])
    assert_type(client.missions.tools.list_tools(mission_id), Any)
    assert_type(client.missions.clone_mission(mission_id), Any)
    link = client.missions.runs.telnyx_agents.link(run.run_id, mission_id=mission_id, telnyx_agent_id="a")
    assert_type(link.data, models.TelnyxAgent)
    assert_type(
        client.missions.runs.telnyx_agents.unlink("a", mission_id=mission_id, run_id=run.run_id), None
    )
    with pytest.raises(missionlab.InvalidArgumentError):
        client.missions.list(timeoutt=3)  # type: ignore[call-arg]  # an unknown option is a type error
    return run.run_id


async def async_calls(client: missionlab.AsyncClient, mission_id: str) -> str:
    assert_type(client.ai, missionlab.AsyncClient)
    assert_type(await client.ai.missions.retrieve(mission_id), models.MissionResponse)
    page = await client.missions.runs.list(mission_id, deadline=10)
    assert_type(page, AsyncPage[models.Run])
    assert_type(await page.fetch_all(progress=False), ItemList[models.Run])
    assert_type(await page.fetch_all(progress=False, as_dicts=True), list[dict[str, Any]])
    run = (await client.missions.runs.create(mission_id)).data
    assert_type(run, models.Run)
    paused = await client.missions.runs.update(run.run_id, mission_id=mission_id, status=RunStatus.RUNNING)
    assert_type(paused, models.RunResponse)
    assert_type(await client.missions.tools.list_tools(mission_id), Any)
    await client.missions.runs.telnyx_agents.link(run.run_id, mission_id=mission_id, telnyx_agent_id="a")
    assert_type(
        await client.missions.runs.telnyx_agents.unlink("a", mission_id=mission_id, run_id=run.run_id), None
    )
    with pytest.raises(missionlab.InvalidArgumentError):
        await client.missions.list(deadline="soon")  # type: ignore[arg-type]
    return run.run_id


def test_the_sync_types_hold(sandbox: Sandbox) -> None:
    client = sandbox.client()
    mission = client.missions.create(name=f"types {uuid.uuid4().hex[:6]}").data
    client.missions.runs.create(mission.mission_id)
    run_id = sync_calls(client, mission.mission_id)
    assert client.missions.runs.retrieve(run_id, mission_id=mission.mission_id).data.run_id == run_id


def test_the_async_types_hold(sandbox: Sandbox, portal: Any) -> None:  # conftest's Portal
    client = sandbox.async_client()
    mission = sandbox.client().missions.create(name=f"types {uuid.uuid4().hex[:6]}").data
    run_id = portal.run(async_calls(client, mission.mission_id))
    portal.run(client.aclose())
    assert (
        sandbox.client().missions.runs.retrieve(run_id, mission_id=mission.mission_id).data.status
        == "running"
    )
