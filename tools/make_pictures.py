"""Regenerate the README's pictures from the sandbox's demo data.

    python tools/make_pictures.py

Writes docs/gantt.png (a failed run of the travel mission, with its events),
docs/compare.png (a failed and a succeeded run aligned at their start), and
docs/explorer.png (the explorer in JupyterLab, taken by the browser test, which
runs the quickstart notebook in headless Chromium). Needs the ``pictures`` extra
(kaleido: ``pip install -c constraints.txt -e ".[test,pictures]"``), playwright and a
Chromium (Debian's ``chromium`` works).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import missionlab
from missionlab.figures.charts import compare_runs
from missionlab.sandbox import Sandbox

DOCS = Path(__file__).parents[1] / "docs"


def main() -> None:
    DOCS.mkdir(exist_ok=True)
    with Sandbox(demo=True) as sandbox:
        client = sandbox.client()
        travel = next(m for m in client.missions.list().data if m.name.startswith("Travel"))
        runs = client.missions.runs.list(travel.mission_id, page_size=100).data
        failed = next(r for r in runs if r.status == "failed" and r.error and "Payment" in r.error)
        succeeded = next(r for r in runs if r.status == "succeeded")
        bad = missionlab.load_run(client, travel.mission_id, failed.run_id)
        good = missionlab.load_run(client, travel.mission_id, succeeded.run_id)
        now = bad.run.finished_at or datetime.now()
        bad.gantt(now=now).write_image(DOCS / "gantt.png", width=1100, height=520, scale=1)
        compare_runs([good, bad]).write_image(DOCS / "compare.png", width=1100, height=520)
        print(f"wrote {DOCS / 'gantt.png'} and {DOCS / 'compare.png'}")
    root = DOCS.parent
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "tests/test_browser.py",
            "-k",
            "jupyterlab",
            "-p",
            "no:cacheprovider",
        ],
        cwd=root,
        check=True,
    )
    for name in ("explorer.png", "explorer-1024.png"):
        shutil.copy(root / "artifacts" / name, DOCS / name)
        print(f"wrote {DOCS / name}")


if __name__ == "__main__":
    main()
