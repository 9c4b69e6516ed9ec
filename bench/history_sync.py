"""The local history (missionlab.history) against fetching from the API, side by side.

    python bench/history_sync.py [--scale 1] [--repeat 1] [--json FILE]

Seeds a sandbox on a temp file with 10 missions, 100,000 runs (6 plan steps each) and
1,000,000 events over 35 days (``--scale`` shrinks all of it), then:

1. the raw floor of a first sync: httpx with 8 requests in flight fetching the same
   pages (runs, events) and every run's plan, parsed with orjson (no storage);
   then a first sync into an empty history folder (time, requests, bytes received),
   and its time as a ratio of the floor's (issue 24's target: <= 1.3x); with ``--repeat N``
   the floor and a first sync (each into a new folder) alternate N times, in an order
   rotated each round, and the ratio is the median of the rounds' (the machine's load
   average is printed with each round); the CPU seconds of both sides (this process, all
   its threads, plus the server) too, a ratio that other programs on a shared machine
   move less than wall time; requests and bytes are counted as they stream through the
   client's own transport;
2. a first sync stopped (as by Ctrl-C) at 60% of its plan requests, then resumed by
   another sync: their time and requests together against the uninterrupted first sync's
   (target: <= 1.2x; a stop loses at most the batch of 5,000 runs being fetched);
3. 1% new runs (with their plans and events) written into the sandbox, and a second sync:
   its bytes and time as a share of the first sync's (targets: <= 2% and <= 5%);
4. a fleet query, per-step p50/p95 durations by mission over the last 30 days: from the
   history (DuckDB over the files) and from the API (runs, then every run's plan, 8 at a
   time, framed with missionlab.frames and grouped with pandas), each in its own process
   for its peak memory (targets: the history >= 10x faster, under 500 MB).

The history must hold exactly what the sandbox holds after each sync (checked).
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import _harness as h

STEPS_PER_RUN = 6
STEP_NAMES = [
    "Parse the request",
    "Look up the account",
    "Search the knowledge base",
    "Call the main tool",
    "Draft the answer",
    "Deliver",
]


def seed(
    store: Any,
    *,
    runs: int,
    events: int,
    missions: int = 10,
    days: int = 35,
    start_index: int = 0,
    newest: bool = False,
    seed: int = 0,
) -> dict[str, Any]:
    """Runs with plans and events; ``newest`` puts them after everything seeded before."""
    rng = random.Random(seed)
    mission_rows = [h.mission_row(random.Random(i), i) for i in range(missions)]
    if start_index == 0:
        store.bulk_load("missions", mission_rows)
    run_rows, step_rows, event_rows = [], [], []
    per_run = max(1, events // max(runs, 1))
    for i in range(runs):
        mission = mission_rows[(start_index + i) % missions]["mission_id"]
        offset = rng.uniform(0, 3600) if newest else rng.uniform(3600, days * 86400)
        started = (
            h.ANCHOR + timedelta(days=1) - timedelta(seconds=offset)
            if newest
            else (h.ANCHOR - timedelta(seconds=offset))
        )
        run_id = h.new_id(rng)
        status = rng.choice(h.RUN_STATUSES)
        t = started
        for k in range(STEPS_PER_RUN):
            length = timedelta(seconds=rng.lognormvariate(2.5 + 0.3 * k, 0.5))
            step = {
                "run_id": run_id,
                "step_id": f"step-{k}",
                "sequence": k + 1,
                "description": STEP_NAMES[k],
                "status": "completed",
                "started_at": h.stamp(t),
                "completed_at": h.stamp(t + length),
            }
            if status == "failed" and k == STEPS_PER_RUN - 2:
                step["status"] = "failed"
            step_rows.append(step)
            t += length
        for k in range(per_run):
            event_rows.append(
                h.event_row(rng, mission, run_id, k, started + (t - started) * (k / per_run), "agent-1")
            )
        run = {
            "run_id": run_id,
            "mission_id": mission,
            "status": status,
            "started_at": h.stamp(started),
            "updated_at": h.stamp(t),
            "input": {"request_id": f"REQ-{start_index + i}"},
        }
        if status in ("succeeded", "failed", "cancelled"):
            run["finished_at"] = h.stamp(t)
        run_rows.append(run)
    run_rows.sort(key=lambda r: r["started_at"])
    event_rows.sort(key=lambda e: e["timestamp"])
    store.bulk_load("runs", run_rows)
    store.bulk_load("steps", step_rows)
    store.bulk_load("events", event_rows)
    return {"runs": runs, "events": len(event_rows), "steps": len(step_rows)}


class Interrupted(BaseException):
    """Stands for Ctrl-C (or a killed process) in the middle of a sync."""


class Counting:
    """A client of the server whose requests and received bytes are counted as they stream
    through the client's own transport (nothing is read twice or rebuilt); with
    ``stop_at_plan=N``, the N-th plan request raises :class:`Interrupted` instead."""

    def __init__(self, server: h.Server, *, stop_at_plan: int | None = None) -> None:
        import threading

        import httpx

        import missionlab
        from missionlab.client._client import DEFAULT_LIMITS
        from missionlab.client._transport import sync_transport

        outer = self
        inner = sync_transport(server.base, DEFAULT_LIMITS)

        class Body(httpx.SyncByteStream):
            def __init__(self, stream: Any) -> None:
                self.stream = stream

            def __iter__(self) -> Any:
                for chunk in self.stream:
                    with outer.lock:
                        outer.bytes += len(chunk)
                    yield chunk

            def close(self) -> None:
                self.stream.close()

        class Transport(httpx.BaseTransport):
            def handle_request(self, request: httpx.Request) -> httpx.Response:
                with outer.lock:
                    if request.url.path.endswith("/plan"):
                        outer.plans += 1
                        if outer.plans == stop_at_plan:
                            raise Interrupted
                    outer.requests += 1
                response = inner.handle_request(request)
                response.stream = Body(response.stream)
                return response

            def close(self) -> None:
                inner.close()

        self.lock = threading.Lock()
        self.requests = self.bytes = self.plans = 0
        self.client = missionlab.Client(
            api_key=server.token, base_url=server.base, transport=Transport(), timeout=120
        )

    def reset(self) -> None:
        self.requests = self.bytes = self.plans = 0


QUERY = """
import json, sys, time
started = time.perf_counter()
side, target = sys.argv[1], sys.argv[2]
since = "2026-10-29"
if side == "history":
    import missionlab
    stats = missionlab.History(target).step_stats(since=since)
    result = stats[["mission_id", "step_id", "median_s", "p95_s"]]
