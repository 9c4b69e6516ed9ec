"""A mission's history for comparisons: the steps of its earlier runs, from wherever they are.

``baseline`` may be a steps frame of earlier runs, a client (the mission's recent succeeded
runs are fetched, with their plans), or anything with a ``steps(mission=..., since=...)``
method returning a steps frame (a :class:`missionlab.History`, duck-typed). The current run's
own steps are always left out. :func:`mission_baseline` sums it up as a :class:`Baseline`,
what the checks of the findings engine that compare with the mission's usual are given.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

import pandas as pd

from ..client._concurrent import bounded_map
from ..client._plans import fetch_plans
from ..frames import steps_frame
from ..frames._runlike import RunLike, field
from ..types import EventType, RunStatus, StepStatus

__all__ = [
    "BASELINE_KEY",
    "BASELINE_RUNS",
    "Baseline",
    "baseline_steps",
    "mission_baseline",
    "recent_runs",
    "step_baseline",
    "usual_overlaps",
]

BASELINE_KEY = "_missionlab_baseline_steps"  # where a trace keeps the baseline fetched for it
BASELINE_RUNS = 20  # succeeded runs fetched for a baseline
MIN_SAMPLES = 3  # earlier runs a step needs before its median means something
UNUSUAL = 2.0  # an earlier duration this many times the step's median is not part of its usual
PAGE, MAX_PAGES = 100, 20  # runs listed at a time, and at most this many pages


def recent_runs(client: Any, mission_id: str, *, exclude: str, limit: int, near: Any = None) -> list[Any]:
    """The mission's succeeded runs (models), nearest to ``near`` first (newest first without
    it). Pages (newest first) are read until ``limit`` runs older than ``near`` are in hand."""
    first = client.missions.runs.list(mission_id, status=RunStatus.SUCCEEDED, page_size=PAGE)
    moment = None if near is None else pd.Timestamp(near)
    runs: list[Any] = []
    for number, page in enumerate(first.iter_pages()):
        runs.extend(run for run in page.data if run.run_id != exclude)
        older = len(runs) if moment is None else sum(pd.Timestamp(r.started_at) <= moment for r in runs)
        if older >= limit or number + 1 >= MAX_PAGES:
            break
    if moment is not None:
        runs.sort(key=lambda run: abs(pd.Timestamp(run.started_at) - moment))
    return runs[:limit]


def _plans(client: Any, runs: list[Any]) -> pd.DataFrame:
    """The plans of ``runs`` as one steps frame, with each run's status changes (its pauses
    are not working time); step times missing from a plan are read from that run's step
    events (all its events are read then)."""
    events_api = client.missions.runs.events
    # A run listed but its plan gone (or never made) gives no sample.
    plans = fetch_plans(client, [(run.run_id, run.mission_id) for run in runs], missing="empty")
    wanted = [
        (run, None if all(s.started_at is None for s in plan) else EventType.STATUS_CHANGE)
        for run, plan in zip(runs, plans, strict=True)
        if plan
    ]
    fetched = bounded_map(
        lambda pair: events_api.list(
            pair[0].run_id, mission_id=pair[0].mission_id, type=pair[1], page_size=1000
        ).fetch_all(),
        wanted,
        name="missionlab-baseline",
    )
    steps = [step for plan in plans for step in plan]
    events = [event for run_events in fetched for event in run_events]
    return steps_frame(steps, events=events or None)


def baseline_steps(trace: RunLike, baseline: Any, *, limit: int = BASELINE_RUNS) -> pd.DataFrame | None:
    """The steps of the runs ``baseline`` stands for (see the module's docstring), without
    ``trace``'s own run; None when there is no baseline."""
    if baseline is None or baseline is False:
        return None
    run_id = str(field(trace.run, "run_id"))
    mission_id = field(trace.run, "mission_id")
    held = getattr(baseline, "steps", None)
    if isinstance(baseline, pd.DataFrame):
        frame = baseline
    elif isinstance(held, pd.DataFrame):  # fetch_frames(client, steps=True)
        frame = held
    elif callable(held):
        frame = baseline.steps(mission=mission_id)
    elif hasattr(baseline, "missions"):
        runs = recent_runs(
            baseline, mission_id, exclude=run_id, limit=limit, near=field(trace.run, "started_at")
        )
        frame = _plans(baseline, runs)
    else:
        raise TypeError(
            "baseline must be a steps frame, a client, or an object with a steps(mission=...) method "
            f"(a missionlab History), not {type(baseline).__name__}"
        )
    if "run_id" in frame:
        frame = frame[frame["run_id"] != run_id]
    return frame


def step_baseline(steps: pd.DataFrame | None) -> pd.DataFrame:
    """Per step id: ``median_s``, ``p95_s`` and ``runs`` of the working time (``working_s``:
    the time the run was paused left out) of the completed steps of ``steps`` (steps of at
    least :data:`MIN_SAMPLES` runs only; the median and p95 leave out the runs where the step
    took :data:`UNUSUAL` times its median or more; a step with no working time, its end before
    its start, is no sample). ``steps`` may also be per-step statistics already (``step_id``,
    ``median_s``, ``p95_s``, ``finished`` or ``runs``), taken as they are."""
    columns = ["median_s", "p95_s", "runs"]
    if steps is None or steps.empty:
        return pd.DataFrame(columns=columns, index=pd.Index([], name="step_id"))
    if "median_s" in steps:  # already statistics (frames.step_stats, History.step_stats)
        stats = steps.assign(runs=steps.get("finished", steps.get("runs"))).set_index(
            steps["step_id"].astype(str)
        )[columns]
        stats.index.name = "step_id"
        return stats[stats["runs"] >= MIN_SAMPLES]
    # a frame made before working_s existed: its wall times, those that are times at all
    working = (
        steps["working_s"] if "working_s" in steps else steps["duration_s"].where(steps["duration_s"] >= 0)
    )
    done = (steps["status"] == StepStatus.COMPLETED) & working.notna() & ~steps["is_running"].astype(bool)
    durations = working[done].astype(float)
    step_ids = steps.loc[done, "step_id"].astype(str)
    grouped = durations.groupby(step_ids, sort=False)
    # The usual spread leaves out the earlier runs where the step was slow itself: a mission
    # whose step is often slow must not learn that slow is usual.
    usual = (durations < UNUSUAL * grouped.transform("median")).to_numpy()
    kept = durations[usual].groupby(step_ids[usual], sort=False)
    stats = pd.DataFrame({"median_s": kept.median(), "p95_s": kept.quantile(0.95), "runs": grouped.size()})
    stats.index.name = "step_id"
    return stats[stats["runs"] >= MIN_SAMPLES]


@dataclass(frozen=True)
class Baseline:
    """What the mission's earlier runs say is usual, for the checks that compare with it.

    ``runs``: how many earlier runs it rests on; ``steps``: per step id (the index), the
    ``median_s``, ``p95_s`` and ``runs`` of its working time (``step_baseline``); ``overlaps``:
    the pairs of sibling steps the mission usually runs side by side (``usual_overlaps``).
    """

    runs: int
    steps: pd.DataFrame
    overlaps: frozenset[frozenset[str]] = frozenset()

    @property
    def note(self) -> str:
        """One line saying what the baseline rests on."""
        return f"Baseline: {self.runs} earlier runs; {len(self.steps)} steps with enough history to compare."


def mission_baseline(trace: RunLike, baseline: Any) -> Baseline | None:
    """The :class:`Baseline` of ``trace``'s mission that ``baseline`` stands for (see the
    module's docstring); None when there is none."""
    earlier = baseline_steps(trace, baseline)
    if earlier is None:
        return None
    runs = earlier["run_id"].nunique() if "run_id" in earlier else len(earlier)
    return Baseline(runs=int(runs), steps=step_baseline(earlier), overlaps=usual_overlaps(earlier))


def usual_overlaps(steps: pd.DataFrame | None) -> frozenset[frozenset[str]]:
    """The pairs of sibling steps that overlapped (one started before the sibling started
    just before it finished) in at least half of the earlier runs that started both, of
    :data:`MIN_SAMPLES` at least: a fan-out the mission makes on purpose, not a step left
    open. Empty for statistics without each run's times."""
    if steps is None or steps.empty or not {"run_id", "step_id", "started_at", "completed_at"} <= set(steps):
        return frozenset()
    started = steps[steps["started_at"].notna()]
    parents = started["parent_step_id"].fillna("") if "parent_step_id" in started else ""
    started = started.assign(_parent=parents, step_id=started["step_id"].astype(str)).sort_values(
        ["run_id", "_parent", "started_at"], kind="stable"
    )
    groups = started.groupby(["run_id", "_parent"], sort=False)
    overlapped = (started["started_at"] < groups["completed_at"].shift(1)).fillna(False).astype(bool)
    runs = started["run_id"][overlapped].tolist()
    step_ids = started["step_id"][overlapped].tolist()
    befores = groups["step_id"].shift(1)[overlapped].astype(str).tolist()
    # each pair counted once per run it overlapped in
    overlaps = {(run, frozenset((str(a), b))) for run, a, b in zip(runs, step_ids, befores, strict=True)}
    counts = Counter(pair for _, pair in overlaps)
    runs_of = {str(step): set(runs) for step, runs in started.groupby("step_id")["run_id"]}
    usual: set[frozenset[str]] = set()
    for pair, count in counts.items():
        both = len(set.intersection(*(runs_of[step] for step in pair)))
        if both >= MIN_SAMPLES and 2 * count >= both:
            usual.add(pair)
    return frozenset(usual)
