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
sides must give the same answer (checked: the frames are compared, numbers to 1e-9 relative,
as sums taken in another order differ in their last digits). The seconds timed are the
call's (from the source to the answer, the first import of DuckDB included), in a process
that has imported pandas and missionlab; the table also gives its CPU seconds (of every
thread) and the whole process's seconds (Python's start and imports included). Say the load
average with them: the CPU seconds are what a busy machine does not change.
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
import json, os, sys, time
started = time.perf_counter()
question, side, target, since, out = sys.argv[1:6]
import pandas as pd
import missionlab
now = pd.Timestamp("2026-11-28", tz="UTC")
called, cpu = time.perf_counter(), time.process_time()
if side == "history":
    source = missionlab.History(target)
else:
    token, base = target.split(" ")
    client = missionlab.Client(api_key=token, base_url=base, timeout=120)
    source = missionlab.fetch_frames(client, steps=question == "failures", progress=False)
if question == "tool_stats":
    answer = missionlab.tool_stats(source, since=since)
    rows = len(answer)
else:
    found = missionlab.failures(source, since=since, now=now)
    answer = found.clusters.drop(columns="run_ids")
    rows = len(answer)
call, cpu = time.perf_counter() - called, time.process_time() - cpu
seconds = time.perf_counter() - started
answer.to_pickle(out)
if question == "failures":
    found.runs.to_pickle(out + ".runs")
peak = next(int(line.split()[1]) / 1024 for line in open("/proc/self/status") if line.startswith("VmHWM:"))
print(json.dumps({"seconds": seconds, "call": call, "cpu": cpu, "peak_mib": peak, "rows": rows}))
"""


def same(question: str, mine: str, theirs: str) -> bool:
    """Whether both sides answered alike (numbers to 1e-9 relative: sums in other orders)."""
    import pandas as pd

    pairs = [(mine, theirs)] + ([(mine + ".runs", theirs + ".runs")] if question == "failures" else [])
    try:
        for left, right in pairs:
            pd.testing.assert_frame_equal(pd.read_pickle(left), pd.read_pickle(right), rtol=1e-9)
    except AssertionError as error:
        print(f"{question}: the answers differ: {str(error)[:400]}", file=sys.stderr)
        return False
    return True


def query(question: str, side: str, target: str, since: str, answer: Path) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, "-c", QUERY, question, side, target, since, str(answer)],
        capture_output=True,
        text=True,
    )
    if out.returncode:
        raise SystemExit(f"{question} from the {side} failed:\n{out.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def _figures(got: dict[str, Any]) -> list[Any]:
    return [got["call"], got["cpu"], got["seconds"], got["peak_mib"], got["rows"]]


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
                mine = query(question, "history", str(path), since, tmp / f"{question}-history.pkl")
                report.note(
                    f"{question} from the history: {mine['call']:.2f} s ({mine['cpu']:.2f} s CPU), "
                    f"{mine['seconds']:.2f} s with Python's start and imports"
                )
                rows.append([question, "history (DuckDB over the Parquet files)", *_figures(mine)])
                checks += [
                    [f"{question} from the history < 2 s", f"{mine['call']:.2f} s", mine["call"] < 2],
                    [
                        f"{question} peak memory < 500 MB",
                        f"{mine['peak_mib']:.0f} MiB",
                        mine["peak_mib"] < 500,
                    ],
                ]
                if args.only == "history":
                    continue
                theirs = query(
                    question, "api", f"{server.token} {server.base}", since, tmp / f"{question}-api.pkl"
                )
                report.note(f"{question} from the API: {theirs['call']:.2f} s ({theirs['cpu']:.2f} s CPU)")
                rows.append([question, "API (fetch_frames)", *_figures(theirs)])
                speedup = theirs["call"] / mine["call"]
                alike = same(question, str(tmp / f"{question}-history.pkl"), str(tmp / f"{question}-api.pkl"))
                checks += [
                    [f"{question} >= 10x faster than from the API", f"{speedup:.1f}x", speedup >= 10],
                    [f"{question}: same answer on both sides", "yes" if alike else "NO", alike],
                ]
            report.table(
                f"Last 30 days (since {since[:10]})",
                ["question", "side", "call s", "call CPU s", "with start s", "peak MiB", "rows"],
                rows,
            )
            report.table("Targets", ["target", "measured", "met"], checks)
        finally:
            server.stop()
    report.save(args.json)
    return 0 if all(row[2] for row in checks) else 1


if __name__ == "__main__":
    sys.exit(main())
