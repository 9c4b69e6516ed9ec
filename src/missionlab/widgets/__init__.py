"""ipywidgets panels: browse missions, start and steer runs, watch them live.

``missionlab.browse()`` composes them all; each panel also works on its own.
"""

import typing as _typing

from .explorer import Explorer, browse
from .forms import MissionForm, StartRunForm
from .missions import MissionsPanel
from .run_panel import RunPanel
from .run_player import RunPlayer
from .run_player import earlier_name as _earlier_name
from .runs import RunsPanel

__all__ = [
    "Explorer",
    "MissionForm",
    "MissionsPanel",
    "RunPanel",
    "RunPlayer",
    "RunsPanel",
    "StartRunForm",
    "browse",
]


def __getattr__(name: str) -> _typing.Any:
    if name == "Replay":  # RunPlayer's name in earlier releases (it warns once)
        return _earlier_name()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
