"""The grid (missionlab.grid): runs by plan step, on crafted runs whose every cell is known, and
from the three sources (traces, a client of the sandbox, a synced history) alike."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import missionlab
from missionlab.analysis._attempts import tool_calls
from missionlab.analysis._drift import plan_drift
from missionlab.figures.grid import failed_attempts, grid_data
from missionlab.sandbox import Sandbox
from missionlab.trace import RunTrace
from tests.conftest import unique
from tests.crafted import craft, event, step

VERMILLION = (213, 94, 0)  # the Okabe-Ito color of a failure: what a failed cell must show


def call(seconds: float, step_id: str, request: str, tool: str = "crm.lookup") -> dict[str, Any]:
    return event(seconds, "tool_call", step_id, f"Calling {tool}", {"tool": tool, "request_id": request})


def result(
    seconds: float, step_id: str, request: str, *, ok: bool, tool: str = "crm.lookup"
) -> dict[str, Any]:
    payload = {"tool": tool, "request_id": request, "ok": ok}
    return event(seconds, "tool_result", step_id, f"{tool} answered", payload)


def fleet() -> list[RunTrace]:
    """Four runs of one mission, each an hour after the last (the newest last):

    - r1: plan a, b, c, all completed; b's tool failed twice, then answered;
    - r2: a, x, b, c: x (numbered 4, planned last) was added and ran before b; c failed;
    - r3: a, c only (no b in its plan); a's call got an ``error`` event instead of a result;
    - r4: a, b, c, d: b skipped, d still pending; a run still going.
    """
    hour = 3600
    r1 = craft(
        [
            step("a", 0, 10, sequence=1),
            step("b", 11, 40, sequence=2, description="Look the <b>customer</b> up"),
            step("c", 41, 50, sequence=3),
        ],
        [
            call(12, "b", "q1"),
            result(13, "b", "q1", ok=False),
            call(14, "b", "q2"),
            result(15, "b", "q2", ok=False),
            call(16, "b", "q3"),
            result(17, "b", "q3", ok=True),
        ],
        run_id="r1",
        mission_id="m1",
    )
    r2 = craft(
        [
            step("a", hour, hour + 10, sequence=1),
            step("b", hour + 21, hour + 30, sequence=2, description="Look the <b>customer</b> up"),
            step("c", hour + 31, hour + 40, "failed", sequence=3),
            step("x", hour + 11, hour + 20, sequence=4, description="Extra check"),
        ],
        start=hour,
        status="failed",
        run_id="r2",
        mission_id="m1",
    )
    r3 = craft(
        [step("a", 2 * hour, 2 * hour + 10, sequence=1), step("c", 2 * hour + 11, 2 * hour + 20, sequence=2)],
        [call(2 * hour + 1, "a", "q9"), event(2 * hour + 2, "error", "a", "crm.lookup timed out")],
        start=2 * hour,
        run_id="r3",
        mission_id="m1",
    )
    r4 = craft(
        [
            step("a", 3 * hour, 3 * hour + 10, sequence=1),
            step("b", None, None, "skipped", sequence=2, description="Look the <b>customer</b> up"),
            step("c", 3 * hour + 11, None, "in_progress", sequence=3),
            step("d", None, None, "pending", sequence=4),
        ],
        start=3 * hour,
        status="running",
        run_id="r4",
        mission_id="m1",
    )
    return [r2, r4, r1, r3]  # in no particular order: the grid orders them by start


EXPECTED = pd.DataFrame(  # step (row) by run (column), as crafted above
    {
        "r1": ["completed", "completed", "completed", None, None],
        "r2": ["completed", "completed", "failed", "completed", None],
        "r3": ["completed", None, "completed", None, None],
        "r4": ["completed", "skipped", "in_progress", None, "pending"],
    },
    index=["a", "b", "c", "x", "d"],
    dtype=object,
)


def heatmap(figure: Any) -> Any:
    return next(t for t in figure.data if t.meta == "grid:cells")


def test_cells_are_the_runs_step_statuses_aligned_by_step_id() -> None:
    data = grid_data(fleet())
    assert list(data.runs["run_id"]) == ["r1", "r2", "r3", "r4"]  # oldest first
    # x, in r2's plan only (numbered after c), sits after c, before d of the newest plan; b
    # missing from r3's plan is a hole in r3's column, not a shift of c
    assert data.steps == ["a", "b", "c", "x", "d"]
    expected = EXPECTED.astype(object).where(EXPECTED.notna(), np.nan)
    pd.testing.assert_frame_equal(
        data.statuses().rename_axis(index=None, columns=None), expected, check_dtype=False
    )
    figure = missionlab.grid(fleet())
    cells = heatmap(figure)
    assert figure.layout.meta["runs"] == ["r1", "r2", "r3", "r4"]
    assert figure.layout.meta["steps"] == ["run", "a", "b", "c", "x", "d"]
    z = np.array(cells.z, dtype="float64")
    drawn = ~np.isnan(z[1:])
    assert (drawn == EXPECTED.notna().to_numpy()).all()  # a cell exactly where the plan has the step
    statuses: np.ndarray[Any, Any] = np.array(cells.customdata)[1:, :, 4]
    assert (np.where(drawn, statuses, np.array(None)) == EXPECTED.to_numpy()).all()
    assert list(np.array(cells.customdata)[0, :, 2]) == ["succeeded", "failed", "succeeded", "running"]
    # every cell's hover names its run, the column's
    assert (np.array(cells.customdata)[..., 0] == np.array(["r1", "r2", "r3", "r4"])[None, :]).all()
    assert "run %{customdata[0]}" in cells.hovertemplate


def test_a_failed_cell_is_drawn_in_the_failure_color_at_full_strength() -> None:
    figure = missionlab.grid(fleet())
    cells = heatmap(figure)
    row, column = figure.layout.meta["steps"].index("c"), figure.layout.meta["runs"].index("r2")
    value = np.array(cells.z, dtype="float64")[row, column]
    scale = [(float(p), str(c)) for p, c in cells.colorscale]
    position = (value - cells.zmin) / (cells.zmax - cells.zmin)
    below = max((p, c) for p, c in scale if p <= position)
    above = min((p, c) for p, c in scale if p >= position)
    # the cell's value sits between two stops of its band where its color is opaque
    for _, color in (below, above):
        assert color == f"rgba({VERMILLION[0]}, {VERMILLION[1]}, {VERMILLION[2]}, 1)"
    legend = next(t for t in figure.data if t.meta == "legend:failed")
    assert legend.marker.color.lower() == "#d55e00"


def test_failed_attempts_and_drift_equal_the_analysis_run_by_run() -> None:
    traces = fleet()
    data = grid_data(traces)
    cells = data.cells.set_index(["run_id", "step_id"])
    # known answers: b of r1 failed twice, a of r3 once (an error, no result); x of r2 added
    assert cells.loc[("r1", "b"), "failed_attempts"] == 2
    assert cells.loc[("r3", "a"), "failed_attempts"] == 1
    assert cells.loc[("r2", "x"), "drift"] == "added"
    assert cells.loc[("r4", "b"), "drift"] == "skipped"
    # another way: the analysis on each run alone
    for trace in traces:
        run_id = trace.run.run_id
        calls = tool_calls(trace.events_frame, arguments=False)
        per_step = calls[calls["failed"]].groupby("step_id").size()
        drift = plan_drift(trace.steps_frame).set_index("step_id")["drift"]
        for step_id in trace.steps_frame["step_id"]:
            assert cells.loc[(run_id, step_id), "failed_attempts"] == per_step.get(step_id, 0)
            wanted, got = drift[step_id], cells.loc[(run_id, step_id), "drift"]
            assert (None if pd.isna(got) else got) == (None if pd.isna(wanted) else wanted)
    figure = missionlab.grid(traces)
    text = np.array(heatmap(figure).text)
    steps, runs = figure.layout.meta["steps"], figure.layout.meta["runs"]
    assert text[steps.index("b"), runs.index("r1")] == "2"
    assert (text != "").sum() == 2  # no count where no attempt failed
    # a star on each added cell: x of r2, and c of r4, which the analysis takes as added too
    # (it started while b, numbered before it, never did: see analysis/_drift.py)
    added = next(t for t in figure.data if t.meta == "drift:added")
    marked = {(runs[round(x)], steps[round(y)]) for x, y in zip(added.x, added.y, strict=True)}
    assert marked == set(
        data.cells.loc[data.cells["drift"] == "added", ["run_id", "step_id"]].itertuples(
            index=False, name=None
        )
    )
    assert marked == {("r2", "x"), ("r4", "c")}


def test_failed_attempts_of_many_runs_keep_runs_apart() -> None:
    """Two runs with the same step id and the same call ids: one pass over both runs' events
    counts each run's failures as the run alone does."""
    failing = craft(
        [step("s", 0, 10, sequence=1)],
        [call(1, "s", "q1"), result(2, "s", "q1", ok=False), call(3, "s", "q2")],
        run_id="one",
    )
    answering = craft(
        [step("s", 0, 10, sequence=1)],
        [call(1.5, "s", "q1"), result(2.5, "s", "q1", ok=True), result(3.5, "s", "q2", ok=True)],
        run_id="two",
    )
    both = pd.concat([failing.events_frame, answering.events_frame], ignore_index=True)
    counts = failed_attempts(both).to_dict()
    alone = {
        (t.run.run_id, s): n
        for t in (failing, answering)
        for s, n in tool_calls(t.events_frame).query("failed").groupby("step_id").size().items()
    }
    assert counts == alone == {("one", "s"): 1}


