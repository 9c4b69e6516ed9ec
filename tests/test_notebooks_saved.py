"""The committed notebooks carry their outputs (nbval's strict mode would pass without them)."""

from __future__ import annotations

import ast
import re
from datetime import datetime
from pathlib import Path
from typing import Any

import nbformat
import pytest
from plotly.offline import get_plotlyjs

NOTEBOOKS = sorted((Path(__file__).parents[1] / "notebooks").glob("*.ipynb"))
PLOTLYJS_MARK = get_plotlyjs()[:60]
EXPECTED = {
    "01-quickstart.ipynb",
    "02-debug-a-failed-run.ipynb",
    "03-fleet-analytics.ipynb",
    "04-instrument-your-agent.ipynb",
    "05-opentelemetry.ipynb",
    "dashboard.ipynb",
}


def test_every_notebook_is_there() -> None:
    assert {p.name for p in NOTEBOOKS} == EXPECTED


def shows_something(source: str) -> bool:
    """Whether a cell's code must produce output: it prints, displays or ends in an expression."""
    tree = ast.parse(source)
    if tree.body and isinstance(tree.body[-1], ast.Expr):
        return True
    return any(
        isinstance(node, ast.Call) and getattr(node.func, "id", None) in ("print", "display")
        for node in ast.walk(tree)
    )


def _html(output: Any) -> str:
    return str(output.get("data", {}).get("text/html", ""))


def stored_size(output: Any) -> int:
    """Bytes of one output as a notebook file stores it."""
    cell = nbformat.v4.new_code_cell(outputs=[output])  # type: ignore[no-untyped-call]
    empty = nbformat.v4.new_code_cell()  # type: ignore[no-untyped-call]
    with_it = nbformat.writes(nbformat.v4.new_notebook(cells=[cell]))  # type: ignore[no-untyped-call]
    without = nbformat.writes(nbformat.v4.new_notebook(cells=[empty]))  # type: ignore[no-untyped-call]
    return len(with_it.encode()) - len(without.encode())


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_saved_with_outputs_and_without_widget_state(path: Path) -> None:
    notebook = nbformat.read(path, as_version=4)  # type: ignore[no-untyped-call]
    code = [c for c in notebook.cells if c.cell_type == "code"]
    assert code and all(c.execution_count for c in code), "run the notebook before saving it"
    for cell in code:
        if shows_something(cell.source):
            assert cell.outputs, f"no saved output for cell:\n{cell.source[:200]}"
        assert not any(o.output_type == "error" for o in cell.outputs), cell.source[:200]
    assert "widgets" not in notebook.metadata  # widget state is not stored
    # plotly.js at most once (what a displayed trace's figure is drawn with in an exported
    # notebook, see tests/test_notebook_export.py), and little besides
    html = "".join(o.get("data", {}).get("text/html", "") for c in code for o in c.outputs)
    stored = html.count(PLOTLYJS_MARK)
    assert stored <= 1
    # each displayed output at most about 300 KB as the file stores it (a figure is kept twice:
    # plotly's JSON and its HTML fallback), plotly.js's output aside
    sizes = [stored_size(o) for c in code for o in c.outputs if PLOTLYJS_MARK not in _html(o)]
    assert max(sizes, default=0) < 300_000, sizes


def test_a_notebook_without_outputs_fails_the_check(tmp_path: Path) -> None:
    notebook = nbformat.read(NOTEBOOKS[0], as_version=4)  # type: ignore[no-untyped-call]
    for cell in notebook.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    stripped = tmp_path / NOTEBOOKS[0].name
    nbformat.write(notebook, stripped)  # type: ignore[no-untyped-call]
    with pytest.raises(AssertionError):
        test_saved_with_outputs_and_without_widget_state(stripped)


def test_the_quickstart_states_the_watched_runs_own_duration() -> None:
    """The watched run's card says how long it took as its own start and finish times do (it
    once said 344 s for a run that took 34 s)."""
    notebook = nbformat.read(NOTEBOOKS[0], as_version=4)  # type: ignore[no-untyped-call]
    card = next(
        o.data["text/html"]
        for c in notebook.cells
        if c.cell_type == "code" and c.source.strip().endswith("\ntrace")
        for o in c.outputs
        if "missionlab-explain" in o.get("data", {}).get("text/html", "")
    )
    field = {k: v for k, v in re.findall(r"<th[^>]*>(\w+)</th><td[^>]*>([^<]*)</td>", card)}
    started, finished = (datetime.fromisoformat(field[k]) for k in ("started", "finished"))
    elapsed = (finished - started).total_seconds()  # both shown to the second
    stated = re.fullmatch(r"Completed all \d+ steps in (\d+) s( \(.*\))?", field["result"])
    assert stated, field["result"]
    assert abs(int(stated.group(1)) - elapsed) <= 1.5
    after = re.search(r"succeeded after (\d+(?:\.\d)?) s", card)  # 8.9 s under 10 s, else whole seconds
    assert after and abs(float(after.group(1)) - elapsed) <= 1.5
