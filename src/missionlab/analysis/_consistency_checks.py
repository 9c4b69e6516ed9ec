"""The checks that find a run's record inconsistent or suspicious: steps finished without a
start, ending before they start or left open in a finished run, a run left open after every
step finished, events naming unknown steps or disagreeing with a step's status, silent
running steps, a missing result or error, steps out of order or overlapping; and, as
information, values missionlab does not know and times read from events. Their findings are
of kind ``inconsistency``: what :func:`missionlab.diagnose` lists.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator

import numpy as np
import pandas as pd

from ..frames._durations import duration_text
from ..frames._fleet import ENDED_STEP_STATUSES
from ..frames._runlike import field
from ..types import (
    FINISHED_STEP_STATUSES,
    TERMINAL_RUN_STATUSES,
    EventType,
    RunStatus,
    StepStatus,
)
from ._evidence import Evidence, moment
from ._outcome_checks import waiting_on_tools
from ._parallel import started_late
from ._run_view import RunView
from .finding import Check, CheckInput, Found, Need, Severity

__all__ = ["CONSISTENCY_CHECKS", "INCONSISTENCY"]

INCONSISTENCY = "inconsistency"
OPEN_STEP_STATUSES = frozenset({StepStatus.PENDING, StepStatus.IN_PROGRESS})
STEP_MARKS = [EventType.STEP_STARTED, EventType.STEP_COMPLETED, EventType.STEP_FAILED]
WEIGHTS: dict[Severity, float] = {"error": 35, "warning": 30, "info": 0}  # in an explanation


def _about(step_id: object = None) -> Evidence:
    return Evidence(steps=() if step_id is None else (str(step_id),))


def finished_without_start(given: CheckInput) -> Iterator[Found]:
    steps = given.view.steps
    rows = steps[steps["status"].isin(ENDED_STEP_STATUSES) & steps["started_at"].isna()]
    for step_id, status in zip(rows["step_id"], rows["status"], strict=True):
        yield Found(
            f"Step {step_id!r} is {status} but never started (it has no started_at).", _about(step_id)
        )


def _stamp(moment: pd.Timestamp) -> str:
    return f"{moment:%Y-%m-%d %H:%M:%S}.{moment.microsecond // 1000:03d} UTC"


def ends_before_start(given: CheckInput) -> Iterator[Found]:
    """Steps whose end comes before their start (clocks that disagree, or times written
    wrong): no duration can be read from them, so no comparison uses them."""
    view = given.view
    steps = view.steps
    rows = steps[(steps["completed_at"] < steps["started_at"]).fillna(False).to_numpy(dtype=bool)]
    marks = view.events[view.events["type"].isin(STEP_MARKS)]
    for step_id, source, started, ended in zip(
        rows["step_id"], rows["times_from"].astype(str), rows["started_at"], rows["completed_at"], strict=True
    ):
        start, end = moment(started), moment(ended)
        inverted = (start - end).total_seconds()
        told = {"plan": "the plan gives", "events": "its events give"}.get(
            source, "the plan and its events give"
        )
        text = (
            f"Step {step_id!r} ends before it starts: its end ({_stamp(end)}) is "
            f"{duration_text(inverted)} before its start ({_stamp(start)}), as {told} them; "
            "its duration is unknown."
        )
        evidence = Evidence(
            steps=(str(step_id),),
            events=view.ids(marks[marks["step_id"] == step_id]),
            start=start,
            end=end,
            values={"inverted_s": inverted},
        )
        yield Found(text, evidence)


def open_step_in_finished_run(given: CheckInput) -> Iterator[Found]:
    """Steps still open in a run that ended: one still in progress (nobody closed it), or one
    still pending in a run that succeeded (it says it did all its work, yet skipped a planned
    step without saying so). Steps left pending by a run that failed or was cancelled are the
    normal shape of a run that stopped: not told; nor is the step a cancelled run was stopped
    in (cancelled from outside, its agent never closed it: the sandbox leaves it in progress,
    and ``explain()`` names it as the step the run was cancelled during)."""
    view = given.view
    if view.status not in TERMINAL_RUN_STATUSES or view.status == RunStatus.CANCELLED:
        return
    open_statuses = OPEN_STEP_STATUSES if view.status == RunStatus.SUCCEEDED else {StepStatus.IN_PROGRESS}
    rows = view.steps[view.steps["status"].isin(open_statuses)]
    for step_id, status in zip(rows["step_id"], rows["status"], strict=True):
        severity: Severity = "error" if status == StepStatus.IN_PROGRESS else "warning"
        text = f"Step {step_id!r} is still {status} although the run is {view.status}."
        yield Found(text, _about(step_id), severity=severity, weight=WEIGHTS[severity])


def run_open_after_all_steps(given: CheckInput) -> Iterator[Found]:
    view = given.view
    if (
        view.status in (RunStatus.RUNNING, RunStatus.PAUSED)
        and len(view.steps)
        and bool(view.steps["status"].isin(FINISHED_STEP_STATUSES).all())
    ):
        yield Found(
            f"The run is still {view.status} although all {len(view.steps)} steps are finished: "
            "was it never marked succeeded or failed?"
        )


def event_for_unknown_step(given: CheckInput) -> Iterator[Found]:
    view = given.view
    known = set(view.steps["step_id"].dropna())
    named = view.events[view.events["step_id"].notna() & ~view.events["step_id"].isin(known)]
    for step_id, group in named.groupby("step_id", observed=True, sort=True):
        text = f"{len(group)} event(s) name step {step_id!r}, which is not in the plan."
        yield Found(text, Evidence(steps=(str(step_id),), events=view.ids(group)))


def event_disagrees_with_status(given: CheckInput) -> Iterator[Found]:
    view = given.view
    events = view.events
    verdicts = events[
        events["type"].isin([EventType.STEP_COMPLETED, EventType.STEP_FAILED]) & events["step_id"].notna()
    ]
    if verdicts.empty:
        return
    last = verdicts.groupby("step_id", observed=True).tail(1)
    status = dict(zip(view.steps["step_id"], view.steps["status"].astype(str), strict=True))
    for step_id, kind, event_id in zip(
        last["step_id"], last["type"].astype(str), view.ids(last), strict=True
    ):
        expected = StepStatus.COMPLETED if kind == EventType.STEP_COMPLETED else StepStatus.FAILED
        actual = status.get(step_id)
        if actual is not None and actual != expected:
            text = f"The last {kind} event says step {step_id!r} {expected}, but the step is {actual}."
            yield Found(text, Evidence(steps=(str(step_id),), events=(event_id,)))


def silent_step(given: CheckInput) -> Iterator[Found]:
    view = given.view
    steps = view.steps
    running = steps[(steps["status"] == StepStatus.IN_PROGRESS) & steps["started_at"].notna()]
    if running.empty or view.status != RunStatus.RUNNING:  # paused: silence expected; finished: told above
        return
    last_event = view.events.groupby("step_id", observed=True)["timestamp"].max()
    waiting = waiting_on_tools(given)
    for step_id, started in zip(running["step_id"], running["started_at"], strict=True):
        if step_id in waiting:
            continue  # waiting for a tool's answer: quiet, not silent
        heard = max(started, last_event.get(step_id, started))
        quiet = given.now - heard
        if quiet > given.settings.silence:
            yield Found(
                f"Step {step_id!r} is in progress but nothing has been heard from it for "
                f"{duration_text(quiet.total_seconds())} (since {heard:%Y-%m-%d %H:%M} UTC).",
                _about(step_id),
            )


def no_result_summary(given: CheckInput) -> Iterator[Found]:
    if given.view.status == RunStatus.SUCCEEDED and not field(given.view.run, "result_summary"):
        yield Found("The run succeeded without a result_summary.")


def failed_without_error(given: CheckInput) -> Iterator[Found]:
    if given.view.status == RunStatus.FAILED and not field(given.view.run, "error"):
        yield Found("The run failed without an error message.")


def _siblings(view: RunView) -> Iterator[pd.DataFrame]:
    started = view.steps[view.steps["started_at"].notna()]
    for _, group in started.groupby(started["parent_step_id"].fillna(""), sort=False):
        if len(group) > 1:
            yield group.sort_values("sequence")


def out_of_sequence(given: CheckInput) -> Iterator[Found]:
    """Steps a sibling after them in the plan ran before (:func:`._parallel.started_late`:
    siblings run side by side have no order)."""
    for group in _siblings(given.view):
        origin = group["started_at"].min()
        start = (group["started_at"] - origin).dt.total_seconds().to_numpy(dtype="float64", na_value=np.nan)
        end = (group["completed_at"] - origin).dt.total_seconds().to_numpy(dtype="float64", na_value=np.nan)
        late = group[started_late(start, end, np.zeros(len(group), dtype="int64"))]
        for step_id, sequence in zip(late["step_id"], late["sequence"], strict=True):
            text = (
                f"Step {step_id!r} (sequence {sequence}) started after a step that comes later in the plan."
            )
            yield Found(text, _about(step_id))


def _agents(view: RunView) -> dict[str, object]:
    """The agent each step's events come from (the most frequent), where they name one."""
    named = view.events[view.events["step_id"].notna() & view.events["agent_id"].notna()]
    if named.empty:
        return {}
    counts = named.groupby(["step_id", "agent_id"], observed=True).size()
    return {str(step): agent for (step, agent) in counts.sort_values().index}


