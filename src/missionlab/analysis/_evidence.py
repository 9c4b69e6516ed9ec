"""What explanations and comparisons point at: evidence (steps, event ids, times, numbers)
and the few ways they write times in a sentence (durations are written by
:func:`missionlab.frames._durations.duration_text`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from ..frames._run_end import utc  # a moment as UTC, None when missing (the frames' rule)

__all__ = ["Evidence", "clock", "moment", "span", "step_name", "utc"]


@dataclass(frozen=True)
class Evidence:
    """What a finding rests on: the steps and events involved, when, and its numbers
    (``values``: durations in seconds, ratios, counts...)."""

    steps: tuple[str, ...] = ()
    events: tuple[str, ...] = ()
    start: pd.Timestamp | None = None
    end: pd.Timestamp | None = None
    values: dict[str, Any] = field(default_factory=dict)

    @property
    def step_id(self) -> str | None:
        """The (first) step the finding is about, if any."""
        return self.steps[0] if self.steps else None

    def text(self) -> str:
        """The evidence as one short line: steps, event ids, times."""
        parts = []
        if self.steps:
            parts.append("step " + ", ".join(self.steps[:6]) + (" …" if len(self.steps) > 6 else ""))
        if self.events:
            parts.append("events " + ", ".join(self.events[:6]) + (" …" if len(self.events) > 6 else ""))
        if self.start is not None:
            told = clock(self.start) if self.end is None else span(self.start, self.end)
            parts.append(told + " UTC")
        return " · ".join(parts)


def moment(value: Any) -> pd.Timestamp:
    """A moment known to be there (a frame's timestamp) as a UTC timestamp."""
    stamp = utc(value)
    if stamp is None:
        raise ValueError("a moment is missing")
    return stamp


def clock(moment: pd.Timestamp) -> str:
    """``HH:MM:SS`` (UTC)."""
    return f"{moment:%H:%M:%S}"


def span(begin: pd.Timestamp, end: pd.Timestamp) -> str:
    """``HH:MM:SS to HH:MM:SS`` (UTC) within a day; with their dates when ``begin`` and
    ``end`` fall on different days (``10:00 to 09:00`` would read backwards)."""
    begin, end = pd.Timestamp(begin), pd.Timestamp(end)
    if begin.date() == end.date():
        return f"{clock(begin)} to {clock(end)}"
    return f"{begin:%Y-%m-%d %H:%M:%S} to {end:%Y-%m-%d %H:%M:%S}"


def step_name(steps: pd.DataFrame, step_id: Any) -> str:
    """A step's description in quotes (its id when it has none or is not in the plan)."""
    if step_id is None:
        return "the run"
    match = steps.loc[steps["step_id"] == step_id, "description"]
    description = str(match.iloc[0]) if len(match) and pd.notna(match.iloc[0]) else str(step_id)
    return f"'{description}'"
