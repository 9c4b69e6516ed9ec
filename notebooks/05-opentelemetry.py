# %% [markdown]
# # Missions and OpenTelemetry, both ways
#
# Agents are often instrumented with [OpenTelemetry](https://opentelemetry.io) and the [OpenInference](https://github.com/Arize-ai/openinference) conventions (span kinds `AGENT`, `CHAIN`, `TOOL`, `LLM`), so that Arize Phoenix, Langfuse, Jaeger or Grafana Tempo can show what they did. `missionlab.otel` bridges that world and Missions:
#
# - **in**: `MissionsSpanExporter` records an instrumented agent's traces as Missions runs (one line of set-up), so they show in the Gantt, `explain()` and `compare()`;
# - **out**: `export_run()` sends any run to an OpenTelemetry backend as one trace.
#
# It needs the `otel` extra (`pip install "missionlab[otel]"`, included in `lab`).

# %%
# NBVAL_IGNORE_OUTPUT
import missionlab

client = missionlab.connect()  # hosted API with TELNYX_API_KEY, else a local sandbox
mission = client.missions.create(name="Toy travel agent (OpenTelemetry)", execution_mode="external").data

# %% [markdown]
# ## An agent instrumented with OpenTelemetry
#
# A toy travel agent: a fake model (no network) plans the trip, two tools search and pay, and the payment gateway times out once. Each function is a span with OpenInference attributes, as an instrumentor for OpenAI or LangChain would write them.

# %%
import json
import time

from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.trace import Status, StatusCode

KIND = "openinference.span.kind"


def fake_llm(prompt):
    """A stand-in for a model call: a fixed answer and a token count from the prompt's length."""
    time.sleep(0.3)
    answer = "search flights, then pay with the corporate card"
    return answer, {"prompt": len(prompt.split()) * 4, "completion": len(answer.split()) * 4}


def book_trip(tracer, destination):
    with tracer.start_as_current_span("book a trip", attributes={KIND: "AGENT", "input.value": json.dumps({"to": destination})}) as run:
        with tracer.start_as_current_span("plan", attributes={KIND: "CHAIN"}):
            with tracer.start_as_current_span("fake-llm", attributes={KIND: "LLM", "llm.model_name": "fake-llm"}) as llm:
                answer, tokens = fake_llm(f"Plan a trip to {destination} under the travel policy")
                llm.set_attributes(
                    {
                        "llm.token_count.prompt": tokens["prompt"],
                        "llm.token_count.completion": tokens["completion"],
                        "llm.token_count.total": tokens["prompt"] + tokens["completion"],
                        "output.value": answer,
                    }
                )
        with tracer.start_as_current_span("search", attributes={KIND: "CHAIN"}):
            with tracer.start_as_current_span("flights.search", attributes={KIND: "TOOL", "tool.name": "flights.search", "tool.parameters": json.dumps({"to": destination})}) as tool:
                time.sleep(0.6)
                tool.set_attribute("output.value", json.dumps({"flights": ["AF123", "TP456"], "cheapest": "TP456"}))
        with tracer.start_as_current_span("pay", attributes={KIND: "CHAIN"}):
            for attempt in (1, 2):
                with tracer.start_as_current_span("payments.charge", attributes={KIND: "TOOL", "tool.name": "payments.charge", "tool.parameters": json.dumps({"amount": 182})}) as tool:
                    time.sleep(0.4)
                    if attempt == 1:
                        tool.record_exception(TimeoutError("payment gateway timed out"))
                        tool.set_status(Status(StatusCode.ERROR, "payment gateway timed out"))
                    else:
                        tool.set_attribute("output.value", json.dumps({"charged": 182}))
        run.set_attribute("output.value", "Booked TP456")


# %% [markdown]
# ## Reporting to Missions: one line of set-up
#
# `MissionsSpanProcessor` hands each span to a `MissionsSpanExporter` as it starts and ends, so the run, its steps and their times appear live. (The exporter also works alone under any processor, e.g. beside your Phoenix exporter in a `BatchSpanProcessor`.)

# %%
from missionlab.otel import MissionsSpanExporter, MissionsSpanProcessor

provider = TracerProvider()
exporter = MissionsSpanExporter(client, mission.mission_id, agent_id="toy-agent")
provider.add_span_processor(MissionsSpanProcessor(exporter))  # the one line

book_trip(provider.get_tracer("toy-travel-agent"), "Lisbon")
provider.force_flush()
exporter

# %% [markdown]
# The trace became a run: the `AGENT` root is the run, `CHAIN` spans are plan steps, `TOOL` spans tool calls and their results, `LLM` spans model calls with their token counts.

# %%
(run_id,) = exporter.runs.values()
trace = missionlab.load_run(client, mission.mission_id, run_id)
print(trace.run.status, "-", trace.run.result_summary)
trace.steps_frame[["step_id", "status"]]

# %%
trace.events_frame[["type", "step_id", "summary"]]

# %%
trace.rollup("payload.usage.total_tokens")[["description", "total"]]

# %% [markdown]
# Its Gantt and its explanation, as for any run:

# %%
# NBVAL_IGNORE_OUTPUT
trace.gantt()

# %%
# NBVAL_IGNORE_OUTPUT
trace.explain(baseline=False)

# %% [markdown]
# ## Out: any run as an OpenTelemetry trace
#
# `export_run(trace, endpoint=...)` sends a run over OTLP/HTTP, e.g. to an Arize Phoenix started beside this notebook (in a terminal: `pip install arize-phoenix` in a virtual environment of its own, then `phoenix serve`; it listens on http://127.0.0.1:6006). Trace and span ids are derived from the run's ids, so exporting again replaces the spans instead of duplicating them. Without a Phoenix running, the spans go to OpenTelemetry's console exporter instead, one line each.

# %%
# NBVAL_IGNORE_OUTPUT
import os
import urllib.request

from opentelemetry.sdk.trace.export import ConsoleSpanExporter

from missionlab.otel import export_run, trace_id_of

phoenix = os.environ.get("PHOENIX_COLLECTOR_ENDPOINT", "http://127.0.0.1:6006").rstrip("/")
try:
    phoenix_up = urllib.request.urlopen(f"{phoenix}/healthz", timeout=1).status == 200
except OSError:
    phoenix_up = False

if phoenix_up:
    print(export_run(trace, endpoint=phoenix, project="missionlab"))
    print(f"Open {phoenix} (project 'missionlab') and look for trace {trace_id_of(trace)}")
else:
    print(f"No Phoenix answers at {phoenix}: start one with `phoenix serve` to see this run there.")
    print("Meanwhile, the spans as OpenTelemetry's console exporter prints them:\n")
    console = ConsoleSpanExporter(
        formatter=lambda span: f"{span.attributes['openinference.span.kind']:6} {span.name:22} {span.status.status_code.name}\n"
    )
    export_run(trace, console)
