"""How a managed run unfolds: a plan from step templates, and a timed script of actions.

The same script drives the live simulator (actions applied as time passes) and
the demo history (actions applied at once, with past timestamps), so both look
alike. Everything is drawn from a seeded random generator: the same run id and
seed always give the same plan, durations, events and outcome.

A mission's ``metadata["plan"]`` may list step templates::

    {"step_id": "search", "description": "Search flights", "duration": 40,
     "failure_rate": 0.1, "tools": ["flights.search"], "errors": ["Timeout ..."],
     "repeat": [2, 5], "children": [...]}

``duration`` is the typical length in seconds, ``slow_rate`` the chance of a
run where the step is 3-6x slower, ``repeat`` fans a step out into N copies.

What a script does on purpose is listed in ``Script.planted``, so that tools judging
runs (``bench/explain_accuracy.py``) can tell a planted anomaly from a false finding:
``"slow:STEP"`` (a step made 3-6x slower) and ``"failed:STEP"`` (the step the run fails in).
A failure that says a tool "did not answer within N s" is told as such: the step's last
call gets no answer for N s, then a failed result with that error (never an OK result).

The simulated agent reports what its model calls used, a sandbox convention: the payload
of the events that stand for a model call ("Plan ready", the agent's messages and its tool
calls) carries ``usage`` (``input_tokens``, ``output_tokens``, ``total_tokens``), ``model``
and ``cost_usd``, so that ``trace.rollup("payload.usage.total_tokens")`` or
``trace.rollup("payload.cost_usd")`` sums them per step and run.
"""

from __future__ import annotations

import math
import random
import re
from dataclasses import dataclass, field
from typing import Any

DEFAULT_PLAN: list[dict[str, Any]] = [
    {"step_id": "understand", "description": "Understand the request", "duration": 6},
    {
        "step_id": "gather",
        "description": "Gather context",
        "duration": 20,
        "tools": ["knowledge_base.search"],
    },
    {
        "step_id": "act",
        "description": "Carry out the task",
        "children": [
            {
                "step_id": "act-call",
                "description": "Call the main tool",
                "duration": 25,
                "tools": ["api.call"],
                "failure_rate": 0.08,
            },
            {"step_id": "act-check", "description": "Check the result", "duration": 10},
        ],
    },
    {"step_id": "draft", "description": "Draft the answer", "duration": 15},
    {"step_id": "deliver", "description": "Review and deliver", "duration": 8, "failure_rate": 0.03},
]

MODEL = "sim-llm-1"
PRICE_PER_MILLION_TOKENS = {"input": 3.0, "output": 15.0}  # USD, a made-up but plausible price

GENERIC_ERRORS = [
    "TimeoutError: the tool did not answer within 30 s",
    "UpstreamError: 502 Bad Gateway from the provider",
    "ValidationError: the model's output did not match the expected schema",
]

_TIMEOUT = re.compile(r"within (\d+) s\b")


@dataclass
class Action:
    """One thing that happens ``at`` simulated seconds after the run is created."""

    at: float
    kind: str  # "status" | "plan" | "step" | "event" | "finish" | "skip_rest"
    data: dict[str, Any] = field(default_factory=dict)


@dataclass
class Script:
    steps: list[dict[str, Any]]
    actions: list[Action]
    outcome: str  # "succeeded" or "failed"
    planted: list[str] = field(default_factory=list)  # "slow:STEP", "failed:STEP"


def _templates(metadata: dict[str, Any] | None) -> list[dict[str, Any]]:
    plan = (metadata or {}).get("plan")
    if isinstance(plan, list) and plan and all(isinstance(t, dict) for t in plan):
        return plan
    return DEFAULT_PLAN


