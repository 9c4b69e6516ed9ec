"""The checks that tell what happened to a run and why: it is stuck, a step failed (or the
run failed or was cancelled without one), the calls that led there, the steps skipped,
steps slow against the mission's baseline, tools called again and again, long silences.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pandas as pd

from ..frames._durations import duration_text
from ..frames._pauses import paused_intervals
from ..frames._runlike import field
from ..types import ACTIVE_RUN_STATUSES, FINISHED_STEP_STATUSES, EventType, RunStatus, StepStatus
from ._evidence import Evidence, clock, moment, span, utc
from ._run_view import RunView
from .finding import Check, CheckInput, Found, Need

__all__ = ["OUTCOME_CHECKS", "waiting_on_tools"]

CHAIN_TYPES = [EventType.TOOL_CALL, EventType.TOOL_RESULT, EventType.ERROR, EventType.STEP_FAILED]
CHAIN_LENGTH = 6  # events of an error chain told
LOOP_CALLS = 3  # calls of one tool in one step that make a retry loop ...
LOOP_FAILURES = 2  # ... when at least this many were retries of failed calls (paging is not)
# statuses that say "not now" (too many requests, unavailable, a gateway or request timeout):
# calls refused so, then retried until one succeeded, are a retry policy working, not a loop
REFUSED_FOR_NOW = frozenset({408, 429, 502, 503, 504})
_STATUS = re.compile(r"status (\d{3})\b")  # how a failed call's outcome starts when its result gave one
MIN_EXTRA_S = 5.0  # a slow step is also this many seconds over its median
SPREAD = 3.0  # ... and this many times its usual spread (p95 minus median) over it
MIN_GAP_S = 60.0  # the shortest silence told, whatever the run's usual pace
GAP_FACTOR = 10.0  # ... and at least this many times the run's median time between events
MAX_GAPS = 2


def _short(text: Any, limit: int = 90) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def stuck_open(given: CheckInput) -> Iterator[Found]:
    """A run still pending or running although nothing has been heard for ``silence``; not a
    paused run (someone paused it: silence is expected until they resume it), nor a run
    with a tool call still waiting for its answer (a tool may take long: a human approving,
    a long job; :func:`silent_gaps` does not count that time either)."""
    view = given.view
    if view.status not in ACTIVE_RUN_STATUSES or view.status == RunStatus.PAUSED or waiting_on_tools(given):
        return
    heard = [utc(field(view.run, "updated_at")), view.start]
    if len(view.events):
        heard.append(view.events["timestamp"].iat[-1])
    last = max(h for h in heard if h is not None)
    quiet = (given.now - last).total_seconds()
    if quiet <= given.settings.silence.total_seconds():
        return
    open_steps = view.steps[view.steps["status"] == StepStatus.IN_PROGRESS]
    done = len(view.steps) and bool(view.steps["status"].isin(FINISHED_STEP_STATUSES).all())
    text = (
        f"The run is still {view.status} but nothing has been heard for {duration_text(quiet)} "
        f"(last sign of life {last:%Y-%m-%d %H:%M:%S} UTC)"
    )
    if done:
        text += (
            f", although all {len(view.steps)} steps are finished: it was never marked succeeded or failed"
        )
    elif len(open_steps):
        text += f"; {view.name(open_steps['step_id'].iat[-1])} is still in progress"
    if view.status == RunStatus.RUNNING:
        text += ": the agent may have gone away"
    evidence = Evidence(
        steps=tuple(map(str, open_steps["step_id"])),
        events=view.ids(view.events.tail(1)),
        start=last,
        end=given.now,
        values={"silence_s": quiet},
    )
    if view.status == RunStatus.RUNNING:
        yield Found(text + ".", evidence)
    else:  # pending: not started yet, it may still be picked up
        yield Found(text + ".", evidence, severity="warning", weight=45)


def failed_step(given: CheckInput) -> Iterator[Found]:
    """The failed step the failure started in, its error, and the parents that failed with it."""
    view = given.view
    origin = view.failure_origin
    if origin is None:
        return
    step = view.step(origin)
    mine = view.events[view.events["step_id"].isin(view.subtree(origin))]
    errors = mine[mine["type"].isin([EventType.ERROR, EventType.STEP_FAILED])]
    messages = mine.loc[mine["type"] == EventType.ERROR, "summary"]
    message = messages.iat[-1] if len(messages) else field(view.run, "error")
    text = f"Step {view.name(origin)} failed"
    if not pd.isna(step["completed_at"]):
        text += f" at {clock(step['completed_at'])}"
    if not pd.isna(step["duration_s"]):
        text += f" after {duration_text(step['duration_s'])}"
    text += f": {_short(message)}" if message else " (no error message was recorded)"
    failed = set(view.steps.loc[view.steps["status"] == StepStatus.FAILED, "step_id"])
    parents = [p for p in view.ancestors(origin) if p in failed]
    if parents:
        text += "; with it, " + ", ".join(view.name(p) for p in parents) + " failed"
    evidence = Evidence(
        steps=(str(origin), *map(str, parents)),
        events=view.ids(errors),
        start=utc(step["started_at"]),
        end=utc(step["completed_at"]),
        values={"duration_s": step["duration_s"]},
    )
    yield Found(text + ".", evidence)


def _run_end(view: RunView) -> tuple[str, Evidence]:
    """When and during which step the run ended (for a run that failed or was cancelled
    with no failed step), and the status events that say so."""
    changes = view.events[view.events["type"] == EventType.STATUS_CHANGE]
    final = changes[changes["payload"].fillna("").str.contains(f'"to":"{view.status}"', regex=False)]
    open_steps = view.steps[view.steps["status"] == StepStatus.IN_PROGRESS]
    during = f" during {view.name(open_steps['step_id'].iat[-1])}" if len(open_steps) else ""
    end = utc(field(view.run, "finished_at"))
    when = f" at {clock(end)}" if end is not None else ""
    return f"{when}{during}", Evidence(events=tuple(map(str, final["event_id"])), start=end)


def run_failed(given: CheckInput) -> Iterator[Found]:
    """A run that failed although none of its steps did (but steps recovered from)."""
    view = given.view
    if view.status != RunStatus.FAILED or view.failure_origin is not None:
        return
    where, evidence = _run_end(view)
    error = field(view.run, "error")
    reason = f": {_short(error)}" if error else " without an error message"
    recovered = (view.steps["status"] == StepStatus.FAILED).any()  # all inside steps that completed
    although = "every step that failed was recovered from" if recovered else "no step failed"
    yield Found(f"The run failed{where}{reason}, although {although}.", evidence)


def cancelled(given: CheckInput) -> Iterator[Found]:
    """A run cancelled (with no failed step)."""
    view = given.view
    if view.status != RunStatus.CANCELLED or view.failure_origin is not None:
        return
    where, evidence = _run_end(view)
    yield Found(f"The run was cancelled{where}.", evidence)


def error_chain(given: CheckInput) -> Iterator[Found]:
    """The tool calls, results and errors that led to the failed step's end."""
    view = given.view
    origin = view.failure_origin
    if origin is None:
        return
    inside = view.events["step_id"].isin(view.subtree(origin))
    mine = view.events[inside & view.events["type"].isin(CHAIN_TYPES)]
    if not (mine["type"] != EventType.STEP_FAILED).any():
        return
    chain = mine.tail(CHAIN_LENGTH)
    links = [
        f"{clock(t)} {kind}: {_short(summary, 60)}"
        for t, kind, summary in zip(
            chain["timestamp"], chain["type"].astype(str), chain["summary"], strict=True
        )
    ]
    text = f"What led to it in {view.name(origin)}: " + " → ".join(links)
    calls = view.tool_calls
    failed = calls[calls["step_id"].isin(view.subtree(origin)) & calls["failed"]]
    if len(failed):
        told = [
            f"{tool} ({outcome})" for tool, outcome in zip(failed["tool"], failed["outcome"], strict=True)
        ]
        text += f"; {len(failed)} tool call(s) failed on the way: " + ", ".join(told[:3])
    evidence = Evidence(
        steps=(str(origin),),
        events=view.ids(chain),
        start=utc(chain["timestamp"].iat[0]),
        end=utc(chain["timestamp"].iat[-1]),
        values={"failed_calls": len(failed)},
    )
    yield Found(text + ".", evidence)


