"""Write the labelled scenario corpus: tests/data/scenarios/ (run capsules and expected.json).

    python tools/make_scenarios.py [--check]

One mission ("Corpus travel assistant"), a fleet of normal runs with natural variance
(durations, tokens, costs, per-run arguments, 1-5 pages of one search tool, several model
calls), and labelled runs, each made from a normal run with one thing changed. Every run is
drawn from a generator seeded by its name, so the files are the same on every machine.
``--check`` fails when the files on disk differ from what this script writes.

expected.json holds, per labelled run: its capsule file, the moment to judge it at
(``now``), the expected top finding of ``explain`` (``top``: kind and step, or null: no
finding of warning or error severity), the kinds that must not appear (``absent``), and
compare's expected first divergence with the automatic baseline (``divergence``: kind and
step, or null); ``fleet`` lists the normal runs (no finding of warning or error severity
expected on any of them).
"""

from __future__ import annotations

import argparse
import json
import math
import random
import sys
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent.parent / "tests" / "data" / "scenarios"
T0 = datetime(2026, 10, 1, 8, 0, tzinfo=UTC)
FLEET = 24
NAMESPACE = uuid.UUID("5b0e4bd1-7c4f-4c3c-9d6e-2d7f3f3c1a10")
MISSION_ID = str(uuid.uuid5(NAMESPACE, "mission"))
AGENT = "agent-travel"
CITIES = ["Lisbon", "Oslo", "Zürich", "Kraków", "Porto", "Tallinn", "Sevilla", "Gdańsk"]

#: The plan: step id, description, parent, typical seconds (None: a parent).
PLAN: list[tuple[str, str, str | None, float | None]] = [
    ("parse", "Parse the travel request", None, 4.0),
    ("search", "Search flights", None, 30.0),
    ("hotels", "Find a hotel", None, None),
    ("hotels-search", "Query hotel inventory", "hotels", 15.0),
    ("hotels-rank", "Rank hotels against the policy", "hotels", 6.0),
    ("confirm", "Wait for the traveller's confirmation", None, 150.0),
    ("compare", "Compare itineraries", None, 10.0),
    ("book", "Book and pay", None, 12.0),
]
TOOLS = {"search": "flights.search", "hotels-search": "hotels.search", "book": "payments.charge"}


