"""The soak's ledger: what the client was told, and its comparison with the server's records.

Every record a logical operation creates carries a tag the soak chose (a
mission's name, a run's ``metadata.soak``, an event's summary, an object's
``name``, a step's id), so that the server's records can be matched to the
operation that made them even when the client never learnt their ids.

Each operation ends with one :data:`Effect`:

- ``done``: the client was told it succeeded;
- ``unacked``: the client was told it failed, but the server answered 2xx on the
  wire (the fault layer threw that answer away), so the write is committed;
- ``none``: it failed and the server never acted (no request reached it, or it
  refused every one);
- ``maybe``: a real connection broke after the request was sent; unknown.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from _fault_transport import Attempt

from missionlab.sandbox import Store

Effect = Literal["done", "unacked", "none", "maybe"]
CERTAIN: tuple[Effect, ...] = ("done", "unacked")
OBJECT_ID_FIELDS = {
    "tools": "tool_id",
    "knowledge-bases": "knowledge_base_id",
    "mcp-servers": "mcp_server_id",
}
ALL = 10**9  # a page size that holds everything


def failure_effect(attempts: Iterable[Attempt]) -> Effect:
    """The effect of an operation the client was told failed."""
    attempts = list(attempts)
    if any(a.committed for a in attempts):
        return "unacked"
    if any(a.real_error for a in attempts):
        return "maybe"
    return "none"


@dataclass(frozen=True)
class Write:
    """One write to a register (a field the soak's last write should decide)."""

    value: Any
    effect: Effect
    op: str


@dataclass
class Record:
    """Something an operation created, found on the server by ``(kind, tag)``."""

    kind: str  # mission, run, step, event, object
    tag: str
    op: str
    created: Effect
    parent: Record | None = None
    told: str = "ok"  # what the client was told: "ok" or the exception's class
    ident: str | None = None  # the id the client was given, when it was told "ok"
    deleted: Effect | None = None  # the last delete that was not refused, if any
    registers: dict[str, list[Write]] = field(default_factory=dict)
    initial: dict[str, Any] = field(default_factory=dict)
    status_changes: list[Effect] = field(default_factory=list)  # runs only
    key: str | None = None  # events logged with an idempotency key

    def write(self, register: str, value: Any, effect: Effect, op: str) -> None:
        if effect != "none":
            self.registers.setdefault(register, []).append(Write(value, effect, op))

    def delete(self, effect: Effect) -> None:
        if effect != "none":
            self.deleted = effect

    def expected(self) -> Literal["present", "absent", "either"]:
        """Whether the server must hold this record, must not, or may."""
        own: Literal["present", "absent", "either"] = (
            "absent" if self.created == "none" else "either" if self.created == "maybe" else "present"
        )
        if self.deleted in CERTAIN:
            own = "absent"
        elif self.deleted == "maybe" and own == "present":
            own = "either"
        if self.parent is not None:
            above = self.parent.expected()
            if above == "absent" or (above == "either" and own == "present"):
                return above
        return own

    def deletion_acknowledged(self) -> bool:
        """An acknowledged delete of this record or of a record it belongs to."""
        node: Record | None = self
        while node is not None:
            if node.deleted == "done":
                return True
            node = node.parent
        return False


@dataclass
class Findings:
    """What the comparison found, each with a one-line explanation."""

    lost: list[str] = field(default_factory=list)
    duplicated: list[str] = field(default_factory=list)
    inconsistent: list[str] = field(default_factory=list)
    checked: int = 0


@dataclass
class ServerRecords:
    """The server's records, by (kind, tag), each with the register values the soak reads."""

    found: dict[tuple[str, str], list[dict[str, Any]]] = field(default_factory=lambda: defaultdict(list))
    status_events: dict[str, list[dict[str, Any]]] = field(default_factory=lambda: defaultdict(list))


def read_store(db: str | Path) -> ServerRecords:
    """Every record of the stopped sandbox's database, read with the sandbox's own store."""
    out = ServerRecords()
    store = Store(db)
    try:
        for mission in store.list_missions(1, ALL)[0]:
            out.found["mission", mission["name"]].append(
                {"id": mission["mission_id"], "description": mission.get("description")}
            )
            for kind, id_field in OBJECT_ID_FIELDS.items():
                for body in store.list_objects(kind, mission["mission_id"]):
                    out.found["object", str(body.get("name"))].append(
                        {"id": body.get(id_field), "rev": body.get("rev")}
                    )
        for run in store.list_runs(None, None, 1, ALL)[0]:
            mission_id, run_id = run["mission_id"], run["run_id"]
            agents = {f"agent:{a['telnyx_agent_id']}": True for a in store.list_agents(mission_id, run_id)}
            tag = str((run.get("metadata") or {}).get("soak"))
            out.found["run", tag].append({"id": run_id, "status": run["status"], **agents})
            for step in store.get_plan(mission_id, run_id):
                state = (step["status"], (step.get("metadata") or {}).get("op"))
                out.found["step", f"{run_id}/{step['step_id']}"].append({"state": state})
        for event in reversed(store.list_events({}, 1, ALL)[0]):  # oldest first
            if event["type"] == "status_change":
                out.status_events[event["run_id"]].append(event)
            else:
                out.found["event", event["summary"]].append(
                    {"id": event["event_id"], "key": event.get("idempotency_key")}
                )
    finally:
        store.close()
    return out


def _allowed(writes: list[Write]) -> tuple[list[Any], Effect | None]:
    """Values a register may hold, and the effect of the last write that must show."""
    certain = [i for i, w in enumerate(writes) if w.effect in CERTAIN]
    last = certain[-1] if certain else 0
    return [w.value for w in writes[last:]], writes[last].effect if certain else None


def _shown(value: Any) -> str:
    return json.dumps(value, default=str)


def compare(records: Iterable[Record], server: ServerRecords) -> Findings:
    """Match the ledger's records with the server's, and say what does not fit."""
    findings = Findings()
    records = list(records)
    made = {(r.kind, r.tag) for r in records}
    findings.inconsistent += [
        f"{kind} {tag}: {len(rows)} record(s) that no operation made"
        for (kind, tag), rows in server.found.items()
        if rows and (kind, tag) not in made
    ]
    for record in records:
        findings.checked += 1
        rows = server.found.get((record.kind, record.tag), [])
        what = f"{record.kind} {record.tag} (created {record.created}, told {record.told})"
        if len(rows) >= 2:
            findings.duplicated.append(f"{what}: {len(rows)} records for one operation")
        expected = record.expected()
        if expected == "present" and not rows:
            target = findings.lost if record.created == "done" else findings.inconsistent
            target.append(f"{what}: absent from the server")
        elif expected == "absent" and rows:
            target = findings.lost if record.deletion_acknowledged() else findings.inconsistent
            why = "deleted (acknowledged)" if target is findings.lost else "never committed"
            target.append(f"{what}: present although {why}")
        if len(rows) != 1 or expected == "absent":
            continue
        row = rows[0]
        if record.ident is not None and row.get("id") != record.ident:
            findings.inconsistent.append(f"{what}: id {row.get('id')}, the client got {record.ident}")
        if record.key is not None and row.get("key") != record.key:
            findings.inconsistent.append(f"{what}: idempotency_key {row.get('key')!r}")
        for name in set(record.registers) | set(record.initial):
            initial = Write(record.initial.get(name), record.created, record.op)
            allowed, effect = _allowed([initial, *record.registers.get(name, [])])
            observed = row.get(name, False if name.startswith("agent:") else None)
            if observed not in allowed:
                target = findings.lost if effect == "done" else findings.inconsistent
                target.append(f"{what}: {name} is {_shown(observed)}, expected one of {_shown(allowed)}")
        if record.kind == "run":
            _check_status_chain(record, row, server.status_events.get(row["id"], []), findings)
    return findings


def _check_status_chain(
    record: Record, row: dict[str, Any], events: list[dict[str, Any]], findings: Findings
) -> None:
    """One status_change event per status change, in an unbroken chain to the final status."""
    certain = sum(e in CERTAIN for e in record.status_changes)
    possible = certain + sum(e == "maybe" for e in record.status_changes)
    what = f"run {record.tag}"
    if len(events) < certain:
        findings.lost.append(f"{what}: {len(events)} status_change events, {certain} committed")
    elif len(events) > possible:
        findings.duplicated.append(
            f"{what}: {len(events)} status_change events for at most {possible} status changes"
        )
    status = "pending"
    for event in events:
        payload = event.get("payload") or {}
        if payload.get("from") != status:
            findings.inconsistent.append(f"{what}: status_change {payload} follows {status!r}")
        status = str(payload.get("to"))
    if status != row["status"]:
        findings.inconsistent.append(
            f"{what}: status {row['status']!r} but the last status_change went to {status!r}"
        )
