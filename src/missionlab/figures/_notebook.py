"""How a figure shows in a notebook so that the saved notebook still shows it, with no kernel.

A figure is displayed as two representations of one output: plotly's own
``application/vnd.plotly.v1+json``, which JupyterLab, VS Code and Voila draw with their
plotly renderer, and a ``text/html`` fallback (plotly's ``to_html`` without plotly.js),
which ``jupyter nbconvert --to html``, nbviewer and any page that shows the HTML draw
with the plotly.js that plotly's ``notebook`` renderer puts in the notebook once per
kernel (inlined from the installed plotly package: no CDN, works offline). So a
notebook grows by one copy of plotly.js, then by each figure's data twice (the JSON and
its HTML), never by plotly.js per figure.

Every figure missionlab returns is a :class:`NotebookFigure`, a plain ``go.Figure`` that shows
itself so in a notebook. plotly's renderer setting still decides where it can: the
notebook renderers (plotly's own default in Jupyter, ``plotly_mimetype``, and ``notebook``,
``jupyterlab``, ``vscode``, ``nteract``, alone or combined) all get the output above; a
renderer a user chose outside them (``png``, ``svg``, ``browser``, ``json``...) is used as is.
"""

from __future__ import annotations

from typing import Any

import plotly.graph_objects as go
import plotly.io as pio

from ._json_ready import figure_dict, json_ready

__all__ = [
    "PLOTLY_MIMETYPE",
    "NotebookFigure",
    "display_figure",
    "figure_bundle",
    "figure_html",
    "load_plotlyjs",
    "shows_as_notebook_output",
]

PLOTLY_MIMETYPE = "application/vnd.plotly.v1+json"
_loaded = {"plotlyjs": False}  # plotly.js displayed once in this kernel


def figure_html(figure: go.Figure) -> str:
    """The figure as an HTML fragment drawn by a plotly.js already on the page (no plotly.js,
    no MathJax: nothing loaded from the network). A replay does not play on load: it rests at
    the run's end until its play button is pressed (plotly's autoplay animates with a
    transition, which its patterned bars fail in)."""
    html: str = pio.to_html(
        figure,
        full_html=False,
        include_plotlyjs=False,
        include_mathjax=False,
        default_width="100%",
        validate=False,
        auto_play=False,
    )
    return html


def figure_bundle(figure: go.Figure) -> dict[str, Any]:
    """The figure's display data: plotly's JSON for frontends that draw it, the HTML fallback
    for those that show HTML, and a short text."""
    bundle = dict(pio.renderers["plotly_mimetype"].to_mimebundle(figure.to_plotly_json()))
    bundle["text/html"] = figure_html(figure)
    bundle["text/plain"] = f"<Figure: {len(figure.data)} traces>"
    return bundle


def load_plotlyjs() -> None:
    """Put plotly.js in the notebook's outputs once in this kernel (plotly's ``notebook``
    renderer's global initialization), for the HTML fallbacks of the figures after it."""
    if not _loaded["plotlyjs"]:
        pio.renderers["notebook"].activate()
        _loaded["plotlyjs"] = True


def display_figure(figure: go.Figure) -> None:
    """Display ``figure`` so that a saved or exported notebook still draws it (see the module)."""
    from IPython.display import display

    load_plotlyjs()
    display(figure_bundle(figure), raw=True)  # type: ignore[no-untyped-call]


# plotly's renderers that draw a figure in a notebook's output; each is served by the output
# above, which also survives saving and export
NOTEBOOK_RENDERERS = frozenset(
    {"plotly_mimetype", "notebook", "notebook_connected", "jupyterlab", "nteract", "vscode"}
)


def shows_as_notebook_output() -> bool:
    """Whether plotly's renderer setting is one of the notebook renderers (see the module)."""
    names = pio.renderers.default.split("+") if pio.renderers.default else []
    return bool(pio.renderers.render_on_display and names) and set(names) <= NOTEBOOK_RENDERERS


class NotebookFigure(go.Figure):  # type: ignore[misc]  # plotly ships no type hints
    """A plotly Figure that a saved or exported notebook still draws (see the module); in
    every other way a ``go.Figure``."""

    def to_dict(self) -> dict[str, Any]:
        """plotly's ``to_dict``, ready for its JSON writer to take whole (string arrays as
        lists, times as datetimes: see :mod:`missionlab.figures._json_ready`); the same JSON."""
        frames = [frame._props for frame in self._frame_objs]
        ready = figure_dict(self._data, self._layout, frames)
        return ready if ready is not None else json_ready(super().to_dict())

    def _ipython_display_(self) -> None:
        if shows_as_notebook_output():
            display_figure(self)
        else:
            super()._ipython_display_()
