"""Trace and span ids derived from a run's ids, so that exporting a run again gives the same
spans (an OpenTelemetry backend such as Phoenix keeps one span per span id: no duplicates).

The run gives the trace id and its root span; a plan step, a tool call or a model call gives
a span id from the run id and its own id. Every id is the start of a SHA-256 digest, never 0
(OpenTelemetry's "invalid" id).
"""

from __future__ import annotations

import hashlib

__all__ = ["span_hex", "span_id", "trace_hex", "trace_id"]


def _digest_int(text: str, size: int) -> int:
    value = int.from_bytes(hashlib.sha256(text.encode("utf-8", "surrogatepass")).digest()[:size], "big")
    return value or 1


def trace_id(run_id: str) -> int:
    """The 128-bit trace id of a run."""
    return _digest_int(f"missionlab/run/{run_id}", 16)


def span_id(run_id: str, kind: str, key: str = "") -> int:
    """The 64-bit id of the span for ``kind`` (``run``, ``step``, ``event``) ``key`` of a run."""
    return _digest_int(f"missionlab/run/{run_id}/{kind}/{key}", 8)


def trace_hex(value: int) -> str:
    """A trace id as the 32 hex digits OTLP backends show."""
    return f"{value:032x}"


def span_hex(value: int) -> str:
    """A span id as the 16 hex digits OTLP backends show."""
    return f"{value:016x}"
