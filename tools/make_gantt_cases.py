"""Draw the Gantt's hard cases from the labelled scenario corpus, light and dark, as PNGs.

    python tools/make_gantt_cases.py

Writes docs/gantt-cases/CASE-light.png and CASE-dark.png (docs/timelines.md shows them):
an error on a failed bar, attempts measured to their own answer, a step added after the run
started, and a replay stopped midway. The Gantt's own paper is transparent (it takes the
page's colour), so each picture is drawn on JupyterLab's light (#ffffff) and dark (#111111)
page colour. Needs the ``pictures`` extra (kaleido).
"""

from __future__ import annotations

from pathlib import Path

import plotly.graph_objects as go

import missionlab
from missionlab.figures.time_slider import layout_at, moments, running_bars, updates_at

ROOT = Path(__file__).parents[1]
CORPUS = ROOT / "tests" / "data" / "scenarios"
OUT = ROOT / "docs" / "gantt-cases"
PAGES = {"light": "#ffffff", "dark": "#111111"}
SIZE = {"width": 1000, "height": 420}


def midway(figure: go.Figure, trace: missionlab.RunTrace) -> go.Figure:
    """The Gantt as its replay shows it halfway through the run, the moment marked."""
    times = moments(trace)
    moment = times[len(times) // 2]
    figure.add_trace(running_bars())
    for drawn, update in zip(figure.data, updates_at(figure.data, moment), strict=True):
        drawn.update(update)
    shown = layout_at(figure.layout, moment)  # the lines known by then, and the moment's
    figure.layout.shapes, figure.layout.annotations = shown["shapes"], shown["annotations"]
    return figure


def cases() -> dict[str, go.Figure]:
    """Each case's figure, from its capsule in the corpus."""
    retries = missionlab.open_run(CORPUS / "fail-after-retries.json")
    rate_limited = missionlab.open_run(CORPUS / "rate-limit-then-success.json")
    added = missionlab.open_run(CORPUS / "plan-added-step.json")
    return {
        "error-on-failed-bar": retries.gantt(title="A step failed after retries: its error on the red bar"),
        "attempts": rate_limited.gantt(title="Rate limited, then answered: each attempt to its own answer"),
        "drift": added.gantt(title="A step added after the run started, marked when it appeared"),
        "replay-midway": midway(retries.gantt(title="The replay halfway: nothing later is drawn"), retries),
    }


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for name, figure in cases().items():
        for look, page in PAGES.items():
            path = OUT / f"{name}-{look}.png"
            figure.update_layout(paper_bgcolor=page)
            figure.write_image(path, **SIZE, scale=1)
            print(f"wrote {path.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
