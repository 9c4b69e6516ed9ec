"""Instrumented agents' spans in as Missions runs: :class:`MissionsSpanExporter`, an OpenTelemetry
``SpanExporter``, and :class:`MissionsSpanProcessor`, which feeds it as spans start and end.

>>> exporter = MissionsSpanExporter(client, mission_id)
>>> provider.add_span_processor(MissionsSpanProcessor(exporter))  # live: steps and times as they happen

Each trace becomes a run of the mission (see ``missionlab.otel._reading`` for how spans are
read). With the processor, the run is created when the trace's root span starts, each step
when its span starts, so the run's times are the agent's. With the exporter alone (under any
processor, e.g. a ``BatchSpanProcessor``), a trace is written when its root span arrives;
the server then stamps every step and event as it is written (the spans' own times stay in
the payloads as ``latency_ms``).

Writing never gets in the way of the agent: nothing is raised into its code. What could not
be delivered (the API unreachable, a 5xx, a 429) is kept and tried again on the next export,
on ``force_flush()`` and on ``shutdown()``; the first problem is a ``RuntimeWarning``, every
problem is logged (logger ``missionlab.otel``) and listed in ``exporter.problems``. Every write
is safe to repeat: events carry idempotency keys made from the span ids, a step already in the
plan is not added again, and a trace exported again goes to the run it already made
(``exporter.runs`` maps trace ids to run ids). A trace whose root span never arrives is
written at ``shutdown()`` as a failed run that says so; a run whose root span never ends is
marked failed then too.

Every write goes through the client's documented routes (create a run, plan, update a step,
log an event, update the run), so it works against the sandbox and the hosted API alike.
"""

from __future__ import annotations

import logging
import threading
import warnings
from collections import deque
from collections.abc import Sequence
from itertools import count
from typing import Any

from opentelemetry.context import Context
from opentelemetry.sdk.trace import ReadableSpan, Span, SpanProcessor
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult

from ..client._client import Client
from ..client.errors import (
    APIConnectionError,
    APIStatusError,
    ConflictError,
    InvalidArgumentError,
    MissionlabError,
)
from ..frames._jsontext import json_text
from ..types import RunStatus
from ._attributes import clip
from ._ids import trace_hex
from ._reading import (
    STEP_KINDS,
    TOOL,
    is_root,
    kind_of,
    run_end,
    run_start,
    span_end,
    span_start,
    step_of,
    tool_call,
)
from ._writes import Event, RunEnd, RunStart, SetStep, Step, Timed, Write

__all__ = ["MissionsSpanExporter", "MissionsSpanProcessor"]

log = logging.getLogger("missionlab.otel")

RUN_PER = ("trace",)
_MAX_PROBLEMS = 100
_STEPS_PER_REQUEST = 500


def _retryable(error: MissionlabError) -> bool:
    """Whether a failed write may work later (the API unreachable, busy or failing)."""
    if isinstance(error, APIConnectionError):
        return True
    return isinstance(error, APIStatusError) and (error.status_code in (408, 429) or error.status_code >= 500)


class _TraceRun:
    """One trace on its way to becoming a run: what is known and what is left to write."""

    def __init__(self, trace: int, *, live: bool, run_id: str | None = None) -> None:
        self.trace = trace
        self.live = live
        self.run_id = run_id
        self.buffer: list[ReadableSpan] = []  # exporter alone: spans held until the root arrives
        self.steps: dict[int, Step] = {}  # span id -> the step it is
        self.owner: dict[int, str | None] = {}  # span id -> the step its events belong to
        self.taken: set[str] = set()
        self.calls: set[int] = set()  # live: TOOL spans whose call was written when they started
        self.declared: set[str] = set()
        self.plan_made = run_id is not None  # a run met before may have a plan
        self.todo: deque[Write] = deque()
        self.root: ReadableSpan | None = None  # exporter alone: the root span, once it arrived
        self.ended = False  # the root ended: its outcome is queued

    @property
    def name(self) -> str:
        return trace_hex(self.trace)

    def add_step(self, span: ReadableSpan, parent: str | None, sequence: int) -> Step:
        step = step_of(span, self.taken, sequence, parent)
        self.taken.add(step.step_id)
        self.steps[span.context.span_id] = step
        self.owner[span.context.span_id] = step.step_id
        return step


