"""Every data-layer view over hosted-shaped answers (tests/data/hosted, written by hand from
the published document): no status_change events, steps without times, events without a
step, statuses and event types missionlab does not know, a 250-deep payload."""

from __future__ import annotations

import json
import warnings
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cached_property
from pathlib import Path
from typing import Any

import pandas as pd
import plotly.graph_objects as go
import pytest

import missionlab
from missionlab import frames
from missionlab.analysis.diagnosis import diagnose
from missionlab.figures import charts, timeline
from missionlab.figures._figure import UNKNOWN_COLOR
from missionlab.figures._gantt import UNKNOWN_SYMBOL
from missionlab.figures._gantt_layout import NO_PAUSES, PAUSED_ASSUMED
from missionlab.trace import RunTrace

from .gantt_helpers import assert_same_points

HOSTED = Path(__file__).parent / "data" / "hosted"
NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
RUN_ID = "9b2d4e61-0a7c-4f3e-8c5d-1e2f3a4b5c6d"


def answer(name: str) -> Any:
    return json.loads((HOSTED / name).read_text())["data"]


def deep(levels: int) -> dict[str, Any]:
    root: dict[str, Any] = {}
    node = root
    for _ in range(levels):
        node["next"] = {}
        node = node["next"]
    node["end"] = "<b>bottom</b>"
    return root


@pytest.fixture
def events() -> pd.DataFrame:
    return frames.events_frame(answer("events.json"))


def test_runs_frame_keeps_an_unknown_status_after_the_documented_ones() -> None:
    runs = frames.runs_frame(answer("runs_page.json"), now=NOW)
    assert list(runs.columns) == frames.RUN_COLUMNS
    assert list(runs["status"].cat.categories) == [*frames.RUN_STATUS.categories, "queued"]
    assert runs["status"].astype(str).tolist() == ["queued", "running", "failed"]
    queued, running, failed = (runs.iloc[i] for i in range(3))
    assert not queued["is_running"] and pd.isna(queued["duration_s"])  # not known to be running
    assert running["is_running"] and running["duration_s"] == 2.5 * 3600
    assert failed["duration_s"] == 250.0 and not failed["is_running"]
    assert json.loads(queued["input"]) == {"ticket": "T-4411"}
    counts = frames.outcomes_over_time(runs)
    assert list(counts.columns)[-1] == "queued" and counts["queued"].sum() == 1


def test_events_frame_keeps_an_unknown_type_and_events_without_a_step(events: pd.DataFrame) -> None:
    assert list(events.columns) == frames.EVENT_COLUMNS
    assert list(events["type"].cat.categories) == [*frames.EVENT_TYPE.categories, "llm_call"]
    assert events["type"].astype(str).tolist().count("llm_call") == 1
    assert events["event_id"].tolist() == [f"evt_{i:04d}" for i in range(1, 17)]
    assert events["step_id"].isna().sum() == 2 and events["agent_id"].isna().sum() == 1
    assert json.loads(events.set_index("event_id")["payload"].loc["evt_0011"])["status"] == 502


def test_steps_frame_takes_missing_times_from_step_events(events: pd.DataFrame) -> None:
    steps = frames.steps_frame(answer("plan.json"), events=events, now=NOW)
    assert list(steps.columns) == frames.STEP_COLUMNS
    by_id = steps.set_index("step_id")
    assert by_id["times_from"].astype(object).where(by_id["times_from"].notna(), None).to_dict() == {
        "classify": "plan",
        "account": "events",
        "search": "events",
        "search.index": None,
        "draft": None,
        "escalate": None,
    }
    assert by_id.loc["account", "started_at"] == pd.Timestamp("2026-11-20T09:00:25Z")
    assert by_id.loc["account", "completed_at"] == pd.Timestamp("2026-11-20T09:01:12Z")
    assert by_id.loc["search", "duration_s"] == 156.0  # 09:01:15 to its step_failed at 09:03:51
    assert list(steps["status"].cat.categories) == [*frames.STEP_STATUS.categories, "blocked"]
    assert by_id.loc["search.index", "depth"] == 1 and by_id.loc["search.index", "status"] == "blocked"
    without_events = frames.steps_frame(answer("plan.json"), now=NOW).set_index("step_id")
    assert pd.isna(without_events["started_at"].loc["account"])
    assert without_events.loc["classify", "times_from"] == "plan"


