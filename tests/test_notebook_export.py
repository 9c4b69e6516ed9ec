"""A notebook that displays traces, executed, saved and exported with ``jupyter nbconvert --to
html``, still shows their Gantts: the HTML carries each figure and plotly.js once (no CDN), and
in headless Chromium with no network every Gantt is drawn. Each displayed trace adds at most
about 300 KB to the saved notebook (plotly.js is stored once, not per output)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import nbformat
import plotly.graph_objects as go
import plotly.io as pio
import pytest
from nbclient import NotebookClient
from plotly.offline import get_plotlyjs

from .crafted import craft, event, step

CHROMIUM = "/usr/bin/chromium"
PER_TRACE = 300_000
# what plotly.js's own bundle begins with (independent of how missionlab embeds it)
PLOTLYJS_MARK = get_plotlyjs()[:60]


def _capsule(folder: Path) -> Path:
    """A failed run of 60 steps and some 600 events, saved as a capsule."""
    steps = [step(f"s{n}", 10 * n, 10 * n + 8, sequence=n + 1) for n in range(59)]
    steps.append(step("s59", 590, 600, "failed", sequence=60))
    events = [
        event(10 * n + k, "message", f"s{n}", f"note {k} of step {n}", {"k": k})
        for n in range(60)
        for k in range(9)
    ]
    events.append(event(599, "error", "s59", "the booking API refused", {"error": "HTTP 500"}))
    return craft(steps, events, status="failed", run_id="run-export").save(folder / "run.capsule.json")


def _notebook(capsule: Path, displays: int) -> nbformat.NotebookNode:
    cells = [nbformat.v4.new_code_cell(f"import missionlab\ntrace = missionlab.open_run({str(capsule)!r})")]  # type: ignore[no-untyped-call]
    cells += [nbformat.v4.new_code_cell("trace") for _ in range(displays)]  # type: ignore[no-untyped-call]
    notebook: nbformat.NotebookNode = nbformat.v4.new_notebook(cells=cells)  # type: ignore[no-untyped-call]
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    return notebook


def _executed(capsule: Path, displays: int, folder: Path) -> Path:
    notebook = _notebook(capsule, displays)
    NotebookClient(
        notebook, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(folder)}}
    ).execute()
    path = folder / f"shown-{displays}.ipynb"
    nbformat.write(notebook, path)  # type: ignore[no-untyped-call]
    return path


@pytest.fixture(scope="module")
def saved(tmp_path_factory: pytest.TempPathFactory) -> dict[int, Path]:
    folder = tmp_path_factory.mktemp("export")
    capsule = _capsule(folder)
    return {displays: _executed(capsule, displays, folder) for displays in (1, 3)}


@pytest.mark.slow
def test_a_saved_notebook_grows_by_less_than_300_kb_per_displayed_trace(saved: dict[int, Path]) -> None:
    one, three = (saved[n].stat().st_size for n in (1, 3))
    assert (three - one) / 2 <= PER_TRACE, (one, three)
    outputs = [o for c in nbformat.read(saved[3], as_version=4).cells for o in c.get("outputs", [])]  # type: ignore[no-untyped-call]
    html = "".join(o.get("data", {}).get("text/html", "") for o in outputs)
    assert html.count(PLOTLYJS_MARK) == 1  # plotly.js stored once
    figures = [o for o in outputs if "application/vnd.plotly.v1+json" in o.get("data", {})]
    assert len(figures) == 3 and all("text/html" in o["data"] for o in figures)


@pytest.mark.slow
@pytest.mark.browser
def test_the_exported_html_draws_every_gantt_offline(saved: dict[int, Path], tmp_path: Path) -> None:
    import playwright.sync_api as playwright_api

    notebook = saved[3]
    subprocess.run(
        [
            sys.executable,
            "-m",
            "jupyter",
            "nbconvert",
            "--to",
            "html",
            "--output-dir",
            str(tmp_path),
            str(notebook),
        ],
        check=True,
        capture_output=True,
    )
    page_path = tmp_path / notebook.with_suffix(".html").name
    exported = page_path.read_text(encoding="utf-8")
    assert exported.count(PLOTLYJS_MARK) == 1  # plotly.js inlined once
    scripts = re.findall(r"<script[^>]*\bsrc=[\"']?([^\"' >]+)", exported)
    # only nbconvert's own template loads anything (require.js, MathJax), and nothing needs it
    assert all(url.startswith("https://cdnjs.cloudflare.com/ajax/libs/") for url in scripts), scripts
    assert "Plotly.newPlot" in exported
    assert exported.count("the booking API refused") >= 3  # each figure's data (and the explanation)
    errors: list[str] = []
    with playwright_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])
        context = browser.new_context(offline=True, viewport={"width": 1200, "height": 900})
        context.route(
            "**/*",
            lambda route: route.continue_() if route.request.url.startswith("file:") else route.abort(),
        )
        page = context.new_page()
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.goto(page_path.as_uri())
        page.wait_for_function("document.querySelectorAll('.js-plotly-plot .main-svg').length >= 3")
        plots = page.evaluate("document.querySelectorAll('.js-plotly-plot').length")
        bars = page.evaluate("document.querySelectorAll('.js-plotly-plot .barlayer .point path').length")
        browser.close()
    assert plots == 3 and bars >= 3 * 60
    assert errors == []


FIGURES = """
import missionlab
from missionlab.figures import charts
trace = missionlab.open_run({capsule!r})
"""


@pytest.mark.slow
def test_figures_shown_directly_survive_export_and_a_chosen_renderer_is_kept(tmp_path: Path) -> None:
    capsule = _capsule(tmp_path)
    sources = [
        FIGURES.format(capsule=str(capsule)),
        "missionlab.gantt(trace)",
        "trace.gantt(replay=True)",
        "charts.runs_chart([trace.run])",
        "import plotly.io as pio\npio.renderers.default = 'json'\ncharts.runs_chart([trace.run])",
    ]
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(s) for s in sources])  # type: ignore[no-untyped-call]
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    env_free = {"metadata": {"path": str(tmp_path)}}
    NotebookClient(notebook, timeout=300, kernel_name="python3", resources=env_free).execute()
    outputs = [[o.get("data", {}) for o in cell.get("outputs", [])] for cell in notebook.cells]
    shown = [[d for d in cell if "application/vnd.plotly.v1+json" in d] for cell in outputs[1:4]]
    # each figure: plotly's JSON for Lab, VS Code and Voila, and its HTML for nbconvert and nbviewer
    assert [len(cell) for cell in shown] == [1, 1, 1]
    assert all("Plotly.newPlot" in cell[0]["text/html"] for cell in shown)
    # the replay rests at the run's end when the page loads (plotly's default would play it)
    assert "Plotly.animate(" in pio.to_html(go.Figure(shown[1][0]["application/vnd.plotly.v1+json"]))
    assert "Plotly.animate(" not in shown[1][0]["text/html"]
    html = "".join(d.get("text/html", "") for cell in outputs for d in cell)
    assert html.count(PLOTLYJS_MARK) == 1  # plotly.js once, with the first figure
    # the user chose plotly's json renderer: that is what they get
    assert [sorted(d) for d in outputs[4]] == [["application/json"]]
    path = tmp_path / "figures.ipynb"
    nbformat.write(notebook, path)  # type: ignore[no-untyped-call]
    convert = [sys.executable, "-m", "jupyter", "nbconvert", "--to", "html", "--output-dir", str(tmp_path)]
    subprocess.run(
        [*convert, str(path)],
        check=True,
        capture_output=True,
    )
    exported = (tmp_path / "figures.html").read_text(encoding="utf-8")
    assert exported.count(PLOTLYJS_MARK) == 1 and exported.count("Plotly.newPlot") == 3