def overlapping_siblings(given: CheckInput) -> Iterator[Found]:
    """Sibling steps of one agent, in the order they started, one starting before the one
    before it finished, although most of them ran one after another (time order, not plan
    order: a step added or moved during the run is not an overlap; steps run by different
    agents run side by side; so do two steps the plan gives the same sequence number, and
    two steps the mission's baseline usually runs side by side)."""
    agents = _agents(given.view)
    usual = given.baseline.overlaps if given.baseline is not None else frozenset()
    for group in _siblings(given.view):
        group = group.sort_values(["started_at", "sequence"], kind="stable")
        ends = group["completed_at"].fillna(given.now)
        previous_end = ends.shift(1)
        same_agent = [
            index > 0 and agents.get(str(a)) == agents.get(str(b))
            for index, (a, b) in enumerate(zip(group["step_id"], group["step_id"].shift(1), strict=True))
        ]
        numbered_apart = (group["sequence"] != group["sequence"].shift(1)).fillna(True)
        overlaps = (
            (group["started_at"] < previous_end)
            & pd.Series(same_agent, index=group.index)
            & numbered_apart.astype(bool)
        )
        pairs = len(group) - 1
        # Only when the data says the plan is sequential: most siblings do not overlap.
        if 0 < overlaps.sum() <= pairs / 2 and pairs >= 2:
            previous = group["step_id"].shift(1)
            for step_id, before in zip(group["step_id"][overlaps], previous[overlaps], strict=True):
                if frozenset((str(step_id), str(before))) in usual:
                    continue
                yield Found(
                    f"Step {step_id!r} started before {before!r} finished, although its "
                    "other sibling steps ran one after another.",
                    _about(step_id),
                )


