"""How a trace's spans are read as writes to a Missions run (see :mod:`._writes`).

How spans are read (``run_per="trace"``): the trace's root span (no parent, or a parent in
another process) is the run: its ``input.value`` the run's input, its ``metadata`` the
run's metadata, its status the run's outcome. ``AGENT`` and ``CHAIN`` spans below it are
plan steps, nested as the spans nest. A ``TOOL`` span is a ``tool_call`` event and a
``tool_result`` event (``ok: false`` and an ``error`` event when it failed); an ``LLM`` span
a ``message`` event whose payload carries the model, ``usage`` (``input_tokens``,
``output_tokens``, ``total_tokens``) and ``cost_usd``, as the sandbox reports model calls;
any other span (another kind, or no kind at all) a ``custom`` event holding its attributes.
A span event named ``exception`` is an ``error`` event; any other a ``custom`` event. An
``ERROR`` status is an ``error`` event too (unless the span recorded an exception). Nothing
is dropped: what a span carries that has no place of its own is kept in a payload.

Spans exported by missionlab (:mod:`missionlab.otel.spans`) carry the run's own ids,
statuses, summaries and payloads (``missionlab.*``): those are used as they are, so that a
run exported and imported back has the same steps, tool calls, usage and statuses.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from openinference.semconv.trace import OpenInferenceSpanKindValues
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.trace import StatusCode

from ..limits import MAX_ID_LENGTH, MAX_TEXT_LENGTH
from ..types import EventType, RunStatus, StepStatus
from . import _attributes as a
from ._attributes import clip, parse_json, usage_from_attributes
from ._ids import span_hex, trace_hex
from ._writes import END, EVENT, START, Event, RunEnd, RunStart, SetStep, Step, Timed

__all__ = [
    "STEP_KINDS",
    "TOOL",
    "is_root",
    "kind_of",
    "run_end",
    "run_start",
    "span_end",
    "span_start",
    "step_of",
    "tool_call",
]

STEP_KINDS = frozenset({OpenInferenceSpanKindValues.AGENT.value, OpenInferenceSpanKindValues.CHAIN.value})
TOOL = OpenInferenceSpanKindValues.TOOL.value
_LLM = OpenInferenceSpanKindValues.LLM.value
_SUMMARY_CHARS = 1000  # a summary made from a span's text (exported summaries are kept whole)
_STATUSES = {str(s) for s in StepStatus}
_RUN_STATUSES = {str(s) for s in RunStatus}


def text(value: Any, limit: int = MAX_TEXT_LENGTH) -> str:
    """``value`` as text the API takes: lone surrogates replaced, at most ``limit`` characters."""
    value = value if isinstance(value, str) else str(value)
    value = value.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    return clip(value, limit)


def attributes_of(span: ReadableSpan) -> Mapping[str, Any]:
    return span.attributes or {}


def is_root(span: ReadableSpan) -> bool:
    """Whether ``span`` starts a trace here (no parent, or a parent in another process)."""
    return span.parent is None or bool(span.parent.is_remote)


def kind_of(span: ReadableSpan) -> str | None:
    """The span's OpenInference kind, upper-case (None when it has none)."""
    kind = attributes_of(span).get(a.KIND)
    return kind.upper() if isinstance(kind, str) and kind.strip() else None


def _ids(span: ReadableSpan) -> tuple[str, str]:
    context = span.context
    return (trace_hex(context.trace_id), span_hex(context.span_id)) if context else ("0" * 32, "0" * 16)


def _key(span: ReadableSpan, role: str) -> str:
    trace, span_id = _ids(span)
    return f"otel:{trace}:{span_id}:{role}"


def _plain(value: Any) -> Any:
    """An attribute value as JSON takes it (sequences as lists, long strings cut)."""
    if isinstance(value, str):
        return clip(value)
    if isinstance(value, Sequence):
        return [_plain(v) for v in value]
    return value


