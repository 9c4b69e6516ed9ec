"""Figures, asserted on fig.data and fig.layout, for runs played by the sandbox's simulator."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest

import missionlab
from missionlab.figures import charts, timeline
from missionlab.sandbox import Sandbox
from missionlab.trace import RunTrace, load_run

from .conftest import unique
from .gantt_helpers import assert_same_points

NESTED = {
    "plan": [
        {"step_id": "a", "description": "First", "duration": 2, "tools": ["t.x"]},
        {
            "step_id": "g",
            "description": "Group",
            "children": [
                {"step_id": "g1", "description": "Child one", "duration": 2},
                {"step_id": "g2", "description": "Child two", "duration": 2},
            ],
        },
        {"step_id": "z", "description": "Last", "duration": 300},
    ]
}


@pytest.fixture(scope="module")
def sim() -> Any:
    with Sandbox(demo=True, speed=30) as sb:
        yield sb


def traces_by_status(sandbox: Sandbox, status: str) -> list[RunTrace]:
    client = sandbox.client()
    runs = client.missions.runs.list_runs(status=status, page_size=30).data
    return [load_run(client, r.mission_id, r.run_id) for r in runs]


def bars(figure: go.Figure) -> dict[str, go.Bar]:
    """The steps' bars by status (not the failed attempts or the critical path drawn over them)."""
    return {t.name: t for t in figure.data if isinstance(t, go.Bar) and str(t.meta).startswith("bar:")}


def markers(figure: go.Figure) -> dict[str, go.Scattergl]:
    return {t.name: t for t in figure.data if isinstance(t, go.Scattergl)}


def row_ids(figure: go.Figure, trace: Any) -> list[str]:
    """The row keys (step ids, or the run's row) of a trace's points."""
    keys = figure.layout.meta["rows"]
    return [keys[int(y)] for y in trace.y]


def test_rows_colors_markers_for_a_failed_nested_run(sim: Sandbox) -> None:
    trace = next(t for t in traces_by_status(sim, "failed") if t.steps_frame["parent_step_id"].notna().any())
    figure = trace.gantt()
    steps = trace.steps_frame
    assert list(figure.layout.meta["rows"]) == ["__run__", *steps["step_id"]]
    assert list(figure.layout.yaxis.tickvals) == list(range(len(steps) + 1))
    labels = list(figure.layout.yaxis.ticktext)
    for label, depth in zip(labels[1:], steps["depth"], strict=True):
        assert label.startswith("\u00a0" * 3 * depth) and (depth == 0) != ("└" in label)
    assert tuple(figure.layout.yaxis.range) == (len(steps) + 0.5, -0.5)  # first row on top
    drawn = bars(figure)
    started = steps[steps["started_at"].notna()]
    assert set(drawn) == set(started["status"].astype(str))  # a trace per status drawn, no empty ones
    for status, bar in drawn.items():
        assert bar.marker.color == timeline.STEP_COLORS[status] and bar.showlegend
        assert row_ids(figure, bar) == started.loc[started["status"] == status, "step_id"].tolist()
    failed_ids = set(steps.loc[steps["status"] == "failed", "step_id"])
    assert set(row_ids(figure, drawn["failed"])) == failed_ids and failed_ids
    events = markers(figure)
    assert set(events) == set(trace.events_frame["type"].astype(str))
    for event_type, trace_ in events.items():
        assert trace_.marker.symbol == timeline.EVENT_SYMBOLS[event_type]
    assert len(events["error"].x) >= 1
    assert sum(len(t.x) for t in events.values()) == len(trace.events)
    assert "failed" in figure.layout.title.text and trace.run.run_id[:8] in figure.layout.title.text
    names = [s.name for s in figure.layout.shapes]
    assert "start" in names and "end" in names and "now" not in names
    assert figure.layout.title.subtitle.text is None  # the sandbox records pauses
    skipped = steps[steps["status"] == "skipped"]
    if len(skipped):
        mark = next(t for t in figure.data if t.meta == "mark:skipped")
        assert mark.name == "skipped" and set(row_ids(figure, mark)) == set(skipped["step_id"])
        assert {status for _, status, *_ in mark.customdata} == {"skipped"}  # legend and hover agree


