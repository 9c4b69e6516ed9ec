""" "Show code": the few lines of Python that reproduce what a panel shows, to copy into a cell.

Each ``*_code`` function returns a snippet that ends in an expression: run in a namespace
holding ``client`` (the explorer's client), its value is the data of the view it describes
(the tests execute every one of them). Values typed by users or sent by servers are
written with ``repr``, so a snippet is always valid Python.
"""

from __future__ import annotations

import html
import json
from collections.abc import Callable

import ipywidgets as w

CLIENT_NOTE = "# client: the explorer's client (explorer.client), or client = missionlab.connect()\n"


RUN_EVENTS = "__run__"  # the event filter's step value for the run's own events (no step)


def _q(text: str | None) -> str:
    """A Python literal of ``text``: a double-quoted string (JSON's escapes are Python's) or None."""
    return "None" if text is None else json.dumps(text)


def _load(mission_id: str, run_id: str, imports: str = "") -> str:
    return (
        f"import missionlab\n{imports}\n{CLIENT_NOTE}"
        f"trace = missionlab.load_run(client, {_q(mission_id)}, {_q(run_id)})\n"
    )


def missions_code(search: str = "") -> str:
    """The missions table: every mission as a frame (filtered as the search box does)."""
    lines = [
        "from missionlab.frames import missions_frame\n\n",
        CLIENT_NOTE,
        "missions = missions_frame(client.missions.list(page_size=1000).fetch_all())\n",
    ]
    needle = search.strip().lower()
    if needle:
        lines.append(
            'name, about = missions["name"].str.lower(), missions["description"].fillna("").str.lower()\n'
            f"missions = missions[name.str.contains({_q(needle)}, regex=False) "
            f"| about.str.contains({_q(needle)}, regex=False)]\n"
        )
    lines.append("missions\n")
    return "".join(lines)


def runs_code(
    mission_id: str | None, status: str | None, page_number: int, page_size: int, label: str | None = None
) -> str:
    """The runs table: one page of runs, as the server pages and filters them; with ``label``,
    every run (of that status) is listed and those carrying the label kept, then paged here."""
    where = f"{_q(mission_id)}, " if mission_id else ""
    method = "list" if mission_id else "list_runs"
    if label:
        start = (page_number - 1) * page_size
        return (
            "from missionlab.frames import runs_frame\n\n"
            f"{CLIENT_NOTE}"
            f"listed = client.missions.runs.{method}({where}status={_q(status)}, page_size=1000)\n"
            "runs = runs_frame(listed.fetch_all())\n"
            f'labelled = runs[runs["labels"].map(lambda labels: {_q(label)} in labels)]\n'
            f"labelled.iloc[{start}:{start + page_size}]\n"
        )
    return (
        "from missionlab.frames import runs_frame\n\n"
        f"{CLIENT_NOTE}"
        f"page = client.missions.runs.{method}(\n"
        f"    {where}status={_q(status)}, page_number={page_number}, page_size={page_size}\n)\n"
        "runs_frame(page.data)\n"
    )


def timeline_code(mission_id: str, run_id: str, rollup: list[str] | None = None) -> str:
    """The run's Gantt (with the roll-ups of ``rollup`` in its hover)."""
    options = f"rollup={rollup!r}" if rollup else ""
    return _load(mission_id, run_id) + f"trace.gantt({options})\n"


def events_code(
    mission_id: str,
    run_id: str,
    event_type: str = "",
    step: str = "",
    text: str = "",
    *,
    agent: str = "",
    window: tuple[float, float] | None = None,
) -> str:
    """The event log: the run's events that ``trace.find`` finds for the filters on screen, newest
    first (``step=RUN_EVENTS``: the run's own events; ``window``: seconds after the run's start)."""
    args = [_q(text.strip())] if text.strip() else []
    if event_type:
        args.append(f"type={_q(event_type)}")
    if step and step != RUN_EVENTS:
        args.append(f"step={_q(step)}")
    if agent:
        args.append(f"agent={_q(agent)}")
    if window is not None:
        args += [f"start={window[0]!r}", f"end={window[1]!r}"]
    lines = [_load(mission_id, run_id), f"events = trace.find({', '.join(args)})\n"]
    if step == RUN_EVENTS:
        lines.append('events = events[events["step_id"].isna()]  # the run\'s own events\n')
    lines.append("events.iloc[::-1]  # newest first\n")
    return "".join(lines)


def steps_code(mission_id: str, run_id: str, paths: list[str]) -> str:
    """The steps tab: the plan's steps with each roll-up path's total per step."""
    return _load(mission_id, run_id) + f"trace.step_table({', '.join(_q(p) for p in paths)})\n"


def diagnosis_code(mission_id: str, run_id: str) -> str:
    """Why the run ended as it did and what looks wrong."""
    explain = "print(trace.explain())  # why it ended as it did\n"
    return _load(mission_id, run_id) + explain + "trace.diagnose()\n"


def compare_code(mission_id: str, run_id: str, other_run_id: str | None) -> str:
    """The run next to another run of its mission (None: the most typical succeeded run, which
    compare() picks and says why), aligned at their start, the first divergence marked."""
    if other_run_id is None:
        other, compared = "", "comparison = trace.compare()\nprint(comparison)\n"
    else:
        other = f"other = missionlab.load_run(client, {_q(mission_id)}, {_q(other_run_id)})\n"
        compared = "comparison = trace.compare(other)\n"
    return (
        _load(mission_id, run_id, "from missionlab.figures.charts import compare_runs\n")
        + other
        + compared
        + "compare_runs(comparison)\n"
    )


def agents_code(mission_id: str, run_id: str) -> str:
    """The Telnyx agents linked to the run."""
    return (
        "from missionlab.frames import agents_frame\n\n"
        f"{CLIENT_NOTE}"
        f"agents = client.missions.runs.telnyx_agents.list({_q(run_id)}, mission_id={_q(mission_id)})\n"
        "agents_frame(agents.data)\n"
    )


class CodeView(w.VBox):
    """A "Show code" toggle and, when on, the snippet ``source()`` returns, ready to copy."""

    def __init__(self, source: Callable[[], str | None]) -> None:
        self.source = source
        self.toggle = w.ToggleButton(
            description="Show code",
            icon="code",
            tooltip="The Python that reproduces this view, to copy into a cell",
            layout=w.Layout(width="auto"),
        )
        self.code = w.HTML()
        self.toggle.observe(lambda _: self.refresh(), "value")
        super().__init__([self.toggle, self.code], layout=w.Layout(width="100%"))
        self.add_class("missionlab-code-view")

    @property
    def text(self) -> str | None:
        """The snippet for what is on screen now (None when there is nothing to reproduce)."""
        return self.source()

    def refresh(self) -> None:
        """Show the current snippet (call it when the view changes); nothing while hidden."""
        self.toggle.description = "Hide code" if self.toggle.value else "Show code"
        if not self.toggle.value:
            self.code.value = ""
            return
        snippet = self.text
        if snippet is None:
            self.code.value = '<div class="missionlab-hint">Nothing on screen to reproduce yet.</div>'
        else:
            self.code.value = (
                '<div class="missionlab-hint">Copy into a cell to get this view as data:</div>'
                f'<pre class="missionlab-code">{html.escape(snippet)}</pre>'
            )
