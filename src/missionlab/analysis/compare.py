"""Compare a run with others: the most similar succeeded run of its mission, picked
automatically, or the runs given; aligned step by step and tool call by tool call, with the
first point where they diverge (see ``missionlab.analysis._align`` for what counts and when).

``compare(trace, client=client)`` picks the baseline: the most typical of the mission's
recent succeeded runs (:func:`typical_run`: the closest to their median plan shape and step
durations, never an outlier), and says why (``Comparison.reason``); ``among=`` gives the
runs to pick it from instead. Payload keys that differ between any two runs (usage, costs,
ids, times: a fixed list, and keys ending in ``_id`` or ``_at``, at any depth, camelCase too)
are left out of the comparison and listed (``Comparison.ignored``); ``ignore=`` names others.
A value equal to one of the run's own input values is compared as the input field it comes
from, under any key (a volatile one too), and numbers equal to nine significant digits are
equal. Steps or tool calls that ran side by side have no order; a failed call retried with
success is variance, listed in ``Comparison.ranked`` but never the first divergence; the
step a run's failure started in comes before what was skipped after it.
"""

from __future__ import annotations

import html
from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from ..client._concurrent import bounded_map
from ..frames._columns import TEXT
from ..frames._durations import duration_text
from ..frames._runlike import RunLike, field
from ._align import DIVERGENCE_KINDS, VOLATILE_PAYLOAD_KEYS, Divergence, align_steps, divergences
from ._baseline import recent_runs

__all__ = [
    "DIVERGENCE_KINDS",
    "Comparison",
    "Divergence",
    "compare",
    "plan_shape",
    "similar_run",
    "typical_run",
]

CANDIDATES = 10  # succeeded runs whose plans are fetched to find the most similar


def plan_shape(steps: Any) -> tuple[tuple[str, str | None], ...]:
    """A plan's shape: (step id, parent id) of each step, in plan order."""
    return tuple(
        (str(step_id), parent if isinstance(parent, str) else None)
        for step_id, parent in zip(steps["step_id"], steps["parent_step_id"].astype(object), strict=True)
    )


OFF = float(np.log(10.0))  # how far off a step that did not complete counts (log scale)


def _completed_durations(run: RunLike) -> dict[str, float]:
    steps = run.steps_frame
    done = steps["status"].astype(str) == "completed"
    return dict(zip(steps["step_id"].astype(str), steps["working_s"].where(done), strict=True))


def typical_run(runs: Sequence[RunLike]) -> tuple[RunLike, str]:
    """The most typical succeeded run of ``runs`` and why: among the runs whose plan has the
    most common shape, the one whose step durations are closest to the runs' medians (the
    sum of each step's distance from its median, in log scale; a step that did not complete
    counts as ten times off)."""
    succeeded = [run for run in runs if str(field(run.run, "status")) == "succeeded"]
    if not succeeded:
        raise LookupError("no succeeded run to compare with")
    shapes = [plan_shape(run.steps_frame) for run in succeeded]
    counts = Counter(shapes)
    common, seen = counts.most_common(1)[0]
    pool = [run for run, shape in zip(succeeded, shapes, strict=True) if shape == common]
    durations = pd.DataFrame([_completed_durations(run) for run in pool]).astype("float64")
    logs: pd.DataFrame = durations.clip(lower=0.1).apply(np.log)
    # a step that did not complete is as far off as ten times its usual duration
    distance = (logs - logs.median()).abs().fillna(OFF).sum(axis=1)
    best = int(distance.to_numpy().argmin())
    chosen = pool[best]
    reason = (
        f"the most typical of {len(succeeded)} succeeded runs: its plan has the shape of {seen} of them, "
        f"and its step durations are the closest to their medians"
    )
    return chosen, reason