def test_step_times_from_events_take_the_first_start_and_the_last_end() -> None:
    def event(n: int, kind: str, at: str | None) -> dict[str, Any]:
        return {
            "event_id": f"e{n}",
            "run_id": "r1",
            "step_id": "s1",
            "type": kind,
            "summary": kind,
            "timestamp": at,
        }

    events = frames.events_frame(
        [
            event(1, "step_started", "2026-11-20T09:00:10Z"),
            event(2, "step_completed", "2026-11-20T09:00:30Z"),
            event(3, "step_started", "2026-11-20T09:00:05Z"),  # retried, logged out of order
            event(4, "step_completed", "2026-11-20T09:00:50Z"),
            event(5, "step_started", None),  # no time: not a mark
            {**event(6, "step_started", None), "step_id": "s2"},  # s2's only mark has no time
        ]
    )
    plan = [
        {"run_id": "r1", "step_id": step_id, "sequence": n, "description": step_id, "status": "completed"}
        for n, step_id in enumerate(["s1", "s2"])
    ]
    step, untimed = (row for _, row in frames.steps_frame(plan, events=events, now=NOW).iterrows())
    assert step["started_at"] == pd.Timestamp("2026-11-20T09:00:05Z")
    assert step["completed_at"] == pd.Timestamp("2026-11-20T09:00:50Z")
    assert step["times_from"] == "events" and step["duration_s"] == 45.0
    assert pd.isna(untimed["started_at"]) and pd.isna(untimed["times_from"])  # not "events"


def test_step_times_from_events_are_those_of_the_step_in_its_own_run() -> None:
    """Two runs' plans name the same step; only r2's entry lacks times, and it takes them from
    r2's marks, never from r1's (nor does r1's timed entry change)."""
    marks = [
        ("r1", "step_started", "2026-11-20T09:00:00Z"),
        ("r1", "step_completed", "2026-11-20T09:00:10Z"),
        ("r2", "step_started", "2026-11-20T10:00:00Z"),
        ("r2", "step_completed", "2026-11-20T10:00:20Z"),
        ("r2", "tool_call", "2026-11-20T10:00:01Z"),
    ]
    events = frames.events_frame(
        [
            {"event_id": f"e{n}", "run_id": run, "step_id": "fetch", "type": kind, "timestamp": at}
            for n, (run, kind, at) in enumerate(marks)
        ]
    )
    plan = [
        {
            "run_id": "r1",
            "step_id": "fetch",
            "sequence": 0,
            "status": "completed",
            "started_at": "2026-11-20T09:00:02Z",
            "completed_at": "2026-11-20T09:00:05Z",
        },
        {"run_id": "r2", "step_id": "fetch", "sequence": 0, "status": "completed"},
        {"run_id": "r2", "step_id": "other", "sequence": 1, "status": "completed"},
    ]
    steps = frames.steps_frame(plan, events=events, now=NOW)
    assert steps[["run_id", "step_id"]].values.tolist() == [["r1", "fetch"], ["r2", "fetch"], ["r2", "other"]]
    assert steps["duration_s"].iloc[:2].tolist() == [3.0, 20.0] and pd.isna(steps["duration_s"].iloc[2])
    assert steps["started_at"].iloc[1] == pd.Timestamp("2026-11-20T10:00:00Z")
    assert steps["times_from"].astype(object).tolist()[:2] == ["plan", "events"]
    assert pd.isna(steps["times_from"].iloc[2])


def test_deep_payloads_are_text_at_any_depth() -> None:
    for levels in (250, 5000):
        event = {**answer("events.json")[0], "payload": deep(levels)}
        text = frames.events_frame([event])["payload"].iloc[0]
        assert text.count('{"next":') == levels
        assert text.endswith('"end":"<b>bottom</b>"' + "}" * (levels + 1))
        flat = frames.events_frame([event], flatten=True)
        # the first 16 levels become a column's name; what is deeper, its JSON text
        column = "payload" + ".next" * 16
        assert set(flat.columns) - set(frames.EVENT_COLUMNS) == {column}
        rest = flat[column].iloc[0]
        assert text == '{"next":' * 16 + rest + "}" * 16 and rest.count('{"next":') == levels - 16


