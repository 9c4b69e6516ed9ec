"""All runs and all events of the organization -> pandas DataFrames, five ways, side by side.

    python bench/history_frames.py [--scale 1] [--repeat 3] [--sdk-default sample|full|skip]

Sides: missionlab (``missionlab.fetch_frames(client)``), the README's own path
(``list_runs().fetch_all()`` then ``to_frame``, the same for ``list_events``, at the
default page size as the README writes it), the official ``telnyx`` SDK at its default page
size and at page size 1000 (iterating its pages, ``pd.DataFrame([m.model_dump() ...])``),
and a raw floor (httpx with 8 concurrent page fetches + orjson + ``pd.DataFrame``).

Two modes. Live: a sandbox in its own process serves 20,000 runs and 200,000 events in 10
missions (``--scale`` shrinks that); every repetition of every side runs in a fresh
subprocess, which also gives its peak RSS. Client side: the exact page bytes are
recorded once and replayed in-process through ``httpx.MockTransport`` (the SDK gets an
``httpx.Client`` over the same transport), so only client work is measured: wall seconds,
and the process's CPU seconds over every thread (steadier on a shared machine).

The SDK at its default page size (20 runs, 50 events a page: 5,000 requests) takes about
six minutes live at full scale: by default it is timed once on every k-th page (pages
spread evenly over each list, so deep pages are represented) and extrapolated to all
pages, and the output says so; ``--sdk-default full`` runs it once on every page.
"""

from __future__ import annotations

import argparse
import gc
import json
import math
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import _harness as h

RUNS_PATH = "/ai/missions/runs"
EVENTS_PATH = "/ai/missions/events"
BIG_PAGE = 1000
SAMPLE_PAGES = 100  # pages per list timed for the SDK's default page size (sampled mode)
SIDES = ["missionlab", "readme", "sdk-default", "sdk-1000", "floor"]
LABELS = {
    "missionlab": "missionlab",
    "readme": "README path",
    "sdk-default": "SDK, default page",
    "sdk-1000": "SDK, page 1000",
    "floor": "raw floor",
}


# -- the four sides (each returns the runs frame and the events frame) --------------------------


def missionlab_side(client: Any) -> tuple[Any, Any]:
    import missionlab

    fetched = missionlab.fetch_frames(client, progress=False)
    return fetched.runs, fetched.events


def readme_side(client: Any) -> tuple[Any, Any]:
    """The README's quickstart way: a list call as written there (default page size),
    ``fetch_all()`` (models), then ``to_frame``."""
    from missionlab import to_frame

    runs = client.missions.runs.list_runs().fetch_all(progress=False)
    events = client.missions.list_events().fetch_all(progress=False)
    return to_frame(runs), to_frame(events)


def sdk_side(sdk: Any, page_size: int | None) -> tuple[Any, Any]:
    import pandas as pd

    size = {} if page_size is None else {"page_size": page_size}
    runs = [r.model_dump() for page in sdk.ai.missions.runs.list_runs(**size).iter_pages() for r in page.data]
    events = [e.model_dump() for page in sdk.ai.missions.list_events(**size).iter_pages() for e in page.data]
    return pd.DataFrame(runs), pd.DataFrame(events)


def floor_side(http: Any, base: str) -> tuple[Any, Any]:
    import orjson
    import pandas as pd

    def fetch(path: str, number: int) -> Any:
        response = http.get(base + path, params={"page[number]": number, "page[size]": BIG_PAGE})
        response.raise_for_status()
        return orjson.loads(response.content)

    def rows(path: str, pool: ThreadPoolExecutor) -> list[Any]:
        first = fetch(path, 1)
        rest = pool.map(lambda n: fetch(path, n), range(2, first["meta"]["total_pages"] + 1))
        items: list[Any] = first["data"]
        return items + [item for page in rest for item in page["data"]]

    with ThreadPoolExecutor(8) as pool:
        return pd.DataFrame(rows(RUNS_PATH, pool)), pd.DataFrame(rows(EVENTS_PATH, pool))


def make_side(side: str, base: str, transport: Any = None) -> tuple[Any, Any]:
    """(the job to time, the client it uses) for one side."""
    import httpx

    if side in ("missionlab", "readme"):
        from missionlab import Client, to_frame  # noqa: F401  (to_frame: its import, untimed)

        client = Client(api_key=h.TOKEN, base_url=base, transport=transport)
        job = missionlab_side if side == "missionlab" else readme_side
        return (lambda: job(client)), client
    if side == "floor":
        http = httpx.Client(
            transport=transport,
            headers={"Authorization": f"Bearer {h.TOKEN}"},
            limits=httpx.Limits(max_connections=8),
            timeout=60,
        )
        return (lambda: floor_side(http, base)), http
    from telnyx import Telnyx

    sdk = Telnyx(
        api_key=h.TOKEN,
        base_url=base,
        http_client=httpx.Client(transport=transport) if transport is not None else None,
    )
    size = None if side == "sdk-default" else BIG_PAGE
    return (lambda: sdk_side(sdk, size)), sdk


