"""What the Gantt draws over its bars (attempts, plan drift, the critical path, roll-ups) and
its replay, asserted on fig.data, fig.layout and fig.frames for crafted runs."""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest

from missionlab import InvalidArgumentError, UnknownValueWarning
from missionlab.analysis._drift import critical_path, plan_drift
from missionlab.figures.time_slider import REPLAY_LINE, RUNNING, moments, updates_at
from missionlab.figures.timeline import GanttOptions, LiveGantt, gantt_figure
from missionlab.widgets import RunPlayer

from .crafted import at, craft, event, step


def traces(figure: go.Figure, meta: str) -> list[Any]:
    return [t for t in figure.data if str(t.meta) == meta]


def rows(figure: go.Figure, trace: Any) -> list[str]:
    keys = figure.layout.meta["rows"]
    return [keys[int(y)] for y in trace.y]


def retried() -> Any:
    """Step "search" calls flights twice: the first call fails with a 503."""
    flights = {"tool": "flights"}
    return craft(
        [step("prep", 1, 4, sequence=1), step("search", 5, 30, sequence=2, description="Search flights")],
        [
            event(6, "tool_call", "search", "Calling flights", {**flights, "request_id": "1"}, event_id="c1"),
            event(
                10, "tool_result", "search", "503", {**flights, "request_id": "1", "ok": False, "status": 503}
            ),
            event(
                12, "tool_call", "search", "Retrying flights", {**flights, "request_id": "2"}, event_id="c2"
            ),
            event(20, "tool_result", "search", "ok", {**flights, "request_id": "2", "ok": True}),
        ],
    )


def test_failed_attempts_are_hatched_segments_of_the_bar() -> None:
    figure = retried().gantt()
    (attempt,) = traces(figure, "attempt:failed")
    assert attempt.type == "bar" and attempt.name == "failed attempt"
    assert rows(figure, attempt) == ["search"]
    assert pd.Timestamp(attempt.base[0]) == pd.Timestamp(at(6)).tz_localize(None)
    assert attempt.x[0] == (10 - 6) * 1000  # from the failed call to its own 503, not to the retry
    assert attempt.marker.pattern.shape == "/"
    assert attempt.customdata[0].tolist() == ["attempt 1 · flights · 4.0 s", "status 503"]
    assert attempt.width < traces(figure, "bar:completed")[0].width  # inside the step's bar
    assert not traces(retried().gantt(attempts=False), "attempt:failed")
    no_failure = craft([step("a", 1, 4, sequence=1)], [event(2, "tool_call", "a", "x", {"tool": "t"})])
    assert not traces(no_failure.gantt(), "attempt:failed")


def drifted() -> Any:
    """Plan 1-5; step 6 added while 3 ran, run before 4 and 5; 8 never started."""
    times = {1: (1, 2), 2: (3, 4), 3: (5, 6), 6: (7, 8), 4: (9, 10), 5: (11, 12)}
    steps = [step(f"s{n}", times[n][0], times[n][1], sequence=n) for n in (1, 2, 3, 4, 5, 6)]
    steps.append(step("s8", None, None, "pending", sequence=8))
    return craft(steps, status="running", end=None)


def test_steps_added_after_the_start_are_marked() -> None:
    drift = plan_drift(drifted().steps_frame).set_index("step_id")["drift"]
    assert drift.dropna().to_dict() == {"s6": "added"}  # s4 and s5 are in order; s8 cannot be told
    figure = drifted().gantt()
    (added,) = traces(figure, "drift:added")
    assert rows(figure, added) == ["s6"] and added.marker.symbol == "star"
    assert "added after the run started" in added.customdata[0]
    assert not traces(figure, "drift:reordered")
    assert not traces(drifted().gantt(drift=False), "drift:added")
    # drawn when it appeared (its start, 7 s in), not at the run's start
    assert pd.Timestamp(added.x[0]) == pd.Timestamp(at(7)).tz_localize(None)


def test_a_planned_step_run_first_is_not_added() -> None:
    first = craft([step("s1", 3, 4, sequence=1), step("s2", 5, 6, sequence=2), step("s3", 1, 2, sequence=3)])
    drift = plan_drift(first.steps_frame).set_index("step_id")["drift"]
    assert "added" not in drift.dropna().tolist()  # s3 ran before any other step: it was planned
    assert not traces(first.gantt(), "drift:added")