def _value(text_value: Any) -> Any:
    """An ``input.value``/``output.value``: the object its JSON holds, else the text."""
    parsed = parse_json(text_value)
    return parsed if parsed is not None else _plain(text_value)


def _origin(span: ReadableSpan) -> dict[str, Any]:
    """Where an event came from: the span's ids and how long it took (keys the comparisons of
    runs leave out)."""
    trace, span_id = _ids(span)
    out: dict[str, Any] = {"trace_id": trace, "span_id": span_id}
    if span.start_time is not None and span.end_time is not None:
        out["latency_ms"] = round((span.end_time - span.start_time) / 1e6, 3)
    return out


def _index(attributes: Mapping[str, Any], name: str) -> float:
    value = attributes.get(name)
    return float(value) if isinstance(value, int) and not isinstance(value, bool) else float("inf")


def _start(span: ReadableSpan) -> int:
    return span.start_time or span.end_time or 0


def _end(span: ReadableSpan) -> int:
    return span.end_time or span.start_time or 0


def _error_text(span: ReadableSpan) -> str | None:
    """The error a span reports: its status description, else its exception's message."""
    if span.status.status_code is not StatusCode.ERROR:
        return None
    if span.status.description:
        return text(span.status.description)
    for event in span.events:
        if event.name == "exception":
            attributes = event.attributes or {}
            return text(
                f"{attributes.get('exception.type', 'Exception')}: {attributes.get('exception.message', '')}"
            )
    return f"{span.name} failed"


def _recorded_exception(span: ReadableSpan) -> bool:
    return any(event.name == "exception" for event in span.events)


def step_of(span: ReadableSpan, taken: set[str], sequence: int, parent: str | None) -> Step:
    """The plan step an ``AGENT``/``CHAIN`` span is; ``taken``: step ids already in the run (a
    repeated name gets ``-2``, ``-3``, ...)."""
    attributes = attributes_of(span)
    exported = attributes.get(a.STEP_ID)
    if (
        isinstance(exported, str)
        and exported.strip()
        and "/" not in exported
        and len(exported) <= MAX_ID_LENGTH
    ):
        step_id = exported
    else:
        base = text(span.name or "step", MAX_ID_LENGTH - 8).replace("/", "-").strip() or "step"
        base = "step" if base in (".", "..") else base
        step_id, copy = base, 1
        while step_id in taken:
            copy += 1
            step_id = f"{base}-{copy}"
    given = attributes.get(a.STEP_SEQUENCE)
    if isinstance(given, int) and not isinstance(given, bool) and abs(given) < 2**31:
        sequence = given
    metadata = parse_json(attributes.get(a.METADATA))
    return Step(step_id, text(span.name or step_id) or step_id, sequence, parent, metadata)


def run_start(root: ReadableSpan) -> RunStart:
    """The run a trace's root span starts."""
    attributes = attributes_of(root)
    trace, _ = _ids(root)
    value = attributes.get(a.INPUT)
    run_input = _value(value) if value is not None else None
    if run_input is not None and not isinstance(run_input, dict):
        run_input = {"value": run_input}
    metadata = parse_json(attributes.get(a.METADATA)) or {}
    metadata = {**metadata, "otel_trace_id": trace}
    if not attributes.get(a.RUN_ID):
        metadata["otel_root_span"] = text(root.name, 1000)
    return RunStart(run_input, metadata)


