"""Spans in as runs (missionlab.otel.MissionsSpanExporter / MissionsSpanProcessor), against the
real sandbox: a toy agent instrumented with OpenTelemetry and OpenInference attributes, the
round trip of the demo fleet's failed runs, retries, odd spans and a mission that is not there."""

from __future__ import annotations

import json
import uuid
import warnings
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pandas as pd
import pytest
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor, SpanExportResult
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import Status, StatusCode, Tracer

import missionlab
from missionlab.analysis._attempts import tool_calls
from missionlab.otel import MissionsSpanExporter, MissionsSpanProcessor, run_spans
from missionlab.sandbox import Sandbox
from missionlab.trace import RunTrace
from tests.conftest import unique

KIND = "openinference.span.kind"


def new_mission(client: missionlab.Client) -> str:
    return client.missions.create(name=unique("otel import"), execution_mode="external").data.mission_id


def only_run(client: missionlab.Client, mission_id: str) -> RunTrace:
    runs = client.missions.runs.list(mission_id).data
    assert len(runs) == 1, [r.run_id for r in runs]
    return missionlab.load_run(client, mission_id, runs[0].run_id)


def rows(frame: pd.DataFrame, columns: list[str]) -> list[list[Any]]:
    """A frame's rows as lists of plain values (None where missing)."""
    part = frame[columns].astype(object)
    values: list[list[Any]] = part.where(part.notna(), None).values.tolist()
    return values


def toy_agent(tracer: Tracer) -> None:
    """Books a trip: a model call and a search, then a payment that fails once and is retried."""
    with tracer.start_as_current_span(
        "book a trip",
        attributes={
            KIND: "AGENT",
            "input.value": json.dumps({"to": "Lisbon"}),
            "input.mime_type": "application/json",
        },
    ) as root:
        with tracer.start_as_current_span("search", attributes={KIND: "CHAIN"}):
            with tracer.start_as_current_span(
                "fake-llm",
                attributes={
                    KIND: "LLM",
                    "llm.model_name": "fake-llm",
                    "llm.token_count.prompt": 120,
                    "llm.token_count.completion": 30,
                    "llm.token_count.total": 150,
                    "llm.cost.total": 0.001,
                    "output.value": "search flights to Lisbon",
                },
            ):
                pass
            with tracer.start_as_current_span(
                "flights.search",
                attributes={
                    KIND: "TOOL",
                    "tool.name": "flights.search",
                    "tool.parameters": json.dumps({"to": "Lisbon"}),
                    "output.value": json.dumps({"flights": 3}),
                },
            ):
                pass
        with tracer.start_as_current_span("pay", attributes={KIND: "CHAIN"}):
            for attempt in (1, 2):
                with tracer.start_as_current_span(
                    "payments.charge", attributes={KIND: "TOOL", "tool.name": "payments.charge"}
                ) as call:
                    if attempt == 1:
                        call.record_exception(ConnectionError("gateway timed out"))
                        call.set_status(Status(StatusCode.ERROR, "gateway timed out"))
                    else:
                        call.set_attribute("output.value", json.dumps({"charged": 120}))
        root.set_attribute("output.value", "Booked AF123")


def provider_for(exporter: MissionsSpanExporter, how: str) -> TracerProvider:
    provider = TracerProvider(shutdown_on_exit=False)
    if how == "live":
        provider.add_span_processor(MissionsSpanProcessor(exporter))
    elif how == "simple":
        provider.add_span_processor(SimpleSpanProcessor(exporter))
    else:
        provider.add_span_processor(BatchSpanProcessor(exporter))
    return provider


