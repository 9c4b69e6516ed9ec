"""Run every benchmark, check the targets of issues 24, 12 and 15, and write docs/benchmarks.md.

    python bench/run_all.py [--scale 1] [--only NAME ...] [--docs docs/benchmarks.md]

Each script runs in its own process, one after the other (so they do not share the two
cores), writes its figures as JSON, and prints its own tables as it goes. Then every
target is printed with its measured figure and met/missed, and the whole is written to
``docs/benchmarks.md`` with the machine, the date and the command.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import _harness as h

BENCH = Path(__file__).resolve().parent
SCRIPTS = [
    "history_frames",
    "sandbox_serve",
    "first_gantt",
    "live_refresh",
    "import_time",
    "sandbox_load",
    "timeline_build",
    "history_sync",
]
SCALED = {"history_frames", "sandbox_serve", "history_sync"}
PACKAGES = [
    "httpx",
    "pydantic",
    "pandas",
    "pyarrow",
    "numpy",
    "plotly",
    "fastapi",
    "uvicorn",
    "telnyx",
    "orjson",
    "psutil",
]


@dataclass
class Check:
    target: str
    measured: str
    met: bool | None  # None: not checked automatically


ROUND_3 = "Round 3 / issue 24: every documented path at the floor"
# docs/benchmarks.md: run_all.py rewrites what is above this line and keeps what is below it
# (earlier runs, and the sections of the benches it does not run, each naming its command).
KEPT = "<!-- run_all.py writes everything above this line and keeps everything below it -->"


def kept_sections(path: Path) -> str:
    """The part of an existing report below KEPT ("" when there is none)."""
    if not path.exists():
        return ""
    _, marker, rest = path.read_text().partition(KEPT)
    return marker + rest if marker else ""


def _ratio_check(target: str, value: float, limit: float, what: str = "the floor", aside: str = "") -> Check:
    return Check(target, f"{value:.2f}x {what}{aside}", value <= limit)


def round_3(results: dict[str, dict[str, Any]]) -> list[Check]:
    """The rows of issue 24's table, each a ratio measured side by side in this run."""
    found: list[Check] = []

    def figures(script: str) -> dict[str, Any] | None:
        return results[script]["figures"] if script in results else None

    hist = figures("history_frames")
    if hist is not None:
        live, side, rss = hist["live_s"], hist["client_side_s"], hist["peak_rss_mib"]
        cpu = hist.get("client_side_cpu_s")

        def in_cpu(path: str) -> str:  # the same ratio in CPU seconds, beside the wall one
            return f" (CPU: {cpu[path] / cpu['floor']:.2f}x)" if cpu else ""

        sdk_rss = [v for k, v in rss.items() if k.startswith("sdk") and v == v]
        frames = [
            hist["frame_bytes"][s][i] / hist["json_bytes"][i]
            for s in ("missionlab", "readme")
            for i in (0, 1)
        ]
        found += [
            _ratio_check(
                "`fetch_frames(client)`, live: <= 1.15x the floor", live["missionlab"] / live["floor"], 1.15
            ),
            _ratio_check(
                "`fetch_frames(client)`, client side only: <= 1.2x the floor",
                side["missionlab"] / side["floor"],
                1.2,
                aside=in_cpu("missionlab"),
            ),
            _ratio_check(
                "README path (`list_runs().fetch_all()` + `to_frame`, runs and events), client side only: "
                "<= 1.5x the floor",
                side["readme"] / side["floor"],
                1.5,
                aside=in_cpu("readme"),
            ),
            _ratio_check("README path, live: <= 1.2x the floor", live["readme"] / live["floor"], 1.2),
            _ratio_check(
                "peak RSS of the README path: <= 1.0x the SDK's (page 1000, live)",
                rss["readme"] / min(sdk_rss) if sdk_rss else float("nan"),
                1.0,
                "the SDK's",
            ),
            Check(
                "frames no larger than their JSON (fetch_frames, README path)",
                f"runs {frames[0]:.2f}x, events {frames[1]:.2f}x; "
                f"runs {frames[2]:.2f}x, events {frames[3]:.2f}x",
                max(frames) <= 1.0,
            ),
        ]
    gantt = figures("first_gantt")
    if gantt is not None:
        total = gantt["total_s"]
        found.append(
            _ratio_check(
                "first Gantt (500 steps, 5,000 events): <= 0.15x SDK + DataFrame + `px.timeline`",
                total["missionlab"] / total["sdk-default"],
                0.15,
                "the SDK way's time",
            )
        )
    refresh = figures("live_refresh")
    if refresh is not None and isinstance(refresh.get("RunPanel.refresh(), timeline tab"), dict):
        panel = refresh["RunPanel.refresh(), timeline tab"]
        new = results["live_refresh"]["args"]["new"]
        found.append(
            Check(
                "run panel refresh (timeline tab, +10 events a cycle): 3 requests, <= 20 ms CPU, "
                "only the new events",
                f"{panel['requests']:g} requests, {panel['cpu_ms']:.0f} ms CPU, "
                f"{panel['events_moved_max']:g} events moved for {new} new",
                panel["requests"] <= 3 and panel["cpu_ms"] <= 20 and panel["events_moved_max"] <= new,
            )
        )
        if "cpu_ms_nothing_new" in panel and "front_end_bytes_nothing_new" in panel:
            found.append(
                Check(
                    "run panel refresh with nothing new (timeline tab): < 5 ms CPU, nothing sent",
                    f"{panel['cpu_ms_nothing_new']:.1f} ms CPU (median of {panel.get('idle_cycles', 1)}), "
                    f"{panel['front_end_bytes_nothing_new']:g} bytes to the browser",
                    panel["cpu_ms_nothing_new"] < 5 and panel["front_end_bytes_nothing_new"] == 0,
                )
            )
    history = figures("history_sync")
    if history is not None and "first_sync_vs_floor" in history:
        found.append(
            _ratio_check(
                "first history sync: <= 1.3x a raw httpx x8 fetch of the same pages and plans",
                history["first_sync_vs_floor"],
                1.3,
            )
        )
    imports = figures("import_time")
    if imports is not None:
        found.append(
            Check(
                "`import missionlab` < 150 ms over a bare interpreter, no patching of other libraries",
                f"{imports['import_ms']:.0f} ms",
                imports["import_ms"] < 150,
            )
        )
    return found


