"""Runs out as OpenTelemetry traces (missionlab.otel.export_run / export_history / run_spans):
span trees and attributes checked with the SDK's in-memory exporter, OTLP/HTTP checked against
a real HTTP server on loopback that decodes what it receives."""

from __future__ import annotations

import json
import threading
from collections import Counter
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import StatusCode

import missionlab
from missionlab import otel
from missionlab.otel import MAX_ATTRIBUTE_CHARS, TRUNCATED_MARK, ExportError, export_run, run_spans
from missionlab.trace import RunTrace
from tests.conftest import unique
from tests.crafted import craft, event, step
from tests.phoenix import free_port

KIND = "openinference.span.kind"


def attrs(span: Any) -> dict[str, Any]:
    """A span's (or a span event's) attributes, as a dict."""
    return dict(span.attributes or {})


def kind(span: ReadableSpan) -> str:
    return str(attrs(span).get(KIND))


def seconds(span: ReadableSpan, origin: ReadableSpan) -> tuple[float, float]:
    """When a span starts and ends, in seconds after ``origin`` starts."""
    assert span.start_time is not None and span.end_time is not None and origin.start_time is not None
    return (span.start_time - origin.start_time) / 1e9, (span.end_time - origin.start_time) / 1e9


def demo_failed_run(client: missionlab.Client, with_tools: bool = True) -> RunTrace:
    """A failed run of the demo fleet whose events include tool calls (or not)."""
    for run in client.missions.runs.list_runs(status="failed", page_size=50).data:
        trace = missionlab.load_run(client, run.mission_id, run.run_id)
        if any(e.type == "tool_call" for e in trace.events) == with_tools:
            return trace
    raise AssertionError("the demo fleet has no such failed run")


def in_memory(trace: Any, **kwargs: Any) -> list[ReadableSpan]:
    memory = InMemorySpanExporter()
    export_run(trace, memory, progress=False, **kwargs)
    return list(memory.get_finished_spans())


# -- the span tree ----------------------------------------------------------------------------------


def test_a_failed_demo_run_is_one_trace_whose_tree_follows_its_plan(client: missionlab.Client) -> None:
    trace = demo_failed_run(client)
    spans = in_memory(trace)

    assert len({s.context.trace_id for s in spans}) == 1
    roots = [s for s in spans if s.parent is None]
    assert len(roots) == 1
    root = roots[0]
    assert trace.mission is not None
    assert (root.name, kind(root)) == (trace.mission.name, "AGENT")
    assert root.status.status_code is StatusCode.ERROR and root.status.description == trace.run.error
    assert attrs(root)["missionlab.run_id"] == trace.run.run_id

    # Each plan step is a CHAIN span under its parent step's span (the run's at the top).
    by_step = {attrs(s)["missionlab.step_id"]: s for s in spans if kind(s) == "CHAIN"}
    assert set(by_step) == {s.step_id for s in trace.steps}
    for plan_step in trace.steps:
        span = by_step[plan_step.step_id]
        parent = by_step[plan_step.parent_step_id] if plan_step.parent_step_id else root
        assert span.parent is not None and span.parent.span_id == parent.context.span_id
        assert span.name == plan_step.description
        errors = [e.summary for e in trace.events if e.type == "error" and e.step_id == plan_step.step_id]
        if plan_step.status == "failed":
            assert span.status.status_code is StatusCode.ERROR
            assert span.status.description == (errors[-1] if errors else "the step failed")
        elif plan_step.status == "completed":
            assert span.status.status_code is StatusCode.OK

    # One TOOL span per tool_call event, under its step's span, named after its tool.
    calls = [e for e in trace.events if e.type == "tool_call"]
    tools = [s for s in spans if kind(s) == "TOOL"]
    assert sorted(attrs(s)["missionlab.event_id"] for s in tools) == sorted(e.event_id for e in calls)
    for call in calls:
        span = next(s for s in tools if attrs(s)["missionlab.event_id"] == call.event_id)
        assert span.name == attrs(span)["tool.name"] == (call.payload or {})["tool"]
        assert span.parent is not None and span.parent.span_id == by_step[call.step_id].context.span_id
        assert json.loads(str(attrs(span)["input.value"])) == call.payload

    # Other events reporting usage are LLM spans; token counts add up to the events' own.
    usage_events = [e for e in trace.events if e.type != "tool_call" and "usage" in (e.payload or {})]
    assert len([s for s in spans if kind(s) == "LLM"]) == len(usage_events)
    reported = sum(
        (e.payload or {})["usage"]["total_tokens"] for e in trace.events if "usage" in (e.payload or {})
    )
    assert sum(int(attrs(s).get("llm.token_count.total", 0)) for s in spans) == reported
    assert len(spans) == 1 + len(trace.steps) + len(calls) + len(usage_events)

    # Every other event is a span event (errors named "exception"), none lost.
    results = {e.event_id for e in trace.events if e.type == "tool_result"}
    rest = [
        e
        for e in trace.events
        if e.type != "tool_call" and e.event_id not in results and e not in usage_events
    ]
    span_events = [ev for s in spans for ev in s.events]
    assert sorted(attrs(ev)["missionlab.event_id"] for ev in span_events) == sorted(e.event_id for e in rest)
    assert Counter(ev.name for ev in span_events)["exception"] == sum(e.type == "error" for e in rest)