# -- live: one subprocess per repetition --------------------------------------------------------


def worker(side: str, base: str, sample: dict[str, Any] | None) -> None:
    """Run one side once against ``base`` and print its time and peak RSS as JSON."""
    import pandas  # noqa: F401  (imported before timing, as a notebook would have it)

    if sample:
        seconds, rows = sampled_sdk(base, sample)
    else:
        job, _ = make_side(side, base)
        started = time.perf_counter()
        runs, events = job()
        seconds, rows = time.perf_counter() - started, [len(runs), len(events)]
    print(
        json.dumps({"seconds": seconds, "rss_mib": h.peak_rss_mib(), "rows": rows, "sampled": bool(sample)})
    )


def sampled_sdk(base: str, sample: dict[str, Any]) -> tuple[float, list[int]]:
    """The SDK at its default page size, timed on every k-th page and scaled to all pages."""
    import pandas as pd
    from telnyx import Telnyx

    sdk = Telnyx(api_key=h.TOKEN, base_url=base)
    lists: dict[str, Any] = {"runs": sdk.ai.missions.runs.list_runs, "events": sdk.ai.missions.list_events}
    estimate, rows = 0.0, []
    for name, list_page in lists.items():
        total, every = sample[name]["total_pages"], sample[name]["every"]
        numbers = range(1 + every // 2, total + 1, every)
        started = time.perf_counter()
        items = [item.model_dump() for n in numbers for item in list_page(page_number=n).data]
        fetched = time.perf_counter() - started
        started = time.perf_counter()
        pd.DataFrame(items)
        framed = time.perf_counter() - started
        estimate += (fetched + framed) * total / len(numbers)
        rows.append(sample[name]["total_rows"])
    return estimate, rows


def run_worker(side: str, base: str, sample: dict[str, Any] | None = None) -> dict[str, Any]:
    command = [sys.executable, __file__, "--worker", side, "--base", base]
    if sample:
        command += ["--sample", json.dumps(sample)]
    out = subprocess.run(command, capture_output=True, text=True)
    if out.returncode != 0:
        raise SystemExit(f"the {side} worker failed:\n{out.stderr}")
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


# -- client side: recorded bytes replayed in-process --------------------------------------------


def page_body(rows: list[Any], number: int, size: int, total: int) -> bytes:
    """A list page encoded as the sandbox encodes it (compact json, meta in this order)."""
    meta = {
        "page_number": number,
        "page_size": size,
        "total_pages": math.ceil(total / size),
        "total_results": total,
    }
    return json.dumps({"data": rows, "meta": meta}, separators=(",", ":")).encode()


def record(server: h.Server) -> dict[str, Any]:
    """Every page of both lists at size 1000 (the server's bytes), and at the default size
    (re-encoded from those, checked byte for byte against pages fetched live)."""
    import httpx

    http = httpx.Client(headers=server.headers, timeout=120)
    pages: dict[tuple[str, int], list[bytes]] = {}
    info: dict[str, Any] = {}
    try:
        for path in (RUNS_PATH, EVENTS_PATH):
            url = server.base + path

            def get(number: int, size: int | None = BIG_PAGE, url: str = url) -> bytes:
                params = {"page[number]": number} | ({"page[size]": size} if size else {})
                response = http.get(url, params=params)
                response.raise_for_status()
                return response.content

            first = get(1)
            total_pages = json.loads(first)["meta"]["total_pages"]
            with ThreadPoolExecutor(4) as pool:
                big = [first, *pool.map(get, range(2, total_pages + 1))]
            pages[(path, BIG_PAGE)] = big
            items = [item for body in big for item in json.loads(body)["data"]]
            default_first = get(1, None)
            size = json.loads(default_first)["meta"]["page_size"]
            small = [
                page_body(items[i : i + size], i // size + 1, size, len(items))
                for i in range(0, len(items), size)
            ]
            pages[(path, size)] = small
            checked = sorted({1, len(small) // 2 + 1, len(small)})
            live = {n: default_first if n == 1 else get(n, None) for n in checked}
            identical = all(small[n - 1] == live[n] for n in checked)
            info[path] = {
                "rows": len(items),
                "json_bytes": sum(map(len, big)),
                "default_size": size,
                "default_pages": len(small),
                "big_pages": len(big),
                "checked": checked,
                "identical": identical,
            }
    finally:
        http.close()
    return {"pages": pages, "info": info}


def replay_transport(pages: dict[tuple[str, int], list[bytes]], defaults: dict[str, int]) -> Any:
    """Answers from the recorded pages; a page of another size (fetch_frames' one-item first
    page) is encoded from the recorded items as the sandbox encodes pages, once."""
    import httpx

    prefix = "/v2"
    items: dict[str, list[Any]] = {}
    other: dict[tuple[str, int, int], bytes] = {}

    def encoded(path: str, number: int, size: int) -> bytes:
        if (path, number, size) not in other:
            if path not in items:
                items[path] = [item for body in pages[(path, BIG_PAGE)] for item in json.loads(body)["data"]]
            rows = items[path]
            other[(path, number, size)] = page_body(
                rows[(number - 1) * size : number * size], number, size, len(rows)
            )
        return other[(path, number, size)]

    def handle(request: httpx.Request) -> httpx.Response:
        path = request.url.path.removeprefix(prefix)
        number = int(request.url.params.get("page[number]", 1))
        size = int(request.url.params.get("page[size]", defaults[path]))
        recorded = pages.get((path, size))
        body = recorded[number - 1] if recorded is not None else encoded(path, number, size)
        return httpx.Response(200, content=body, headers={"content-type": "application/json"})

    return httpx.MockTransport(handle)


def client_side(
    recorded: dict[str, Any], repeat: int
) -> tuple[dict[str, list[float]], dict[str, list[float]], dict[str, Any]]:
    """Seconds and CPU seconds (this process's, every thread) of each side on the replayed
    pages, and the frames each side made."""
    defaults = {path: info["default_size"] for path, info in recorded["info"].items()}
    transport = replay_transport(recorded["pages"], defaults)
    base = "http://127.0.0.1:1/v2"  # never dialled: the transport answers
    jobs = {side: make_side(side, base, transport)[0] for side in SIDES}
    frames: dict[str, Any] = {}
    cpu: dict[str, list[float]] = {side: [] for side in SIDES}

    def keep(side: str) -> Any:
        def run() -> None:
            frames[side] = None
            started = time.process_time()
            frames[side] = jobs[side]()
            cpu[side].append(time.process_time() - started)

        return run

    times = h.alternate({side: keep(side) for side in SIDES}, repeat)
    return times, cpu, frames


# -- main ---------------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--scale", type=float, default=1.0, help="fraction of 20,000 runs / 200,000 events (default 1)"
    )
    parser.add_argument("--repeat", type=int, default=3, help="repetitions per side (default 3)")
    parser.add_argument(
        "--sdk-default",
        choices=["sample", "full", "skip"],
        default="sample",
        help="live SDK at its default page size: timed on a sample of pages "
        "and extrapolated (default), on every page once, or not at all",
    )
    parser.add_argument("--json", help="also write the results to this JSON file")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--base", help=argparse.SUPPRESS)
    parser.add_argument("--sample", type=json.loads, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.worker, args.base, args.sample)
        return 0

    n_runs, n_events = round(20_000 * args.scale), round(200_000 * args.scale)
    report = h.Report(
        "history_frames",
        "All runs + all events -> DataFrames",
        {
            "scale": args.scale,
            "repeat": args.repeat,
            "runs": n_runs,
            "events": n_events,
            "sdk_default": args.sdk_default,
        },
    )
    started = time.perf_counter()
    with h.sandbox(lambda store: h.seed_history(store, runs=n_runs, events=n_events)) as (server, _):
        report.note(
            f"seeded and started the sandbox in {time.perf_counter() - started:.0f} s: "
            f"{n_runs:,} runs, {n_events:,} events, 10 missions"
        )
        recorded = record(server)
        info = recorded["info"]
        for path, facts in info.items():
            report.note(
                f"{path}: {facts['rows']:,} rows, {h.mib(facts['json_bytes']):.1f} MiB of "
                f"JSON; default page size {facts['default_size']} "
                f"({facts['default_pages']} pages, replayed from re-encoded pages "
                f"{'byte-identical to' if facts['identical'] else 'DIFFERENT FROM'} "
                f"live pages {facts['checked']})"
            )
        live: dict[str, list[dict[str, Any]]] = {side: [] for side in SIDES}
        timed_live = [s for s in SIDES if s != "sdk-default"]
        for round_number in range(args.repeat):
            shift = round_number % len(timed_live)
            for side in timed_live[shift:] + timed_live[:shift]:
                live[side].append(run_worker(side, server.base))
                print(
                    f"  live, round {round_number + 1}: {LABELS[side]} {live[side][-1]['seconds']:.1f} s",
                    flush=True,
                )
        sampled = False
        if args.sdk_default != "skip":
            every = {
                path: 1
                if args.sdk_default == "full"
                else max(1, math.ceil(info[path]["default_pages"] / SAMPLE_PAGES))
                for path in info
            }
            sampled = any(k > 1 for k in every.values())
            sample = {
                name: {
                    "total_pages": info[path]["default_pages"],
                    "every": every[path],
                    "total_rows": info[path]["rows"],
                }
                for name, path in (("runs", RUNS_PATH), ("events", EVENTS_PATH))
            }
            live["sdk-default"].append(run_worker("sdk-default", server.base, sample if sampled else None))
            if sampled:
                report.note(
                    f"live SDK at its default page size: timed once on 1 page in "
                    f"{every[RUNS_PATH]} of the runs and 1 in {every[EVENTS_PATH]} of the "
                    "events (spread over each list), extrapolated to all pages; its RSS "
                    "is not comparable"
                )
            else:
                report.note("live SDK at its default page size: run once on every page")
    for side, results in live.items():
        for result in results:
            if result["rows"] != [n_runs, n_events]:
                raise SystemExit(f"{side} got {result['rows']} rows, expected {[n_runs, n_events]}")

    print("  client side: replaying the recorded bytes", flush=True)
    replay, replay_cpu, frames = client_side(recorded, args.repeat)
    del recorded
    gc.collect()
    for side, (runs, events) in frames.items():
        if [len(runs), len(events)] != [n_runs, n_events]:
            raise SystemExit(f"{side} (client side) got {len(runs)}, {len(events)} rows")

    live_s = {s: h.median([r["seconds"] for r in live[s]]) for s in SIDES}
    replay_s = {s: h.median(replay[s]) for s in SIDES}
    replay_cpu_s = {s: h.median(replay_cpu[s]) for s in SIDES}
    rss = {
        s: (
            h.median([r["rss_mib"] for r in live[s]])
            if live[s] and not live[s][0]["sampled"]
            else float("nan")
        )
        for s in SIDES
    }
    report.table(
        f"median seconds ({args.repeat} alternating repetitions; live SDK default page: "
        f"{'estimated, 1 run' if sampled else '1 run'})",
        ["job", *(LABELS[s] for s in SIDES)],
        [
            ["live sandbox", *(live_s[s] for s in SIDES)],
            ["client side only (replayed bytes)", *(replay_s[s] for s in SIDES)],
            ["client side, CPU seconds (every thread)", *(replay_cpu_s[s] for s in SIDES)],
            ["peak RSS of the live job, MiB", *(rss[s] for s in SIDES)],
        ],
    )
    report.table(
        "ratios",
        ["comparison", "live", "client side", "client side, CPU"],
        [
            [
                f"{LABELS[s]} / missionlab (> 1: missionlab faster)",
                h.ratio(live_s[s], live_s["missionlab"]),
                h.ratio(replay_s[s], replay_s["missionlab"]),
                h.ratio(replay_cpu_s[s], replay_cpu_s["missionlab"]),
            ]
            for s in ("sdk-default", "sdk-1000")
        ]
        + [
            [
                f"{LABELS[s]} / raw floor (1: as fast as the floor)",
                h.ratio(live_s[s], live_s["floor"]),
                h.ratio(replay_s[s], replay_s["floor"]),
                h.ratio(replay_cpu_s[s], replay_cpu_s["floor"]),
            ]
            for s in ("missionlab", "readme")
        ]
        + [
            [
                f"peak RSS, {LABELS[s]} / SDK page 1000",
                h.ratio(rss[s], rss["sdk-1000"]),
                float("nan"),
                float("nan"),
            ]
            for s in ("missionlab", "readme")
        ],
    )
    memory = {s: [int(f.memory_usage(deep=True).sum()) for f in frames[s]] for s in SIDES}
    json_bytes = [info[RUNS_PATH]["json_bytes"], info[EVENTS_PATH]["json_bytes"]]
    report.table(
        "frame memory (memory_usage(deep=True)) vs the JSON it came from, MiB (x JSON)",
        ["frame", "JSON", *(LABELS[s] for s in SIDES)],
        [
            [
                name,
                h.mib(json_bytes[i]),
                *(f"{h.mib(memory[s][i]):.1f} ({memory[s][i] / json_bytes[i]:.2f}x)" for s in SIDES),
            ]
            for i, name in enumerate(["runs", "events"])
        ],
    )
    for name, value in (
        ("live_s", live_s),
        ("client_side_s", replay_s),
        ("client_side_cpu_s", replay_cpu_s),
        ("peak_rss_mib", rss),
        ("frame_bytes", memory),
        ("json_bytes", json_bytes),
    ):
        report.figure(name, value)
    report.figure("sdk_default_live_sampled", sampled)
    report.save(args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