def test_paused_intervals_are_shaded(sim: Sandbox) -> None:
    trace = traces_by_status(sim, "paused")[0]
    figure = trace.gantt()
    paused = [s for s in figure.layout.shapes if s.name == "paused"]
    assert len(paused) == 1 and paused[0].fillcolor == timeline.PAUSED_FILL
    assert "now" in [s.name for s in figure.layout.shapes]


def test_live_run_in_progress_has_a_now_line_and_open_bars(sim: Sandbox) -> None:
    client = sim.client()
    mission_id = client.missions.create(
        name=unique("live"), execution_mode="managed", metadata=NESTED
    ).data.mission_id
    run = client.missions.runs.create(mission_id).data
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        trace = load_run(client, mission_id, run.run_id)
        if (trace.steps_frame["step_id"] == "z").any() and trace.steps_frame.set_index("step_id").loc[
            "z", "status"
        ] == "in_progress":
            break
        time.sleep(0.1)
    now = datetime.now(UTC)
    figure = trace.gantt(now=now)
    running = bars(figure)["in_progress"]
    assert row_ids(figure, running) == ["z"]
    now_line = next(s for s in figure.layout.shapes if s.name == "now")
    start = datetime.fromisoformat(str(running.base[0])).replace(tzinfo=UTC)
    assert abs((start.timestamp() + running.x[0] / 1000) - now.timestamp()) < 0.01
    assert pd.Timestamp(now_line.x0).tz_localize("UTC") == pd.Timestamp(now)
    pending_or_done = bars(figure)["completed"]
    assert {"a", "g1", "g2", "g"} <= set(row_ids(figure, pending_or_done))
    client.missions.runs.cancel_run(run.run_id, mission_id=mission_id)


def test_hover_and_labels_escape_server_strings() -> None:
    evil = "<img src=x onerror=alert(1)>"
    t0 = datetime(2026, 11, 1, tzinfo=UTC)
    run = missionlab.Run(run_id="r1", mission_id="m1", status="running", started_at=t0, updated_at=t0)
    mission = missionlab.Mission(
        mission_id="m1", name=evil, execution_mode="managed", created_at=t0, updated_at=t0
    )
    steps = [
        missionlab.PlanStep(
            step_id="s",
            run_id="r1",
            sequence=1,
            description=evil,
            status="completed",
            started_at=t0,
            completed_at=t0,
            metadata={"note": "</script><script>alert(2)</script>"},
        )
    ]
    events = [
        missionlab.Event(
            event_id="e", run_id="r1", type="message", summary=evil, timestamp=t0, step_id="s", agent_id=evil
        )
    ]
    figure = timeline.gantt(RunTrace(run, steps, events, mission))
    text = figure.to_json()
    assert "<img" not in text and "<script" not in text and "</script" not in text
    assert "&lt;img src=x onerror=alert(1)&gt;" in figure.layout.title.text


