"""The explorer in real JupyterLab and Voila, in headless Chromium (Debian's, driven by playwright).

JupyterLab runs dashboard.ipynb with its file browser open at 1024x768, then at 1920x1080,
in the light and the dark theme; Voila serves the same notebook at both sizes and in both
themes. In each: select a mission, start a run, watch its Gantt gain bars, cancel it and see
its row read "cancelled" at once; no element of the explorer is wider than its container or
clipped, the Gantt's legend is on screen, the browser logs no error. The kernels talk to a
sandbox this test controls, seeded with a mission and a step whose name and description are
an HTML-injection payload, which must show as text. Screenshots go to artifacts/.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import playwright.sync_api as playwright_api
import pytest

from missionlab.sandbox import Sandbox

ROOT = Path(__file__).parents[1]
ARTIFACTS = ROOT / "artifacts"
CHROMIUM = "/usr/bin/chromium"
PAYLOAD = '<img src=x onerror="window.__xss=1">'
STEADY = "Steady browser-test mission"  # eight steps that never fail, about 8 s each at speed 15
STEADY_PLAN = {
    "plan": [
        {"step_id": f"s{i}", "description": f"Steady step {i}", "duration": 120, "jitter": 0.1}
        for i in range(1, 9)
    ]
}
TOKEN = "browser-test-token"
REFRESH_SECONDS = 3.0  # the explorer's default refresh interval
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
    "--disable-dev-shm-usage",
]
NARROW = {"width": 1024, "height": 768}
WIDE = {"width": 1920, "height": 1080}

pytestmark = [pytest.mark.slow, pytest.mark.browser]

# Every element of the explorer within the explorer, the explorer within its output area, and
# no text cut off by a box too small for it (plotly's own drawing excepted: checked as a whole).
LAYOUT_PROBLEMS = """
(root) => {
  const problems = [];
  const name = (el) => el.tagName.toLowerCase()
    + [...el.classList].slice(0, 3).map(c => '.' + c).join('');
  const span = (r) => `${Math.round(r.left)}..${Math.round(r.right)}`;
  const outer = root.getBoundingClientRect();
  const area = (root.parentElement.closest('.jp-OutputArea-output, .jp-Cell-outputArea, body'));
  const limit = area.getBoundingClientRect();
  if (outer.width < 300) problems.push(`explorer only ${outer.width}px wide`);
  if (outer.right > limit.right + 1) {
    problems.push(`explorer ${outer.width}px, wider than its container ${limit.width}px`);
  }
  for (const el of root.querySelectorAll('*')) {
    const r = el.getBoundingClientRect();
    if (!r.width || !r.height) continue;
    if (r.left < outer.left - 1 || r.right > outer.right + 1) {
      problems.push(`${name(el)} sticks out: ${span(r)} in ${span(outer)}`);
    }
    if (el.closest('.js-plotly-plot') || el.tagName === 'SELECT' || el.tagName === 'OPTION') continue;
    const style = getComputedStyle(el);
    if (['hidden', 'clip'].includes(style.overflowX) && el.scrollWidth > el.clientWidth + 1) {
      const text = el.textContent.trim().slice(0, 30);
      problems.push(`${name(el)} cuts its content: ${el.scrollWidth}px in ${el.clientWidth}px ("${text}")`);
    }
  }
  return problems.slice(0, 15);
}
"""

FIGURE_PROBLEMS = """
(plot) => {
  // a live run's figure is replaced every refresh: one being drawn or removed is retried
  const pane = plot.isConnected && plot.closest('.missionlab-figure');
  if (!pane || !plot.querySelector('.main-svg') || !plot.querySelector('.legend')) return ['drawing'];
  const svg = plot.querySelector('.main-svg').getBoundingClientRect();
  const box = pane.getBoundingClientRect();
  if (svg.height < 200) return [`the figure is ${Math.round(svg.height)}px high`];
  if (svg.width < 0.9 * box.width) {
    return [`the figure is ${Math.round(svg.width)}px wide in ${Math.round(box.width)}px`];
  }
  const legend = plot.querySelector('.legend');
  const r = legend.getBoundingClientRect();
  const span = (r) => `${Math.round(r.left)}..${Math.round(r.right)}`;
  const items = legend.querySelectorAll('.traces').length;
  const problems = [];
  if (!items) problems.push('the legend is empty');
  if (r.right > svg.right + 1 || r.left < svg.left - 1 || r.width < 20) {
    problems.push(`legend ${span(r)} outside the figure ${span(svg)}`);
  }
  return problems;
}
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        pytest.fail("Debian's chromium is missing: .ci/run installs it (apt-get install chromium)")
    with playwright_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def seeded_sandbox() -> Iterator[Sandbox]:
    """Demo data plus a mission and a plan step named with the injection payload."""
    with Sandbox(demo=True, speed=15, token=TOKEN) as sandbox:
        client = sandbox.client()
        client.missions.create(name=STEADY, execution_mode="managed", metadata=STEADY_PLAN)
        mission = client.missions.create(name=PAYLOAD, description=PAYLOAD, execution_mode="external").data
        run = client.missions.runs.create(mission.mission_id, input={"note": PAYLOAD}).data
        client.missions.runs.plan.create(
            run.run_id,
            mission_id=mission.mission_id,
            steps=[{"step_id": "xss", "description": PAYLOAD, "sequence": 1}],
        )
        client.missions.runs.plan.update_step(
            "xss", mission_id=mission.mission_id, run_id=run.run_id, status="in_progress"
        )
        client.missions.runs.events.log(
            run.run_id, mission_id=mission.mission_id, type="message", summary=PAYLOAD, step_id="xss"
        )
        yield sandbox