def run_end(root: ReadableSpan) -> RunEnd:
    """The outcome a trace's root span gives its run."""
    attributes = attributes_of(root)
    exported = attributes.get(a.RUN_STATUS)
    fields: dict[str, Any] = {}
    if isinstance(exported, str) and exported in _RUN_STATUSES:
        status: str | None = exported
        if exported in ("pending", "running"):
            status = None  # exported while active: it stays running
        for name, key in ((a.RUN_ERROR, "error"), (a.RUN_SUMMARY, "result_summary")):
            if isinstance(attributes.get(name), str):
                fields[key] = text(attributes[name])
        result = parse_json(attributes.get(a.RUN_RESULT))
        if result is not None:
            fields["result_payload"] = result
        return RunEnd(status, fields)
    error = _error_text(root)
    output = attributes.get(a.OUTPUT)
    if error is not None:
        return RunEnd(RunStatus.FAILED.value, {"error": error})
    if output is not None:
        value = _value(output)
        if isinstance(value, dict):
            fields["result_payload"] = value
        else:
            fields["result_summary"] = text(value)
    return RunEnd(RunStatus.SUCCEEDED.value, fields)


def _span_events(span: ReadableSpan, step: str | None) -> list[Timed]:
    """The span's own events (OpenTelemetry span events) as Missions events."""
    out = []
    for number, event in enumerate(span.events):
        attributes = dict(event.attributes or {})
        when = event.timestamp or _end(span)
        exported = attributes.get(a.EVENT_TYPE)
        if isinstance(exported, str) and exported:
            if exported == EventType.STATUS_CHANGE:
                continue  # the server records the run's status changes its own way
            summary = attributes.get(a.EVENT_SUMMARY)
            agent = attributes.get(a.AGENT_ID)
            write = Event(
                _key(span, f"event{number}"),
                exported,
                text(summary if summary is not None else event.name),
                step,
                parse_json(attributes.get(a.EVENT_PAYLOAD)) if a.EVENT_PAYLOAD in attributes else None,
                agent if isinstance(agent, str) else None,
            )
            out.append(Timed(when, EVENT, _index(attributes, a.EVENT_INDEX), write))
            continue
        if event.name == "exception":
            kind = attributes.get("exception.type", "Exception")
            message = attributes.get("exception.message", "")
            payload = {"exception": _plain(kind), "message": _plain(message)}
            if "exception.stacktrace" in attributes:
                payload["traceback"] = text(attributes["exception.stacktrace"], 4000)
            write = Event(
                _key(span, f"event{number}"), EventType.ERROR, text(f"{kind}: {message}"), step, payload
            )
        else:
            payload = {
                "name": _plain(event.name),
                "attributes": {k: _plain(v) for k, v in attributes.items()},
            }
            write = Event(
                _key(span, f"event{number}"),
                EventType.CUSTOM,
                text(event.name or "event", _SUMMARY_CHARS),
                step,
                payload,
            )
        out.append(Timed(when, EVENT, float("inf"), write))
    return out


def span_start(span: ReadableSpan, step: Step) -> list[Timed]:
    """What the start of a step's span writes (after the step is declared)."""
    attributes = attributes_of(span)
    at = _start(span)
    exported = attributes.get(a.STEP_STATUS)
    if a.STEP_ID in attributes and isinstance(exported, str):
        if exported in (StepStatus.PENDING, StepStatus.SKIPPED):
            return []
        return [Timed(at, START, -1, SetStep(step.step_id, StepStatus.IN_PROGRESS.value))]
    started = Event(
        _key(span, "start"), EventType.STEP_STARTED, text(f"Started: {step.description}"), step.step_id
    )
    return [
        Timed(at, START, -1, SetStep(step.step_id, StepStatus.IN_PROGRESS.value)),
        Timed(at, EVENT, -1, started),
    ]


def span_end(
    span: ReadableSpan,
    step: Step | None,
    owner: str | None,
    *,
    root: bool = False,
    call_written: bool = False,
) -> list[Timed]:
    """What the end of a span writes: ``step`` is the step the span is (None for other spans),
    ``owner`` the step its events belong to (the nearest step above it); ``call_written``: a
    ``TOOL`` span's call was written when it started."""
    at = _end(span)
    if step is not None:
        return _step_end(span, step, at)
    kind = kind_of(span)
    if root and (kind is None or kind in STEP_KINDS):
        return _span_events(span, None)  # the run itself: its outcome is written by run_end
    if kind == TOOL:
        return _tool_end(span, owner, at, call_written)
    if kind == _LLM:
        return _model_end(span, owner, at)
    return _other_end(span, owner, at, kind)