def stamp(moment: datetime) -> str:
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass
class Run:
    """A run being written: its plan steps, events and fields, times in seconds from ``start``."""

    name: str
    start: datetime
    rng: random.Random
    steps: dict[str, dict[str, Any]] = field(default_factory=dict)
    events: list[dict[str, Any]] = field(default_factory=list)
    status: str = "succeeded"
    error: str | None = None
    end: float | None = None
    naming: str = "tool"  # how tool calls name their tool
    agent: str = AGENT
    step_times: bool = True  # plan entries carry started_at/completed_at (hosted plans may not)

    @property
    def run_id(self) -> str:
        return str(uuid.uuid5(NAMESPACE, self.name))

    @property
    def city(self) -> str:
        return CITIES[int(uuid.UUID(self.run_id)) % len(CITIES)]

    def at(self, seconds: float) -> str:
        return stamp(self.start + timedelta(seconds=seconds))

    def event(
        self,
        t: float,
        kind: str,
        summary: str,
        step: str | None = None,
        payload: dict[str, Any] | None = None,
        agent: str | None = None,
    ) -> None:
        record: dict[str, Any] = {
            "event_id": f"{self.name}-{len(self.events) + 1:05d}",
            "run_id": self.run_id,
            "type": kind,
            "summary": summary,
            "timestamp": self.at(t),
            "agent_id": agent or self.agent,
        }
        if step is not None:
            record["step_id"] = step
        if payload:
            record["payload"] = payload
        self.events.append(record)

    def usage(self, context: int) -> dict[str, Any]:
        tokens_in = max(50, round(context * math.exp(self.rng.gauss(0, 0.3))))
        tokens_out = max(10, round(self.rng.lognormvariate(5.0, 0.5)))
        cost = (tokens_in * 3.0 + tokens_out * 15.0) / 1e6
        return {
            "model": "corpus-llm",
            "usage": {
                "input_tokens": tokens_in,
                "output_tokens": tokens_out,
                "total_tokens": tokens_in + tokens_out,
            },
            "cost_usd": round(cost, 6),
        }

    def plan_step(self, step_id: str, sequence: int | None = None) -> dict[str, Any]:
        entry = next(p for p in PLAN if p[0] == step_id) if step_id in {p[0] for p in PLAN} else None
        description = entry[1] if entry else step_id.replace("-", " ").capitalize()
        parent = entry[2] if entry else None
        record: dict[str, Any] = {
            "step_id": step_id,
            "run_id": self.run_id,
            "sequence": sequence if sequence is not None else len(self.steps) + 1,
            "description": description,
            "status": "pending",
        }
        if parent:
            record["parent_step_id"] = parent
        if step_id in TOOLS:
            record["metadata"] = {"tools": [TOOLS[step_id]]}
        self.steps[step_id] = record
        return record

    def begin(self, step_id: str, t: float, agent: str | None = None) -> None:
        record = self.steps[step_id]
        record.update(status="in_progress", started_at=self.at(t))
        self.event(t, "step_started", f"Started: {record['description']}", step_id, agent=agent)

    def finish(self, step_id: str, t: float, status: str = "completed", agent: str | None = None) -> None:
        record = self.steps[step_id]
        record.update(status=status, completed_at=self.at(t))
        verb = "Completed" if status == "completed" else "Failed"
        kind = "step_completed" if status == "completed" else "step_failed"
        self.event(t, kind, f"{verb}: {record['description']}", step_id, agent=agent)

    # -- tool calls, named the way ``naming`` says --------------------------------------------

    def call(self, t: float, step: str, tool: str, arguments: dict[str, Any], number: int) -> str:
        request = f"req-{self.rng.getrandbits(32):08x}"
        usage = self.usage(2500)
        payload: dict[str, Any]
        if self.naming == "tool":
            payload = {"tool": tool, "request_id": request, **arguments, **usage}
        elif self.naming == "name":
            payload = {"name": tool, "request_id": request, **arguments, **usage}
        elif self.naming == "tool_name":
            payload = {"tool_name": tool, "request_id": request, **arguments, **usage}
        elif self.naming == "openai":
            payload = {
                "id": f"call_{request}",
                "type": "function",
                "function": {"name": tool.replace(".", "_"), "arguments": json.dumps(arguments)},
                **usage,
            }
        elif self.naming == "mcp":
            payload = {
                "jsonrpc": "2.0",
                "id": number,
                "method": "tools/call",
                "params": {"name": tool, "arguments": arguments},
            }
        else:  # summary only
            payload = {}
        summary = f"Calling {tool}" if number == 1 else f"Calling {tool} (page {number})"
        self.event(t, "tool_call", summary, step, payload)
        return request

    def result(
        self, t: float, step: str, tool: str, request: str, number: int, ok: bool = True, **extra: Any
    ) -> None:
        payload: dict[str, Any]
        outcome: dict[str, Any] = (
            {"ok": ok, **extra} if not ok else {"ok": True, "items": self.rng.randint(1, 30)}
        )
        if self.naming == "tool":
            payload = {"tool": tool, "request_id": request, **outcome}
        elif self.naming == "name":
            payload = {"name": tool, "request_id": request, **outcome}
        elif self.naming == "tool_name":
            payload = {"tool_name": tool, "request_id": request, **outcome}
        elif self.naming == "openai":
            payload = {"tool_call_id": f"call_{request}", "role": "tool", "content": json.dumps(outcome)}
        elif self.naming == "mcp":
            payload = {"jsonrpc": "2.0", "id": number, "result": {"isError": not ok, "content": [outcome]}}
        else:
            payload = {}
        said = "returned" if ok else f"failed: {extra.get('error', 'error')}"
        self.event(t, "tool_result", f"{tool} {said}", step, payload)

    def capsule(self) -> dict[str, Any]:
        end = (
            self.end if self.end is not None else max(self.seconds(e["timestamp"]) for e in self.events) + 0.5
        )
        run: dict[str, Any] = {
            "run_id": self.run_id,
            "mission_id": MISSION_ID,
            "status": self.status,
            "started_at": self.at(0),
            "updated_at": self.at(end),
            "input": {"destination": self.city, "travellers": 1 + int(uuid.UUID(self.run_id)) % 3},
            "metadata": {"scenario": self.name},
        }
        if self.status in ("succeeded", "failed", "cancelled"):
            run["finished_at"] = self.at(end)
        if self.status == "succeeded":
            run["result_summary"] = f"Booked a trip to {self.city}."
        if self.error:
            run["error"] = self.error
        plan = sorted(self.steps.values(), key=lambda s: s["sequence"])
        if not self.step_times:
            plan = [{k: v for k, v in s.items() if k not in ("started_at", "completed_at")} for s in plan]
        return {
            "format": "missionlab-run-capsule",
            "version": 1,
            "saved_at": stamp(self.start + timedelta(seconds=end + 60)),
            "source": {"base_url": None, "missionlab": "corpus"},
            "mission": MISSION,
            "run": run,
            "plan": plan,
            "events": sorted(self.events, key=lambda e: e["timestamp"]),
            "agents": [],
        }

    def seconds(self, text: str) -> float:
        return (datetime.fromisoformat(text.replace("Z", "+00:00")) - self.start).total_seconds()


