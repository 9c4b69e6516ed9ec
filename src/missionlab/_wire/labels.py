"""Labels on runs, kept in the run's ``metadata`` on the server so that a team shares them.

A run's labels live under one key of its metadata, next to whatever else the caller keeps
there::

    {"missionlab": {"labels": [{"label": "wrong-refund", "note": "refunded twice",
                                "labelled_at": "2026-12-07T12:00:00Z"}]}}

Reading is tolerant (:func:`labels_of`: any other shape there reads as no labels, an entry
whose label is not valid text is skipped); writing is strict (:func:`check_label`: 1 to
:data:`MAX_LABEL_LENGTH` characters, letters, digits and ``- _ . : /``, starting with a
letter or digit; a note is text of up to :data:`MAX_NOTE_LENGTH` characters).
:func:`with_label` and :func:`without_label` give the run's new metadata (every other key
kept as it was), or None when nothing changes, which makes labelling idempotent.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from ..errors import InvalidArgumentError, MissionlabError

__all__ = [
    "LABELS_KEY",
    "MAX_LABELS",
    "MAX_LABEL_LENGTH",
    "MAX_NOTE_LENGTH",
    "LabelMetadataError",
    "check_label",
    "check_note",
    "label_entries",
    "labels_of",
    "with_label",
    "without_label",
]

LABELS_KEY = "missionlab"
"""The metadata key under which missionlab keeps its labels (``metadata[LABELS_KEY]["labels"]``)."""

MAX_LABEL_LENGTH = 64
MAX_NOTE_LENGTH = 1000
MAX_LABELS = 100
"""Labels one run may carry."""

_LABEL = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:/-]*")


class LabelMetadataError(MissionlabError):
    """A run's metadata holds something else under the labels' key: it is not overwritten."""


def check_label(label: Any, argument: str = "label") -> str:
    """``label`` if it is a valid label; :class:`~missionlab.InvalidArgumentError` saying why not."""
    if not isinstance(label, str):
        raise InvalidArgumentError(argument, f"expected a string, got {type(label).__name__}")
    if not label:
        raise InvalidArgumentError(argument, "a label cannot be empty")
    if len(label) > MAX_LABEL_LENGTH:
        raise InvalidArgumentError(
            argument, f"a label has at most {MAX_LABEL_LENGTH} characters, this one has {len(label)}"
        )
    if not _LABEL.fullmatch(label):
        bad = next((ch for ch in label if not _LABEL.fullmatch("a" + ch)), label[0])
        raise InvalidArgumentError(
            argument,
            f"{label!r}: a label is letters, digits and - _ . : / (starting with a letter or a digit); "
            f"{bad!r} is not allowed there",
        )
    return label


def check_note(note: Any) -> str | None:
    """``note`` if it is None or text of at most :data:`MAX_NOTE_LENGTH` characters."""
    if note is None:
        return None
    if not isinstance(note, str):
        raise InvalidArgumentError("note", f"expected a string, got {type(note).__name__}")
    if len(note) > MAX_NOTE_LENGTH:
        raise InvalidArgumentError(
            "note", f"a note has at most {MAX_NOTE_LENGTH} characters, this one has {len(note)}"
        )
    return note


def _valid(label: Any) -> bool:
    return isinstance(label, str) and len(label) <= MAX_LABEL_LENGTH and bool(_LABEL.fullmatch(label))


def label_entries(metadata: Any) -> list[dict[str, Any]]:
    """The label entries (``label``, ``note``, ``labelled_at``) a run's metadata holds, in the
    order they were added, read tolerantly: odd shapes read as no labels."""
    if not isinstance(metadata, Mapping):
        return []
    ours = metadata.get(LABELS_KEY)
    entries = ours.get("labels") if isinstance(ours, Mapping) else None
    if not isinstance(entries, list):
        return []
    seen: set[str] = set()
    kept = []
    for entry in entries:
        if isinstance(entry, Mapping) and _valid(entry.get("label")) and entry["label"] not in seen:
            seen.add(entry["label"])
            note = entry.get("note")
            kept.append(
                {
                    "label": entry["label"],
                    "note": note if isinstance(note, str) else None,
                    "labelled_at": entry.get("labelled_at"),
                }
            )
    return kept


def labels_of(metadata: Any) -> list[str]:
    """The labels of a run whose metadata is ``metadata`` (a dict, or anything: tolerant)."""
    return [entry["label"] for entry in label_entries(metadata)]


def _ours(metadata: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """A copy of ``metadata`` and of its labels' object, refusing to overwrite anything else."""
    if metadata is None:
        metadata = {}
    if not isinstance(metadata, Mapping):
        raise LabelMetadataError(f"the run's metadata is a {type(metadata).__name__}, not an object")
    copied = dict(metadata)
    ours = copied.get(LABELS_KEY, {})
    if not isinstance(ours, Mapping):
        raise LabelMetadataError(
            f"the run's metadata holds a {type(ours).__name__} under {LABELS_KEY!r}, where missionlab "
            "keeps its labels; it was not overwritten (rename that key to label this run)"
        )
    ours = dict(ours)
    if not isinstance(ours.get("labels", []), list):
        raise LabelMetadataError(
            f"the run's metadata[{LABELS_KEY!r}]['labels'] is not a list; it was not overwritten"
        )
    return copied, ours


def with_label(metadata: Any, label: str, note: str | None, at: str) -> dict[str, Any] | None:
    """``metadata`` with ``label`` added (or its note replaced when ``note`` is given and differs),
    or None when the run has it already as asked. ``at``: when (ISO 8601), for a new label."""
    copied, ours = _ours(metadata)
    entries = list(ours.get("labels", []))
    for index, entry in enumerate(entries):
        if isinstance(entry, Mapping) and entry.get("label") == label:
            if note is None or entry.get("note") == note:
                return None
            entries[index] = {**entry, "note": note}
            break
    else:
        if len(labels_of(copied)) >= MAX_LABELS:
            raise InvalidArgumentError("label", f"a run carries at most {MAX_LABELS} labels")
        entry = {"label": label, "labelled_at": at}
        entries.append(entry if note is None else {**entry, "note": note})
    copied[LABELS_KEY] = {**ours, "labels": entries}
    return copied


def without_label(metadata: Any, label: str) -> dict[str, Any] | None:
    """``metadata`` without ``label``, or None when the run does not carry it."""
    copied, ours = _ours(metadata)
    entries = list(ours.get("labels", []))
    kept = [e for e in entries if not (isinstance(e, Mapping) and e.get("label") == label)]
    if len(kept) == len(entries):
        return None
    copied[LABELS_KEY] = {**ours, "labels": kept}
    return copied
