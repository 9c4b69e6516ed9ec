"""ipywidgets panels: browse missions, start and steer runs, watch them live.

``missionlab.browse()`` composes them all; each panel also works on its own.
"""

from .explorer import Explorer, browse
from .forms import MissionForm, StartRunForm
from .missions import MissionsPanel
from .run_panel import RunPanel
from .run_player import Replay
from .runs import RunsPanel

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