@dataclass
class HostedRun:
    """A hosted run as plain JSON dicts: what every view accepts as a run (``RunLike``)."""

    run: dict[str, Any]
    mission: dict[str, Any]
    plan: list[dict[str, Any]]
    events: list[dict[str, Any]]

    @cached_property
    def events_frame(self) -> pd.DataFrame:
        return frames.events_frame(self.events)

    @cached_property
    def steps_frame(self) -> pd.DataFrame:
        return frames.steps_frame(self.plan, events=self.events_frame, now=NOW)


def hosted(**run: Any) -> HostedRun:
    return HostedRun(
        {**answer("run.json"), **run}, answer("mission.json"), answer("plan.json"), answer("events.json")
    )


def by_meta(figure: go.Figure) -> dict[str, Any]:
    return {t.meta: t for t in figure.data}


def rows_of(figure: go.Figure, trace: Any) -> list[str]:
    return [figure.layout.meta["rows"][int(y)] for y in trace.y]


def test_gantt_of_a_hosted_run() -> None:
    figure = timeline.gantt(hosted(), now=NOW)
    traces = by_meta(figure)
    assert list(traces) == [
        "bar:completed",
        "bar:failed",
        "attempt:failed",  # kb.search failed twice inside the search step
        "mark:pending",
        "mark:skipped",
        "mark:blocked",  # an unknown status, after the documented ones
        *(f"event:{t}" for t in ["step_started", "step_completed", "step_failed", "tool_call"]),
        *(f"event:{t}" for t in ["tool_result", "message", "error", "llm_call"]),
    ]
    completed, failed = traces["bar:completed"], traces["bar:failed"]
    assert rows_of(figure, completed) == ["classify", "account"] and rows_of(figure, failed) == ["search"]
    # the account and search steps have no times in the plan: read from their step events
    assert list(completed.base) == ["2026-11-20T09:00:05", "2026-11-20T09:00:25"]
    assert list(completed.x) == [15_000, 47_000] and list(failed.x) == [156_000]
    classify, account = completed.customdata
    assert (classify[2], classify[3]) == ("2026-11-20 09:00:05", "2026-11-20 09:00:20")
    assert account[2] == "2026-11-20 09:00:25 (from events)"
    assert account[3] == "2026-11-20 09:01:12 (from events)"
    assert "kb.search" in failed.customdata[0][5]  # its metadata
    attempts = traces["attempt:failed"]
    assert rows_of(figure, attempts) == ["search", "search"]
    assert [text[0] for text in attempts.customdata] == [
        "attempt 1 · kb.search · 60 s",  # its call at 09:01:16 to its own 502 at 09:02:16
        "attempt 2 · kb.search · 1 min 30 s",
    ]
    blocked = traces["mark:blocked"]
    assert blocked.name == "blocked" and blocked.marker.color == UNKNOWN_COLOR and blocked.showlegend
    assert rows_of(figure, blocked) == ["search.index"] and blocked.customdata[0][1] == "blocked"
    llm = traces["event:llm_call"]
    assert llm.name == "llm_call" and llm.marker.color == UNKNOWN_COLOR
    assert llm.marker.symbol == UNKNOWN_SYMBOL and rows_of(figure, llm) == ["search"]
    assert "llm_call" in llm.hovertemplate and '"total_tokens":812' in llm.hovertext[0]
    messages = traces["event:message"]  # no step_id: on the run's row
    assert rows_of(figure, messages) == ["__run__", "__run__"]
    assert list(messages.customdata) == ["run · agent: agent-7", "run · agent: "]
    # one legend entry per name, and the legend says what the hover says
    legend = [t.name for t in figure.data if t.showlegend is not False]
    assert sorted(legend) == sorted(set(legend))
    for trace in figure.data:
        if trace.meta.startswith(("bar:", "mark:")):
            assert {row[1] for row in trace.customdata} == {trace.name}
    assert figure.layout.title.subtitle.text == NO_PAUSES  # said, not silently missing
    assert [s.name for s in figure.layout.shapes] == ["start", "end"]
    go.Figure(figure.to_dict())  # every property valid for plotly


def test_a_paused_hosted_run_is_shaded_from_its_last_update() -> None:
    trace = hosted(status="paused", updated_at="2026-11-20T09:02:30Z", finished_at=None, error=None)
    figure = timeline.gantt(trace, now=NOW)
    shapes = {s.name: s for s in figure.layout.shapes}
    paused = shapes[PAUSED_ASSUMED]
    assert paused.showlegend and paused.fillcolor == timeline.PAUSED_FILL
    assert (pd.Timestamp(paused.x0), pd.Timestamp(paused.x1)) == (
        pd.Timestamp("2026-11-20 09:02:30"),
        pd.Timestamp("2026-11-20 12:00:00"),
    )
    assert "now" in shapes and "paused" not in shapes