def similar_run(trace: RunLike, client: Any, *, candidates: int = CANDIDATES) -> tuple[RunLike, str]:
    """The most typical succeeded run of ``trace``'s mission among its ``candidates`` recent
    ones (:func:`typical_run`), loaded with all its events, and why it was chosen."""
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
    loaded = bounded_map(lambda run: load(client, mission_id, run.run_id), runs, name="missionlab-compare")
    return typical_run(loaded)


class Comparison:
    """A run compared with one or more others (``baselines``): per baseline, the aligned
    steps (``alignments``) and the first divergence (``divergences``, None where none)."""

    def __init__(
        self,
        trace: RunLike,
        baselines: list[RunLike],
        factor: float,
        *,
        ignore: frozenset[str] = VOLATILE_PAYLOAD_KEYS,
        reason: str = "given",
    ) -> None:
        self.trace = trace
        self.baselines = baselines
        #: Why the (first) baseline was chosen.
        self.reason = reason
        #: The payload keys left out of the comparison (with keys ending in _id or _at, at
        #: any depth, camelCase too).
        self.ignored = tuple(sorted(ignore))
        self.alignments = [align_steps(trace, other) for other in baselines]
        #: Per baseline, every divergence, ranked (status, plan, tools, timing, payload; variance last).
        self.ranked = [
            divergences(trace, other, aligned, factor=factor, ignore=ignore)
            for other, aligned in zip(baselines, self.alignments, strict=True)
        ]
        self.divergences = [found[0] if found and not found[0].variance else None for found in self.ranked]

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
        run_id = str(field(self.trace.run, "run_id"))[:8]
        return "\n".join(
            [
                f"Run {run_id} compared:",
                *self._lines(),
                f"Baseline: {self.reason}.",
                f"Left out of payloads: {', '.join(self.ignored)}, *_id and *_at at any depth.",
            ]
        )

    def __repr__(self) -> str:
        kinds = ", ".join(d.kind if d else "none" for d in self.divergences)
        return f"<Comparison with {len(self.baselines)} run(s): first divergence {kinds}>"

    def _repr_html_(self) -> str:
        items = "".join(f"<li>{html.escape(line)}</li>" for line in self._lines())
        note = html.escape(f"Baseline: {self.reason}. Left out of payloads: {', '.join(self.ignored)}.")
        return f'<div class="missionlab-compare"><ul>{items}</ul><p><small>{note}</small></p></div>'


def compare(
    trace: RunLike,
    others: RunLike | Sequence[RunLike] | None = None,
    *,
    client: Any = None,
    baseline: RunLike | None = None,
    among: Sequence[RunLike] | None = None,
    ignore: Iterable[str] = (),
    factor: float = 2.0,
    candidates: int = CANDIDATES,
) -> Comparison:
    """``trace`` compared with ``others`` (or ``baseline``), or, without them, with the most
    typical succeeded run ``among`` the runs given, else among its mission's recent ones
    (which needs a ``client``). ``ignore``: payload keys left out besides the volatile ones
    (``_align.VOLATILE_PAYLOAD_KEYS``); ``factor``: how many times slower (or faster)
    a step must be to count as a timing divergence."""
    if baseline is not None:
        others = baseline
    reason = "given"
    if others is None:
        own = str(field(trace.run, "run_id"))
        if among is not None:
            pool = [run for run in among if str(field(run.run, "run_id")) != own]
            chosen, reason = typical_run(pool)
        elif client is not None:
            chosen, reason = similar_run(trace, client, candidates=candidates)
        else:
            raise ValueError(
                "compare() needs runs to compare with (baseline=, among=) or a client to pick "
                "the most typical succeeded run"
            )
        baselines = [chosen]
    elif hasattr(others, "steps_frame"):
        baselines = [others]  # type: ignore[list-item]
    else:
        baselines = list(others)
    if not baselines:
        raise ValueError("compare() needs at least one run to compare with")
    if isinstance(ignore, str):
        ignore = [ignore]
    return Comparison(
        trace, baselines, factor, ignore=VOLATILE_PAYLOAD_KEYS | frozenset(ignore), reason=reason
    )
