"""A run as OpenTelemetry spans with OpenInference attributes: one trace per run.

- The run is the root span (kind ``AGENT``), named after its mission, with the run's ids,
  status, input, result and metadata as attributes; ``ERROR`` with the run's error when it
  failed, ``OK`` when it succeeded.
- Each plan step is a ``CHAIN`` span, a child of its parent step's span (of the run's for a
  top-level step); ``ERROR`` with its last error event's text when it failed. A step the plan
  gives no times takes them from its events (as the steps frame and the Gantt do); one with
  no start (a skipped step) starts when it ended, and one with no time at all where its
  parent starts, lasting no time.
- Each tool call (a ``tool_call`` event with its ``tool_result``, paired as
  ``missionlab.analysis._attempts.tool_calls`` pairs them) is a ``TOOL`` span from the
  call to its result: ``tool.name``, ``tool.parameters``, ``input.value`` (the call's payload)
  and ``output.value`` (the result's); ``ERROR`` with the reason when the call failed.
- Every other event whose payload reports a model call's usage (``usage``, ``cost_usd``)
  is an ``LLM`` span at that moment: ``llm.model_name``, ``llm.token_count.*``,
  ``llm.cost.total``. A tool call whose payload reports usage carries the same attributes.
- Every other event (step marks, messages, errors, custom or unknown types) is a span event
  of its step's span (of the run's when it names no known step); errors are named
  ``exception``, as OpenTelemetry names them.

Every span and span event also carries missionlab's own attributes (``missionlab.*``: ids,
statuses, summaries, payloads, the events' order) so that
:class:`~missionlab.otel.MissionsSpanExporter` can turn the spans back into the same run.
Values longer than :data:`~missionlab.otel.MAX_ATTRIBUTE_CHARS` are cut (and say so).
Trace and span ids are derived from the run's ids (see ``missionlab.otel._ids``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from openinference.semconv.trace import OpenInferenceSpanKindValues
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import Event, ReadableSpan
from opentelemetry.sdk.util.instrumentation import InstrumentationScope
from opentelemetry.trace import SpanContext, Status, StatusCode, TraceFlags

from .._version import __version__
from ..analysis._attempts import Ended, tool_calls
from ..frames._columns import python_values
from ..frames._jsontext import json_object
from ..frames._runlike import RunLike, field
from ..types import EventType, RunStatus, StepStatus
from . import _attributes as a
from ._attributes import clip, json_attribute, usage_attributes, usage_of
from ._ids import span_id, trace_id

__all__ = ["SCOPE", "run_resource", "run_spans"]

SCOPE = InstrumentationScope("missionlab.otel", __version__)
_SAMPLED = TraceFlags(TraceFlags.SAMPLED)
_USAGE_KEYS = ('"usage"', '"cost_usd"')


def run_resource(project: str | None = None) -> Resource:
    """The resource of exported spans: ``service.name`` missionlab, and the Phoenix project
    (``openinference.project.name``) when given."""
    attributes: dict[str, Any] = {"service.name": "missionlab"}
    if project:
        attributes["openinference.project.name"] = project
    return Resource.create(attributes)


def _ns(values: pd.Series) -> list[int | None]:
    """Timestamps as integer nanoseconds since the epoch (None where missing)."""
    times = values.to_numpy(dtype="datetime64[ns]")
    numbers = times.astype("int64")
    missing = np.isnat(times)
    return [None if gone else int(n) for n, gone in zip(numbers.tolist(), missing.tolist(), strict=True)]


def _moment(value: Any) -> int | None:
    if value is None:
        return None
    stamp = pd.Timestamp(value)
    if pd.isna(stamp):
        return None
    return int(stamp.tz_localize("UTC").value if stamp.tzinfo is None else stamp.value)


def _clean(attributes: dict[str, Any]) -> dict[str, Any]:
    """Attributes without missing values (OpenTelemetry takes none)."""
    return {k: v for k, v in attributes.items() if v is not None and v is not pd.NA}


@dataclass
class _Events:
    """A run's events as plain columns, in the order of the events frame."""

    ids: list[Any]
    types: list[Any]
    steps: list[Any]
    agents: list[Any]
    summaries: list[Any]
    payloads: list[Any]
    times: list[int | None]

    @classmethod
    def of(cls, frame: pd.DataFrame) -> _Events:
        return cls(
            ids=python_values(frame["event_id"], None),
            types=[None if t is None else str(t) for t in python_values(frame["type"], None)],
            steps=python_values(frame["step_id"], None),
            agents=python_values(frame["agent_id"], None),
            summaries=python_values(frame["summary"], None),
            payloads=python_values(frame["payload"], None),
            times=_ns(frame["timestamp"]),
        )

    def reports_usage(self, row: int) -> bool:
        """Whether the event's payload reports a model call's tokens or cost (only payloads
        whose text names them are parsed)."""
        text = self.payloads[row]
        if not isinstance(text, str) or not any(key in text for key in _USAGE_KEYS):
            return False
        return bool(usage_of(json_object(text)))

    def attributes(self, row: int) -> dict[str, Any]:
        """missionlab's attributes of one event (on a span event or an LLM span)."""
        payload = self.payloads[row]
        return _clean(
            {
                a.EVENT_ID: self.ids[row],
                a.EVENT_TYPE: self.types[row],
                a.EVENT_SUMMARY: None if self.summaries[row] is None else clip(str(self.summaries[row])),
                a.EVENT_PAYLOAD: None if payload is None else json_attribute(payload),
                a.EVENT_INDEX: row,
                a.AGENT_ID: self.agents[row],
            }
        )


