"""What the benchmark scripts share: the checkout's source, a sandbox in a subprocess,
seeded data, alternating repetitions, and a report printed as tables and saved as JSON.

Every script measures the missionlab of the checkout it lives in (``src/`` is put first
on ``sys.path`` and on the ``PYTHONPATH`` of every subprocess). Only 127.0.0.1 is used.
"""

from __future__ import annotations

import gc
import json
import os
import platform
import random
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from _sandbox_process import SandboxProcess

ROOT = Path(__file__).resolve().parent.parent
SRC = ROOT / "src"
TOKEN = "bench-token"
ANCHOR = datetime(2026, 11, 28, tzinfo=UTC)

if str(SRC) not in sys.path:
    sys.path.insert(0, str(SRC))
os.environ["PYTHONPATH"] = os.pathsep.join(
    [str(SRC), *[p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p and p != str(SRC)]]
)


# -- timing -------------------------------------------------------------------------------------


def alternate(
    sides: dict[str, Callable[[], Any]], repeat: int, *, warmup: bool = False
) -> dict[str, list[float]]:
    """Seconds of each side, over ``repeat`` rounds; each round runs every side once,
    in an order rotated from round to round so that drift hits every side alike."""
    names = list(sides)
    if warmup:
        for name in names:
            sides[name]()
    times: dict[str, list[float]] = {name: [] for name in names}
    for round_number in range(repeat):
        shift = round_number % len(names)
        for name in names[shift:] + names[:shift]:
            gc.collect()
            started = time.perf_counter()
            sides[name]()
            times[name].append(time.perf_counter() - started)
    return times


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def mib(n_bytes: float) -> float:
    return n_bytes / 2**20


def peak_rss_mib() -> float:
    """Peak resident memory of this process so far.

    Linux's ``VmHWM`` belongs to the program (it starts afresh at exec); ``ru_maxrss`` is
    inherited from the parent at fork, so a child started by a big process would report the
    parent's peak. Elsewhere, ``ru_maxrss``.
    """
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024  # kB
    except OSError:
        pass
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# -- the sandbox --------------------------------------------------------------------------------


class Server(SandboxProcess):
    """``missionlab sandbox serve`` on a temp database, in its own process, started."""

    def __init__(self, db: Path, token: str = TOKEN) -> None:
        super().__init__(db, token)
        self.start(timeout=60)
        self.base = self.url
        self.headers = {"Authorization": f"Bearer {token}"}

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def cpu_seconds(self) -> float:
        """User + system CPU time the server process has used so far."""
        import psutil

        times = psutil.Process(self.pid).cpu_times()
        return float(times.user + times.system)


@contextmanager
def sandbox(seed: Callable[[Any], Any]) -> Iterator[tuple[Server, Any]]:
    """A temp database seeded by ``seed(store)``, served in a subprocess: (server, seed's result)."""
    from missionlab.sandbox import Store

    with tempfile.TemporaryDirectory(prefix="missionlab-bench-") as tmp:
        db = Path(tmp) / "sandbox.db"
        store = Store(db)
        try:
            seeded = seed(store)
        finally:
            store.close()
        server = Server(db)
        try:
            yield server, seeded
        finally:
            server.stop()


# -- data ---------------------------------------------------------------------------------------


