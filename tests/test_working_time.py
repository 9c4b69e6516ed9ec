"""A step's working time (``working_s``): its duration less the time its run was paused while
it was open (the run's ``status_change`` events); what slow steps, the mission's baseline and
compare's timing measure (probe-2 #3). A step whose end comes before its start has no
working time: diagnose names it and no comparison uses it (probe-2 #11)."""

from __future__ import annotations

import json
from datetime import timedelta
from statistics import median
from typing import Any

import pandas as pd
import pytest

import missionlab
from missionlab.analysis._baseline import baseline_steps, step_baseline
from missionlab.analysis.explain import explain
from missionlab.frames import retimed, step_stats, steps_frame
from missionlab.sandbox import Sandbox

from .crafted import T0, at, craft, event, step

HOUR = 3600


def pause(seconds: float) -> dict[str, Any]:
    return event(seconds, "status_change", None, "Run running -> paused", {"from": "running", "to": "paused"})


def resume(seconds: float) -> dict[str, Any]:
    return event(seconds, "status_change", None, "Run paused -> running", {"from": "paused", "to": "running"})


def paused_search(work: float, *, run_id: str = "run-paused") -> Any:
    """Search starts at 3 s and works ``work`` seconds, the run paused an hour from 5 s."""
    steps = [
        step("plan", 1, 2, sequence=1),
        step("search", 3, 3 + work + HOUR, sequence=2),
        step("book", 4 + work + HOUR, 7 + work + HOUR, sequence=3),
    ]
    return craft(steps, [pause(5), resume(5 + HOUR)], run_id=run_id)


def earlier(count: int = 6) -> list[Any]:
    """Runs never paused: search works 7.0, 7.2, 7.4... s (median 7.5 s of six)."""
    return [
        craft(
            [
                step("plan", 1, 2, sequence=1),
                step("search", 3, 10 + n * 0.2, sequence=2),
                step("book", 11 + n * 0.2, 14 + n * 0.2, sequence=3),
            ],
            run_id=f"run-early-{n}",
        )
        for n in range(count)
    ]


def frame_of(runs: list[Any]) -> pd.DataFrame:
    frame: pd.DataFrame = pd.concat([run.steps_frame for run in runs], ignore_index=True)
    return frame


def test_working_time_leaves_out_the_runs_pauses() -> None:
    steps = paused_search(7).steps_frame
    assert steps["duration_s"].tolist() == [1.0, 7.0 + HOUR, 3.0]  # wall time, as before
    assert steps["working_s"].tolist() == [1.0, 7.0, 3.0]
    twice = craft(
        [step("a", 0, 100, sequence=1), step("b", 100, 130, sequence=2)],
        [pause(10), resume(30), pause(90), resume(110), pause(200)],  # the last after the run's steps
        run_id="run-twice",
    )
    assert twice.steps_frame["working_s"].tolist() == [70.0, 20.0]  # 100 - 20 - 10; 30 - 10
    # a frame of many runs, their events newest first: each run's pauses are its own
    mixed = steps_frame(
        [*paused_search(7).steps, *twice.steps, *earlier(1)[0].steps],
        events=[*paused_search(7).events, *twice.events, *earlier(1)[0].events][::-1],
    )
    assert mixed["working_s"].tolist() == [1.0, 7.0, 3.0, 70.0, 20.0, 1.0, 7.0, 3.0]


def test_a_running_step_stops_working_while_the_run_is_paused() -> None:
    steps = [step("plan", 1, 2, sequence=1), step("search", 3, None, "in_progress", sequence=2)]
    paused = craft(steps, [pause(5)], status="paused", run_id="run-still-paused")
    month = T0 + timedelta(days=30)
    later = retimed(paused.steps_frame, month, events=paused.events_frame)
    assert later["duration_s"].iat[1] == 30 * 86400 - 3 and later["working_s"].iat[1] == 2.0
    resumed = craft(steps, [pause(5), resume(5 + HOUR)], status="running", run_id="run-resumed")
    working = retimed(resumed.steps_frame, at(15 + HOUR), events=resumed.events_frame)["working_s"]
    assert working.iat[1] == 12.0  # 3 to 5 s, then 10 s since it resumed
    baseline = frame_of(earlier())
    found = explain(paused, baseline=baseline, now=month)
    # paused a month: nothing slow, and no "nothing has been heard": someone paused it, and a
    # paused run is silent until they resume it
    assert not found.findings


