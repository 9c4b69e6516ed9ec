"""Tables of missions and runs: an itables table (which escapes every cell) at the panel's full
width, with row selection, sorting of the rows on screen and no pager of its own: paging is
the panel's (one pager per list).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import ipywidgets as w
import pandas as pd
from itables.widget import ITable

from ..client._display import html_table

# itables' default style ("width:auto;margin:auto") is what makes a table a narrow column in Lab.
FULL_WIDTH = "table-layout:auto;width:100%;margin:0;caption-side:bottom"
NO_CONTROLS = {"topStart": None, "topEnd": None, "bottomStart": None, "bottomEnd": None}


class SelectableTable(ITable):
    """An ITable of ``frame`` whose row selection calls ``on_select(row_index)``.

    ``nowrap``: columns kept on one line (ids, dates, durations); the others wrap.
    ``filter_label``: show the table's own search box with this label (it only ever
    searches the rows on screen, so say so); None hides it.
    """

    def __init__(
        self,
        frame: pd.DataFrame,
        on_select: Callable[[int], Any],
        *,
        nowrap: Sequence[str] = (),
        filter_label: str | None = None,
    ) -> None:
        layout: dict[str, Any] = dict(NO_CONTROLS)
        language = {"emptyTable": "Nothing to show"}
        if filter_label is not None:
            layout["topStart"] = "search"
            language["search"] = filter_label
        columns = list(frame.columns)
        # itables recomputes some options (the layout) on every update: pass them every time
        self._options: dict[str, Any] = {
            "select": {"style": "single"},
            "paging": False,
            "layout": layout,
            "language": language,
            "classes": "display compact",
            "style": FULL_WIDTH,
            "autoWidth": False,
            "showIndex": False,
            "columnDefs": [
                {
                    "targets": [columns.index(c) for c in nowrap if c in columns],
                    "className": "missionlab-nowrap",
                }
            ],
        }
        super().__init__(frame, **self._options)
        self.layout = w.Layout(width="100%")
        self.frame = frame
        self._on_select = on_select
        self._quiet = False
        self.observe(self._selected, "selected_rows")

    def _selected(self, change: dict[str, Any]) -> None:
        rows = change["new"] or []
        if not self._quiet and rows and 0 <= rows[0] < len(self.frame):
            self._on_select(rows[0])

    def show(self, frame: pd.DataFrame, selected: int | None = None) -> None:
        """Show new rows, with row ``selected`` highlighted (without calling ``on_select``)."""
        if frame.equals(self.frame) and self.selected_rows == ([] if selected is None else [selected]):
            return  # nothing changed: don't make the browser redraw (and lose its scroll)
        self.frame = frame
        self._quiet = True
        try:
            self.update(frame, selected_rows=[] if selected is None else [selected], **self._options)
        finally:
            self._quiet = False


def frame_html(frame: pd.DataFrame) -> str:
    """A frame as a static, escaped HTML table (missing values left blank)."""
    cells = frame.astype(object).where(frame.notna(), None)
    rows = [{str(k): v for k, v in row.items()} for row in cells.to_dict("records")]
    return html_table(rows, [str(c) for c in frame.columns])
