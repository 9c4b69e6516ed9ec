"""Forms: start a run with JSON input and metadata; create or edit a mission."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import ipywidgets as w

from ..client._client import Client
from ..client.models import Mission, Run
from ..types import ExecutionMode
from ._common import JsonField, Notice, button, dropdown, reporting, row


class StartRunForm(w.VBox):
    """JSON editors for ``input`` and ``metadata`` and a Start button.

    Invalid JSON shows a message next to its field and sends nothing; what was
    typed is kept. ``on_started(run)`` is called with each new run.
    """

    def __init__(
        self, client: Client, mission_id: str | None = None, *, on_started: Callable[[Run], Any] | None = None
    ) -> None:
        self.client = client
        self.mission_id = mission_id
        self.on_started = on_started
        self.input = JsonField("input")
        self.metadata = JsonField("metadata")
        self.start_button = button("Start run", "rocket", button_style="primary")
        self.start_button.on_click(lambda _: self.start())
        self.notice = Notice()
        self.last_run: Run | None = None
        super().__init__(
            [w.HTML("<b>Start a run</b>"), self.input, self.metadata, self.start_button, self.notice],
            layout=w.Layout(width="100%"),
        )

    def __repr__(self) -> str:
        return f"<StartRunForm mission={self.mission_id}>"

    def start(self) -> Run | None:
        """Validate both fields, then start the run; returns it, or None."""
        input_value, input_ok = self.input.read()
        metadata_value, metadata_ok = self.metadata.read()
        if not (input_ok and metadata_ok):
            self.notice.error("Fix the JSON above: nothing was sent.")
            return None
        if self.mission_id is None:
            self.notice.error("Select a mission first.")
            return None
        with reporting(self.notice, "Start run", self.start_button):
            run = self.client.missions.runs.create(
                self.mission_id, input=input_value, metadata=metadata_value
            ).data
            self.last_run = run
            self.notice.info(f"Started run {run.run_id} ({run.status})")
            if self.on_started is not None:
                self.on_started(run)
            return run
        return None


class MissionForm(w.VBox):
    """Create a mission, or edit one (``mission`` given)."""

    def __init__(
        self,
        client: Client,
        mission: Mission | None = None,
        *,
        on_saved: Callable[[Mission], Any] | None = None,
        on_cancel: Callable[[], Any] | None = None,
    ) -> None:
        self.client = client
        self.mission = mission
        self.on_saved = on_saved
        wide = {"style": {"description_width": "90px"}, "layout": w.Layout(width="100%")}
        self.name = w.Text(description="Name", value=mission.name if mission else "", **wide)
        self.description = w.Textarea(
            description="Description", value=(mission.description or "") if mission else "", **wide
        )
        self.instructions = w.Textarea(
            description="Instructions", value=(mission.instructions or "") if mission else "", **wide
        )
        self.model = w.Text(description="Model", value=(mission.model or "") if mission else "", **wide)
        self.mode = dropdown(
            "Mode", [m.value for m in ExecutionMode], str(mission.execution_mode) if mission else "external"
        )
        self.metadata = JsonField("metadata", mission.metadata if mission else None)
        self.save_button = button("Save" if mission else "Create", "save", button_style="primary")
        self.cancel_button = button("Cancel")
        self.save_button.on_click(lambda _: self.save())
        if on_cancel is not None:
            self.cancel_button.on_click(lambda _: on_cancel())
        self.notice = Notice()
        title = f"Edit {mission.name}" if mission else "New mission"
        header = w.Label(value=title)
        super().__init__(
            [
                header,
                self.name,
                self.description,
                self.instructions,
                self.model,
                self.mode,
                self.metadata,
                row(self.save_button, self.cancel_button),
                self.notice,
            ],
            layout=w.Layout(width="100%"),
        )

    def save(self) -> Mission | None:
        metadata, ok = self.metadata.read()
        if not ok:
            self.notice.error("Fix the metadata JSON: nothing was sent.")
            return None
        if not self.name.value.strip():
            self.notice.error("A mission needs a name: nothing was sent.")
            return None
        fields = {
            "name": self.name.value,
            "description": self.description.value or None,
            "instructions": self.instructions.value or None,
            "model": self.model.value or None,
            "execution_mode": self.mode.value,
            "metadata": metadata,
        }
        missions = self.client.missions
        with reporting(self.notice, "Save mission", self.save_button):
            if self.mission is None:
                saved = missions.create(**fields).data
            else:
                saved = missions.update_mission(self.mission.mission_id, **fields).data
            self.mission = saved
            self.notice.info(f"Saved {saved.name}")
            if self.on_saved is not None:
                self.on_saved(saved)
            return saved
        return None
