"""Compare a run with others: the most similar succeeded run of its mission, picked
automatically, or the runs given; aligned step by step and tool call by tool call, with the
first point where they diverge (see :mod:`missionlab.analysis._align` for what counts and when).

``compare(trace, client=client)`` picks the baseline: among the mission's succeeded runs
nearest in time, the nearest whose plan has the same shape (the same step ids under the
same parents, in the same order); without one, the nearest with the most steps in common.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import Any

import pandas as pd

from ..client._plans import fetch_plans
from ..frames._columns import TEXT
from ..frames._durations import duration_text
from ..frames._runlike import RunLike, field
from ._align import DIVERGENCE_KINDS, Divergence, align_steps, first_divergence
from ._baseline import recent_runs

__all__ = ["DIVERGENCE_KINDS", "Comparison", "Divergence", "compare", "plan_shape", "similar_run"]

CANDIDATES = 10  # succeeded runs whose plans are fetched to find the most similar


def plan_shape(steps: Any) -> tuple[tuple[str, str | None], ...]:
    """A plan's shape: (step id, parent id) of each step, in plan order."""
    return tuple(
        (str(step_id), parent if isinstance(parent, str) else None)
        for step_id, parent in zip(steps["step_id"], steps["parent_step_id"].astype(object), strict=True)
    )


def similar_run(trace: RunLike, client: Any, *, candidates: int = CANDIDATES) -> RunLike:
    """The succeeded run of ``trace``'s mission most like it (see the module's docstring),
    loaded with all its events."""
    from ..frames import steps_frame

    load = getattr(type(trace), "load", None)
    if load is None:
        raise TypeError("similar_run() loads runs like its trace's class does: pass a RunTrace")
    mission_id = str(field(trace.run, "mission_id"))
    runs = recent_runs(
        client,
        mission_id,
        exclude=str(field(trace.run, "run_id")),
        limit=candidates,
        near=field(trace.run, "started_at"),
    )
    if not runs:
        raise LookupError(f"mission {mission_id} has no other succeeded run to compare with")
    plans = fetch_plans(client, [(run.run_id, mission_id) for run in runs])
    shapes = [plan_shape(steps_frame(plan)) for plan in plans]
    mine = plan_shape(trace.steps_frame)
    ids = {step for step, _ in mine}

    def likeness(index: int) -> tuple[bool, float, int]:
        theirs = {step for step, _ in shapes[index]}
        overlap = len(ids & theirs) / max(1, len(ids | theirs))
        return (shapes[index] == mine, overlap, -index)  # runs are nearest first

    best = max(range(len(runs)), key=likeness)
    loaded: RunLike = load(client, mission_id, runs[best].run_id)
    return loaded


class Comparison:
    """A run compared with one or more others (``baselines``): per baseline, the aligned
    steps (``alignments``) and the first divergence (``divergences``, None where none)."""

    def __init__(self, trace: RunLike, baselines: list[RunLike], factor: float) -> None:
        self.trace = trace
        self.baselines = baselines
        self.alignments = [align_steps(trace, other) for other in baselines]
        self.divergences = [
            first_divergence(trace, other, aligned, factor=factor)
            for other, aligned in zip(baselines, self.alignments, strict=True)
        ]

    @property
    def baseline(self) -> RunLike:
        """The (first) run compared with."""
        return self.baselines[0]

    @property
    def steps(self) -> pd.DataFrame:
        """The steps aligned with the first baseline."""
        return self.alignments[0]

    @property
    def divergence(self) -> Divergence | None:
        """The first divergence from the first baseline."""
        return self.divergences[0]

    def to_frame(self) -> pd.DataFrame:
        """One row per baseline: its run id, the divergence's kind, step, moment and text."""
        rows = [
            (
                str(field(other.run, "run_id")),
                d.kind if d else None,
                d.step_id if d else None,
                d.at_s if d else None,
                d.text if d else "No divergence.",
            )
            for other, d in zip(self.baselines, self.divergences, strict=True)
        ]
        frame = pd.DataFrame(rows, columns=["baseline_run_id", "kind", "step_id", "at_s", "text"])
        for column in ("baseline_run_id", "kind", "step_id", "text"):
            frame[column] = frame[column].astype(TEXT)
        frame["at_s"] = frame["at_s"].astype("float64")
        return frame

    def _lines(self) -> list[str]:
        lines = []
        for other, d in zip(self.baselines, self.divergences, strict=True):
            label = str(field(other.run, "run_id"))[:8]
            status = field(other.run, "status")
            if d is None:
                lines.append(f"vs run {label} ({status}): no divergence.")
            else:
                at = duration_text(d.at_s)
                lines.append(f"vs run {label} ({status}): first divergence at +{at} ({d.kind}): {d.text}")
        return lines

    def __str__(self) -> str:
        return "\n".join([f"Run {str(field(self.trace.run, 'run_id'))[:8]} compared:", *self._lines()])

    def __repr__(self) -> str:
        kinds = ", ".join(d.kind if d else "none" for d in self.divergences)
        return f"<Comparison with {len(self.baselines)} run(s): first divergence {kinds}>"

    def _repr_html_(self) -> str:
        items = "".join(f"<li>{html.escape(line)}</li>" for line in self._lines())
        return f'<div class="missionlab-compare"><ul>{items}</ul></div>'


def compare(
    trace: RunLike,
    others: RunLike | Sequence[RunLike] | None = None,
    *,
    client: Any = None,
    factor: float = 2.0,
    candidates: int = CANDIDATES,
) -> Comparison:
    """``trace`` compared with ``others``, or, without them, with the most similar succeeded
    run of its mission (which needs a ``client``). ``factor``: how many times slower (or
    faster) a step must be to count as a timing divergence."""
    if others is None:
        if client is None:
            raise ValueError(
                "compare() needs runs to compare with, or a client to pick the most similar succeeded run"
            )
        baselines = [similar_run(trace, client, candidates=candidates)]
    elif hasattr(others, "steps_frame"):
        baselines = [others]  # type: ignore[list-item]
    else:
        baselines = list(others)
    if not baselines:
        raise ValueError("compare() needs at least one run to compare with")
    return Comparison(trace, baselines, factor)