class _Builder:
    def __init__(self, run_id: str, rng: random.Random, agent_id: str, usage_rng: random.Random) -> None:
        self.run_id = run_id
        self.rng = rng
        # its own generator, so that reporting usage leaves every other draw (and the demo) as it was
        self.usage_rng = usage_rng
        self.agent_id = agent_id
        self.steps: list[dict[str, Any]] = []
        self.actions: list[Action] = []
        self.seen: set[str] = set()
        self.planted: list[str] = []

    # -- the plan ---------------------------------------------------------------------------

    def expand(
        self, templates: list[dict[str, Any]], parent: str | None, prefix: str = ""
    ) -> list[tuple[str, dict[str, Any]]]:
        """Plan steps for ``templates`` (repeats fanned out); returns (step_id, template)."""
        out = []
        for index, tpl in enumerate(templates):
            base_id = str(tpl.get("step_id") or f"{prefix}step-{index + 1}")
            count = tpl.get("repeat", 1)
            if isinstance(count, list | tuple):
                count = self.rng.randint(int(count[0]), int(count[1]))
            for copy in range(int(count)):
                step_id = base_id if count == 1 else f"{base_id}-{copy + 1}"
                if step_id in self.seen and parent:
                    step_id = f"{parent}.{step_id}"
                self.seen.add(step_id)
                description = str(tpl.get("description") or step_id)
                if count > 1:
                    description = f"{description} ({copy + 1}/{count})"
                step: dict[str, Any] = {
                    "step_id": step_id,
                    "description": description,
                    "sequence": len(self.steps) + 1,
                }
                if parent:
                    step["parent_step_id"] = parent
                if tpl.get("tools"):
                    step["metadata"] = {"tools": list(tpl["tools"])}
                self.steps.append(step)
                children = self.expand(list(tpl.get("children") or []), step_id, f"{step_id}.")
                out.append((step_id, {**tpl, "_children": children}))
        return out

    # -- the timeline -----------------------------------------------------------------------

    def model_call(self, context: int) -> dict[str, Any]:
        """What one model call used: about ``context`` tokens in, a few hundred out."""
        rng = self.usage_rng
        input_tokens = max(50, round(context * math.exp(rng.gauss(0, 0.4))))
        output_tokens = max(10, round(rng.lognormvariate(5.0, 0.6)))
        cost = (
            input_tokens * PRICE_PER_MILLION_TOKENS["input"]
            + output_tokens * PRICE_PER_MILLION_TOKENS["output"]
        ) / 1e6
        return {
            "model": MODEL,
            "usage": {
                "input_tokens": input_tokens,
                "output_tokens": output_tokens,
                "total_tokens": input_tokens + output_tokens,
            },
            "cost_usd": round(cost, 6),
        }

    def event(
        self,
        at: float,
        type_: str,
        summary: str,
        step_id: str | None = None,
        payload: dict[str, Any] | None = None,
    ) -> None:
        data: dict[str, Any] = {"type": type_, "summary": summary, "agent_id": self.agent_id}
        if step_id:
            data["step_id"] = step_id
        if payload:
            data["payload"] = payload
        self.actions.append(Action(at, "event", data))

    def duration(self, step_id: str, tpl: dict[str, Any]) -> float:
        typical = float(tpl.get("duration", 15))
        seconds = typical * math.exp(self.rng.gauss(0, float(tpl.get("jitter", 0.35))))
        if self.rng.random() < float(tpl.get("slow_rate", 0.0)):
            seconds *= self.rng.uniform(3, 6)
            self.planted.append(f"slow:{step_id}")
        return max(0.5, seconds)

    def run_step(self, step_id: str, tpl: dict[str, Any], t: float) -> tuple[float, str | None]:
        """Actions of one step from time ``t``; returns (end time, error or None)."""
        rng = self.rng
        self.actions.append(Action(t, "step", {"step_id": step_id, "status": "in_progress"}))
        self.event(t, "step_started", f"Started: {tpl.get('description', step_id)}", step_id)
        error: str | None = None
        children = tpl["_children"]
        if children:
            end = t + 0.2
            for child_id, child in children:
                end, error = self.run_step(child_id, child, end + rng.uniform(0.1, 1.0))
                if error:
                    break
            end += 0.3
        else:
            length = self.duration(step_id, tpl)
            end = t + length
            tools = list(tpl.get("tools") or [])
            for n, tool in enumerate(tools):
                call_at = t + length * (n + 0.15) / (len(tools) + 0.3)
                self.tool_call(step_id, tool, call_at, length / (len(tools) + 1))
            if rng.random() < 0.5:
                self.event(
                    t + length * 0.9,
                    "message",
                    rng.choice(
                        [
                            "Checked the intermediate result",
                            "Summarised findings so far",
                            "Chose the best option and moved on",
                        ]
                    ),
                    step_id,
                    self.model_call(context=4000),
                )
            if rng.random() < float(tpl.get("failure_rate", 0.0)):
                error = rng.choice(list(tpl.get("errors") or GENERIC_ERRORS))
                self.planted.append(f"failed:{step_id}")
                if tools:
                    end = self.time_out_last_call(step_id, error) or end
        status = "failed" if error else "completed"
        self.actions.append(Action(end, "step", {"step_id": step_id, "status": status}))
        if error:
            self.event(end, "error", error, step_id, {"error": error})
            self.event(end, "step_failed", f"Failed: {tpl.get('description', step_id)}", step_id)
        else:
            self.event(end, "step_completed", f"Completed: {tpl.get('description', step_id)}", step_id)
        return end, error

    def time_out_last_call(self, step_id: str, error: str) -> float:
        """When ``error`` is a timeout ("within N s"), the step's last call gets no answer:
        its result becomes the failure, N s after the call, and the step fails with it.
        Returns when the step ends."""
        limit = _TIMEOUT.search(error)
        calls = [a for a in self.actions if a.kind == "event" and a.data.get("step_id") == step_id]
        call = next((a for a in reversed(calls) if a.data["type"] == "tool_call"), None)
        result = next((a for a in reversed(calls) if a.data["type"] == "tool_result"), None)
        if limit is None or call is None or result is None:
            return 0.0
        tool = call.data["payload"]["tool"]
        result.at = call.at + float(limit.group(1))
        for action in calls:  # what the agent said meanwhile, before it gave up
            if action is not result and action.at > result.at:
                action.at = result.at - 0.1
        result.data["summary"] = f"{tool} failed: no answer within {limit.group(1)} s"
        result.data["payload"] = {
            "tool": tool,
            "request_id": call.data["payload"]["request_id"],
            "ok": False,
            "error": error,
        }
        return result.at + 0.2

    def tool_call(self, step_id: str, tool: str, at: float, span: float) -> None:
        rng = self.rng
        request_id = f"req_{rng.getrandbits(40):010x}"
        self.event(
            at,
            "tool_call",
            f"Calling {tool}",
            step_id,
            {"tool": tool, "request_id": request_id, **self.model_call(context=2500)},
        )
        if rng.random() < 0.12:  # a flaky call, retried
            self.event(
                at + span * 0.3,
                "tool_result",
                f"{tool} failed: 503, retrying",
                step_id,
                {"tool": tool, "request_id": request_id, "ok": False, "status": 503},
            )
            at += span * 0.35
            request_id = f"req_{rng.getrandbits(40):010x}"
            self.event(
                at,
                "tool_call",
                f"Retrying {tool}",
                step_id,
                {"tool": tool, "request_id": request_id, "attempt": 2, **self.model_call(context=3000)},
            )
        latency = span * rng.uniform(0.4, 0.8)
        self.event(
            at + latency,
            "tool_result",
            f"{tool} returned",
            step_id,
            {
                "tool": tool,
                "request_id": request_id,
                "ok": True,
                "latency_ms": round(latency * 1000),
                "items": rng.randint(1, 25),
            },
        )