MISSION: dict[str, Any] = {
    "mission_id": MISSION_ID,
    "name": "Corpus travel assistant",
    "description": "Finds and books flights and hotels (the labelled scenario corpus).",
    "execution_mode": "external",
    "created_at": stamp(T0 - timedelta(days=30)),
    "updated_at": stamp(T0 - timedelta(days=30)),
}


@dataclass
class Twist:
    """What a labelled run changes from a normal one."""

    scale: dict[str, float] = field(default_factory=dict)  # step -> duration factor
    pages: int | None = None  # calls of flights.search (None: 1-5)
    llm_calls: int | None = None  # model calls in 'compare' (None: 1-3)
    fail: tuple[str, str] | None = None  # (step, error): the step fails after its tool calls
    retries: int = 0  # failed calls of the failing step's tool before it gives up (backoff 2, 4, 8 s)
    rate_limit: bool = False  # flights.search answers 429 once, then succeeds
    silence: tuple[str, float] | None = None  # (step, seconds) of silence with no call open
    skip: tuple[str, ...] = ()  # steps skipped (the run still succeeds)
    remove: tuple[str, ...] = ()  # steps not in the plan at all
    add_after: str | None = None  # a step 'visa' added to the plan after this step, mid-run
    hotels_first: bool = False  # the hotel steps run before the flight search
    tool_swap: dict[str, str] = field(default_factory=dict)  # step -> tool called instead
    stop_in: str | None = None  # the run stops hearing anything inside this step (left running)
    naming: str = "tool"
    step_times: bool = True
    parallel: bool = False  # a second agent searches hotels while the first searches flights
    run_error: str | None = None  # the run fails after its steps, no step failed
    chatty: int = 0  # extra model messages in 'compare' (thousands of events)


