"""What a fresh process pays: ``import missionlab``, and import + client + first list.

    python bench/import_time.py [--runs 21] [--src DIR ...] [--json FILE]

``import missionlab`` (and ``import`` + ``Client(base_url="http://...")``) is measured as
the CPU time (user + system) of fresh processes, steadier than wall time on a busy
machine, minus that of a bare ``python -c pass``: medians of ``--runs`` alternating
processes (the figure issue 12 targets: < 150 ms). ``--src`` measures other checkouts'
``src`` too (e.g. main's) for a before/after comparison in one run. ``python -X
importtime`` shows where the time goes (medians of 3 runs; the modules that take at least
2% of it, as the tree of who imported them). Then import + client + the first list of
missions against a sandbox in its own process, for missionlab and the official ``telnyx``
SDK (wall time inside the process). Bytecode caches are on (a first, untimed import
writes them).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Any

import _harness as h

SNIPPETS = {
    "bare interpreter": "pass",
    "import missionlab": "import missionlab",
    "import + Client(http://)": "import missionlab; missionlab.Client(base_url='http://127.0.0.1:9/v2')",
}

FIRST_LIST = {
    "missionlab": """
import json, sys, time
t0 = time.perf_counter()
import missionlab
t1 = time.perf_counter()
client = missionlab.Client(api_key=sys.argv[1], base_url=sys.argv[2])
t2 = time.perf_counter()
client.missions.list()
t3 = time.perf_counter()
print(json.dumps([t1 - t0, t2 - t1, t3 - t2]))
""",
    "telnyx SDK": """
import json, sys, time
t0 = time.perf_counter()
from telnyx import Telnyx
t1 = time.perf_counter()
client = Telnyx(api_key=sys.argv[1], base_url=sys.argv[2])
t2 = time.perf_counter()
client.ai.missions.list()
t3 = time.perf_counter()
print(json.dumps([t1 - t0, t2 - t1, t3 - t2]))
""",
}

SHOWN = 0.02  # the importtime tree lists the modules that take at least 2% of the import
LINE = re.compile(r"import time:\s+(\d+)\s+\|\s+(\d+)\s+\|(\s*)(\S+)")


# Bytecode caches are written and used, as in a usual install (some environments turn that off).
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def python(
    code: str, *args: str, flags: tuple[str, ...] = (), env: dict[str, str] = ENV
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *flags, "-c", code, *args], check=True, capture_output=True, text=True, env=env
    )


def cpu_seconds(code: str, env: dict[str, str]) -> float:
    """CPU seconds (user + system) of a fresh process running ``code``."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    python(code, env=env)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def import_cpu(src: Path, runs: int) -> dict[str, float]:
    """Median CPU seconds of each snippet, in alternating fresh processes importing ``src``."""
    env = {**ENV, "PYTHONPATH": str(src)}
    for code in SNIPPETS.values():  # writes the bytecode caches and warms the file cache
        python(code, env=env)
    times: dict[str, list[float]] = {name: [] for name in SNIPPETS}
    for _ in range(runs):
        for name, code in SNIPPETS.items():
            times[name].append(cpu_seconds(code, env))
    return {name: h.median(values) for name, values in times.items()}


def import_tree(runs: int) -> list[tuple[int, str, float, float]]:
    """(depth, module, self ms, cumulative ms) under ``missionlab``, medians of ``runs`` runs."""
    samples: dict[tuple[int, str], list[tuple[float, float]]] = {}
    order: list[tuple[int, str]] = []
    for _ in range(runs):
        lines = python("import missionlab", flags=("-X", "importtime")).stderr.splitlines()
        parsed = [
            (len(m[3]) // 2, m[4], int(m[1]) / 1000, int(m[2]) / 1000) for m in map(LINE.match, lines) if m
        ]
        top = next(i for i, p in enumerate(parsed) if p[1] == "missionlab" and p[0] == 0)
        start = top
        while start > 0 and parsed[start - 1][0] > 0:  # missionlab's imports come before it
            start -= 1
        for depth, name, own, cumulative in parsed[start : top + 1]:
            if (depth, name) not in samples:
                samples[(depth, name)] = []
                order.append((depth, name))
            samples[(depth, name)].append((own, cumulative))
    return [
        (
            depth,
            name,
            statistics.median(s[0] for s in samples[(depth, name)]),
            statistics.median(s[1] for s in samples[(depth, name)]),
        )
        for depth, name in order
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=21, help="fresh processes per snippet (default 21)")
    parser.add_argument("--src", type=Path, action="append", help="a src directory to import (repeatable)")
    parser.add_argument("--list-runs", type=int, default=10, help="fresh processes per side (default 10)")
    parser.add_argument("--json", help="also write the results to this JSON file")
    args = parser.parse_args()
    sources = args.src or [h.SRC]
    report = h.Report(
        "import_time",
        "Import time and the first list in a fresh process",
        {"runs": args.runs, "list_runs": args.list_runs, "src": [str(s) for s in sources]},
    )

    python("import missionlab, telnyx")  # writes the bytecode caches, if missing
    rows = []
    for index, src in enumerate(sources):
        medians = import_cpu(src, args.runs)
        bare = medians["bare interpreter"]
        for name, value in medians.items():
            over = (value - bare) * 1000 if name != "bare interpreter" else float("nan")
            rows.append([f"{name} ({src})" if len(sources) > 1 else name, value * 1000, over])
        if index == 0:
            report.figure("import_ms", (medians["import missionlab"] - bare) * 1000)
            report.figure("import_client_ms", (medians["import + Client(http://)"] - bare) * 1000)
    report.table(
        f"CPU time of a fresh process, ms (medians of {args.runs}, alternating)",
        ["process", "CPU ms", "over bare"],
        rows,
    )

    tree = import_tree(3)
    total = tree[-1][3]
    shown = [(d, n, own, cum) for d, n, own, cum in tree if cum >= SHOWN * total]
    report.table(
        "python -X importtime -c 'import missionlab': items of 2% or more, "
        "indented under their importer (median of 3; importtime adds its own overhead)",
        ["module", "cumulative ms", "self ms", "share"],
        [[("  " * d) + n, cum, own, f"{cum / total:.0%}"] for d, n, own, cum in shown],
    )
    report.figure("import_tree_top", [[n, round(cum, 1)] for d, n, _, cum in shown if d <= 1])

    with h.sandbox(lambda store: h.seed_history(store, runs=50, events=0)) as (server, _):
        results: dict[str, list[list[float]]] = {side: [] for side in FIRST_LIST}

        def job(side: str) -> Any:
            return lambda: results[side].append(
                json.loads(python(FIRST_LIST[side], h.TOKEN, server.base).stdout)
            )

        h.alternate({side: job(side) for side in FIRST_LIST}, args.list_runs)
    totals = {side: h.median([sum(s) for s in samples]) for side, samples in results.items()}
    rows = []
    for side, samples in results.items():
        phases = [h.median([s[i] for s in samples]) for i in range(3)]
        rows.append(
            [side, *(p * 1000 for p in phases), totals[side] * 1000, totals[side] / totals["missionlab"]]
        )
    report.table(
        f"import + client + first list in a fresh process, ms (median of {args.list_runs})",
        ["side", "import", "client", "first list", "total", "x missionlab"],
        rows,
    )
    report.figure("first_list_s", totals)
    report.save(args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
