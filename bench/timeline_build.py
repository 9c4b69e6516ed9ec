"""How long building a run's Gantt takes, beside plotly express's px.timeline on the same frame.

    python bench/timeline_build.py [--json FILE]

Plans of 50, 500 and 2,000 steps (nested, mixed statuses) with ten events per
step are made up deterministically; each figure is built three times and the best
time is printed. ``px.timeline`` draws only the bars (no events, hover or
shading), so it does less work than ``missionlab.gantt``.
"""

from __future__ import annotations

import argparse
import json
import random
import time
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

import pandas as pd
import plotly.express as px

from missionlab.figures.timeline import gantt
from missionlab.frames import events_frame, steps_frame

START = datetime(2026, 11, 1, tzinfo=UTC)


def plan(n_steps: int, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame, datetime]:
    rng = random.Random(seed)
    steps: list[dict[str, Any]] = []
    events: list[dict[str, Any]] = []
    t = START
    for i in range(n_steps):
        parent = f"s{i - i % 5}" if i % 5 else None
        duration = timedelta(seconds=rng.uniform(1, 90))
        status = rng.choices(["completed", "failed", "skipped", "in_progress", "pending"], [80, 5, 5, 5, 5])[
            0
        ]
        started = None if status in ("pending", "skipped") else t
        ended = t + duration if status in ("completed", "failed", "skipped") else None
        steps.append(
            {
                "run_id": "r",
                "step_id": f"s{i}",
                "sequence": i,
                "parent_step_id": parent,
                "description": f"Step {i}: " + "validate a table of the warehouse " * 2,
                "status": status,
                "started_at": started,
                "completed_at": ended,
                "metadata": {"attempt": 1},
            }
        )
        for k in range(10):
            events.append(
                {
                    "event_id": f"e{i}-{k}",
                    "run_id": "r",
                    "type": rng.choice(["tool_call", "tool_result", "message"]),
                    "summary": f"event {k} of step {i}",
                    "step_id": f"s{i}",
                    "timestamp": t + duration * (k / 10),
                    "payload": {"k": k},
                }
            )
        t += duration
    return steps_frame(steps, now=t), events_frame(events), t


def best_of(fn: Any, repeat: int = 3) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", help="also write the results to this JSON file")
    args = parser.parse_args()
    rows = []
    steps, events, now = plan(5)
    gantt(steps, events, now=now)  # warm plotly's validators up
    print(f"{'steps':>6}{'events':>8}{'missionlab.gantt s':>20}{'px.timeline s':>15}{'ratio':>8}")
    for n in (50, 500, 2000):
        steps, events, now = plan(n)
        ours = best_of(partial(gantt, steps, events, now=now))
        bars = steps[steps["started_at"].notna()].assign(
            end=lambda f: f["completed_at"].fillna(f["started_at"] + pd.Timedelta(seconds=1))
        )
        theirs = best_of(
            partial(
                px.timeline,
                bars,
                x_start="started_at",
                x_end="end",
                y="step_id",
                color="status",
                hover_data=["description", "duration_s"],
            )
        )
        print(f"{n:>6}{len(events):>8}{ours:>20.3f}{theirs:>15.3f}{theirs / ours:>8.1f}x")
        rows.append([n, len(events), round(ours, 3), round(theirs, 3), f"{theirs / ours:.1f}x"])
    if args.json:
        Path(args.json).write_text(
            json.dumps(
                {
                    "script": "timeline_build",
                    "title": "Building a Gantt beside px.timeline",
                    "args": {},
                    "notes": ["best of 3; px.timeline draws only the bars (no events, hover or shading)"],
                    "tables": [
                        {
                            "title": "seconds to build the figure",
                            "columns": ["steps", "events", "missionlab.gantt s", "px.timeline s", "ratio"],
                            "rows": rows,
                        }
                    ],
                    "figures": {},
                },
                indent=1,
            )
        )


if __name__ == "__main__":
    main()