def test_children_numbered_after_every_top_level_step_are_planned() -> None:
    """A plan numbered breadth-first (the top-level steps 1-3, then process's children 4 and
    5), run in order, has no added step: a child is compared with its siblings only. A child
    added while they ran, numbered above them, is marked added."""
    planned = [
        step("fetch", 1, 5, sequence=1),
        step("process", 6, 20, sequence=2),
        step("report", 21, 25, sequence=3),
        step("p-a", 6.5, 12, sequence=4, parent="process"),
        step("p-b", 12.5, 19, sequence=5, parent="process"),
    ]
    breadth_first = craft(planned)
    assert plan_drift(breadth_first.steps_frame)["drift"].isna().all()
    assert not traces(breadth_first.gantt(), "drift:added")
    later_b = step("p-b", 15.5, 19, sequence=5, parent="process")
    with_added = craft([*planned[:4], later_b, step("p-x", 12.5, 15, sequence=6, parent="process")])
    drift = plan_drift(with_added.steps_frame).set_index("step_id")["drift"]
    assert drift.dropna().to_dict() == {"p-x": "added"}
    (added,) = traces(with_added.gantt(), "drift:added")
    assert rows(with_added.gantt(), added) == ["p-x"]
    # a child skipped (never started) inside its parent says nothing of the steps after the parent
    skipped_child = [*planned[:2], step("p-a", 6.5, 19, sequence=3, parent="process")]
    skipped_child += [step("p-b", None, 19, "skipped", sequence=4, parent="process")]
    skipped_child += [step("report", 21, 25, sequence=5), step("mail", 26, 27, sequence=6)]
    assert plan_drift(craft(skipped_child).steps_frame)["drift"].dropna().tolist() == ["skipped"]


def test_a_step_added_with_added_at_is_drawn_when_it_appeared() -> None:
    trace = craft(
        [
            step("s1", 1, 2, sequence=1),
            step("s2", 6, 9, sequence=2),
            step("x", 12, 14, sequence=3, metadata={"added_at": "2026-11-01T10:00:04Z"}),
        ]
    )
    (added,) = traces(trace.gantt(), "drift:added")
    assert pd.Timestamp(added.x[0]) == pd.Timestamp(at(4)).tz_localize(None)


def test_reordered_and_metadata_marked_steps() -> None:
    swapped = craft(
        [
            step("s1", 1, 2, sequence=1),
            step("s2", 6, 7, sequence=2),  # planned second, ran third
            step("s3", 3, 5, sequence=3),
            step("s4", 8, 9, sequence=4),
            step("x", 10, 11, sequence=5, metadata={"added_at": "2026-11-01T10:00:09Z"}),
        ]
    )
    drift = plan_drift(swapped.steps_frame).set_index("step_id")
    assert drift["drift"].dropna().to_dict() == {"s2": "reordered", "x": "added"}
    assert drift.loc["s2", "reason"] == "started after a step that comes later in the plan"
    figure = swapped.gantt()
    assert rows(figure, traces(figure, "drift:reordered")[0]) == ["s2"]
    in_order = craft([step(f"s{n}", n * 2, n * 2 + 1, sequence=n) for n in range(1, 6)])
    assert plan_drift(in_order.steps_frame)["drift"].isna().all()


def test_a_fan_out_started_out_of_plan_order_is_not_reordered() -> None:
    fan_out = craft(
        [
            step("root", 1, 20, sequence=1),
            step("hotels", 2.003, 10, sequence=2, parent="root"),  # threads log their starts in any order
            step("flights", 2.001, 11, sequence=3, parent="root"),
            step("cars", 2.002, 12, sequence=4, parent="root"),
            step("merge", 12.5, 19, sequence=5, parent="root"),
        ]
    )
    assert plan_drift(fan_out.steps_frame)["drift"].isna().all()
    assert not traces(fan_out.gantt(), "drift:reordered")


def test_a_step_marked_added_and_run_last_is_told_by_its_metadata() -> None:
    trace = craft(
        [
            step("s1", 1, 3, sequence=1),
            step("s2", 4, 6, sequence=2),
            step("late", 12, 13, sequence=3, metadata={"added_at": "2026-11-01T10:00:07Z"}),
        ]
    )
    drift = plan_drift(trace.steps_frame).set_index("step_id")
    assert drift["drift"].dropna().to_dict() == {"late": "added"}
    reason = "added after the run started, as its metadata says (added_at 2026-11-01T10:00:07Z)"
    assert drift.loc["late", "reason"] == reason
    (added,) = traces(trace.gantt(), "drift:added")
    assert added.customdata[0] == f"Late<br>{reason}"


