"""The run capsule's format check, one for every reader (``open_run``, the sandbox's ``--load``).

A capsule is one JSON object: ``{"format": CAPSULE_FORMAT, "version": CAPSULE_VERSION, "run":
{...}, "mission": {...}, "plan": [...], "events": [...], "agents": [...], ...}`` (the name and
version are in :mod:`missionlab.types`; the writer is :mod:`missionlab.analysis.capsule`).
"""

from __future__ import annotations

from typing import Any

from ..errors import CapsuleError
from ..types import CAPSULE_FORMAT, CAPSULE_VERSION

__all__ = ["check_capsule", "check_versioned"]


def check_versioned(data: Any, what: str, fmt: str, newest: int, error: type[CapsuleError]) -> dict[str, Any]:
    """``data`` if it is a JSON object of the format ``fmt`` in a version up to ``newest``;
    ``error`` saying why not otherwise (``what`` names the kind of file: "run capsule")."""
    if not isinstance(data, dict) or data.get("format") != fmt:
        raise error(f"not a {what}: its format is not {fmt!r}")
    version = data.get("version")
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise error(f"{what} version {version!r} is not a version number")
    if version > newest:
        raise error(
            f"{what} version {version!r}: this missionlab reads versions up to {newest}, upgrade missionlab"
        )
    return data


def check_capsule(data: Any) -> dict[str, Any]:
    """``data`` if it is a run capsule of a version this missionlab reads, with a run;
    :class:`~missionlab.errors.CapsuleError` saying why not otherwise."""
    capsule = check_versioned(data, "run capsule", CAPSULE_FORMAT, CAPSULE_VERSION, CapsuleError)
    if not isinstance(capsule.get("run"), dict):
        raise CapsuleError("run capsule without a run")
    return capsule
