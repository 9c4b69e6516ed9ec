"""The run panel's events tab: the run's events found with :meth:`missionlab.RunTrace.find`
(text in summaries and payloads, type, step, agent, a time window), newest first, in aligned
columns, with the selected event's fields and payload underneath."""

from __future__ import annotations

import html
import json
import math
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import ipywidgets as w
import pandas as pd

from ..analysis._evidence import moment
from ..client._display import short_text
from ..client._json import short_json
from ..client.models import Event
from ..trace import RunTrace
from ._common import Notice, dropdown, reporting, row
from .code import RUN_EVENTS, events_code

EVENT_COLUMNS = ("time", "type", "step", "agent", "summary")
EVENT_WIDTHS = (8, 14, 16, 14)  # characters of the aligned columns before the summary
DETAIL_HINT = "Select an event above to see all its fields and its payload here."
MAX_SHOWN = 300  # newest matches listed: the browser gets every line again when the list changes


def _set_options(menu: w.Dropdown, options: list[tuple[str, str]]) -> None:
    """Replace a filter's options, keeping its value when it is still offered."""
    if list(menu.options) == options:
        return
    keep = menu.value if menu.value in {value for _, value in options} else ""
    menu.options, menu.value = options, keep


def _cells(values: tuple[str, ...]) -> str:
    padded = [short_text(v, width).ljust(width) for v, width in zip(values, EVENT_WIDTHS, strict=False)]
    return "  ".join([*padded, *values[len(EVENT_WIDTHS) :]])


def _text(value: Any) -> str:
    missing = value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value))
    return "-" if missing else str(value)


LINE_COLUMNS = ("timestamp", "type", "step_id", "agent_id", "summary", "event_id")


def frame_lines(events: pd.DataFrame, rows: list[int] | None = None) -> list[tuple[str, str]]:
    """(line, event_id) of each row of an events frame (``rows``: of those positions only, in
    increasing order): time, type, step, agent and summary as aligned columns (the log shows
    them in a monospace font). The columns are read as lists (a frame's rows one by one cost
    more than the lines), down to the last row asked for."""
    if rows is not None:
        events = events.iloc[: rows[-1] + 1 if rows else 0]  # the newest first: seldom far down
    columns = [events[name].tolist() for name in LINE_COLUMNS]
    values = zip(*columns, strict=True) if rows is None else (tuple(c[row] for c in columns) for row in rows)
    return [
        (
            _cells(
                (f"{stamp:%H:%M:%S}", str(kind), _text(step), _text(agent), short_text(_text(summary), 160))
            ),
            str(event_id),
        )
        for stamp, kind, step, agent, summary, event_id in values
    ]


def _labels(values: pd.Series) -> list[tuple[str, str]]:
    return [(str(v), str(v)) for v in sorted({str(v) for v in values.dropna().unique()})]


