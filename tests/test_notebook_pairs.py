"""Each notebook is a jupytext pair: notebooks/NAME.py holds the cells of notebooks/NAME.ipynb.

The .py file (percent format) is the source people edit and review; the .ipynb adds the saved
outputs. ``python tools/make_notebooks.py`` carries the cells over and runs the notebooks.
"""

from __future__ import annotations

from pathlib import Path

import jupytext
import nbformat
import pytest

NOTEBOOKS = Path(__file__).parents[1] / "notebooks"
PAIRS = sorted(NOTEBOOKS.glob("*.ipynb"))


def cells(notebook: nbformat.NotebookNode) -> list[tuple[str, str]]:
    return [(cell.cell_type, cell.source) for cell in notebook.cells]


def differences(source: Path, notebook: Path) -> list[str]:
    """The cells that differ between a .py source and its .ipynb, as readable lines."""
    expected = cells(jupytext.read(source, fmt="py:percent"))
    saved = cells(nbformat.read(notebook, as_version=4))  # type: ignore[no-untyped-call]
    lines = [
        f"cell {i + 1}: {kind!r} {text[:60]!r} != {other_kind!r} {other[:60]!r}"
        for i, ((kind, text), (other_kind, other)) in enumerate(zip(expected, saved, strict=False))
        if (kind, text) != (other_kind, other)
    ]
    if len(expected) != len(saved):
        lines.append(f"{len(expected)} cells in {source.name}, {len(saved)} in {notebook.name}")
    return lines


def test_every_notebook_has_its_source_and_every_source_its_notebook() -> None:
    assert PAIRS, "no notebook found"
    assert {p.stem for p in NOTEBOOKS.glob("*.py")} == {p.stem for p in PAIRS}


@pytest.mark.parametrize("notebook", PAIRS, ids=[p.name for p in PAIRS])
def test_notebook_holds_the_cells_of_its_source(notebook: Path) -> None:
    differ = differences(notebook.with_suffix(".py"), notebook)
    assert not differ, "run `python tools/make_notebooks.py` (--no-run to keep outputs):\n" + "\n".join(
        differ
    )


def test_an_edited_source_is_noticed(tmp_path: Path) -> None:
    notebook = PAIRS[0]
    source = tmp_path / notebook.with_suffix(".py").name
    edited = (
        notebook.with_suffix(".py").read_text().replace("import missionlab", "import missionlab as ml", 1)
    )
    source.write_text(edited)
    assert differences(source, notebook)
    source.write_text(edited + "\n# %%\nprint('one more cell')\n")
    assert any("cells in" in line for line in differences(source, notebook))
