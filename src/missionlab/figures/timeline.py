"""Plotly figures of one run: its Gantt, and a live Gantt widget.

Figures are built from the frames of :mod:`missionlab.frames` as plain figure dicts
(``missionlab.figures._gantt``) turned into plotly Figures without plotly's per-array
validation copies: faster than ``px.timeline`` for the same bars while drawing the
events, hover text and shading too. They are plain plotly Figures: restyle them,
``write_html`` or ``write_image`` them. Figures across runs are in :mod:`missionlab.figures.charts`.

Every string from the server is HTML-escaped before it reaches a label or a hover
(``<``, ``>`` and ``&``: plotly's text renderer reads those entities, not ``&quot;``).
Hosted runs are drawn as faithfully as sandbox runs: step times missing from the plan
come from the step events (the hover says so), a status or event type missionlab does
not know is drawn in a neutral color under its own name, and a run whose events record
no pauses says so instead of showing none.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import plotly.graph_objects as go

from ..frames._pauses import paused_intervals
from ..frames._runlike import RunLike, as_of
from ._figure import STEP_COLORS, Theme, _figure, theme_neutral
from ._gantt import EVENT_COLORS, EVENT_SYMBOLS, RUN_ROW, as_now, gantt_inputs, gantt_spec
from ._gantt_layout import PAUSED_FILL
from ._gantt_marks import overlays
from ._gantt_options import GanttOptions
from ._live_gantt import GanttBuilder, LiveGantt

__all__ = [
    "EVENT_COLORS",
    "EVENT_SYMBOLS",
    "PAUSED_FILL",
    "RUN_ROW",
    "STEP_COLORS",
    "GanttBuilder",
    "GanttOptions",
    "LiveGantt",
    "figure_of",
    "gantt",
    "gantt_figure",
    "paused_intervals",
    "theme_neutral",
]

_DEFAULT = GanttOptions()  # gantt()'s keyword defaults are the options' own


def gantt(
    trace_or_steps: RunLike | Any,
    events: Any = None,
    *,
    run: Any = None,
    mission: Any = None,
    now: datetime | None = None,
    title: str | None = _DEFAULT.title,
    max_label: int = _DEFAULT.max_label,
    theme: Theme = _DEFAULT.theme,
    critical_path: bool = _DEFAULT.critical_path,
    attempts: bool = _DEFAULT.attempts,
    drift: bool = _DEFAULT.drift,
    rollup: str | Sequence[str] | None = _DEFAULT.rollup,
    replay: bool | int = _DEFAULT.replay,
) -> go.Figure:
    """A run's plan as a Gantt timeline, with its events on top.

    One row per plan step, in plan order, children indented under their parent;
    bars from start to end colored by status (in-progress bars run to a "now" line; in a
    run that has ended, to its end, and there is no "now" line; in a trace opened from a
    capsule saved while its run was active, without ``now``, to a "saved" line at the
    capsule's ``saved_at``), steps that never started
    marked at the run's start (pending) or at their end, under their status in the legend.
    Events are markers on their step's row (or the run's row), one symbol per type. Paused
    intervals are shaded, the run's start and end marked. ``theme=None`` keeps plotly's
    template instead of colors that read on light and dark backgrounds.

    Over the bars (see ``figures/_gantt_marks.py``): failed attempts inside a step as
    hatched segments (``attempts``), steps added after the run started or run out of plan
    order marked at the left (``drift``), the critical path outlined with the other bars
    dimmed (``critical_path=True``), a payload number summed per step in the hover
    (``rollup="payload.usage.total_tokens"``, or a list of paths), and a slider with
    play/pause that replays the run with no kernel (``replay=True``, or a number of frames).
    The keywords are those of :class:`GanttOptions` (see :func:`gantt_figure`).
    """
    options = GanttOptions(
        title=title,
        max_label=max_label,
        theme=theme,
        critical_path=critical_path,
        attempts=attempts,
        drift=drift,
        rollup=rollup,
        replay=replay,
    )
    return gantt_figure(trace_or_steps, events, run=run, mission=mission, now=now, options=options)


def gantt_figure(
    trace_or_steps: RunLike | Any,
    events: Any = None,
    *,
    run: Any = None,
    mission: Any = None,
    now: datetime | None = None,
    options: GanttOptions = _DEFAULT,
) -> go.Figure:
    """:func:`gantt` with its options as one :class:`GanttOptions`, the object that
    :class:`LiveGantt` and the run player widget hold too."""
    steps, events_df, run, mission = gantt_inputs(trace_or_steps, events, run, mission)
    saved = as_of(trace_or_steps) if now is None else None  # a capsule's of an active run
    moment = as_now(saved or now)
    spec = gantt_spec(
        steps,
        events_df,
        run=run,
        mission=mission,
        now=moment,
        options=options,
        now_label="saved" if saved else "now",
    )
    return figure_of(overlays(spec, steps, events_df, run, moment, options))


def figure_of(spec: dict[str, Any]) -> go.Figure:
    """The plotly Figure of a figure dict built here (a :class:`GanttBuilder`'s): what
    :func:`gantt` returns for the same dict."""
    return _figure(spec)