def test_live_gantt_updates_in_place(sim: Sandbox) -> None:
    trace = traces_by_status(sim, "succeeded")[0]
    events = trace.events_frame
    # the same plan; first the events up to the last step's start, then all of them
    cut = int(events.index[events["type"] == "step_started"][-1])
    half = RunTrace(trace.run, trace.steps, trace.events[:cut], trace.mission)
    live = timeline.LiveGantt(half, title="Watched <run>", max_label=12)
    widget = live.widget
    assert isinstance(widget, go.FigureWidget)
    sent: list[dict[str, Any]] = []
    send = widget._send_update_msg

    def spy(*args: Any, **kwargs: Any) -> Any:
        sent.append(kwargs.get("relayout_data", args[1] if len(args) > 1 else {}))
        return send(*args, **kwargs)

    widget._send_update_msg = spy
    relayouts: list[dict[str, Any]] = []
    send_relayout = widget._send_relayout_msg

    def spy_relayout(data: dict[str, Any], **kwargs: Any) -> Any:
        relayouts.append(data)
        return send_relayout(data, **kwargs)

    widget._send_relayout_msg = spy_relayout
    before = {t.meta: t for t in widget.data}
    live.update(trace)
    # plotly.js resets an axis type when a restyle changes x data, then guesses "linear" from the
    # bars' durations (every date NaN): the template's date type is what it falls back to, and
    # no message ever takes the type away
    assert widget.layout.template.layout.xaxis.type == "date"
    assert all(data.get("xaxis.type", "date") == "date" for data in [*sent, *relayouts])
    after = {t.meta: t for t in widget.data}
    kept = set(before) & set(after)
    assert kept and all(before[uid] is after[uid] for uid in kept)  # the same trace objects, updated
    # whatever the builder makes, the widget shows: the same as a figure built from scratch
    fresh = timeline.gantt(trace, title="Watched <run>", max_label=12)
    assert_same_points(widget, fresh)
    for mine in widget.data:
        new = next(t for t in fresh.data if t.meta == mine.meta.removesuffix(":new"))
        for prop in ("marker", "name", "legendgroup", "hovertemplate", "type"):
            assert_same(mine[prop], new[prop])
    assert widget.layout.title.text == "Watched &lt;run&gt;"  # options kept across updates
    assert max(len(label.replace("&amp;", "&")) for label in widget.layout.yaxis.ticktext) <= 12 + 6
    assert widget.layout.meta["rows"] == fresh.layout.meta["rows"]
    sent.clear()
    live.update(trace)  # nothing new: nothing sent
    assert not sent


def assert_same(a: Any, b: Any) -> None:
    if a is None or b is None:
        assert a is None and b is None
    elif hasattr(a, "to_plotly_json"):
        assert a.to_plotly_json() == (b.to_plotly_json() if hasattr(b, "to_plotly_json") else b)
    elif isinstance(a, tuple | list) or hasattr(a, "__array__"):
        assert np.array_equal(np.asarray(a), np.asarray(b))
    else:
        assert a == b


def test_comparison_runs_chart_and_durations(sim: Sandbox) -> None:
    client = sim.client()
    travel = next(m for m in client.missions.list().data if m.name.startswith("Travel"))
    runs = client.missions.runs.list(travel.mission_id, page_size=100).data
    ok = next(r for r in runs if r.status == "succeeded")
    bad = next(r for r in runs if r.status == "failed")
    compared = charts.compare_runs(
        [load_run(client, travel.mission_id, ok.run_id), load_run(client, travel.mission_id, bad.run_id)]
    )
    compared_bars = [t for t in compared.data if t.type == "bar"]  # (and the failed run's steps not run)
    assert len(compared_bars) == 2 and compared.layout.barmode == "group"
    assert min(compared_bars[0].base) < 10  # aligned at the run's start (seconds)
    failed_widths = list(compared_bars[1].marker.line.width)
    assert 3 in failed_widths
    chart = charts.runs_chart(runs)
    assert sum(len(t.x) for t in chart.data) == len(runs)
    assert {t.name for t in chart.data if t.showlegend} >= {"succeeded", "failed"}
    plans = [
        s
        for r in runs
        for s in client.missions.runs.plan.retrieve(r.run_id, mission_id=travel.mission_id).data
    ]
    boxes = charts.step_durations(missionlab.frames.steps_frame(plans))
    assert all(isinstance(t, go.Box) for t in boxes.data) and len(boxes.data) >= 5


