"""Fleet questions (issue 25) from the local history and from the API, side by side.

    python bench/fleet_queries.py [--scale 1] [--json FILE]

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

Targets: each history side under 2 s and 500 MB, and >= 10x faster than its API side; both
sides must give the same answer (checked: a digest of each answer is compared).
"""

from __future__ import annotations

import argparse
import json
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
    args = parser.parse_args()
    runs = int(100_000 * args.scale)
    report = h.Report("fleet_queries", "Fleet questions: history vs the API", vars(args))
    import missionlab
    from missionlab.sandbox import Store

    since = (ANCHOR - timedelta(days=30)).isoformat()
    with tempfile.TemporaryDirectory(prefix="missionlab-fleet-") as tmp:
        db = Path(tmp) / "sandbox.db"
        started = time.perf_counter()
        fleet = seed_fleet(runs, seed=25, days=35, failed_share=0.3)
        store = Store(db)
        fleet.load(store)
        store.close()
        report.note(
            f"seeded {len(fleet.runs):,} runs, {len(fleet.steps):,} steps and {len(fleet.events):,} events "
            f"({len(fleet.family):,} failed) in {time.perf_counter() - started:.0f} s"
        )
        del fleet
        server = h.Server(db)
        try:
            client = missionlab.Client(api_key=server.token, base_url=server.base, timeout=120)
            path = Path(tmp) / "history"
            synced = missionlab.history(client, path).sync(progress=False)
            report.note(f"first sync of the history: {synced.seconds:.0f} s")
            rows, checks = [], []
            for question in ("tool_stats", "failures"):
                mine = query(question, "history", str(path), since)
                theirs = query(question, "api", f"{server.token} {server.base}", since)
                speedup = theirs["seconds"] / mine["seconds"]
                for side, got in (
                    ("history (DuckDB over the Delta tables)", mine),
                    ("API (fetch_frames)", theirs),
                ):
                    rows.append([question, side, got["seconds"], got["peak_mib"], got["rows"]])
                same = mine["digest"] == theirs["digest"]
                checks += [
                    [f"{question} from the history < 2 s", f"{mine['seconds']:.2f} s", mine["seconds"] < 2],
                    [
                        f"{question} peak memory < 500 MB",
                        f"{mine['peak_mib']:.0f} MiB",
                        mine["peak_mib"] < 500,
                    ],
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