def skipped(given: CheckInput) -> Iterator[Found]:
    """Steps skipped, and what they were skipped because of."""
    view = given.view
    rows = view.steps[view.steps["status"] == StepStatus.SKIPPED]
    if rows.empty:
        return
    names = ", ".join(view.name(s) for s in rows["step_id"].head(5)) + (", …" if len(rows) > 5 else "")
    origin = view.failure_origin
    if origin is not None:
        cause = f" after {view.name(origin)} failed"
    elif view.status == RunStatus.CANCELLED:
        cause = " when the run was cancelled"
    else:
        cause = ""
    count = f"{len(rows)} step{'s were' if len(rows) > 1 else ' was'}"
    evidence = Evidence(
        steps=tuple(map(str, rows["step_id"])),
        start=utc(rows["completed_at"].min()),
        values={"skipped": len(rows)},
    )
    yield Found(f"{count} skipped{cause}: {names}.", evidence)


def slow_steps(given: CheckInput) -> Iterator[Found]:
    """Steps whose working time (``working_s``: the time the run was paused left out) is (or,
    at ``now``, has grown to) ``slow`` times their median in the mission's earlier runs, or
    more, 5 s over it and far outside its usual spread (over the median by :data:`SPREAD`
    times its p95 minus its median); a parent is left out when one of its descendants is
    slow already."""
    view, stats = given.view, given.baseline.steps if given.baseline is not None else None
    if stats is None or stats.empty:
        return
    steps = view.steps[view.steps["working_s"].notna() & view.steps["step_id"].isin(stats.index)]
    limits = [_slow_limit(stats.loc[step_id], given.settings.slow) for step_id in steps["step_id"]]
    slow = steps[steps["working_s"].to_numpy() >= limits]
    slow_ids = set(slow["step_id"])
    for _, step in slow.iterrows():
        step_id = step["step_id"]
        if (view.subtree(step_id) - {step_id}) & slow_ids:
            continue
        row = stats.loc[step_id]
        working, wall = float(step["working_s"]), float(step["duration_s"])
        times = working / float(row["median_s"])
        verb = "has been running for" if step["is_running"] else "took"
        took = duration_text(working)
        if wall - working >= 0.05:
            took += f" (not counting {duration_text(wall - working)} paused)"
        text = (
            f"Step {view.name(step_id)} {verb} {took}, {times:.1f}x its "
            f"median of {duration_text(row['median_s'])} in {int(row['runs'])} earlier runs"
        )
        marks = view.events[
            (view.events["step_id"] == step_id)
            & view.events["type"].isin(
                [EventType.STEP_STARTED, EventType.STEP_COMPLETED, EventType.STEP_FAILED]
            )
        ]
        evidence = Evidence(
            steps=(str(step_id),),
            events=view.ids(marks),
            start=utc(step["started_at"]),
            end=utc(step["completed_at"]),
            values={
                "duration_s": wall,
                "working_s": working,
                "median_s": float(row["median_s"]),
                "p95_s": float(row["p95_s"]),
                "ratio": round(times, 2),
                "runs": int(row["runs"]),
            },
        )
        yield Found(text + ".", evidence, weight=60 + min(times, 20))


