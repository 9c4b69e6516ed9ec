"""``missionlab.open_run``: a run capsule opened as a :class:`~missionlab.RunTrace` (kept apart
from :mod:`missionlab.analysis.capsule` so that the trace, which saves capsules, and the capsule
module do not import each other)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .analysis.capsule import trace_parts
from .trace import RunTrace

__all__ = ["open_run"]


def open_run(source: str | Path | bytes | dict[str, Any]) -> RunTrace:
    """The :class:`~missionlab.RunTrace` a capsule file (or its bytes or dict) holds, with no
    network: ``trace.client`` is None and ``trace.capsule_source`` says where it was saved from.
    Raises :class:`missionlab.analysis.capsule.CapsuleError` for a file that is not a capsule."""
    parts = trace_parts(source)
    source_info = parts.pop("source")
    trace = RunTrace(**parts)
    trace.__dict__["capsule_source"] = source_info
    return trace
