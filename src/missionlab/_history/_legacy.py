"""Folders a history cannot be kept in: one in the old format, or one holding other things."""

from __future__ import annotations

from pathlib import Path

from ._errors import HistoryFormatError
from ._tables import STATE, TABLES

OLD_MANIFEST = "manifest.json"  # the Parquet-and-manifest format of missionlab before Delta Lake


def refuse_legacy(path: Path) -> None:
    """Refuse a folder in the old format, and a folder that holds anything but a history."""
    if (path / OLD_MANIFEST).is_file():
        raise HistoryFormatError(
            f"{path} holds a history in missionlab's old format (manifest.json and Parquet files), "
            "which this version no longer reads: histories are Delta Lake tables now. Sync into a "
            "new folder, missionlab.history(client, 'NEW-FOLDER').sync(), which fetches everything "
            "again from the API; then delete the old folder"
        )
    if not path.exists():
        return
    if not path.is_dir():
        raise HistoryFormatError(f"{path} is a file, not a history folder")
    ours = {*TABLES, STATE}
    others = sorted(p.name for p in path.iterdir() if p.name not in ours)
    if others:
        raise HistoryFormatError(
            f"{path} is not a missionlab history: it holds {others[0]!r}"
            f"{f' and {len(others) - 1} more' if len(others) > 1 else ''}. Give a new or empty "
            "folder (a history keeps only its own tables there)"
        )