def _tool_step(run: Run, step: str, t: float, length: float, twist: Twist, agent: str | None = None) -> float:
    """The calls of a tool step from ``t`` over about ``length`` seconds; returns when the
    last call ended (and whether the step fails is decided by the caller)."""
    tool = twist.tool_swap.get(step, TOOLS[step])
    pages = (twist.pages or run.rng.randint(1, 5)) if step == "search" else 1
    slot = length / (pages + 1)
    now = t + 0.3
    failing = twist.fail is not None and twist.fail[0] == step
    for number in range(1, pages + 1):
        arguments: dict[str, Any] = {"destination": run.city}
        if step == "search":
            arguments["page"] = number
        request = run.call(now, step, tool, arguments, number)
        if twist.rate_limit and step == "search" and number == 1:
            run.result(
                now + 0.4,
                step,
                tool,
                request,
                number,
                ok=False,
                status=429,
                error="Too Many Requests: retry after 2 s",
            )
            now += 2.6
            request = run.call(now, step, tool, arguments, number)
        if failing and number == pages:
            error = twist.fail[1] if twist.fail else ""
            wait = 2.0
            for _ in range(twist.retries):
                run.result(
                    now + slot * 0.5,
                    step,
                    tool,
                    request,
                    number,
                    ok=False,
                    status=503,
                    error="Service Unavailable",
                )
                now += slot * 0.5 + wait
                wait *= 2
                request = run.call(now, step, tool, arguments, number)
            run.event(now + slot * 0.8, "error", error, step, {"error": error, "tool": tool}, agent=agent)
            return now + slot * 0.8
        run.result(now + slot * 0.8, step, tool, request, number)
        now += slot
    return now


def normal_run(name: str, start: datetime, twist: Twist | None = None) -> Run:
    """A run of the corpus mission: normal, or with ``twist``."""
    twist = twist or Twist()
    rng = random.Random(name)
    run = Run(name, start, rng, naming=twist.naming, step_times=twist.step_times)
    order = [p[0] for p in PLAN if p[0] not in twist.remove]
    for step_id in order:
        run.plan_step(step_id)
    run.event(0.2, "status_change", "Run started", payload={"from": "pending", "to": "running"})
    run.event(0.5, "message", "Plan ready", payload=run.usage(1500))
    lengths = {p[0]: (p[3] or 0.0) * math.exp(rng.gauss(0, 0.25)) * twist.scale.get(p[0], 1.0) for p in PLAN}
    top = [s for s in order if run.steps[s].get("parent_step_id") is None]
    if twist.hotels_first:
        top.remove("hotels")
        top.insert(top.index("search"), "hotels")
    t = 1.0
    failed = False
    for step_id in top:
        if step_id in twist.skip:
            run.steps[step_id].update(status="skipped", completed_at=run.at(t))
            run.event(t, "custom", f"Skipped: {run.steps[step_id]['description']}", step_id)
            continue
        t += rng.uniform(0.2, 1.0)
        if step_id == "hotels":
            t, failed = _hotels(run, t, lengths, twist)
        elif twist.parallel and step_id == "search":
            t, failed = _parallel(run, t, lengths, twist)
        else:
            t, failed = _leaf(run, step_id, t, lengths[step_id], twist)
        if failed or run.status == "running":
            break
        if twist.add_after == step_id:
            visa = run.plan_step("visa", sequence=len(run.steps) + 1)
            visa["description"] = "Check visa requirements"
            run.event(t + 0.1, "message", "Plan updated: added a visa check", payload=run.usage(1800))
            t, failed = _leaf(run, "visa", t + 0.5, 5.0 * math.exp(rng.gauss(0, 0.2)), twist)
    if run.status == "running":
        return run
    if failed:
        for step_id in order:
            if run.steps[step_id]["status"] == "pending":
                run.steps[step_id].update(status="skipped", completed_at=run.at(t + 0.2))
        run.status = "failed"
        run.error = twist.fail[1] if twist.fail else None
    elif twist.run_error:
        run.status, run.error = "failed", twist.run_error
    run.end = t + 0.5
    run.event(t + 0.5, "status_change", f"Run {run.status}", payload={"from": "running", "to": run.status})
    return run


