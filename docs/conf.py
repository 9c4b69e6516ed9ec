"""Sphinx configuration of the documentation site.

    python -m sphinx -n -W --keep-going -b html docs build/docs   # what CI runs (-W: warnings fail)

Pages are Markdown (MyST), notebooks are rendered by myst-nb with their saved outputs (never
executed here: the test suite runs them), and the API reference comes from the docstrings
(autodoc). ``-n`` makes every cross-reference resolve: to this site, or through intersphinx to
the documentation of Python, pandas, plotly, httpx, ipywidgets, ... (docs/_ext/reference_targets.py
links private paths to public names). The build reads nothing from the network.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))  # the source tree's missionlab, as the tests use
sys.path.insert(0, str(ROOT / "docs" / "_ext"))  # this site's own extension

# The sandbox (FastAPI) is imported before autodoc runs: once autodoc has documented the
# pydantic models, a first import of FastAPI (which defines pydantic models of its own) fails
# inside Sphinx.
import missionlab.sandbox  # noqa: E402, F401
from missionlab import __version__  # noqa: E402

project = "missionlab"
author = "missionlab developers"
copyright = "2026, missionlab developers"
release = version = __version__

extensions = [
    "myst_nb",
    "sphinx.ext.autodoc",
    "sphinx.ext.intersphinx",
    "sphinx.ext.viewcode",
    "plotly_figures",
    "reference_targets",
]
suppress_warnings: list[str] = []
exclude_patterns = ["_build", "_ext", "notebooks/*.py", "notebooks/jupytext.toml", "**/.ipynb_checkpoints"]
# notebooks/ is linked into docs/ (docs/notebooks -> ../notebooks); the .ipynb files are pages.

# Markdown
myst_enable_extensions = ["colon_fence", "deflist"]
myst_heading_anchors = 3

# Notebooks: the saved outputs, as committed.
nb_execution_mode = "off"
nb_ipywidgets_js: dict[str, dict[str, str]] = {}  # no widget state is saved: load no widget JS (a CDN)
# plotly's JSON output: docs/_ext/plotly_figures.py adds its HTML, drawn by the plotly.js that
# the plotly package ships.
suppress_warnings.append("mystnb.unknown_mime_type")
nb_custom_formats = {".ipynb": "plotly_figures.read_notebook"}

# API reference
autodoc_member_order = "bysource"
autodoc_typehints = "signature"
autodoc_default_options = {
    "members": True,
    "undoc-members": True,
    "show-inheritance": True,
    "exclude-members": "model_config, model_fields, model_computed_fields",
}
autodoc_class_signature = "mixed"
add_module_names = False
python_display_short_literal_types = True
python_use_unqualified_type_names = True
# Classes the library makes for you: documented without their constructor's (internal) arguments.
made_by_the_library = frozenset(
    {"missionlab.SyncPage", "missionlab.AsyncPage"}
    | {
        f"missionlab.client.resources.{prefix}{name}"
        for prefix in ("", "Async")
        for name in (
            "Missions",
            "Runs",
            "Plan",
            "Events",
            "TelnyxAgents",
            "Tools",
            "KnowledgeBases",
            "McpServers",
        )
    }
)

# Links to other projects' documentation (intersphinx), from the inventories in docs/_inventories,
# which tools/make_inventories.py writes (its docstring says where each address comes from): the
# build never reads the network.
sys.path.insert(0, str(ROOT / "tools"))
from make_inventories import PROJECTS, TARGET  # noqa: E402

intersphinx_mapping = {key: (project.url, str(TARGET / f"{key}.inv")) for key, project in PROJECTS.items()}

# HTML
html_theme = "furo"
html_title = f"missionlab {version}"
html_static_path: list[str] = []
html_show_sourcelink = False


# Pages written by scripts on their own schedule (bench/run_all.py, bench/soak.py): the index's
# toctree names them, and loses the name of one whose file is not there yet.
OPTIONAL_PAGES = ("benchmarks", "reliability")


def drop_missing_optional_pages(app: object, docname: str, source: list[str]) -> None:
    if docname == "index":
        for page in OPTIONAL_PAGES:
            if not (ROOT / "docs" / f"{page}.md").exists():
                source[0] = source[0].replace(f"\n{page}\n", "\n")


def drop_builtin_docstrings(
    app: object, what: str, name: str, obj: object, options: object, lines: list[str]
) -> None:
    """A constant without a docstring of its own would show its type's (``dict``'s, say)."""
    builtin = what in ("data", "attribute") and type(obj).__module__ == "builtins"
    if builtin and "\n".join(lines).strip() == (type(obj).__doc__ or "").strip():
        lines.clear()


def setup(app: Any) -> None:
    app.connect("source-read", drop_missing_optional_pages)
    app.connect("autodoc-process-docstring", drop_builtin_docstrings)
