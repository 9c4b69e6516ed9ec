"""The charts and the Gantt's hover say what is so: a run still running does not flatten the
others, a log axis labels 0.2 s as 0.2, the compare figure's divergence note never meets its
legend and shows the steps a failed run never ran, a running step's hover duration is its bar's."""

from __future__ import annotations

from datetime import timedelta

import pandas as pd

import missionlab
from missionlab.figures import charts
from missionlab.frames import runs_frame

from .crafted import T0, at, craft, step


def fleet_with_one_run_left_open() -> list[missionlab.Run]:
    """Eight runs an hour apart lasting 60, 80, ... 200 s, then one started at 9:00 still running."""
    runs = []
    for n in range(8):
        start = T0 + timedelta(hours=n)
        runs.append(
            missionlab.Run(
                run_id=f"run-{n}",
                mission_id="m",
                status="succeeded",
                started_at=start,
                finished_at=start + timedelta(seconds=60 + 20 * n),
                updated_at=start,
            )
        )
    start = T0 + timedelta(hours=9)
    runs.append(
        missionlab.Run(
            run_id="run-open", mission_id="m", status="running", started_at=start, updated_at=start
        )
    )
    return runs


def test_a_run_still_running_is_capped_hatched_and_says_so() -> None:
    now = T0 + timedelta(hours=39)  # the open run has run for 30 h
    figure = charts.runs_chart(runs_frame(fleet_with_one_run_left_open(), now=now))
    by_status = {t.name: t for t in figure.data if len(t.y)}
    assert max(by_status["succeeded"].y) == 200 / 60  # minutes: the longest ended run
    assert list(by_status["running"].y) == [200 / 60]  # capped there, not 30 h
    assert list(by_status["running"].marker.pattern.shape) == ["/"]
    assert set(by_status["succeeded"].marker.pattern.shape) == {""}
    lasted = by_status["running"].customdata[0][1]
    assert lasted.startswith("30.0 h so far, still running") and "capped" in lasted
    # one bar width for every status: an hour between starts, so the lone running bar is seen
    assert {t.width for t in by_status.values()} == {3_600_000}


def test_step_durations_log_axis_labels_read_their_values() -> None:
    fast = craft([step("parse", 1, 1.2, sequence=1), step("search", 2, 20, sequence=2)], run_id="r1")
    slow = craft([step("parse", 1, 6, sequence=1), step("search", 7, 30, sequence=2)], run_id="r2")
    figure = charts.step_durations(pd.concat([fast.steps_frame, slow.steps_frame], ignore_index=True))
    axis = figure.layout.xaxis
    assert axis.type == "log"
    labels = dict(zip(axis.tickvals, axis.ticktext, strict=True))
    assert labels[0.2] == "0.2" and labels[0.5] == "0.5" and labels[20] == "20"
    assert list(axis.tickvals) == [0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50, 100]
    assert all(float(text) == value for value, text in labels.items())


def compared() -> missionlab.trace.RunTrace:
    return craft(
        [
            step("parse", 1, 5, sequence=1),
            step("search", 6, 24, sequence=2),
            step("book", 25, 29, "failed", sequence=3),
            step("mail", None, 29.5, "skipped", sequence=4),
        ],
        status="failed",
        run_id="run-bad",
    )


def baseline() -> missionlab.trace.RunTrace:
    steps = [step("parse", 1, 5, sequence=1), step("search", 6, 20, sequence=2)]
    steps += [step("book", 21, 30, sequence=3), step("mail", 31, 33, sequence=4)]
    return craft(steps, run_id="run-ok")


def test_the_compare_figure_shows_the_steps_a_failed_run_never_ran() -> None:
    figure = charts.compare_runs(compared().compare(baseline()))
    marks = [t for t in figure.data if t.type == "scatter"]
    assert [t.name for t in marks] == ["run-bad (failed) · not run"]
    assert list(marks[0].y) == ["mail"] and list(marks[0].x) == [29.5]  # skipped at +29.5 s
    assert marks[0].offsetgroup == next(t.offsetgroup for t in figure.data if t.name == "run-bad (failed)")
    assert figure.layout.scattermode == "group"  # on the failed run's own sub-row


def test_the_divergence_note_and_the_legend_cannot_meet() -> None:
    comparison = compared().compare(baseline())
    divergence = comparison.divergence
    assert divergence is not None and (divergence.kind, divergence.step_id) == ("status", "book")
    figure = charts.compare_runs(comparison)
    (note,) = figure.layout.annotations
    legend = figure.layout.legend
    # the note stands on the plot's top edge, above it; the legend hangs from that edge down,
    # right of the plot: their boxes lie in opposite quadrants around the plot's top right corner
    assert (note.yref, note.y, note.yanchor) == ("paper", 1, "bottom")
    assert legend.x >= 1 and legend.xanchor == "left" and legend.y <= 1 and legend.yanchor == "top"
    # the note at +29 s of a 33 s span reads leftward, staying over the plot
    assert note.x == 29 and note.xanchor == "right"
    # the title sits at the top of the figure, the note's line below it inside the top margin
    title = figure.layout.title
    assert (title.yref, title.y, title.yanchor) == ("container", 1, "top")
    assert figure.layout.margin.t >= title.pad.t + 2 * 17 + 2 * note.font.size


def test_a_running_steps_hover_duration_is_measured_to_the_figures_now() -> None:
    trace = craft(
        [step("done", 1, 30, sequence=1), step("open", 40, None, "in_progress", sequence=2)],
        status="running",
        end=None,
    )
    figure = missionlab.gantt(trace, now=at(100))
    (bar,) = [t for t in figure.data if t.meta == "bar:in_progress"]
    assert bar.x[0] == 60_000  # the bar: 40 s to now
    assert bar.customdata[0][4] == "60 s"  # and its hover, the same 60 s
