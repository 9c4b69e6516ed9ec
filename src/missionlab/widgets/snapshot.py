"""Static snapshots: what a saved notebook shows where a panel was.

A widget's output only renders with a live kernel, so a saved notebook shows "Error
displaying widget" in JupyterLab and nothing on GitHub or nbviewer. A panel displayed in a
notebook therefore adds a second output: an escaped HTML copy of what it shows (its
tables, the run's status), refreshed as the user navigates. While the live panel is on the
page, its stylesheet hides that copy; without a kernel, only the copy remains.
"""

from __future__ import annotations

import html
import uuid
from datetime import UTC, datetime
from typing import Any

SNAPSHOT_NOTE = "Snapshot of {what} ({when}); run the cell for the live, clickable view."


def hide_rule(snapshot_id: str) -> str:
    """CSS that hides the snapshot ``snapshot_id`` (and its output area) while the live panel is shown."""
    mark = f'[data-missionlab-snapshot="{snapshot_id}"]'
    return f"{mark}, .jp-OutputArea-child:has({mark}) {{ display: none !important; }}"


class Snapshot:
    """Mixin for panels: ``snapshot_html()`` says what they show; displaying one shows it
    live plus a static copy that updates with :meth:`update_snapshot`."""

    snapshot_title = "a missionlab panel"
    _snapshot_display: Any = None

    @property
    def snapshot_id(self) -> str:
        """The id that ties the static copy to its live panel."""
        if "_snapshot_id" not in self.__dict__:
            self.__dict__["_snapshot_id"] = uuid.uuid4().hex
        snapshot_id: str = self.__dict__["_snapshot_id"]
        return snapshot_id

    def snapshot_html(self) -> str:
        raise NotImplementedError

    def _snapshot_bundle(self) -> dict[str, str]:
        when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
        note = SNAPSHOT_NOTE.format(what=self.snapshot_title, when=when)
        body = (
            f'<div class="missionlab-snapshot" data-missionlab-snapshot="{self.snapshot_id}">'
            f"<p><em>{html.escape(note)}</em></p>{self.snapshot_html()}</div>"
        )
        return {"text/html": body, "text/plain": note}

    def _ipython_display_(self) -> None:
        from IPython.display import display

        bundle = dict(self._repr_mimebundle_())  # type: ignore[attr-defined]  # the widget's own view
        # without a kernel, renderers that can't draw widgets (GitHub, nbviewer) would show the
        # repr as text ("<missionlab Explorer: ...>"): the snapshot below says it better
        bundle.pop("text/plain", None)
        display(bundle, raw=True)
        self._snapshot_display = display(self._snapshot_bundle(), raw=True, display_id=True)

    def update_snapshot(self) -> None:
        """Bring the static copy up to date (if the panel was displayed)."""
        if self._snapshot_display is not None:
            self._snapshot_display.update(self._snapshot_bundle(), raw=True)