def test_skipped_steps_legend_and_hover_agree() -> None:
    trace = craft(
        [step("a", 1, 3, "failed", sequence=1), step("b", None, 4, "skipped", sequence=2)], status="failed"
    )
    figure = trace.gantt()
    (mark,) = traces(figure, "mark:skipped")
    assert mark.name == "skipped" and mark.showlegend
    assert {row[1] for row in mark.customdata} == {"skipped"}
    assert plan_drift(trace.steps_frame)["drift"].dropna().tolist() == ["skipped"]


def parallel() -> Any:
    """a and b in parallel; c waits for b; group g (after c) with two parallel children."""
    return craft(
        [
            step("a", 1, 10, sequence=1),
            step("b", 1, 30, sequence=2),
            step("c", 31, 40, sequence=3),
            step("g", 41, 60, sequence=4),
            step("g1", 41, 45, sequence=5, parent="g"),
            step("g2", 41, 59, sequence=6, parent="g"),
        ]
    )


def test_critical_path_through_nested_steps() -> None:
    trace = parallel()
    assert critical_path(trace.steps_frame, pd.Timestamp(at(100))) == ["b", "c", "g", "g2"]
    figure = trace.gantt(critical_path=True)
    (path,) = traces(figure, "critical")
    assert rows(figure, path) == ["b", "c", "g", "g2"]
    assert path.marker.line.width > 2 and path.marker.color == "rgba(0, 0, 0, 0)"
    (bar,) = traces(figure, "bar:completed")
    opacity = dict(zip(rows(figure, bar), bar.marker.opacity, strict=True))
    assert opacity == {"a": 0.35, "b": 1.0, "c": 1.0, "g": 1.0, "g1": 0.35, "g2": 1.0}
    assert not traces(trace.gantt(), "critical")
    assert traces(trace.gantt(), "bar:completed")[0].marker.opacity is None


def test_rollups_in_the_hover() -> None:
    trace = craft(
        [
            step("g", 1, 20, sequence=1),
            step("g1", 2, 9, sequence=2, parent="g"),
            step("g2", 10, 19, sequence=3),
        ],
        [
            event(3, "tool_result", "g1", "t", {"usage": {"total_tokens": 120}, "cost_usd": 0.25}),
            event(4, "message", "g1", "m", {"usage": {"total_tokens": 30}}),
            event(15, "message", "g2", "m", {"usage": {"total_tokens": 7.5}}),
            event(16, "message", None, "run", {"usage": {"total_tokens": 1}}),
        ],
    )
    table = trace.rollup("payload.usage.total_tokens")
    assert table["description"].tolist()[0] == "run" and pd.isna(table["step_id"].iloc[0])
    assert table["own"].tolist() == [1, 0, 150, 7.5] and table["total"].tolist() == [158.5, 150, 150, 7.5]
    assert table["events"].tolist() == [4, 0, 2, 1]
    figure = trace.gantt(rollup=["payload.usage.total_tokens", "payload.cost_usd"])
    (bar,) = traces(figure, "bar:completed")
    assert (
        "total_tokens: %{customdata[6]}" in bar.hovertemplate
        and "cost_usd: %{customdata[7]}" in bar.hovertemplate
    )
    hover = {row: list(data[6:]) for row, data in zip(rows(figure, bar), bar.customdata, strict=True)}
    assert hover == {"g": ["150 (own 0)", "0.25 (own 0)"], "g1": ["150", "0.25"], "g2": ["7.5", "0"]}
    step_table = trace.step_table("payload.usage.total_tokens", "payload.cost_usd")
    assert step_table["total_tokens"].tolist() == [150, 150, 7.5] and step_table["cost_usd"].tolist() == [
        0.25,
        0.25,
        0,
    ]
    with pytest.raises(ValueError, match="not a payload path"):
        trace.rollup("payload.")