def unknown_status(given: CheckInput) -> Iterator[Found]:
    """Statuses the published vocabulary does not hold (yet): kept and shown under their own
    name, said here so that nobody reads them as an error."""
    view = given.view
    if view.status not in set(RunStatus):
        yield Found(f"The run's status {view.status!r} is not one missionlab knows.")
    steps = view.steps
    unknown = ~steps["status"].isin(set(StepStatus)) & steps["status"].notna()
    for step_id, status in zip(steps["step_id"][unknown], steps["status"][unknown], strict=True):
        yield Found(
            f"Step {step_id!r} has status {status!r}, which missionlab does not know: it is drawn as is.",
            _about(step_id),
        )


def unknown_event_type(given: CheckInput) -> Iterator[Found]:
    """Event types the published vocabulary does not hold (yet)."""
    events = given.view.events
    unknown = events[~events["type"].isin(set(EventType)) & events["type"].notna()]
    for kind, group in unknown.groupby(unknown["type"].astype(str), sort=False):
        text = f"{len(group)} event(s) of type {kind!r}, which missionlab does not know."
        yield Found(text, Evidence(events=given.view.ids(group)))


def times_from_events(given: CheckInput) -> Iterator[Found]:
    """Steps whose plan entry has no times (the published API does not promise them): the
    checks read their times from their step events."""
    steps = given.view.steps
    derived = steps[steps["times_from"].isin(["events", "start from events", "end from events"])]
    if len(derived):
        names = ", ".join(repr(s) for s in derived["step_id"].head(5)) + (", ..." if len(derived) > 5 else "")
        yield Found(
            f"{len(derived)} step(s) have no started_at/completed_at in the plan ({names}): "
            "their times were read from their step events."
        )


NOW: frozenset[Need] = frozenset({"now"})


def _check(
    name: str,
    severity: Severity,
    look: Callable[[CheckInput], Iterable[Found]],
    needs: frozenset[Need] = frozenset(),
) -> Check:
    return Check(name, INCONSISTENCY, severity, WEIGHTS[severity], look, needs=needs)


CONSISTENCY_CHECKS = (
    _check("finished_without_start", "warning", finished_without_start),
    _check("ends_before_start", "warning", ends_before_start),
    _check("open_step_in_finished_run", "error", open_step_in_finished_run),
    _check("run_open_after_all_steps", "warning", run_open_after_all_steps),
    _check("event_for_unknown_step", "warning", event_for_unknown_step),
    _check("event_disagrees_with_status", "error", event_disagrees_with_status),
    _check("silent_step", "warning", silent_step, NOW),
    _check("no_result_summary", "info", no_result_summary),
    _check("failed_without_error", "warning", failed_without_error),
    _check("out_of_sequence", "info", out_of_sequence),
    _check("overlapping_siblings", "warning", overlapping_siblings, NOW),
    _check("unknown_status", "info", unknown_status),
    _check("unknown_event_type", "info", unknown_event_type),
    _check("times_from_events", "info", times_from_events),
)
