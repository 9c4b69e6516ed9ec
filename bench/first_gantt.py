"""Time to the first Gantt of a run (500 steps, 5,000 events): fetch + figure + ``to_json``.

    python bench/first_gantt.py [--steps 500] [--events 5000] [--repeat 9]

Sides: missionlab (``load_run`` + ``gantt``) and what a user of the official ``telnyx``
SDK would write (fetch the run, its plan and its events, ``pd.DataFrame([...model_dump()])``,
``px.timeline`` of the steps that have started), with the SDK's events fetched at its
default page size and at page size 1000. Each side gets a fresh client per repetition
against a sandbox in its own process; one warm-up round is not counted. Then the figure
alone, on the same frames: ``missionlab.gantt`` (bars, events, hover, shading) against
``px.timeline`` (bars only), with the size of each figure's JSON.
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import UTC
from typing import Any

import _harness as h
import pandas as pd
import plotly.express as px


def timeline_bars(steps: pd.DataFrame, now: Any) -> pd.DataFrame:
    """The steps that have started, ending now when they have not finished (for px.timeline)."""
    started = steps[steps["started_at"].notna()]
    return started.assign(end=started["completed_at"].fillna(now))


def px_figure(bars: pd.DataFrame) -> Any:
    return px.timeline(
        bars, x_start="started_at", x_end="end", y="step_id", color="status", hover_data=["description"]
    )


class Sides:
    """The jobs, each recording how long its phases took."""

    def __init__(self, base: str, mission_id: str, run_id: str) -> None:
        self.base, self.mission_id, self.run_id = base, mission_id, run_id
        self.phases: dict[str, list[tuple[float, float, float]]] = {}
        self.json_size: dict[str, int] = {}

    def _record(self, side: str, marks: list[float], figure_json: str) -> None:
        self.phases.setdefault(side, []).append(
            (marks[1] - marks[0], marks[2] - marks[1], marks[3] - marks[2])
        )
        self.json_size[side] = len(figure_json)

    def missionlab(self) -> None:
        from missionlab import Client, gantt, load_run

        marks = [time.perf_counter()]
        with Client(api_key=h.TOKEN, base_url=self.base) as client:
            trace = load_run(client, self.mission_id, self.run_id)
        marks.append(time.perf_counter())
        figure = gantt(trace)
        marks.append(time.perf_counter())
        figure_json = figure.to_json()
        marks.append(time.perf_counter())
        self._record("missionlab", marks, figure_json)

    def sdk(self, page_size: int | None) -> None:
        from telnyx import Telnyx

        marks = [time.perf_counter()]
        with Telnyx(api_key=h.TOKEN, base_url=self.base) as sdk:
            runs = sdk.ai.missions.runs
            run = runs.retrieve(self.run_id, mission_id=self.mission_id).data
            plan = runs.plan.retrieve(self.run_id, mission_id=self.mission_id).data
            size: dict[str, Any] = {} if page_size is None else {"page_size": page_size}
            events = [
                e.model_dump()
                for page in runs.events.list(self.run_id, mission_id=self.mission_id, **size).iter_pages()
                for e in page.data
            ]
        steps = pd.DataFrame([s.model_dump() for s in plan])
        pd.DataFrame(events)
        now = run.finished_at or pd.Timestamp.now(tz=UTC)
        marks.append(time.perf_counter())
        figure = px_figure(timeline_bars(steps, now))
        marks.append(time.perf_counter())
        figure_json = figure.to_json()
        marks.append(time.perf_counter())
        self._record("sdk-default" if page_size is None else "sdk-1000", marks, figure_json)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=500)
    parser.add_argument("--events", type=int, default=5000)
    parser.add_argument("--repeat", type=int, default=9, help="repetitions per side (default 9)")
    parser.add_argument("--json", help="also write the results to this JSON file")
    args = parser.parse_args()
    from missionlab import Client, gantt, load_run

    report = h.Report(
        "first_gantt",
        f"First Gantt of a run: {args.steps} steps, {args.events:,} events",
        {"steps": args.steps, "events": args.events, "repeat": args.repeat},
    )
    with h.sandbox(lambda store: h.seed_run(store, steps=args.steps, events=args.events)) as (server, ids):
        sides = Sides(server.base, ids["mission_id"], ids["run_id"])
        jobs = {
            "missionlab": sides.missionlab,
            "sdk-default": lambda: sides.sdk(None),
            "sdk-1000": lambda: sides.sdk(1000),
        }
        times = h.alternate(jobs, args.repeat, warmup=True)
        with Client(api_key=h.TOKEN, base_url=server.base) as client:
            trace = load_run(client, ids["mission_id"], ids["run_id"])
    labels = {
        "missionlab": "missionlab (load_run + gantt)",
        "sdk-default": "SDK, default page + px.timeline",
        "sdk-1000": "SDK, page 1000 + px.timeline",
    }
    total = {side: h.median(t) for side, t in times.items()}
    rows = []
    for side, label in labels.items():
        runs = sides.phases[side][-args.repeat :]  # the warm-up round is not counted
        fetch, build, dump = (h.median([r[i] for r in runs]) for i in range(3))
        rows.append(
            [
                label,
                total[side],
                fetch,
                build,
                dump,
                total[side] / total["missionlab"],
                sides.json_size[side] / 1024,
            ]
        )
    report.table(
        f"fetch + figure + to_json, median seconds of {args.repeat} (after a warm-up)",
        ["side", "total", "fetch + frames", "figure", "to_json", "x missionlab", "JSON KiB"],
        rows,
    )
    report.figure("total_s", total)

    # the figure alone, on the same frames
    steps, events, now = trace.steps_frame, trace.events_frame, pd.Timestamp(ids["end"])
    bars = timeline_bars(steps, now)
    built: dict[str, Any] = {}

    def ours() -> None:
        built["missionlab"] = gantt(steps, events, run=trace.run, now=now)

    def theirs() -> None:
        built["px"] = px_figure(bars)

    figure_times = h.alternate(
        {"missionlab.gantt": ours, "px.timeline": theirs}, 3 * args.repeat, warmup=True
    )
    ours_s, px_s = h.median(figure_times["missionlab.gantt"]), h.median(figure_times["px.timeline"])
    ours_json, px_json = len(built["missionlab"].to_json()), len(built["px"].to_json())
    report.table(
        f"the figure alone, same {len(bars)} bars (median of {3 * args.repeat})",
        ["figure", "build s", "JSON KiB", "traces"],
        [
            [
                "missionlab.gantt (bars, events, hover, shading)",
                ours_s,
                ours_json / 1024,
                len(built["missionlab"].data),
            ],
            ["px.timeline (bars only)", px_s, px_json / 1024, len(built["px"].data)],
            ["missionlab / px", ours_s / px_s, ours_json / px_json, float("nan")],
        ],
    )
    report.figure("figure_s", {"missionlab": ours_s, "px": px_s})
    report.figure("figure_json_bytes", {"missionlab": ours_json, "px": px_json})
    report.save(args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