def stamp(moment: datetime) -> str:
    """A time in the API's wire format."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def new_id(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


TOOLS = [
    "crm.lookup",
    "flights.search",
    "hotels.search",
    "payments.charge",
    "kb.search",
    "calendar.list",
    "telnyx.call",
    "warehouse.query",
]
RUN_STATUSES = (
    ["succeeded"] * 70
    + ["failed"] * 15
    + ["cancelled"] * 5
    + ["running"] * 5
    + ["paused"] * 2
    + ["pending"] * 3
)


def mission_row(rng: random.Random, index: int) -> dict[str, Any]:
    created = stamp(ANCHOR - timedelta(days=60, hours=index))
    return {
        "mission_id": new_id(rng),
        "name": f"Mission {index}: triage and follow-up",
        "description": "Classifies requests, looks things up and drafts an answer.",
        "instructions": "Follow the policy. Ask before spending money.",
        "model": "gpt-4.1",
        "metadata": {"team": f"team-{index % 3}"},
        "execution_mode": "external",
        "created_at": created,
        "updated_at": created,
    }


def event_row(
    rng: random.Random, mission_id: str, run_id: str, k: int, at: datetime, agent: str
) -> dict[str, Any]:
    """The k-th event of a run: a plausible mix of types, summaries and payloads."""
    step = f"step-{k // 4}"
    kind = ("step_started", "tool_call", "tool_result", "step_completed")[k % 4]
    call = k - 1 if kind == "tool_result" else k  # a result answers the call just before it
    tool = TOOLS[(call + len(run_id)) % len(TOOLS)]
    row: dict[str, Any] = {
        "event_id": new_id(rng),
        "run_id": run_id,
        "mission_id": mission_id,
        "type": kind,
        "timestamp": stamp(at),
        "step_id": step,
        "agent_id": agent,
    }
    if kind == "tool_call":
        row["summary"] = f"Called {tool}"
        row["payload"] = {"tool": tool, "arguments": {"id": f"C-{rng.randrange(10**6)}"}}
    elif kind == "tool_result":
        row["summary"] = f"{tool} answered in {rng.randrange(20, 900)} ms"
        row["payload"] = {"tool": tool, "ok": rng.random() > 0.05, "latency_ms": rng.randrange(20, 900)}
    elif kind == "step_started":
        row["summary"] = f"Started: {step.replace('-', ' ')} of the request"
    else:
        row["summary"] = f"Completed: {step.replace('-', ' ')} of the request"
    return row


def seed_history(
    store: Any, *, missions: int = 10, runs: int = 20_000, events: int = 200_000, seed: int = 0
) -> dict[str, int]:
    """An organization's history: missions, runs in every status, events spread over the runs."""
    rng = random.Random(seed)
    mission_rows = [mission_row(rng, i) for i in range(missions)]
    run_rows: list[dict[str, Any]] = []
    starts: list[datetime] = []
    for i in range(runs):
        mission = mission_rows[i % missions]["mission_id"]
        status = rng.choice(RUN_STATUSES)
        started = ANCHOR - timedelta(seconds=rng.uniform(0, 30 * 86400))
        duration = timedelta(seconds=rng.uniform(5, 900))
        row: dict[str, Any] = {
            "run_id": new_id(rng),
            "mission_id": mission,
            "status": status,
            "started_at": stamp(started),
            "updated_at": stamp(started + duration),
            "input": {"request_id": f"REQ-{i}", "priority": rng.choice(["low", "normal", "high"])},
            "metadata": {"source": rng.choice(["api", "notebook", "schedule"])},
        }
        if status in ("succeeded", "failed", "cancelled"):
            row["finished_at"] = row["updated_at"]
        if status == "succeeded":
            row["result_payload"] = {
                "steps_completed": rng.randrange(3, 12),
                "duration_s": round(duration.total_seconds(), 1),
            }
            row["result_summary"] = f"Completed all steps in {duration.total_seconds():.0f} s"
        elif status == "failed":
            row["error"] = "TimeoutError: the tool did not answer within 30 s"
        run_rows.append(row)
        starts.append(started)
    event_rows = []
    for j in range(events):
        i = j % runs
        k = j // runs
        run = run_rows[i]
        event_rows.append(
            event_row(
                rng,
                run["mission_id"],
                run["run_id"],
                k,
                starts[i] + timedelta(seconds=3 * k + rng.random()),
                f"agent-{i % missions}",
            )
        )
    # stored in the order a live sandbox would have stored them: as they happened
    run_rows.sort(key=lambda r: r["started_at"])
    event_rows.sort(key=lambda e: e["timestamp"])
    store.bulk_load("missions", mission_rows)
    store.bulk_load("runs", run_rows)
    store.bulk_load("events", event_rows)
    return {"missions": missions, "runs": runs, "events": events}