def test_a_paused_step_is_not_slow_and_slow_work_still_is() -> None:
    runs = earlier()
    quick = paused_search(7)
    assert not explain(quick, baseline=frame_of(runs)).findings
    assert quick.compare(runs[0]).divergence is None
    slow = paused_search(60)
    found = explain(slow, baseline=frame_of(runs)).of_kind("slow_step")
    assert [f.step_id for f in found] == ["search"]
    assert found[0].evidence.values["working_s"] == 60 and found[0].evidence.values["median_s"] == 7.5
    assert found[0].evidence.values["duration_s"] == 60 + HOUR
    assert found[0].text == (
        "Step 'Search' took 60 s (not counting 1.0 h paused), 8.0x its median of 7.5 s in 6 earlier runs."
    )
    divergence = slow.compare(runs[0]).divergence
    assert divergence is not None and (divergence.kind, divergence.step_id) == ("timing", "search")
    assert divergence.this["duration_s"] == 60 and divergence.other["duration_s"] == 7


def test_earlier_runs_paused_in_a_step_do_not_make_it_slow_as_usual() -> None:
    # five earlier runs whose search worked 40 s; three of them were paused an hour in it
    runs = [paused_search(40, run_id=f"run-p{n}") for n in range(3)]
    runs += [craft([step("search", 3, 43, sequence=2)], run_id=f"run-q{n}") for n in range(2)]
    stats = step_baseline(frame_of(runs))
    assert stats.loc["search", "median_s"] == 40 and stats.loc["search", "runs"] == 5
    slow = craft([step("search", 3, 173, sequence=2)], run_id="run-now")
    found = explain(slow, baseline=frame_of(runs)).of_kind("slow_step")
    assert [(f.step_id, f.evidence.values["median_s"]) for f in found] == [("search", 40)]


def test_a_client_baseline_reads_the_pauses_of_its_runs() -> None:
    """Runs paused and resumed through the API: the baseline fetched with a client measures
    each run's step by its working time, computed here from the run's own records."""
    with Sandbox() as sandbox:
        client = sandbox.client()
        mission_id = client.missions.create(name="paused now and then").data.mission_id
        runs = client.missions.runs
        run_ids = []
        for paused in (True, True, True, False):
            run_id = runs.create(mission_id).data.run_id
            runs.update(run_id, mission_id=mission_id, status="running")
            runs.plan.create(
                run_id,
                mission_id=mission_id,
                steps=[{"step_id": "work", "description": "Work", "sequence": 1}],
            )
            runs.plan.update_step("work", mission_id=mission_id, run_id=run_id, status="in_progress")
            if paused:
                runs.pause_run(run_id, mission_id=mission_id)
                runs.resume_run(run_id, mission_id=mission_id)
            runs.plan.update_step("work", mission_id=mission_id, run_id=run_id, status="completed")
            runs.update(run_id, mission_id=mission_id, status="succeeded", result_summary="done")
            run_ids.append(run_id)
        expected = {}
        for run_id in run_ids[:3]:
            work = runs.plan.retrieve(run_id, mission_id=mission_id).data[0]
            changes = runs.events.list(run_id, mission_id=mission_id, type="status_change").data
            paused_at = next(e.timestamp for e in changes if e.payload == {"from": "running", "to": "paused"})
            resumed_at = next(
                e.timestamp for e in changes if e.payload == {"from": "paused", "to": "running"}
            )
            started, completed = work.started_at, work.completed_at
            assert started is not None and completed is not None
            assert started < paused_at < resumed_at < completed
            wall = completed - started
            expected[run_id] = (wall - (resumed_at - paused_at)).total_seconds()
        trace = missionlab.load_run(client, mission_id, run_ids[3])
        earlier_steps = baseline_steps(trace, client)
        assert earlier_steps is not None
        got = dict(zip(earlier_steps["run_id"], earlier_steps["working_s"], strict=True))
        assert got == pytest.approx(expected, abs=1e-6)
        assert step_baseline(earlier_steps).loc["work", "median_s"] == pytest.approx(
            median(expected.values())
        )


def inverted() -> list[Any]:
    """Step 'a' ends a second before it starts: in its plan entry, and by its events."""
    by_plan = craft([step("a", 5, 4, sequence=1), step("b", 6, 8, sequence=2)], run_id="run-plan-skew")
    marks = [
        event(5, "step_started", "a", event_id="a-start"),
        event(4, "step_completed", "a", event_id="a-end"),
        event(6, "step_started", "b"),
        event(8, "step_completed", "b"),
    ]
    by_events = craft(
        [step("a", None, None, sequence=1), step("b", None, None, sequence=2)],
        marks,
        run_id="run-event-skew",
        with_step_events=False,
        end=9,
    )
    return [by_plan, by_events]