def test_exporting_again_gives_the_same_ids(client: missionlab.Client) -> None:
    trace = demo_failed_run(client)
    first, second = run_spans(trace), run_spans(trace)
    assert [(s.context.trace_id, s.context.span_id) for s in first] == [
        (s.context.trace_id, s.context.span_id) for s in second
    ]
    assert len({s.context.span_id for s in first}) == len(first)
    assert (
        otel.trace_id_of(trace) == f"{first[0].context.trace_id:032x}" == otel.trace_id_of(trace.run.run_id)
    )


def test_a_run_without_tool_calls_gives_no_tool_span(client: missionlab.Client) -> None:
    spans = in_memory(demo_failed_run(client, with_tools=False))
    assert not [s for s in spans if kind(s) == "TOOL"]


# -- odd runs ---------------------------------------------------------------------------------------


def test_untimed_steps_take_their_times_from_events_or_their_neighbours() -> None:
    trace = craft(
        [
            step("timed-by-events", None, None, "completed", sequence=1),
            step("skipped", None, 9, "skipped", sequence=2),
            step("parent", 3, 6, "completed", sequence=3),
            step("never", None, None, "pending", sequence=4, parent="parent"),
        ],
        [event(1, "step_started", "timed-by-events"), event(2.5, "step_completed", "timed-by-events")],
        with_step_events=False,
        end=10,
    )
    spans = {attrs(s).get("missionlab.step_id"): s for s in in_memory(trace)}
    times = {k: seconds(s, spans[None]) for k, s in spans.items()}
    assert times["timed-by-events"] == (1, 2.5)
    assert times["skipped"] == (9, 9)  # when it was skipped, lasting no time
    assert times["never"] == (3, 3)  # where its parent starts
    assert attrs(spans["timed-by-events"])["missionlab.step.times_from"] == "events"


@pytest.mark.filterwarnings("ignore::missionlab.UnknownValueWarning")
def test_unknown_types_deep_and_huge_payloads_are_exported_never_refused() -> None:
    deep: Any = "bottom"
    for _ in range(250):
        deep = {"d": deep}
    huge = {"blob": "x" * 200_000}
    trace = craft(
        [step("work", 0, 5, "completed", sequence=1)],
        [
            event(1, "handoff", "work", "Handed to a human", {"to": "ops"}),
            event(2, "custom", "work", "Deep", deep),
            event(3, "tool_call", "work", "Calling big", {"tool": "big", "arguments": huge}),
            event(4, "tool_result", "work", "big returned", {"tool": "big", **huge}),
        ],
    )
    with receiver() as server:
        report = export_run(trace, endpoint=server.url, progress=False)
    sent = server.spans()
    assert report.spans == len(sent) == 3  # run, step, tool call
    work = next(s for s in sent if s["attributes"].get("missionlab.step_id") == "work")
    names = [e["name"] for e in work["events"]]
    assert "handoff" in names
    deep_text = next(e for e in work["events"] if e["attributes"].get("missionlab.event.summary") == "Deep")
    value: Any = json.loads(deep_text["attributes"]["missionlab.event.payload"])
    depth = 0
    while isinstance(value, dict):
        value, depth = value["d"], depth + 1
    assert (depth, value) == (250, "bottom")
    tool = next(s for s in sent if s["attributes"].get("tool.name") == "big")
    for name in ("input.value", "output.value", "tool.parameters"):
        text = tool["attributes"][name]
        assert len(text) == MAX_ATTRIBUTE_CHARS and text.endswith(TRUNCATED_MARK)


