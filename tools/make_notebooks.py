"""Write the notebooks in notebooks/ from the cells below, then run them to store outputs.

    python tools/make_notebooks.py          # write and execute every notebook
    python tools/make_notebooks.py --no-run # only write them

Outputs are stored without widget state (files stay small). Cells whose output
changes from run to run start with ``# NBVAL_IGNORE_OUTPUT``; the rest are
compared strictly by the test suite (``pytest --nbval``).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

IGNORE = "# NBVAL_IGNORE_OUTPUT\n"
ROOT = Path(__file__).parents[1]

CONNECT = (
    "md",
    "With `TELNYX_API_KEY` set, `connect()` talks to the hosted API; without it "
    "it starts a local **sandbox** with deterministic demo data, so this notebook "
    "runs anywhere, offline.",
)

NOTEBOOKS: dict[str, list[tuple[str, str]]] = {
    "01-quickstart.ipynb": [
        (
            "md",
            "# missionlab quickstart\n\nmissionlab is a Jupyter toolkit for the Telnyx AI "
            "Missions API: browse missions, start and steer runs, and see a run's plan as "
            "a Gantt timeline, without leaving the notebook.",
        ),
        CONNECT,
        ("code", IGNORE + "import missionlab\n\nclient = missionlab.connect()"),
        (
            "md",
            "## The explorer\n\nSelect a mission to see its details and runs, start a run "
            "from the form, and steer it (pause, resume, cancel) from its run panel.",
        ),
        ("code", IGNORE + "explorer = missionlab.browse(client)\nexplorer"),
        (
            "md",
            "## Runs as a DataFrame\n\nEvery list converts to a tidy pandas DataFrame: fixed "
            "columns, real dtypes, durations in seconds.",
        ),
        (
            "code",
            'failed = client.missions.runs.list_runs(status="failed", page_size=5)\n'
            'failed.to_frame()[["run_id", "status", "started_at", "duration_s", '
            '"error"]]',
        ),
        (
            "md",
            "## Start a run and watch it\n\nThe sandbox executes *managed* missions like the "
            "hosted service: it writes a plan, moves the steps along and logs events. The "
            "Gantt below fills in live, in place, while the cell waits for the run. (While "
            "a cell runs, the kernel does nothing else: the explorer above answers again "
            "when it ends. A `RunPanel` refreshes in the background instead, see notebook "
            "04.)",
        ),
        (
            "code",
            "missions = {m.name: m for m in client.missions.list().data}\n"
            'travel = missions["Travel booking assistant"]\n'
            'run = client.missions.runs.create(travel.mission_id, input={"to": '
            '"Lisbon"}).data\nprint(run.status)',
        ),
        (
            "code",
            IGNORE + "import time\nfrom missionlab.timeline import LiveGantt\n\n"
            "trace = missionlab.load_run(client, travel.mission_id, run.run_id)\n"
            "live = LiveGantt(trace)\ndisplay(live)\n"
            'while trace.run.status in ("pending", "running"):\n'
            "    time.sleep(1)\n"
            "    trace = missionlab.load_run(client, travel.mission_id, run.run_id)\n"
            "    live.update(trace)\n"
            'print(trace.run.status, len(trace.steps), "steps", len(trace.events), '
            '"events")',
        ),
        ("md", "A finished run shows itself as a status card and its Gantt:"),
        ("code", IGNORE + "trace"),
    ],
    "02-debug-a-failed-run.ipynb": [
        (
            "md",
            "# Debug a failed run\n\nFind failed runs, read one's Gantt and events around "
            "the failure, run the diagnosis, and compare it with a successful run of the "
            "same mission.",
        ),
        CONNECT,
        (
            "code",
            IGNORE + "import missionlab\nfrom missionlab import charts, frames\n\n"
            "client = missionlab.connect()",
        ),
        ("md", "## Failed runs\n\nThe travel mission's failures, newest first:"),
        (
            "code",
            "missions = {m.name: m for m in client.missions.list().data}\n"
            'travel = missions["Travel booking assistant"]\n'
            "runs = client.missions.runs.list(travel.mission_id, page_size=1000)"
            ".fetch_all()\n"
            "runs_df = frames.runs_frame(runs)\n"
            'failed = runs_df[runs_df.status == "failed"]\n'
            'print(len(runs_df), "runs,", len(failed), "failed")\n'
            'failed[["run_id", "started_at", "duration_s", "error"]].head()',
        ),
        (
            "md",
            "## One failed run\n\n`load_run` fetches the run, its plan and all its events "
            "at once. Its Gantt shows where the time went and where it broke: hover over a "
            "bar or a marker for details.",
        ),
        ("code", "bad = missionlab.load_run(client, travel.mission_id, failed.run_id.iloc[0])\nprint(bad)"),
        ("code", IGNORE + "bad.gantt()"),
        ("md", "The events around the failure, from the step that failed:"),
        (
            "code",
            "events = bad.events_frame\n"
            'failed_step = bad.steps_frame.loc[bad.steps_frame.status == "failed", '
            '"step_id"].iloc[0]\n'
            'print("failed step:", failed_step)\n'
            'events.loc[events.step_id == failed_step, ["timestamp", "type", '
            '"summary"]]',
        ),
        (
            "md",
            "## Diagnosis\n\n`diagnose` looks for inconsistencies: steps left open, events "
            "that disagree with a step's status, silent steps, missing results. The "
            "simulated failure is clean: the run failed honestly, and recorded why.",
        ),
        ("code", "bad.diagnose()"),
        ("md", "A run left *running* by an external agent that went away is another story:"),
        (
            "code",
            'stuck_summary = next(r for r in client.missions.runs.list_runs(status="running"'
            ", page_size=100).data\n"
            "                     if r.started_at.year == 2026 and r.started_at.month == 11 "
            "and r.started_at.day < 28)\n"
            "stuck = missionlab.load_run(client, stuck_summary.mission_id, "
            "stuck_summary.run_id)\n"
            'stuck.diagnose(now=stuck.run.updated_at + __import__("datetime").timedelta('
            'hours=1))[["severity", "check", "step_id"]]',
        ),
        (
            "md",
            "## Compare with a successful run\n\nAligned at their start, the step that "
            "differs stands out (failed steps have a red outline):",
        ),
        (
            "code",
            'good_id = runs_df.loc[runs_df.status == "succeeded", "run_id"].iloc[0]\n'
            "good = missionlab.load_run(client, travel.mission_id, good_id)\n"
            'both = good.steps_frame.merge(bad.steps_frame, on="step_id", '
            'suffixes=("_ok", "_failed"))\n'
            'both[both.status_ok != both.status_failed][["step_id", "status_ok", '
            '"status_failed"]]',
        ),
        ("code", IGNORE + "charts.compare_runs([good, bad])"),
    ],
    "03-fleet-analytics.ipynb": [
        (
            "md",
            "# Fleet analytics\n\nAcross hundreds of runs: outcomes over time, the slowest "
            "and most failing steps, and step duration distributions.",
        ),
        CONNECT,
        (
            "code",
            IGNORE + "import missionlab\nfrom missionlab import charts, frames\n\n"
            "client = missionlab.connect()",
        ),
        (
            "md",
            "## Fetch everything\n\n`fetch_all()` reads the page count from a first page of "
            "1,000 runs and fetches the rest concurrently; a progress bar appears when it "
            "takes more than a moment. History only: runs started before the demo's "
            "anchor date, so the numbers below do not move while the sandbox plays live "
            "runs.",
        ),
        (
            "code",
            IGNORE + "runs = client.missions.runs.list_runs(page_size=100)"
            ".fetch_all(progress=True)\nlen(runs)",
        ),
        (
            "code",
            "runs_df = frames.runs_frame(runs)\n"
            'history = runs_df[runs_df.started_at < "2026-11-28"]\n'
            "history.status_counts().sort_index()",
        ),
        ("md", "## Outcomes over time"),
        ("code", 'weekly = frames.outcomes_over_time(history, freq="W")\nweekly'),
        (
            "code",
            IGNORE + "import plotly.express as px\n\n"
            'long = weekly.reset_index().melt(id_vars="period", var_name="status", '
            'value_name="runs")\n'
            'px.bar(long, x="period", y="runs", color="status", '
            "color_discrete_map=charts.RUN_COLORS,\n"
            '       title="Runs per week by outcome")',
        ),
        (
            "md",
            "## The slowest and most failing steps\n\nThe plans of one mission's runs, "
            "fetched concurrently, as one frame of steps:",
        ),
        (
            "code",
            "from concurrent.futures import ThreadPoolExecutor\n\n"
            "missions = {m.name: m for m in client.missions.list().data}\n"
            'travel = missions["Travel booking assistant"]\n'
            "travel_runs = history[history.mission_id == travel.mission_id]\n"
            "with ThreadPoolExecutor(8) as pool:\n"
            "    plans = pool.map(lambda run_id: client.missions.runs.plan.retrieve(\n"
            "        run_id, mission_id=travel.mission_id).data, travel_runs.run_id)\n"
            "    steps = frames.steps_frame([s for plan in plans for s in plan])\n"
            "stats = frames.step_stats(steps)\n"
            "stats.round(2)",
        ),
        (
            "code",
            'stats.sort_values("failure_rate", ascending=False).head(3)'
            '[["step_id", "failure_rate", "finished"]].round(3)',
        ),
        ("code", IGNORE + "charts.step_durations(steps)"),
        ("md", "## The runs themselves\n\nOne bar per run, as long as the run took, colored by its outcome:"),
        ("code", IGNORE + 'charts.runs_chart(travel_runs, title="Travel booking runs")'),
    ],
    "04-instrument-your-agent.ipynb": [
        (
            "md",
            "# Instrument your own agent\n\nWhen your code *is* the agent (an `external` "
            "mission), `RunRecorder` records what it does as a run: the plan, each step, "
            "tool calls, and the outcome. Here a toy travel agent books a trip; its "
            "payment call fails once and is retried.",
        ),
        CONNECT,
        (
            "code",
            IGNORE + "import missionlab\n\nclient = missionlab.connect()\n"
            'mission = client.missions.create(name="My toy travel agent", '
            'execution_mode="external").data',
        ),
        ("md", "The toy agent: plain Python functions, slow enough to watch."),
        (
            "code",
            "import random\nimport time\n\nrandom.seed(4)\n\n\n"
            "def search_flights(to):\n    time.sleep(1.5)\n"
            '    return [{"flight": f"AF{random.randint(100, 999)}", "to": to, '
            '"price": random.randint(80, 400)} for _ in range(3)]\n\n\n'
            'attempts = {"pay": 0}\n\n\n'
            'def pay(amount):\n    attempts["pay"] += 1\n    time.sleep(1)\n'
            '    if attempts["pay"] == 1:\n'
            '        raise ConnectionError("payment gateway timed out")\n'
            '    return {"charged": amount}',
        ),
        (
            "md",
            "Run it under the recorder. A run panel next to it refreshes itself every "
            "second while the run is active.",
        ),
        (
            "code",
            IGNORE + "from missionlab import RunRecorder\n"
            "from missionlab.widgets import RunPanel\n\n"
            'with RunRecorder(client, mission.mission_id, input={"to": "Lisbon"}, '
            'agent_id="toy-agent") as rec:\n'
            "    panel = RunPanel(client, mission.mission_id, rec.run_id, "
            "refresh_interval=1)\n"
            "    display(panel)\n"
            '    rec.plan([("search", "Search flights"), ("choose", "Choose the '
            'cheapest"), ("pay", "Pay")])\n'
            '    with rec.step("search"):\n'
            '        rec.event("tool_call", "flights.search", payload={"to": '
            '"Lisbon"})\n'
            '        flights = search_flights("Lisbon")\n'
            '        rec.event("tool_result", f"{len(flights)} flights", '
            'payload={"flights": flights})\n'
            '    with rec.step("choose"):\n'
            '        best = min(flights, key=lambda f: f["price"])\n'
            "        time.sleep(0.5)\n"
            '    with rec.step("pay"):\n'
            "        for attempt in (1, 2, 3):\n"
            '            rec.event("tool_call", f"payments.charge (attempt {attempt})")\n'
            "            try:\n"
            '                receipt = pay(best["price"])\n'
            "                break\n"
            "            except ConnectionError as exc:\n"
            '                rec.event("error", f"attempt {attempt} failed: {exc}")\n'
            '        rec.event("tool_result", "charged", payload=receipt)\n'
            '    rec.succeed(f"Booked {best[\'flight\']}", {"flight": best, '
            '"receipt": receipt})',
        ),
        ("md", "The recorded run, read back:"),
        (
            "code",
            "trace = missionlab.load_run(client, mission.mission_id, rec.run_id)\n"
            'print(trace.run.status, "-", trace.run.result_summary)\n'
            'trace.steps_frame[["step_id", "status", "depth"]]',
        ),
        ("code", 'trace.events_frame[["type", "step_id", "summary"]]'),
        ("code", "trace.diagnose()"),
        (
            "md",
            "If the code raises, the step and the run are marked failed with the "
            "exception's text, and steps never reached are marked skipped: a run is never "
            "left *running*.",
        ),
        (
            "code",
            "try:\n    with RunRecorder(client, mission.mission_id) as rec:\n"
            '        rec.plan([("a", "Work"), ("b", "Never reached")])\n'
            '        with rec.step("a"):\n'
            '            raise ValueError("no flights to Atlantis")\n'
            "except ValueError:\n    pass\n"
            "failed = missionlab.load_run(client, mission.mission_id, rec.run_id)\n"
            'print(failed.run.status, "-", failed.run.error)\n'
            'failed.steps_frame[["step_id", "status"]]',
        ),
    ],
    "dashboard.ipynb": [
        ("md", "# Missions explorer"),
        ("code", IGNORE + "import missionlab\n\nmissionlab.browse()"),
    ],
}


def build(cells: list[tuple[str, str]]) -> nbformat.NotebookNode:
    notebook = new_notebook(
        cells=[new_markdown_cell(src) if kind == "md" else new_code_cell(src) for kind, src in cells]
    )
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    notebook.metadata["language_info"] = {"name": "python"}
    return notebook


def execute(path: Path) -> None:
    env = {**os.environ, "PLOTLY_RENDERER": "plotly_mimetype"}
    env.pop("TELNYX_API_KEY", None)
    subprocess.run(
        [
            sys.executable,
            "-m",
            "jupyter",
            "nbconvert",
            "--to",
            "notebook",
            "--execute",
            "--inplace",
            "--ExecutePreprocessor.timeout=300",
            "--ExecutePreprocessor.store_widget_state=False",
            str(path),
        ],
        check=True,
        env=env,
        cwd=path.parent,
    )


def main() -> None:
    folder = ROOT / "notebooks"
    folder.mkdir(exist_ok=True)
    for name, cells in NOTEBOOKS.items():
        path = folder / name
        nbformat.write(build(cells), path)
        if "--no-run" not in sys.argv:
            print("running", name, flush=True)
            execute(path)


if __name__ == "__main__":
    main()