@pytest.fixture(scope="module")
def jupyter_env(tmp_path_factory: pytest.TempPathFactory, seeded_sandbox: Sandbox) -> dict[str, Any]:
    """Jupyter's dirs in a temp dir, the notebook copied there, the kernel pointed at the
    test's sandbox, and Lab's news and update checks off."""
    home = tmp_path_factory.mktemp("jupyter-home")
    work = home / "work"
    work.mkdir()
    for name in ("dashboard.ipynb", "01-quickstart.ipynb"):
        shutil.copy(ROOT / "notebooks" / name, work / name)
    settings = home / "lab-settings"
    settings.mkdir()
    (settings / "overrides.json").write_text(
        json.dumps(
            {"@jupyterlab/apputils-extension:notification": {"checkForUpdates": False, "fetchNews": "false"}}
        )
    )
    env = {
        **os.environ,
        "HOME": str(home),
        "JUPYTER_CONFIG_DIR": str(home / "config"),
        "JUPYTER_RUNTIME_DIR": str(home / "runtime"),
        "IPYTHONDIR": str(home / "ipython"),
        "TMPDIR": str(home),
        "TELNYX_API_KEY": TOKEN,
        "TELNYX_BASE_URL": seeded_sandbox.url,
        "PLOTLY_RENDERER": "plotly_mimetype",
    }
    return {"env": env, "work": work, "settings": settings}


def wait_port(port: int, timeout: float = 90) -> None:
    """Until something listens on ``port`` (a GET would make Voila start a kernel each time)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.3)
    raise AssertionError(f"nothing listens on port {port}")


def screenshot(page: Any, name: str) -> None:
    """Save what the browser shows as a test artifact."""
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / name))


def stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(5)


class ConsoleErrors:
    """The browser's console errors and uncaught exceptions (offline CDN fetches aside)."""

    def __init__(self, page: Any) -> None:
        self.messages: list[str] = []
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.messages.append(f"uncaught: {error}"))

    def _console(self, message: Any) -> None:
        if message.type != "error":
            return
        url = (message.location or {}).get("url", "")
        if message.text.startswith("Failed to load resource") and "127.0.0.1" not in url:
            return  # fonts and icons from a CDN: there is no internet here
        self.messages.append(f"{message.text[:300]} ({url[:200]})")


def check_layout(page: Any, scope: str, label: str) -> None:
    explorer = page.locator(f"{scope} .missionlab-explorer").first
    problems = explorer.evaluate(LAYOUT_PROBLEMS)
    assert not problems, f"{label}: {problems}"
    plot = explorer.locator(".missionlab-run-panel .js-plotly-plot").first
    for _ in range(50):  # a live run's figure is redrawn every refresh: catch it drawn
        problems = plot.evaluate(FIGURE_PROBLEMS)
        if problems != ["drawing"]:
            break
        time.sleep(0.1)
    assert not problems, f"{label}: {problems}"


def wait_for_all_cells(page: Any, timeout: float = 240) -> None:
    """Until the last code cell has run (its prompt shows a number, not "*")."""
    prompt = page.locator(".jp-NotebookPanel .jp-CodeCell").last.locator(".jp-InputPrompt")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if re.fullmatch(r"\[\d+\]:", prompt.inner_text().strip()):
            return
        time.sleep(0.5)
    raise AssertionError("the notebook did not finish running")


