"""How the soak calls and accounts for one logical operation, and what a worker tracks.

A :class:`Worker` owns the missions it creates (no other thread writes to them),
so that it knows what each of its records should hold; reads of the shared lists
are shared. Every call is one logical operation with its own id, which tags what
it creates and names it to the fault layer. A failure is tallied by class; a
failure that met no injected fault where the worker knew the call should
succeed is *unexpected*; a read that contradicts the worker's acknowledged
writes (or lists an item twice) is a *bad read*. The operations themselves are
in ``_soak_workload``.
"""

from __future__ import annotations

import random
import traceback
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar

from _fault_transport import OP_HEADER, FaultTransport
from _soak_ledger import Effect, Record, failure_effect

import missionlab

EXAMPLES = 5


@dataclass
class Tally:
    """What the client was told, over one worker's operations."""

    ops: Counter[str] = field(default_factory=Counter)
    acknowledged: int = 0
    failed: Counter[str] = field(default_factory=Counter)  # by effect
    typed: Counter[str] = field(default_factory=Counter)
    untyped: Counter[str] = field(default_factory=Counter)
    untyped_examples: list[str] = field(default_factory=list)
    unexpected: list[str] = field(default_factory=list)  # failures that met no fault
    bad_reads: list[str] = field(default_factory=list)
    records: list[Record] = field(default_factory=list)

    def merge(self, other: Tally) -> None:
        self.ops.update(other.ops)
        self.acknowledged += other.acknowledged
        self.failed.update(other.failed)
        self.typed.update(other.typed)
        self.untyped.update(other.untyped)
        self.untyped_examples += other.untyped_examples[:EXAMPLES]
        self.unexpected += other.unexpected
        self.bad_reads += other.bad_reads
        self.records += other.records


@dataclass
class Mission:
    record: Record
    mission_id: str
    runs: list[Run] = field(default_factory=list)
    objects: list[MissionObject] = field(default_factory=list)


@dataclass
class Run:
    record: Record
    run_id: str
    mission_id: str
    status: str | None = "pending"  # None: unknown after a failed change
    has_plan: bool | None = False
    steps: dict[str, Record] = field(default_factory=dict)  # committed steps
    next_step: int = 1
    linked: dict[str, bool | None] = field(default_factory=dict)
    events: dict[str, str] = field(default_factory=dict)  # acknowledged: summary -> event_id


@dataclass
class MissionObject:
    record: Record
    kind: str
    object_id: str


def _where(exc: BaseException) -> str:
    frames = traceback.extract_tb(exc.__traceback__)
    frame = frames[-1] if frames else None
    return f" at {frame.filename.rsplit('/', 2)[-1]}:{frame.lineno}" if frame else ""


class Worker:
    """Runs ``ops`` of its :attr:`operations` (method names, weighted) on its own missions;
    what it was told is in :attr:`tally`."""

    operations: ClassVar[dict[str, float]] = {}

    def __init__(
        self, index: int, client: missionlab.Client, transport: FaultTransport, ops: int, seed: int
    ) -> None:
        self.index = index
        self.client = client
        self.transport = transport
        self.budget = ops
        self.done = 0
        self.rng = random.Random(f"{seed}:worker:{index}")
        self.tally = Tally()
        self.missions: list[Mission] = []
        self.told = "ok"  # what the client was told by the last call
        self.crash: str | None = None

    def run(self) -> None:
        names, weights = zip(*self.operations.items(), strict=True)
        try:
            while self.done < self.budget:
                getattr(self, self.rng.choices(names, weights)[0])()
        except Exception:  # a defect of the soak itself: say so rather than under-count
            self.crash = traceback.format_exc()

    # -- calling --------------------------------------------------------------------------

    def call(self, kind: str, fn: Callable[[str], Any], *, expect_ok: bool = True) -> tuple[Any, Effect, str]:
        """Run one logical operation: (result or None, effect, operation id)."""
        op = f"t{self.index}.{self.done}"
        self.done += 1
        self.tally.ops[kind] += 1
        error: Exception | None = None
        with self.transport.op(op):
            try:
                value = fn(op)
            except Exception as exc:  # every failure is tallied, typed or not
                error = exc
        attempts = self.transport.take(op)
        if error is None:
            self.told = "ok"
            self.tally.acknowledged += 1
            return value, "done", op
        effect = failure_effect(attempts)
        self.tally.failed[effect] += 1
        name = self.told = type(error).__name__
        first_line = str(error).splitlines()[0] if str(error) else ""
        if not isinstance(error, missionlab.MissionlabError):
            self.tally.untyped[name] += 1
            if len(self.tally.untyped_examples) < EXAMPLES:
                self.tally.untyped_examples.append(
                    f"{kind} ({op}): {name}: {first_line[:200]}{_where(error)}"
                )
        else:
            self.tally.typed[name] += 1
            if expect_ok and not any(a.fault for a in attempts):
                self.tally.unexpected.append(f"{kind} ({op}) met no fault: {name}: {first_line[:200]}")
        return None, effect, op

    def anomaly(self, text: str) -> None:
        """A read that contradicts this worker's acknowledged writes."""
        self.tally.bad_reads.append(text)

    def record(
        self,
        kind: str,
        tag: str,
        op: str,
        effect: Effect,
        parent: Record | None,
        ident: str | None = None,
        **initial: Any,
    ) -> Record:
        """The ledger entry of what the last call created."""
        record = Record(kind, tag, op, effect, parent, self.told, ident, initial=initial)
        self.tally.records.append(record)
        return record

    @staticmethod
    def header(op: str) -> dict[str, str]:
        """Headers that name the operation, for the pages ``fetch_all`` gets on other threads."""
        return {OP_HEADER: op}

    # -- picking targets ------------------------------------------------------------------

    def _mission(self) -> Mission | None:
        return self.rng.choice(self.missions) if self.missions else None

    def _run(self, want: Callable[[Run], bool] = lambda run: True) -> Run | None:
        runs = [r for m in self.missions for r in m.runs if want(r)]
        return self.rng.choice(runs) if runs else None

    def _object(self) -> tuple[Mission, MissionObject] | None:
        owned = [(m, o) for m in self.missions for o in m.objects]
        return self.rng.choice(owned) if owned else None

    def _check_listing(self, op: str, what: str, listed: list[str], known: list[str]) -> None:
        if len(set(listed)) != len(listed):
            self.anomaly(f"list {what} ({op}): {len(listed) - len(set(listed))} of {len(listed)} items twice")
        if missing := set(known) - set(listed):
            self.anomaly(f"list {what} ({op}): {len(missing)} acknowledged items missing")
