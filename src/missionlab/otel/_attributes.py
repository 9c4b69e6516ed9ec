"""The attributes a span carries: missionlab's own names, OpenInference's, how values are
written (JSON text, cut at :data:`MAX_ATTRIBUTE_CHARS`) and how a model call's usage is read.

missionlab's own attributes (``missionlab.*``) carry what OpenInference has no name for:
the ids, statuses and summaries that let spans exported by missionlab be imported back into
the same run. Usage is read in both conventions: the sandbox's (``usage.input_tokens``,
``usage.output_tokens``) and OpenAI's (``usage.prompt_tokens``, ``usage.completion_tokens``),
with ``usage.total_tokens``, ``model`` and ``cost_usd`` beside them; it is written in the
sandbox's, which the roll-ups and the run panel read.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from openinference.semconv.trace import OpenInferenceMimeTypeValues, SpanAttributes

from ..client._json import loads
from ..frames._jsontext import json_text

__all__ = [
    "MAX_ATTRIBUTE_CHARS",
    "TRUNCATED_MARK",
    "Usage",
    "clip",
    "json_attribute",
    "parse_json",
    "usage_attributes",
    "usage_from_attributes",
    "usage_of",
]

MAX_ATTRIBUTE_CHARS = 32_000
"""The longest attribute value missionlab writes, in characters: a longer payload or text is
cut to this size and ends with :data:`TRUNCATED_MARK` (the export never fails for it)."""

TRUNCATED_MARK = " …[truncated by missionlab]"

# OpenInference's names, read from its package, and missionlab's own.
KIND = SpanAttributes.OPENINFERENCE_SPAN_KIND
INPUT, INPUT_MIME = SpanAttributes.INPUT_VALUE, SpanAttributes.INPUT_MIME_TYPE
OUTPUT, OUTPUT_MIME = SpanAttributes.OUTPUT_VALUE, SpanAttributes.OUTPUT_MIME_TYPE
JSON_MIME = OpenInferenceMimeTypeValues.JSON.value
METADATA = SpanAttributes.METADATA
TOOL_NAME, TOOL_PARAMETERS = SpanAttributes.TOOL_NAME, SpanAttributes.TOOL_PARAMETERS
MODEL = SpanAttributes.LLM_MODEL_NAME
PROMPT_TOKENS = SpanAttributes.LLM_TOKEN_COUNT_PROMPT
COMPLETION_TOKENS = SpanAttributes.LLM_TOKEN_COUNT_COMPLETION
TOTAL_TOKENS = SpanAttributes.LLM_TOKEN_COUNT_TOTAL
COST = SpanAttributes.LLM_COST_TOTAL
AGENT_NAME = SpanAttributes.AGENT_NAME
SESSION_ID = SpanAttributes.SESSION_ID

MISSION_ID = "missionlab.mission_id"
MISSION_NAME = "missionlab.mission_name"
RUN_ID = "missionlab.run_id"
RUN_STATUS = "missionlab.run.status"
RUN_ERROR = "missionlab.run.error"
RUN_SUMMARY = "missionlab.run.result_summary"
RUN_RESULT = "missionlab.run.result_payload"
STEP_ID = "missionlab.step_id"
STEP_PARENT = "missionlab.step.parent_step_id"
STEP_SEQUENCE = "missionlab.step.sequence"
STEP_STATUS = "missionlab.step.status"
STEP_TIMES_FROM = "missionlab.step.times_from"
EVENT_ID = "missionlab.event_id"
EVENT_TYPE = "missionlab.event.type"
EVENT_SUMMARY = "missionlab.event.summary"
EVENT_PAYLOAD = "missionlab.event.payload"
EVENT_INDEX = "missionlab.event.index"
AGENT_ID = "missionlab.agent_id"
RESULT_ID = "missionlab.result.event_id"
RESULT_SUMMARY = "missionlab.result.summary"
RESULT_INDEX = "missionlab.result.index"
CALL_ATTEMPT = "missionlab.call.attempt"
CALL_OUTCOME = "missionlab.call.outcome"


def clip(text: str, limit: int = MAX_ATTRIBUTE_CHARS) -> str:
    """``text``, cut to ``limit`` characters with :data:`TRUNCATED_MARK` at the end if longer."""
    return text if len(text) <= limit else text[: limit - len(TRUNCATED_MARK)] + TRUNCATED_MARK


def json_attribute(value: Any) -> str:
    """``value`` as compact JSON text (any depth), cut to :data:`MAX_ATTRIBUTE_CHARS`."""
    return clip(value if isinstance(value, str) else json_text(value))


def parse_json(text: Any) -> dict[str, Any] | None:
    """The object a JSON attribute holds; None when it is missing, not JSON or not an object
    (a value cut by :func:`clip` is no longer JSON)."""
    if not isinstance(text, str) or not text.startswith("{"):
        return None
    try:
        value = loads(text)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


@dataclass(frozen=True)
class Usage:
    """What one model call used (each part None when not reported)."""

    model: str | None = None
    prompt: int | None = None
    completion: int | None = None
    total: int | None = None
    cost: float | None = None

    def __bool__(self) -> bool:
        return any(v is not None for v in (self.prompt, self.completion, self.total, self.cost))

    def payload(self) -> dict[str, Any]:
        """The usage as an event payload's keys, in the sandbox's convention."""
        out: dict[str, Any] = {}
        if self.model is not None:
            out["model"] = self.model
        tokens = {
            key: value
            for key, value in (
                ("input_tokens", self.prompt),
                ("output_tokens", self.completion),
                ("total_tokens", self.total),
            )
            if value is not None
        }
        if tokens:
            out["usage"] = tokens
        if self.cost is not None:
            out["cost_usd"] = self.cost
        return out


def _count(value: Any) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    if isinstance(value, float) and not (math.isfinite(value) and value.is_integer()):
        return None
    return int(value)


def _amount(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return None
    return float(value)


def usage_of(payload: dict[str, Any]) -> Usage:
    """The usage an event's payload reports (either convention; see the module's docstring)."""
    tokens = payload.get("usage")
    tokens = tokens if isinstance(tokens, dict) else {}
    prompt = _count(tokens.get("input_tokens", tokens.get("prompt_tokens")))
    completion = _count(tokens.get("output_tokens", tokens.get("completion_tokens")))
    total = _count(tokens.get("total_tokens"))
    model = payload.get("model")
    return Usage(
        model=model if isinstance(model, str) else None,
        prompt=prompt,
        completion=completion,
        total=total,
        cost=_amount(payload.get("cost_usd")),
    )


def usage_attributes(*usages: Usage) -> dict[str, Any]:
    """OpenInference's ``llm.*`` attributes for the sum of ``usages`` (parts none reports are left out)."""
    out: dict[str, Any] = {}
    model = next((u.model for u in usages if u.model), None)
    if model:
        out[MODEL] = model
    for name, part in ((PROMPT_TOKENS, "prompt"), (COMPLETION_TOKENS, "completion"), (TOTAL_TOKENS, "total")):
        values = [getattr(u, part) for u in usages if getattr(u, part) is not None]
        if values:
            out[name] = sum(values)
    costs = [u.cost for u in usages if u.cost is not None]
    if costs:
        out[COST] = sum(costs)
    return out


def usage_from_attributes(attributes: dict[str, Any]) -> Usage:
    """The usage OpenInference's ``llm.*`` attributes of a span report."""
    model = attributes.get(MODEL)
    return Usage(
        model=model if isinstance(model, str) else None,
        prompt=_count(attributes.get(PROMPT_TOKENS)),
        completion=_count(attributes.get(COMPLETION_TOKENS)),
        total=_count(attributes.get(TOTAL_TOKENS)),
        cost=_amount(attributes.get(COST)),
    )