def checks(results: dict[str, dict[str, Any]]) -> list[tuple[str, list[Check]]]:
    """Every target of issues 12 and 15, as a check against the figures of this run."""
    out: list[tuple[str, list[Check]]] = []

    def figures(script: str) -> dict[str, Any] | None:
        return results[script]["figures"] if script in results else None

    hist = figures("history_frames")
    if hist is not None:
        live, side, rss = hist["live_s"], hist["client_side_s"], hist["peak_rss_mib"]
        sdk_default = live["sdk-default"] / live["missionlab"]
        sdk_1000 = live["sdk-1000"] / live["missionlab"]
        floor = side["missionlab"] / side["floor"]
        sdk_rss = [v for k, v in rss.items() if k.startswith("sdk") and v == v]
        memory = rss["missionlab"] / min(sdk_rss) if sdk_rss else float("nan")
        frames = [hist["frame_bytes"]["missionlab"][i] / hist["json_bytes"][i] for i in (0, 1)]
        estimated = " (SDK estimated from sampled pages)" if hist.get("sdk_default_live_sampled") else ""
        out.append(
            (
                "1. History -> DataFrames",
                [
                    Check(
                        "live: >= 20x faster than the SDK at its default page size",
                        f"{sdk_default:.1f}x{estimated}",
                        sdk_default >= 20,
                    ),
                    Check(
                        "live: >= 3x faster than the SDK at page size 1000", f"{sdk_1000:.2f}x", sdk_1000 >= 3
                    ),
                    Check(
                        "client side: within 1.5x of the raw floor", f"{floor:.2f}x the floor", floor <= 1.5
                    ),
                    Check("peak memory no more than the SDK's", f"{memory:.2f}x the SDK's", memory <= 1.0),
                    Check(
                        "frames no larger than their JSON",
                        f"runs {frames[0]:.2f}x, events {frames[1]:.2f}x",
                        max(frames) <= 1.0,
                    ),
                ],
            )
        )
    serve = figures("sandbox_serve")
    if serve is not None:
        rate = serve["events_per_server_cpu_s"]
        deep = serve["last_page_ms"] / serve["page_1_ms"]
        speedup = serve["concurrency_speedup"]
        out.append(
            (
                "2. The sandbox serves lists",
                [
                    Check(
                        ">= 100,000 events/s of server CPU at page size 1000",
                        f"{rate:,.0f} events/s",
                        rate >= 100_000,
                    ),
                    Check(
                        f"deep pages as fast as the first (page {serve['last_page_number']} within 1.25x "
                        "of page 1)",
                        f"{deep:.1f}x",
                        deep <= 1.25,
                    ),
                    Check(
                        "concurrent requests served concurrently (8 clients >= 1.5x the pages/s of 1)",
                        f"{speedup:.2f}x",
                        speedup >= 1.5,
                    ),
                    Check(
                        "the same bytes on the wire (compact json of their content)",
                        "yes" if serve["wire_compact_json"] else "no",
                        bool(serve["wire_compact_json"]),
                    ),
                ],
            )
        )
    gantt = figures("first_gantt")
    if gantt is not None:
        total, fig = gantt["total_s"], gantt["figure_s"]
        faster = total["sdk-default"] / total["missionlab"]
        build = fig["missionlab"] / fig["px"]
        out.append(
            (
                "3. First Gantt",
                [
                    Check(
                        ">= 5x faster than SDK + DataFrame + px.timeline (SDK's default page)",
                        f"{faster:.2f}x (page 1000: {total['sdk-1000'] / total['missionlab']:.2f}x)",
                        faster >= 5,
                    ),
                    Check(
                        "our figure built no slower than px.timeline on the same bars",
                        f"{build:.2f}x px.timeline's time",
                        build <= 1.0,
                    ),
                ],
            )
        )
    live_refresh = figures("live_refresh")
    if live_refresh is not None:

        def panel_checks(found: dict[str, Any]) -> list[Check]:
            """The run panel's cycle: requests and CPU on each tab, bytes to the browser."""
            checks = []
            for name, value in found.items():
                if isinstance(value, dict) and name.startswith("RunPanel.refresh()"):
                    checks.append(
                        Check(
                            f"{name}: <= 3 requests; nothing sent when nothing is new",
                            f"{value['requests']:g} requests, {value['cpu_ms']:.0f} ms CPU, "
                            f"{value['front_end_kib_per_cycle']:.0f} KiB to the browser per cycle, "
                            f"{value['front_end_kib_nothing_new']:.1f} KiB when nothing is new",
                            value["requests"] <= 3 and value["front_end_kib_nothing_new"] == 0,
                        )
                    )
            return checks

        path = live_refresh["primary"]
        s = live_refresh[path]
        new = results["live_refresh"]["args"]["new"]
        out.append(
            (
                f"4. Live refresh (measured on {path})",
                [
                    Check("<= 3 requests per cycle", f"{s['requests']:g}", s["requests"] <= 3),
                    Check("<= 30 ms of client CPU per cycle", f"{s['cpu_ms']:.0f} ms", s["cpu_ms"] <= 30),
                    Check(
                        "only the new events transferred",
                        f"{s['events_moved_median']:g} (max {s['events_moved_max']:g}, "
                        f"{s['events_moved_nothing_new']:g} when nothing was new) for {new} new",
                        s["events_moved_max"] <= new
                        and s["events_moved_nothing_new"] == 0
                        and s["all_new_seen"],
                    ),
                    Check(
                        "traces extended in place, not rebuilt (not checked automatically: the widget "
                        "sends only changed properties either way; the CPU check catches a rebuild)",
                        f"{s['front_end_kib_per_cycle']:.0f} KiB sent to the browser per cycle"
                        if s["front_end_kib_per_cycle"] == s["front_end_kib_per_cycle"]
                        else "-",
                        None,
                    ),
                    *panel_checks(live_refresh),
                ],
            )
        )
    history = figures("history_sync")
    if history is not None:
        out.append(
            (
                "Issue 15. The local history",
                [
                    Check(
                        "a second sync with 1% new runs transfers <= 2% of the first sync's bytes",
                        f"{history['byte_share']:.2%}",
                        history["byte_share"] <= 0.02,
                    ),
                    Check(
                        "... and takes <= 5% of its time",
                        f"{history['time_share']:.2%}",
                        history["time_share"] <= 0.05,
                    ),
                    Check(
                        "fleet query from the history >= 10x faster than from the API",
                        f"{history['query_speedup']:.0f}x",
                        history["query_speedup"] >= 10,
                    ),
                    Check(
                        "fleet query peak memory under 500 MB",
                        f"{history['history_peak_mib']:.0f} MiB",
                        history["history_peak_mib"] * 2**20 < 500e6,
                    ),
                ],
            )
        )
    imports = figures("import_time")
    if imports is not None:
        out.append(
            (
                "5. Import",
                [
                    Check(
                        "import missionlab < 150 ms over a bare interpreter",
                        f"{imports['import_ms']:.0f} ms",
                        imports["import_ms"] < 150,
                    ),
                ],
            )
        )
    return out


