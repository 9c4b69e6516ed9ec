"""A large run for the OpenTelemetry bridge's tests and benchmark: 500 plan steps (50 parents
of 9 children each) and 5,000 events, with tool calls, model usage and one failure at the end.

``big_run()`` also says what it holds (``BigRun.expected``), counted while it is made, so that
tests compare what a backend shows with numbers computed apart from missionlab's exporter.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from missionlab.trace import RunTrace
from tests.crafted import craft, event, step

PARENTS, CHILDREN, CALLS_PER_STEP = 50, 9, 4


@dataclass
class Expected:
    steps: int = 0
    events: int = 0
    tool_calls: int = 0
    model_events: int = 0  # events other than tool calls that report usage
    total_tokens: int = 0
    failed_steps: list[str] = field(default_factory=list)


@dataclass
class BigRun:
    trace: RunTrace
    expected: Expected


def big_run(seed: int = 7, run_id: str = "run-big") -> BigRun:
    """The run described in the module's docstring (deterministic in ``seed``)."""
    rng = random.Random(seed)
    expected = Expected()
    steps, events = [], []
    t, sequence = 1.0, 0
    leaves = PARENTS * CHILDREN
    messages_left = 5000 - 2 * (PARENTS * (CHILDREN + 1)) - leaves * CALLS_PER_STEP * 2 - 1  # 1: the error
    for p in range(PARENTS):
        parent_id = f"phase-{p + 1:02d}"
        sequence += 1
        parent_start = t
        children = []
        for c in range(CHILDREN):
            sequence += 1
            leaf = p * CHILDREN + c
            step_id = f"{parent_id}.task-{c + 1}"
            start = t
            for n in range(CALLS_PER_STEP):
                tokens_in, tokens_out = rng.randint(200, 3000), rng.randint(20, 400)
                at_call = start + 0.1 + n * 0.5
                ok = rng.random() > 0.05
                events.append(
                    event(
                        at_call,
                        "tool_call",
                        step_id,
                        f"Calling tool-{n}",
                        {
                            "tool": f"tool-{n}",
                            "request_id": f"req-{leaf}-{n}",
                            "model": "sim-llm-1",
                            "usage": {
                                "input_tokens": tokens_in,
                                "output_tokens": tokens_out,
                                "total_tokens": tokens_in + tokens_out,
                            },
                            "cost_usd": round((tokens_in * 3 + tokens_out * 15) / 1e6, 6),
                        },
                    )
                )
                events.append(
                    event(
                        at_call + 0.3,
                        "tool_result",
                        step_id,
                        f"tool-{n} returned" if ok else f"tool-{n} failed",
                        {
                            "tool": f"tool-{n}",
                            "request_id": f"req-{leaf}-{n}",
                            "ok": ok,
                            "items": rng.randint(1, 9),
                        },
                    )
                )
                expected.tool_calls += 1
                expected.total_tokens += tokens_in + tokens_out
            end = start + 0.2 + CALLS_PER_STEP * 0.5
            last = leaf == leaves - 1
            if messages_left > 0 and not last:
                tokens = rng.randint(500, 5000)
                events.append(
                    event(
                        end - 0.05,
                        "message",
                        step_id,
                        "Checked the result",
                        {
                            "model": "sim-llm-1",
                            "usage": {
                                "input_tokens": tokens - 100,
                                "output_tokens": 100,
                                "total_tokens": tokens,
                            },
                            "cost_usd": round(tokens * 4 / 1e6, 6),
                        },
                    )
                )
                messages_left -= 1
                expected.model_events += 1
                expected.total_tokens += tokens
            if last:
                events.append(
                    event(end - 0.05, "error", step_id, "UpstreamError: 502 from tool-3", {"error": "502"})
                )
                expected.failed_steps += [step_id, parent_id]
            status = "failed" if last else "completed"
            children.append(step(step_id, start, end, status, sequence=sequence, parent=parent_id))
            t = end + 0.1
        parent_status = "failed" if p == PARENTS - 1 else "completed"
        steps.append(step(parent_id, parent_start, t, parent_status, sequence=sequence - CHILDREN))
        steps.extend(children)
        t += 0.2
    trace = craft(steps, events, status="failed", run_id=run_id, error="UpstreamError: 502 from tool-3")
    expected.steps = len(trace.steps)
    expected.events = len(trace.events)
    return BigRun(trace, expected)