def accept_kernel_dialog(page: Any) -> None:
    """Lab sometimes asks which kernel to start: take the notebook's own (Python 3)."""
    dialog = page.locator(".jp-Dialog", has_text="Select Kernel")
    try:
        dialog.wait_for(timeout=5_000)
    except playwright_api.TimeoutError:
        return
    dialog.get_by_role("button", name="Select").click()


def start_a_run(page: Any, scope: str) -> None:
    """In the explorer: select a mission, start a run, see its Gantt gain bars as it plays."""
    explorer = page.locator(f"{scope} .missionlab-explorer")
    explorer.locator(".missionlab-missions-panel tr", has_text=STEADY).first.click()
    explorer.get_by_text(f"Runs of {STEADY}").wait_for(timeout=30_000)
    explorer.locator("textarea").first.fill('{"to": "Lisbon"}')
    explorer.get_by_role("button", name="Start run").click()
    panel = explorer.locator(".missionlab-run-panel")
    panel.locator(".js-plotly-plot").first.wait_for(timeout=60_000)
    bars = panel.locator(".js-plotly-plot g.trace.bars g.point")
    deadline = time.monotonic() + 60
    while bars.count() == 0 and time.monotonic() < deadline:
        time.sleep(0.2)
    first = bars.count()
    assert first > 0, "the run's Gantt never showed a bar"
    while bars.count() <= first and time.monotonic() < deadline:
        time.sleep(0.2)
    assert bars.count() > first, "the Gantt did not gain bars as the run progressed"
    ticks = panel.locator(".js-plotly-plot .xtick text").evaluate_all(
        "nodes => nodes.map(n => n.textContent)"
    )
    assert any(":" in tick for tick in ticks), f"the time axis shows no times: {ticks}"


def cancel_the_run(page: Any, scope: str, sandbox: Sandbox) -> None:
    """Cancel the run on screen: its row reads "cancelled" within one refresh; the Cancel
    button is disabled and does not look like a live red button."""
    client = sandbox.client()
    steady = next(m for m in client.missions.list(page_size=100).data if m.name == STEADY)
    run = client.missions.runs.list(steady.mission_id, page_size=1).data[0]
    explorer = page.locator(f"{scope} .missionlab-explorer")
    row = explorer.locator(".missionlab-runs-panel tbody tr", has_text=run.run_id[:8])
    assert "running" in row.inner_text() or "pending" in row.inner_text()
    cancel = explorer.locator(".missionlab-run-panel").get_by_role("button", name="Cancel")
    cancel.click()
    row.filter(has_text="cancelled").wait_for(timeout=(REFRESH_SECONDS + 2) * 1000)
    assert (
        str(client.missions.runs.retrieve(run.run_id, mission_id=steady.mission_id).data.status)
        == "cancelled"
    )
    cancel.and_(page.locator("[disabled]")).wait_for(timeout=10_000)
    assert "mod-danger" not in (cancel.get_attribute("class") or "")


DRAWN_EVENTS = """
(gd) => gd.data.filter(t => String(t.meta).startsWith('event:')).reduce((n, t) => n + t.x.length, 0)
"""


def wait_for_a_change_in_place(page: Any) -> None:
    """While the run plays, a refresh that keeps the Gantt's traces (new events, a step moving
    on once each status has its trace) changes the figure in place: only what changed is sent."""
    deadline = time.monotonic() + 90
    while page.evaluate("window.__missionlabPatches || 0") == 0 and time.monotonic() < deadline:
        time.sleep(0.5)
    assert page.evaluate("window.__missionlabPatches || 0") > 0, "the Gantt was never changed in place"


def check_gantt_is_the_runs(page: Any, scope: str, sandbox: Sandbox) -> None:
    """The run is over: the Gantt on screen, changed in place or drawn anew by the refreshes,
    shows every event of the run."""
    client = sandbox.client()
    steady = next(m for m in client.missions.list(page_size=100).data if m.name == STEADY)
    run = client.missions.runs.list(steady.mission_id, page_size=1).data[0]
    events = client.missions.runs.events.list(run.run_id, mission_id=steady.mission_id, page_size=1000).data
    plot = page.locator(f"{scope} .missionlab-run-panel .missionlab-figure .js-plotly-plot").first
    deadline = time.monotonic() + 3 * REFRESH_SECONDS + 10
    while plot.evaluate(DRAWN_EVENTS) != len(events) and time.monotonic() < deadline:
        time.sleep(0.3)
    assert plot.evaluate(DRAWN_EVENTS) == len(events)


