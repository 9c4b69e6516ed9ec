"""Tables of missions and runs: an interactive itables table with search, sort, paging and
row selection (it escapes every cell), fed from DataFrames."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pandas as pd
from itables.widget import ITable


class SelectableTable(ITable):
    """An ITable of ``frame`` whose row selection calls ``on_select(row_index)``."""

    def __init__(self, frame: pd.DataFrame, on_select: Callable[[int], Any], **options: Any) -> None:
        super().__init__(
            frame,
            select={"style": "single"},
            pageLength=10,
            classes="display compact",
            showIndex=False,
            **options,
        )
        self.frame = frame
        self._on_select = on_select
        self.observe(self._selected, "selected_rows")

    def _selected(self, change: dict[str, Any]) -> None:
        rows = change["new"] or []
        if rows and 0 <= rows[0] < len(self.frame):
            self._on_select(rows[0])

    def show(self, frame: pd.DataFrame) -> None:
        """Show new rows (the selection is cleared)."""
        self.frame = frame
        self.update(frame, selected_rows=[])
