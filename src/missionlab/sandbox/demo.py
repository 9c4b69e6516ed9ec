"""Deterministic demo history: missions, hundreds of runs in every status, plans, events.

The same seed always gives the same plans, timestamps and outcomes. The ids are drawn from
a random key per seeding (unless one is given), so that no web page can know the ids of a
user's sandbox in advance: the same seed and key give the same ids. History
ends at ``ANCHOR``; one run of the travel mission is left to the live
simulator, so a freshly started sandbox always has a run in progress.

Each history run says what the demo did to it on purpose, in its metadata, so that any
HTTP client can tell a planted anomaly from a finding on a healthy run::

    run["metadata"]["demo"] == {"planted": ["slow:flights", "failed:book"]}

``"slow:STEP"``: the step was made 3-6x slower than usual; ``"failed:STEP"``: the run was
made to fail in that step; ``"cancelled"``, ``"paused"``, ``"stale"`` (left running by an
agent that went away) and ``"pending"`` (never started): the run was stopped part-way. An
empty list marks an unremarkable run (its natural variance aside: durations, usage, a
flaky call retried once).
"""

from __future__ import annotations

import hashlib
import hmac
import random
import secrets
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from .playback import HistoryRun, apply_action
from .script import Script, build_script
from .simulator import run_seed
from .store import Store, stamp

ANCHOR = datetime(2026, 11, 28, tzinfo=UTC)
HISTORY_DAYS = 30

MISSIONS: list[dict[str, Any]] = [
    {
        "name": "Travel booking assistant",
        "execution_mode": "managed",
        "runs": 90,
        "model": "gpt-4.1",
        "description": "Finds and books flights and hotels for employees.",
        "instructions": "Follow the travel policy. Prefer refundable fares.",
        "tools": [
            {"tool_id": "flights.search", "name": "Flight search", "type": "webhook"},
            {"tool_id": "hotels.search", "name": "Hotel search", "type": "webhook"},
            {"tool_id": "payments.charge", "name": "Corporate card", "type": "webhook"},
        ],
        "knowledge_bases": [
            {"knowledge_base_id": "kb-travel-policy", "name": "Travel policy", "documents": 42}
        ],
        "plan": [
            {"step_id": "parse", "description": "Parse the travel request", "duration": 4},
            {
                "step_id": "flights",
                "description": "Search flights",
                "duration": 45,
                "slow_rate": 0.25,
                "tools": ["flights.search"],
                "failure_rate": 0.04,
                "errors": ["TimeoutError: flights.search did not answer within 30 s"],
            },
            {
                "step_id": "hotels",
                "description": "Find a hotel",
                "children": [
                    {
                        "step_id": "hotels-search",
                        "description": "Query hotel inventory",
                        "duration": 20,
                        "tools": ["hotels.search"],
                    },
                    {
                        "step_id": "hotels-rank",
                        "description": "Rank hotels against the policy",
                        "duration": 8,
                    },
                ],
            },
            {"step_id": "compare", "description": "Compare itineraries", "duration": 12},
            {
                "step_id": "book",
                "description": "Book and pay",
                "duration": 18,
                "tools": ["payments.charge"],
                "failure_rate": 0.18,
                "errors": [
                    "PaymentDeclined: corporate card ending 4242 was declined",
                    "FareExpired: the selected fare is no longer available",
                ],
            },
            {"step_id": "confirm", "description": "Email the itinerary", "duration": 5},
        ],
    },
    {
        "name": "Customer support triage",
        "execution_mode": "managed",
        "runs": 80,
        "model": "claude-sonnet",
        "description": "Classifies tickets and drafts first replies.",
        "tools": [{"tool_id": "crm.lookup", "name": "CRM lookup", "type": "webhook"}],
        "knowledge_bases": [{"knowledge_base_id": "kb-help-center", "name": "Help center", "documents": 311}],
        "mcp_servers": [
            {"mcp_server_id": "mcp-zendesk", "name": "Zendesk MCP", "url": "https://mcp.example.com/zendesk"}
        ],
        "plan": [
            {"step_id": "classify", "description": "Classify the ticket", "duration": 5},
            {
                "step_id": "account",
                "description": "Look up the customer account",
                "duration": 9,
                "tools": ["crm.lookup"],
            },
            {
                "step_id": "kb",
                "description": "Search the help center",
                "duration": 14,
                "tools": ["kb.search"],
            },
            {"step_id": "draft", "description": "Draft a reply", "duration": 20},
            {
                "step_id": "qa",
                "description": "Check tone and policy",
                "duration": 7,
                "failure_rate": 0.1,
                "errors": ["PolicyViolation: reply promises a refund"],
            },
            {"step_id": "send", "description": "Send the reply", "duration": 2},
        ],
    },
    {
        "name": "Appointment reminder calls",
        "execution_mode": "managed",
        "runs": 60,
        "model": "gpt-4.1-mini",
        "description": "Calls patients to confirm tomorrow's visits.",
        "agent": "voice-agent-reminders",
        "tools": [{"tool_id": "telnyx.call", "name": "Outbound call", "type": "telnyx"}],
        "mcp_servers": [
            {
                "mcp_server_id": "mcp-calendar",
                "name": "Clinic calendar",
                "url": "https://mcp.example.com/calendar",
            }
        ],
        "plan": [
            {
                "step_id": "load",
                "description": "Load tomorrow's appointments",
                "duration": 6,
                "tools": ["calendar.list"],
            },
            {
                "step_id": "call",
                "description": "Call patient",
                "repeat": [3, 18],
                "children": [
                    {
                        "step_id": "dial",
                        "description": "Dial and talk",
                        "duration": 50,
                        "tools": ["telnyx.call"],
                        "failure_rate": 0.01,
                        "errors": ["CarrierError: call could not be connected"],
                    },
                ],
            },
            {"step_id": "report", "description": "Summarise confirmations", "duration": 10},
        ],
    },
    {
        "name": "Invoice reconciliation",
        "execution_mode": "external",
        "runs": 50,
        "model": "in-house-agent",
        "description": "Matches payments to open invoices.",
        "plan": [
            {"step_id": "fetch", "description": "Fetch open invoices", "duration": 15},
            {"step_id": "match", "description": "Match payments", "duration": 120, "slow_rate": 0.3},
            {
                "step_id": "flag",
                "description": "Flag discrepancies",
                "duration": 30,
                "failure_rate": 0.12,
                "errors": ["KeyError: 'currency' missing on payment 8812"],
            },
            {"step_id": "report", "description": "Post the report", "duration": 5},
        ],
    },
    {
        "name": "Lead qualification",
        "execution_mode": "managed",
        "runs": 70,
        "model": "gpt-4.1-mini",
        "description": "Enriches, scores and routes inbound leads.",
        "tools": [
            {"tool_id": "clearbit.enrich", "name": "Enrichment", "type": "webhook"},
            {"tool_id": "telnyx.sms", "name": "SMS", "type": "telnyx"},
        ],
        "plan": [
            {
                "step_id": "enrich",
                "description": "Enrich the lead",
                "duration": 8,
                "tools": ["clearbit.enrich"],
                "failure_rate": 0.05,
            },
            {"step_id": "score", "description": "Score fit and intent", "duration": 6},
            {"step_id": "route", "description": "Route to a sales rep", "duration": 3},
            {"step_id": "sms", "description": "Send a welcome SMS", "duration": 4, "tools": ["telnyx.sms"]},
        ],
    },
    {
        "name": "Data warehouse QA",
        "execution_mode": "external",
        "runs": 40,
        "model": "in-house-agent",
        "description": "Validates last night's warehouse loads.",
        "plan": [
            {"step_id": "plan", "description": "List tables loaded last night", "duration": 5},
            {
                "step_id": "validate",
                "description": "Validate table",
                "repeat": [10, 36],
                "duration": 9,
                "failure_rate": 0.006,
                "errors": ["AssertionError: row count dropped by 38%"],
            },
            {"step_id": "publish", "description": "Publish the QA report", "duration": 6},
        ],
    },
]

