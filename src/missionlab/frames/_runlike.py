"""What the data layer's views accept as "a run": anything with a run, its mission, and its
plan steps and events as frames (a :class:`missionlab.RunTrace`, a loaded capsule, ...).

Frames, figures and diagnosis read runs through this protocol rather than importing
``trace`` (which imports them): the layer below never names the layer above.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["RunLike", "as_of", "field", "is_runlike"]

_ATTRIBUTES = ("run", "mission", "steps_frame", "events_frame")


class RunLike(Protocol):
    """A run with its mission, plan steps and events (``steps_frame``/``events_frame``)."""

    @property
    def run(self) -> Any: ...

    @property
    def mission(self) -> Any: ...

    @property
    def steps_frame(self) -> pd.DataFrame: ...

    @property
    def events_frame(self) -> pd.DataFrame: ...


def is_runlike(obj: Any) -> bool:
    """Whether ``obj`` is :class:`RunLike`, checked on its class so that no frame is built."""
    kind = type(obj)
    return all(hasattr(kind, name) or name in getattr(obj, "__dict__", {}) for name in _ATTRIBUTES)


def field(obj: Any, name: str) -> Any:
    """A field of a run or mission given as a model or as a plain dict (None when absent)."""
    return obj.get(name) if isinstance(obj, Mapping) else getattr(obj, name, None)


def as_of(obj: Any) -> datetime | None:
    """The moment a run-like is a record of, which its views take as "now" when none is
    given: a trace opened from a capsule of a run still active when saved stands at the
    capsule's ``saved_at``. None for anything else (measured to the clock's time)."""
    moment = getattr(obj, "as_of", None) if is_runlike(obj) else None
    return moment if isinstance(moment, datetime) else None
