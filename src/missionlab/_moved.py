"""Module paths of earlier releases, kept working: each now lives in its layer's folder.

``import missionlab.timeline`` (or ``from missionlab.timeline import gantt``, or
``missionlab.timeline.gantt``) gives the module at its new path, ``missionlab.figures.timeline``,
with one :class:`FutureWarning` per old path naming the new one. The finder answers for these
names of missionlab's own and nothing else.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import sys
import warnings
from collections.abc import Sequence
from types import ModuleType

__all__ = ["MOVED", "install", "new_name"]

#: Old module path below ``missionlab`` -> its path today (the longest old path that
#: starts a name wins: ``figures.replay`` inside ``figures``, ``resources`` for ``resources.runs``).
MOVED = {
    "models": "client.models",
    "resources": "client.resources",
    "recorder": "client.recorder",
    "counts": "client.counts",
    "timeline": "figures.timeline",
    "charts": "figures.charts",
    "replay": "figures.time_slider",
    "figures.replay": "figures.time_slider",
    "widgets.replay": "widgets.run_player",
    "share": "figures.share",
    "diagnosis": "analysis.diagnosis",
    "explain": "analysis.explain",
    "compare": "analysis.compare",
    "find": "analysis.find",
    "rollup": "analysis.rollup",
    "capsule": "analysis.capsule",
}

_warned: set[str] = set()


def _moved_part(fullname: str) -> tuple[str, str] | None:
    """The old path that starts ``fullname`` and the path it moved to (both in full), or None."""
    package, *parts = fullname.split(".")
    if package != "missionlab":
        return None
    for length in range(len(parts), 0, -1):
        moved = MOVED.get(".".join(parts[:length]))
        if moved is not None:
            return ".".join(["missionlab", *parts[:length]]), f"missionlab.{moved}"
    return None


def new_name(fullname: str) -> str | None:
    """The module path today of an old ``missionlab.X[.Y]`` path (None for any other name)."""
    part = _moved_part(fullname)
    return None if part is None else part[1] + fullname[len(part[0]) :]


class _MovedModules(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        return None if new_name(fullname) is None else importlib.machinery.ModuleSpec(fullname, self)

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType:
        return module_for(spec.name)

    def exec_module(self, module: ModuleType) -> None:
        """The module ran already, at its new path."""


def module_for(old: str) -> ModuleType:
    """The module an old path names, after one FutureWarning per moved module."""
    new, part = new_name(old), _moved_part(old)
    if new is None or part is None:
        raise ModuleNotFoundError(f"No module named {old!r}", name=old)
    moved = part[0]  # missionlab.resources for missionlab.resources.runs too
    if moved not in _warned:
        _warned.add(moved)
        message = f"{moved} moved to {part[1]}; import it from there"
        warnings.warn(message, FutureWarning, stacklevel=3)
    return importlib.import_module(new)


def install() -> None:
    """Let the import system find the old paths (once per process). The finder goes first:
    below an old package path (``missionlab.resources.runs``) the path finder would otherwise
    load the module a second time under the old name."""
    if not any(isinstance(finder, _MovedModules) for finder in sys.meta_path):
        sys.meta_path.insert(0, _MovedModules())