def test_replay_frames_reveal_the_run_up_to_each_moment() -> None:
    trace = retried()
    figure = trace.gantt(replay=10)
    assert len(figure.frames) == 10
    slider = figure.layout.sliders[0]
    assert len(slider.steps) == 10 and slider.active == 9 and slider.steps[0].label == "+0.0 s"
    assert [b.label for b in figure.layout.updatemenus[0].buttons] == ["▶", "❚❚"]
    line = next(s for s in figure.layout.shapes if s.name == REPLAY_LINE)
    times = moments(trace, 10)
    assert pd.Timestamp(line.x0) == times[-1].tz_localize(None)  # the figure shows the whole run
    middle = figure.frames[4]
    names = [t.meta for t in figure.data]
    update = {names[i]: d for i, d in zip(middle.traces, middle.data, strict=True)}
    moment = times[4]
    assert at(5) < moment < at(30)  # search is running at the middle moment
    bars = figure.data[names.index("bar:completed")]
    cut = dict(zip(rows(figure, bars), update["bar:completed"].x, strict=True))
    assert cut["prep"] == 3000  # ended before the moment: whole, in the colour of how it ended
    assert np.isnan(cut["search"])  # still running: not yet "completed"
    # ...but drawn in the running colour, as a live Gantt cut at that moment draws it
    running = update[RUNNING]
    running_ms = (moment - pd.Timestamp(at(5))).total_seconds() * 1000
    keys = figure.layout.meta["rows"]
    assert [keys[int(y)] for y in running["y"]] == ["search"]
    assert list(running["x"]) == [pytest.approx(running_ms, abs=1)]
    live = traces(cut_at(moment).gantt(now=moment), "bar:in_progress")[0]
    assert figure.data[names.index(RUNNING)].marker.color == live.marker.color
    calls = update["event:tool_call"].y
    shown = [not np.isnan(y) for y in calls]
    assert shown == [pd.Timestamp(at(6)) <= moment, pd.Timestamp(at(12)) <= moment]
    frame_line = next(s for s in middle.layout.shapes if s.name == REPLAY_LINE)
    assert pd.Timestamp(frame_line.x0) == moment.tz_localize(None)
    assert np.isnan(figure.frames[0].data[names.index("bar:completed")].x).all()  # nothing started yet
    # a failed attempt is drawn once its failure came back (at 10 s), whole (4 s), never before
    attempts = [frame.data[names.index("attempt:failed")].x[0] for frame in figure.frames]
    answered = [pd.Timestamp(at(10)) <= moment for moment in times]
    assert [not np.isnan(x) for x in attempts] == answered and any(answered) and not all(answered)
    assert {x for x in attempts if not np.isnan(x)} == {4000}


def paused_then_failed() -> Any:
    """A run paused from 8 to 14 s that failed at 20.5 s (its step ended at 20 s)."""
    pauses = [
        event(8, "status_change", payload={"from": "running", "to": "paused"}),
        event(14, "status_change", payload={"from": "paused", "to": "running"}),
    ]
    return craft([step("work", 1, 20, "failed", sequence=1)], pauses, status="failed", error="gave up")


def test_a_replay_shows_no_line_shading_or_status_from_after_its_moment() -> None:
    trace = paused_then_failed()
    figure = trace.gantt(replay=5)  # moments at 0, 5.125, 10.25, 15.375 and 20.5 s
    seconds = [(moment - pd.Timestamp(at(0))).total_seconds() for moment in moments(trace, 5)]
    assert seconds == [0, 5.125, 10.25, 15.375, 20.5]
    title = "Crafted mission · run run-craf"
    assert figure.layout.title.text == title + " · failed"  # the figure: the whole run
    seen = []
    for frame in figure.frames:
        shapes = {shape.name: shape for shape in frame.layout.shapes}
        pause = shapes.get("paused")
        seen.append(
            (
                sorted(shapes),
                [note.text for note in frame.layout.annotations],
                None if pause is None else (pd.Timestamp(pause.x0), pd.Timestamp(pause.x1)),
                frame.layout.title.text,
            )
        )
    naive = [pd.Timestamp(at(x)).tz_localize(None) for x in (8, 10.25, 14)]
    assert seen == [
        (["replay", "start"], ["start"], None, title),
        (["replay", "start"], ["start"], None, title),
        (["paused", "replay", "start"], ["start"], (naive[0], naive[1]), title),  # paused so far
        (["paused", "replay", "start"], ["start"], (naive[0], naive[2]), title),
        (["end", "paused", "replay", "start"], ["start", "end"], (naive[0], naive[2]), title + " · failed"),
    ]


def test_the_run_player_shows_the_end_only_once_the_run_ended() -> None:
    player = RunPlayer(paused_then_failed(), frames=5)
    shown = []
    for index in (4, 0, 4):  # to the start and back to the end
        player.show(index)
        names = sorted(shape.name for shape in player.figure.layout.shapes)
        shown.append((names, player.figure.layout.title.text))
    ended = (["end", "paused", "replay", "start"], "Crafted mission · run run-craf · failed")
    assert shown == [ended, (["replay", "start"], "Crafted mission · run run-craf"), ended]


def cut_at(moment: pd.Timestamp) -> Any:
    """The crafted run of :func:`retried` as a live view saw it at ``moment`` (search running)."""
    seconds = (moment - pd.Timestamp(at(0))).total_seconds()
    flights = {"tool": "flights"}
    calls = [event(6, "tool_call", "search", "Calling flights", {**flights, "request_id": "1"})]
    return craft(
        [step("prep", 1, 4, sequence=1), step("search", 5, None, sequence=2, status="in_progress")],
        [e for e in calls if seconds >= 6],
    )


