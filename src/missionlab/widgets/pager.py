"""One pager for a list: Newer / "page 2 of 5 · 93 runs" / Older, and the page size."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import ipywidgets as w

from ._common import button, dropdown

PAGE_SIZES = (10, 20, 50, 100)


class Pager(w.HBox):
    """Page controls; ``on_page(page_number)`` is called when the user moves or resizes pages.

    The panel that owns it fetches the page and reports back with :meth:`set_total`.
    """

    def __init__(
        self, on_page: Callable[[int], Any], *, page_size: int = 20, noun: str = "runs", newer: bool = True
    ) -> None:
        self.on_page = on_page
        self.noun = noun
        self.page_number = 1
        self.total_pages = 0
        self.total_items: int | None = None
        sizes = sorted({*PAGE_SIZES, page_size})
        self.prev_button = button("Newer" if newer else "Previous", "arrow-left", tooltip="Previous page")
        self.next_button = button("Older" if newer else "Next", "arrow-right", tooltip="Next page")
        self.label = w.Label()
        self.size = dropdown("Per page", [(str(n), n) for n in sizes], page_size)
        self.prev_button.on_click(lambda _: self.on_page(self.page_number - 1))
        self.next_button.on_click(lambda _: self.on_page(self.page_number + 1))
        self.size.observe(lambda _: self.on_page(1), "value")
        super().__init__(
            [self.prev_button, self.label, self.next_button, self.size],
            layout=w.Layout(flex_flow="row wrap", align_items="center", width="100%"),
        )
        self.add_class("missionlab-row")
        self.add_class("missionlab-pager")
        self.set_total(1, 0, None)

    @property
    def page_size(self) -> int:
        return int(self.size.value)

    def set_total(self, page_number: int, total_pages: int, total_items: int | None) -> None:
        """Show where we are; disable what leads nowhere."""
        self.page_number = page_number
        self.total_pages = total_pages
        self.total_items = total_items
        self.prev_button.disabled = page_number <= 1
        self.next_button.disabled = page_number >= total_pages
        noun = self.noun if total_items != 1 else self.noun.rstrip("s")
        count = f" · {total_items} {noun}" if total_items is not None else ""
        self.label.value = f"page {page_number} of {max(total_pages, 1)}{count}"