def check_payload_is_text(page: Any, scope: str) -> None:
    explorer = page.locator(f"{scope} .missionlab-explorer")
    explorer.locator(".missionlab-missions-panel input[type=text]").first.fill("onerror")
    explorer.locator(".missionlab-missions-panel input[type=text]").first.press("Enter")
    title = explorer.get_by_text(f"Runs of {PAYLOAD}")
    # the table is drawn again when the search reaches the kernel: a click on the row drawn
    # before can be lost with it (seen on a loaded machine), so click until the kernel saw one
    for _ in range(6):
        explorer.locator(".missionlab-missions-panel tr", has_text=PAYLOAD).first.click()
        try:
            title.wait_for(timeout=10_000)
            break
        except playwright_api.TimeoutError:
            continue
    title.wait_for(timeout=10_000)
    explorer.locator(".missionlab-runs-panel tbody tr").first.click()
    panel = explorer.locator(".missionlab-run-panel")
    panel.locator(".js-plotly-plot").first.wait_for(timeout=60_000)
    panel.locator(".js-plotly-plot").get_by_text(PAYLOAD).first.wait_for(timeout=30_000)
    assert explorer.get_by_text(PAYLOAD).count() >= 2  # table cell, details, run panel
    search_the_events(page, panel)
    assert page.evaluate("typeof window.__xss") == "undefined"


def search_the_events(page: Any, panel: Any) -> None:
    """The run panel's events tab: a search narrows the list to the events holding the text
    (the payload's summary, listed as text); the Steps tab shows the step table."""
    panel.locator(".lm-TabBar-tab", has_text="Events").first.click()
    log = panel.locator(".missionlab-event-log")
    box = log.locator("input[type=text]").first
    for text, found in (("no such text anywhere", 0), ("onerror", 1)):
        box.fill(text)
        box.press("Enter")
        log.get_by_text(re.compile(rf"^{found} of \d+ events")).wait_for(timeout=30_000)
    options = log.locator(".missionlab-mono select option")  # (the filters are selects too)
    assert options.count() == 1 and PAYLOAD in options.first.inner_text().replace("\xa0", " ")
    screenshot(page, "run-panel-events-search.png")
    panel.locator(".lm-TabBar-tab", has_text="Steps").first.click()
    panel.locator(".missionlab-steps table").first.wait_for(timeout=30_000)
    wrapped = panel.locator(".missionlab-steps td > span").evaluate_all(
        "spans => spans.filter(s => s.getClientRects().length > 1).map(s => s.textContent)"
    )
    assert wrapped == [], f"status badges broken over lines: {wrapped}"
    panel.locator(".lm-TabBar-tab", has_text="Timeline").first.click()


def check_saved_snapshot(page: Any, scope: str) -> None:
    """Before anything runs, the saved notebook shows the explorer's static snapshot (its
    missions table), not the widget's text repr."""
    snapshot = page.locator(f"{scope} .missionlab-snapshot").first
    snapshot.wait_for(timeout=30_000)
    text = snapshot.inner_text()
    assert "Snapshot of the missionlab explorer" in text and "Travel booking assistant" in text
    assert "<missionlab Explorer" not in page.locator(scope).inner_text()
    screenshot(page, "lab-saved-snapshot.png")


def set_lab_theme(page: Any, theme: str) -> None:
    page.locator(".lm-MenuBar-itemLabel", has_text="Settings").first.click()
    page.locator(".lm-Menu-itemLabel", has_text=re.compile("^Theme$")).click()
    page.locator(".lm-Menu-itemLabel", has_text=re.compile(f"^{theme}$")).click()
    light = "true" if "Light" in theme else "false"
    page.locator(f"body[data-jp-theme-light='{light}']").wait_for(state="attached", timeout=30_000)
    time.sleep(1)  # the theme's stylesheet swaps in after the attribute


def look(page: Any, scope: str, label: str) -> None:
    """Check the layout, and keep a screenshot of the lists and one of the run."""
    check_layout(page, scope, label)
    explorer = page.locator(f"{scope} .missionlab-explorer").first
    explorer.locator(".missionlab-runs-panel").scroll_into_view_if_needed()
    screenshot(page, f"{label}-lists.png")
    explorer.locator(".missionlab-run-panel .js-plotly-plot").first.scroll_into_view_if_needed()
    screenshot(page, f"{label}-run.png")


