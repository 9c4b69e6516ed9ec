"""ipywidgets panels: browse missions, start and steer runs, watch them live.

``missionlab.browse()`` composes them all; each panel also works on its own.
"""

from .forms import MissionForm, StartRunForm
from .panels import Explorer, MissionsPanel, RunsPanel, browse
from .replay import Replay
from .run_panel import RunPanel

__all__ = [
    "Explorer",
    "MissionForm",
    "MissionsPanel",
    "Replay",
    "RunPanel",
    "RunsPanel",
    "StartRunForm",
    "browse",
]