def test_figures_export(sim: Sandbox, tmp_path: Any) -> None:
    trace = traces_by_status(sim, "failed")[0]
    figure = missionlab.gantt(trace)
    figure.write_html(tmp_path / "gantt.html")
    assert (tmp_path / "gantt.html").stat().st_size > 10_000
    figure.update_layout(template="plotly_dark")  # a plain Figure: restyle at will
    assert isinstance(figure, go.Figure)


def test_gantt_of_steps_and_events_without_a_trace(sim: Sandbox) -> None:
    trace = traces_by_status(sim, "succeeded")[0]
    figure = missionlab.gantt(trace.steps, trace.events)
    assert len(figure.layout.meta["rows"]) == len(trace.steps) + 1
    assert sum(len(t.x) for t in markers(figure).values()) == len(trace.events)


def test_the_neutral_theme_is_the_default_and_optional(sim: Sandbox) -> None:
    travel = traces_by_status(sim, "failed")[:2] + traces_by_status(sim, "succeeded")[:1]
    runs = missionlab.frames.runs_frame(sim.client().missions.runs.list_runs(page_size=50).data)
    steps = pd.concat([t.steps_frame for t in travel], ignore_index=True)
    builders: dict[str, Callable[..., go.Figure]] = {
        "gantt": lambda **theme: timeline.gantt(travel[0], **theme),
        "compare_runs": lambda **theme: charts.compare_runs(travel, **theme),
        "runs_chart": lambda **theme: charts.runs_chart(runs, **theme),
        "step_durations": lambda **theme: charts.step_durations(steps, **theme),
    }
    for name, build in builders.items():
        neutral, plain = build(), build(theme=None)
        assert neutral.layout.paper_bgcolor == "rgba(0, 0, 0, 0)", name
        assert neutral.layout.xaxis.gridcolor == "rgba(127, 127, 127, 0.25)", name
        assert plain.layout.paper_bgcolor is None and plain.layout.font.color is None, name
        assert plain.layout.xaxis.gridcolor is None and plain.layout.yaxis.gridcolor is None, name
        # Only the theme differs: the same traces, titles and margins.
        assert plain.data == neutral.data and plain.layout.title == neutral.layout.title, name
        assert plain.layout.margin == neutral.layout.margin, name
        with pytest.raises(ValueError, match="theme must be 'neutral' or None"):
            build(theme="dark")
    live = timeline.LiveGantt(travel[0], theme=None)
    live.update(travel[1])
    assert live.widget.layout.paper_bgcolor is None and live.widget.layout.yaxis.gridcolor is None


def test_a_few_new_events_make_the_markers_many_events_make() -> None:
    """The markers of a refresh's few new events (read value by value) are those the
    column-wise builder makes of the same events: escaped, shortened text (past the BMP
    too), a missing, empty or unknown step on the run's row, a missing agent, a new type."""
    from missionlab.figures._gantt import event_points
    from missionlab.figures._live_gantt import FEW, _new_points

    kinds = ["tool_call", "message", "a_new_kind", "error"]
    steps = ["s1", None, "", "nowhere", "s<2>"]
    events = missionlab.frames.events_frame(
        [
            {
                "event_id": f"e{number}",
                "run_id": "r",
                "type": kinds[number % 4],
                "timestamp": datetime(2026, 1, 1, 0, 0, number, 1500 * number, tzinfo=UTC).isoformat(),
                "summary": ["a <b> & c", "😀" * 320, "é" * 299 + "x", None][number % 4],
                "step_id": steps[number % 5],
                "agent_id": None if number % 3 else f"agent & {number}",
                "payload": {"text": "<" * (number * 20)},
            }
            for number in range(12)
        ]
    )
    keys = ["__run__", "s1", "s<2>"]
    few = _new_points(events, keys)
    assert len(events) <= FEW
    assert list(few) == list(event_points(events, keys)) == ["tool_call", "message", "error", "a_new_kind"]
    for event_type, points in event_points(events, keys).items():
        for mine, theirs in zip(few[event_type], points, strict=True):
            assert mine.tolist() == theirs.tolist()