@pytest.mark.parametrize("how", ["live", "simple", "batch"])
def test_an_instrumented_agent_shows_up_as_a_run(client: missionlab.Client, how: str) -> None:
    mission_id = new_mission(client)
    exporter = MissionsSpanExporter(client, mission_id, agent_id="toy-agent")
    provider = provider_for(exporter, how)
    toy_agent(provider.get_tracer("toy"))
    provider.shutdown()

    assert list(exporter.problems) == []
    trace = only_run(client, mission_id)
    run = trace.run
    assert (run.status, run.result_summary, run.input) == ("succeeded", "Booked AF123", {"to": "Lisbon"})
    assert run.metadata is not None and run.metadata["otel_trace_id"] in exporter.runs
    assert exporter.runs[run.metadata["otel_trace_id"]] == run.run_id
    steps = trace.steps_frame
    assert rows(steps, ["step_id", "parent_step_id", "sequence", "status"]) == [
        ["search", None, 1, "completed"],
        ["pay", None, 2, "completed"],
    ]
    calls = tool_calls(trace.events_frame)
    assert rows(calls, ["step_id", "tool", "failed", "attempt"]) == [
        ["search", "flights.search", False, 1],
        ["pay", "payments.charge", True, 1],
        ["pay", "payments.charge", False, 2],
    ]
    assert calls["arguments"].iloc[0]["arguments"] == {"to": "Lisbon"}
    assert trace.rollup("payload.usage.total_tokens")["total"].iloc[0] == 150
    assert trace.rollup("payload.cost_usd")["total"].iloc[0] == pytest.approx(0.001)
    errors = trace.events_frame.query("type == 'error'")
    assert errors["summary"].tolist() == ["ConnectionError: gateway timed out"]
    assert set(trace.events_frame["agent_id"].dropna()) == {"toy-agent"}
    assert steps["started_at"].iloc[0] <= steps["completed_at"].iloc[0] <= steps["started_at"].iloc[1]
    assert trace.explain() is not None  # the views work on an imported run


@pytest.mark.slow
def test_the_demo_fleets_failed_runs_come_back_exactly(client: missionlab.Client) -> None:
    # the demo's own runs (metadata "demo"): the session's sandbox also holds other tests' runs
    every = client.missions.runs.list_runs(status="failed").fetch_all()
    failed = [run for run in every if "demo" in (run.metadata or {})]
    assert len(failed) >= 10
    target = new_mission(client)
    exporter = MissionsSpanExporter(client, target)
    for run in failed:
        original = missionlab.load_run(client, run.mission_id, run.run_id)
        assert exporter.export(run_spans(original)) is SpanExportResult.SUCCESS
        back = missionlab.load_run(client, target, exporter.runs[missionlab.otel.trace_id_of(original)])
        assert_same_run(original, back)
    assert list(exporter.problems) == []


def assert_same_run(original: RunTrace, back: RunTrace) -> None:
    """Same steps, tool calls, usage and statuses (ids and times are the new run's own)."""
    assert (back.run.status, back.run.error, back.run.result_summary) == (
        original.run.status,
        original.run.error,
        original.run.result_summary,
    )
    plan = ["step_id", "parent_step_id", "sequence", "description", "status"]
    pd.testing.assert_frame_equal(
        back.steps_frame[plan].reset_index(drop=True), original.steps_frame[plan].reset_index(drop=True)
    )
    own = ["call_id", "result_id", "called_at", "ended_at"]
    pd.testing.assert_frame_equal(
        tool_calls(back.events_frame).drop(columns=own), tool_calls(original.events_frame).drop(columns=own)
    )
    for path in ("payload.usage.total_tokens", "payload.cost_usd"):
        pd.testing.assert_series_equal(back.rollup(path)["total"], original.rollup(path)["total"])
    assert Counter(map(str, back.events_frame["type"])) == Counter(map(str, original.events_frame["type"]))


# -- retries and idempotency ---------------------------------------------------------------------------


@pytest.fixture
def faulty() -> Iterator[Sandbox]:
    """A sandbox of its own, for tests that inject faults."""
    with Sandbox(demo=True, speed=50) as sandbox:
        yield sandbox


def demo_failed_run(client: missionlab.Client) -> RunTrace:
    for run in client.missions.runs.list_runs(status="failed", page_size=50).data:
        trace = missionlab.load_run(client, run.mission_id, run.run_id)
        if any(e.type == "tool_call" for e in trace.events):
            return trace
    raise AssertionError("no failed demo run with tool calls")


def test_writes_that_fail_are_retried_and_a_repeated_export_duplicates_nothing(faulty: Sandbox) -> None:
    with faulty.client(max_retries=0) as client:
        original = demo_failed_run(client)
        spans = run_spans(original)
        target = new_mission(client)
        exporter = MissionsSpanExporter(client, target)
        faulty.set_faults({"seed": 3, "rules": [{"route": "*/events", "error_rate": 0.5}]})
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            results = [exporter.export(spans) for _ in range(3)]  # the export retried, as an SDK would
        assert SpanExportResult.FAILURE in results
        ours = [w for w in caught if "missionlab.otel" in str(w.message)]
        assert len(ours) == 1 and issubclass(ours[0].category, RuntimeWarning)  # warned once
        assert exporter.problems
        faulty.set_faults({"rules": []})
        assert exporter.force_flush() is True
        assert exporter.export(spans) is SpanExportResult.SUCCESS  # once more, all delivered already
        back = only_run(client, target)
    assert_same_run(original, back)
    assert len(back.events) == len(original.events)
    assert back.events_frame["idempotency_key"].dropna().is_unique  # (status changes: the server's own)