@pytest.mark.parametrize("replay", [None, 5])
def test_updates_at_the_end_change_nothing(replay: int | None) -> None:
    figure = retried().gantt(replay=replay)  # with a replay, its (empty) running trace too
    assert (RUNNING in [t.meta for t in figure.data]) == bool(replay)
    for trace, update in zip(figure.data, updates_at(figure.data, moments(retried())[-1]), strict=True):
        for key, value in update.items():
            if key == "customdata":
                assert list(value) == list(trace[key])
                continue
            assert np.allclose(np.asarray(value, dtype=float), np.asarray(trace[key], dtype=float), atol=1)


def test_one_options_object_for_the_figure_the_live_gantt_and_the_player() -> None:
    trace = parallel()
    options = GanttOptions(critical_path=True, title="Watched", rollup=["payload.usage.total_tokens"])
    assert options.rollup == ("payload.usage.total_tokens",)  # frozen all the way down
    with pytest.raises(dataclasses.FrozenInstanceError):
        options.title = "other"  # type: ignore[misc]
    now = at(100)
    by_keywords = trace.gantt(
        now=now, critical_path=True, title="Watched", rollup=["payload.usage.total_tokens"]
    )
    assert gantt_figure(trace, now=now, options=options).to_json() == by_keywords.to_json()

    live = LiveGantt(trace, options=options)  # a live Gantt now draws every mark gantt() draws
    assert rows(live.widget, traces(live.widget, "critical")[0]) == ["b", "c", "g", "g2"]
    live.update(trace)
    assert traces(live.widget, "critical") and live.widget.layout.title.text == "Watched"
    assert LiveGantt(trace, critical_path=True).options == GanttOptions(critical_path=True)
    with pytest.raises(InvalidArgumentError, match="not both"):
        LiveGantt(trace, options=options, title="x")
    with pytest.raises(InvalidArgumentError, match="replay"):
        LiveGantt(trace, replay=True)
    with pytest.raises(TypeError, match="critical"):
        LiveGantt(trace, critical=True)

    player = RunPlayer(trace, frames=3, options=options)
    assert traces(player.figure, "critical") and player.figure.layout.title.text == "Watched"
    assert not RunPlayer(trace, frames=3, replay=True).figure.layout.sliders  # the widget is the replay


def _luminance(color: str) -> float:
    """WCAG 2 relative luminance of a ``#rrggbb`` color."""
    channels = [int(color.lstrip("#")[i : i + 2], 16) / 255 for i in (0, 2, 4)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def _contrast(a: str, b: str) -> float:
    light, dark = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def test_every_event_marker_stands_out_on_every_bar_and_background() -> None:
    """WCAG contrast (3:1, for graphics) of each marker's fill or outline against each bar color
    drawn and against light and dark page backgrounds, read from the drawn figure."""
    kinds = ["status_change", "step_started", "step_completed", "step_failed", "tool_call"]
    kinds += ["tool_result", "message", "error", "custom", "a_new_kind"]
    statuses = ["completed", "failed", "in_progress", "paused", "cancelled", "an_unknown_status"]
    steps = [step(f"s{n}", 10 * n, 10 * n + 9, status, sequence=n + 1) for n, status in enumerate(statuses)]
    events = [
        event(10 * n + 1 + k * 0.5, kind, f"s{n}")
        for n in range(len(statuses))
        for k, kind in enumerate(kinds)
    ]
    with pytest.warns(UnknownValueWarning) as warned:  # the unknown kinds and statuses, kept
        figure = craft(steps, events, status="failed", with_step_events=False).gantt()
    unknown = {"a_new_kind", "paused", "cancelled", "an_unknown_status"}
    assert {name for name in unknown if any(f"'{name}'" in str(w.message) for w in warned)} == unknown
    bar_colors = {t.marker.color for t in figure.data if str(t.meta).startswith("bar:")}
    assert len(bar_colors) >= 4 and "#D55E00".lower() in {c.lower() for c in bar_colors}
    backgrounds = {"#ffffff", "#111111", "#1e1e1e"}  # JupyterLab light, dark; the share page's dark
    markers = [t for t in figure.data if str(t.meta).startswith("event:")]
    assert {str(t.meta).split(":")[1] for t in markers} >= set(kinds)
    for trace in markers:
        assert not str(trace.marker.symbol).endswith("-open")  # an open symbol has no outline
        fill, outline = trace.marker.color, trace.marker.line.color
        for under in bar_colors | backgrounds:
            best = max(_contrast(fill, under), _contrast(outline, under))
            assert best >= 3, (trace.meta, fill, outline, under, round(best, 2))
