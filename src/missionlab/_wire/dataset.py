"""A dataset: a folder of run capsules and one index, ``dataset.json``, for every reader
(``missionlab.open_dataset`` and the sandbox's ``--load DIR``).

The index::

    {"format": "missionlab-dataset", "version": 1, "capsule_version": 1, "saved_at": "...",
     "runs": [{"run_id": "...", "mission_id": "...", "mission": "refunds", "status": "failed",
               "labels": ["wrong-refund"], "file": "0001-5f0c....json"}, ...]}

A capsule's ``file`` is a plain file name in the folder (:func:`capsule_name` makes one from
the run's position and id, whatever characters the id holds); :func:`index_files` refuses
any other (a path, ``..``, a link leading out of the folder), so that reading an index never
reads outside its folder. :func:`folder_capsules` gives the capsules a folder holds: the
index's files, or, for a folder without an index, its ``*.json`` files.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from ..errors import CapsuleError
from .capsule import check_versioned

__all__ = [
    "DATASET_FORMAT",
    "DATASET_VERSION",
    "INDEX_NAME",
    "DatasetError",
    "capsule_name",
    "folder_capsules",
    "index_files",
    "read_index",
]

DATASET_FORMAT = "missionlab-dataset"
DATASET_VERSION = 1
INDEX_NAME = "dataset.json"

_UNSAFE = re.compile(r"[^A-Za-z0-9_-]+")


class DatasetError(CapsuleError):
    """A folder that is not a dataset this missionlab reads or writes (or an unsafe index)."""


def capsule_name(number: int, run_id: str) -> str:
    """The file name of a dataset's ``number``-th capsule: its number and its run id, kept to
    letters, digits, ``-`` and ``_`` (an id from a server may hold anything)."""
    safe = _UNSAFE.sub("_", str(run_id))[:48].strip("_") or "run"
    return f"{number:04d}-{safe}.json"


def _plain_name(name: Any, where: str) -> str:
    if not isinstance(name, str) or not name:
        raise DatasetError(f"{where}: `file` must be a file name, got {name!r}")
    if (
        "/" in name
        or "\\" in name
        or "\x00" in name
        or name in (".", "..")
        or Path(name).name != name
        or Path(name).is_absolute()
        or ":" in name
    ):
        raise DatasetError(f"{where}: `file` {name!r} is not a plain file name in the dataset's folder")
    if not name.endswith(".json") or name == INDEX_NAME:
        raise DatasetError(f"{where}: `file` {name!r} is not a capsule's name (NAME.json)")
    return name


def index_files(index: Any, folder: str | Path) -> list[Path]:
    """The capsule files an index lists, each checked to be a plain file name that stays in
    ``folder`` (no path, no ``..``, no link out of it); :class:`DatasetError` otherwise."""
    index = check_versioned(index, "dataset index", DATASET_FORMAT, DATASET_VERSION, DatasetError)
    runs = index.get("runs")
    if not isinstance(runs, list) or not all(isinstance(entry, dict) for entry in runs):
        raise DatasetError("dataset index: `runs` must be a list of objects")
    root = Path(folder).resolve()
    files: list[Path] = []
    for number, entry in enumerate(runs):
        where = f"dataset index, run {number}"
        name = _plain_name(entry.get("file"), where)
        path = root / name
        if path.resolve().parent != root:
            raise DatasetError(f"{where}: `file` {name!r} leads out of the dataset's folder")
        if path in files:
            raise DatasetError(f"{where}: `file` {name!r} is listed twice")
        files.append(path)
    return files


def read_index(folder: str | Path) -> dict[str, Any]:
    """The index of the dataset in ``folder`` (checked as :func:`index_files` does)."""
    path = Path(folder) / INDEX_NAME
    try:
        index = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DatasetError(f"{folder}: not a dataset (no {INDEX_NAME})") from None
    except (OSError, ValueError, RecursionError) as error:
        raise DatasetError(f"{path}: cannot read the dataset index: {error}") from None
    index_files(index, folder)
    return dict(index)


def folder_capsules(folder: str | Path) -> list[Path]:
    """The capsules of a folder: those its index lists, in its order, or, without an index, its
    ``*.json`` files by name (hidden files left out)."""
    folder = Path(folder)
    if (folder / INDEX_NAME).is_file():
        return index_files(read_index(folder), folder)
    return sorted(p for p in folder.glob("*.json") if not p.name.startswith(".") and p.is_file())
