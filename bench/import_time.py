"""How long ``import missionlab`` takes over a bare interpreter, in fresh processes.

    python bench/import_time.py [--runs 21] [--src DIR]

Runs, alternately, a bare ``python -c pass``, ``import missionlab``, and
``import missionlab`` plus a client of an ``http://`` URL, each in a fresh process,
and prints the medians of their CPU time and the differences from the bare interpreter (the
figure issue 12 targets: < 150 ms for the import). ``--src`` measures another
checkout's ``src`` (e.g. main's) for a before/after comparison in one run.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
from pathlib import Path

SNIPPETS = {
    "bare interpreter": "pass",
    "import missionlab": "import missionlab",
    "import + Client(http://)": "import missionlab; missionlab.Client(base_url='http://127.0.0.1:9/v2')",
}


def timed(code: str, env: dict[str, str]) -> float:
    """CPU seconds (user + system) of a fresh process running ``code``: steadier than wall
    time on a busy machine."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run([sys.executable, "-c", code], env=env, check=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def measure(src: Path, runs: int) -> dict[str, float]:
    env = {**os.environ, "PYTHONPATH": str(src)}
    times: dict[str, list[float]] = {name: [] for name in SNIPPETS}
    for code in SNIPPETS.values():  # warm the file cache once
        timed(code, env)
    for _ in range(runs):
        for name, code in SNIPPETS.items():
            times[name].append(timed(code, env))
    return {name: statistics.median(values) for name, values in times.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=21)
    parser.add_argument("--src", type=Path, action="append", help="a src directory (repeatable)")
    args = parser.parse_args()
    sources = args.src or [Path(__file__).resolve().parents[1] / "src"]
    print(f"CPU time, medians of {args.runs} fresh processes each, alternating; Python {sys.version[:6]}")
    for src in sources:
        medians = measure(src, args.runs)
        bare = medians["bare interpreter"]
        print(f"\n{src}")
        for name, value in medians.items():
            extra = "" if name == "bare interpreter" else f"  (+{(value - bare) * 1000:.0f} ms over bare)"
            print(f"  {name:<28} {value * 1000:7.0f} ms{extra}")


if __name__ == "__main__":
    main()