def _refused_for_now(outcome: Any) -> bool:
    """Whether a failed call's outcome is a status of :data:`REFUSED_FOR_NOW`."""
    status = _STATUS.match(outcome) if isinstance(outcome, str) else None
    return status is not None and int(status.group(1)) in REFUSED_FOR_NOW


def retry_loops(given: CheckInput) -> Iterator[Found]:
    """The same tool called :data:`LOOP_CALLS` times or more inside one step, at least
    :data:`LOOP_FAILURES` of the calls retries (``attempt`` over 1: made once a call of the
    tool had failed): calls repeated because they failed. Calls that succeed (pages of a
    search, several model calls) and calls made together (a fan-out, some of it failing) are
    the agent's way of working; so are calls refused for now (429, 503:
    :data:`REFUSED_FOR_NOW`) and retried until the last of them succeeded (a retry policy
    with backoff)."""
    view = given.view
    calls = view.tool_calls
    for (step_id, tool), group in calls.groupby(["step_id", "tool"], sort=False, dropna=False):
        failed = group[group["failed"]]
        retries = int((group["attempt"] > 1).sum())
        if len(group) < LOOP_CALLS or retries < LOOP_FAILURES:
            continue
        if not group["failed"].iat[-1] and all(map(_refused_for_now, failed["outcome"])):
            continue
        first, last = moment(group["called_at"].iat[0]), moment(group["called_at"].iat[-1])
        span = (last - first).total_seconds()
        text = f"{view.name(step_id)} called {tool} {len(group)} times in {duration_text(span)}"
        if len(failed):
            outcomes = sorted(set(failed["outcome"]))
            text += f"; {len(failed)} of the calls failed ({', '.join(_short(o, 40) for o in outcomes[:3])})"
        evidence = Evidence(
            steps=() if not isinstance(step_id, str) else (step_id,),
            events=tuple(map(str, group["call_id"])),
            start=first,
            end=last,
            values={"calls": len(group), "failed": len(failed), "tool": tool},
        )
        yield Found(text + ".", evidence)


