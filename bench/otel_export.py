"""Exporting a 500-step, 5,000-event run over OTLP/HTTP to loopback: client CPU, beside the
same spans written through the OpenTelemetry SDK's own Tracer (what a user would otherwise
write) and beside the floor (encoding the spans and posting them, nothing else).

    python bench/otel_export.py [--repeat 5] [--phoenix PATH] [--json FILE]

The run is tests/otel_runs.py's ``big_run()`` (500 nested steps, 1,800 tool calls, 399 model
calls, 5,000 events: 2,700 spans). The receiver is a plain HTTP server on 127.0.0.1 in a
process of its own; CPU is this process's (``time.process_time``, every thread), so the
receiver's work is not counted. Each way runs ``--repeat`` times, alternating; medians are
printed. Three exports of the same run are checked for new span ids (duplicates in a backend
that keeps one span per id). With ``--phoenix PATH`` (a ``phoenix`` executable) the run is
also exported three times to a real Arize Phoenix and read back: lost and duplicated spans.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import _harness as h  # noqa: F401  (puts this checkout's src/ first on sys.path)

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # tests.otel_runs: the run the tests use too

from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter  # noqa: E402
from opentelemetry.sdk.trace import TracerProvider  # noqa: E402
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter  # noqa: E402
from tests.otel_runs import big_run  # noqa: E402

from missionlab.otel import export_run, run_spans, trace_id_of  # noqa: E402
from missionlab.trace import RunTrace  # noqa: E402

TARGET_CPU_S = 2.0


RECEIVER = r"""
import json, sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

ids = []

class Handler(BaseHTTPRequestHandler):
    def do_POST(self):
        request = ExportTraceServiceRequest()
        request.ParseFromString(self.rfile.read(int(self.headers["Content-Length"])))
        ids.extend(s.span_id for rs in request.resource_spans for ss in rs.scope_spans for s in ss.spans)
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_GET(self):
        body = json.dumps({"spans": len(ids), "distinct": len(set(ids))}).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass

