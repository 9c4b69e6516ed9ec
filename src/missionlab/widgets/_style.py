"""The panels' stylesheet: a ``<style>`` element that comes with each panel, scoped to its class.

ipywidgets' layout traits cannot say "wrap", "monospace" or "full-width table"; these rules
can, in JupyterLab, Notebook 7 and Voila alike, on light and dark themes (they use the
theme's own variables).
"""

from __future__ import annotations

import ipywidgets as w

ROOT = "missionlab"  # the class every panel carries

_RULES = """
.missionlab { box-sizing: border-box; max-width: 100%; min-width: 0; }
.missionlab * { box-sizing: border-box; }
.missionlab .jupyter-widgets { margin-left: 0; margin-right: 0; max-width: 100%; }
.missionlab .missionlab-row { flex-wrap: wrap; gap: 4px 6px; max-width: 100%; }
.missionlab .widget-vbox > .jupyter-button,
.missionlab .widget-vbox > .widget-toggle-button { align-self: flex-start; }
.missionlab .missionlab-row > * { max-width: 100%; }
.missionlab .jupyter-button { flex: 0 0 auto; min-width: max-content; margin: 0; }
.missionlab .widget-html-content, .missionlab .widget-label { white-space: normal; overflow-wrap: anywhere; }
.missionlab .widget-html-content th { white-space: nowrap; overflow-wrap: normal; }
.missionlab .widget-textarea, .missionlab .widget-text { max-width: 100%; }
.missionlab .missionlab-columns { display: flex; flex-flow: row wrap; gap: 12px 24px; width: 100%; }
.missionlab .missionlab-column { flex: 1 1 520px; min-width: 0; max-width: 100%; }
.missionlab .missionlab-fill { width: 100%; min-width: 0; }
.missionlab .itables_anywidget, .missionlab div.dt-container {
  width: 100%; background: transparent; color: inherit; --dt-html-background: transparent; }
.missionlab table.dataTable { width: 100% !important; margin: 0 !important; }
.missionlab table.dataTable td { overflow-wrap: anywhere; }
.missionlab table.dataTable th { overflow-wrap: normal; word-break: normal; }
.missionlab table.dataTable td.missionlab-nowrap { white-space: nowrap; }
.missionlab .missionlab-mono select, .missionlab .missionlab-mono .widget-html-content,
.missionlab .missionlab-mono textarea, .missionlab pre.missionlab-code {
  font-family: var(--jp-code-font-family, monospace); font-size: var(--jp-code-font-size, 12px); }
.missionlab .missionlab-mono select { white-space: pre; }
.missionlab pre.missionlab-code {
  margin: 4px 0; padding: 6px 8px; white-space: pre-wrap; overflow-wrap: anywhere;
  background: var(--jp-cell-editor-background, rgba(127, 127, 127, 0.1));
  border: 1px solid var(--jp-border-color2, rgba(127, 127, 127, 0.3)); user-select: text; }
.missionlab .missionlab-hint { opacity: 0.75; font-size: 0.92em; }
.missionlab .missionlab-figure .jp-OutputArea, .missionlab .missionlab-figure .jp-OutputArea-child,
.missionlab .missionlab-figure .jp-RenderedPlotly { height: 100%; width: 100%; min-width: 0; }
.missionlab .missionlab-figure .jp-OutputArea-prompt { display: none; }
.missionlab .js-plotly-plot, .missionlab .plot-container { max-width: 100%; }
"""


def stylesheet(extra: str = "") -> w.HTML:
    """A widget holding the panels' rules (and ``extra`` ones); invisible, harmless if repeated."""
    sheet = w.HTML(f"<style>{_RULES}{extra}</style>", layout=w.Layout(display="none"))
    sheet.add_class("missionlab-style")
    return sheet
