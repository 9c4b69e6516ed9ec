"""Reliability: a killed server, many concurrent writers, and a short fault soak (bench/soak.py).

Every write the client is told succeeded must be on the server afterwards, once;
every failure must be a :class:`missionlab.MissionlabError`.
"""

from __future__ import annotations

import importlib
import secrets
import shutil
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

import missionlab
from missionlab.sandbox import Sandbox, Store

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
soak = importlib.import_module("soak")
ledger = importlib.import_module("_soak_ledger")
SandboxProcess = importlib.import_module("_sandbox_process").SandboxProcess


@dataclass
class Outcomes:
    """What one writer thread was told."""

    acked: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    typed: Counter[str] = field(default_factory=Counter)
    untyped: list[str] = field(default_factory=list)

    def attempt(self, tag: str, write: Callable[..., Any], *args: Any, **kwargs: Any) -> bool:
        """Call ``write(*args, **kwargs)`` and note what the caller was told."""
        try:
            write(*args, **kwargs)
        except missionlab.MissionlabError as exc:
            self.typed[type(exc).__name__] += 1
        except Exception as exc:  # the point: anything untyped is a defect
            self.untyped.append(f"{tag}: {type(exc).__name__}: {exc}")
        else:
            self.acked.append(tag)
            return True
        self.failed.append(tag)
        return False


