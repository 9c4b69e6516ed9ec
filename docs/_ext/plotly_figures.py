"""Draw the notebooks' plotly figures on the documentation site.

The notebooks save a figure as plotly's JSON output, which needs plotly.js to be drawn.
``read_notebook`` (myst-nb's reader of ``.ipynb`` files, see conf.py) adds an HTML version
of each figure; the pages that draw one load the plotly.js that the plotly package ships,
copied into the site, so nothing comes from the network.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import nbformat
import plotly
import plotly.io

PLOTLY_JSON = "application/vnd.plotly.v1+json"
PLOTLY_JS = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"


def read_notebook(text: str) -> nbformat.NotebookNode:
    """A notebook, with an HTML version of each plotly figure output."""
    notebook = nbformat.reads(text, as_version=4)
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            if PLOTLY_JSON in data and "text/html" not in data:
                figure = plotly.io.from_json(json.dumps(data[PLOTLY_JSON]))
                data["text/html"] = drawn_when_loaded(figure.to_html(full_html=False, include_plotlyjs=False))
    return notebook


def drawn_when_loaded(html: str) -> str:
    """``html`` with its one script run on the page's load event (plotly.js comes last)."""
    head, script = html.split("<script>", 1)
    body, tail = script.rsplit("</script>", 1)
    return f'{head}<script>window.addEventListener("load", function () {{{body}}});</script>{tail}'


def add_plotly_js(
    app: Any, pagename: str, templatename: str, context: dict[str, Any], doctree: object
) -> None:
    if "Plotly.newPlot" in context.get("body", ""):
        app.add_js_file("plotly.min.js")


def copy_plotly_js(app: Any, exception: Exception | None) -> None:
    if exception is None and app.builder.format == "html":
        shutil.copyfile(PLOTLY_JS, Path(app.outdir) / "_static" / "plotly.min.js")


def setup(app: Any) -> dict[str, Any]:
    app.connect("html-page-context", add_plotly_js)
    app.connect("build-finished", copy_plotly_js)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