def build_script(
    run_id: str, metadata: dict[str, Any] | None, seed: int, agent_id: str = "missionlab-sim-agent"
) -> Script:
    """The whole life of a managed run, deterministic in (run_id, metadata, seed)."""
    rng = random.Random(f"{seed}:{run_id}")
    builder = _Builder(run_id, rng, agent_id, random.Random(f"{seed}:{run_id}:usage"))
    top = builder.expand(_templates(metadata), None)
    builder.actions.append(Action(0.3, "status", {"status": "running"}))
    builder.actions.append(Action(0.6, "plan", {"steps": builder.steps}))
    builder.event(
        0.7, "message", f"Plan ready: {len(builder.steps)} steps", payload=builder.model_call(context=1500)
    )
    t, error = 1.0, None
    for step_id, tpl in top:
        t, error = builder.run_step(step_id, tpl, t + rng.uniform(0.2, 1.5))
        if error:
            break
    t += 0.5
    if error:
        builder.actions.append(Action(t, "skip_rest"))
        builder.actions.append(Action(t, "finish", {"status": "failed", "error": error}))
    else:
        done = len(builder.steps)
        builder.actions.append(
            Action(
                t,
                "finish",
                # stated in real time by the interpreter (playback.finish_fields)
                {"status": "succeeded", "steps_completed": done, "duration_s": t},
            )
        )
    builder.actions.sort(key=lambda a: a.at)  # stable: same-time actions keep their order
    return Script(builder.steps, builder.actions, "failed" if error else "succeeded", builder.planted)