class MissionsSpanExporter(SpanExporter):
    """Records each trace of an instrumented agent as a run of ``mission_id`` (see the module's
    docstring); ``agent_id``: the agent id its events carry when a span names none."""

    def __init__(
        self, client: Client, mission_id: str, *, run_per: str = "trace", agent_id: str | None = None
    ) -> None:
        if not isinstance(mission_id, str) or not mission_id.strip():
            raise InvalidArgumentError("mission_id", f"expected a mission id, got {mission_id!r}")
        if run_per not in RUN_PER:
            raise InvalidArgumentError("run_per", f"expected one of {', '.join(RUN_PER)}, got {run_per!r}")
        self.client = client
        self.mission_id = mission_id
        self.run_per = run_per
        self.agent_id = agent_id
        self.runs: dict[str, str] = {}  # trace id (32 hex digits) -> run id
        self.problems: deque[str] = deque(maxlen=_MAX_PROBLEMS)
        self._traces: dict[int, _TraceRun] = {}
        self._rooted: set[int] = set()  # traces whose root span was written
        self._lock = threading.RLock()
        self._warned = False
        self._shut = False

    # -- what OpenTelemetry calls -------------------------------------------------------------

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        """Record ended spans; never raises (see the module's docstring)."""
        with self._lock:
            try:
                for span in spans:
                    self._ended(span)
                self._replay_ready()
                delivered = self._deliver_all()
            except Exception as error:  # a bug of ours must not reach the agent
                self._problem(
                    f"could not record {len(spans)} span(s): {type(error).__name__}: {error}", error
                )
                return SpanExportResult.FAILURE
        return SpanExportResult.SUCCESS if delivered else SpanExportResult.FAILURE

    def force_flush(self, timeout_millis: int = 30_000) -> bool:
        """Try again what could not be delivered; whether nothing is left to deliver."""
        with self._lock:
            try:
                return self._deliver_all()
            except Exception as error:
                self._problem(f"could not deliver: {type(error).__name__}: {error}", error)
                return False

    def shutdown(self) -> None:
        """Write what is still held (a trace whose root never arrived, a run whose root never
        ended, as failed runs that say so), then deliver everything one last time."""
        with self._lock:
            if self._shut:
                return
            self._shut = True
            try:
                self._replay_ready()
                for state in list(self._traces.values()):
                    if state.buffer:
                        self._replay(state, None)
                    elif state.live and not state.ended:
                        state.todo.append(
                            RunEnd(
                                RunStatus.FAILED.value,
                                {"error": "missionlab.otel: the trace's root span had not ended at shutdown"},
                            )
                        )
                        state.ended = True
                self._deliver_all()
            except Exception as error:
                self._problem(f"could not finish at shutdown: {type(error).__name__}: {error}", error)

    def span_started(self, span: ReadableSpan) -> None:
        """A span started (called by :class:`MissionsSpanProcessor`); never raises."""
        with self._lock:
            try:
                self._started(span)
                self._deliver_all()
            except Exception as error:
                self._problem(f"could not record a span's start: {type(error).__name__}: {error}", error)

    # -- spans to writes ----------------------------------------------------------------------

    def _state(self, trace: int, *, live: bool) -> _TraceRun:
        state = self._traces.get(trace)
        if state is None:
            state = _TraceRun(trace, live=live, run_id=self.runs.get(trace_hex(trace)))
            self._traces[trace] = state
        return state

    def _started(self, span: ReadableSpan) -> None:
        context = span.context
        if context is None:
            return
        state = self._traces.get(context.trace_id)
        if state is None:
            if not is_root(span):
                return  # its root started before we were there: written when the root arrives
            state = self._state(context.trace_id, live=True)
        if not state.live:
            return
        if is_root(span):
            state.owner[context.span_id] = None
            if state.run_id is None:
                state.todo.append(run_start(span))
            return
        parent = state.owner.get(span.parent.span_id) if span.parent else None
        kind = kind_of(span)
        if kind in STEP_KINDS:
            step = state.add_step(span, parent, len(state.taken) + 1)
            state.todo.append(step)
            state.todo.extend(timed.write for timed in span_start(span, step))
        else:
            state.owner[context.span_id] = parent
            if kind == TOOL:  # the call now, its result when the span ends
                state.todo.append(tool_call(span, parent).write)
                state.calls.add(context.span_id)

    def _ended(self, span: ReadableSpan) -> None:
        context = span.context
        if context is None:
            self._problem(f"span {span.name!r} has no context: recorded nowhere", None)
            return
        state = self._traces.get(context.trace_id)
        if state is None or not state.live:
            state = self._state(context.trace_id, live=False)
            state.buffer.append(span)
            if is_root(span):
                state.root = span
            return
        step = state.steps.get(context.span_id)
        owner = state.owner.get(context.span_id)
        if context.span_id not in state.owner and span.parent is not None:
            owner = state.owner.get(span.parent.span_id)
        root = is_root(span)
        writes = span_end(span, step, owner, root=root, call_written=context.span_id in state.calls)
        state.todo.extend(timed.write for timed in sorted(writes, key=lambda t: (t.at, t.phase, t.index)))
        if root:
            state.todo.append(run_end(span))
            state.ended = True

    def _replay_ready(self) -> None:
        """Replay the held traces whose root span arrived, and spans that came after their
        trace's root was written."""
        for trace, state in list(self._traces.items()):
            if state.live or not state.buffer:
                continue
            if state.root is not None:
                self._replay(state, state.root)
                self._rooted.add(trace)
            elif trace in self._rooted:
                self._replay(state, None, late=True)

    def _replay(self, state: _TraceRun, root: ReadableSpan | None, *, late: bool = False) -> None:
        """Queue the writes of a whole trace (held until its root arrived), in time order;
        ``late``: spans that came after their trace's root was written (no run start or end)."""
        spans, state.buffer, state.root = state.buffer, [], None
        by_id = {span.context.span_id: span for span in spans if span.context is not None}

        def parent_of(span: ReadableSpan) -> ReadableSpan | None:
            return by_id.get(span.parent.span_id) if span.parent is not None and not is_root(span) else None

        def depth(span: ReadableSpan) -> int:
            level, seen = 0, set()
            while (up := parent_of(span)) is not None and id(up) not in seen:
                seen.add(id(up))
                span, level = up, level + 1
            return level

        def nearest_step(span: ReadableSpan | None) -> str | None:
            seen = set()
            while span is not None and id(span) not in seen:
                seen.add(id(span))
                found = state.steps.get(span.context.span_id) if span.context else None
                if found is not None:
                    return found.step_id
                span = parent_of(span)
            return None

        depths = {id(span): depth(span) for span in spans}
        ordered = sorted(spans, key=lambda s: (s.start_time or 0, depths[id(s)]))
        step_spans = [s for s in ordered if s is not root and kind_of(s) in STEP_KINDS]
        sequence = {id(s): n for n, s in enumerate(step_spans, 1)}
        for span in sorted(step_spans, key=lambda s: depths[id(s)]):  # parents before children
            state.add_step(span, nearest_step(parent_of(span)), sequence[id(span)])
        if state.run_id is None and not late:
            state.todo.append(
                run_start(root) if root is not None else RunStart(None, {"otel_trace_id": state.name})
            )
        state.todo.extend(
            state.steps[s.context.span_id] for s in sorted(step_spans, key=lambda s: depths[id(s)])
        )
        timed: list[Timed] = []
        for span in ordered:
            step = state.steps.get(span.context.span_id) if span.context else None
            if step is not None:
                timed += span_start(span, step)
            owner = step.step_id if step is not None else nearest_step(parent_of(span))
            timed += span_end(span, step, owner, root=span is root)
        order = count()
        timed.sort(key=lambda t: (t.at, t.phase, t.index, next(order)))
        state.todo.extend(t.write for t in timed)
        if root is not None:
            state.todo.append(run_end(root))
        elif not late:
            error = (
                f"missionlab.otel: the root span of trace {state.name} was never received; this run "
                f"holds the {len(spans)} span(s) that were"
            )
            state.todo.append(RunEnd(RunStatus.FAILED.value, {"error": error}))
        state.ended = True

    # -- delivering ---------------------------------------------------------------------------

    def _deliver_all(self) -> bool:
        """Deliver every trace's writes in order; whether all were delivered."""
        delivered = True
        for trace, state in list(self._traces.items()):
            if not self._deliver(state):
                delivered = False
            elif state.ended and not state.todo and not state.buffer:
                del self._traces[trace]
        return delivered

    def _deliver(self, state: _TraceRun) -> bool:
        while state.todo:
            write = state.todo[0]
            try:
                taken = self._apply(state, write)
            except MissionlabError as error:
                if _retryable(error):
                    self._problem(
                        f"trace {state.name}: could not write {type(write).__name__} yet: {error}", None
                    )
                    return False
                if isinstance(write, RunStart):
                    self._problem(
                        f"trace {state.name}: could not create its run in mission {self.mission_id}, so "
                        f"{len(state.todo)} write(s) are dropped: {error}",
                        None,
                    )
                    state.todo.clear()
                    state.ended = True
                    return True
                self._problem(f"trace {state.name}: {type(write).__name__} refused, left out: {error}", None)
                taken = 1
            for _ in range(taken):
                state.todo.popleft()
        return True

    def _apply(self, state: _TraceRun, write: Write) -> int:
        """Deliver ``write`` (and the plan steps queued right after it, in one request);
        how many writes were delivered."""
        runs = self.client.missions.runs
        if isinstance(write, RunStart):
            if state.run_id is None:
                run = runs.create(self.mission_id, input=write.input, metadata=write.metadata).data
                state.run_id = run.run_id
                self.runs[state.name] = run.run_id
            runs.update(state.run_id, mission_id=self.mission_id, status=RunStatus.RUNNING)
            return 1
        run_id = state.run_id
        if run_id is None:
            raise RuntimeError("a write came before its run was created")
        if isinstance(write, Step):
            steps: list[Step] = []
            for queued in state.todo:
                if not isinstance(queued, Step) or len(steps) == _STEPS_PER_REQUEST:
                    break
                steps.append(queued)
            self._declare(state, run_id, steps)
            return len(steps)
        if isinstance(write, SetStep):
            runs.plan.update_step(
                write.step_id, mission_id=self.mission_id, run_id=run_id, status=write.status
            )
        elif isinstance(write, Event):
            self._log(run_id, write)
        elif write.status is not None:
            runs.update(run_id, mission_id=self.mission_id, status=write.status, **write.fields)
        return 1

    def _declare(self, state: _TraceRun, run_id: str, steps: list[Step]) -> None:
        plan = self.client.missions.runs.plan
        missing = [step.spec() for step in steps if step.step_id not in state.declared]
        if not missing:
            return
        try:
            if state.plan_made:
                plan.add_steps_to_plan(run_id, mission_id=self.mission_id, steps=missing)
            else:
                plan.create(run_id, mission_id=self.mission_id, steps=missing)
        except ConflictError:  # a plan, or some of these steps, already there (a write repeated)
            held = {step.step_id for step in plan.retrieve(run_id, mission_id=self.mission_id).data}
            state.declared |= held
            missing = [spec for spec in missing if spec["step_id"] not in held]
            if missing:
                plan.add_steps_to_plan(run_id, mission_id=self.mission_id, steps=missing)
        state.plan_made = True
        state.declared.update(spec["step_id"] for spec in missing)

    def _log(self, run_id: str, event: Event) -> None:
        events = self.client.missions.runs.events
        arguments: dict[str, Any] = {
            "mission_id": self.mission_id,
            "type": event.type,
            "summary": event.summary or event.type,
            "step_id": event.step_id,
            "agent_id": event.agent_id or self.agent_id,
            "idempotency_key": event.key,
        }
        try:
            events.log(run_id, payload=event.payload, **arguments)
        except InvalidArgumentError as refused:  # a payload the API would refuse: kept as text
            payload = {"payload_refused": str(refused)[:500], "payload_text": clip(json_text(event.payload))}
            events.log(run_id, payload=payload, **arguments)

    def _problem(self, message: str, error: BaseException | None) -> None:
        log.warning("missionlab.otel: %s", message, exc_info=error)
        self.problems.append(message)
        if not self._warned:
            self._warned = True
            warnings.warn(
                f"missionlab.otel: {message} (what could not be delivered is tried again on the next "
                "export; further problems are only logged, to the logger 'missionlab.otel')",
                RuntimeWarning,
                stacklevel=4,
            )

    def __repr__(self) -> str:
        held = sum(len(state.todo) + len(state.buffer) for state in self._traces.values())
        return f"<MissionsSpanExporter mission={self.mission_id} runs={len(self.runs)} held={held}>"


class MissionsSpanProcessor(SpanProcessor):
    """Feeds a :class:`MissionsSpanExporter` as spans start and end, so that runs and steps are
    written as they happen (their times are the agent's)."""

    def __init__(self, exporter: MissionsSpanExporter) -> None:
        if not isinstance(exporter, MissionsSpanExporter):
            raise InvalidArgumentError(
                "exporter", f"expected a MissionsSpanExporter, got {type(exporter).__name__}"
            )
        self.exporter = exporter

    def on_start(self, span: Span, parent_context: Context | None = None) -> None:
        self.exporter.span_started(span)

    def on_end(self, span: ReadableSpan) -> None:
        self.exporter.export([span])

    def shutdown(self) -> None:
        self.exporter.shutdown()

    def force_flush(self, timeout_millis: int = 30_000) -> bool:
        return self.exporter.force_flush(timeout_millis)