def _step_end(span: ReadableSpan, step: Step, at: int) -> list[Timed]:
    attributes = attributes_of(span)
    out = _span_events(span, step.step_id)
    exported = attributes.get(a.STEP_STATUS)
    if a.STEP_ID in attributes and isinstance(exported, str) and exported in _STATUSES:
        if exported not in (StepStatus.PENDING, StepStatus.IN_PROGRESS):
            out.append(Timed(at, END, 0, SetStep(step.step_id, exported)))
        return out
    error = _error_text(span)
    if error is not None:
        if not _recorded_exception(span):
            failure = Event(
                _key(span, "error"), EventType.ERROR, error, step.step_id, {"error": error, **_origin(span)}
            )
            out.append(Timed(at, EVENT, float("inf"), failure))
        closing = Event(
            _key(span, "end"), EventType.STEP_FAILED, text(f"Failed: {step.description}"), step.step_id
        )
        out += [
            Timed(at, EVENT, float("inf"), closing),
            Timed(at, END, 0, SetStep(step.step_id, StepStatus.FAILED.value)),
        ]
    else:
        closing = Event(
            _key(span, "end"), EventType.STEP_COMPLETED, text(f"Completed: {step.description}"), step.step_id
        )
        out += [
            Timed(at, EVENT, float("inf"), closing),
            Timed(at, END, 0, SetStep(step.step_id, StepStatus.COMPLETED.value)),
        ]
    return out


def _agent(attributes: Mapping[str, Any]) -> str | None:
    agent = attributes.get(a.AGENT_ID)
    return agent if isinstance(agent, str) else None


def _tool(span: ReadableSpan) -> str:
    tool = attributes_of(span).get(a.TOOL_NAME)
    return text(tool, 1000) if isinstance(tool, str) and tool.strip() else text(span.name or "tool", 1000)


def tool_call(span: ReadableSpan, owner: str | None) -> Timed:
    """The ``tool_call`` event a ``TOOL`` span starts with (written when the span starts, live)."""
    attributes = attributes_of(span)
    start = _start(span)
    if a.EVENT_ID in attributes:  # exported by missionlab: the event as it was
        summary = text(attributes.get(a.EVENT_SUMMARY, span.name))
        call = Event(
            _key(span, "call"),
            EventType.TOOL_CALL,
            summary,
            owner,
            parse_json(attributes.get(a.INPUT)),
            _agent(attributes),
        )
        return Timed(start, EVENT, _index(attributes, a.EVENT_INDEX), call)
    tool = _tool(span)
    arguments = attributes.get(a.TOOL_PARAMETERS, attributes.get(a.INPUT))
    payload: dict[str, Any] = {"tool": tool, "request_id": _ids(span)[1]}
    if arguments is not None:
        payload["arguments"] = _value(arguments)
    payload.update(usage_from_attributes(dict(attributes)).payload())
    payload.update(_origin(span))
    call = Event(
        _key(span, "call"), EventType.TOOL_CALL, text(f"Calling {tool}"), owner, payload, _agent(attributes)
    )
    return Timed(start, EVENT, float("inf"), call)