else:
    import missionlab
    from concurrent.futures import ThreadPoolExecutor
    import pandas as pd
    from missionlab.frames import steps_frame
    token, base = target.split(" ")
    client = missionlab.Client(api_key=token, base_url=base, timeout=120)
    runs = client.missions.runs.list_runs(page_size=1000).fetch_all(progress=False)
    runs = [r for r in runs if r.started_at >= pd.Timestamp(since, tz="UTC")]
    plan = client.missions.runs.plan
    def steps(run):
        return [{**s.model_dump(mode="json"), "mission_id": run.mission_id}
                for s in plan.retrieve(run.run_id, mission_id=run.mission_id).data]
    with ThreadPoolExecutor(8) as pool:
        rows = [s for part in pool.map(steps, runs) for s in part]
    frame = steps_frame(rows)
    frame["mission_id"] = [r["mission_id"] for r in rows] if False else frame["run_id"].map(
        {r.run_id: r.mission_id for r in runs})
    done = frame[frame["status"].isin(["completed", "failed"]) & ~frame["is_running"]]
    grouped = done.groupby(["mission_id", "step_id"], observed=True)["duration_s"]
    result = pd.DataFrame({"median_s": grouped.median(), "p95_s": grouped.quantile(0.95)}
                          ).reset_index()
seconds = time.perf_counter() - started
# VmHWM starts afresh at exec (ru_maxrss would report the big parent's peak)
peak = next(int(line.split()[1]) / 1024 for line in open("/proc/self/status") if line.startswith("VmHWM:"))
print(json.dumps({"seconds": seconds, "peak_mib": peak, "rows": len(result),
                  "p50_sum": float(result["median_s"].sum())}))
