"""Send runs to an OpenTelemetry backend: :func:`export_run` for one run, :func:`export_history`
for the runs of a local history.

>>> missionlab.otel.export_run(trace, endpoint="http://127.0.0.1:6006")   # Arize Phoenix
>>> missionlab.otel.export_run(trace, ConsoleSpanExporter())                # any SpanExporter

Spans go to ``exporter`` (any OpenTelemetry ``SpanExporter``), else over OTLP/HTTP to
``endpoint``: a base URL (``/v1/traces`` is added) or the full URL of the traces route.
Without either, the OpenTelemetry variables say where: ``OTEL_EXPORTER_OTLP_TRACES_ENDPOINT``
(as is), else ``OTEL_EXPORTER_OTLP_ENDPOINT`` (plus ``/v1/traces``), else
``http://localhost:4318/v1/traces``; ``OTEL_EXPORTER_OTLP_HEADERS`` gives headers when
``headers`` is None. Spans are sent in batches of ``batch_size``, with a progress bar
(``progress``: None shows one when exporting takes more than half a second). Span ids come
from the run's ids, so exporting a run again replaces its spans in the backend instead of
adding copies. A backend that cannot be reached raises :class:`ExportError` naming it.
"""

from __future__ import annotations

import os
import urllib.parse
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pandas as pd
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult

from ..client._progress import ProgressBar, progress_bar
from ..client.errors import InvalidArgumentError, MissionlabError
from ..frames._jsontext import json_object
from ..frames._runlike import RunLike
from ..frames._runlike import field as run_field
from ._ids import trace_hex, trace_id
from .spans import run_resource, run_spans

if TYPE_CHECKING:
    from .._history import History

__all__ = [
    "DEFAULT_BATCH_SIZE",
    "ExportError",
    "ExportReport",
    "export_history",
    "export_run",
    "trace_id_of",
    "traces_endpoint",
]

DEFAULT_BATCH_SIZE = 512
_DEFAULT_ENDPOINT = "http://localhost:4318/v1/traces"
_TRACES_PATH = "/v1/traces"
_HISTORY_CHUNK = 100  # runs whose steps and events are read from a history at once


class ExportError(MissionlabError):
    """Spans could not be delivered to the OpenTelemetry backend (the message names it)."""


@dataclass
class ExportReport:
    """What an export sent: how many runs and spans, their trace ids, and where."""

    destination: str
    runs: int = 0
    spans: int = 0
    trace_ids: list[str] = field(default_factory=list)

    def __repr__(self) -> str:
        return f"<ExportReport {self.runs} run(s), {self.spans} spans to {self.destination}>"


