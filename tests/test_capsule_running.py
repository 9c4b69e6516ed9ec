"""A capsule saved while its run was running stands at the moment it was saved: what was
then open is measured to its ``saved_at``, not to when it is opened."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import missionlab
from missionlab.analysis.capsule import CapsuleError
from missionlab.figures.time_slider import moments
from missionlab.sandbox import Sandbox
from missionlab.trace import RunTrace

DAYS_AGO = timedelta(days=2)
OPEN_FOR = timedelta(seconds=90)  # how long the running step had run when the capsule was saved
STAMP = re.compile(r"20\d\d-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)")


def _moment(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


@pytest.fixture(scope="module")
def capsule_of_running_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[dict[str, Any], Any]]:
    """A running run with its first step in progress, saved, then every time in the capsule
    moved two days back (the capsule opened two days after it was saved), its ``saved_at``
    set 90 s after the running step started; and a client of the sandbox holding the run."""
    with Sandbox(demo=False) as sandbox, sandbox.client() as client:
        runs = client.missions.runs
        mission = client.missions.create(name="saved while running", execution_mode="external").data
        run_id = runs.create(mission.mission_id).data.run_id
        runs.update(run_id, mission_id=mission.mission_id, status="running")
        runs.plan.create(
            run_id,
            mission_id=mission.mission_id,
            steps=[
                {"step_id": "s1", "description": "one", "sequence": 1},
                {"step_id": "s2", "description": "two", "sequence": 2},
            ],
        )
        runs.plan.update_step("s1", mission_id=mission.mission_id, run_id=run_id, status="in_progress")
        runs.events.log(run_id, mission_id=mission.mission_id, type="tool_call", summary="call", step_id="s1")
        trace = missionlab.load_run(client, mission.mission_id, run_id)
        path = trace.save(tmp_path_factory.mktemp("running") / "running.json")
        text = STAMP.sub(lambda found: _stamp(_moment(found.group(0)) - DAYS_AGO), path.read_text())
        data = json.loads(text)
        started = _moment(next(s for s in data["plan"] if s["step_id"] == "s1")["started_at"])
        data["saved_at"] = _stamp(started + OPEN_FOR)
        yield data, client


def _saved_at(data: dict[str, Any]) -> pd.Timestamp:
    return pd.Timestamp(data["saved_at"])


def test_the_steps_and_the_run_are_measured_to_when_the_capsule_was_saved(
    capsule_of_running_run: Any,
) -> None:
    data, _ = capsule_of_running_run
    trace = missionlab.open_run(data)
    steps = trace.steps_frame.set_index("step_id")
    assert bool(steps.loc["s1", "is_running"])
    assert steps.loc["s1", "duration_s"] == pytest.approx(OPEN_FOR.total_seconds())
    run_started = pd.Timestamp(data["run"]["started_at"])
    expected_run_s = (_saved_at(data) - run_started).total_seconds()
    assert trace.run_frame["duration_s"].iloc[0] == pytest.approx(expected_run_s)
    assert trace.as_of == _saved_at(data).to_pydatetime()


def test_explain_and_diagnose_judge_the_run_at_its_saved_moment(capsule_of_running_run: Any) -> None:
    data, _ = capsule_of_running_run
    trace, twin = missionlab.open_run(data), missionlab.open_run(data)
    at_saved = _saved_at(data).to_pydatetime()
    assert str(trace.explain(baseline=False)) == str(twin.explain(baseline=False, now=at_saved))
    assert "2.0 days" not in str(trace.explain(baseline=False))
    pd.testing.assert_frame_equal(trace.diagnose(), twin.diagnose(now=at_saved))
    # an explicit now still wins: two days later, the run has been running for two days
    later = at_saved + DAYS_AGO
    assert "2.0 days after it started" in str(trace.explain(baseline=False, now=later))


def _bar_end(figure: Any, step_id: str) -> pd.Timestamp:
    """Where the bar of ``step_id`` ends: its base plus its length (milliseconds)."""
    rows = list(figure.layout.meta["rows"])
    bars = [t for t in figure.data if str(t.meta or "").startswith("bar:")]
    for bar in bars:
        for y, base, length in zip(bar.y, bar.base, bar.x, strict=True):
            if rows[int(y)] == step_id:
                return pd.Timestamp(base, tz="UTC") + pd.Timedelta(milliseconds=float(length))
    raise AssertionError(f"no bar for {step_id}")


def test_the_gantt_draws_to_a_saved_line(capsule_of_running_run: Any) -> None:
    data, _ = capsule_of_running_run
    saved = _saved_at(data)
    figure = missionlab.open_run(data).gantt()
    lines = {shape.name: pd.Timestamp(shape.x0, tz="UTC") for shape in figure.layout.shapes if shape.name}
    assert "now" not in lines
    assert lines["saved"] == saved
    assert "saved" in [note.text for note in figure.layout.annotations]
    assert abs(_bar_end(figure, "s1") - saved) < pd.Timedelta(milliseconds=1)
    assert moments(missionlab.open_run(data), 5)[-1] == saved  # a replay ends there too
    # given now=, the line is now's
    later = saved + DAYS_AGO
    given = missionlab.open_run(data).gantt(now=later.to_pydatetime())
    lines = {shape.name: pd.Timestamp(shape.x0, tz="UTC") for shape in given.layout.shapes if shape.name}
    assert lines["now"] == later and "saved" not in lines


def test_saved_again_it_keeps_its_moment_and_a_refresh_makes_it_live(
    capsule_of_running_run: Any, tmp_path: Path
) -> None:
    data, client = capsule_of_running_run
    again = missionlab.open_run(missionlab.open_run(data).save(tmp_path / "again.json"))
    steps = again.steps_frame.set_index("step_id")
    assert steps.loc["s1", "duration_s"] == pytest.approx(OPEN_FOR.total_seconds())
    assert again.as_of == _saved_at(data).to_pydatetime()
    trace: RunTrace = missionlab.open_run(data)
    trace.refresh(client)  # the sandbox's run: its times two days later than the capsule's
    assert trace.as_of is None
    # measured to the clock; to the capsule's saved_at it would be 90 s less two days
    steps = trace.steps_frame.set_index("step_id")
    assert (steps.loc[["s1"], "duration_s"] > 0).all()


def test_a_capsule_of_an_ended_run_is_measured_as_before(capsule_of_running_run: Any) -> None:
    data, _ = capsule_of_running_run
    ended = {**data, "run": {**data["run"], "status": "failed", "finished_at": data["saved_at"]}}
    trace = missionlab.open_run(ended)
    steps = trace.steps_frame.set_index("step_id")  # a step left open ends with its run
    assert steps.loc["s1", "duration_s"] == pytest.approx(OPEN_FOR.total_seconds())
    lines = [shape.name for shape in trace.gantt().layout.shapes]
    assert "saved" not in lines and "now" not in lines


def test_a_saved_at_that_is_not_a_time_is_refused_where_it_is_read(capsule_of_running_run: Any) -> None:
    data, _ = capsule_of_running_run
    with pytest.raises(CapsuleError, match="saved_at: not a time"):
        missionlab.open_run({**data, "saved_at": "yesterday"})
    ended = {**data, "saved_at": "yesterday", "run": {**data["run"], "status": "succeeded"}}
    ended["run"]["finished_at"] = data["saved_at"]
    assert missionlab.open_run(ended).run.status == "succeeded"  # not read: the run had ended
