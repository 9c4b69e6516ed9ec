"""A step left in progress in a run that has ended is measured to the run's end, not to "now":
the steps frame, fetch_frames, the Gantt and explain() agree (probe-3 #2). A run still going
is measured to now, as before; a run that ended without a ``finished_at`` to its last update."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import missionlab
from missionlab.frames import retimed, steps_frame

from .conftest import unique
from .crafted import T0, at, craft, step

WORK = [
    {"step_id": "s1", "description": "Work", "sequence": 1},
    {"step_id": "s2", "description": "More", "sequence": 2},
]


def _run(client: missionlab.Client, mission_id: str, *, cancel: bool) -> str:
    """A run of the two steps: done, or cancelled while s1 is in progress (the sandbox leaves
    s1 in progress then)."""
    runs, plan = client.missions.runs, client.missions.runs.plan
    run_id = runs.create(mission_id).data.run_id
    plan.create(run_id, mission_id=mission_id, steps=WORK)
    runs.update(run_id, mission_id=mission_id, status="running")
    plan.update_step("s1", run_id=run_id, mission_id=mission_id, status="in_progress")
    if cancel:
        runs.cancel_run(run_id, mission_id=mission_id)
        return run_id
    plan.update_step("s1", run_id=run_id, mission_id=mission_id, status="completed")
    plan.update_step("s2", run_id=run_id, mission_id=mission_id, status="in_progress")
    plan.update_step("s2", run_id=run_id, mission_id=mission_id, status="completed")
    runs.update(run_id, mission_id=mission_id, status="succeeded", result_summary="ok")
    return run_id


def _seconds(later: Any, earlier: Any) -> float:
    return float((later - earlier).total_seconds())


def test_a_step_left_open_by_a_cancelled_run_ends_with_the_run(client: missionlab.Client) -> None:
    mission_id = client.missions.create(name=unique("cancelled-mid-step")).data.mission_id
    for _ in range(3):
        _run(client, mission_id, cancel=False)
    run_id = _run(client, mission_id, cancel=True)
    trace = missionlab.load_run(client, mission_id, run_id)
    assert trace.run.status == "cancelled" and trace.run.finished_at is not None
    started = trace.steps[0].started_at
    lasted = _seconds(trace.run.finished_at, started)  # s1 from its start to the run's end

    work = trace.steps_frame.set_index("step_id").loc["s1"]
    assert work["status"] == "in_progress" and not work["is_running"]
    assert work["duration_s"] == lasted and work["working_s"] == lasted

    fetched = missionlab.fetch_frames(client, mission_id=mission_id, steps=True, progress=False).steps
    assert fetched is not None
    row = fetched[(fetched["run_id"] == run_id) & (fetched["step_id"] == "s1")]
    assert row["duration_s"].tolist() == [lasted] and row["is_running"].tolist() == [False]

    # looked at a day later: nothing grows, no "now" line, no "has been running for"
    day_later = trace.run.finished_at + timedelta(days=1)
    figure = trace.gantt(now=day_later)
    bar = next(t for t in figure.data if t.meta == "bar:in_progress")
    assert abs(bar.x[0] - lasted * 1000) < 1e-6
    assert "(the run's end)" in bar.customdata[0][3]
    assert [s.name for s in figure.layout.shapes] == ["start", "end"]
    explanation = str(trace.explain(now=day_later, baseline=client))
    assert "has been running for" not in explanation and "Step 'Work'" not in explanation
    # the step it was cancelled during is named once, as that: no "still in_progress" error
    assert "The run was cancelled" in explanation and "during 'Work'" in explanation
    assert "open_step_in_finished_run" not in trace.diagnose()["check"].tolist()
    # drawn from a steps frame built without the run, the Gantt still ends the step with it
    bare = steps_frame(trace.steps, events=trace.events_frame, now=day_later)
    assert bare.set_index("step_id").loc["s1", "is_running"]
    again = missionlab.gantt(bare, trace.events_frame, run=trace.run, now=day_later)
    assert abs(next(t for t in again.data if t.meta == "bar:in_progress").x[0] - lasted * 1000) < 1e-6
    assert "now" not in [s.name for s in again.layout.shapes]


def test_a_running_run_is_measured_to_now_and_an_ended_one_without_finished_at_to_its_update() -> None:
    steps = [step("a", 1, 5, sequence=1), step("b", 6, None, "in_progress", sequence=2)]
    running = craft(steps, [], status="running", end=None)
    hour = T0 + timedelta(hours=1)
    frame = steps_frame(running.steps, runs=[running.run], now=hour)
    b = frame.set_index("step_id").loc["b"]
    assert b["is_running"] and b["duration_s"] == 3600 - 6
    assert "now" in [s.name for s in running.gantt(now=hour).layout.shapes]

    failed = craft(steps, [], status="failed", updated=40)
    failed.run.finished_at = None  # the API does not promise one
    frame = steps_frame(failed.steps, runs=[failed.run], now=hour)
    b = frame.set_index("step_id").loc["b"]
    assert not b["is_running"] and b["duration_s"] == 40 - 6 and b["working_s"] == 40 - 6
    # a frame measured while the run went on, measured again once it has ended
    earlier = steps_frame(failed.steps, now=at(20))
    assert earlier.set_index("step_id").loc["b", "duration_s"] == 20 - 6
    ended = retimed(earlier, hour, runs=[failed.run]).set_index("step_id")
    assert not ended.loc["b", "is_running"] and ended.loc["b", "duration_s"] == 40 - 6
    assert ended.loc["a", "duration_s"] == 4


def test_a_history_measures_a_step_left_open_by_a_cancelled_run_to_the_run_s_end(
    client: missionlab.Client, tmp_path: Any
) -> None:
    """History.steps() (and what reads it: step_stats, export_history) ends the step as the
    trace does: at the run's end, not running."""
    mission_id = client.missions.create(name=unique("cancelled-in-history")).data.mission_id
    run_id = _run(client, mission_id, cancel=True)
    done_id = _run(client, mission_id, cancel=False)
    trace = missionlab.load_run(client, mission_id, run_id)
    lasted = _seconds(trace.run.finished_at, trace.steps[0].started_at)

    history = missionlab.history(client, tmp_path / "history")
    history.sync(progress=False)
    steps = history.steps(mission=mission_id)
    work = steps[(steps["run_id"] == run_id) & (steps["step_id"] == "s1")]
    assert work["status"].tolist() == ["in_progress"] and work["is_running"].tolist() == [False]
    assert work["duration_s"].tolist() == [lasted] and work["working_s"].tolist() == [lasted]
    done = steps[(steps["run_id"] == done_id) & (steps["step_id"] == "s2")]
    assert done["is_running"].tolist() == [False]  # a finished step of a finished run, as ever
