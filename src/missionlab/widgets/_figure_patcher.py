"""Changes to a figure drawn by the notebook's plotly renderer, sent as plotly.js calls.

A :class:`~missionlab.widgets.run_views.FigurePane` draws its figure through the notebook's own
plotly renderer (an output, no widget module to load). To change that figure without
sending it again, the pane's :class:`FigurePatcher`, a small widget of no size, receives the
changes (:mod:`missionlab.figures._figure_patch`) as messages and applies them with the
page's plotly.js (``extendTraces``, ``restyle``/``update``, ``relayout``) to every drawing of
the pane (each view of it, found by a class the pane carries). A drawing made after some
changes (the figure drawn late, or drawn again in the same page) gets every change since the
figure was last sent whole (``epoch``); a page loaded anew gets the pane's current figure,
which the kernel keeps up to date (the changes are made to it too).

With :meth:`FigurePatcher.on_click`, a click on a point of a drawing (plotly's
``plotly_click``) is sent to the kernel too: the clicked point's trace (its index and
``meta``), ``x``, ``y`` and ``customdata``, given to the callbacks as a dict.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import anywidget
import traitlets

__all__ = ["FigurePatcher"]

_ESM = r"""
const KIND = "missionlab-figure-patch";
const CLICK = "missionlab-figure-click";
const wrapped = (values) => Object.fromEntries(Object.entries(values).map(([k, v]) => [k, [v]]));

async function applyOne(Plotly, gd, op) {
  if (op.op === "extend") {
    await Plotly.extendTraces(gd, wrapped(op.values), [op.trace]);
  } else if (op.op === "restyle") {
    // a restyle of x or y data clears the axis types unless the same call sets them; setting
    // a type turns the axis' autorange on, so a set range (the Gantt's reversed rows, a
    // user's zoom) is set again with it
    const keep = {};
    for (const axis of ["xaxis", "yaxis"]) {
      const type = gd.layout && gd.layout[axis] && gd.layout[axis].type;
      if (!type) continue;
      keep[axis + ".type"] = type;
      const full = gd._fullLayout && gd._fullLayout[axis];
      if (full && full.autorange === false && full.range) {
        keep[axis + ".range"] = full.range.slice();
        keep[axis + ".autorange"] = false;
      }
    }
    await Plotly.update(gd, wrapped(op.values), keep, [op.trace]);
  } else if (op.op === "relayout") {
    await Plotly.relayout(gd, op.values);
  }
}

export default {
  initialize({ model }) {
    let epoch = model.get("epoch");
    let changes = [];  // every change since the figure was last sent whole, in order
    const busy = new WeakMap();  // a drawing -> its chain of calls
    const catchUp = () => {
      const Plotly = window.Plotly;
      if (!Plotly) return;  // nothing drawn by the renderer yet
      for (const gd of document.querySelectorAll(`.${model.get("target")} .js-plotly-plot`)) {
        if (!gd._fullLayout || !gd.data) continue;  // not drawn yet: the timer comes back
        if (gd.__missionlabEpoch !== epoch) {
          gd.__missionlabEpoch = epoch;  // a drawing of the figure as last sent whole
          gd.__missionlabDone = 0;
        }
        const chain = (busy.get(gd) || Promise.resolve()).then(async () => {
          while (gd.__missionlabEpoch === epoch && gd.__missionlabDone < changes.length) {
            const ops = changes[gd.__missionlabDone];
            gd.__missionlabDone += 1;
            for (const op of ops) await applyOne(Plotly, gd, op);
            window.__missionlabPatches = (window.__missionlabPatches || 0) + 1;  // read by the browser tests
          }
        }).catch((error) => console.warn("missionlab: a figure update was not drawn", error));
        busy.set(gd, chain);
      }
    };
    model.on("change:epoch", () => {
      epoch = model.get("epoch");
      changes = [];
    });
    model.on("msg:custom", (message) => {
      if (!message || message.kind !== KIND || message.epoch !== epoch) return;
      changes.push(message.ops);
      catchUp();
    });
    const timer = setInterval(() => { if (changes.length) catchUp(); }, 500);
    // clicks: each drawing (a new one each time the figure is sent whole) is listened to once
    const listen = () => {
      if (!model.get("clicks")) return;
      for (const gd of document.querySelectorAll(`.${model.get("target")} .js-plotly-plot`)) {
        if (gd.__missionlabClicks || typeof gd.on !== "function") continue;
        gd.__missionlabClicks = true;
        gd.on("plotly_click", (event) => {
          const point = event && event.points && event.points[0];
          if (!point) return;
          const trace = point.data || {};
          model.send({kind: CLICK, point: {
            trace: point.curveNumber ?? null, meta: trace.meta ?? null,
            x: point.x ?? null, y: point.y ?? null, customdata: point.customdata ?? null,
          }});
        });
      }
    };
    listen();
    model.on("change:clicks", listen);
    const listener = setInterval(listen, 500);
    return () => { clearInterval(timer); clearInterval(listener); };
  },
  render() {},
};
"""


class FigurePatcher(anywidget.AnyWidget):
    """Applies figure changes to the drawings inside the elements of class ``target``."""

    _esm = traitlets.Unicode(_ESM).tag(sync=True)
    target = traitlets.Unicode().tag(sync=True)
    epoch = traitlets.Int(0).tag(sync=True)
    clicks = traitlets.Bool(False).tag(sync=True)  # whether clicks on the drawings are sent

    def __init__(self, target: str, **kwargs: Any) -> None:
        super().__init__(target=target, **kwargs)
        self.layout.display = "none"
        self._on_click: list[Callable[[dict[str, Any]], Any]] = []
        self.on_msg(self._message)

    def on_click(self, callback: Callable[[dict[str, Any]], Any]) -> None:
        """Call ``callback(point)`` on each click on a point of a drawing: ``point`` has the
        trace's index (``trace``) and ``meta``, and the point's ``x``, ``y`` and
        ``customdata``, as the browser sent them (check them before use)."""
        self._on_click.append(callback)
        self.clicks = True

    def _message(self, _: Any, content: Any, buffers: Any) -> None:
        if isinstance(content, dict) and content.get("kind") == "missionlab-figure-click":
            point = content.get("point")
            if isinstance(point, dict):
                for callback in self._on_click:
                    callback(point)

    def redrawn(self) -> None:
        """The figure was sent whole: the changes sent before are in it."""
        self.epoch += 1

    def apply(self, ops: list[dict[str, Any]]) -> None:
        """Send ``ops`` (see :func:`missionlab.figures._figure_patch.figure_patch`)."""
        self.send({"kind": "missionlab-figure-patch", "epoch": self.epoch, "ops": ops})
