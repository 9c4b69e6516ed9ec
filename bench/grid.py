"""How long the grid of 50 runs x 30 plan steps takes to draw, beside plotly express's px.imshow.

    python bench/grid.py [--runs 50] [--steps 30] [--repeat 7] [--png DIR] [--json FILE]

A fleet is made up deterministically: runs of one mission, plans of ``--steps`` steps (a
few nested), mixed statuses, a failed tool call retried in some steps, a step added mid-run
in some runs, a step dropped from some plans, one tool call and its result per step. Sides,
on the same traces, in alternating rounds: ``missionlab.grid`` (cells, failed attempts,
drift, hover, and the figure's JSON as a notebook receives it) and ``px.imshow`` of the
status codes alone (no attempts, drift or hover: less work). Target: under 0.5 s. Wall and
CPU time are printed (CPU time says more on a loaded machine), with the load average.
``--png DIR`` writes the grid at 1,024 px, light and dark.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import _harness as h
import numpy as np
import plotly.express as px

import missionlab
from missionlab.figures.grid import grid, grid_data
from missionlab.trace import RunTrace

START = datetime(2026, 11, 1, tzinfo=UTC)
TARGET_S = 0.5


def fleet(n_runs: int, n_steps: int, seed: int = 0) -> list[RunTrace]:
    """``n_runs`` runs of one mission, an hour apart (see the module's docstring)."""
    rng = random.Random(seed)
    mission = missionlab.Mission(
        mission_id="m-bench",
        name="Warehouse QA (bench)",
        execution_mode="external",
        created_at=START,
        updated_at=START,
    )
    traces = []
    for r in range(n_runs):
        run_id = f"run-{r:03d}"
        t = START + timedelta(hours=r)
        steps: list[dict[str, Any]] = []
        events: list[dict[str, Any]] = []
        failed_run = rng.random() < 0.12
        dropped = rng.randrange(n_steps) if rng.random() < 0.2 else None
        added = rng.random() < 0.15
        ids = [i for i in range(n_steps) if i != dropped]
        order = [*ids, n_steps] if added else ids
        for position, i in enumerate(order):
            step_id = f"s{i:02d}"
            parent = f"s{i - i % 6:02d}" if i % 6 and i < n_steps else None
            # an added step is numbered last and run third: it jumps the queue
            if added and i == n_steps:
                continue
            status = "completed"
            if failed_run and position == len(order) - 3:
                status = "failed"
            elif failed_run and position > len(order) - 3:
                status = "skipped"
            seconds = rng.lognormvariate(1.5, 0.6) * (3 if i % 7 == 0 else 1)
            start = t if status != "skipped" else None
            end = t + timedelta(seconds=seconds) if status != "skipped" else t
            steps.append(_step(run_id, step_id, i + 1, parent, status, start, end))
            if start is not None:
                events += _calls(run_id, step_id, start, seconds, retry=rng.random() < 0.1)
                t = end
            if added and position == 2:  # the added step, between the plan's third and fourth
                extra = _step(
                    run_id, f"s{n_steps:02d}", n_steps + 1, None, "completed", t, t + timedelta(seconds=2)
                )
                steps.append(extra)
                t += timedelta(seconds=2)
        run = missionlab.Run(
            run_id=run_id,
            mission_id="m-bench",
            status="failed" if failed_run else "succeeded",
            started_at=START + timedelta(hours=r),
            finished_at=t,
            updated_at=t,
        )
        plan = [missionlab.PlanStep(**s) for s in steps]
        models = [missionlab.Event(**e) for e in events]
        traces.append(RunTrace(run=run, steps=plan, events=models, mission=mission))
    return traces


def _step(
    run_id: str, step_id: str, sequence: int, parent: str | None, status: str, start: Any, end: Any
) -> dict[str, Any]:
    return {
        "run_id": run_id,
        "step_id": step_id,
        "sequence": sequence,
        "parent_step_id": parent,
        "description": f"Check table {step_id} of the warehouse",
        "status": status,
        "started_at": start,
        "completed_at": end,
    }


def _calls(
    run_id: str, step_id: str, start: datetime, seconds: float, *, retry: bool
) -> list[dict[str, Any]]:
    events = []
    tries = [False, True] if retry else [True]
    for attempt, ok in enumerate(tries, start=1):
        moment = start + timedelta(seconds=seconds * attempt / (len(tries) + 1))
        request = f"{run_id}-{step_id}-{attempt}"
        events.append(
            _event(run_id, step_id, moment, "tool_call", {"tool": "sql.query", "request_id": request})
        )
        payload = {"tool": "sql.query", "request_id": request, "ok": ok}
        events.append(_event(run_id, step_id, moment + timedelta(milliseconds=300), "tool_result", payload))
    return events


def _event(run_id: str, step_id: str, moment: datetime, kind: str, payload: dict[str, Any]) -> dict[str, Any]:
    return {
        "event_id": f"{payload['request_id']}-{kind}",
        "run_id": run_id,
        "step_id": step_id,
        "type": kind,
        "timestamp": moment,
        "summary": f"{kind} sql.query",
        "payload": payload,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--png", help="write grid-light.png and grid-dark.png (1,024 px) here")
    parser.add_argument("--json", help="also write the results to this JSON file")
    args = parser.parse_args()
    traces = fleet(args.runs, args.steps)
    for trace in traces:  # the traces' frames are built once, as in a notebook that has them
        _ = trace.steps_frame, trace.events_frame
    data = grid_data(traces)
    codes = {status: code for code, status in enumerate(sorted(set(data.cells["status"])))}
    status_codes = data.statuses().apply(lambda column: column.map(codes)).to_numpy(dtype="float64")

    cpu: dict[str, list[float]] = {"missionlab.grid": [], "px.imshow": []}  # CPU seconds of each call

    def ours() -> None:
        started = time.process_time()
        grid(traces).to_json()
        cpu["missionlab.grid"].append(time.process_time() - started)

    def theirs() -> None:
        started = time.process_time()
        px.imshow(status_codes, aspect="auto").to_json()
        cpu["px.imshow"].append(time.process_time() - started)

    times = h.alternate({"missionlab.grid": ours, "px.imshow": theirs}, args.repeat, warmup=True)
    mine, floor = statistics.median(times["missionlab.grid"]), statistics.median(times["px.imshow"])
    mine_cpu, floor_cpu = (statistics.median(cpu[side][1:]) for side in ("missionlab.grid", "px.imshow"))
    cells = int(np.isfinite(status_codes).sum())
    load = os.getloadavg()[0]
    print(
        f"{args.runs} runs x {args.steps} steps ({cells} cells), median of {args.repeat}, figure + to_json "
        f"(load average {load:.1f}):"
    )
    print(
        f"  missionlab.grid  {mine:.3f} s, {mine_cpu * 1000:.0f} ms CPU   "
        f"(target < {TARGET_S} s: {'met' if mine < TARGET_S else 'MISSED'})"
    )
    print(f"  px.imshow        {floor:.3f} s, {floor_cpu * 1000:.0f} ms CPU   (status colors only)")
    print(f"  ratio            {mine / floor:.1f}x the bare heatmap ({mine_cpu / floor_cpu:.1f}x in CPU)")
    if args.png:
        out = Path(args.png)
        out.mkdir(parents=True, exist_ok=True)
        grid(traces).update_layout(width=1024, paper_bgcolor="#ffffff").write_image(out / "grid-light.png")
        dark = grid(traces, theme=None).update_layout(
            template="plotly_dark", width=1024, paper_bgcolor="#111111"
        )
        dark.write_image(out / "grid-dark.png")
        print(f"  wrote {out / 'grid-light.png'} and {out / 'grid-dark.png'}")
    if args.json:
        Path(args.json).write_text(
            json.dumps(
                {
                    "script": "grid",
                    "title": "Drawing the grid beside px.imshow",
                    "args": {"runs": args.runs, "steps": args.steps, "repeat": args.repeat},
                    "notes": [
                        f"median of {args.repeat}; target < {TARGET_S} s; px.imshow draws status colors only"
                    ],
                    "tables": [
                        {
                            "title": "seconds to draw (figure and to_json)",
                            "columns": ["runs", "steps", "missionlab.grid s", "px.imshow s", "ratio"],
                            "rows": [
                                [
                                    args.runs,
                                    args.steps,
                                    round(mine, 3),
                                    round(floor, 3),
                                    f"{mine / floor:.1f}x",
                                ]
                            ],
                        }
                    ],
                    "figures": {
                        "grid_s": mine,
                        "imshow_s": floor,
                        "grid_cpu_s": mine_cpu,
                        "imshow_cpu_s": floor_cpu,
                        "load_average": load,
                        "target_s": TARGET_S,
                    },
                },
                indent=1,
            )
        )


if __name__ == "__main__":
    main()
