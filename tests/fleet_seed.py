"""A seeded fleet with planted error families and known tool latencies, as wire rows for a
sandbox's store (``store.bulk_load``): the ground truth of tests/test_fleet.py and the data
of bench/fleet_queries.py.

Every run of a mission has the plan ``plan`` → ``search`` → ``charge`` → ``reply``; each of
``search`` and ``charge`` calls its tool once (a failed call is retried once), every call's
latency is drawn here and kept in :attr:`Fleet.latencies`. A failed run fails in one of the
:data:`FAMILIES`, each the same error told with different ids, amounts, quotes and times;
two families fail at the same step with the same tool, one fails with no tool at all.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

ANCHOR = datetime(2026, 11, 28, tzinfo=UTC)
MODELS = ("gpt-4.1", "gpt-4.1-mini")
TOOLS = {"search": "flights.search", "charge": "payments.charge"}
PLAN = [
    ("plan", "Plan the trip"),
    ("search", "Search flights"),
    ("charge", "Charge the card"),
    ("reply", "Reply"),
]
REASONS = ["card expired", "insufficient funds", "do not honor", 'suspected "fraud"', "limit reached"]


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _declined(rng: random.Random) -> str:
    amount = f"${rng.randint(1, 900)}.{rng.randint(0, 99):02d}"
    return f"Refund of {amount} for order ORD-{rng.randint(1000, 99999)} declined: '{rng.choice(REASONS)}'"


def _gateway_timeout(rng: random.Random) -> str:
    at = ANCHOR - timedelta(seconds=rng.randint(0, 10**6))
    request = f"req_{rng.getrandbits(40):010x}"
    waited = rng.randint(3000, 30000)
    return f"Gateway timed out after {waited} ms (request {request} at {at:%Y-%m-%dT%H:%M:%SZ})"


def _no_passport(rng: random.Random) -> str:
    name = rng.choice(["Ada Lovelace", "Grace Hopper", "Alan Turing", "O'Brien"])
    return f'User {uuid.UUID(int=rng.getrandbits(128), version=4)} has no passport for "{name}" on file'


def _currency(rng: random.Random) -> str:
    clock = f"{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}"
    return f"KeyError: 'currency' missing on payment {rng.randint(100, 99999)} at {clock}"


#: (family name, failing step, whether its tool call fails, how its error reads)
FAMILIES: list[tuple[str, str, bool, Callable[[random.Random], str]]] = [
    ("declined", "charge", True, _declined),
    ("gateway-timeout", "charge", True, _gateway_timeout),
    ("no-passport", "search", True, _no_passport),
    ("currency", "charge", False, _currency),
]


@dataclass
class Fleet:
    """The rows, and what was planted: each failed run's family, each tool's latencies (s)."""

    missions: list[dict[str, Any]] = field(default_factory=list)
    runs: list[dict[str, Any]] = field(default_factory=list)
    steps: list[dict[str, Any]] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)
    family: dict[str, str] = field(default_factory=dict)
    latencies: dict[str, list[float]] = field(default_factory=dict)
    failed_calls: dict[str, int] = field(default_factory=dict)
    tokens: dict[str, int] = field(default_factory=dict)

    def load(self, store: Any) -> None:
        store.bulk_load_all(
            [("missions", self.missions), ("runs", self.runs), ("steps", self.steps), ("events", self.events)]
        )


def seed_fleet(runs: int = 120, *, seed: int = 7, days: int = 10, failed_share: float = 0.4) -> Fleet:
    """A fleet of ``runs`` runs over ``days`` days before :data:`ANCHOR` (see the module's docstring)."""
    rng = random.Random(seed)
    fleet = Fleet()
    mission_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
    created = _stamp(ANCHOR - timedelta(days=60))
    fleet.missions.append(
        {
            "mission_id": mission_id,
            "name": "Seeded travel fleet",
            "description": "Planted error families",
            "execution_mode": "external",
            "created_at": created,
            "updated_at": created,
        }
    )
    for i in range(runs):
        run_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        started = ANCHOR - timedelta(seconds=rng.uniform(3600, days * 86400))
        family = FAMILIES[i % len(FAMILIES)] if rng.random() < failed_share else None
        t = started
        ids = iter(range(10**6))

        def event(
            kind: str,
            step: str | None,
            summary: str,
            payload: dict[str, Any] | None,
            when: datetime,
            run_id: str = run_id,
            ids: Any = ids,
        ) -> None:
            fleet.events.append(
                {
                    "event_id": f"{run_id}-{next(ids):03d}",  # unique in the organization
                    "run_id": run_id,
                    "mission_id": mission_id,
                    "type": kind,
                    "timestamp": _stamp(when),
                    "step_id": step,
                    "agent_id": "agent-1",
                    "summary": summary,
                    "payload": payload,
                }
            )

        status, error_text, failed_step = "succeeded", None, None
        for sequence, (step_id, description) in enumerate(PLAN, start=1):
            row = {
                "run_id": run_id,
                "step_id": step_id,
                "sequence": sequence,
                "description": description,
                "status": "completed",
                "started_at": _stamp(t),
                "completed_at": None,
            }
            if failed_step is not None:
                row.update(status="skipped", started_at=None)
                fleet.steps.append(row)
                continue
            event("step_started", step_id, f"Started: {description}", None, t)
            t += timedelta(seconds=rng.uniform(0.2, 2))
            fails_here = family is not None and family[1] == step_id
            if step_id in TOOLS:
                tool = TOOLS[step_id]
                tries = 2 if rng.random() < 0.15 else 1  # a flaky call, retried
                for attempt in range(1, tries + 1):
                    model = MODELS[attempt % 2]
                    tokens = rng.randint(200, 3000)
                    request = f"req_{rng.getrandbits(40):010x}"
                    event(
                        "tool_call",
                        step_id,
                        f"Calling {tool}",
                        {
                            "tool": tool,
                            "request_id": request,
                            "model": model,
                            "usage": {"total_tokens": tokens},
                            "cost_usd": tokens / 1e5,
                        },
                        t,
                    )
                    fleet.tokens[tool] = fleet.tokens.get(tool, 0) + tokens
                    latency = round(rng.lognormvariate(0 if step_id == "search" else -0.7, 0.6), 3)
                    t += timedelta(seconds=latency)
                    fleet.latencies.setdefault(tool, []).append(latency)
                    last = attempt == tries
                    if last and fails_here and family is not None and family[2]:
                        error_text = family[3](rng)
                        payload = {"tool": tool, "request_id": request, "ok": False, "error": error_text}
                        event("tool_result", step_id, f"{tool} failed", payload, t)
                        fleet.failed_calls[tool] = fleet.failed_calls.get(tool, 0) + 1
                    elif not last:
                        payload = {"tool": tool, "request_id": request, "ok": False, "status": 503}
                        event("tool_result", step_id, f"{tool} failed: 503, retrying", payload, t)
                        fleet.failed_calls[tool] = fleet.failed_calls.get(tool, 0) + 1
                    else:
                        payload = {
                            "tool": tool,
                            "request_id": request,
                            "ok": True,
                            "latency_ms": latency * 1000,
                        }
                        event("tool_result", step_id, f"{tool} returned", payload, t)
                    t += timedelta(seconds=rng.uniform(0.05, 0.5))
            if fails_here and family is not None:
                if error_text is None:
                    error_text = family[3](rng)
                event("error", step_id, error_text, {"message": error_text}, t)
                t += timedelta(seconds=0.1)
                event("step_failed", step_id, f"Failed: {description}", None, t)
                row.update(status="failed", completed_at=_stamp(t))
                status, failed_step = "failed", step_id
                fleet.family[run_id] = family[0]
            else:
                t += timedelta(seconds=rng.uniform(0.2, 1))
                event("step_completed", step_id, f"Completed: {description}", None, t)
                row["completed_at"] = _stamp(t)
            fleet.steps.append(row)
        fleet.runs.append(
            {
                "run_id": run_id,
                "mission_id": mission_id,
                "status": status,
                "started_at": _stamp(started),
                "updated_at": _stamp(t),
                "finished_at": _stamp(t),
                "error": error_text,
            }
        )
    fleet.runs.sort(key=lambda r: r["started_at"])
    fleet.events.sort(key=lambda e: e["timestamp"])
    return fleet