server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
print(server.server_address[1], flush=True)
server.serve_forever()
"""


class Receiver:
    """An OTLP/HTTP endpoint on loopback, in a process of its own (its CPU is not the client's),
    counting the spans and distinct span ids it receives."""

    def __init__(self) -> None:
        self.process = subprocess.Popen([sys.executable, "-c", RECEIVER], stdout=subprocess.PIPE, text=True)
        assert self.process.stdout is not None
        self.url = f"http://127.0.0.1:{int(self.process.stdout.readline())}"

    def counts(self) -> dict[str, int]:
        with urllib.request.urlopen(f"{self.url}/count") as answer:
            counts: dict[str, int] = json.load(answer)
            return counts

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(10)


def fresh(seed: int) -> RunTrace:
    """The big run, with no frame built yet (export_run builds them, as it would for a user)."""
    return big_run(seed=seed).trace


def missionlab_export(trace: RunTrace, url: str) -> float:
    """CPU seconds of export_run, reading the run's frames included."""
    started = time.process_time()
    export_run(trace, endpoint=url, progress=False)
    return time.process_time() - started


def sdk_tracer(trace: RunTrace, url: str) -> float:
    """The same spans written by hand with the SDK's Tracer: a span per run, step, tool call and
    model call, their attributes, a BatchSpanProcessor and the OTLP exporter. What to write is
    worked out before the clock starts (a head start over export_run)."""
    spans = run_spans(trace)
    started = time.process_time()
    provider = TracerProvider(shutdown_on_exit=False)
    provider.add_span_processor(
        BatchSpanProcessor(OTLPSpanExporter(endpoint=f"{url}/v1/traces"), max_queue_size=8192)
    )
    tracer = provider.get_tracer("hand-written")
    from opentelemetry import trace as api

    made: dict[int, Any] = {}
    for span in spans:
        parent = made.get(span.parent.span_id) if span.parent else None
        context = api.set_span_in_context(parent) if parent is not None else None
        written = tracer.start_span(
            span.name, context=context, attributes=span.attributes, start_time=span.start_time
        )
        for event in span.events:
            written.add_event(event.name, event.attributes, event.timestamp)
        written.set_status(span.status)
        made[span.context.span_id] = written
    for span in reversed(spans):
        made[span.context.span_id].end(end_time=span.end_time)
    provider.shutdown()  # the BatchSpanProcessor's thread exports: counted too
    return time.process_time() - started


def floor(trace: RunTrace, url: str) -> float:
    """Encoding prebuilt spans and posting them: the least any exporter does."""
    spans = run_spans(trace)
    started = time.process_time()
    exporter: SpanExporter = OTLPSpanExporter(endpoint=f"{url}/v1/traces")
    for start in range(0, len(spans), 512):
        exporter.export(spans[start : start + 512])
    exporter.shutdown()
    return time.process_time() - started


def phoenix_check(command: str) -> dict[str, int]:
    from tests.phoenix import running_phoenix, spans, wait_until_stored

    trace = fresh(7)
    expected = len(run_spans(trace))
    with tempfile.TemporaryDirectory() as work, running_phoenix(Path(work), command) as phoenix:
        for _ in range(3):
            export_run(trace, endpoint=phoenix.url, project="bench", progress=False)
        wait_until_stored(phoenix, "bench", trace_id_of(trace), expected)
        marker = big_run(seed=8, run_id="run-marker").trace  # stored after the three: all are in
        export_run(marker, endpoint=phoenix.url, project="bench", progress=False)
        wait_until_stored(phoenix, "bench", trace_id_of(marker), len(run_spans(marker)))
        stored = spans(phoenix, "bench", trace_id_of(trace))
    ids = [s["context"]["span_id"] for s in stored]
    return {
        "spans": expected,
        "stored": len(ids),
        "lost": expected - len(set(ids)),
        "duplicated": len(ids) - len(set(ids)),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--phoenix", help="a phoenix executable: also export to a real Arize Phoenix")
    parser.add_argument("--json", help="also write the results to this JSON file")
    args = parser.parse_args()

    receiver = Receiver()
    ways: dict[str, Callable[[RunTrace, str], float]] = {
        "missionlab.otel.export_run": missionlab_export,
        "hand-written SDK Tracer": sdk_tracer,
        "floor: encode + POST": floor,
    }
    cpu: dict[str, list[float]] = {name: [] for name in ways}
    for _ in range(args.repeat):
        for name, way in ways.items():  # alternating, so that a busy moment hits every way
            cpu[name].append(way(fresh(7), receiver.url))
    medians = {name: statistics.median(values) for name, values in cpu.items()}
    mine = medians["missionlab.otel.export_run"]
    print(f"500 steps, 5,000 events -> {len(run_spans(fresh(7))):,} spans, OTLP/HTTP to {receiver.url}")
    print(f"{'way':30} {'client CPU s (median)':>22} {'ratio to missionlab':>20}")
    for name, value in medians.items():
        print(f"{name:30} {value:22.3f} {value / mine:20.2f}")
    print(f"target: under {TARGET_CPU_S:.1f} s of client CPU -> {'met' if mine < TARGET_CPU_S else 'MISSED'}")

    before = receiver.counts()
    trace = big_run(seed=99, run_id="run-reexport").trace  # ids the receiver has not seen yet
    for _ in range(3):
        export_run(trace, endpoint=receiver.url, progress=False)
    after = receiver.counts()
    sent, distinct = after["spans"] - before["spans"], after["distinct"] - before["distinct"]
    new_ids_on_reexport = distinct - sent // 3
    print(f"three exports: {sent:,} spans sent, {distinct:,} distinct ids")
    print(f"span ids new on re-export (duplicates in a backend): {new_ids_on_reexport}")

    results: dict[str, Any] = {
        "cpu_s": cpu,
        "median_cpu_s": medians,
        "new_ids_on_reexport": new_ids_on_reexport,
    }
    if args.phoenix:
        check = phoenix_check(args.phoenix)
        print(
            f"Phoenix, three exports: {check['stored']:,} stored of {check['spans']:,}: "
            f"{check['lost']} lost, {check['duplicated']} duplicated"
        )
        results["phoenix"] = check
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))
    receiver.stop()


if __name__ == "__main__":
    main()
