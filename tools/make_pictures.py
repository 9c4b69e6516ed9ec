"""Regenerate the README's pictures from the sandbox's demo data, and only from it.

    python tools/make_pictures.py

Writes docs/gantt.png (a failed run of the travel mission, with its events),
docs/compare.png (a failed and a succeeded run aligned at their start), and
docs/explorer.png (1920 px) and docs/explorer-1024.png: the explorer in JupyterLab (light
theme, headless Chromium) with the travel mission's failed payment run open on its Gantt, and
that run's explanation below it. The Lab session is this script's own: a fresh demo sandbox
(no test missions), Jupyter's directories in a temp dir, a one-cell notebook written there.
Needs the ``pictures`` extra (kaleido: ``pip install -c constraints.txt -e ".[test,pictures]"``),
playwright and a Chromium (Debian's ``chromium`` works).
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
from playwright.sync_api import TimeoutError as PlaywrightTimeout
from playwright.sync_api import sync_playwright

import missionlab
from missionlab.figures.charts import compare_runs
from missionlab.sandbox import Sandbox

DOCS = Path(__file__).parents[1] / "docs"
CHROMIUM = "/usr/bin/chromium"
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
TOKEN = "pictures-token"
WIDTHS = {"explorer.png": 1920, "explorer-1024.png": 1024}

# The notebook the explorer pictures show: the explorer opened on the failed run, its
# explanation under it.
EXPLORER_CELL = """\
import missionlab
from IPython.display import display

client = missionlab.connect()
travel = next(m for m in client.missions.list().data if m.name == "Travel booking assistant")
runs = client.missions.runs.list(travel.mission_id, page_size=100).data
failed = next(r for r in runs if r.status == "failed" and r.error and "PaymentDeclined" in r.error)
explorer = missionlab.browse(client)
explorer.missions.select(travel)
explorer.open_run(failed)
display(explorer)
display(missionlab.load_run(client, travel.mission_id, failed.run_id).explain())
"""


def failed_payment_run(client: Any) -> tuple[Any, Any, Any]:
    """The travel mission, its failed run whose card was declined, and a succeeded run."""
    travel = next(m for m in client.missions.list().data if m.name == "Travel booking assistant")
    runs = client.missions.runs.list(travel.mission_id, page_size=100).data
    failed = next(r for r in runs if r.status == "failed" and r.error and "PaymentDeclined" in r.error)
    succeeded = next(r for r in runs if r.status == "succeeded")
    return travel, failed, succeeded


def figures(sandbox: Sandbox) -> None:
    client = sandbox.client()
    travel, failed, succeeded = failed_payment_run(client)
    bad = missionlab.load_run(client, travel.mission_id, failed.run_id)
    good = missionlab.load_run(client, travel.mission_id, succeeded.run_id)
    now = bad.run.finished_at or datetime.now()
    bad.gantt(now=now).write_image(DOCS / "gantt.png", width=1100, height=520, scale=1)
    compare_runs([good, bad]).write_image(DOCS / "compare.png", width=1100, height=520)
    print(f"wrote {DOCS / 'gantt.png'} and {DOCS / 'compare.png'}")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_port(port: int, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.3)
    raise RuntimeError(f"JupyterLab did not listen on port {port}")


def lab_home(home: Path, sandbox: Sandbox) -> dict[str, str]:
    """Jupyter's directories inside ``home``, the notebook, Lab's news off; the kernel's env."""
    work = home / "work"
    work.mkdir()
    cell: dict[str, object] = {
        "cell_type": "code",
        "source": EXPLORER_CELL,
        "metadata": {},
        "outputs": [],
        "execution_count": None,
    }
    kernel = {"name": "python3", "display_name": "Python 3", "language": "python"}
    notebook = {"cells": [cell], "metadata": {"kernelspec": kernel}, "nbformat": 4, "nbformat_minor": 4}
    (work / "explorer.ipynb").write_text(json.dumps(notebook), encoding="utf-8")
    settings = home / "lab-settings"
    settings.mkdir()
    news_off = {
        "@jupyterlab/apputils-extension:notification": {"checkForUpdates": False, "fetchNews": "false"}
    }
    (settings / "overrides.json").write_text(json.dumps(news_off))
    return {
        **os.environ,
        "HOME": str(home),
        "JUPYTER_CONFIG_DIR": str(home / "config"),
        "JUPYTER_RUNTIME_DIR": str(home / "runtime"),
        "IPYTHONDIR": str(home / "ipython"),
        "TMPDIR": str(home),
        "TELNYX_API_KEY": TOKEN,
        "TELNYX_BASE_URL": sandbox.url,
        "PLOTLY_RENDERER": "plotly_mimetype",
    }


