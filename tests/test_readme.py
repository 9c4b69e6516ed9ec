"""What the README states about the code stays true."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from missionlab.sandbox import Sandbox
from missionlab.sandbox.routes import api_operations

README = (Path(__file__).parents[1] / "README.md").read_text(encoding="utf-8")


def test_the_endpoint_count_is_the_number_of_routes() -> None:
    stated = re.findall(r"all (\d+) endpoints", README)
    assert stated, "the README no longer says how many endpoints the client covers"
    assert {int(n) for n in stated} == {len(api_operations())}


def quickstart_code() -> str:
    section = README.split("## Quickstart", 1)[1]
    blocks = re.findall(r"```python\n(.*?)```", section, flags=re.S)
    assert blocks, "the README's Quickstart has no Python block"
    return str(blocks[0])


def test_the_quickstart_prints_a_plan_and_events(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Run as a newcomer would, against a demo sandbox: the run it starts finishes, and the
    snippet prints that run's plan and every one of its events (read back here on their own)."""
    with Sandbox(demo=True, speed=60, token="readme-token") as sandbox:
        monkeypatch.setenv("TELNYX_API_KEY", "readme-token")
        monkeypatch.setenv("TELNYX_BASE_URL", sandbox.url)
        namespace: dict[str, Any] = {}
        exec(compile(quickstart_code(), "README.md", "exec"), namespace)
        printed = capsys.readouterr().out.splitlines()
        run, mission = namespace["run"], namespace["mission"]
        client = sandbox.client()
        runs = client.missions.runs
        events = runs.events.list(run.run_id, mission_id=mission.mission_id, page_size=1000).data
        plan = runs.plan.retrieve(run.run_id, mission_id=mission.mission_id).data
    assert str(mission.execution_mode) == "managed"
    assert str(run.status) in ("succeeded", "failed")
    assert printed[0] == "missionlab: connected to " + sandbox.url + " (key from TELNYX_API_KEY)"
    assert len(plan) >= 3 and len(events) >= 2 * len(plan)
    step_lines = [line for line in printed if line.split(" ")[0] in {s.step_id for s in plan}]
    assert len(step_lines) == len(plan)
    event_lines = [f"{e.timestamp} {e.type} {e.summary}" for e in events]
    assert printed[-len(events) :] == event_lines