def test_jupyterlab_explorer(chromium: Any, jupyter_env: dict[str, Any], seeded_sandbox: Sandbox) -> None:
    lab, base = start_lab(jupyter_env)
    page = chromium.new_page(viewport=NARROW)
    errors = ConsoleErrors(page)
    scope = ".jp-NotebookPanel"
    try:
        page.goto(f"{base}/lab/tree/dashboard.ipynb?reset&token={TOKEN}", timeout=90_000)
        page.locator(scope).wait_for(timeout=60_000)
        accept_kernel_dialog(page)
        if not page.locator("#filebrowser").is_visible():
            page.locator(".jp-SideBar [data-id='filebrowser']").click()
        page.locator("#filebrowser").wait_for(timeout=10_000)
        page.locator(".jp-Notebook-ExecutionIndicator[data-status='idle']").first.wait_for(timeout=60_000)
        check_saved_snapshot(page, scope)
        page.locator(".lm-MenuBar-itemLabel", has_text="Run").first.click()
        page.get_by_role("menuitem", name="Run All Cells", exact=True).click()
        page.locator(f"{scope} .missionlab-explorer").wait_for(timeout=120_000)
        wait_for_all_cells(page)
        # the live explorer's stylesheet hides its static copy
        page.locator(f"{scope} .missionlab-snapshot").first.wait_for(state="hidden", timeout=10_000)
        start_a_run(page, scope)
        wait_for_a_change_in_place(page)
        look(page, scope, "lab-1024-light")
        cancel_the_run(page, scope, seeded_sandbox)
        check_gantt_is_the_runs(page, scope, seeded_sandbox)
        set_lab_theme(page, "JupyterLab Dark")
        look(page, scope, "lab-1024-dark")
        page.set_viewport_size(WIDE)
        time.sleep(1)  # Lab lays out again
        look(page, scope, "lab-1920-dark")
        set_lab_theme(page, "JupyterLab Light")
        look(page, scope, "lab-1920-light")
        check_payload_is_text(page, scope)
        assert errors.messages == []
    except Exception:
        screenshot(page, "jupyterlab-failure.png")
        raise
    finally:
        page.close()
        for kernel in httpx.get(f"{base}/api/kernels?token={TOKEN}").json():
            httpx.delete(f"{base}/api/kernels/{kernel['id']}?token={TOKEN}")
        stop(lab)


