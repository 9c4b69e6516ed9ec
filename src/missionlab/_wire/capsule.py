"""The run capsule's format check, one for every reader (``open_run``, the sandbox's ``--load``).

A capsule is one JSON object: ``{"format": CAPSULE_FORMAT, "version": CAPSULE_VERSION, "run":
{...}, "mission": {...}, "plan": [...], "events": [...], "agents": [...], ...}`` (the name and
version are in :mod:`missionlab.types`; the writer is :mod:`missionlab.analysis.capsule`).
"""

from __future__ import annotations

from typing import Any

from ..errors import CapsuleError
from ..types import CAPSULE_FORMAT, CAPSULE_VERSION

__all__ = ["check_capsule"]


def check_capsule(data: Any) -> dict[str, Any]:
    """``data`` if it is a run capsule of a version this missionlab reads, with a run;
    :class:`~missionlab.errors.CapsuleError` saying why not otherwise."""
    if not isinstance(data, dict) or data.get("format") != CAPSULE_FORMAT:
        raise CapsuleError(f"not a run capsule: its format is not {CAPSULE_FORMAT!r}")
    version = data.get("version")
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise CapsuleError(f"run capsule version {version!r} is not a version number")
    if version > CAPSULE_VERSION:
        raise CapsuleError(
            f"run capsule version {version!r}: this missionlab reads versions up to {CAPSULE_VERSION}, "
            "upgrade missionlab"
        )
    if not isinstance(data.get("run"), dict):
        raise CapsuleError("run capsule without a run")
    return data