def silent_gaps(given: CheckInput) -> Iterator[Found]:
    """The longest stretches without any event while the run was active and not paused, and
    no tool call was waiting for its answer (a slow tool is a slow step, not a silence).
    Inside a step the mission's baseline knows, a silence is told only when it is longer than
    the step would take to count as slow (:func:`_slow_limit`); elsewhere, or without a
    baseline, when longer than ``gap`` (default: a minute, or ten times the run's usual time
    between events; without a baseline, ``silence`` at least). The tail of an active run
    is :func:`stuck_open`'s."""
    view, gap = given.view, given.settings.gap
    times = view.events["timestamp"]
    times = times[(times >= view.start) & (times <= view.end)]
    if len(times) < 2:
        return
    edges = pd.concat([pd.Series([view.start]), times, pd.Series([view.end])], ignore_index=True)
    if view.status in ACTIVE_RUN_STATUSES:
        edges = edges.iloc[:-1]
    ids = [None, *view.events.loc[times.index, "event_id"], None]
    lengths = edges.diff().dt.total_seconds().iloc[1:]
    usual = float(lengths[lengths > 0].median()) if (lengths > 0).any() else 0.0
    if gap is not None:
        threshold = gap.total_seconds()
    elif given.baseline is None:
        threshold = max(MIN_GAP_S, GAP_FACTOR * usual, given.settings.silence.total_seconds())
    else:
        threshold = max(MIN_GAP_S, GAP_FACTOR * usual)
    stats = given.baseline.steps if given.baseline is not None and gap is None else None
    pauses = paused_intervals(view.events, view.end)
    calls = view.tool_calls
    waiting = list(zip(calls["called_at"], calls["ended_at"], strict=True))
    found: list[tuple[float, pd.Timestamp, pd.Timestamp, Any, Any, Any, float]] = []
    for index, length in lengths.items():
        begin, finish = moment(edges.iat[int(index) - 1]), moment(edges.iat[int(index)])
        if length <= threshold or any(a <= begin and b >= finish for a, b in waiting if not pd.isna(b)):
            continue
        paused = sum(max(0.0, (min(finish, b) - max(begin, a)).total_seconds()) for a, b in pauses)
        during = _open_between(view, begin, finish)
        if during is not None and _whole_step(view, during, ids[int(index) - 1], ids[int(index)]):
            continue  # a step with nothing said between its start and end: slow, not silent
        limit = threshold
        if stats is not None and during is not None and during in stats.index:
            limit = max(threshold, _slow_limit(stats.loc[during], given.settings.slow))
        if length - paused > limit:
            found.append(
                (float(length) - paused, begin, finish, ids[int(index) - 1], ids[int(index)], during, limit)
            )
    for quiet, begin, finish, before, after, during, limit in sorted(found, key=lambda f: -f[0])[:MAX_GAPS]:
        where = f" during {view.name(during)}" if during is not None else ""
        usually = ""
        if stats is not None and during is not None and during in stats.index:
            usually = f", a step that usually takes {duration_text(float(stats.loc[during, 'median_s']))}"
        text = f"Nothing was heard for {duration_text(quiet)}{where}{usually} (from {span(begin, finish)})"
        evidence = Evidence(
            steps=() if during is None else (str(during),),
            events=tuple(str(e) for e in (before, after) if e is not None),
            start=begin,
            end=finish,
            values={"silence_s": quiet, "threshold_s": limit},
        )
        yield Found(text + ".", evidence)


