"""What a big run capsule costs: ``serve --load``'s load, ``open_run`` and ``to_html``.

    python bench/capsule_load.py [--sizes 100000 1000000] [--ways now main floor] [--main REV] [--page]

For each size, a capsule of that many events is generated (one finished run, four steps,
events of the demo's shape with a usage payload, one error in 997). Each way runs in its
own process, which reports its wall and CPU time and its peak RSS (``ru_maxrss``):

- loading it into a fresh database file:
  - ``now``: :func:`missionlab.sandbox.capsules.load_capsules`, what ``serve --load`` does;
  - ``main``: the same call with the whole package as it is at ``--main`` (default
    2612105: schema version 3, the events naming their run by its 36-character id),
    exported from git into a temporary folder when the repository is there;
  - ``floor``: raw SQLite into this tree's schema: orjson parsing, the run's row and the
    event tuples built with no check, the indexes dropped, one ``executemany`` and the
    indexes built again, as the loader does: what no checking loader can beat;
- ``open_run`` of it, ``now`` and ``main`` (each way's RSS after opening too);
- with ``--page``, ``trace.to_html()`` (with its default bound) and the memory it takes
  beyond the opened trace (RSS sampled every 50 ms).
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import shutil
import subprocess
import sys
import tempfile
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import _harness as h
import orjson

MAIN = "2612105"
ROOT = Path(__file__).resolve().parent.parent
START = datetime(2026, 11, 27, 21, 37, 38, tzinfo=UTC)


def generate(path: Path, events: int, *, indented: bool = False) -> None:
    """A capsule of ``events`` events, written to ``path`` (``json.dumps``'s spacing, or,
    ``indented``, two spaces a level as ``trace.save`` writes it)."""
    run_id, mission_id = str(uuid.UUID(int=1, version=4)), str(uuid.UUID(int=2, version=4))
    steps = ["enrich", "score", "route", "sms"]

    def at(ms: float) -> str:
        return (START + timedelta(milliseconds=ms)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")

    kinds = ["message", "tool_call", "tool_result", "message", "step_started", "tool_call"]
    with path.open("w") as out:
        head = {
            "format": "missionlab-run-capsule",
            "version": 1,
            "saved_at": at(events * 10 + 10),
            "source": {"base_url": None, "missionlab": "bench"},
            "mission": {"mission_id": mission_id, "name": "Big run", "execution_mode": "managed",
                        "created_at": at(0), "updated_at": at(0), "tools": []},
            "run": {"run_id": run_id, "mission_id": mission_id, "status": "succeeded", "started_at": at(0),
                    "updated_at": at(events * 10 + 5), "finished_at": at(events * 10 + 5)},
            "plan": [
                {"step_id": step, "run_id": run_id, "sequence": n + 1, "description": step.title(),
                 "status": "completed", "started_at": at(n * events * 10 / 4),
                 "completed_at": at((n + 1) * events * 10 / 4)}
                for n, step in enumerate(steps)
            ],
            "agents": [],
        }  # fmt: skip
        if indented:
            out.write(orjson.dumps(head, option=orjson.OPT_INDENT_2).decode()[:-2] + ',\n  "events": [\n')
        else:
            out.write(json.dumps(head)[:-1] + ', "events": [')
        for i in range(events):
            kind = "error" if i % 997 == 0 else kinds[i % len(kinds)]
            event = {
                "event_id": str(uuid.UUID(int=(i * 2654435761) % (1 << 122) + 3, version=4)),
                "run_id": run_id,
                "type": kind,
                "summary": f"Event {i}: {kind}",
                "timestamp": at(i * 10),
                "step_id": steps[i * len(steps) // events],
                "agent_id": "missionlab-sim-agent",
                "payload": {"model": "sim-llm-1", "usage": {"input_tokens": 1000 + i % 500,
                            "output_tokens": 100, "total_tokens": 1100 + i % 500}},
            }  # fmt: skip
            if indented:
                text = orjson.dumps(event, option=orjson.OPT_INDENT_2).decode().replace("\n", "\n    ")
                out.write((",\n    " if i else "    ") + text)
            else:
                out.write(("," if i else "") + json.dumps(event))
        out.write("\n  ]\n}" if indented else "]}")


PRELUDE = """
import os, resource, sys, time
from missionlab.sandbox import Store
def report(**figures):
    figures["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(repr(figures))
capsule, db = sys.argv[1], sys.argv[2]
store = Store(db)
started, cpu = time.perf_counter(), time.process_time()
"""

WAYS = {
    "now": """
from missionlab.sandbox.capsules import load_capsules
load_capsules(store, [capsule])
""",
    "main": """
from missionlab.sandbox.capsules import load_capsules
load_capsules(store, [capsule])
""",
    "floor": """
import orjson, json
from missionlab.sandbox.store import EVENT_FIELDS
data = orjson.loads(open(capsule, "rb").read())
encode = json.JSONEncoder(separators=(",", ":")).encode
mission_id = data["mission"]["mission_id"]
columns = (*EVENT_FIELDS, "mission_id")
rows = [tuple(encode(e[c]) if c == "payload" else e.get(c) for c in EVENT_FIELDS) + (mission_id,)
        for e in data["events"]]
run = data["run"]
run_columns = ("run_id", "mission_id", "status", "started_at", "updated_at")
with store.bulk_insert() as bulk:
    bulk.insert("runs", run_columns, [tuple(run[c] for c in run_columns)])
    bulk.insert("events", columns, rows, expected=len(rows))
""",
}

EPILOGUE = """
wall, cpu = time.perf_counter() - started, time.process_time() - cpu
events = store.count("events")
report(wall_s=wall, cpu_s=cpu, events=events)
"""

OPEN = """
import resource, sys, time
import psutil
import missionlab
started, cpu = time.perf_counter(), time.process_time()
trace = missionlab.open_run(sys.argv[1])
wall, cpu = time.perf_counter() - started, time.process_time() - cpu
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(repr({"wall_s": wall, "cpu_s": cpu, "peak_rss_mb": peak,
            "rss_after_mb": psutil.Process().memory_info().rss / 2**20, "events": len(trace.events)}))
"""

PAGE = """
import resource, sys, threading, time
import psutil
import missionlab
process, peak = psutil.Process(), [0]
def watch():
    while True:
        peak[0] = max(peak[0], process.memory_info().rss)
        time.sleep(0.05)
threading.Thread(target=watch, daemon=True).start()
trace = missionlab.open_run(sys.argv[1])
trace.events_frame  # the trace's own frame, which any view builds once
base = process.memory_info().rss
peak[0] = base
started = time.perf_counter()
page = trace.to_html()
print(repr({"to_html_s": time.perf_counter() - started, "to_html_over_trace_mb": (peak[0] - base) / 2**20,
            "page_mb": len(page) / 2**20}))
"""


def child(code: str, *args: str, source: Path | None = None) -> dict[str, float]:
    """Run ``code`` in a fresh process (with the package from ``source``, a ``src`` folder,
    when given) and return the dict it printed last."""
    env = dict(os.environ)
    if source is not None:
        env["PYTHONPATH"] = str(source)
    done = subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, check=False, env=env
    )
    if done.returncode != 0:
        raise RuntimeError(done.stderr.strip().splitlines()[-1] if done.stderr.strip() else "failed")
    figures: dict[str, float] = ast.literal_eval(done.stdout.strip().splitlines()[-1])
    return figures


def export(rev: str, folder: Path) -> Path | None:
    """The package's ``src`` folder as it is at ``rev``, exported from git into ``folder``
    (None when the repository or the revision is not there)."""
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", rev, "src"], capture_output=True, check=False
    )
    if archive.returncode != 0:
        return None
    subprocess.run(["tar", "-x", "-C", str(folder)], input=archive.stdout, check=True)
    return folder / "src"


def ratio(figures: dict[str, dict[str, float]], way: str, name: str) -> float:
    return figures[way][name] / figures["now"][name] if "now" in figures else float("nan")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--ways", nargs="+", choices=list(WAYS), default=list(WAYS))
    parser.add_argument("--main", default=MAIN, help="the revision the 'main' way runs (default %(default)s)")
    parser.add_argument("--page", action="store_true", help="also time to_html")
    parser.add_argument("--indented", action="store_true", help="capsules indented as trace.save writes them")
    parser.add_argument("--json", help="also write the results to this JSON file")
    args = parser.parse_args()
    rows, open_rows, page_rows = [], [], []
    with tempfile.TemporaryDirectory(prefix="missionlab-capsules-") as folder:
        main_src = export(args.main, Path(folder)) if "main" in args.ways else None
        ways = [w for w in args.ways if w != "main" or main_src is not None]
        # every way runs the package of the tree it names: "now" (and "floor") this bench's own
        # tree, whatever the environment has installed (an editable install of another checkout)
        sources = {"now": ROOT / "src", "floor": ROOT / "src", "main": main_src}
        report = h.Report(
            "capsule_load",
            "Loading a big run capsule (serve --load), open_run and to_html",
            {"sizes": args.sizes, "ways": ways, "main": args.main},
        )
        for size in args.sizes:
            path = Path(folder) / f"run-{size}.json"
            generate(path, size, indented=args.indented)
            label = f"{size:,} events ({path.stat().st_size / 2**20:,.0f} MB)"
            loads: dict[str, dict[str, float]] = {}
            for way in ways:
                db = Path(folder) / f"{way}-{size}.db"
                figures = child(PRELUDE + WAYS[way] + EPILOGUE, str(path), str(db), source=sources.get(way))
                for suffix in ("", "-wal", "-shm"):
                    Path(f"{db}{suffix}").unlink(missing_ok=True)
                assert figures["events"] == size, (way, figures)
                loads[way] = figures
            opens: dict[str, dict[str, float]] = {}
            for way in [w for w in ways if w != "floor"]:
                opens[way] = child(OPEN, str(path), source=sources.get(way))
                assert opens[way]["events"] == size, (way, opens[way])
            for kind, results in (("load", loads), ("open", opens)):
                for way, figures in results.items():
                    for name, value in figures.items():
                        report.figure(f"{kind}_{way}_{size}_{name}", value)
            rows += [
                [label, way, f["wall_s"], f["cpu_s"], f["peak_rss_mb"], ratio(loads, way, "cpu_s")]
                for way, f in loads.items()
            ]
            open_rows += [
                [label, way, f["wall_s"], f["cpu_s"], f["peak_rss_mb"], f["rss_after_mb"],
                 ratio(opens, way, "cpu_s")]
                for way, f in opens.items()
            ]  # fmt: skip
            if args.page:
                figures = child(PAGE, str(path), source=ROOT / "src")
                for name, value in figures.items():
                    report.figure(f"page_{size}_{name}", value)
                page_rows.append(
                    [f"{size:,}", figures["to_html_s"], figures["to_html_over_trace_mb"], figures["page_mb"]]
                )
        shutil.rmtree(Path(folder) / "src", ignore_errors=True)
    report.table(
        "loading one capsule into a fresh database file (serve --load), each way in its own process",
        ["capsule", "way", "wall s", "CPU s", "peak RSS MB", "CPU x now"],
        rows,
    )
    report.table(
        "open_run of the same capsule, each way in its own process",
        ["capsule", "way", "wall s", "CPU s", "peak RSS MB", "RSS after MB", "CPU x now"],
        open_rows,
    )
    if page_rows:
        report.table(
            "to_html (default bound) beyond the opened trace and its events frame",
            ["events", "to_html s", "to_html over trace MB", "page MB"],
            page_rows,
        )
    report.note(f"machine: {os.cpu_count()} CPUs; wall times are shared with whatever else runs")
    report.save(args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