def _tool_end(span: ReadableSpan, owner: str | None, at: int, call_written: bool) -> list[Timed]:
    attributes = attributes_of(span)
    out = _span_events(span, owner)
    if not call_written:
        out.append(tool_call(span, owner))
    agent = _agent(attributes)
    if a.EVENT_ID in attributes:  # exported by missionlab: the result as it was
        if a.RESULT_ID in attributes:
            result = Event(
                _key(span, "result"),
                EventType.TOOL_RESULT,
                text(attributes.get(a.RESULT_SUMMARY, span.name)),
                owner,
                parse_json(attributes.get(a.OUTPUT)),
                agent,
            )
            out.append(Timed(at, EVENT, _index(attributes, a.RESULT_INDEX), result))
        return out
    tool = _tool(span)
    request = _ids(span)[1]
    error = _error_text(span)
    result_payload: dict[str, Any] = {"tool": tool, "request_id": request, "ok": error is None}
    if a.OUTPUT in attributes:
        result_payload["output"] = _value(attributes[a.OUTPUT])
    if error is not None:
        result_payload["error"] = error
    result_payload.update(_origin(span))
    summary = f"{tool} failed: {error}" if error is not None else f"{tool} returned"
    result = Event(
        _key(span, "result"),
        EventType.TOOL_RESULT,
        text(summary, _SUMMARY_CHARS),
        owner,
        result_payload,
        agent,
    )
    out.append(Timed(at, EVENT, float("inf"), result))
    if error is not None and not _recorded_exception(span):
        failure = Event(
            _key(span, "error"),
            EventType.ERROR,
            error,
            owner,
            {"error": error, "tool": tool, **_origin(span)},
        )
        out.append(Timed(at, EVENT, float("inf"), failure))
    return out


def _model_end(span: ReadableSpan, owner: str | None, at: int) -> list[Timed]:
    attributes = attributes_of(span)
    out = _span_events(span, owner)
    if a.EVENT_ID in attributes:  # exported by missionlab
        agent = attributes.get(a.AGENT_ID)
        event = Event(
            _key(span, "event"),
            text(attributes.get(a.EVENT_TYPE) or EventType.MESSAGE),
            text(attributes.get(a.EVENT_SUMMARY, span.name)),
            owner,
            parse_json(attributes.get(a.EVENT_PAYLOAD)),
            agent if isinstance(agent, str) else None,
        )
        out.append(Timed(at, EVENT, _index(attributes, a.EVENT_INDEX), event))
        return out
    usage = usage_from_attributes(dict(attributes))
    payload: dict[str, Any] = usage.payload()
    if a.INPUT in attributes:
        payload["input"] = _value(attributes[a.INPUT])
    if a.OUTPUT in attributes:
        payload["output"] = _value(attributes[a.OUTPUT])
    payload.update(_origin(span))
    output = attributes.get(a.OUTPUT)
    summary = (
        output if isinstance(output, str) and output.strip() else f"Model call ({usage.model or span.name})"
    )
    out.append(
        Timed(
            at,
            EVENT,
            float("inf"),
            Event(_key(span, "message"), EventType.MESSAGE, text(summary, _SUMMARY_CHARS), owner, payload),
        )
    )
    error = _error_text(span)
    if error is not None and not _recorded_exception(span):
        failure = Event(_key(span, "error"), EventType.ERROR, error, owner, {"error": error, **_origin(span)})
        out.append(Timed(at, EVENT, float("inf"), failure))
    return out


def _other_end(span: ReadableSpan, owner: str | None, at: int, kind: str | None) -> list[Timed]:
    """A span of another kind, or with no kind: a custom event keeping all it carries."""
    attributes = attributes_of(span)
    out = _span_events(span, owner)
    payload: dict[str, Any] = {
        "span_name": text(span.name or "", 1000),
        "span_kind": kind,
        "status": span.status.status_code.name,
        "attributes": {key: _plain(value) for key, value in attributes.items()},
        **_origin(span),
    }
    summary = text(span.name or "span", _SUMMARY_CHARS)
    out.append(
        Timed(at, EVENT, float("inf"), Event(_key(span, "custom"), EventType.CUSTOM, summary, owner, payload))
    )
    error = _error_text(span)
    if error is not None and not _recorded_exception(span):
        failure = Event(_key(span, "error"), EventType.ERROR, error, owner, {"error": error, **_origin(span)})
        out.append(Timed(at, EVENT, float("inf"), failure))
    return out