def _whole_step(view: RunView, step_id: Any, before: Any, after: Any) -> bool:
    """Whether the events ``before`` and ``after`` a silence are ``step_id``'s start and end."""
    marks = view.events[view.events["event_id"].isin([before, after]) & (view.events["step_id"] == step_id)]
    kinds = set(marks["type"].astype(str))
    return EventType.STEP_STARTED in kinds and bool(kinds & {EventType.STEP_COMPLETED, EventType.STEP_FAILED})


def waiting_on_tools(given: CheckInput) -> set[Any]:
    """The steps in progress (and their ancestors) quiet because a tool call of theirs is still
    waiting for its answer (a human approving, a long job): not silent, as long as the step
    has not run for longer than the mission's baseline allows it before it is slow (past
    that, a call that never answers is no longer a reason)."""
    view = given.view
    stats = given.baseline.steps if given.baseline is not None else None
    waiting: set[Any] = set()
    for step_id in view.waiting_steps:
        if stats is not None and step_id in stats.index:
            working = view.step(step_id)["working_s"]
            if not pd.isna(working) and working >= _slow_limit(stats.loc[step_id], given.settings.slow):
                continue
        waiting |= {step_id, *view.ancestors(step_id)}
    return waiting


def _slow_limit(row: pd.Series, slow: float) -> float:
    """How long a step of baseline ``row`` (``median_s``, ``p95_s``) may take before it is slow."""
    median, p95 = float(row["median_s"]), float(row["p95_s"])
    return max(slow * median, median + MIN_EXTRA_S, median + SPREAD * max(0.0, p95 - median))


def _open_between(view: RunView, begin: pd.Timestamp, finish: pd.Timestamp) -> Any:
    """The deepest step that was running through the whole of ``[begin, finish]``."""
    ends = view.steps["completed_at"].fillna(view.end)  # open steps: to now, or to the run's end
    open_ = view.steps[(view.steps["started_at"] <= begin) & (ends >= finish)]
    return None if open_.empty else open_.sort_values("depth")["step_id"].iat[-1]


NOW: frozenset[Need] = frozenset({"now"})

OUTCOME_CHECKS = (
    Check(
        "stuck_open",
        "stuck_open",
        "error",
        100,
        stuck_open,
        needs=NOW,
        covers=frozenset({"silent_step", "run_open_after_all_steps"}),
    ),
    Check("failed_step", "failed_step", "error", 95, failed_step),
    Check("run_failed", "run_failed", "error", 95, run_failed, covers=frozenset({"failed_without_error"})),
    Check("cancelled", "cancelled", "warning", 90, cancelled),
    Check("error_chain", "error_chain", "error", 85, error_chain),
    Check("skipped", "skipped", "warning", 70, skipped),
    Check("slow_step", "slow_step", "warning", 60, slow_steps, needs=frozenset({"baseline", "now"})),
    Check("retry_loop", "retry_loop", "warning", 50, retry_loops),
    # A silence inside a step tells why that step was slow: said once, as the silence.
    Check("silent_gap", "silent_gap", "warning", 65, silent_gaps, needs=NOW, covers=frozenset({"slow_step"})),
)