def run_threads(count: int, target: Callable[[int], None]) -> None:
    threads = [threading.Thread(target=target, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
        assert not thread.is_alive(), "a writer did not finish"


def metadata_of(step: missionlab.PlanStep) -> dict[str, Any]:
    """The metadata the test wrote on a step."""
    assert step.metadata is not None, step
    return step.metadata


def tags_of(items: Sequence[Any], read: Callable[[Any], Any]) -> Counter[Any]:
    return Counter(read(item) for item in items)


# -- a server killed with SIGKILL while 8 threads write --------------------------------------


@pytest.mark.slow
def test_acknowledged_writes_survive_sigkill_rounds(tmp_path: Path) -> None:
    # a token starting with "-" must still reach the server as the --token value
    server = SandboxProcess(tmp_path / "killed.db", token="-" + secrets.token_urlsafe(16)).start()
    client = missionlab.Client(api_key=server.token, base_url=server.url, timeout=5)
    writers = 8
    mission_id = client.missions.create(name="sigkill", execution_mode="external").data.mission_id
    runs = [client.missions.runs.create(mission_id).data.run_id for _ in range(writers)]
    for run_id in runs:
        client.missions.runs.plan.create(
            run_id,
            mission_id=mission_id,
            steps=[{"step_id": "s", "description": "updated by one writer", "sequence": 1}],
        )
    stop = threading.Event()
    outcomes = [Outcomes() for _ in range(writers)]
    step_writes: list[list[tuple[int, bool]]] = [[] for _ in range(writers)]

    def write(i: int) -> None:
        out, run_id, n, pending_key = outcomes[i], runs[i], 0, None
        events, plan = client.missions.runs.events, client.missions.runs.plan
        while not stop.is_set():
            n += 1
            if n % 3 == 0:
                # A failed keyed log is retried with the same key until acknowledged, across
                # the restarts: it must end up stored exactly once.
                key = pending_key or f"w{i}-{n}"
                ok = out.attempt(
                    f"event {key}",
                    events.log,
                    run_id,
                    mission_id=mission_id,
                    type="message",
                    summary=key,
                    idempotency_key=key,
                )
                pending_key = None if ok else key
            elif n % 3 == 1:
                ok = out.attempt(
                    f"step {n}",
                    plan.update_step,
                    "s",
                    mission_id=mission_id,
                    run_id=run_id,
                    metadata={"n": n},
                )
                step_writes[i].append((n, ok))
            else:
                ok = out.attempt(
                    f"run w{i}-{n}", client.missions.runs.create, mission_id, metadata={"tag": f"w{i}-{n}"}
                )
            if not ok:
                time.sleep(0.05)
        while pending_key is not None and not out.attempt(
            f"event {pending_key}",
            events.log,
            run_id,
            mission_id=mission_id,
            type="message",
            summary=pending_key,
            idempotency_key=pending_key,
        ):
            time.sleep(0.1)

    pool = [threading.Thread(target=write, args=(i,)) for i in range(writers)]
    try:
        for thread in pool:
            thread.start()
        for _ in range(3):
            time.sleep(1.0)
            server.kill()
            time.sleep(0.2)
            server.start()
        time.sleep(0.5)
        stop.set()
        for thread in pool:
            thread.join(60)

        all_acked = [tag for out in outcomes for tag in out.acked]
        assert [u for out in outcomes for u in out.untyped] == []
        assert sum(sum(out.typed.values()) for out in outcomes) > 0, "no write met a kill"
        assert len(all_acked) > 100
        for i, run_id in enumerate(runs):
            events = client.missions.runs.events.list(run_id, mission_id=mission_id).fetch_all()
            stored = tags_of(events, lambda e: e.idempotency_key)
            acked = {t.removeprefix("event ") for t in outcomes[i].acked if t.startswith("event")}
            assert {k: n for k, n in stored.items() if n > 1} == {}
            assert acked - set(stored) == set(), "acknowledged events lost"
            assert set(stored) == acked, "every keyed log was eventually acknowledged"
            step = client.missions.runs.plan.get_step_details("s", mission_id=mission_id, run_id=run_id).data
            last_acked = max(n for n, ok in step_writes[i] if ok)
            later_failures = {n for n, ok in step_writes[i] if not ok and n > last_acked}
            assert metadata_of(step)["n"] in {last_acked} | later_failures
        stored_runs = tags_of(
            client.missions.runs.list(mission_id).fetch_all(), lambda r: (r.metadata or {}).get("tag")
        )
        acked_runs = {t.removeprefix("run ") for t in all_acked if t.startswith("run ")}
        failed_runs = {t.removeprefix("run ") for out in outcomes for t in out.failed if t.startswith("run ")}
        assert acked_runs - set(stored_runs) == set(), "acknowledged runs lost"
        assert {t: n for t, n in stored_runs.items() if t is not None and n > 1} == {}
        assert set(stored_runs) - {None} <= acked_runs | failed_runs
    finally:
        stop.set()
        client.close()
        server.stop()


# -- 32 writers at once ----------------------------------------------------------------------


@pytest.mark.slow
def test_32_concurrent_writers_lose_nothing_and_keep_order(tmp_path: Path) -> None:
    writers, rounds = 32, 12
    with (
        Sandbox(db=tmp_path / "writers.db", token=secrets.token_urlsafe(16)) as sandbox,
        sandbox.client() as client,
    ):
        mission_id = client.missions.create(name="writers", execution_mode="external").data.mission_id
        run_id = client.missions.runs.create(mission_id).data.run_id
        client.missions.runs.plan.create(
            run_id,
            mission_id=mission_id,
            steps=[{"step_id": f"w{i}", "description": f"writer {i}", "sequence": i} for i in range(writers)],
        )
        outcomes = [Outcomes() for _ in range(writers)]

        def write(i: int) -> None:
            out, runs = outcomes[i], client.missions.runs
            for k in range(rounds):
                out.attempt(
                    f"event w{i}:{k}",
                    runs.events.log,
                    run_id,
                    mission_id=mission_id,
                    type="message",
                    summary=f"w{i}:{k}",
                    idempotency_key=f"w{i}-{k}",
                    payload={"writer": i, "k": k},
                )
                out.attempt(
                    f"step {k}",
                    runs.plan.update_step,
                    f"w{i}",
                    mission_id=mission_id,
                    run_id=run_id,
                    metadata={"k": k},
                    status="in_progress" if k < rounds - 1 else "completed",
                )
                if k % 4 == 0:
                    out.attempt(f"run w{i}:{k}", runs.create, mission_id, metadata={"tag": f"w{i}:{k}"})

        run_threads(writers, write)
        assert [u for out in outcomes for u in out.untyped] == []
        assert sum((out.typed for out in outcomes), Counter()) == Counter()

        events = client.missions.runs.events.list(run_id, mission_id=mission_id).fetch_all()
        walked = [
            e.event_id for e in client.missions.runs.events.list(run_id, mission_id=mission_id, page_size=7)
        ]
        assert walked == [e.event_id for e in events], "pages and fetch_all disagree"
        summaries = [e.summary for e in events if e.type == "message"]
        assert Counter(summaries) == Counter(f"w{i}:{k}" for i in range(writers) for k in range(rounds))
        for i in range(writers):  # each writer's events in the order it logged them
            mine = [s for s in summaries if s.startswith(f"w{i}:")]
            assert mine == [f"w{i}:{k}" for k in range(rounds)]
        stamps = [e.timestamp for e in events]
        assert stamps == sorted(stamps)
        plan = client.missions.runs.plan.retrieve(run_id, mission_id=mission_id).data
        assert {(s.step_id, s.status, metadata_of(s)["k"]) for s in plan} == {
            (f"w{i}", "completed", rounds - 1) for i in range(writers)
        }
        stored_runs = tags_of(
            client.missions.runs.list(mission_id).fetch_all(), lambda r: (r.metadata or {}).get("tag")
        )
        del stored_runs[None]  # the shared run
        assert stored_runs == Counter(
            t.removeprefix("run ") for out in outcomes for t in out.acked if t.startswith("run ")
        )


# -- the soak, short ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def short_soak(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Any, Path]]:
    db = tmp_path_factory.mktemp("soak") / "soak.db"
    yield soak.run_soak(ops=600, fault_rate=0.33, seed=7, threads=8, db=db), db


@pytest.mark.slow
def test_short_soak_loses_and_duplicates_nothing(short_soak: tuple[Any, Path]) -> None:
    result, _ = short_soak
    assert result.findings.lost == []
    assert result.findings.duplicated == []
    assert result.findings.inconsistent == []
    assert result.tally.untyped_examples == [] and result.untyped == 0
    assert result.tally.unexpected == []
    assert result.tally.bad_reads == []
    # The faults really happened, on both sides of the commit, and some calls failed.
    assert all(result.injected.get(f, 0) > 0 for f in ("connect", "503", "drop", "502"))
    assert result.tally.failed["unacked"] > 0 and result.tally.failed["none"] > 0
    assert result.findings.checked > 200
    assert result.clean


@pytest.mark.slow
def test_soak_check_finds_lost_duplicated_and_phantom_records(
    short_soak: tuple[Any, Path], tmp_path: Path
) -> None:
    result, db = short_soak
    records = {(r.kind, r.tag): r for r in result.tally.records}
    copy = tmp_path / "tampered.db"
    shutil.copy(db, copy)
    store = Store(copy)
    try:
        missions = store.list_missions(1, 10**6)[0]
        present = [
            m
            for m in missions
            if records[("mission", m["name"])].expected() == "present"
            and records[("mission", m["name"])].created == "done"
        ]
        lost, updated = present[0], present[1]
        store.delete_mission(lost["mission_id"])
        store.update_mission(updated["mission_id"], {"description": "not written by the soak"})
        event = next(
            r
            for r in result.tally.records
            if r.kind == "event" and r.created == "done" and r.expected() == "present"
        )
        runs = {
            (run.get("metadata") or {}).get("soak"): run for run in store.list_runs(None, None, 1, 10**6)[0]
        }
        run = runs[event.parent.tag]
        store.record_event(
            run["mission_id"], {"run_id": run["run_id"], "type": "message", "summary": event.tag}
        )
        # A run the client was told failed, and that the server never acted on, appears.
        refused = next(
            r
            for r in result.tally.records
            if r.kind == "run" and r.created == "none" and r.parent.expected() == "present"
        )
        mission_id = next(m["mission_id"] for m in missions if m["name"] == refused.parent.tag)
        store.create_run(mission_id, {"metadata": {"soak": refused.tag}})
    finally:
        store.close()
    findings = ledger.compare(result.tally.records, ledger.read_store(copy))
    assert any(lost["name"] in line and "absent" in line for line in findings.lost)
    assert any(updated["name"] in line and "description" in line for line in findings.lost)
    assert [line for line in findings.duplicated if event.tag in line] != []
    assert any(refused.tag in line and "never committed" in line for line in findings.inconsistent)