def shoot(page: Any, name: str, width: int) -> None:
    """The explorer and the explanation under it (the cell's output without its first line,
    which names the sandbox's local address) at ``width``, in a viewport tall enough to hold it."""
    page.set_viewport_size({"width": width, "height": 5000})
    time.sleep(2)  # Lab lays out again; plotly follows the new width
    output = page.locator(".jp-NotebookPanel .jp-Cell-outputArea").first
    output.locator(".missionlab-run-panel .js-plotly-plot .main-svg").first.wait_for(timeout=60_000)
    area = output.bounding_box()
    top = output.locator(".missionlab-explorer").first.bounding_box()["y"]
    clip = {"x": area["x"], "y": top, "width": area["width"], "height": area["y"] + area["height"] - top}
    page.screenshot(path=str(DOCS / name), clip=clip)
    print(f"wrote {DOCS / name}")


def explorer_pictures(sandbox: Sandbox) -> None:
    with tempfile.TemporaryDirectory(prefix="missionlab-pictures-") as temp:
        home = Path(temp)
        env = lab_home(home, sandbox)
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
                f"--ServerApp.root_dir={home / 'work'}",
                f"--LabServerApp.app_settings_dir={home / 'lab-settings'}",
            ],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            wait_port(port)
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
                page = browser.new_page(viewport={"width": 1920, "height": 1080})
                page.goto(f"{base}/lab/tree/explorer.ipynb?reset&token={TOKEN}", timeout=90_000)
                page.locator(".jp-NotebookPanel").wait_for(timeout=60_000)
                page.locator("body[data-jp-theme-light='true']").wait_for(state="attached", timeout=30_000)
                kernel_dialog = page.locator(".jp-Dialog", has_text="Select Kernel")
                try:  # Lab sometimes asks which kernel to start: the notebook's own
                    kernel_dialog.wait_for(timeout=5_000)
                    kernel_dialog.get_by_role("button", name="Select").click()
                except PlaywrightTimeout:
                    pass
                idle = ".jp-Notebook-ExecutionIndicator[data-status='idle']"
                page.locator(idle).first.wait_for(timeout=60_000)
                page.locator(".lm-MenuBar-itemLabel", has_text="Run").first.click()
                page.get_by_role("menuitem", name="Run All Cells", exact=True).click()
                prompt = page.locator(".jp-NotebookPanel .jp-CodeCell").last.locator(".jp-InputPrompt")
                deadline = time.monotonic() + 120
                while not re.fullmatch(r"\[\d+\]:", prompt.inner_text().strip()):
                    if time.monotonic() > deadline:
                        page.screenshot(path=str(home.parent / "missionlab-pictures-failure.png"))
                        raise RuntimeError("the notebook did not finish running")
                    time.sleep(0.5)
                for name, width in WIDTHS.items():
                    shoot(page, name, width)
                browser.close()
        finally:
            for kernel in httpx.get(f"{base}/api/kernels?token={TOKEN}").json():
                httpx.delete(f"{base}/api/kernels/{kernel['id']}?token={TOKEN}")
            lab.terminate()
            lab.wait(15)


def main() -> None:
    DOCS.mkdir(exist_ok=True)
    with Sandbox(demo=True, token=TOKEN) as sandbox:
        figures(sandbox)
        explorer_pictures(sandbox)


if __name__ == "__main__":
    main()
