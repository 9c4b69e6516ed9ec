"""A run stored as ended while a step of its plan was still in progress (its agent closes the
step just after the run): a plain later sync stores the plan as the server holds it now,
also when the run is no longer on the newest page of runs. A run the history holds as
active, or as ended with a step in progress, that is deleted on the server stays as it was."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

import missionlab
from missionlab import history
from missionlab.sandbox import Sandbox


@pytest.fixture
def api() -> Iterator[missionlab.Client]:
    with Sandbox(token="late-steps-token") as sb, sb.client() as client:
        yield client


def ended_with_open_steps(client: missionlab.Client, mission_id: str, steps: list[str]) -> str:
    """A run marked succeeded while ``steps`` (the last of its plan) are still in progress."""
    runs = client.missions.runs
    run_id = runs.create(mission_id).data.run_id
    runs.update(run_id, mission_id=mission_id, status="running")
    plan = [{"step_id": "s1", "description": "S1", "sequence": 1}]
    plan += [{"step_id": s, "description": s.upper(), "sequence": n} for n, s in enumerate(steps, start=2)]
    runs.plan.create(run_id, mission_id=mission_id, steps=plan)
    for step in ("s1", *steps):
        runs.plan.update_step(step, mission_id=mission_id, run_id=run_id, status="in_progress")
    runs.plan.update_step("s1", mission_id=mission_id, run_id=run_id, status="completed")
    runs.update(run_id, mission_id=mission_id, status="succeeded", result_summary="ok")
    return run_id


def test_a_step_closed_after_its_run_ended_is_stored_by_a_plain_sync(
    api: missionlab.Client, tmp_path: Path
) -> None:
    mission_id = api.missions.create(name="late steps").data.mission_id
    late = ended_with_open_steps(api, mission_id, ["s2"])
    stuck = ended_with_open_steps(api, mission_id, ["s2"])  # its step is never closed
    for _ in range(30):  # newer runs: the two are no longer on the newest page
        api.missions.runs.create(mission_id)
    h = history(api, tmp_path / "h")
    h.sync(progress=False)
    assert set(h.steps(run=late)["status"].astype(str)) == {"completed", "in_progress"}
    closed = api.missions.runs.plan.update_step("s2", mission_id=mission_id, run_id=late, status="completed")
    report = h.sync(progress=False)
    assert report.changed_runs == 1  # the late run; the stuck one's plan is as stored
    steps = h.steps(run=late).set_index("step_id")
    assert steps["status"].astype(str).to_dict() == {"s1": "completed", "s2": "completed"}
    assert steps.loc["s2", "completed_at"] == closed.data.completed_at
    assert h.steps(run=stuck).set_index("step_id").loc["s2", "status"] == "in_progress"
    again = h.sync(progress=False)
    assert again.changed_runs == 0
    api.missions.delete_mission(mission_id)  # deleted with its runs: they stay as they were
    h.sync(progress=False)
    assert h.steps(run=stuck).set_index("step_id").loc["s2", "status"] == "in_progress"


def test_a_run_deleted_while_the_history_holds_it_active_stays_as_it_was(
    api: missionlab.Client, tmp_path: Path
) -> None:
    gone, kept = (api.missions.create(name=name).data.mission_id for name in ("gone", "kept"))
    pending = api.missions.runs.create(gone).data.run_id
    api.missions.runs.create(kept)
    h = history(api, tmp_path / "h")
    h.sync(progress=False)
    api.missions.delete_mission(gone)
    fresh = api.missions.runs.create(kept).data.run_id
    report = h.sync(progress=False)  # the run it held active is not found: not an error
    assert report.new_runs == 1
    runs = h.runs().set_index("run_id")
    assert runs.loc[pending, "status"] == "pending" and fresh in runs.index and len(runs) == 3