class EventLog(w.VBox):
    """The run's events that :meth:`RunTrace.find` finds for the filters on screen, newest first."""

    def __init__(self) -> None:
        self.trace: RunTrace | None = None
        self._lines: dict[str, str] = {}  # event_id -> its line (an event's line never changes)
        self._rendering_held = False
        self.on_change: Callable[[], Any] | None = None  # after the filters change
        self.notice = Notice()
        self.type_filter = dropdown("Type", [("all", "")], "")
        self.step_filter = dropdown("Step", [("all", "")], "")
        self.agent_filter = dropdown("Agent", [("all", "")], "")
        self.search = w.Text(
            placeholder="Search summaries and payloads",
            continuous_update=False,
            layout=w.Layout(flex="1 1 200px", width="auto", min_width="0"),
        )
        self.window = w.FloatRangeSlider(
            value=(0.0, 1.0),
            min=0.0,
            max=1.0,
            step=1.0,
            description="Seconds after the start",
            continuous_update=False,
            readout_format=".0f",
            style={"description_width": "initial"},
            layout=w.Layout(flex="1 1 360px", width="auto", min_width="0", max_width="100%"),
        )
        self.count = w.HTML()
        header = w.HTML(
            f"<pre style='margin:0 0 0 4px;font-weight:600'>{html.escape(_cells(EVENT_COLUMNS))}</pre>"
        )
        header.add_class("missionlab-mono")
        self.event_list = w.Select(options=[], rows=12, layout=w.Layout(width="100%"))
        self.event_list.add_class("missionlab-mono")
        self.event_detail = w.Textarea(
            placeholder=DETAIL_HINT, disabled=True, layout=w.Layout(width="100%", height="160px")
        )
        self.event_detail.add_class("missionlab-mono")
        for control in (self.type_filter, self.step_filter, self.agent_filter, self.search, self.window):
            control.observe(lambda _: self.render(), "value")
        self.event_list.observe(lambda _: self._show_detail(), "value")
        super().__init__(
            [
                row(self.type_filter, self.step_filter, self.agent_filter, self.search),
                row(self.window, self.count),
                self.notice,
                header,
                self.event_list,
                self.event_detail,
            ],
            layout=w.Layout(width="100%"),
        )
        self.add_class("missionlab-event-log")

    @property
    def events(self) -> list[Event]:
        return list(self.trace.events) if self.trace else []

    def show(self, trace: RunTrace) -> None:
        """Show ``trace``'s events (the filters keep their values where they still apply)."""
        self.trace = trace
        events = trace.events_frame
        with self._quiet():
            _set_options(self.type_filter, [("all", ""), *_labels(events["type"])])
            steps = [("all", ""), ("(run)", RUN_EVENTS), *((s.step_id, s.step_id) for s in trace.steps)]
            _set_options(self.step_filter, steps)
            _set_options(self.agent_filter, [("all", ""), *_labels(events["agent_id"])])
            self._stretch_window(trace)
        self.render()

    @contextmanager
    def _quiet(self) -> Iterator[None]:
        """While :meth:`show` sets the filters, their observers don't render (show does, once)."""
        self._rendering_held = True
        try:
            yield
        finally:
            self._rendering_held = False

    def _stretch_window(self, trace: RunTrace) -> None:
        """The slider spans the run so far; a window spanning it all grows with it."""
        started = pd.Timestamp(trace.run.started_at)
        stamps = trace.events_frame["timestamp"]
        ends = [trace.run.finished_at, stamps.max() if len(stamps) else None]
        spans = [(pd.Timestamp(end) - started).total_seconds() for end in ends if end is not None]
        seconds = max([1.0, *spans])
        top = float(math.ceil(seconds))
        low, high = self.window.value
        whole = low <= self.window.min and high >= self.window.max
        if top != self.window.max:
            if top > self.window.max:
                self.window.max = top
                self.window.value = (low, top if whole else high)
            else:
                self.window.value = (min(low, top), min(high, top) if not whole else top)
                self.window.max = top

    def time_window(self) -> tuple[float, float] | None:
        """The window chosen on the slider, in seconds after the run's start; None for all of it."""
        low, high = self.window.value
        if low <= self.window.min and high >= self.window.max:
            return None
        return float(low), float(high)

    def set_time_window(self, window: tuple[Any, Any] | None) -> None:
        """Show the events of ``window`` (two times, e.g. a range selected on a Gantt, or
        seconds after the start); None shows the whole run."""
        if window is None or self.trace is None:
            self.window.value = (self.window.min, self.window.max)
            return
        with reporting(self.notice, "Choosing a time window"):
            started = moment(self.trace.run.started_at)
            seconds = [
                float(v) if isinstance(v, int | float) else (moment(v) - started).total_seconds()
                for v in window
            ]
            low, high = (min(max(s, self.window.min), self.window.max) for s in sorted(seconds))
            self.window.value = (math.floor(low), math.ceil(high))

    def filtered(self) -> pd.DataFrame:
        """The events that pass the filters, newest first, found by :meth:`RunTrace.find`."""
        if self.trace is None:
            return pd.DataFrame()
        step = self.step_filter.value
        window = self.time_window()
        found = self.trace.find(
            self.search.value.strip() or None,
            type=self.type_filter.value or None,
            step=step if step and step != RUN_EVENTS else None,
            agent=self.agent_filter.value or None,
            start=window[0] if window else None,
            end=window[1] if window else None,
        )
        if step == RUN_EVENTS:
            found = found[found["step_id"].isna()]
        return found.iloc[::-1]

    def render(self) -> None:
        if self.trace is None or self._rendering_held:
            return
        with reporting(self.notice, "Search"):
            found = self.filtered()
            options = self._options(found.head(MAX_SHOWN))
            selected = self.event_list.value
            if list(self.event_list.options) != options:
                with self.event_list.hold_trait_notifications():
                    self.event_list.options = options
                    if selected in {value for _, value in options}:
                        self.event_list.value = selected
            total = len(self.trace.events)
            more = f" (the newest {MAX_SHOWN} listed)" if len(found) > MAX_SHOWN else ""
            self.count.value = (
                f'<span class="missionlab-hint">{len(found):,} of {total:,} events{more}</span>'
            )
            self.notice.clear()
            self._show_detail()
        if self.on_change is not None:
            self.on_change()

    def _options(self, found: pd.DataFrame) -> list[tuple[str, str]]:
        """(line, event_id) of the rows of ``found``, writing only the lines not written before."""
        ids = [str(event_id) for event_id in found["event_id"].tolist()]
        missing = [row for row, event_id in enumerate(ids) if event_id not in self._lines]
        if missing:
            self._lines.update((event_id, line) for line, event_id in frame_lines(found, missing))
        return [(self._lines[event_id], event_id) for event_id in ids]

    def _show_detail(self) -> None:
        event_id = self.event_list.value
        held = self.trace.events if self.trace is not None and event_id is not None else []
        event = next((e for e in reversed(held) if e.event_id == event_id), None)
        if event is None:
            self.event_detail.value = ""
            return
        fields = event.model_dump(mode="json", exclude_none=True)
        try:
            self.event_detail.value = json.dumps(fields, indent=2)
        except RecursionError:  # a payload nested deeper than json can write
            self.event_detail.value = short_json(fields, 20_000)

    def code(self) -> str | None:
        if self.trace is None:
            return None
        run = self.trace.run
        return events_code(
            run.mission_id,
            run.run_id,
            self.type_filter.value,
            self.step_filter.value,
            self.search.value,
            agent=self.agent_filter.value,
            window=self.time_window(),
        )