def _leaf(
    run: Run, step_id: str, t: float, length: float, twist: Twist, agent: str | None = None
) -> tuple[float, bool]:
    run.begin(step_id, t, agent)
    rng = run.rng
    if twist.stop_in == step_id:
        if step_id in TOOLS:
            run.call(t + 1.0, step_id, TOOLS[step_id], {"destination": run.city, "page": 1}, 1)
        run.status = "running"
        run.end = None
        return t, False
    end = t + length
    failing = twist.fail is not None and twist.fail[0] == step_id
    if step_id in TOOLS:
        last = _tool_step(run, step_id, t, length, twist, agent)
        end = max(end, last + 0.3)
    if twist.silence and twist.silence[0] == step_id:
        run.event(t + 1.0, "message", "Waiting for the pricing engine", step_id, run.usage(3000))
        end = t + 1.0 + twist.silence[1] + 1.0
        run.event(end - 0.5, "message", "Pricing engine answered", step_id, run.usage(3000))
    elif step_id == "compare":
        calls = twist.llm_calls or rng.randint(1, 3)
        for n in range(calls):
            run.event(
                t + length * (n + 0.5) / (calls + 0.5),
                "message",
                f"Compared options ({n + 1})",
                step_id,
                run.usage(4000),
            )
        for n in range(twist.chatty):
            run.event(
                t + length * n / max(1, twist.chatty),
                "message",
                "Scored an itinerary",
                step_id,
                {"score": n % 97},
            )
    elif step_id == "confirm":
        run.event(t + 0.5, "message", "Asked the traveller to confirm", step_id, run.usage(2000))
    elif step_id not in TOOLS and rng.random() < 0.6:
        run.event(t + length * 0.7, "message", "Checked the intermediate result", step_id, run.usage(3000))
    if failing:
        run.finish(step_id, end, "failed", agent)
        return end, True
    run.finish(step_id, end, agent=agent)
    return end, False


def _hotels(
    run: Run, t: float, lengths: dict[str, float], twist: Twist, agent: str | None = None
) -> tuple[float, bool]:
    run.begin("hotels", t, agent)
    end = t + 0.2
    failed = False
    for child in ("hotels-search", "hotels-rank"):
        if child in twist.skip:
            run.steps[child].update(status="skipped", completed_at=run.at(end))
            run.event(end, "custom", f"Skipped: {run.steps[child]['description']}", child, agent=agent)
            continue
        end, failed = _leaf(run, child, end + run.rng.uniform(0.1, 0.6), lengths[child], twist, agent)
        if failed or run.status == "running":
            break
    if run.status == "running":
        return end, False
    run.finish("hotels", end + 0.3, "failed" if failed else "completed", agent)
    return end + 0.3, failed


def _parallel(run: Run, t: float, lengths: dict[str, float], twist: Twist) -> tuple[float, bool]:
    """Flights by the main agent while a second agent finds the hotel, at the same time."""
    flights_end, failed = _leaf(run, "search", t, lengths["search"], twist)
    hotels_end, failed_too = _hotels(run, t + 0.4, lengths, twist, agent="agent-hotels")
    run.steps["hotels"]["sequence"] = run.steps["search"]["sequence"] + 0  # same place in the plan order
    return max(flights_end, hotels_end), failed or failed_too


@dataclass(frozen=True)
class Label:
    """A labelled run: its name, the twist, its labels, and the moment to judge it at
    (seconds after its start; None: an hour after its end)."""

    name: str
    twist: Twist
    top: tuple[str, str | None] | None
    divergence: tuple[str, str | None] | None
    absent: tuple[str, ...] = ()
    now: float | None = None
    note: str = ""


ALWAYS_ABSENT = ("overlapping_siblings", "silent_gap", "retry_loop")
QUOTED = "ValueError: city \"Zürich\" → 'ZRH' not found (Straße « 12 »)"
DECLINED = "PaymentDeclined: card “4242” refusée — contact “Zoë” <billing@example.com>"
TIMEOUT = "TimeoutError: flights.search did not answer within 30 s"

