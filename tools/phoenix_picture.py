"""Take docs/opentelemetry-phoenix.png: a failed demo run exported to Arize Phoenix, as its UI shows it.

    python tools/phoenix_picture.py [--phoenix PATH] [--out docs/opentelemetry-phoenix.png]

Starts a demo sandbox and a Phoenix (``--phoenix``, else ``MISSIONLAB_PHOENIX``, else the
``phoenix`` on PATH; see tests/phoenix.py) on loopback with a temporary working directory,
exports a failed demo run with tool calls and nested steps, opens the trace in Phoenix's UI in
headless Chromium (/usr/bin/chromium, no network) and saves a screenshot.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "src"), str(ROOT)]

from tests.phoenix import executable, running_phoenix, wait_until_stored  # noqa: E402

import missionlab  # noqa: E402
from missionlab.otel import export_run, run_spans, trace_id_of  # noqa: E402
from missionlab.sandbox import Sandbox  # noqa: E402

PROJECT = "missionlab"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


def failed_run(client: missionlab.Client) -> missionlab.RunTrace:
    """The travel mission's first failed run with tool calls and nested steps."""
    for run in client.missions.runs.list_runs(status="failed", page_size=100).data:
        trace = missionlab.load_run(client, run.mission_id, run.run_id)
        nested = any(s.parent_step_id for s in trace.steps)
        if nested and sum(e.type == "tool_call" for e in trace.events) >= 2:
            return trace
    raise SystemExit("no failed demo run with tool calls and nested steps")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--phoenix", default=None, help="the phoenix executable")
    parser.add_argument("--out", default=str(ROOT / "docs" / "opentelemetry-phoenix.png"))
    args = parser.parse_args()
    command = args.phoenix or executable()
    if command is None:
        raise SystemExit("no phoenix executable: pass --phoenix PATH or set MISSIONLAB_PHOENIX")

    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as work, Sandbox(demo=True) as sandbox, sandbox.client() as client:
        trace = failed_run(client)
        with running_phoenix(Path(work), command) as phoenix:
            export_run(trace, endpoint=phoenix.url, project=PROJECT, progress=False)
            trace_id = trace_id_of(trace)
            wait_until_stored(phoenix, PROJECT, trace_id, len(run_spans(trace)))
            with urllib.request.urlopen(f"{phoenix.url}/v1/projects") as answer:
                projects = {p["name"]: p["id"] for p in json.load(answer)["data"]}
            url = f"{phoenix.url}/projects/{projects[PROJECT]}/traces/{trace_id}"
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
                page = browser.new_page(viewport={"width": 1600, "height": 1000})
                page.goto(url, wait_until="networkidle")
                page.get_by_text(trace.mission.name if trace.mission else "run").first.wait_for(
                    timeout=60_000
                )
                page.wait_for_timeout(1500)  # let the span tree finish drawing
                page.screenshot(path=args.out)
                browser.close()
    print(f"wrote {args.out} ({url})")


if __name__ == "__main__":
    main()
