"""OpenTelemetry / OpenInference bridge: Missions runs out as traces, instrumented agents' spans in as runs.

Out: :func:`export_run` sends a run to any OpenTelemetry backend (Arize Phoenix, Jaeger,
Langfuse, ...) as one trace (see :mod:`missionlab.otel.spans` for the mapping);
:func:`export_history` does so for the runs of a local history.

In: :class:`MissionsSpanExporter` is an OpenTelemetry ``SpanExporter`` that records an
instrumented agent's traces as runs of a mission, and :class:`MissionsSpanProcessor` feeds it
as spans start and end, so that the run, its steps and their times appear live.

Needs the ``otel`` extra: ``pip install "missionlab[otel]"``.
"""

from __future__ import annotations

try:
    import openinference.semconv.trace  # noqa: F401
    import opentelemetry.sdk.trace  # noqa: F401
except ImportError as missing:  # pragma: no cover - depends on the environment
    raise ImportError(
        f"missionlab.otel needs the OpenTelemetry SDK and OpenInference's conventions ({missing.name} "
        'is missing): pip install "missionlab[otel]"'
    ) from missing

from ._attributes import MAX_ATTRIBUTE_CHARS, TRUNCATED_MARK
from .export import ExportError, ExportReport, export_history, export_run, trace_id_of, traces_endpoint
from .importer import MissionsSpanExporter, MissionsSpanProcessor
from .spans import run_resource, run_spans

__all__ = [
    "MAX_ATTRIBUTE_CHARS",
    "TRUNCATED_MARK",
    "ExportError",
    "ExportReport",
    "MissionsSpanExporter",
    "MissionsSpanProcessor",
    "export_history",
    "export_run",
    "run_resource",
    "run_spans",
    "trace_id_of",
    "traces_endpoint",
]