class _Builder:
    """The spans of one run, built from its frames."""

    def __init__(self, trace: RunLike, resource: Resource) -> None:
        self.run = trace.run
        name = field(trace.mission, "name") if trace.mission is not None else None
        self.mission_name = str(name) if name else None
        self.run_id = str(field(self.run, "run_id"))
        self.trace = trace_id(self.run_id)
        self.resource = resource
        self.steps = trace.steps_frame
        self.frame = trace.events_frame
        self.events = _Events.of(self.frame)
        self.root_context = self.context(span_id(self.run_id, "run"))
        self.step_context: dict[str, SpanContext] = {}
        self.span_events: dict[int, list[Event]] = {}  # span id -> its span events

    def context(self, span: int) -> SpanContext:
        return SpanContext(self.trace, span, is_remote=False, trace_flags=_SAMPLED)

    def span(
        self,
        name: str,
        context: SpanContext,
        parent: SpanContext | None,
        attributes: dict[str, Any],
        start: int,
        end: int,
        status: Status,
    ) -> ReadableSpan:
        return ReadableSpan(
            name=clip(name, 1000) or "(unnamed)",
            context=context,
            parent=parent,
            resource=self.resource,
            attributes=_clean(attributes),
            events=self.span_events.get(context.span_id, ()),
            status=status,
            start_time=start,
            end_time=max(start, end),
            instrumentation_scope=SCOPE,
        )

    # -- when things happened ------------------------------------------------------------

    def run_times(self) -> tuple[int, int]:
        known = [t for t in self.events.times if t is not None]
        known += [t for t in _ns(self.steps["started_at"]) + _ns(self.steps["completed_at"]) if t is not None]
        start = _moment(field(self.run, "started_at"))
        if start is None:
            start = min(known, default=0)
        end = _moment(field(self.run, "finished_at"))
        if end is None:
            updated = _moment(field(self.run, "updated_at"))
            end = max([*known, *([updated] if updated is not None else []), start])
        return start, max(start, end)

    # -- the spans -----------------------------------------------------------------------

    def build(self) -> list[ReadableSpan]:
        run_start, run_end = self.run_times()
        step_ids = [str(s) for s in python_values(self.steps["step_id"], "")]
        for step in step_ids:
            self.step_context.setdefault(step, self.context(span_id(self.run_id, "step", step)))
        calls = tool_calls(self.frame, ended=Ended.of(self.run, self.steps))
        consumed = set(python_values(calls["call_id"], None)) | set(python_values(calls["result_id"], None))
        position = {event: row for row, event in enumerate(self.events.ids)}
        model_rows = []
        last_error: dict[Any, str] = {}
        for row, event in enumerate(self.events.ids):
            if self.events.types[row] == EventType.ERROR and self.events.steps[row] is not None:
                last_error[self.events.steps[row]] = str(self.events.summaries[row])
            if event in consumed:
                continue
            if self.events.reports_usage(row):
                model_rows.append(row)
            else:
                self.add_span_event(row)
        spans = [self.root_span(run_start, run_end)]
        spans += self.step_spans(step_ids, run_start, run_end, last_error)
        spans += self.tool_spans(calls, position)
        spans += [self.model_span(row) for row in model_rows]
        return spans

    def parent_of(self, step: Any) -> SpanContext:
        return self.step_context.get(step, self.root_context) if step is not None else self.root_context

    def add_span_event(self, row: int) -> None:
        events = self.events
        attributes = events.attributes(row)
        name = events.types[row] or "event"
        if events.types[row] == EventType.ERROR:
            name = "exception"
            payload = json_object(events.payloads[row])
            kind = payload.get("exception")
            attributes["exception.type"] = kind if isinstance(kind, str) else "error"
            attributes["exception.message"] = clip(str(events.summaries[row]))
        owner = self.parent_of(events.steps[row]).span_id
        when = events.times[row]
        self.span_events.setdefault(owner, []).append(Event(name, attributes, timestamp=when))

    def root_span(self, start: int, end: int) -> ReadableSpan:
        run = self.run
        status = str(field(run, "status"))
        error = field(run, "error")
        summary = field(run, "result_summary")
        result = field(run, "result_payload")
        run_input = field(run, "input")
        metadata = field(run, "metadata")
        mission_name = self.mission_name
        attributes: dict[str, Any] = {
            a.KIND: OpenInferenceSpanKindValues.AGENT.value,
            a.AGENT_NAME: mission_name,
            a.RUN_ID: self.run_id,
            a.MISSION_ID: field(run, "mission_id"),
            a.MISSION_NAME: mission_name,
            a.RUN_STATUS: status,
            a.RUN_ERROR: None if error is None else clip(str(error)),
            a.RUN_SUMMARY: None if summary is None else clip(str(summary)),
            a.RUN_RESULT: None if result is None else json_attribute(result),
            a.INPUT: None if run_input is None else json_attribute(run_input),
            a.INPUT_MIME: None if run_input is None else a.JSON_MIME,
            a.OUTPUT: None if summary is None else clip(str(summary)),
            a.METADATA: None if metadata is None else json_attribute(metadata),
        }
        if status == RunStatus.FAILED:
            state = Status(StatusCode.ERROR, clip(str(error or "the run failed"), 4000))
        elif status == RunStatus.SUCCEEDED:
            state = Status(StatusCode.OK)
        else:
            state = Status(StatusCode.UNSET)
        name = mission_name or f"run {self.run_id[:8]}"
        return self.span(name, self.root_context, None, attributes, start, end, state)

    def step_spans(
        self, step_ids: list[str], run_start: int, run_end: int, last_error: dict[Any, str]
    ) -> list[ReadableSpan]:
        steps = self.steps
        first_event: dict[Any, int] = {}
        last_event: dict[Any, int] = {}
        for step, when in zip(self.events.steps, self.events.times, strict=True):
            if step is not None and when is not None:
                first_event[step] = min(first_event.get(step, when), when)
                last_event[step] = max(last_event.get(step, when), when)
        starts, ends = _ns(steps["started_at"]), _ns(steps["completed_at"])
        parents = python_values(steps["parent_step_id"], None)
        statuses = [str(s) for s in python_values(steps["status"], "")]
        sequences = python_values(steps["sequence"], None)
        descriptions = python_values(steps["description"], "")
        sources = python_values(steps["times_from"], None)
        metadata = python_values(steps["metadata"], None)
        began: dict[str, int] = {}
        spans = []
        for row, step in enumerate(step_ids):  # plan order: a parent before its children
            parent = parents[row] if parents[row] in self.step_context else None
            start, end = starts[row], ends[row]
            if start is None:  # from its events, else when it ended (skipped), else its parent's start
                start = first_event.get(step, end if end is not None else began.get(parent or "", run_start))
            began[step] = start
            if end is None:
                end = run_end if statuses[row] == StepStatus.IN_PROGRESS else last_event.get(step, start)
            if statuses[row] == StepStatus.FAILED:
                state = Status(StatusCode.ERROR, clip(last_error.get(step, "the step failed"), 4000))
            elif statuses[row] == StepStatus.COMPLETED:
                state = Status(StatusCode.OK)
            else:
                state = Status(StatusCode.UNSET)
            attributes = {
                a.KIND: OpenInferenceSpanKindValues.CHAIN.value,
                a.STEP_ID: step,
                a.STEP_PARENT: parents[row],
                a.STEP_SEQUENCE: sequences[row],
                a.STEP_STATUS: statuses[row],
                a.STEP_TIMES_FROM: None if sources[row] is None else str(sources[row]),
                a.METADATA: None if metadata[row] is None else json_attribute(metadata[row]),
            }
            context = self.step_context[step]
            spans.append(
                self.span(
                    str(descriptions[row] or step),
                    context,
                    self.parent_of(parent),
                    attributes,
                    start,
                    end,
                    state,
                )
            )
        return spans

    def tool_spans(self, calls: pd.DataFrame, position: dict[Any, int]) -> list[ReadableSpan]:
        events = self.events
        spans = []
        for call, result, tool, failed, outcome, attempt, arguments in zip(
            python_values(calls["call_id"], None),
            python_values(calls["result_id"], None),
            python_values(calls["tool"], ""),
            python_values(calls["failed"], False),
            python_values(calls["outcome"], ""),
            python_values(calls["attempt"], 1),
            python_values(calls["arguments"], None),
            strict=True,
        ):
            row = position[call]
            answer = position.get(result) if result is not None else None
            call_payload = events.payloads[row]
            result_payload = None if answer is None else events.payloads[answer]
            usage = usage_attributes(
                usage_of(json_object(call_payload)),
                *([usage_of(json_object(result_payload))] if result_payload is not None else []),
            )
            attributes: dict[str, Any] = {
                a.KIND: OpenInferenceSpanKindValues.TOOL.value,
                a.TOOL_NAME: tool,
                a.TOOL_PARAMETERS: None if arguments is None else json_attribute(arguments),
                a.INPUT: None if call_payload is None else json_attribute(call_payload),
                a.INPUT_MIME: None if call_payload is None else a.JSON_MIME,
                a.EVENT_ID: call,
                a.EVENT_SUMMARY: clip(str(events.summaries[row])),
                a.EVENT_INDEX: row,
                a.AGENT_ID: events.agents[row],
                a.CALL_ATTEMPT: int(attempt),
                a.CALL_OUTCOME: clip(str(outcome)),
                **usage,
            }
            if answer is not None:
                attributes.update(
                    {
                        a.OUTPUT: None if result_payload is None else json_attribute(result_payload),
                        a.OUTPUT_MIME: None if result_payload is None else a.JSON_MIME,
                        a.RESULT_ID: result,
                        a.RESULT_SUMMARY: clip(str(events.summaries[answer])),
                        a.RESULT_INDEX: answer,
                    }
                )
            start = events.times[row] or 0
            end = events.times[answer] if answer is not None else None
            state = Status(StatusCode.ERROR, clip(str(outcome), 4000)) if failed else Status(StatusCode.OK)
            context = self.context(span_id(self.run_id, "event", str(call)))
            parent = self.parent_of(events.steps[row])
            spans.append(self.span(str(tool), context, parent, attributes, start, end or start, state))
        return spans

    def model_span(self, row: int) -> ReadableSpan:
        events = self.events
        payload = json_object(events.payloads[row])
        usage = usage_of(payload)
        summary = str(events.summaries[row])
        attributes = {
            a.KIND: OpenInferenceSpanKindValues.LLM.value,
            **usage_attributes(usage),
            a.OUTPUT: clip(summary),
            **events.attributes(row),
        }
        when = events.times[row] or 0
        context = self.context(span_id(self.run_id, "event", str(events.ids[row])))
        parent = self.parent_of(events.steps[row])
        return self.span(
            usage.model or "model call", context, parent, attributes, when, when, Status(StatusCode.UNSET)
        )


def run_spans(trace: RunLike, *, resource: Resource | None = None) -> list[ReadableSpan]:
    """The spans of one run (see the module's docstring), the root span first.

    ``trace``: a :class:`missionlab.RunTrace`, a loaded capsule, or any run with
    ``run``, ``mission``, ``steps_frame`` and ``events_frame``.
    """
    return _Builder(trace, resource or run_resource()).build()