def machine() -> dict[str, str]:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        kib = int(
            next(
                line.split()[1]
                for line in Path("/proc/meminfo").read_text().splitlines()
                if line.startswith("MemTotal")
            )
        )
        ram = f"{kib / 2**20:.0f} GiB"
    except (OSError, StopIteration, ValueError):
        ram = "?"
    commit = (
        subprocess.run(
            ["git", "-C", str(h.ROOT), "rev-parse", "--short", "HEAD"], capture_output=True, text=True
        ).stdout.strip()
        or "?"
    )
    return {
        "cpu": f"{cpu}, {os.cpu_count()} cores",
        "ram": ram,
        "python": f"{platform.python_implementation()} {platform.python_version()} "
        f"on {platform.system()} {platform.machine()}",
        "packages": h.versions(tuple(PACKAGES)),
        "commit": commit,
    }


def markdown(
    results: dict[str, dict[str, Any]],
    latest: list[Check],
    targets: list[tuple[str, list[Check]]],
    info: dict[str, str],
    command: str,
    started: datetime,
    took: dict[str, float],
    loads: tuple[float, float],
) -> str:
    lines = [
        "# Benchmarks",
        "",
        "Written by `python bench/run_all.py` down to the line that says so (the sections below it "
        "come from the separate runs each one names); the figures are medians of "
        "alternating repetitions within one run, on this machine:",
        "",
        f"- date: {started:%Y-%m-%d %H:%M} UTC, commit {info['commit']}",
        f"- machine: {info['cpu']}, {info['ram']} RAM; load average {loads[0]:.2f} at the start, "
        f"{loads[1]:.2f} at the end",
        f"- {info['python']}; {info['packages']}",
        f'- reproduce: `pip install -c constraints.txt -e ".[test,bench]"` then `{command}`',
        "",
        f"## {ROUND_3}",
        "",
        "| target | measured | |",
        "|---|---|---|",
    ]
    for c in latest:
        verdict = "met" if c.met else "not checked" if c.met is None else "**missed**"
        lines.append(f"| {c.target} | {c.measured} | {verdict} |")
    lines += [
        "",
        "## Targets (issues 12 and 15)",
        "",
        "| target | measured | |",
        "|---|---|---|",
    ]
    for section, items in targets:
        lines.append(f"| **{section}** | | |")
        for c in items:
            verdict = "met" if c.met else "not checked" if c.met is None else "**missed**"
            lines.append(f"| {c.target} | {c.measured} | {verdict} |")
    for name in SCRIPTS:
        if name not in results:
            continue
        result = results[name]
        lines += [
            "",
            f"## {result['title']}",
            "",
            f"`python bench/{name}.py{' ' + result['cli'] if result['cli'] else ''}` ({took[name]:.0f} s)",
            "",
        ]
        for note in result["notes"]:
            lines.append(f"- {note}")
        for table in result["tables"]:
            lines += [
                "",
                f"{table['title']}:",
                "",
                "| " + " | ".join(str(c) for c in table["columns"]) + " |",
                "|" + "---|" * len(table["columns"]),
            ]
            lines += [
                "| " + " | ".join(str(c).replace("|", "\\|") for c in row) + " |" for row in table["rows"]
            ]
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--scale", type=float, default=1.0, help="data scale for history_frames and sandbox_serve (default 1)"
    )
    parser.add_argument("--only", nargs="*", choices=SCRIPTS, help="run only these scripts")
    parser.add_argument(
        "--docs",
        default=str(h.ROOT / "docs" / "benchmarks.md"),
        help="where to write the Markdown report ('' not to write it)",
    )
    args = parser.parse_args()
    command = (
        "python bench/run_all.py"
        + (f" --scale {args.scale:g}" if args.scale != 1 else "")
        + (f" --only {' '.join(args.only)}" if args.only else "")
    )
    started, loads_start = datetime.now(UTC), os.getloadavg()[0]
    results: dict[str, dict[str, Any]] = {}
    took: dict[str, float] = {}
    failed = []
    with tempfile.TemporaryDirectory(prefix="missionlab-bench-") as tmp:
        for name in args.only or SCRIPTS:
            extra = ["--scale", f"{args.scale:g}"] if name in SCALED and args.scale != 1 else []
            out = Path(tmp) / f"{name}.json"
            print(f"\n>>> python bench/{name}.py {' '.join(extra)}".rstrip(), flush=True)
            begun = time.perf_counter()
            done = subprocess.run([sys.executable, str(BENCH / f"{name}.py"), *extra, "--json", str(out)])
            result = json.loads(out.read_text()) if out.exists() else {}
            took[name] = time.perf_counter() - begun
            if done.returncode != 0 or not result:
                failed.append(name)
                continue
            result["cli"] = " ".join(extra)
            results[name] = result
    latest, targets = round_3(results), checks(results)
    print(f"\n{ROUND_3} (measured in this run)")
    print("=" * (len(ROUND_3) + 23))
    for c in latest:
        verdict = "met" if c.met else "-" if c.met is None else "MISSED"
        print(f"  [{verdict:>6}] {c.target}: {c.measured}")
    print("\nTargets of issues 12 and 15 (measured in this run)")
    print("==================================================")
    for section, items in targets:
        print(f"\n{section}")
        for c in items:
            verdict = "met" if c.met else "-" if c.met is None else "MISSED"
            print(f"  [{verdict:>6}] {c.target}: {c.measured}")
    print("\nseconds per script: " + ", ".join(f"{n} {t:.0f}" for n, t in took.items()))
    if failed:
        print(f"FAILED: {', '.join(failed)}")
    if args.docs:
        text = markdown(
            results, latest, targets, machine(), command, started, took, (loads_start, os.getloadavg()[0])
        )
        docs = Path(args.docs)
        docs.parent.mkdir(parents=True, exist_ok=True)
        kept = kept_sections(docs)
        docs.write_text(text + ("\n" + kept if kept else ""))
        print(f"wrote {args.docs}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
