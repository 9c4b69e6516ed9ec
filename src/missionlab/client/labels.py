"""Labelling runs on the server: a label is added to (or removed from) the run's ``metadata``
with UpdateRun (``PATCH .../runs/{run_id}``), so that every client reading the run sees it.

``label_run`` and ``unlabel_run`` read the run first and send its whole metadata back with the
one change (UpdateRun replaces ``metadata``): every other key, and labels a teammate added
since the run was last read, are kept. Two clients labelling the same run at the very same
moment can still lose one of the two changes (the API has no conditional update). A call that
changes nothing (the label is there already, with that note; or absent, for ``unlabel_run``)
sends no update. The label's format is in ``missionlab._wire.labels``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

from .._wire.labels import check_label, check_note, with_label, without_label

if TYPE_CHECKING:
    from ._client import Client
    from .models import Run

__all__ = ["label_run", "unlabel_run"]


def label_run(client: Client, mission_id: str, run_id: str, label: str, *, note: str | None = None) -> Run:
    """Add ``label`` (with ``note``) to a run on the server; returns the run as it now stands."""
    label, note = check_label(label), check_note(note)
    runs = client.missions.runs
    run = runs.retrieve(run_id, mission_id=mission_id).data
    at = datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
    metadata = with_label(run.metadata, label, note, at)
    if metadata is None:
        return run
    return runs.update(run_id, mission_id=mission_id, metadata=metadata).data


def unlabel_run(client: Client, mission_id: str, run_id: str, label: str) -> Run:
    """Remove ``label`` from a run on the server; returns the run as it now stands."""
    label = check_label(label)
    runs = client.missions.runs
    run = runs.retrieve(run_id, mission_id=mission_id).data
    metadata = without_label(run.metadata, label)
    if metadata is None:
        return run
    return runs.update(run_id, mission_id=mission_id, metadata=metadata).data
