"""Write each notebooks/NAME.ipynb from its source notebooks/NAME.py, then run it to store outputs.

    python tools/make_notebooks.py                      # every notebook: inputs from .py, then run
    python tools/make_notebooks.py --no-run             # only carry the .py files' inputs over
    python tools/make_notebooks.py notebooks/02-*.py    # only these (a .py or an .ipynb path)

Each notebook is a jupytext pair (notebooks/jupytext.toml): the ``.py`` file, in the percent
format (``# %%`` starts a code cell, ``# %% [markdown]`` a Markdown one), is what you edit and
review; the ``.ipynb`` carries the same cells with their saved outputs, which the test suite
compares (nbval) and the docs render. tests/test_notebook_pairs.py fails when the two differ.
``jupytext --sync notebooks/NAME.ipynb`` does the same carrying over in whichever direction is
newer (JupyterLab with jupytext installed keeps the pair in step on save).

Outputs are stored without widget state (files stay small). Cells whose output
changes from run to run start with ``# NBVAL_IGNORE_OUTPUT``; the rest are
compared strictly by the test suite (``pytest --nbval``). Running needs the sandbox and
takes a few minutes.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

import jupytext
import nbformat
from jupytext.combine import combine_inputs_with_outputs

ROOT = Path(__file__).parents[1]
NOTEBOOKS = ROOT / "notebooks"
# As notebooks/jupytext.toml says: no metadata in the .py files; the .ipynb keeps its own.
PAIRED = {
    "extension": ".py",
    "format_name": "percent",
    "notebook_metadata_filter": "-all",
    "cell_metadata_filter": "-all",
}
# What JupyterLab writes when it starts ipykernel's kernel: any other value there makes Lab
# rewrite it on opening, and the notebook shows as modified before anything was done.
KERNELSPEC = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}


def write_inputs(source: Path) -> Path:
    """Carry the cells of ``source`` (a .py) into its .ipynb, keeping the outputs already saved."""
    target = source.with_suffix(".ipynb")
    notebook = jupytext.read(source, fmt=PAIRED)
    if target.exists():
        notebook = combine_inputs_with_outputs(notebook, nbformat.read(target, as_version=4), fmt=PAIRED)  # type: ignore[no-untyped-call]
    else:
        notebook.metadata["language_info"] = {"name": "python"}
    notebook.metadata["kernelspec"] = KERNELSPEC
    nbformat.write(notebook, target)  # type: ignore[no-untyped-call]
    return target


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
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="*", type=Path, help="notebooks (.py or .ipynb); default: all")
    parser.add_argument("--no-run", action="store_true", help="only carry the inputs over, do not run")
    args = parser.parse_args()
    sources = [path.with_suffix(".py") for path in args.paths] or sorted(NOTEBOOKS.glob("*.py"))
    for source in sources:
        notebook = write_inputs(source.resolve())
        if not args.no_run:
            print("running", notebook.name, flush=True)
            execute(notebook)


if __name__ == "__main__":
    main()