def test_last_keeps_the_newest_runs_and_mission_chooses_among_traces() -> None:
    data = grid_data(fleet(), last=2)
    assert list(data.runs["run_id"]) == ["r3", "r4"]
    assert data.steps == ["a", "b", "c", "d"]  # x was r2's only
    other = craft([step("z", 0, 1, sequence=1)], run_id="o1", mission_id="m2", mission_name="Other")
    assert list(grid_data([*fleet(), other], mission="Other").runs["run_id"]) == ["o1"]
    assert list(grid_data([*fleet(), other], mission="m1").runs["run_id"]) == ["r1", "r2", "r3", "r4"]


@pytest.mark.parametrize(
    ("source", "kwargs", "message"),
    [
        ("fleet", {"last": 0}, "`last`"),
        ("fleet", {"last": "5"}, "`last`"),
        ("fleet", {"last": True}, "`last`"),
        (42, {}, "not a int"),
        ([object()], {}, "not a run trace"),
        ("two missions", {}, "runs of 2 missions"),
        ("twice", {}, "the same run is given twice"),
    ],
)
def test_bad_input_is_a_clear_error(source: Any, kwargs: dict[str, Any], message: str) -> None:
    other = craft([step("z", 0, 1, sequence=1)], run_id="o1", mission_id="m2")
    sources = {"fleet": fleet(), "two missions": [*fleet(), other], "twice": [*fleet(), fleet()[0]]}
    with pytest.raises(missionlab.InvalidArgumentError, match=message):
        missionlab.grid(sources.get(source, source) if isinstance(source, str) else source, **kwargs)


