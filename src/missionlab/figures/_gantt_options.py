"""How a run's Gantt is drawn: one set of options, with its defaults written once, shared by
:func:`missionlab.gantt`, :class:`~missionlab.figures.timeline.LiveGantt` (at creation and
on every update) and the run player widget."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ..client.errors import InvalidArgumentError
from ._figure import MAX_LABEL, Theme, _check_theme

__all__ = ["GanttOptions", "gantt_options"]


@dataclass(frozen=True)
class GanttOptions:
    """The options of a run's Gantt (the keywords of :func:`missionlab.gantt`).

    ``title``: the figure's title (None: the mission, the run's short id and its status);
    ``max_label``: row labels longer than this are cut, with "…"; ``theme``: ``"neutral"``
    (colors that read on light and dark backgrounds) or None (plotly's template).
    Over the bars: ``attempts`` (failed attempts inside a step, hatched), ``drift`` (steps
    added after the run started or run out of plan order), ``critical_path`` (outlined, the
    other bars dimmed), ``rollup`` (a payload path, or several, summed per step in the hover).
    ``replay``: a slider with play/pause over the run (True, or a number of moments).
    """

    title: str | None = None
    max_label: int = MAX_LABEL
    theme: Theme = "neutral"
    critical_path: bool = False
    attempts: bool = True
    drift: bool = True
    rollup: str | Sequence[str] | None = None
    replay: bool | int = False

    def __post_init__(self) -> None:
        _check_theme(self.theme)
        if self.rollup is not None and not isinstance(self.rollup, str):
            object.__setattr__(self, "rollup", tuple(self.rollup))  # frozen: no list to change later

    @property
    def rollup_paths(self) -> list[str]:
        """The roll-up paths asked for, as a list (none: ``[]``)."""
        if self.rollup is None:
            return []
        return [self.rollup] if isinstance(self.rollup, str) else list(self.rollup)


def gantt_options(options: GanttOptions | None, values: dict[str, Any]) -> GanttOptions:
    """``options``, or the options that keywords of :func:`missionlab.gantt` give (one or the
    other: an unknown keyword is a TypeError naming it)."""
    if options is None:
        return GanttOptions(**values)
    if not isinstance(options, GanttOptions):
        raise InvalidArgumentError("options", f"a GanttOptions, not {type(options).__name__}")
    if values:
        raise InvalidArgumentError(
            "options", f"give a GanttOptions or its keywords ({', '.join(sorted(values))}), not both"
        )
    return options
