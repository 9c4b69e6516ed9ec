"""A run player: in a live kernel, a play button and a slider drive a run's Gantt and its
event log to any moment. A self-contained widget: ``RunPlayer(trace)``, alone or inside
another panel. (A figure replays itself with no kernel: ``gantt(trace, replay=True)``.)

``Replay`` is its name in earlier releases: it still works, with a ``FutureWarning``.
"""

from __future__ import annotations

import html
import warnings
from dataclasses import replace
from typing import Any

import ipywidgets as w
import pandas as pd
import plotly.graph_objects as go

from ..client._display import html_table
from ..figures._gantt_options import gantt_options
from ..figures.time_slider import layout_at, moments, running_bars, updates_at
from ..figures.timeline import GanttOptions, gantt_figure
from ..frames._durations import duration_text
from ..frames._runlike import RunLike

__all__ = ["RunPlayer"]

LOG_COLUMNS = ["time", "type", "step", "agent", "summary"]


class RunPlayer(w.VBox):
    """``trace``'s Gantt and its latest events as they were at a moment chosen with the
    slider (or played with the play button), ``frames`` moments from start to end.

    ``seek(moment)`` goes to the moment nearest a time; ``moment`` is the one shown.
    How the Gantt is drawn: ``options`` (a :class:`~missionlab.figures.timeline.GanttOptions`)
    or the keywords of :func:`missionlab.gantt` (``critical_path``, ``rollup``...); the
    widget is the replay, so the figure gets no slider of its own.
    """

    def __init__(
        self,
        trace: RunLike,
        *,
        frames: int = 100,
        events_shown: int = 12,
        interval_ms: int = 200,
        options: GanttOptions | None = None,
        **option_values: Any,
    ) -> None:
        self.trace = trace
        self.moments = moments(trace, frames)
        self.events_shown = events_shown
        self.options = replace(gantt_options(options, option_values), replay=False)
        self._whole = gantt_figure(
            trace, options=self.options
        )  # the full run, which every moment is cut from
        self._whole.add_trace(running_bars())
        self.figure = go.FigureWidget(self._whole)
        last = len(self.moments) - 1
        self.play = w.Play(min=0, max=last, value=last, step=1, interval=interval_ms, description="Replay")
        self.slider = w.IntSlider(min=0, max=last, value=last, readout=False, layout=w.Layout(width="50%"))
        w.link((self.play, "value"), (self.slider, "value"))
        self.clock = w.HTML()
        self.event_log = w.HTML()
        self.slider.observe(lambda change: self.show(change["new"]), "value")
        super().__init__([w.HBox([self.play, self.slider, self.clock]), self.figure, self.event_log])
        self.add_class("missionlab-replay")
        self.show(last)

    @property
    def moment(self) -> pd.Timestamp:
        """The moment shown."""
        return self.moments[self.slider.value]

    def seek(self, moment: Any) -> None:
        """Show the moment nearest ``moment`` (a datetime or an ISO string; UTC if naive)."""
        target = pd.Timestamp(moment)
        target = target.tz_localize("UTC") if target.tzinfo is None else target.tz_convert("UTC")
        nearest = min(range(len(self.moments)), key=lambda i: abs(self.moments[i] - target))
        self.slider.value = nearest

    def show(self, index: int) -> None:
        """Draw the Gantt and the event log as they were at moment number ``index``."""
        moment = self.moments[index]
        updates = updates_at(self._whole.data, moment)
        with self.figure.batch_update():
            for trace, update in zip(self.figure.data, updates, strict=True):
                if update:
                    trace.update(update)
            shown = layout_at(self._whole.layout, moment)
            # assigned, not updated: an update merges a list of shapes into the old one by index
            self.figure.layout.shapes, self.figure.layout.annotations = shown["shapes"], shown["annotations"]
            if "title" in shown:
                self.figure.layout.title.text = shown["title"]["text"]
        offset = (moment - self.moments[0]).total_seconds()
        when = html.escape(f"{moment:%Y-%m-%d %H:%M:%S}")
        self.clock.value = f"<code>+{duration_text(offset)} · {when} UTC</code>"
        self.event_log.value = self._log(moment)

    def _log(self, moment: pd.Timestamp) -> str:
        events = self.trace.events_frame
        shown = events[events["timestamp"] <= moment].tail(self.events_shown)
        rows = [
            {"time": f"{t:%H:%M:%S}", "type": str(kind), "step": step, "agent": agent, "summary": summary}
            for t, kind, step, agent, summary in zip(
                shown["timestamp"],
                shown["type"],
                shown["step_id"],
                shown["agent_id"],
                shown["summary"],
                strict=True,
            )
        ]
        heard = (events["timestamp"] <= moment).sum()
        return f"<b>Events so far: {heard} of {len(events)}</b>" + html_table(rows[::-1], LOG_COLUMNS)


_warned = False


def earlier_name(stacklevel: int = 2) -> type[RunPlayer]:
    """:class:`RunPlayer`, asked for as ``Replay`` (its name in earlier releases): one
    ``FutureWarning``, pointing at the caller ``stacklevel`` frames up from the asking one."""
    global _warned
    if not _warned:
        _warned = True
        message = "missionlab.widgets.Replay is now missionlab.widgets.RunPlayer; use that name"
        warnings.warn(message, FutureWarning, stacklevel=stacklevel + 1)
    return RunPlayer


def __getattr__(name: str) -> Any:
    if name == "Replay":
        return earlier_name()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
