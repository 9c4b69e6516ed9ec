"""The sandbox: a local, faithful Telnyx AI Missions API with a run simulator and demo data.

Start it from Python with :class:`Sandbox`, from a shell with
``missionlab sandbox serve``, or let :func:`missionlab.connect` start a demo one.
"""

from .app import create_app
from .faults import FaultRule, Faults
from .server import Sandbox, serve
from .store import Store

__all__ = ["FaultRule", "Faults", "Sandbox", "Store", "create_app", "serve"]
