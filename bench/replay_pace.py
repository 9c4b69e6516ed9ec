"""The share page's replay pace in headless Chromium: milliseconds per frame of a 500-step run.

    python bench/replay_pace.py [--steps 500] [--events 5000] [--frames 12] [--json FILE]

A replay plays one frame every 250 ms when the browser draws a frame in less than that;
past it, the replay slows down to the drawing's pace. This page of a crafted run (every
step 9 s long, the events spread over the steps) is opened in Debian's Chromium
(``/usr/bin/chromium``, driven by playwright) and stepped through ``--frames`` frames, each
``Plotly.animate`` awaited and timed, as the play button does, twice: as shipped, and with
plotly's default y-axis ``ticklabeloverflow`` put back (which measures every row label once
per label on each redraw), alternating pages. Medians of the frames.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import _harness as h

import missionlab

RUN_ID = "87d2d4c4-596a-4adc-b985-4e7befd16fd9"
MISSION_ID = "182bd5e5-6e1a-4fe4-a799-aa6d9a6ab26e"
START = datetime(2026, 1, 1, tzinfo=UTC)
TYPES = ["tool_call", "tool_result", "message", "step_started", "step_completed"]
CHROMIUM = "/usr/bin/chromium"
FRAME_MS = 250

STEP_THROUGH = """async ([count, overflow]) => {
  const gd = document.getElementById('missionlab-gantt');
  if (overflow) await Plotly.relayout(gd, {'yaxis.ticklabeloverflow': overflow});
  const names = gd._transitionData._frames.map(f => f.name).slice(0, count);
  const options = gd.layout.updatemenus[0].buttons[0].args[1];
  const times = [];
  for (const name of names) {
    const t0 = performance.now();
    await Plotly.animate(gd, [name], {...options, frame: {...options.frame, duration: 0}});
    times.push(performance.now() - t0);
  }
  return times;
}"""


def at(seconds: float) -> str:
    return (START + timedelta(seconds=seconds)).isoformat().replace("+00:00", "Z")


def capsule(steps: int, events: int) -> dict[str, Any]:
    """A finished run of ``steps`` 9-second steps, one after the other, and ``events`` events
    spread evenly over them."""
    span = steps * 10
    return {
        "format": "missionlab-run-capsule",
        "version": 1,
        "mission": {"mission_id": MISSION_ID, "name": "Replay pace", "execution_mode": "external",
                    "created_at": at(0), "updated_at": at(0)},
        "run": {"run_id": RUN_ID, "mission_id": MISSION_ID, "status": "succeeded", "started_at": at(0),
                "updated_at": at(span), "finished_at": at(span)},
        "plan": [
            {"step_id": f"s{n}", "run_id": RUN_ID, "sequence": n, "description": f"Step {n}",
             "status": "completed", "started_at": at(n * 10), "completed_at": at(n * 10 + 9)}
            for n in range(steps)
        ],
        "events": [
            {"event_id": f"e{i}", "run_id": RUN_ID, "type": TYPES[i % len(TYPES)], "summary": f"event {i}",
             "timestamp": at(i * span / events + 0.5), "step_id": f"s{i * steps // events}"}
            for i in range(events)
        ],
        "agents": [],
    }  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=500)
    parser.add_argument("--events", type=int, default=5000)
    parser.add_argument("--frames", type=int, default=12)
    parser.add_argument("--repeat", type=int, default=2, help="pages of each kind, alternating")
    parser.add_argument("--json")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    report = h.Report("replay_pace", "Share page replay: ms per frame in Chromium", vars(args))
    trace = missionlab.open_run(capsule(args.steps, args.events))
    kinds = {"as shipped": None, "plotly's default label overflow": "hide past div"}
    per_frame: dict[str, list[float]] = {kind: [] for kind in kinds}
    with tempfile.TemporaryDirectory() as folder, sync_playwright() as playwright:
        page_path = Path(folder) / "run.html"
        page_path.write_text(trace.to_html(), encoding="utf-8")
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        for _ in range(args.repeat):
            for kind, overflow in kinds.items():
                page = browser.new_page(viewport={"width": 1280, "height": 900})
                page.set_default_timeout(600_000)
                page.goto(page_path.as_uri(), wait_until="domcontentloaded")
                page.wait_for_function("document.getElementById('missionlab-gantt')?._fullLayout")
                per_frame[kind] += page.evaluate(STEP_THROUGH, [args.frames, overflow])
                page.close()
        browser.close()
    shipped = statistics.median(per_frame["as shipped"])
    rows = [
        [kind, statistics.median(times), max(times), h.ratio(statistics.median(times), FRAME_MS)]
        for kind, times in per_frame.items()
    ]
    report.table(
        f"{args.steps} steps, {args.events:,} events: one frame drawn",
        ["page", "median ms", "max ms", "x the 250 ms frame"],
        rows,
    )
    report.figure("ms_per_frame", shipped)
    report.figure("ms_per_frame_default_overflow", statistics.median(per_frame[next(reversed(kinds))]))
    report.note(f"the replay keeps its 250 ms pace when a frame draws in less: {shipped:.0f} ms as shipped")
    report.save(args.json)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
