"""The figure patcher's plotly.js calls (its module's own ``applyOne``), run in Chromium on a
real Gantt drawn by plotly.js: a change made in place keeps what the figure set."""

from __future__ import annotations

from pathlib import Path

import pytest

from missionlab.widgets._figure_patcher import _ESM

from .crafted import craft, step

CHROMIUM = "/usr/bin/chromium"


def _apply_one() -> str:
    """The module's ``applyOne`` function (and the helper it calls), as the module defines it."""
    start = _ESM.index("const wrapped")
    return _ESM[start : _ESM.index("export default", start)]


@pytest.mark.slow
@pytest.mark.browser
def test_a_restyle_in_place_keeps_the_gantts_rows_top_down(tmp_path: Path) -> None:
    import playwright.sync_api as playwright_api

    trace = craft([step(name, n, n + 1, sequence=n) for n, name in enumerate("abc", 1)])
    figure = trace.gantt()
    rows = len(figure.layout.meta["rows"])
    assert list(figure.layout.yaxis.range) == [rows - 0.5, -0.5]  # first row on top
    bars = next(i for i, t in enumerate(figure.data) if t.meta == "bar:completed")
    path = tmp_path / "gantt.html"
    figure.write_html(path, include_plotlyjs=True, div_id="gantt", auto_play=False)
    with playwright_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])
        page = browser.new_context(offline=True).new_page()
        page.goto(path.as_uri())
        page.wait_for_function("document.getElementById('gantt')._fullLayout !== undefined")
        page.add_script_tag(content=_apply_one() + "\nwindow.applyOne = applyOne;")
        shown = page.evaluate(
            """async (trace) => {
                const gd = document.getElementById('gantt');
                const x = Array.from(gd.data[trace].x, (v) => v * 2);  // the bars grow, in place
                await applyOne(Plotly, gd, {op: "restyle", trace, values: {x}});
                return [gd._fullLayout.yaxis.range, gd._fullLayout.yaxis.type, gd._fullLayout.xaxis.type];
            }""",
            bars,
        )
        browser.close()
    assert shown == [[rows - 0.5, -0.5], "linear", "date"]
