"""The checks of :func:`missionlab.analysis.diagnosis.diagnose`: what is inconsistent or
suspicious in a run, its plan and its events, one function per check."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta

import pandas as pd

from ..frames._durations import duration_text
from ..frames._fleet import ENDED_STEP_STATUSES
from ..frames._runlike import RunLike, field
from ..types import (
    FINISHED_STEP_STATUSES,
    TERMINAL_RUN_STATUSES,
    EventType,
    RunStatus,
    StepStatus,
)

SEVERITY = pd.CategoricalDtype(["error", "warning", "info"], ordered=True)
COLUMNS = ["severity", "check", "step_id", "message"]
OPEN_STEP_STATUSES = frozenset({StepStatus.PENDING, StepStatus.IN_PROGRESS})

Finding = tuple[str, str, str | None, str]  # severity, check, step_id, message


class _Context:
    """What the checks look at: the run, its steps and events as frames, and "now"."""

    def __init__(self, trace: RunLike, now: pd.Timestamp, silence: timedelta) -> None:
        self.run = trace.run
        self.status = str(field(trace.run, "status"))
        self.steps = trace.steps_frame
        self.events = trace.events_frame
        self.now = now
        self.silence = silence


def _started_nowhere(c: _Context) -> Iterator[Finding]:
    rows = c.steps[c.steps["status"].isin(ENDED_STEP_STATUSES) & c.steps["started_at"].isna()]
    for step_id, status in zip(rows["step_id"], rows["status"], strict=True):
        yield (
            "warning",
            "finished_without_start",
            step_id,
            f"Step {step_id!r} is {status} but never started (it has no started_at).",
        )


def _open_steps_in_finished_run(c: _Context) -> Iterator[Finding]:
    if c.status not in TERMINAL_RUN_STATUSES:
        return
    rows = c.steps[c.steps["status"].isin(OPEN_STEP_STATUSES)]
    for step_id, status in zip(rows["step_id"], rows["status"], strict=True):
        severity = "error" if status == StepStatus.IN_PROGRESS else "warning"
        yield (
            severity,
            "open_step_in_finished_run",
            step_id,
            f"Step {step_id!r} is still {status} although the run is {c.status}.",
        )


def _run_open_with_all_steps_done(c: _Context) -> Iterator[Finding]:
    if (
        c.status in (RunStatus.RUNNING, RunStatus.PAUSED)
        and len(c.steps)
        and bool(c.steps["status"].isin(FINISHED_STEP_STATUSES).all())
    ):
        yield (
            "warning",
            "run_open_after_all_steps",
            None,
            f"The run is still {c.status} although all {len(c.steps)} steps are finished: "
            "was it never marked succeeded or failed?",
        )


def _events_for_unknown_steps(c: _Context) -> Iterator[Finding]:
    known = set(c.steps["step_id"].dropna())
    named = c.events[c.events["step_id"].notna() & ~c.events["step_id"].isin(known)]
    for step_id, group in named.groupby("step_id", observed=True, sort=True):
        yield (
            "warning",
            "event_for_unknown_step",
            str(step_id),
            f"{len(group)} event(s) name step {step_id!r}, which is not in the plan.",
        )


def _events_disagree_with_status(c: _Context) -> Iterator[Finding]:
    verdicts = c.events[
        c.events["type"].isin([EventType.STEP_COMPLETED, EventType.STEP_FAILED]) & c.events["step_id"].notna()
    ]
    if verdicts.empty:
        return
    last = verdicts.groupby("step_id", observed=True).tail(1)
    status = dict(zip(c.steps["step_id"], c.steps["status"].astype(str), strict=True))
    for step_id, kind in zip(last["step_id"], last["type"].astype(str), strict=True):
        expected = StepStatus.COMPLETED if kind == EventType.STEP_COMPLETED else StepStatus.FAILED
        actual = status.get(step_id)
        if actual is not None and actual != expected:
            yield (
                "error",
                "event_disagrees_with_status",
                step_id,
                f"The last {kind} event says step {step_id!r} {expected}, but the step is {actual}.",
            )


def _silent_steps(c: _Context) -> Iterator[Finding]:
    running = c.steps[(c.steps["status"] == StepStatus.IN_PROGRESS) & c.steps["started_at"].notna()]
    if running.empty or c.status != RunStatus.RUNNING:  # paused: silence expected; finished: reported above
        return
    last_event = c.events.groupby("step_id", observed=True)["timestamp"].max()
    for step_id, started in zip(running["step_id"], running["started_at"], strict=True):
        heard = max(started, last_event.get(step_id, started))
        quiet = c.now - heard
        if quiet > c.silence:
            yield (
                "warning",
                "silent_step",
                step_id,
                f"Step {step_id!r} is in progress but nothing has been heard from it for "
                f"{duration_text(quiet.total_seconds())} (since {heard:%Y-%m-%d %H:%M} UTC).",
            )


def _result_missing(c: _Context) -> Iterator[Finding]:
    if c.status == RunStatus.SUCCEEDED and not field(c.run, "result_summary"):
        yield ("info", "no_result_summary", None, "The run succeeded without a result_summary.")
    if c.status == RunStatus.FAILED and not field(c.run, "error"):
        yield ("warning", "failed_without_error", None, "The run failed without an error message.")


def _siblings(c: _Context) -> Iterator[pd.DataFrame]:
    started = c.steps[c.steps["started_at"].notna()]
    for _, group in started.groupby(started["parent_step_id"].fillna(""), sort=False):
        if len(group) > 1:
            yield group.sort_values("sequence")


def _out_of_order(c: _Context) -> Iterator[Finding]:
    for group in _siblings(c):
        earliest_later = group["started_at"][::-1].cummin()[::-1].shift(-1)
        late = group[group["started_at"] > earliest_later]
        for step_id, sequence in zip(late["step_id"], late["sequence"], strict=True):
            yield (
                "info",
                "out_of_sequence",
                step_id,
                f"Step {step_id!r} (sequence {sequence}) started after a step that comes later in the plan.",
            )


def _overlapping_siblings(c: _Context) -> Iterator[Finding]:
    for group in _siblings(c):
        ends = group["completed_at"].fillna(c.now)
        previous_end = ends.shift(1)
        overlaps = group["started_at"] < previous_end
        pairs = len(group) - 1
        # Only when the data says the plan is sequential: most siblings do not overlap.
        if 0 < overlaps.sum() <= pairs / 2 and pairs >= 2:
            previous = group["step_id"].shift(1)
            for step_id, before in zip(group["step_id"][overlaps], previous[overlaps], strict=True):
                yield (
                    "warning",
                    "overlapping_siblings",
                    step_id,
                    f"Step {step_id!r} started before {before!r} finished, although its "
                    "other sibling steps ran one after another.",
                )


def _unknown_values(c: _Context) -> Iterator[Finding]:
    """Statuses and event types the published vocabulary does not hold (yet): kept and
    shown under their own name, said here so that nobody reads them as an error."""
    if c.status not in set(RunStatus):
        yield ("info", "unknown_status", None, f"The run's status {c.status!r} is not one missionlab knows.")
    unknown = ~c.steps["status"].isin(set(StepStatus)) & c.steps["status"].notna()
    for step_id, status in zip(c.steps["step_id"][unknown], c.steps["status"][unknown], strict=True):
        yield (
            "info",
            "unknown_status",
            step_id,
            f"Step {step_id!r} has status {status!r}, which missionlab does not know: it is drawn as is.",
        )
    types = c.events["type"][~c.events["type"].isin(set(EventType)) & c.events["type"].notna()]
    for kind, count in types.astype(str).value_counts(sort=False).items():
        yield (
            "info",
            "unknown_event_type",
            None,
            f"{count} event(s) of type {kind!r}, which missionlab does not know.",
        )


def _times_from_events(c: _Context) -> Iterator[Finding]:
    """Steps whose plan entry has no times (the published API does not promise them): the
    checks above read their times from their step events."""
    derived = c.steps[c.steps["times_from"].isin(["events", "start from events", "end from events"])]
    if len(derived):
        names = ", ".join(repr(s) for s in derived["step_id"].head(5)) + (", ..." if len(derived) > 5 else "")
        yield (
            "info",
            "times_from_events",
            None,
            f"{len(derived)} step(s) have no started_at/completed_at in the plan ({names}): "
            "their times were read from their step events.",
        )


CHECKS: list[Callable[[_Context], Iterator[Finding]]] = [
    _started_nowhere,
    _open_steps_in_finished_run,
    _run_open_with_all_steps_done,
    _events_for_unknown_steps,
    _events_disagree_with_status,
    _silent_steps,
    _result_missing,
    _out_of_order,
    _overlapping_siblings,
    _unknown_values,
    _times_from_events,
]