def test_a_step_that_ends_before_it_starts_is_named_and_never_measured() -> None:
    for trace, told in zip(inverted(), ["the plan gives", "its events give"], strict=True):
        steps = trace.steps_frame
        assert steps["duration_s"].tolist() == [-1.0, 2.0]  # the record, as it is
        assert steps["working_s"].isna().tolist() == [True, False]
        found = trace.diagnose()
        found = found[found["severity"] != "info"]  # times read from events, no result summary
        assert found[["severity", "check", "step_id"]].values.tolist() == [
            ["warning", "ends_before_start", "a"]
        ]
        assert found["message"].iat[0] == (
            "Step 'a' ends before it starts: its end (2026-11-01 10:00:04.000 UTC) is 1.0 s before its "
            f"start (2026-11-01 10:00:05.000 UTC), as {told} them; its duration is unknown."
        )
        [finding] = explain(trace)
        assert finding.kind == "inconsistency" and finding.evidence.steps == ("a",)
        assert (finding.evidence.start, finding.evidence.end) == (pd.Timestamp(at(5)), pd.Timestamp(at(4)))
    [by_events] = explain(inverted()[1])
    assert by_events.evidence.events == ("a-end", "a-start")  # in time order


def test_an_inverted_step_goes_into_no_baseline_or_comparison() -> None:
    usual = [
        craft([step("a", 5, 9, sequence=1), step("b", 10, 12, sequence=2)], run_id=f"r{n}") for n in range(3)
    ]
    skewed = inverted()[0]
    stats = step_baseline(frame_of([*usual, skewed]))
    assert stats.loc["a", "median_s"] == 4 and stats.loc["a", "runs"] == 3  # the -1 s is no sample
    fleet = missionlab.frames.step_stats(frame_of([*usual, skewed])).set_index("step_id")
    assert fleet.loc["a", "median_s"] == 4 and fleet.loc["a", "max_s"] == 4
    assert skewed.compare(usual[0]).divergence is None  # not "far less than the 4.0 s of run r0"


def test_the_gantt_says_an_inverted_steps_duration_is_unknown() -> None:
    for trace in inverted():
        figure = json.loads(trace.gantt().to_json())
        hovers = [row for bar in figure["data"] if bar["type"] == "bar" for row in bar["customdata"]]
        assert [row[4] for row in hovers if row[0] == "A"] == ["unknown: its end is 1.0 s before its start"]
        assert [row[4] for row in hovers if row[0] == "B"] == ["2.0 s"]


def test_a_history_measures_working_time_as_fetch_frames_does(tmp_path: Any) -> None:
    """Runs paused an hour inside 'search' loaded into the sandbox: the history's steps, its
    step statistics and a History baseline measure search's work, not the hour paused."""
    import numpy as np

    mission = "44444444-4444-4444-8444-444444444444"
    works = [7.0, 7.5, 8.0, 6.5, 7.2, 9.0]  # seconds search worked in each earlier run
    traces = [
        paused_search(work, run_id=f"00000000-0000-4000-8000-0000000001{n:02d}")
        for n, work in enumerate(works)
    ]
    # the run to explain: never paused, search works 60 s
    slow = craft(
        [step("plan", 1, 2, sequence=1), step("search", 3, 63, sequence=2), step("book", 64, 67, sequence=3)],
        run_id="00000000-0000-4000-8000-000000000199",
        start=0.5,
    )
    paths = []
    for number, trace in enumerate([*traces, slow]):
        trace.run.mission_id = mission
        trace.mission.mission_id = mission
        for model in [*trace.steps, *trace.events]:
            model.run_id = trace.run.run_id
        paths.append(trace.save(tmp_path / f"run{number}.json"))
    with Sandbox(load=paths) as sandbox, sandbox.client() as client:
        h = missionlab.history(client, tmp_path / "history")
        h.sync(progress=False)
        steps = h.steps(mission=mission)
        fetched = missionlab.fetch_frames(client, steps=True, progress=False).steps
        assert fetched is not None
        search = steps[steps["step_id"] == "search"].sort_values("run_id")
        assert search["working_s"].tolist() == pytest.approx([*works, 60.0])
        assert search["duration_s"].tolist() == pytest.approx([w + HOUR for w in works] + [60.0])
        by_step = fetched[fetched["step_id"] == "search"].sort_values("run_id")
        assert by_step["working_s"].tolist() == pytest.approx(search["working_s"].tolist())

        all_works = [*works, 60.0]
        stats = h.step_stats(mission=mission).set_index("step_id")
        assert stats.loc["search", "median_s"] == pytest.approx(median(all_works))
        assert stats.loc["search", "p95_s"] == pytest.approx(float(np.quantile(all_works, 0.95)))
        assert stats.loc["search", "max_s"] == pytest.approx(60.0)
        assert stats.loc["plan", "median_s"] == pytest.approx(1.0)  # never paused: its wall time
        frame_stats = step_stats(fetched).set_index("step_id")
        assert frame_stats.loc["search", "median_s"] == pytest.approx(median(all_works))
        assert frame_stats.loc["search", "p95_s"] == pytest.approx(stats.loc["search", "p95_s"])

        trace = missionlab.load_run(client, mission, slow.run.run_id)
        for baseline in (h, client, fetched):
            found = explain(trace, baseline=baseline).of_kind("slow_step")
            assert [(f.step_id, f.evidence.values["median_s"]) for f in found] == [
                ("search", pytest.approx(median(works)))
            ], type(baseline).__name__
