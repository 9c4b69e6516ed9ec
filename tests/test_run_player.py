"""The run player widget: the slider (and the play button linked to it) drive the Gantt and
the event log; no browser needed. Its earlier name, ``Replay``, warns once."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from missionlab.figures.time_slider import REPLAY_LINE, RUNNING
from missionlab.trace import RunTrace
from missionlab.widgets import RunPlayer

from .crafted import at, craft, event, step
from .injection import PAYLOADS, markup_of


def run() -> RunTrace:
    return craft(
        [step("a", 1, 10, sequence=1), step("b", 11, 41, sequence=2, description="Long one")],
        [event(t, "message", "b", f"note {t}") for t in (15, 25, 35)],
    )


def bar_lengths(replay: RunPlayer, meta: str = "bar:completed") -> dict[str, float]:
    keys = replay.figure.layout.meta["rows"]
    bar = next(t for t in replay.figure.data if t.meta == meta)
    return {keys[int(y)]: float(x) for y, x in zip(bar.y, bar.x, strict=True)}


def test_the_slider_drives_the_gantt_and_the_event_log() -> None:
    replay = RunPlayer(run(), frames=9)
    assert replay.slider.value == 8 and replay.moment == replay.moments[-1]
    assert bar_lengths(replay) == {"a": 9000, "b": 30000}  # the whole run
    assert "Events so far: 7 of 7" in replay.event_log.value
    replay.slider.value = 4
    moment = replay.moments[4]
    assert pd.Timestamp(at(20)) < moment < pd.Timestamp(at(25))
    # b has not completed yet at that moment: it is drawn as running, up to the moment
    assert bar_lengths(replay) == {"a": 9000, "b": pytest.approx(np.nan, nan_ok=True)}
    running = (moment - pd.Timestamp(at(11))).total_seconds() * 1000
    assert bar_lengths(replay, RUNNING) == {"b": running}
    messages = next(t for t in replay.figure.data if t.meta == "event:message")
    assert [not np.isnan(y) for y in messages.y] == [True, False, False]
    line = next(s for s in replay.figure.layout.shapes if s.name == REPLAY_LINE)
    assert pd.Timestamp(line.x0) == moment.tz_localize(None)
    assert [s.name for s in replay.figure.layout.shapes].count(REPLAY_LINE) == 1
    assert "note 15" in replay.event_log.value and "note 25" not in replay.event_log.value
    assert "+21 s · 2026-11-01 10:00:20 UTC" in replay.clock.value  # 4 of 8 steps of 41.5 s: 20.75 s
    replay.play.value = 0  # the play button moves the slider
    lengths = bar_lengths(replay)  # at the run's start no step has started: no bar at all
    assert (
        replay.slider.value == 0
        and lengths.keys() == {"a", "b"}
        and all(np.isnan(v) for v in lengths.values())
    )
    replay.seek(at(41))
    assert replay.slider.value == 8
    assert bar_lengths(replay, RUNNING) == {} and bar_lengths(replay) == {"a": 9000, "b": 30000}


def test_the_event_log_escapes_server_strings() -> None:
    for payload in PAYLOADS:
        trace = craft([step("a", 1, 3, sequence=1, description=payload)], [event(2, "message", "a", payload)])
        replay = RunPlayer(trace, frames=3)
        assert markup_of(replay.event_log.value, payload) == [], payload


def test_the_earlier_name_still_works_and_warns_once() -> None:
    script = (
        "import json, warnings\n"
        "warnings.simplefilter('always')\n"
        "with warnings.catch_warnings(record=True) as caught:\n"
        "    from missionlab.widgets import Replay\n"
        "    import missionlab.widgets as widgets\n"
        "    again = widgets.Replay\n"
        "    from missionlab.widgets.replay import Replay as by_old_module\n"
        "print(json.dumps([Replay is again is by_old_module is widgets.RunPlayer,\n"
        "    [str(w.message) for w in caught if w.category is FutureWarning]]))\n"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    same, warned = json.loads(out.stdout)
    assert same
    assert warned == [
        "missionlab.widgets.Replay is now missionlab.widgets.RunPlayer; use that name",
        "missionlab.widgets.replay moved to missionlab.widgets.run_player; import it from there",
    ]


def test_a_step_added_mid_run_is_marked_added_only_once_it_appeared() -> None:
    """The replay (the figure's frames and the player alike) draws the "added after the run
    started" mark from the moment the step was added (its metadata's added_at, +60 s here),
    not from the run's start."""
    added = "2026-11-01T10:01:00Z"  # the crafted runs start at 10:00:00
    trace = craft(
        [
            step("a", 1, 40, sequence=1),
            step("b", 41, 59, sequence=2),
            step("extra", 60, 99, sequence=3, metadata={"added_at": added}),
        ],
        end=100,
    )
    assert at(60) == pd.Timestamp(added)
    figure = trace.gantt(replay=5)
    drift = next(i for i, t in enumerate(figure.data) if t.meta == "drift:added")
    row = float(figure.data[drift].y[0])
    shown = {}
    for frame in figure.frames:  # each frame's moment: where its replay line is
        line = next(shape for shape in frame.layout.shapes if shape.name == REPLAY_LINE)
        moment = pd.Timestamp(line.x0).tz_localize("UTC")
        shown[moment] = np.asarray(frame.data[drift].y, dtype="float64").tolist()
    before = [ys for moment, ys in shown.items() if moment < pd.Timestamp(added)]
    after = [ys for moment, ys in shown.items() if moment >= pd.Timestamp(added)]
    assert before and all(np.isnan(ys).all() for ys in before)
    assert after and all(ys == [row] for ys in after)
    player = RunPlayer(trace, frames=10)
    player.show(0)
    mark = next(t for t in player.figure.data if t.meta == "drift:added")
    assert np.isnan(np.asarray(mark.y, dtype="float64")).all()
    player.show(len(player.moments) - 1)
    assert np.asarray(mark.y, dtype="float64").tolist() == [row]