def test_server_strings_are_escaped() -> None:
    figure = missionlab.grid(fleet())
    ticks = list(figure.layout.yaxis.ticktext)
    assert any("Look the &lt;b&gt;customer&lt;/b&gt; up" in t for t in ticks)
    assert not any("<b>customer" in t for t in ticks)
    hover = np.array(heatmap(figure).customdata)[..., 3]
    assert "<b>customer" not in "".join(hover.ravel().tolist())


def test_no_runs_gives_an_empty_grid() -> None:
    figure = missionlab.grid([])
    assert figure.layout.meta["runs"] == [] and figure.layout.meta["steps"] == ["run"]


# -- from the sandbox: a client and a synced history give the same grid ----------------------


def crafted_mission(client: missionlab.Client) -> tuple[str, dict[str, dict[str, str]]]:
    """A mission with three runs whose plans differ (ids in creation order) and the status
    each run's steps were given."""
    mission = client.missions.create(name=unique("grid"), execution_mode="external").data
    wanted = {
        0: {"a": "completed", "b": "failed"},
        1: {"a": "completed", "n": "completed", "b": "completed"},
        2: {"a": "failed"},
    }
    given: dict[str, dict[str, str]] = {}
    for plan in wanted.values():
        run = client.missions.runs.create(mission.mission_id).data
        steps = [{"step_id": s, "description": f"Step {s}", "sequence": i} for i, s in enumerate(plan, 1)]
        client.missions.runs.plan.create(run.run_id, mission_id=mission.mission_id, steps=steps)
        for step_id, status in plan.items():
            for now in ("in_progress", status):
                client.missions.runs.plan.update_step(
                    step_id, mission_id=mission.mission_id, run_id=run.run_id, status=now
                )
        calls = [("tool_call", "Calling crm.lookup", {}), ("tool_result", "crm.lookup failed", {"ok": False})]
        for kind, summary, extra in calls if "failed" in plan.values() else []:
            payload = {"tool": "crm.lookup", "request_id": "q1", **extra}
            client.missions.runs.events.log(
                run.run_id,
                mission_id=mission.mission_id,
                type=kind,
                summary=summary,
                step_id="a",
                payload=payload,
            )
        given[run.run_id] = plan
    return mission.mission_id, given


def test_from_a_client_and_from_a_history(sandbox: Sandbox, tmp_path: Path) -> None:
    client = sandbox.client()
    mission_id, given = crafted_mission(client)
    by_client = grid_data(client, mission=mission_id)
    assert list(by_client.runs["run_id"]) == list(given)  # oldest first
    assert by_client.steps == ["a", "n", "b"]
    statuses = by_client.statuses()
    for run_id, plan in given.items():
        assert {s: v for s, v in statuses[run_id].items() if isinstance(v, str)} == plan
    failed = by_client.cells.set_index(["run_id", "step_id"])["failed_attempts"]
    runs = list(given)
    assert failed[(runs[0], "a")] == 1 and failed[(runs[2], "a")] == 1 and failed[(runs[1], "a")] == 0
    name = client.missions.retrieve(mission_id).data.name
    assert list(grid_data(client, mission=name, last=2).runs["run_id"]) == runs[1:]
    history = missionlab.history(client, tmp_path / "history")
    history.sync(progress=False)
    by_history = grid_data(history, mission=mission_id)
    assert by_history.steps == by_client.steps
    pd.testing.assert_frame_equal(by_history.statuses(), statuses)
    assert by_history.cells["failed_attempts"].tolist() == by_client.cells["failed_attempts"].tolist()


def test_a_client_needs_a_known_mission(sandbox: Sandbox) -> None:
    client = sandbox.client()
    with pytest.raises(missionlab.InvalidArgumentError, match="neither the name nor the id"):
        missionlab.grid(client, mission="no such mission")
    with pytest.raises(missionlab.InvalidArgumentError, match="`mission`"):
        missionlab.grid(client)