# Share of runs that end up cancelled, paused or pending instead of playing to the end.
CANCEL_RATE, PAUSE_RATE, PENDING_RATE, STALE_RUNNING_RATE = 0.05, 0.03, 0.02, 0.02


def _uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


class _InstallIds:
    """The id an install shows for each id of the seeded history: keyed, so that the history
    (drawn from the seed alone) stays the same while its ids can't be guessed."""

    def __init__(self, key: bytes) -> None:
        self.key = key

    def __call__(self, seeded_id: str) -> str:
        digest = hmac.new(self.key, seeded_id.encode(), hashlib.sha256).digest()
        return str(uuid.UUID(bytes=digest[:16], version=4))


def materialize(
    script: Script, run: dict[str, Any], start: datetime, stop_after: int | None, rng: random.Random
) -> HistoryRun:
    """Play a script's first ``stop_after`` actions at once, at past times, into records.

    ``run`` is updated in place. The actions are interpreted as the live simulator does
    (``playback.apply_action``), in real time.
    """
    played = HistoryRun(run)
    actions = script.actions if stop_after is None else script.actions[:stop_after]
    for action in actions:
        when = stamp(start + timedelta(seconds=action.at))
        apply_action(played, action, when, run_id=run["run_id"])
        run["updated_at"] = when
    for event in played.events:
        event["event_id"] = _uuid(rng)
    return played


def _played_to_the_end(played: HistoryRun, step_id: str) -> bool:
    step = played.steps.get(step_id)
    return step is not None and step.get("status") in ("completed", "failed")