def test_voila_dashboard(chromium: Any, jupyter_env: dict[str, Any], seeded_sandbox: Sandbox) -> None:
    port = free_port()
    voila = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "voila",
            str(jupyter_env["work"] / "dashboard.ipynb"),
            "--no-browser",
            f"--port={port}",
            "--Voila.ip=127.0.0.1",
            # jupytext's Lab extension needs JupyterLab's own modules: in Voila it only logs an error
            '--VoilaConfiguration.extension_denylist=["jupyterlab-jupytext"]',
        ],
        env=jupyter_env["env"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    page = chromium.new_page(viewport=NARROW)
    errors = ConsoleErrors(page)
    try:
        wait_port(port)
        page.goto(f"http://127.0.0.1:{port}/", timeout=120_000)
        page.locator(".missionlab-explorer").wait_for(timeout=120_000)
        start_a_run(page, "body")
        wait_for_a_change_in_place(page)
        look(page, "body", "voila-1024-light")
        cancel_the_run(page, "body", seeded_sandbox)
        check_gantt_is_the_runs(page, "body", seeded_sandbox)
        page.set_viewport_size(WIDE)
        time.sleep(1)
        look(page, "body", "voila-1920-light")
        check_payload_is_text(page, "body")
        assert errors.messages == []
        # A new page for the dark theme: navigating away would make Voila's own unload handler
        # post /voila/api/shutdown without an XSRF token (a 403 in the console, not ours).
        page.close()
        page = chromium.new_page(viewport=WIDE)
        errors = ConsoleErrors(page)
        page.goto(f"http://127.0.0.1:{port}/?theme=dark", timeout=120_000)
        page.locator(".missionlab-explorer").wait_for(timeout=120_000)
        start_a_run(page, "body")
        look(page, "body", "voila-1920-dark")
        page.set_viewport_size(NARROW)
        time.sleep(1)
        look(page, "body", "voila-1024-dark")
        assert errors.messages == []
    except Exception:
        screenshot(page, "voila-failure.png")
        raise
    finally:
        page.close()
        stop(voila)


def start_lab(jupyter_env: dict[str, Any]) -> tuple[subprocess.Popen[bytes], str]:
    """JupyterLab on a free port over the test's work folder; its base URL."""
    port = free_port()
    lab = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "jupyter",
            "lab",
            "--no-browser",
            f"--port={port}",
            "--ServerApp.ip=127.0.0.1",
            f"--ServerApp.token={TOKEN}",
            "--allow-root",
            f"--ServerApp.root_dir={jupyter_env['work']}",
            f"--LabServerApp.app_settings_dir={jupyter_env['settings']}",
        ],
        env=jupyter_env["env"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    wait_port(port)
    return lab, f"http://127.0.0.1:{port}"


def stop_lab(lab: subprocess.Popen[bytes], base: str) -> None:
    for kernel in httpx.get(f"{base}/api/kernels?token={TOKEN}").json():
        httpx.delete(f"{base}/api/kernels/{kernel['id']}?token={TOKEN}")
    stop(lab)


def open_notebook(page: Any, base: str, name: str) -> None:
    """Open the notebook ``name`` in Lab, its kernel started and idle."""
    page.goto(f"{base}/lab/tree/{name}?reset&token={TOKEN}", timeout=90_000)
    page.locator(".jp-NotebookPanel").wait_for(timeout=60_000)
    accept_kernel_dialog(page)
    page.locator(".jp-Notebook-ExecutionIndicator[data-status='idle']").first.wait_for(timeout=60_000)


def run_all_cells(page: Any) -> None:
    page.locator(".lm-MenuBar-itemLabel", has_text="Run").first.click()
    page.get_by_role("menuitem", name="Run All Cells", exact=True).click()


def assert_not_modified(page: Any, name: str) -> None:
    """The notebook's tab shows no unsaved-changes mark (Lab rewrote nothing on opening it)."""
    tab = page.locator(".lm-DockPanel-tabBar .lm-TabBar-tab", has_text=name).first
    tab.wait_for(timeout=30_000)
    time.sleep(2)  # Lab marks a notebook it has changed right after loading it
    assert "jp-mod-dirty" not in (tab.get_attribute("class") or ""), f"{name} opens as modified"


@pytest.mark.parametrize(
    ("viewport", "theme"),
    [(NARROW, "JupyterLab Light"), (WIDE, "JupyterLab Dark")],
    ids=["1024-light", "1920-dark"],
)
def test_quickstart_runs_clean_in_jupyterlab(
    chromium: Any, jupyter_env: dict[str, Any], viewport: dict[str, int], theme: str
) -> None:
    """Notebook 01 as a newcomer meets it: it opens unmodified, Run All Cells runs it top to
    bottom (the live Gantt updating as its run plays) and the browser logs no error."""
    name = "01-quickstart.ipynb"
    lab, base = start_lab(jupyter_env)
    page = chromium.new_page(viewport=viewport)
    errors = ConsoleErrors(page)
    scope = ".jp-NotebookPanel"
    try:
        open_notebook(page, base, name)
        assert_not_modified(page, name)
        if theme != "JupyterLab Light":
            set_lab_theme(page, theme)
        run_all_cells(page)
        wait_for_all_cells(page)
        page.locator(".jp-Notebook-ExecutionIndicator[data-status='idle']").first.wait_for(timeout=60_000)
        outputs = page.locator(f"{scope} .jp-OutputArea-output").all_inner_texts()
        assert not any("Traceback" in text for text in outputs)
        assert page.locator(f"{scope} .js-plotly-plot .main-svg").count() >= 2  # live Gantt, trace
        screenshot(page, f"lab-quickstart-{viewport['width']}.png")
        assert errors.messages == [], f"{len(errors.messages)} console errors: {errors.messages[:5]}"
    except Exception:
        screenshot(page, f"lab-quickstart-{viewport['width']}-failure.png")
        raise
    finally:
        page.close()
        stop_lab(lab, base)


# -- the explorer's Grid tab ----------------------------------------------------------------------

GRID_MISSION = "Travel booking assistant"  # the demo's mission with failed steps among its last runs
FAILURE_RGB = (213, 94, 0)  # Okabe-Ito vermillion: how a failed step must look, on either theme

# What the grid's plotly figure drew: its runs and rows, the cells with a value, and the page
# position of the middle of one failed step's cell (plotly's own axis mapping).
GRID_DRAWN = """
(plot) => {
  const calc = plot.calcdata.find(c => c[0].trace.meta === 'grid:cells')[0];  // z as drawn
  const cells = calc.trace;
  const layout = plot._fullLayout, xa = layout.xaxis, ya = layout.yaxis;
  const box = plot.getBoundingClientRect();
  const drawn = [];
  let failed = null;
  calc.z.forEach((line, row) => Array.from(line).forEach((value, column) => {
    if (typeof value !== 'number' || Number.isNaN(value)) return;
    drawn.push([row, column]);
    // a failed step's cell with no count of failed attempts written over its middle
    if (row > 0 && !failed && cells.customdata[row][column][4] === 'failed' && !cells.text[row][column]) {
      const x = box.left + xa._offset + xa.l2p(column), y = box.top + ya._offset + ya.l2p(row);
      failed = {row, column, x, y};
    }
  }));
  return {runs: layout.meta.runs, steps: layout.meta.steps, drawn, failed,
          statuses: cells.customdata.map(line => line.map(cell => cell[4])),
          image: plot.querySelectorAll('.hm image').length, width: box.width,
          pane: plot.closest('.missionlab-figure').getBoundingClientRect().width};
}
"""


def pixel(page: Any, x: float, y: float) -> tuple[int, int, int]:
    """The color the browser shows at (x, y): a 1x1 screenshot, whose one pixel is the bytes
    after the filter byte whatever the filter (no row above, no pixel to the left)."""
    png = page.screenshot(clip={"x": round(x), "y": round(y), "width": 1, "height": 1})
    chunks: dict[str, bytes] = {}
    position = 8
    while position < len(png):
        length = int.from_bytes(png[position : position + 4], "big")
        kind = png[position + 4 : position + 8].decode()
        chunks.setdefault(kind, b"")
        chunks[kind] += png[position + 8 : position + 8 + length]
        position += 12 + length
    assert chunks["IHDR"][8] == 8, "an 8-bit PNG"
    raw = zlib.decompress(chunks["IDAT"])
    return raw[1], raw[2], raw[3]


# The page position of the middle of the grid's cell (row, column) (plotly's own axis mapping).
CELL_AT = """
(plot, [row, column]) => {
  const layout = plot._fullLayout, xa = layout.xaxis, ya = layout.yaxis;
  const box = plot.getBoundingClientRect();
  return {x: box.left + xa._offset + xa.l2p(column), y: box.top + ya._offset + ya.l2p(row)};
}
"""


def click_a_cell(page: Any, scope: str, drawn: dict[str, Any], row: int, column: int, label: str) -> None:
    """A real click on the grid's cell (row, column): the Run tab shows that cell's run; then
    back to the Grid tab."""
    explorer = page.locator(f"{scope} .missionlab-explorer").first
    plot = explorer.locator(".missionlab-grid .js-plotly-plot").first
    run_id = drawn["runs"][column]
    where = plot.evaluate(CELL_AT, [row, column])
    page.mouse.move(where["x"], where["y"])
    page.mouse.click(where["x"], where["y"])
    run_tab = explorer.locator(".lm-TabBar-tab", has_text=re.compile("^Run$")).first
    panel = explorer.locator(".missionlab-run-panel")
    panel.get_by_text(run_id).first.wait_for(timeout=60_000)
    assert "lm-mod-current" in (run_tab.get_attribute("class") or ""), label
    panel.locator(".js-plotly-plot").first.wait_for(timeout=60_000)
    screenshot(page, f"grid-click-{label}.png")
    explorer.locator(".lm-TabBar-tab", has_text="Grid").first.click()
    plot.locator(".main-svg").first.wait_for(timeout=30_000)


def check_grid(page: Any, scope: str, label: str, sandbox: Sandbox) -> dict[str, Any]:
    """The Grid tab as drawn: one column per run of the mission's last 50, a cell exactly
    where each run's plan has the step, a failed step's cell in the failure color, the
    figure as wide as its pane, the explorer's layout intact."""
    explorer = page.locator(f"{scope} .missionlab-explorer").first
    plot = explorer.locator(".missionlab-grid .js-plotly-plot").first
    plot.scroll_into_view_if_needed()
    time.sleep(0.5)  # Lab finishes scrolling
    drawn: dict[str, Any] = plot.evaluate(GRID_DRAWN)
    client = sandbox.client()
    mission = next(m for m in client.missions.list(page_size=100).data if m.name == GRID_MISSION)
    newest = client.missions.runs.list(mission.mission_id, page_size=50).data
    assert drawn["runs"] == [run.run_id for run in newest][::-1], label  # oldest at the left
    assert drawn["image"] == 1 and drawn["width"] >= 0.9 * drawn["pane"], label
    rows = {step: index for index, step in enumerate(drawn["steps"])}
    for column, run in enumerate(drawn["runs"]):
        plan = client.missions.runs.plan.retrieve(run, mission_id=mission.mission_id).data
        wanted = {rows.get(s.step_id, -1) for s in plan}
        got = {row for row, c in drawn["drawn"] if c == column and row > 0}
        message = f"{label}: run {run}'s cells are rows {sorted(got)}, its plan {sorted(wanted)}"
        if drawn["statuses"][0][column] in ("pending", "running", "paused"):
            assert got <= wanted, message  # a live run's plan may have grown since it was drawn
        else:
            assert got == wanted, message
        for s in plan:
            if str(s.status) == "failed" and s.step_id in rows:  # failed stays failed: as drawn
                assert drawn["statuses"][rows[s.step_id]][column] == "failed", label
    failed = drawn["failed"]
    assert failed is not None, f"{label}: no failed step among the last runs"
    color = pixel(page, failed["x"], failed["y"])
    assert all(abs(a - b) <= 2 for a, b in zip(color, FAILURE_RGB, strict=True)), f"{label}: {color}"
    problems = explorer.evaluate(LAYOUT_PROBLEMS)
    assert not problems, f"{label}: {problems}"
    screenshot(page, f"grid-{label}.png")
    return drawn


def test_grid_tab_in_jupyterlab(chromium: Any, jupyter_env: dict[str, Any], seeded_sandbox: Sandbox) -> None:
    """The explorer's Grid tab at 1024 and 1920 px, light and dark: what it draws (see
    check_grid), a click on a cell opening its run in the Run tab (at 1024 px, light and
    dark), a run opened by the picker (the keyboard's way), and no console error."""
    lab, base = start_lab(jupyter_env)
    page = chromium.new_page(viewport=NARROW)
    errors = ConsoleErrors(page)
    scope = ".jp-NotebookPanel"
    try:
        open_notebook(page, base, "dashboard.ipynb")
        if page.locator("body[data-jp-theme-light='false']").count():  # Lab keeps an earlier test's theme
            set_lab_theme(page, "JupyterLab Light")
        run_all_cells(page)
        explorer = page.locator(f"{scope} .missionlab-explorer")
        prompt = page.locator(f"{scope} .jp-CodeCell").last.locator(".jp-InputPrompt")
        try:
            explorer.wait_for(timeout=30_000)
        except playwright_api.TimeoutError:
            # under load Lab may take the menu's Run All before the kernel is connected, and
            # drop it: the cell was never queued (its prompt still "[ ]:"), so ask again
            if prompt.inner_text().strip() != "[ ]:":
                raise
            run_all_cells(page)
            explorer.wait_for(timeout=120_000)
        wait_for_all_cells(page)
        explorer.locator(".missionlab-missions-panel tr", has_text=GRID_MISSION).first.click()
        explorer.get_by_text(f"Runs of {GRID_MISSION}").wait_for(timeout=30_000)
        explorer.locator(".lm-TabBar-tab", has_text="Grid").first.click()
        explorer.locator(".missionlab-grid .js-plotly-plot .main-svg").first.wait_for(timeout=120_000)
        drawn = check_grid(page, scope, "lab-1024-light", seeded_sandbox)
        failed = drawn["failed"]
        click_a_cell(page, scope, drawn, failed["row"], failed["column"], "lab-1024-light")
        set_lab_theme(page, "JupyterLab Dark")
        drawn = check_grid(page, scope, "lab-1024-dark", seeded_sandbox)
        other = 0 if failed["column"] else 1  # another run: the run's own row, at the top
        click_a_cell(page, scope, drawn, 0, other, "lab-1024-dark")
        page.set_viewport_size(WIDE)
        time.sleep(1)  # Lab lays out again
        check_grid(page, scope, "lab-1920-dark", seeded_sandbox)
        set_lab_theme(page, "JupyterLab Light")
        drawn = check_grid(page, scope, "lab-1920-light", seeded_sandbox)
        # open the run of the failed cell: the Run tab shows it
        run_id = drawn["runs"][drawn["failed"]["column"]]
        picker = explorer.locator(".missionlab-grid-picker select").first
        option = next(o for o in picker.locator("option").all_inner_texts() if run_id in o)
        picker.select_option(label=option)
        explorer.get_by_role("button", name="Open in the run panel").click()
        panel = explorer.locator(".missionlab-run-panel")
        panel.get_by_text(run_id).first.wait_for(timeout=60_000)
        assert "lm-mod-current" in (
            explorer.locator(".lm-TabBar-tab", has_text=re.compile("^Run$")).first.get_attribute("class")
            or ""
        )
        panel.locator(".js-plotly-plot").first.wait_for(timeout=60_000)
        screenshot(page, "grid-opened-run.png")
        assert errors.messages == [], f"{len(errors.messages)} console errors: {errors.messages[:5]}"
    except Exception:
        screenshot(page, "grid-failure.png")
        raise
    finally:
        page.close()
        stop_lab(lab, base)
