"""Reliability soak: mixed operations through injected faults, then a check of every record.

Starts ``missionlab sandbox serve`` (127.0.0.1, a random token, a temporary
database) in its own process, runs ``--ops`` operations from ``--threads``
threads through a fault layer that fails ``--fault-rate`` of the requests, before
the server sees them or after it committed them (see ``_fault_transport``), stops
the server and reads its database with the sandbox's own store, and compares it
with what the client was told (see ``_soak_ledger``).

    python bench/soak.py [--ops 10000] [--fault-rate 0.33] [--seed 1] [--threads 12]

Prints lost, duplicated, inconsistent records and failures by class, writes the
figures into docs/reliability.md (``--no-report`` to skip) and exits 1 unless
nothing was lost, duplicated or inconsistent, every failure was typed and met an
injected fault (or a state the worker could not know), every read agreed with
what had been acknowledged, and the server itself never answered 5xx.
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import secrets
import shlex
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import httpx
from _fault_transport import AFTER, BEFORE, FaultTransport
from _sandbox_process import SandboxProcess
from _soak_ledger import Findings, compare, read_store
from _soak_worker import Tally
from _soak_workload import SoakWorker

import missionlab

REPORT = Path(__file__).resolve().parent.parent / "docs" / "reliability.md"
BEGIN, END = "<!-- soak figures: begin -->", "<!-- soak figures: end -->"
SHOWN = 8  # examples printed per finding


@dataclass
class SoakResult:
    """Everything a soak measured."""

    ops: int
    threads: int
    fault_rate: float
    seed: int
    seconds: float
    requests: int
    injected: dict[str, int]
    server_errors: dict[int, int]
    tally: Tally
    findings: Findings

    @property
    def untyped(self) -> int:
        return sum(self.tally.untyped.values())

    @property
    def clean(self) -> bool:
        return not (
            self.findings.lost
            or self.findings.duplicated
            or self.untyped
            or self.findings.inconsistent
            or self.tally.unexpected
            or self.tally.bad_reads
            or self.server_errors
        )

    def lines(self) -> list[str]:
        """The figures, one per line (Markdown-friendly)."""
        t, f = self.tally, self.findings
        faults = sum(self.injected.values())
        before = ", ".join(f"{k} {self.injected.get(k, 0)}" for k in BEFORE)
        after = ", ".join(f"{k} {self.injected.get(k, 0)}" for k in AFTER)
        typed = ", ".join(f"{k} {n}" for k, n in t.typed.most_common()) or "none"
        untyped = ", ".join(f"{k} {n}" for k, n in t.untyped.most_common()) or "none"
        lines = [
            f"- operations: {sum(t.ops.values())} from {self.threads} threads in "
            f"{self.seconds:.0f} s; {len(t.ops)} kinds",
            f"- requests: {self.requests}; faults injected: {faults} "
            f"({faults / max(self.requests, 1):.0%}); before the server: {before}; "
            f"after it committed: {after}; **the server's own 5xx answers: "
            f"{sum(self.server_errors.values())}**",
            f"- acknowledged: {t.acknowledged}; failed: {sum(t.failed.values())} (server never "
            f"acted {t.failed['none']}, committed but the answer was lost {t.failed['unacked']}, "
            f"unknown {t.failed['maybe']})",
            f"- records checked against the server: {f.checked}",
            f"- **lost: {len(f.lost)}**",
            f"- **duplicated: {len(f.duplicated)}**",
            f"- **inconsistent records: {len(f.inconsistent)}** (neither lost nor duplicated, "
            "but not what the client was told)",
            f"- typed failures: {sum(t.typed.values())} ({typed}); **unexplained: "
            f"{len(t.unexpected)}** (met no injected fault where success was expected)",
            f"- **untyped failures: {self.untyped}** ({untyped})",
            f"- **bad reads: {len(t.bad_reads)}** (a read that contradicts acknowledged writes "
            "or lists an item twice)",
        ]
        for title, items in (
            ("lost", f.lost),
            ("duplicated", f.duplicated),
            ("inconsistent", f.inconsistent),
            ("unexplained", t.unexpected),
            ("untyped", t.untyped_examples),
            ("bad read", t.bad_reads),
        ):
            lines += [f"  - {title}: {item}" for item in items[:SHOWN]]
        return lines


def run_soak(*, ops: int, fault_rate: float, seed: int, threads: int, db: Path | None = None) -> SoakResult:
    """Run the soak against a sandbox of its own, and check the server's records."""
    with tempfile.TemporaryDirectory(prefix="missionlab-soak-") as tmp:
        path = db or Path(tmp) / "soak.db"
        server = SandboxProcess(path, token=secrets.token_urlsafe(16))
        transport = FaultTransport(
            httpx.HTTPTransport(limits=httpx.Limits(max_connections=threads * 2)), rate=fault_rate, seed=seed
        )
        started = time.perf_counter()
        with (
            server,
            missionlab.Client(api_key=server.token, base_url=server.url, transport=transport) as client,
        ):
            workers = [
                SoakWorker(i, client, transport, ops // threads + (i < ops % threads), seed)
                for i in range(threads)
            ]
            pool = [threading.Thread(target=w.run, name=f"soak-{w.index}") for w in workers]
            for thread in pool:
                thread.start()
            for thread in pool:
                thread.join()
        if crashed := [w.crash for w in workers if w.crash]:
            raise RuntimeError(f"{len(crashed)} soak worker(s) crashed; the first:\n{crashed[0]}")
        seconds = time.perf_counter() - started
        tally = Tally()
        for worker in workers:
            tally.merge(worker.tally)
        findings = compare(tally.records, read_store(path))
    return SoakResult(
        ops,
        threads,
        fault_rate,
        seed,
        seconds,
        transport.requests,
        dict(transport.injected),
        dict(transport.server_errors),
        tally,
        findings,
    )


def write_report(result: SoakResult, command: str, path: Path = REPORT) -> None:
    """Replace the figures between the markers of ``path`` with this run's."""
    machine = f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    block = "\n".join(
        [
            BEGIN,
            f"`{command}` on {datetime.date.today().isoformat()} ({machine}), "
            f"missionlab {missionlab.__version__}:",
            "",
            *result.lines(),
            END,
        ]
    )
    text = path.read_text() if path.exists() else f"# Reliability\n\n{BEGIN}\n{END}\n"
    head, _, rest = text.partition(BEGIN)
    _, _, tail = rest.partition(END)
    path.write_text(head + block + tail)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--ops", type=int, default=10_000, help="operations (default 10000)")
    parser.add_argument(
        "--fault-rate", type=float, default=0.33, help="share of requests that meet a fault (default 0.33)"
    )
    parser.add_argument("--seed", type=int, default=1, help="seed of the faults and the workload")
    parser.add_argument("--threads", type=int, default=12, help="worker threads (default 12)")
    parser.add_argument("--db", type=Path, help="keep the sandbox's database in this file")
    parser.add_argument(
        "--no-report", action="store_true", help="do not write the figures into docs/reliability.md"
    )
    args = parser.parse_args(argv)
    if args.db is not None and args.db.exists():
        parser.error(f"--db {args.db} exists: the soak needs a database of its own")
    result = run_soak(
        ops=args.ops, fault_rate=args.fault_rate, seed=args.seed, threads=args.threads, db=args.db
    )
    command = shlex.join(["python", "bench/soak.py", *(argv if argv is not None else sys.argv[1:])])
    print(f"{command}\n" + "\n".join(result.lines()))
    if not args.no_report:
        write_report(result, command)
    print(
        "OK: nothing lost, duplicated or inconsistent; every failure typed and explained"
        if result.clean
        else "FAILED: see the lines above"
    )
    return 0 if result.clean else 1


if __name__ == "__main__":
    sys.exit(main())
