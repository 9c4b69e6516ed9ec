"""What serving lists costs the sandbox: server CPU per event, deep pages, concurrent requests.

    python bench/sandbox_serve.py [--scale 1] [--repeat 3]

The sandbox (``missionlab sandbox serve`` in its own process, on a temp database holding
20,000 runs and 200,000 events; ``--scale`` shrinks that) serves every page of the
organization's events and runs at page size 1000; the server process's CPU time is read
before and after (psutil), so the client's own cost does not count. Then: the latency of
page 1 against the last page; the pages/s that 1 client and 8 concurrent clients get
from the same set of pages; and how long a small request waits while 8 deep pages are
being served. The client is plain httpx that does not parse what it gets, except to
check once that the bytes are compact ``json.dumps`` of their own content (the wire
format today) and to print their digest, so that a faster server can show it sends the
same bytes.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import _harness as h
import httpx

SIZE = 1000
CLIENTS = 8
SPREAD_PAGES = 32  # pages (spread over the list) fetched by 1 and by 8 clients


def fetch_all_pages(http: httpx.Client, url: str, total_pages: int) -> list[bytes]:
    bodies = []
    for number in range(1, total_pages + 1):
        response = http.get(url, params={"page[number]": number, "page[size]": SIZE})
        response.raise_for_status()
        bodies.append(response.content)
    return bodies


def compact_json(body: bytes) -> bool:
    """Whether ``body`` is exactly compact ``json.dumps`` of what it decodes to."""
    return json.dumps(json.loads(body), separators=(",", ":")).encode() == body


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--scale", type=float, default=1.0, help="fraction of 20,000 runs / 200,000 events (default 1)"
    )
    parser.add_argument("--repeat", type=int, default=3, help="repetitions (default 3)")
    parser.add_argument("--json", help="also write the results to this JSON file")
    args = parser.parse_args()
    n_runs, n_events = round(20_000 * args.scale), round(200_000 * args.scale)
    report = h.Report(
        "sandbox_serve",
        "The sandbox serving lists: server CPU, deep pages, concurrency",
        {"scale": args.scale, "repeat": args.repeat, "runs": n_runs, "events": n_events},
    )
    with h.sandbox(lambda store: h.seed_history(store, runs=n_runs, events=n_events)) as (server, _):
        http = httpx.Client(headers=server.headers, timeout=120, limits=httpx.Limits(max_connections=CLIENTS))
        lists = {
            "events": (server.base + "/ai/missions/events", n_events),
            "runs": (server.base + "/ai/missions/runs", n_runs),
        }
        pages = {name: -(-count // SIZE) for name, (_, count) in lists.items()}

        # all pages, server CPU per item
        cpu: dict[str, list[float]] = {name: [] for name in lists}
        wall: dict[str, list[float]] = {name: [] for name in lists}
        digests: dict[str, str] = {}
        wire_ok = True
        for round_number in range(args.repeat):
            for name in list(lists) if round_number % 2 == 0 else list(lists)[::-1]:
                url, _ = lists[name]
                cpu_before, started = server.cpu_seconds(), time.perf_counter()
                bodies = fetch_all_pages(http, url, pages[name])
                wall[name].append(time.perf_counter() - started)
                cpu[name].append(server.cpu_seconds() - cpu_before)
                if name not in digests:
                    digests[name] = hashlib.sha256(b"".join(bodies)).hexdigest()[:16]
                    wire_ok &= all(compact_json(b) for b in bodies)
        rows = []
        for name, (_, count) in lists.items():
            cpu_s, wall_s = h.median(cpu[name]), h.median(wall[name])
            rows.append(
                [
                    f"all {count:,} {name}, {pages[name]} pages",
                    cpu_s,
                    count / cpu_s,
                    wall_s,
                    count / wall_s,
                    digests[name],
                ]
            )
            report.figure(f"{name}_server_cpu_s", cpu_s)
            report.figure(f"{name}_per_server_cpu_s", count / cpu_s)
        report.table(
            f"serving every page at size {SIZE}, one request at a time (medians of {args.repeat})",
            [
                "list",
                "server CPU s",
                "items/s of server CPU",
                "wall s",
                "items/s wall",
                "sha256 of the bytes",
            ],
            rows,
        )
        report.note(f"the bytes are compact json.dumps of their content: {'yes' if wire_ok else 'NO'}")
        report.figure("wire_compact_json", wire_ok)
        report.figure("wire_digests", digests)

        # page 1 against the last page
        url, _ = lists["events"]
        last = pages["events"]
        latency: dict[int, list[float]] = {1: [], last: []}
        for _ in range(max(10, 3 * args.repeat)):
            for number in (1, last):
                started = time.perf_counter()
                http.get(url, params={"page[number]": number, "page[size]": SIZE}).raise_for_status()
                latency[number].append(time.perf_counter() - started)
        first_ms, last_ms = h.median(latency[1]) * 1000, h.median(latency[last]) * 1000
        report.table(
            f"latency of one events page of {SIZE} (median of {len(latency[1])})",
            ["page", "ms"],
            [["1", first_ms], [f"{last} (the last)", last_ms], ["last / first", last_ms / first_ms]],
        )
        report.figure("page_1_ms", first_ms)
        report.figure("last_page_ms", last_ms)
        report.figure("last_page_number", last)

        # 1 client against 8 concurrent clients, on the same pages
        spread = sorted({1 + i * (last - 1) // max(1, SPREAD_PAGES - 1) for i in range(SPREAD_PAGES)})

        def get(number: int) -> None:
            http.get(url, params={"page[number]": number, "page[size]": SIZE}).raise_for_status()

        def one_client() -> None:
            for number in spread:
                get(number)

        def many_clients() -> None:
            with ThreadPoolExecutor(CLIENTS) as pool:
                list(pool.map(get, spread))

        times = h.alternate({"1 client": one_client, f"{CLIENTS} clients": many_clients}, args.repeat)
        rates = {name: len(spread) / h.median(t) for name, t in times.items()}
        speedup = rates[f"{CLIENTS} clients"] / rates["1 client"]
        report.table(
            f"{len(spread)} events pages spread over the list, pages/s (median of {args.repeat})",
            ["clients", "pages/s", "x 1 client"],
            [[name, rate, rate / rates["1 client"]] for name, rate in rates.items()],
        )
        report.figure("concurrency_speedup", speedup)

        # a small request while deep pages are being served
        run = http.get(lists["runs"][0], params={"page[size]": 1}).json()["data"][0]
        run_url = f"{server.base}/ai/missions/{run['mission_id']}/runs/{run['run_id']}"
        idle = small_latencies(http, run_url, 20)
        busy = small_latencies_under_load(http, run_url, url, list(range(max(1, last - 7), last + 1)))
        report.table(
            "a small request (get a run), ms (median)",
            ["while", "ms"],
            [
                ["the server is idle", h.median(idle) * 1000],
                [f"{CLIENTS} deep pages are being served", h.median(busy) * 1000],
            ],
        )
        report.figure("small_request_idle_ms", h.median(idle) * 1000)
        report.figure("small_request_busy_ms", h.median(busy) * 1000)
        http.close()
    report.save(args.json)
    return 0


def small_latencies(http: httpx.Client, url: str, count: int) -> list[float]:
    latencies = []
    for _ in range(count):
        started = time.perf_counter()
        http.get(url).raise_for_status()
        latencies.append(time.perf_counter() - started)
    return latencies


def small_latencies_under_load(
    http: httpx.Client, small_url: str, list_url: str, deep: list[int]
) -> list[float]:
    """Latencies of 10 small requests sent while CLIENTS threads keep asking for deep pages."""
    stop = threading.Event()
    load = httpx.Client(headers=dict(http.headers), timeout=120, limits=httpx.Limits(max_connections=CLIENTS))

    def hammer(start: int) -> None:
        for i in range(200):  # bounded: stops at the flag or after 200 pages
            if stop.is_set():
                return
            number = deep[(start + i) % len(deep)]
            load.get(list_url, params={"page[number]": number, "page[size]": SIZE})

    threads = [threading.Thread(target=hammer, args=(i,), daemon=True) for i in range(CLIENTS)]
    for thread in threads:
        thread.start()
    time.sleep(0.5)
    try:
        return small_latencies(http, small_url, 10)
    finally:
        stop.set()
        for thread in threads:
            thread.join(60)
        load.close()


if __name__ == "__main__":
    sys.exit(main())
