"""Fleet questions (issue 25) from the local history and from the API, side by side.

    python bench/fleet_queries.py [--scale 1] [--json FILE] [--keep DIR] [--only history]

Seeds a sandbox on a temp file with the seeded fleet of tests/fleet_seed.py (planted error
families, tool calls with latencies, tokens and cost) at 100,000 runs and about 1.2 million
events over 35 days (``--scale`` shrinks it), syncs a history from it, then answers two
questions over the last 30 days, each side in its own process (for its peak memory):

- ``tool_stats``: per tool, calls, error rate, p50/p95/p99 latency, tokens and cost;
  from the history (DuckDB streams the tool events, run by run) and from the API
  (``fetch_frames`` of every run and event, then the same ``tool_stats``);
- ``failures``: failure clusters; from the history (DuckDB reads the failed runs, their
  steps and their tool and error events) and from the API (``fetch_frames(steps=True)``:
  every run, event and plan, then the same ``failures``).

``--keep DIR`` keeps the seeded sandbox and the synced history in DIR and reuses them when
DIR already holds them (made at the same scale), so a second run measures the questions
only; ``--only history`` leaves the API sides out (for profiling; the targets need both).

Targets: each history side under 2 s and 500 MB, and >= 10x faster than its API side; both
sides must give the same answer (checked: a digest of each answer is compared).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import _harness as h

sys.path.insert(0, str(h.ROOT))
from tests.fleet_seed import ANCHOR, seed_fleet

QUERY = """
import hashlib, json, sys, time
started = time.perf_counter()
question, side, target, since = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
import pandas as pd
import missionlab
now = pd.Timestamp("2026-11-28", tz="UTC")
if side == "history":
    source = missionlab.History(target)
else:
    token, base = target.split(" ")
    client = missionlab.Client(api_key=token, base_url=base, timeout=120)
    source = missionlab.fetch_frames(client, steps=question == "failures", progress=False)
if question == "tool_stats":
    answer = missionlab.tool_stats(source, since=since)
    digest = answer.round(9).to_csv(index=False)
    rows = len(answer)
else:
    found = missionlab.failures(source, since=since, now=now)
    answer = found.clusters.drop(columns="run_ids")
    digest = answer.to_csv(index=False) + found.runs.to_csv(index=False)
    rows = len(answer)
seconds = time.perf_counter() - started
peak = next(int(line.split()[1]) / 1024 for line in open("/proc/self/status") if line.startswith("VmHWM:"))
print(json.dumps({"seconds": seconds, "peak_mib": peak, "rows": rows,
                  "digest": hashlib.sha256(digest.encode()).hexdigest()}))
"""


def query(question: str, side: str, target: str, since: str) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, "-c", QUERY, question, side, target, since],
        check=True,
        capture_output=True,
        text=True,
    )
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0, help="share of 100,000 runs (default 1)")
    parser.add_argument("--json", help="also write the results to this JSON file")
    parser.add_argument("--keep", help="keep the seeded sandbox and history here, and reuse them")
    parser.add_argument("--only", choices=["history"], help="measure the history side only")
    args = parser.parse_args()
    runs = int(100_000 * args.scale)
    report = h.Report("fleet_queries", "Fleet questions: history vs the API", vars(args))
    import missionlab
    from missionlab.sandbox import Store

    since = (ANCHOR - timedelta(days=30)).isoformat()
    with contextlib.ExitStack() as stack:
        if args.keep:
            tmp = Path(args.keep)
            tmp.mkdir(parents=True, exist_ok=True)
        else:
            tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="missionlab-fleet-")))
        db, path, made = tmp / "sandbox.db", tmp / "history", tmp / "seeded.json"
        kept = made.exists() and json.loads(made.read_text()).get("runs") == runs
        if kept:
            report.note(f"reused the seeded sandbox and history of {tmp} ({runs:,} runs)")
        else:
            for old in (db, made):
                old.unlink(missing_ok=True)
            shutil.rmtree(path, ignore_errors=True)
            started = time.perf_counter()
            fleet = seed_fleet(runs, seed=25, days=35, failed_share=0.3)
            store = Store(db)
            fleet.load(store)
            store.close()
            report.note(
                f"seeded {len(fleet.runs):,} runs, {len(fleet.steps):,} steps and {len(fleet.events):,} "
                f"events ({len(fleet.family):,} failed) in {time.perf_counter() - started:.0f} s"
            )
            del fleet
        server = h.Server(db)
        try:
            if not kept:
                client = missionlab.Client(api_key=server.token, base_url=server.base, timeout=120)
                synced = missionlab.history(client, path).sync(progress=False)
                report.note(f"first sync of the history: {synced.seconds:.0f} s")
                made.write_text(json.dumps({"runs": runs}))
            rows, checks = [], []
            for question in ("tool_stats", "failures"):
                mine = query(question, "history", str(path), since)
                report.note(f"{question} from the history: {mine['seconds']:.2f} s")
                rows.append(
                    [
                        question,
                        "history (DuckDB over the Delta tables)",
                        mine["seconds"],
                        mine["peak_mib"],
                        mine["rows"],
                    ]
                )
                checks += [
                    [f"{question} from the history < 2 s", f"{mine['seconds']:.2f} s", mine["seconds"] < 2],
                    [
                        f"{question} peak memory < 500 MB",
                        f"{mine['peak_mib']:.0f} MiB",
                        mine["peak_mib"] < 500,
                    ],
                ]
                if args.only == "history":
                    continue
                theirs = query(question, "api", f"{server.token} {server.base}", since)
                report.note(f"{question} from the API: {theirs['seconds']:.2f} s")
                speedup = theirs["seconds"] / mine["seconds"]
                rows.append(
                    [question, "API (fetch_frames)", theirs["seconds"], theirs["peak_mib"], theirs["rows"]]
                )
                same = mine["digest"] == theirs["digest"]
                checks += [
                    [f"{question} >= 10x faster than from the API", f"{speedup:.0f}x", speedup >= 10],
                    [f"{question}: same answer on both sides", "yes" if same else "NO", same],
                ]
            report.table(
                f"Last 30 days (since {since[:10]})",
                ["question", "side", "seconds", "peak MiB", "rows"],
                rows,
            )
            report.table("Targets", ["target", "measured", "met"], checks)
        finally:
            server.stop()
    report.save(args.json)
    return 0 if all(row[2] for row in checks) else 1


if __name__ == "__main__":
    sys.exit(main())
