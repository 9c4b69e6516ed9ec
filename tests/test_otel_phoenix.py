"""Runs exported to a real Arize Phoenix over OTLP/HTTP, read back through Phoenix's REST API.

Phoenix runs from its own virtual environment (tests/phoenix.py): ``.ci/run`` makes it and names
its executable in ``MISSIONLAB_PHOENIX``. Under CI (``CI=true``) a missing Phoenix fails this
test; elsewhere it is skipped, saying how to get one.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import missionlab
from missionlab.analysis._attempts import tool_calls
from missionlab.otel import export_run, run_spans, trace_id_of
from missionlab.trace import RunTrace
from tests.crafted import craft, step
from tests.otel_runs import big_run
from tests.phoenix import ENV_VAR, Phoenix, executable, running_phoenix, spans, wait_until_stored

pytestmark = pytest.mark.slow

PROJECT = "missionlab-integration"


@pytest.fixture(scope="module")
def phoenix(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Phoenix]:
    command = executable()
    if command is None:
        reason = (
            f"Arize Phoenix is not installed: set {ENV_VAR} to a phoenix executable (.ci/run makes one: "
            "python -m venv VENV && VENV/bin/pip install arize-phoenix), or put phoenix on PATH"
        )
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    with running_phoenix(Path(tmp_path_factory.mktemp("phoenix")), command) as server:
        yield server


def failed_demo_run(client: missionlab.Client) -> RunTrace:
    for run in client.missions.runs.list_runs(status="failed", page_size=50).data:
        trace = missionlab.load_run(client, run.mission_id, run.run_id)
        if any(e.type == "tool_call" for e in trace.events) and any(s.parent_step_id for s in trace.steps):
            return trace
    raise AssertionError("no failed demo run with tool calls and nested steps")


def what_missionlab_holds(trace: RunTrace) -> dict[str, Any]:
    """The facts Phoenix must show, from missionlab's side: span ids, parents and kinds of the
    exported spans, the events' own token total, and which spans failed (the run, its failed
    steps and its failed tool calls)."""
    exported = run_spans(trace)
    failed_calls = set(tool_calls(trace.events_frame).query("failed")["call_id"])
    failed_steps = {s.step_id for s in trace.steps if s.status == "failed"}
    errors = {
        f"{s.context.span_id:016x}"
        for s in exported
        if (s.parent is None and trace.run.status == "failed")
        or (s.attributes or {}).get("missionlab.step_id") in failed_steps
        or (
            (s.attributes or {}).get("openinference.span.kind") == "TOOL"
            and (s.attributes or {}).get("missionlab.event_id") in failed_calls
        )
    }
    tokens = 0
    for event in trace.events:
        usage = (event.payload or {}).get("usage")
        tokens += int(usage["total_tokens"]) if isinstance(usage, dict) else 0
    return {
        "parents": {
            f"{s.context.span_id:016x}": f"{s.parent.span_id:016x}" if s.parent else None for s in exported
        },
        "kinds": {
            f"{s.context.span_id:016x}": (s.attributes or {})["openinference.span.kind"] for s in exported
        },
        "tokens": tokens,
        "errors": errors,
    }


def what_phoenix_shows(stored: list[dict[str, Any]], trace_id: str) -> dict[str, Any]:
    mine = [s for s in stored if s["context"]["trace_id"] == trace_id]
    ids = Counter(s["context"]["span_id"] for s in mine)
    assert max(ids.values()) == 1, "a span is stored twice"
    return {
        "parents": {s["context"]["span_id"]: s["parent_id"] for s in mine},
        "kinds": {s["context"]["span_id"]: s["span_kind"] for s in mine},
        "tokens": sum(int(s["attributes"].get("llm.token_count.total", 0)) for s in mine),
        "errors": {s["context"]["span_id"] for s in mine if s["status_code"] == "ERROR"},
    }


def test_phoenix_holds_exactly_what_missionlab_holds_after_three_exports(
    phoenix: Phoenix, client: missionlab.Client
) -> None:
    failed = failed_demo_run(client)
    big = big_run()
    runs = [failed, big.trace]
    for trace in runs:
        export_run(trace, endpoint=phoenix.url, project=PROJECT, progress=False)
    for trace in runs:  # every span arrives (0 lost)
        wait_until_stored(phoenix, PROJECT, trace_id_of(trace), len(run_spans(trace)))
    for _ in range(2):  # exported twice more
        for trace in runs:
            export_run(trace, endpoint=phoenix.url, project=PROJECT, progress=False)
    # A run exported after the others: once Phoenix has stored it, it has taken in the re-exports.
    marker = craft([step("marker", 0, 1, sequence=1)], run_id="run-marker")
    export_run(marker, endpoint=phoenix.url, project=PROJECT, progress=False)
    wait_until_stored(phoenix, PROJECT, trace_id_of(marker), len(run_spans(marker)))

    stored = spans(phoenix, PROJECT)
    assert len(stored) == sum(len(run_spans(t)) for t in [*runs, marker])  # the count unchanged: 0 duplicated
    for trace in runs:
        assert what_phoenix_shows(stored, trace_id_of(trace)) == what_missionlab_holds(trace)
    big_shown = what_phoenix_shows(stored, trace_id_of(big.trace))
    assert big_shown["tokens"] == big.expected.total_tokens
    assert Counter(big_shown["kinds"].values())["TOOL"] == big.expected.tool_calls
    assert (
        len(big_shown["kinds"])
        == 1 + big.expected.steps + big.expected.tool_calls + big.expected.model_events
    )