def test_odd_spans_are_kept_as_events_never_dropped(client: missionlab.Client) -> None:
    mission_id = new_mission(client)
    exporter = MissionsSpanExporter(client, mission_id)
    provider = provider_for(exporter, "simple")
    tracer = provider.get_tracer("odd")
    with tracer.start_as_current_span("job"):  # a root with no kind at all
        with tracer.start_as_current_span(
            "retrieve docs", attributes={KIND: "RETRIEVER", "retrieval.documents.0.document.id": "d1"}
        ):
            pass
        with tracer.start_as_current_span("GET /api", attributes={"http.status_code": 500}) as plain:
            plain.set_status(Status(StatusCode.ERROR, "HTTP 500"))
        with tracer.start_as_current_span(
            "model", attributes={KIND: "llm", "llm.token_count.total": "many", "input.value": "not json {"}
        ):
            pass
        with tracer.start_as_current_span("step", attributes={KIND: "CHAIN"}) as chain:
            chain.add_event("checkpoint", {"k": 1})
            chain.record_exception(ValueError("odd value"))
    provider.shutdown()

    trace = only_run(client, mission_id)
    assert trace.run.status == "succeeded"
    events = trace.events_frame
    assert Counter(map(str, events["type"])) - Counter({"status_change": 99}) == Counter(
        {"custom": 3, "error": 2, "message": 1, "step_started": 1, "step_completed": 1}
    )
    payloads = [json.loads(p) for p in events.loc[events["type"] == "custom", "payload"]]
    retriever = next(p for p in payloads if p.get("span_kind") == "RETRIEVER")
    assert retriever["attributes"]["retrieval.documents.0.document.id"] == "d1"
    assert (
        next(p for p in payloads if p.get("span_name") == "GET /api")["attributes"]["http.status_code"] == 500
    )
    assert next(p for p in payloads if p.get("name") == "checkpoint")["attributes"] == {"k": 1}
    model = json.loads(events.loc[events["type"] == "message", "payload"].iloc[0])
    assert model["input"] == "not json {" and "usage" not in model
    assert set(events.loc[events["type"] == "error", "summary"]) == {"HTTP 500", "ValueError: odd value"}


def test_a_trace_whose_root_never_arrives_is_written_at_shutdown_as_failed(client: missionlab.Client) -> None:
    memory = InMemorySpanExporter()
    provider = TracerProvider(shutdown_on_exit=False)
    provider.add_span_processor(SimpleSpanProcessor(memory))
    toy_agent(provider.get_tracer("toy"))
    spans: list[ReadableSpan] = [s for s in memory.get_finished_spans() if s.parent is not None]
    mission_id = new_mission(client)
    exporter = MissionsSpanExporter(client, mission_id)
    assert exporter.export(spans) is SpanExportResult.SUCCESS  # held: the root may still come
    assert client.missions.runs.list(mission_id).data == []
    exporter.shutdown()
    trace = only_run(client, mission_id)
    assert trace.run.status == "failed" and "root span" in (trace.run.error or "")
    assert tool_calls(trace.events_frame)["tool"].tolist() == [
        "flights.search",
        "payments.charge",
        "payments.charge",
    ]


def test_the_agent_never_sees_an_error_from_recording(client: missionlab.Client) -> None:
    exporter = MissionsSpanExporter(client, str(uuid.uuid4()))  # no such mission
    provider = provider_for(exporter, "live")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        toy_agent(provider.get_tracer("toy"))  # runs to the end: nothing is raised into it
        provider.shutdown()
    assert len([w for w in caught if "missionlab.otel" in str(w.message)]) == 1
    assert exporter.runs == {} and any("could not create its run" in p for p in exporter.problems)


def test_bad_arguments_are_refused(client: missionlab.Client) -> None:
    cases: list[tuple[dict[str, Any], str]] = [
        ({"mission_id": ""}, "mission_id"),
        ({"mission_id": "m", "run_per": "session"}, "run_per"),
    ]
    for arguments, name in cases:
        with pytest.raises(missionlab.InvalidArgumentError) as raised:
            MissionsSpanExporter(client, **arguments)
        assert raised.value.argument == name
    with pytest.raises(missionlab.InvalidArgumentError):
        MissionsSpanProcessor(InMemorySpanExporter())  # type: ignore[arg-type]