"""


def query(side: str, target: str) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, "-c", QUERY, side, target], check=True, capture_output=True, text=True
    )
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def raw_floor(server: h.Server) -> dict[str, Any]:
    """What a first sync must fetch, fetched as fast as plain httpx x8 + orjson can:
    every page of runs and events (1,000 a page) and every run's plan."""
    from concurrent.futures import ThreadPoolExecutor

    import httpx
    import orjson

    started = time.perf_counter()
    requests = itertools.count()
    with (
        httpx.Client(
            base_url=server.base, headers=server.headers, timeout=120, limits=httpx.Limits(max_connections=8)
        ) as http,
        ThreadPoolExecutor(8) as pool,
    ):

        def get(path: str, params: dict[str, Any] | None = None) -> Any:
            for attempt in range(3):  # a kept-alive connection the server closed meanwhile: again
                next(requests)
                try:
                    response = http.get(path, params=params)
                    break
                except (httpx.RemoteProtocolError, httpx.ConnectError):
                    if attempt == 2:
                        raise
            response.raise_for_status()
            return orjson.loads(response.content)

        def pages(path: str) -> list[Any]:
            first = get(path, {"page[number]": 1, "page[size]": 1000})
            rest = pool.map(
                lambda n: get(path, {"page[number]": n, "page[size]": 1000}),
                range(2, first["meta"]["total_pages"] + 1),
            )
            return [item for page in [first, *rest] for item in page["data"]]

        runs = pages("/ai/missions/runs")
        events = pages("/ai/missions/events")
        plans = list(
            pool.map(lambda r: get(f"/ai/missions/{r['mission_id']}/runs/{r['run_id']}/plan")["data"], runs)
        )
    return {
        "seconds": time.perf_counter() - started,
        "requests": next(requests),
        "runs": len(runs),
        "events": len(events),
        "plans": len(plans),
        "steps": sum(map(len, plans)),
    }


def cpu_seconds(server: h.Server) -> tuple[float, float]:
    """CPU seconds used so far by this process (all its threads) and by the server: on a
    shared machine the wall time of either side also counts what other programs take."""
    import resource

    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime, server.cpu_seconds()


def interrupted_first_sync(
    server: h.Server, folder: Path, *, stop_at_plan: int
) -> tuple[dict[str, Any], dict[str, Any]]:
    """A first sync stopped (as by Ctrl-C) at its ``stop_at_plan``-th plan request, then a
    sync that resumes it: the seconds and the requests (and plan requests) counted on the wire
    of each part. The folder then holds what the server holds (checked)."""
    import missionlab

    stopped = Counting(server, stop_at_plan=stop_at_plan)
    started = time.perf_counter()
    try:
        missionlab.history(stopped.client, folder).sync(progress=False)
    except Interrupted:
        pass
    else:
        raise AssertionError(f"the sync made fewer than {stop_at_plan} plan requests")
    cut = {"seconds": time.perf_counter() - started, "requests": stopped.requests, "plans": stopped.plans - 1}
    stopped.client.close()
    resuming = Counting(server)
    history = missionlab.history(resuming.client, folder)
    report = history.sync(progress=False)
    check_complete(history, server)
    resuming.client.close()
    return cut, {"seconds": report.seconds, "requests": resuming.requests, "plans": resuming.plans}