LABELS: list[Label] = [
    Label(
        "fail-after-retries",
        Twist(fail=("search", TIMEOUT), retries=3, pages=1),
        ("failed_step", "search"),
        ("status", "search"),
        ("overlapping_siblings", "silent_gap", "slow_step"),
    ),
    Label(
        "fail-after-retries-hotels",
        Twist(fail=("hotels-search", "UpstreamError: 503 from the hotel provider"), retries=2),
        ("failed_step", "hotels-search"),
        ("status", "hotels-search"),
        ("overlapping_siblings", "silent_gap"),
    ),
    Label(
        "fail-quoted-non-ascii",
        Twist(fail=("hotels-search", QUOTED)),
        ("failed_step", "hotels-search"),
        ("status", "hotels-search"),
        ALWAYS_ABSENT,
    ),
    Label(
        "fail-declined-non-ascii",
        Twist(fail=("book", DECLINED)),
        ("failed_step", "book"),
        ("status", "book"),
        ALWAYS_ABSENT,
    ),
    Label(
        "fail-no-step",
        Twist(run_error="Run aborted: the booking budget was exceeded"),
        ("run_failed", None),
        ("status", None),
        ALWAYS_ABSENT,
    ),
    Label(
        "slow-search",
        Twist(scale={"search": 5.0}, pages=2),
        ("slow_step", "search"),
        ("timing", "search"),
        ALWAYS_ABSENT,
    ),
    Label(
        "slow-hotel-query",
        Twist(scale={"hotels-search": 4.0}),
        ("slow_step", "hotels-search"),
        ("timing", "hotels-search"),
        ALWAYS_ABSENT,
    ),
    Label(
        "slow-booking", Twist(scale={"book": 6.0}), ("slow_step", "book"), ("timing", "book"), ALWAYS_ABSENT
    ),
    Label(
        "stuck-open-search",
        Twist(stop_in="search"),
        ("stuck_open", "search"),
        ("status", "search"),
        ("overlapping_siblings", "retry_loop"),
        now=1800,
    ),
    Label(
        "stuck-open-compare",
        Twist(stop_in="compare"),
        ("stuck_open", "compare"),
        ("status", "compare"),
        ("overlapping_siblings", "retry_loop"),
        now=3600,
    ),
    Label(
        "silence-in-compare",
        Twist(silence=("compare", 240.0)),
        ("silent_gap", "compare"),
        ("timing", "compare"),
        ("overlapping_siblings", "retry_loop"),
    ),
    Label(
        "silence-in-parse",
        Twist(silence=("parse", 180.0)),
        ("silent_gap", "parse"),
        ("timing", "parse"),
        ("overlapping_siblings", "retry_loop"),
    ),
    Label(
        "skipped-compare",
        Twist(skip=("compare",)),
        ("skipped", "compare"),
        ("status", "compare"),
        ALWAYS_ABSENT,
    ),
    Label(
        "skipped-ranking",
        Twist(skip=("hotels-rank",)),
        ("skipped", "hotels-rank"),
        ("status", "hotels-rank"),
        ALWAYS_ABSENT,
    ),
    Label(
        "rate-limit-then-success", Twist(rate_limit=True, pages=2), None, ("payload", "search"), ALWAYS_ABSENT
    ),
    Label("plan-added-step", Twist(add_after="hotels"), None, ("plan", "visa"), ALWAYS_ABSENT),
    Label("plan-reordered", Twist(hotels_first=True), None, ("plan", "hotels"), ALWAYS_ABSENT),
    Label("plan-removed-step", Twist(remove=("compare",)), None, ("plan", "compare"), ALWAYS_ABSENT),
    Label("benign-pagination", Twist(pages=5), None, None, ALWAYS_ABSENT),
    Label("several-llm-calls", Twist(llm_calls=6), None, None, ALWAYS_ABSENT),
    Label("long-but-normal-search", Twist(scale={"search": 1.6}), None, None, ("slow_step", *ALWAYS_ABSENT)),
    Label(
        "long-but-normal-confirm", Twist(scale={"confirm": 1.5}), None, None, ("slow_step", *ALWAYS_ABSENT)
    ),
    Label("hosted-no-step-times", Twist(step_times=False), None, None, ALWAYS_ABSENT),
    Label(
        "hosted-no-step-times-slow",
        Twist(step_times=False, scale={"search": 5.0}, pages=2),
        ("slow_step", "search"),
        ("timing", "search"),
        ALWAYS_ABSENT,
    ),
    Label("naming-name", Twist(naming="name", pages=3), None, None, ("error_chain", *ALWAYS_ABSENT)),
    Label(
        "naming-tool-name", Twist(naming="tool_name", pages=3), None, None, ("error_chain", *ALWAYS_ABSENT)
    ),
    Label("naming-openai", Twist(naming="openai", pages=3), None, None, ("error_chain", *ALWAYS_ABSENT)),
    Label("naming-mcp", Twist(naming="mcp", pages=3), None, None, ("error_chain", *ALWAYS_ABSENT)),
    Label(
        "naming-summary-only", Twist(naming="summary", pages=3), None, None, ("error_chain", *ALWAYS_ABSENT)
    ),
    Label(
        "naming-openai-failed",
        Twist(naming="openai", fail=("book", DECLINED)),
        ("failed_step", "book"),
        ("status", "book"),
        ALWAYS_ABSENT,
    ),
    Label("multi-agent", Twist(parallel=True), None, None, ALWAYS_ABSENT),
    Label(
        "different-tool",
        Twist(tool_swap={"book": "payments.invoice"}),
        None,
        ("tools", "book"),
        ALWAYS_ABSENT,
    ),
    Label("thousands-of-events", Twist(chatty=3000), None, None, ALWAYS_ABSENT),
    Label(
        "thousands-of-events-failed",
        Twist(chatty=2000, fail=("book", DECLINED)),
        ("failed_step", "book"),
        ("status", "book"),
        ALWAYS_ABSENT,
    ),
]