def text(value: object) -> str:
    """A findings frame's cell, known to be a string."""
    assert isinstance(value, str), value
    return value


def test_diagnose_a_hosted_run() -> None:
    findings = diagnose(hosted(), now=NOW)
    got = {(f.check, f.step_id if isinstance(f.step_id, str) else None): f for f in findings.itertuples()}
    # 'escalate' is left pending by the failed run: the shape of a run that stopped, not told
    assert set(got) == {
        ("unknown_status", "search.index"),
        ("unknown_event_type", None),
        ("times_from_events", None),
    }
    assert "'llm_call'" in text(got[("unknown_event_type", None)].message)
    assert "2 step(s)" in text(got[("times_from_events", None)].message)
    assert "'account', 'search'" in text(got[("times_from_events", None)].message)
    assert {f.severity for f in findings.itertuples()} == {"info"}


def test_live_gantt_of_a_hosted_run_adds_new_events() -> None:
    first = hosted()
    first.events = first.events[:10]
    live = timeline.LiveGantt(first, now=NOW)
    live.update(hosted(), now=NOW)  # six more events, one of a type not drawn yet
    assert_same_points(live.widget, timeline.gantt(hosted(), now=NOW))
    new = {t.meta: len(t.x) for t in live.widget.data if t.meta.endswith(":new")}
    assert new == {  # the six new events, apart from the markers drawn before
        "event:step_failed:new": 1,
        "event:tool_call:new": 1,
        "event:message:new": 1,
        "event:error:new": 1,
        "event:llm_call:new": 1,
        "event:tool_result:new": 1,
    }
    assert next(t for t in live.widget.data if t.meta == "event:llm_call:new").showlegend  # its first
    assert live.widget.layout.title.subtitle.text == NO_PAUSES


def test_a_deep_payload_renders_in_the_hover() -> None:
    for levels in (250, 5000):
        trace = hosted()
        trace.events = [*trace.events, {**trace.events[-1], "event_id": "deep", "payload": deep(levels)}]
        figure = timeline.gantt(trace, now=NOW)
        text = by_meta(figure)["event:message"].hovertext[-1]
        assert len(text) == 200 and text.startswith('{"next":{"next":') and text.endswith("…")
        assert len(figure.to_json()) < 100_000


def test_fleet_charts_of_hosted_runs() -> None:
    runs = frames.runs_frame(answer("runs_page.json"), now=NOW)
    chart = charts.runs_chart(runs)
    queued = next(t for t in chart.data if t.name == "queued")
    assert queued.marker.color == UNKNOWN_COLOR and queued.showlegend
    assert "queued" in queued.hovertemplate
    compared = charts.compare_runs([hosted(), hosted()], labels=["a", "b"])
    assert [t.name for t in compared.data] == ["a", "a · not run", "b", "b · not run"]
    assert list(compared.data[0].y) == ["classify", "account", "search"]
    assert list(compared.data[1].y) == ["search.index", "draft", "escalate"]  # the failed run never ran them


def test_models_of_a_hosted_run_give_the_same_views() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", missionlab.UnknownValueWarning)  # queued, blocked, llm_call
        trace = RunTrace(
            missionlab.Run.model_validate(answer("run.json")),
            [missionlab.PlanStep.model_validate(step) for step in answer("plan.json")],
            [missionlab.Event.model_validate(event) for event in answer("events.json")],
            missionlab.Mission.model_validate(answer("mission.json")),
        )
    assert str(trace.steps[3].status) == "blocked" and str(trace.events[12].type) == "llm_call"
    dicts = hosted()
    pd.testing.assert_frame_equal(trace.events_frame, dicts.events_frame)
    pd.testing.assert_frame_equal(
        frames.steps_frame(trace.steps, events=trace.events, now=NOW), dicts.steps_frame
    )
    assert_same_points(trace.gantt(now=NOW), timeline.gantt(dicts, now=NOW))
    assert "blocked" in repr(diagnose(trace, now=NOW)["message"].tolist())
