"""Datasets of runs: a folder of run capsules and an index, for regression replays and
evaluations.

``missionlab.dataset(runs, "failures/")`` saves runs (traces, or runs a client loads: Run
models, dicts or a runs frame with ``run_id`` and ``mission_id``) as one capsule each plus
``dataset.json`` (run ids, mission, status, labels, file names, capsule version; the format is
``missionlab._wire.dataset``). It writes into ``path`` only (a new or empty folder), and
all at once: the capsules and the index are written in a hidden folder inside ``path`` and
moved into place at the end, the index last, so a failure leaves no dataset behind (and
``path`` as it was). ``missionlab.open_dataset(path)`` reopens one: a :class:`Dataset`, a
sequence of :class:`~missionlab.RunTrace` (each capsule opened with
:func:`~missionlab.open_run`), with the index as a frame. ``missionlab sandbox serve --load
DIR`` serves every capsule of the folder.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ._wire.dataset import (
    DATASET_FORMAT,
    DATASET_VERSION,
    INDEX_NAME,
    DatasetError,
    capsule_name,
    index_files,
    read_index,
)
from ._wire.labels import labels_of
from .analysis.capsule import save_run
from .trace import RunTrace, load_run, open_run
from .types import CAPSULE_VERSION

if TYPE_CHECKING:
    import pandas as pd

    from .client._client import Client

__all__ = ["Dataset", "DatasetError", "dataset", "open_dataset"]


def _field(item: Any, name: str) -> Any:
    return item.get(name) if isinstance(item, dict) else getattr(item, name, None)


def _traces(runs: Any, client: Client | None) -> list[RunTrace]:
    """``runs`` as traces: traces kept, other runs loaded with ``client``."""
    if hasattr(runs, "to_dict") and hasattr(runs, "columns"):  # a runs frame
        runs = runs.to_dict("records")
    elif isinstance(runs, RunTrace) or not isinstance(runs, Iterable) or isinstance(runs, str | bytes | dict):
        raise TypeError("dataset() needs a list of runs (traces, Run models, dicts or a runs frame)")
    traces = []
    for item in runs:
        if isinstance(item, RunTrace):
            traces.append(item)
            continue
        run_id, mission_id = _field(item, "run_id"), _field(item, "mission_id")
        if not isinstance(run_id, str) or not isinstance(mission_id, str):
            raise TypeError(f"dataset(): a run needs a run_id and a mission_id, got {type(item).__name__}")
        if client is None:
            raise TypeError("dataset(): pass client= to load runs that are not traces (with their events)")
        traces.append(load_run(client, mission_id, run_id))
    return traces


def _entry(trace: RunTrace, file: str) -> dict[str, Any]:
    run = trace.run
    return {
        "run_id": run.run_id,
        "mission_id": run.mission_id,
        "mission": trace.mission.name if trace.mission is not None else None,
        "status": str(run.status),
        "labels": labels_of(run.metadata),
        "file": file,
    }


def dataset(runs: Any, path: str | Path, *, client: Client | None = None) -> Dataset:
    """Save ``runs`` as a dataset in the folder ``path`` (new, or empty); returns it, reopened.

    ``runs``: traces, or (with ``client``) runs to load with their plans and events: Run models,
    dicts or a runs frame (``run_id`` and ``mission_id``). A run listed twice is saved once.
    Raises :class:`DatasetError` when ``path`` is a file or a folder with files in it.
    """
    target = Path(path)
    if target.exists() and not target.is_dir():
        raise DatasetError(f"{target}: is a file; a dataset is a folder")
    if target.is_dir() and any(target.iterdir()):
        raise DatasetError(f"{target}: the folder is not empty; a dataset is saved in a new or empty folder")
    traces, seen = [], set()
    for trace in _traces(runs, client):
        if trace.run.run_id not in seen:
            seen.add(trace.run.run_id)
            traces.append(trace)
    created = not target.exists()
    target.mkdir(parents=True, exist_ok=True)
    partial = Path(tempfile.mkdtemp(prefix=".partial-", dir=target))
    moved: list[Path] = []
    try:
        entries = []
        for number, trace in enumerate(traces, start=1):
            name = capsule_name(number, trace.run.run_id)
            save_run(trace, partial / name)
            entries.append(_entry(trace, name))
        index = {
            "format": DATASET_FORMAT,
            "version": DATASET_VERSION,
            "capsule_version": CAPSULE_VERSION,
            "saved_at": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
            "runs": entries,
        }
        index_files(index, target)  # the names it made are plain names in the folder
        (partial / INDEX_NAME).write_text(json.dumps(index, indent=2), encoding="utf-8")
        for entry in entries:  # the capsules, then the index: without it, no dataset
            (partial / entry["file"]).replace(target / entry["file"])
            moved.append(target / entry["file"])
        (partial / INDEX_NAME).replace(target / INDEX_NAME)
    except BaseException:
        for file in moved:
            file.unlink(missing_ok=True)
        shutil.rmtree(partial, ignore_errors=True)
        if created:
            shutil.rmtree(target, ignore_errors=True)
        raise
    partial.rmdir()
    return open_dataset(target)


@dataclass(frozen=True)
class Dataset:
    """A dataset's folder and index: a sequence of its runs as traces (opened from their
    capsules when asked for, with no network), ``index`` as saved, ``frame`` as a DataFrame."""

    path: Path
    index: dict[str, Any]

    @property
    def files(self) -> list[Path]:
        """The capsule files, in the index's order."""
        return index_files(self.index, self.path)

    @property
    def run_ids(self) -> list[str]:
        return [str(entry.get("run_id")) for entry in self.index["runs"]]

    def frame(self) -> pd.DataFrame:
        """The index as a frame: one row per run (run_id, mission_id, mission, status, labels, file)."""
        import pandas as pd

        columns = ["run_id", "mission_id", "mission", "status", "labels", "file"]
        return pd.DataFrame(
            [{c: entry.get(c) for c in columns} for entry in self.index["runs"]], columns=columns
        )

    def __len__(self) -> int:
        return len(self.index["runs"])

    def __getitem__(self, key: int | str) -> RunTrace:
        """The ``key``-th run, or the run whose id is ``key``."""
        if isinstance(key, str):
            if key not in self.run_ids:
                raise KeyError(f"run {key} is not in the dataset at {self.path}")
            key = self.run_ids.index(key)
        return open_run(self.files[key])

    def __iter__(self) -> Iterator[RunTrace]:
        for file in self.files:
            yield open_run(file)

    def __repr__(self) -> str:
        return f"<Dataset {self.path}: {len(self)} runs>"


def open_dataset(path: str | Path) -> Dataset:
    """The dataset saved in the folder ``path`` (see :func:`dataset`); :class:`DatasetError` for a
    folder without a valid index, or an index naming a file outside the folder."""
    folder = Path(path)
    return Dataset(folder, read_index(folder))