def fleet_run(number: int) -> Run:
    return normal_run(f"fleet-{number:02d}", T0 + timedelta(hours=3 * number, minutes=7 * (number % 5)))


def write(check: bool) -> int:
    files: dict[str, bytes] = {}

    def dump(name: str, data: Any) -> None:
        files[name] = (
            json.dumps(data, ensure_ascii=False, separators=(",", ":"), sort_keys=False).encode() + b"\n"
        )

    fleet = [fleet_run(n) for n in range(1, FLEET + 1)]
    for run in fleet:
        dump(f"{run.name}.json", run.capsule())
    expected: dict[str, Any] = {
        "mission_id": MISSION_ID,
        "fleet": [f"{run.name}.json" for run in fleet],
        "runs": [],
    }
    for index, label in enumerate(LABELS):
        start = T0 + timedelta(days=5, hours=2 * index)
        run = normal_run(label.name, start, label.twist)
        end = run.end if run.end is not None else max(run.seconds(e["timestamp"]) for e in run.events)
        now = label.now if label.now is not None else end + 3600
        dump(f"{label.name}.json", run.capsule())
        expected["runs"].append(
            {
                "name": label.name,
                "file": f"{label.name}.json",
                "now": run.at(now),
                "top": None if label.top is None else {"kind": label.top[0], "step": label.top[1]},
                "absent": list(label.absent),
                "divergence": None
                if label.divergence is None
                else {"kind": label.divergence[0], "step": label.divergence[1]},
            }
        )
    files["expected.json"] = (json.dumps(expected, ensure_ascii=False, indent=1) + "\n").encode()
    if check:
        stale = [
            name
            for name, data in files.items()
            if not (HERE / name).exists() or (HERE / name).read_bytes() != data
        ]
        extra = sorted({p.name for p in HERE.glob("*.json")} - set(files))
        for name in stale + extra:
            print(f"out of date: {name}", file=sys.stderr)
        return 1 if stale or extra else 0
    HERE.mkdir(parents=True, exist_ok=True)
    for old in HERE.glob("*.json"):
        if old.name not in files:
            old.unlink()
    for name, data in files.items():
        (HERE / name).write_bytes(data)
    print(f"wrote {len(files)} files, {sum(map(len, files.values())) / 1e6:.2f} MB, to {HERE}")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail when the files on disk are out of date")
    return write(parser.parse_args().check)


if __name__ == "__main__":
    raise SystemExit(main())