def check_complete(history: Any, server: h.Server) -> None:
    """The history holds what the server holds: runs, events and plan steps, each once."""
    import httpx

    with httpx.Client(base_url=server.base, headers=server.headers, timeout=60) as http:

        def total(path: str) -> int:
            return int(http.get(path, params={"page[size]": 1}).json()["meta"]["total_results"])

        want = {"runs": total("/ai/missions/runs"), "events": total("/ai/missions/events")}
    have = history.sql(
        "SELECT (SELECT count(*) FROM runs) AS runs, (SELECT count(DISTINCT "
        "run_id) FROM runs) AS run_ids, (SELECT count(*) FROM events) AS "
        "events, (SELECT count(DISTINCT event_id) FROM events) AS event_ids"
    )
    row = have.iloc[0]
    assert row["runs"] == row["run_ids"] == want["runs"], (dict(row), want)
    assert row["events"] == row["event_ids"] == want["events"], (dict(row), want)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--scale", type=float, default=1.0, help="share of 100,000 runs and 1,000,000 events (default 1)"
    )
    parser.add_argument(
        "--repeat", type=int, default=1, help="rounds of the floor and a first sync, alternating (default 1)"
    )
    parser.add_argument("--json", help="also write the results to this JSON file")
    args = parser.parse_args()
    runs, events = int(100_000 * args.scale), int(1_000_000 * args.scale)
    stop_at = max(2, int(runs * 0.6))  # an interrupted first sync stops at 60% of its plans
    report = h.Report("history_sync", "Local history vs the API", vars(args))
    import missionlab
    from missionlab.sandbox import Store

    with tempfile.TemporaryDirectory(prefix="missionlab-history-") as tmp:
        db = Path(tmp) / "sandbox.db"
        store = Store(db)
        started = time.perf_counter()
        seeded = seed(store, runs=runs, events=events)
        store.close()
        report.note(
            f"seeded {seeded['runs']:,} runs, {seeded['steps']:,} steps and "
            f"{seeded['events']:,} events in {time.perf_counter() - started:.0f} s"
        )
        server = h.Server(db)
        try:
            rounds: list[dict[str, Any]] = []
            for number in range(args.repeat):
                counting = Counting(server)
                history = missionlab.history(counting.client, Path(tmp) / f"history-{number}")
                done: dict[str, Any] = {"load": os.getloadavg()[0]}
                for side in ("floor", "sync") if number % 2 == 0 else ("sync", "floor"):
                    cpu = cpu_seconds(server)
                    if side == "floor":
                        done["floor"] = raw_floor(server)
                    else:
                        done["sync"] = history.sync(progress=False)
                        done["bytes"], done["requests"] = counting.bytes, counting.requests
                    done[f"{side}_cpu"] = [b - a for a, b in zip(cpu, cpu_seconds(server), strict=True)]
                ratio = done["sync"].seconds / done["floor"]["seconds"]
                cpu_ratio = sum(done["sync_cpu"]) / sum(done["floor_cpu"])
                report.note(
                    f"round {number + 1}: raw floor (httpx x8 + orjson, no storage) "
                    f"{done['floor']['seconds']:.1f} s, first sync {done['sync'].seconds:.1f} s: "
                    f"{ratio:.2f}x (load average {done['load']:.1f} at its start); CPU seconds "
                    f"(client + server) {sum(done['floor_cpu']):.1f} and {sum(done['sync_cpu']):.1f}: "
                    f"{cpu_ratio:.2f}x"
                )
                rounds.append({**done, "ratio": ratio, "cpu_ratio": cpu_ratio})
                if number < args.repeat - 1:
                    counting.client.close()
                    shutil.rmtree(Path(tmp) / f"history-{number}")
            floor = rounds[-1]["floor"]
            report.note(
                f"the floor fetched {floor['requests']:,} requests for {floor['runs']:,} runs, "
                f"{floor['events']:,} events and {floor['steps']:,} plan steps"
            )
            first = rounds[-1]["sync"]
            first_bytes, first_requests = rounds[-1]["bytes"], rounds[-1]["requests"]
            check_complete(history, server)
            cut, resumed = interrupted_first_sync(server, Path(tmp) / "interrupted", stop_at_plan=stop_at)
            store = Store(db)
            added = seed(
                store,
                runs=max(1, runs // 100),
                events=max(1, events // 100),
                start_index=runs,
                newest=True,
                seed=1,
            )
            store.close()
            counting.reset()
            second = history.sync(progress=False)
            check_complete(history, server)
            report.table(
                "Syncs",
                ["sync", "seconds", "requests", "MiB received", "new runs", "new events", "plans"],
                [
                    [
                        "first",
                        first.seconds,
                        first_requests,
                        h.mib(first_bytes),
                        first.new_runs,
                        first.new_events,
                        first.plans,
                    ],
                    [
                        f"second (+{added['runs']:,} runs)",
                        second.seconds,
                        counting.requests,
                        h.mib(counting.bytes),
                        second.new_runs,
                        second.new_events,
                        second.plans,
                    ],
                ],
            )
            byte_share = counting.bytes / first_bytes
            time_share = second.seconds / first.seconds
            history_query = query("history", str(history.path))
            api_query = query("api", f"{server.token} {server.base}")
        finally:
            server.stop()
    speedup = api_query["seconds"] / history_query["seconds"]
    floor_ratio = statistics.median(r["ratio"] for r in rounds)
    cpu_ratio = statistics.median(r["cpu_ratio"] for r in rounds)
    report.table(
        "First sync against the raw floor (same pages and plans; last round)",
        ["side", "seconds", "CPU s (client)", "CPU s (server)", "requests", "runs", "events", "plans"],
        [
            [
                "raw floor: httpx x8 + orjson, no storage",
                floor["seconds"],
                *rounds[-1]["floor_cpu"],
                floor["requests"],
                floor["runs"],
                floor["events"],
                floor["plans"],
            ],
            [
                "missionlab first sync into Delta tables",
                first.seconds,
                *rounds[-1]["sync_cpu"],
                first_requests,
                first.new_runs,
                first.new_events,
                first.plans,
            ],
        ],
    )
    report.table(
        "Fleet query: per-step p50/p95 by mission, last 30 days",
        ["side", "seconds", "peak MiB", "rows"],
        [
            [
                "history (DuckDB over the Delta tables)",
                history_query["seconds"],
                history_query["peak_mib"],
                history_query["rows"],
            ],
            ["API (runs + plans, pandas)", api_query["seconds"], api_query["peak_mib"], api_query["rows"]],
        ],
    )
    same = (
        abs(history_query["p50_sum"] - api_query["p50_sum"]) < 1e-6 * max(1.0, abs(api_query["p50_sum"]))
        and history_query["rows"] == api_query["rows"]
    )
    resumed_share = (cut["seconds"] + resumed["seconds"]) / first.seconds
    resumed_requests = (cut["requests"] + resumed["requests"]) / first_requests
    report.table(
        f"A first sync interrupted at its {stop_at:,}th plan request, then resumed",
        ["part", "seconds", "requests", "plans"],
        [
            ["until interrupted", cut["seconds"], cut["requests"], cut["plans"]],
            ["the sync that resumes it", resumed["seconds"], resumed["requests"], resumed["plans"]],
            ["uninterrupted first sync", first.seconds, first_requests, first.plans],
        ],
    )
    report.table(
        "Targets",
        ["target", "measured", "met"],
        [
            [
                f"first sync <= 1.3x the raw httpx x8 floor (issue 24; median of {len(rounds)})",
                f"{floor_ratio:.2f}x",
                floor_ratio <= 1.3,
            ],
            [
                "... in CPU seconds, client + server (median)",
                f"{cpu_ratio:.2f}x",
                cpu_ratio <= 1.3,
            ],
            [
                "interrupted + resumed first sync <= 1.2x the uninterrupted one's time",
                f"{resumed_share:.2f}x (requests {resumed_requests:.2f}x)",
                resumed_share <= 1.2,
            ],
            ["second sync bytes <= 2% of the first", f"{byte_share:.2%}", byte_share <= 0.02],
            ["second sync time <= 5% of the first", f"{time_share:.2%}", time_share <= 0.05],
            ["fleet query >= 10x faster from the history", f"{speedup:.0f}x", speedup >= 10],
            [
                "fleet query peak memory < 500 MB",
                f"{history_query['peak_mib']:.0f} MiB",
                history_query["peak_mib"] * 2**20 < 500e6,
            ],
            ["same answer on both sides", "yes" if same else "NO", same],
        ],
    )
    for name, value in {
        "byte_share": byte_share,
        "time_share": time_share,
        "query_speedup": speedup,
        "history_peak_mib": history_query["peak_mib"],
        "first_sync_s": first.seconds,
        "raw_floor_s": floor["seconds"],
        "floor_ratios": [r["ratio"] for r in rounds],
        "first_sync_vs_floor": floor_ratio,
        "first_sync_vs_floor_cpu": cpu_ratio,
        "second_sync_s": second.seconds,
        "interrupted_and_resumed_vs_first": resumed_share,
        "interrupted_and_resumed_requests_vs_first": resumed_requests,
        "same_answer": same,
    }.items():
        report.figure(name, value)
    report.save(args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