def seed_run(
    store: Any, *, steps: int, events: int, status: str = "succeeded", seed: int = 0
) -> dict[str, Any]:
    """One run with a nested plan of ``steps`` steps and ``events`` events on them."""
    rng = random.Random(seed)
    mission = mission_row(rng, 0)
    run_id = new_id(rng)
    started = ANCHOR - timedelta(hours=2)
    step_rows: list[dict[str, Any]] = []
    spans: list[tuple[datetime, timedelta]] = []
    t = started
    active = status in ("running", "paused", "pending")
    open_from = int(steps * 0.6) if active else steps  # an active run is 60% through its plan
    for i in range(steps):
        duration = timedelta(seconds=rng.uniform(1, 20))
        if i < open_from:
            step_status = rng.choices(["completed", "failed", "skipped"], [90, 5, 5])[0]
        else:
            step_status = "in_progress" if i == open_from else "pending"
        row: dict[str, Any] = {
            "run_id": run_id,
            "step_id": f"s{i}",
            "sequence": i,
            "parent_step_id": f"s{i - i % 5}" if i % 5 else None,
            "description": f"Step {i}: validate a table of the warehouse",
            "status": step_status,
            "metadata": {"attempt": 1},
        }
        if step_status not in ("pending", "skipped"):
            row["started_at"] = stamp(t)
        if step_status in ("completed", "failed", "skipped"):
            row["completed_at"] = stamp(t + duration)
        step_rows.append(row)
        spans.append((t, duration))
        t += duration
    event_rows = []
    with_events = max(1, min(open_from, steps))  # steps that have started get the events
    per_step = -(-events // with_events)
    for j in range(events):
        k = min(j // per_step, with_events - 1)
        begin, duration = spans[k] if spans else (started, timedelta(0))
        row = event_row(
            rng, mission["mission_id"], run_id, j, begin + duration * ((j % per_step) / per_step), "agent-0"
        )
        row["step_id"] = f"s{k}" if steps else None
        event_rows.append(row)
    run = {
        "run_id": run_id,
        "mission_id": mission["mission_id"],
        "status": status,
        "started_at": stamp(started),
        "updated_at": stamp(t),
        "input": {"request_id": "REQ-1"},
        "metadata": {"source": "bench"},
    }
    if not active:
        run["finished_at"] = stamp(t)
    store.bulk_load("missions", [mission])
    store.bulk_load("runs", [run])
    store.bulk_load("steps", step_rows)
    store.bulk_load("events", event_rows)
    return {"mission_id": mission["mission_id"], "run_id": run_id, "end": t}


# -- the report ---------------------------------------------------------------------------------


def fmt(value: Any) -> str:
    if isinstance(value, float):
        if value != value:  # NaN
            return "-"
        if abs(value) >= 100:
            return f"{value:,.0f}"
        if abs(value) >= 10:
            return f"{value:.1f}"
        return f"{value:.3g}" if abs(value) < 1 else f"{value:.2f}"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return "-" if value is None else str(value)


class Report:
    """Tables and notes printed as they come, and saved (with named figures) as JSON."""

    def __init__(self, script: str, title: str, args: dict[str, Any]) -> None:
        self.data: dict[str, Any] = {
            "script": script,
            "title": title,
            "args": args,
            "tables": [],
            "figures": {},
            "notes": [],
        }
        self._started = time.perf_counter()
        print(f"{title}\n{'=' * len(title)}")
        print(
            f"missionlab from {SRC}, Python {platform.python_version()}, {versions()}, "
            f"load average {os.getloadavg()[0]:.2f}",
            flush=True,
        )

    def table(self, title: str, columns: list[str], rows: list[list[Any]]) -> None:
        cells = [[fmt(c) for c in row] for row in rows]
        widths = [max(len(str(col)), *(len(r[i]) for r in cells)) for i, col in enumerate(columns)]
        print(f"\n{title}")
        print(
            "  ".join(
                str(c).ljust(w) if i == 0 else str(c).rjust(w)
                for i, (c, w) in enumerate(zip(columns, widths, strict=True))
            )
        )
        for row in cells:
            print(
                "  ".join(
                    c.ljust(w) if i == 0 else c.rjust(w)
                    for i, (c, w) in enumerate(zip(row, widths, strict=True))
                )
            )
        sys.stdout.flush()
        self.data["tables"].append({"title": title, "columns": columns, "rows": cells})

    def figure(self, name: str, value: Any) -> None:
        self.data["figures"][name] = value

    def note(self, text: str) -> None:
        print(f"note: {text}", flush=True)
        self.data["notes"].append(text)

    def save(self, path: str | None) -> None:
        self.data["elapsed_s"] = round(time.perf_counter() - self._started, 1)
        print(f"\n({self.data['script']} took {self.data['elapsed_s']:.0f} s)", flush=True)
        if path:
            Path(path).write_text(json.dumps(self.data, indent=1, default=str))


def versions(names: tuple[str, ...] = ("pandas", "pyarrow", "pydantic", "httpx")) -> str:
    """The versions of the packages the figures depend on most (pyarrow changes pandas' strings)."""
    from importlib import metadata

    found = []
    for name in names:
        try:
            found.append(f"{name} {metadata.version(name)}")
        except metadata.PackageNotFoundError:
            found.append(f"no {name}")
    return ", ".join(found)


def ratio(a: float, b: float) -> float:
    return a / b if b else float("nan")