# -- OTLP/HTTP ---------------------------------------------------------------------------------------


class _Receiver:
    """An OTLP/HTTP traces endpoint on loopback that keeps what it is sent, decoded."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, dict[str, str], bytes]] = []
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                owner.requests.append((self.path, dict(self.headers), body))
                self.send_response(200)
                self.send_header("Content-Type", "application/x-protobuf")
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def spans(self) -> list[dict[str, Any]]:
        out = []
        for _, _, body in self.requests:
            request = ExportTraceServiceRequest()
            request.ParseFromString(body)
            for resource in request.resource_spans:
                for scope in resource.scope_spans:
                    for span in scope.spans:
                        out.append(
                            {
                                "name": span.name,
                                "span_id": span.span_id.hex(),
                                "parent_id": span.parent_span_id.hex(),
                                "attributes": {a.key: _any(a.value) for a in span.attributes},
                                "events": [
                                    {
                                        "name": e.name,
                                        "attributes": {a.key: _any(a.value) for a in e.attributes},
                                    }
                                    for e in span.events
                                ],
                                "resource": {a.key: _any(a.value) for a in resource.resource.attributes},
                            }
                        )
        return out


def _any(value: Any) -> Any:
    return getattr(value, value.WhichOneof("value")) if value.WhichOneof("value") else None


class receiver:
    """``with receiver() as server:`` an OTLP/HTTP receiver serving in a thread."""

    def __enter__(self) -> _Receiver:
        self.receiver = _Receiver()
        self.thread = threading.Thread(target=self.receiver.server.serve_forever, daemon=True)
        self.thread.start()
        return self.receiver

    def __exit__(self, *exc: object) -> None:
        self.receiver.server.shutdown()
        self.receiver.server.server_close()
        self.thread.join()


@pytest.fixture
def otlp() -> Iterator[_Receiver]:
    with receiver() as server:
        yield server


def test_otlp_http_goes_to_the_traces_route_of_a_base_url_with_headers_in_batches(
    client: missionlab.Client, otlp: _Receiver
) -> None:
    trace = demo_failed_run(client)
    expected = len(run_spans(trace))
    report = export_run(
        trace, endpoint=otlp.url, headers={"authorization": "Bearer s3cret"}, batch_size=5, project="demo"
    )
    assert {path for path, _, _ in otlp.requests} == {"/v1/traces"}
    assert all(headers.get("authorization") == "Bearer s3cret" for _, headers, _ in otlp.requests)
    assert len(otlp.requests) == -(-expected // 5)
    sent = otlp.spans()
    assert report.spans == len(sent) == expected and report.runs == 1
    assert report.trace_ids == [otel.trace_id_of(trace)]
    assert {s["resource"]["openinference.project.name"] for s in sent} == {"demo"}
    assert {s["resource"]["service.name"] for s in sent} == {"missionlab"}


def test_the_endpoint_comes_from_the_otel_variables(monkeypatch: pytest.MonkeyPatch, otlp: _Receiver) -> None:
    monkeypatch.delenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", raising=False)
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", otlp.url)
    assert otel.traces_endpoint() == f"{otlp.url}/v1/traces"
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", f"{otlp.url}/custom")
    assert otel.traces_endpoint() == f"{otlp.url}/custom"
    assert otel.traces_endpoint(f"{otlp.url}/v1/traces") == f"{otlp.url}/v1/traces"
    monkeypatch.delenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
    export_run(craft([step("a", 0, 1, sequence=1)]), progress=False)
    assert len(otlp.spans()) == 2


def test_a_backend_that_is_down_gives_an_error_naming_it_and_no_secret() -> None:
    port = free_port()  # nothing listens there any more
    trace = craft([step("a", 0, 1, sequence=1)])
    with pytest.raises(ExportError) as raised:
        export_run(
            trace,
            endpoint=f"http://user:pw@127.0.0.1:{port}",
            headers={"authorization": "Bearer s3cret"},
            timeout=1,
            progress=False,
        )
    message = str(raised.value)
    assert f"http://127.0.0.1:{port}/v1/traces" in message
    assert "s3cret" not in message and "pw" not in message


def test_bad_arguments_are_refused_before_anything_is_sent() -> None:
    trace = craft([step("a", 0, 1, sequence=1)])
    cases: list[tuple[dict[str, Any], str]] = [
        ({"endpoint": "ftp://127.0.0.1/x"}, "endpoint"),
        ({"endpoint": "not a url"}, "endpoint"),
        ({"exporter": "console"}, "exporter"),
        ({"exporter": InMemorySpanExporter(), "endpoint": "http://127.0.0.1:1"}, "endpoint"),
        ({"batch_size": 0}, "batch_size"),
    ]
    for arguments, name in cases:
        with pytest.raises(missionlab.InvalidArgumentError) as raised:
            export_run(trace, progress=False, **arguments)
        assert raised.value.argument == name


# -- a history ---------------------------------------------------------------------------------------


def _record(client: missionlab.Client, mission_id: str, *, fail: bool) -> None:
    """A run of two steps with a tool call reporting 7 tokens (failing in the second step)."""
    try:
        with missionlab.RunRecorder(client, mission_id, input={"n": 1}) as rec:
            rec.plan([("a", "First"), ("b", "Second")])
            with rec.step("a"):
                rec.event("tool_call", "Calling t", payload={"tool": "t", "usage": {"total_tokens": 7}})
                rec.event("tool_result", "t returned", payload={"tool": "t", "ok": True})
            if fail:
                with rec.step("b"):
                    raise RuntimeError("boom")
    except RuntimeError:
        assert fail


def _shape(span: ReadableSpan) -> tuple[Any, ...]:
    parent = span.parent.span_id if span.parent else None
    return (span.context.span_id, parent, span.name, span.status.status_code, kind(span))


def test_export_history_sends_the_runs_of_a_history_as_they_are(tmp_path: Path) -> None:
    from missionlab.sandbox import Sandbox

    with Sandbox(demo=False) as sandbox, sandbox.client() as client:
        missions = [
            client.missions.create(name=unique("otel history"), execution_mode="external").data
            for _ in range(2)
        ]
        for mission in missions:
            _record(client, mission.mission_id, fail=False)
            _record(client, mission.mission_id, fail=True)
        history = missionlab.history(client, tmp_path / "history")
        history.sync(progress=False)
        memory = InMemorySpanExporter()
        report = otel.export_history(history, memory, mission=missions[0].mission_id, progress=False)
        runs = client.missions.runs.list(missions[0].mission_id).data
        traces = [missionlab.load_run(client, missions[0].mission_id, r.run_id) for r in runs]

    exported = list(memory.get_finished_spans())
    assert report.runs == 2 and sorted(report.trace_ids) == sorted(otel.trace_id_of(t) for t in traces)
    expected = [s for t in traces for s in run_spans(t)]
    assert sorted(map(_shape, exported)) == sorted(map(_shape, expected))
    assert sum(int(attrs(s).get("llm.token_count.total", 0)) for s in exported) == 2 * 7


# -- hosted-shaped answers --------------------------------------------------------------------------

HOSTED = Path(__file__).parent / "data" / "hosted"


@pytest.mark.filterwarnings("ignore::missionlab.UnknownValueWarning")
def test_a_hosted_run_exports_with_times_from_events_and_unknown_values_kept() -> None:
    """tests/data/hosted: steps without times, an unknown step status and event type, events
    without a step, no status_change events."""

    def answer(name: str) -> Any:
        return json.loads((HOSTED / name).read_text())["data"]

    trace = RunTrace(
        run=missionlab.Run(**answer("run.json")),
        steps=[missionlab.PlanStep(**s) for s in answer("plan.json")],
        events=[missionlab.Event(**e) for e in answer("events.json")],
        mission=missionlab.Mission(**answer("mission.json")),
    )
    spans = in_memory(trace)
    root = next(s for s in spans if s.parent is None)
    by_step = {attrs(s)["missionlab.step_id"]: s for s in spans if kind(s) == "CHAIN"}
    frame = trace.steps_frame
    nanoseconds = {
        column: dict(
            zip(
                frame["step_id"],
                frame[column].to_numpy("datetime64[ns]").astype("int64").tolist(),
                strict=True,
            )
        )
        for column in ("started_at", "completed_at")
    }
    for step_id in ("account", "search"):  # their times come from their step events
        started, completed = nanoseconds["started_at"][step_id], nanoseconds["completed_at"][step_id]
        assert (by_step[step_id].start_time, by_step[step_id].end_time) == (started, completed)
        assert attrs(by_step[step_id])["missionlab.step.times_from"] == "events"
    assert attrs(by_step["search.index"])["missionlab.step.status"] == "blocked"
    assert by_step["search.index"].status.status_code is StatusCode.UNSET
    (llm_call,) = [
        s for s in spans if attrs(s).get("missionlab.event.type") == "llm_call"
    ]  # it reports usage
    assert (kind(llm_call), attrs(llm_call)["llm.token_count.total"]) == ("LLM", 812)
    assert llm_call.parent is not None and llm_call.parent.span_id == by_step["search"].context.span_id
    stepless = {e.event_id for e in trace.events if e.step_id is None and e.type != "tool_call"}
    assert {attrs(ev)["missionlab.event_id"] for ev in root.events} == stepless
    assert root.status.description == trace.run.error


def test_export_history_says_where_step_times_came_from_as_export_run_does(tmp_path: Path) -> None:
    """A plan that gives a step no times: the history stores the times of its step events (its
    ``times_from`` column says so), and its spans say ``events`` as ``export_run``'s do."""
    from missionlab.sandbox import Sandbox

    trace = craft(
        [step("planned", 1, 4, sequence=1), step("by-events", 5, 9, sequence=2)],
        run_id="00000000-0000-4000-8000-0000000000c1",
        mission_id="33333333-3333-4333-8333-333333333333",
        end=10,
    )
    path = tmp_path / "run.json"
    trace.save(path)
    data = json.loads(path.read_text())
    for entry in data["plan"]:
        if entry["step_id"] == "by-events":  # the plan gives it no times: its events do
            entry.pop("started_at", None)
            entry.pop("completed_at", None)
    path.write_text(json.dumps(data))
    with Sandbox(load=[path]) as sandbox, sandbox.client() as client:
        history = missionlab.history(client, tmp_path / "history")
        history.sync(progress=False)
        from_history = InMemorySpanExporter()
        otel.export_history(history, from_history, progress=False)
        from_api = InMemorySpanExporter()
        export_run(
            missionlab.load_run(client, trace.run.mission_id, trace.run.run_id), from_api, progress=False
        )

    def steps(memory: InMemorySpanExporter) -> dict[str, dict[str, Any]]:
        return {
            attrs(s)["missionlab.step_id"]: {**attrs(s), "times": (s.start_time, s.end_time)}
            for s in memory.get_finished_spans()
            if kind(s) == "CHAIN"
        }

    exported, expected = steps(from_history), steps(from_api)
    assert exported["by-events"]["missionlab.step.times_from"] == "events"
    assert exported["planned"]["missionlab.step.times_from"] == "plan"
    assert exported == expected
