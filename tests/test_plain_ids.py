"""Plain-string ids (issue 22): the published document makes several ids plain strings, and a
server that sends them must not break a read path: frames, traces, the missions panel, the
explorer. A MockTransport plays that server (the sandbox always makes UUIDs); UUIDs are still
required where we write."""

from __future__ import annotations

import json
import re
from typing import Any

import httpx
import pytest

import missionlab
from missionlab.widgets.explorer import Explorer
from missionlab.widgets.missions import MissionsPanel

T0 = "2026-01-01T00:00:00Z"
MISSIONS = [
    {"mission_id": f"mission-{x}", "name": x.upper(), "execution_mode": "external", "created_at": T0,
     "updated_at": T0}
    for x in "ba"
]  # fmt: skip
RUNS = [
    {"run_id": f"run-{m}-{n}", "mission_id": f"mission-{m}", "status": "succeeded", "started_at": T0,
     "updated_at": T0, "finished_at": "2026-01-01T00:01:00Z"}
    for m in "ab" for n in range(3)
]  # fmt: skip
STEPS = {
    r["run_id"]: [
        {"step_id": f"step {k}", "run_id": r["run_id"], "sequence": k, "description": f"step {k}",
         "status": "completed", "started_at": T0, "completed_at": "2026-01-01T00:00:30Z"}
        for k in range(2)
    ]
    for r in RUNS
}  # fmt: skip
EVENTS = [
    {"event_id": f"ev:{r['run_id']}", "run_id": r["run_id"], "type": "message", "summary": "hi",
     "timestamp": T0}
    for r in RUNS
]  # fmt: skip


class PlainIdServer:
    """A hosted-like API whose mission, run, step and event ids are plain strings; the runs of
    the missions in ``failing`` answer 500."""

    def __init__(self) -> None:
        self.failing: set[str] = set()
        self.paths: list[str] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        path = request.url.raw_path.decode().split("?")[0].removeprefix("/v2")
        self.paths.append(path)
        number = int(request.url.params.get("page[number]", "1"))
        size = int(request.url.params.get("page[size]", "20"))

        def page(items: list[dict[str, Any]]) -> httpx.Response:
            meta = {"page_number": number, "page_size": size, "total_pages": -(-len(items) // size),
                    "total_results": len(items)}  # fmt: skip
            body = {"data": items[(number - 1) * size : number * size], "meta": meta}
            return httpx.Response(200, content=json.dumps(body))

        if path == "/ai/missions":
            return page(MISSIONS)
        if path == "/ai/missions/runs":
            return page(RUNS)
        if path == "/ai/missions/events":
            return page(EVENTS)
        if m := re.fullmatch(r"/ai/missions/([^/]+)", path):
            mission = next(x for x in MISSIONS if x["mission_id"] == m[1])
            return httpx.Response(200, content=json.dumps({"data": mission}))
        if m := re.fullmatch(r"/ai/missions/([^/]+)/runs", path):
            if m[1] in self.failing:
                return httpx.Response(500, json={"errors": [{"detail": "down"}]})
            return page([r for r in RUNS if r["mission_id"] == m[1]])
        if m := re.fullmatch(r"/ai/missions/([^/]+)/runs/([^/]+)/plan", path):
            return httpx.Response(200, content=json.dumps({"data": STEPS[m[2]]}))
        if m := re.fullmatch(r"/ai/missions/([^/]+)/runs/([^/]+)/events", path):
            return page([e for e in EVENTS if e["run_id"] == m[2]])
        if m := re.fullmatch(r"/ai/missions/([^/]+)/runs/([^/]+)", path):
            run = next(r for r in RUNS if r["run_id"] == m[2])
            return httpx.Response(200, content=json.dumps({"data": run}))
        return httpx.Response(404, json={"errors": [{"detail": f"no route {path}"}]})

    def client(self) -> missionlab.Client:
        transport = httpx.MockTransport(self)
        return missionlab.Client(base_url="http://hosted/v2", transport=transport, max_retries=0)


def test_fetch_frames_with_steps_reads_plain_string_ids() -> None:
    """Issue 22: one non-UUID id made fetch_frames(steps=True) fail as a whole."""
    found = missionlab.fetch_frames(PlainIdServer().client(), steps=True, progress=False)
    assert list(found.runs["run_id"]) == [r["run_id"] for r in RUNS]
    assert found.steps is not None
    assert list(zip(found.steps["run_id"], found.steps["step_id"], strict=True)) == [
        (s["run_id"], s["step_id"]) for r in RUNS for s in STEPS[r["run_id"]]
    ]
    assert len(found.events) == len(EVENTS)


def test_read_calls_take_plain_string_ids_and_writes_still_refuse_them() -> None:
    server = PlainIdServer()
    client = server.client()
    assert client.missions.retrieve("mission-a").data.name == "A"
    assert client.missions.runs.retrieve("run-a-1", mission_id="mission-a").data.run_id == "run-a-1"
    plan = client.missions.runs.plan.retrieve("run-a-1", mission_id="mission-a").data
    assert [s.step_id for s in plan] == ["step 0", "step 1"]
    events = client.missions.runs.events.list("run-a-1", mission_id="mission-a").fetch_all(progress=False)
    assert [e.event_id for e in events] == ["ev:run-a-1"]
    sent = len(server.paths)
    for write in (
        lambda: client.missions.runs.update("run-a-1", mission_id="mission-a", status="failed"),
        lambda: client.missions.runs.cancel_run("run-a-1", mission_id="mission-a"),
        lambda: client.missions.delete_mission("mission-a"),
    ):
        with pytest.raises(missionlab.InvalidArgumentError):
            write()
    assert len(server.paths) == sent  # nothing was sent
    with pytest.raises(missionlab.InvalidArgumentError):
        client.missions.retrieve("a/../b")  # a path id still can't name another path


def test_missions_panel_and_explorer_with_plain_string_ids() -> None:
    """Issue 22: the missions panel went blank ("Loading missions failed") and selecting a
    mission raised out of the explorer's callback."""
    server = PlainIdServer()
    panel = MissionsPanel(server.client())
    assert [m.mission_id for m in panel.missions] == ["mission-b", "mission-a"]
    assert panel.notice.text == ""
    assert {k: v.total for k, v in panel.counts.items()} == {"mission-b": 3, "mission-a": 3}

    explorer = Explorer(server.client(), refresh_interval=3600)
    try:
        explorer.missions.select(explorer.missions.missions[1])
        assert [r.run_id for r in explorer.runs.runs] == ["run-a-0", "run-a-1", "run-a-2"]
        server.failing.add("mission-b")
        explorer.missions.select(explorer.missions.missions[0])  # an error in the callback: shown
        assert "failed" in explorer.runs.notice.text + explorer.missions.notice.text
        assert explorer.missions.selected is not None
        assert explorer.missions.selected.mission_id == "mission-b"
    finally:
        explorer.close()


def test_an_error_in_a_selection_callback_is_shown_in_the_panel() -> None:
    seen: list[str] = []

    def on_select(mission: Any) -> None:
        seen.append(mission.mission_id)
        raise RuntimeError("the callback broke")

    panel = MissionsPanel(PlainIdServer().client(), on_select=on_select)
    panel.select(panel.missions[1])  # does not raise into the kernel
    assert seen == ["mission-a"]
    assert panel.selected is not None and panel.selected.mission_id == "mission-a"
    assert "the callback broke" in panel.notice.text