def traces_endpoint(endpoint: str | None = None) -> str:
    """The URL OTLP/HTTP spans are posted to (see the module's docstring)."""
    if endpoint is None:
        traces = os.environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "").strip()
        if traces:
            return traces
        endpoint = os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT", "").strip() or None
        if endpoint is None:
            return _DEFAULT_ENDPOINT
    if not isinstance(endpoint, str):
        raise InvalidArgumentError("endpoint", f"expected a URL string, got {type(endpoint).__name__}")
    parts = urllib.parse.urlsplit(endpoint.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidArgumentError(
            "endpoint", f"expected an http(s) URL such as http://127.0.0.1:6006, got {endpoint!r}"
        )
    if parts.path in ("", "/"):
        parts = parts._replace(path=_TRACES_PATH)
    return urllib.parse.urlunsplit(parts)


def _shown(url: str) -> str:
    """A URL as errors show it: without user name, password or query (they may hold secrets)."""
    parts = urllib.parse.urlsplit(url)
    host = parts.hostname or ""
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urllib.parse.urlunsplit((parts.scheme, netloc, parts.path, "", ""))


class _Sender:
    """Sends spans in batches to one exporter, with a progress bar; raises ExportError."""

    def __init__(
        self,
        exporter: SpanExporter | None,
        endpoint: str | None,
        headers: dict[str, str] | None,
        timeout: float,
        batch_size: int,
        progress: bool | None,
    ) -> None:
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
            raise InvalidArgumentError("batch_size", f"expected a positive integer, got {batch_size!r}")
        if exporter is not None and not isinstance(exporter, SpanExporter):
            raise InvalidArgumentError(
                "exporter", f"expected an OpenTelemetry SpanExporter, got {type(exporter).__name__}"
            )
        if exporter is not None and endpoint is not None:
            raise InvalidArgumentError("endpoint", "give an exporter or an endpoint, not both")
        self.owned = exporter is None
        if exporter is None:
            from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

            url = traces_endpoint(endpoint)
            exporter = OTLPSpanExporter(endpoint=url, headers=headers, timeout=timeout)
            self.destination = _shown(url)
        else:
            self.destination = type(exporter).__name__
        self.exporter = exporter
        self.batch_size = batch_size
        self.progress = progress
        self.bar: ProgressBar = progress_bar(None, desc="export", unit="span", progress=False)
        self.pending: list[ReadableSpan] = []
        self.report = ExportReport(self.destination)

    def __enter__(self) -> _Sender:
        self.bar = progress_bar(None, desc="export", unit="span", progress=self.progress)
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            if exc[0] is None:
                self.flush()
        finally:
            self.bar.close()
            if self.owned:
                self.exporter.shutdown()

    def add(self, spans: Sequence[ReadableSpan]) -> None:
        self.report.runs += 1
        self.report.trace_ids.append(trace_hex(spans[0].context.trace_id))
        self.pending.extend(spans)
        while len(self.pending) >= self.batch_size:
            self.send(self.pending[: self.batch_size])
            del self.pending[: self.batch_size]

    def flush(self) -> None:
        if self.pending:
            self.send(self.pending)
            self.pending = []

    def send(self, batch: list[ReadableSpan]) -> None:
        try:
            result = self.exporter.export(batch)
        except Exception as error:
            raise ExportError(
                f"could not send {len(batch)} spans to {self.destination}: {type(error).__name__}: {error}"
            ) from error
        if result is not SpanExportResult.SUCCESS:
            where = f"the OTLP endpoint {self.destination}" if self.owned else self.destination
            raise ExportError(
                f"could not send {len(batch)} spans to {where} (the exporter reported a failure; its log "
                "says why). Is the backend running and reachable there?"
            )
        self.report.spans += len(batch)
        self.bar.update(len(batch))


def export_run(
    trace: RunLike,
    exporter: SpanExporter | None = None,
    *,
    endpoint: str | None = None,
    headers: dict[str, str] | None = None,
    project: str | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
    progress: bool | None = None,
    timeout: float = 10.0,
) -> ExportReport:
    """Send one run as one trace (see the module's docstring); ``project``: the Phoenix
    project the spans go to (``openinference.project.name``; Phoenix's default otherwise)."""
    spans = run_spans(trace, resource=run_resource(project))
    with _Sender(exporter, endpoint, headers, timeout, batch_size, progress) as sender:
        sender.add(spans)
    return sender.report


def export_history(
    history: History,
    exporter: SpanExporter | None = None,
    *,
    endpoint: str | None = None,
    headers: dict[str, str] | None = None,
    since: Any = None,
    until: Any = None,
    mission: str | Sequence[str] | None = None,
    status: str | Sequence[str] | None = None,
    project: str | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
    progress: bool | None = None,
    timeout: float = 10.0,
) -> ExportReport:
    """Send the runs of a local history that started in ``[since, until)``, of the given
    missions (ids or names) and statuses, one trace per run (as :func:`export_run`)."""
    resource = run_resource(project)
    with _Sender(exporter, endpoint, headers, timeout, batch_size, progress) as sender:
        for run in _history_runs(history, since=since, until=until, mission=mission, status=status):
            sender.add(run_spans(run, resource=resource))
    return sender.report


@dataclass
class _FrameRun:
    """A run read from a history: the run and its mission as dicts, its frames."""

    run: dict[str, Any]
    mission: dict[str, Any] | None
    steps_frame: pd.DataFrame
    events_frame: pd.DataFrame


def _records(frame: pd.DataFrame, json_columns: Iterable[str]) -> list[dict[str, Any]]:
    """A frame's rows as API-shaped dicts: missing values None, JSON text parsed back."""
    rows: list[dict[str, Any]] = [
        {str(k): v for k, v in row.items()}
        for row in frame.astype(object).where(frame.notna(), None).to_dict("records")
    ]
    for row in rows:
        for column in json_columns:
            if row.get(column) is not None:
                row[column] = json_object(row[column])
    return rows


def _history_runs(
    history: History, *, since: Any, until: Any, mission: Any, status: Any
) -> Iterator[_FrameRun]:
    runs = history.runs(mission=mission, since=since, until=until, status=status)
    if runs.empty:
        return
    missions = {m["mission_id"]: m for m in _records(history.missions(), ["metadata"])}
    rows = _records(runs, ["input", "metadata", "result_payload"])
    for start in range(0, len(rows), _HISTORY_CHUNK):
        chunk = rows[start : start + _HISTORY_CHUNK]
        ids = [row["run_id"] for row in chunk]
        steps = history.steps(run=ids)
        events = history.events(run=ids)
        step_groups = dict(list(steps.groupby("run_id", observed=True, sort=False))) if len(steps) else {}
        event_groups = dict(list(events.groupby("run_id", observed=True, sort=False))) if len(events) else {}
        for row in chunk:
            run_events = event_groups.get(row["run_id"], events.iloc[:0]).reset_index(drop=True)
            # The history's own steps frame (plan order, its times and where they came from,
            # as the history stored them): made again from the rows, every time would read
            # "plan", since the stored times are the plan's columns now.
            plan = step_groups.get(row["run_id"], steps.iloc[:0]).reset_index(drop=True)
            yield _FrameRun(
                run=row,
                mission=missions.get(row["mission_id"]),
                steps_frame=plan,
                events_frame=run_events,
            )


def trace_id_of(run: Any) -> str:
    """The trace id (32 hex digits, as backends show it) a run is exported under; ``run``: a
    run trace, a run or a run id."""
    run = getattr(run, "run", run)
    run_id = run if isinstance(run, str) else run_field(run, "run_id")
    if not isinstance(run_id, str):
        raise InvalidArgumentError(
            "run", f"expected a run, a run trace or a run id, got {type(run).__name__}"
        )
    return trace_hex(trace_id(run_id))
