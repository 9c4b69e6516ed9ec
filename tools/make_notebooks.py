"""Write the notebooks in notebooks/ from the cell lists below (outputs are added by running them).

    python tools/make_notebooks.py && tools/run_notebooks.sh
"""

from __future__ import annotations

from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

NOTEBOOKS: dict[str, list[tuple[str, str]]] = {
    "01-quickstart.ipynb": [
        ("md", "# missionlab quickstart\n\nmissionlab talks to the Telnyx AI Missions API. "
               "With `TELNYX_API_KEY` set it uses the hosted API; without it, it starts a local "
               "**sandbox** with realistic demo data, so this notebook runs anywhere, offline."),
        ("code", "import missionlab\n\nclient = missionlab.connect()"),
        ("md", "## Missions\n\nA page of missions renders as a table. Iterating over a page "
               "walks every page; `fetch_all()` gets everything at once."),
        ("code", "missions = client.missions.list()\nmissions"),
        ("md", "## Start a run of a managed mission\n\nThe sandbox executes managed runs like "
               "the hosted service: it writes a plan, moves the steps along and logs events."),
        ("code", "travel = next(m for m in missions.data if m.name == 'Travel booking assistant')\n"
                 "run = client.missions.runs.create(travel.mission_id, input={'to': 'Lisbon'}).data\n"
                 "print(run.status)"),
        ("code", "import time\n\n"
                 "while True:\n"
                 "    run = client.missions.runs.retrieve(run.run_id, mission_id=travel.mission_id).data\n"
                 "    if run.status in ('succeeded', 'failed', 'cancelled'):\n"
                 "        break\n"
                 "    time.sleep(1)\n"
                 "print(run.status)"),
        ("code", "plan = client.missions.runs.plan.retrieve(run.run_id, mission_id=travel.mission_id)\n"
                 "print(len(plan.data) >= 5, all(s.status != 'pending' for s in plan.data))"),
    ],
}


def build(name: str, cells: list[tuple[str, str]]) -> nbformat.NotebookNode:
    notebook = new_notebook(cells=[new_markdown_cell(src) if kind == "md" else new_code_cell(src)
                                   for kind, src in cells])
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                       "language": "python"}
    notebook.metadata["language_info"] = {"name": "python"}
    return notebook


def main() -> None:
    folder = Path(__file__).parents[1] / "notebooks"
    folder.mkdir(exist_ok=True)
    for name, cells in NOTEBOOKS.items():
        nbformat.write(build(name, cells), folder / name)


if __name__ == "__main__":
    main()
