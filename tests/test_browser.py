"""Real JupyterLab and Voila in headless Chromium (Debian's chromium, driven by playwright).

JupyterLab opens 01-quickstart.ipynb and runs it; Voila serves dashboard.ipynb. In
both, the test selects a mission, starts a run from the form and waits for the
run's Gantt to gain bars. The kernels talk to a sandbox this test controls, seeded
with a mission and a step whose name and description are an HTML-injection payload,
which must show as text. Screenshots go to artifacts/.
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
STEADY = "Steady browser-test mission"  # five steps that never fail, about 3 s each at speed 15
STEADY_PLAN = {
    "plan": [
        {"step_id": f"s{i}", "description": f"Steady step {i}", "duration": 45, "jitter": 0.1}
        for i in range(1, 6)
    ]
}
TOKEN = "browser-test-token"
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

pytestmark = [pytest.mark.slow, pytest.mark.browser]


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
    """Jupyter's dirs in a temp dir, the notebooks copied there, the kernel pointed at the
    test's sandbox, and Lab's news and update checks off."""
    home = tmp_path_factory.mktemp("jupyter-home")
    work = home / "work"
    work.mkdir()
    for name in ("01-quickstart.ipynb", "dashboard.ipynb"):
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


def wait_http(url: str, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=2).status_code < 500:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.3)
    raise AssertionError(f"{url} did not come up")


def screenshot(page: Any, name: str) -> None:
    """Save a full-page screenshot as a test artifact."""
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / name), full_page=True)


def stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(5)


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


def select_mission_and_start_a_run(page: Any, scope: str) -> None:
    """In the explorer: select a mission, start a run, see its Gantt gain bars as it plays."""
    explorer = page.locator(f"{scope} .missionlab-explorer")
    explorer.locator("tr", has_text=STEADY).first.click()
    explorer.get_by_text(f"Runs of {STEADY}").wait_for(timeout=30_000)
    area = explorer.locator("textarea").first
    area.fill('{"to": "Lisbon"}')
    explorer.get_by_role("button", name="Start run").click()
    panel = explorer.locator(".missionlab-run-panel")
    panel.locator(".js-plotly-plot").first.wait_for(timeout=60_000)
    bars = panel.locator(".js-plotly-plot g.trace.bars g.point")
    deadline = time.monotonic() + 90
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


def check_payload_is_text(page: Any, scope: str) -> None:
    explorer = page.locator(f"{scope} .missionlab-explorer")
    explorer.locator("tr", has_text=PAYLOAD).first.click()
    explorer.get_by_text(f"Runs of {PAYLOAD}").wait_for(timeout=30_000)
    explorer.locator(".missionlab-runs-panel tbody tr", has_text="pending").first.click()
    panel = explorer.locator(".missionlab-run-panel")
    panel.locator(".js-plotly-plot").first.wait_for(timeout=60_000)
    panel.locator(".js-plotly-plot").get_by_text(PAYLOAD).first.wait_for(timeout=30_000)
    assert explorer.get_by_text(PAYLOAD).count() >= 2  # table cell, details, run panel
    assert page.evaluate("typeof window.__xss") == "undefined"


def test_jupyterlab_runs_the_quickstart(chromium: Any, jupyter_env: dict[str, Any]) -> None:
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
    base = f"http://127.0.0.1:{port}"
    page = chromium.new_page(viewport={"width": 1400, "height": 3600})  # Lab scrolls inside
    try:
        wait_http(f"{base}/api/status?token={TOKEN}")
        page.goto(f"{base}/lab/tree/01-quickstart.ipynb?reset&token={TOKEN}")
        notebook = page.locator(".jp-NotebookPanel")
        notebook.wait_for(timeout=60_000)
        accept_kernel_dialog(page)
        page.locator(".jp-Notebook-ExecutionIndicator[data-status='idle']").first.wait_for(timeout=60_000)
        page.locator(".lm-MenuBar-itemLabel", has_text="Run").first.click()
        page.get_by_role("menuitem", name="Run All Cells", exact=True).click()
        page.locator(".jp-NotebookPanel .missionlab-explorer").wait_for(timeout=120_000)
        page.locator(".jp-NotebookPanel .js-plotly-plot").first.wait_for(timeout=120_000)
        wait_for_all_cells(page)  # the widgets answer once the kernel is free
        select_mission_and_start_a_run(page, ".jp-NotebookPanel")
        screenshot(page, "jupyterlab-quickstart.png")
        page.locator(".jp-NotebookPanel .missionlab-explorer").screenshot(
            path=str(ARTIFACTS / "explorer.png")
        )
        check_payload_is_text(page, ".jp-NotebookPanel")
    except Exception:
        screenshot(page, "jupyterlab-failure.png")
        raise
    finally:
        page.close()
        for kernel in httpx.get(f"{base}/api/kernels?token={TOKEN}").json():
            httpx.delete(f"{base}/api/kernels/{kernel['id']}?token={TOKEN}")
        stop(lab)


def test_voila_serves_the_dashboard(chromium: Any, jupyter_env: dict[str, Any]) -> None:
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
        ],
        env=jupyter_env["env"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    page = chromium.new_page(viewport={"width": 1400, "height": 2400})
    try:
        wait_http(f"http://127.0.0.1:{port}/")
        page.goto(f"http://127.0.0.1:{port}/", timeout=120_000)
        page.locator(".missionlab-explorer").wait_for(timeout=120_000)
        select_mission_and_start_a_run(page, "body")
        screenshot(page, "voila-dashboard.png")
        check_payload_is_text(page, "body")
    except Exception:
        screenshot(page, "voila-failure.png")
        raise
    finally:
        page.close()
        stop(voila)