def seed_demo(store: Store, *, seed: int = 0, id_key: bytes | None = None) -> dict[str, int]:
    """Fill an empty store with the demo history; returns how many of each were made.

    ``id_key``: the key the ids are drawn from (default: a random one, so every seeding has
    its own ids)."""
    rng = random.Random(f"missionlab-demo:{seed}")
    install_id = _InstallIds(secrets.token_bytes(32) if id_key is None else id_key)
    missions: list[dict[str, Any]] = []
    runs: list[dict[str, Any]] = []
    steps: list[dict[str, Any]] = []
    events: list[dict[str, Any]] = []
    agents: list[dict[str, Any]] = []
    objects: list[dict[str, Any]] = []
    live: list[tuple[str, str, int]] = []
    created = ANCHOR - timedelta(days=HISTORY_DAYS + 5)
    for index, spec in enumerate(MISSIONS):
        mission_id = install_id(_uuid(rng))
        metadata = {
            "plan": spec["plan"],
            "team": ["travel", "support", "clinic", "finance", "growth", "data"][index],
        }
        at = stamp(created + timedelta(hours=index))
        missions.append(
            {
                "mission_id": mission_id,
                "name": spec["name"],
                "description": spec["description"],
                "instructions": spec.get("instructions"),
                "model": spec["model"],
                "metadata": metadata,
                "execution_mode": spec["execution_mode"],
                "created_at": at,
                "updated_at": at,
            }
        )
        for kind, id_field in (
            ("tools", "tool_id"),
            ("knowledge-bases", "knowledge_base_id"),
            ("mcp-servers", "mcp_server_id"),
        ):
            for body in spec.get(kind.replace("-", "_"), []):
                objects.append(
                    {"kind": kind, "mission_id": mission_id, "object_id": body[id_field], "body": body}
                )
        for _ in range(spec["runs"]):
            seeded_run_id = _uuid(rng)
            run_id = install_id(seeded_run_id)
            start = ANCHOR - timedelta(seconds=rng.uniform(600, HISTORY_DAYS * 86400))
            run: dict[str, Any] = {
                "run_id": run_id,
                "mission_id": mission_id,
                "status": "pending",
                "started_at": stamp(start),
                "updated_at": stamp(start),
                "input": {"request_id": f"REQ-{rng.randint(1000, 9999)}"},
                "metadata": {"source": rng.choice(["api", "schedule", "notebook"])},
            }
            script = build_script(
                seeded_run_id,
                metadata,
                run_seed(seed, seeded_run_id),
                agent_id=spec.get("agent", "missionlab-sim-agent"),
            )
            roll, cut = rng.random(), None
            total = len(script.actions)
            if roll < PENDING_RATE:
                cut = 0
            elif roll < PENDING_RATE + CANCEL_RATE + PAUSE_RATE + STALE_RUNNING_RATE:
                cut = rng.randint(3, max(3, total - 2))
            played = materialize(script, run, start, cut, rng)
            planted = [
                mark
                for mark in script.planted
                if cut is None or _played_to_the_end(played, mark.partition(":")[2])
            ]
            if cut == 0:
                planted.append("pending")
            if cut:
                last = played.events[-1]["timestamp"] if played.events else run["started_at"]
                when = stamp(datetime.fromisoformat(last) + timedelta(seconds=rng.uniform(5, 90)))
                if roll < PENDING_RATE + CANCEL_RATE:  # as a user's cancel does (store.transition)
                    played.set_run_status("cancelled", when)
                    played.skip_open_steps(when)
                    planted.append("cancelled")
                elif roll < PENDING_RATE + CANCEL_RATE + PAUSE_RATE:
                    played.set_run_status("paused", when)
                    planted.append("paused")
                else:  # left "running" by an external agent that went away
                    planted.append("stale")
            run["metadata"]["demo"] = {"planted": planted}
            run_steps, run_events = list(played.steps.values()), played.events
            for event in run_events:
                spare = _uuid(rng)  # drawn for every event, so that the history stays as it was
                event["event_id"] = install_id(event.get("event_id", spare))
            runs.append(run)
            steps.extend(run_steps)
            events.extend({**e, "mission_id": mission_id} for e in run_events)
            if spec.get("agent") and run_steps:
                agents.append(
                    {"run_id": run_id, "telnyx_agent_id": spec["agent"], "created_at": run["started_at"]}
                )
        if index == 0:
            seeded_live_id = _uuid(rng)
            live.append((mission_id, install_id(seeded_live_id), run_seed(seed, seeded_live_id)))
    store.bulk_load("missions", missions)
    store.bulk_load("objects", objects)
    store.bulk_load("runs", runs)
    store.bulk_load("steps", steps)
    store.bulk_load("events", events)
    store.bulk_load("agents", agents)
    for mission_id, run_id, live_seed in live:  # one run in progress whenever the sandbox starts
        store.create_run(
            mission_id, {"input": {"request_id": "REQ-LIVE"}, "metadata": {"source": "demo"}}, run_id=run_id
        )
        store.save_simulation(run_id, live_seed, 0.0, 0)
    return {
        "missions": len(missions),
        "runs": len(runs) + len(live),
        "steps": len(steps),
        "events": len(events),
        "agents": len(agents),
    }
