"""The history on disk: Parquet files per table and partition, and a manifest naming them.

Layout (plain Parquet, readable by any engine)::

    PATH/manifest.json
    PATH/missions/part-000007-0.parquet
    PATH/runs/mission=<id>/day=2026-11-28/part-000007-0.parquet
    PATH/steps/mission=<id>/day=2026-11-28/part-000007-0.parquet
    PATH/events/mission=<id>/day=2026-11-28/part-000007-0.parquet
    PATH/_marks/...            (what was synced per run: not part of the data)

Every change writes new files (under a temporary name, renamed when complete) and
then replaces the manifest atomically; the manifest lists the files that make up
the current state. Readers read only the files the manifest lists, so a reader
never sees half a sync, whatever a concurrent sync is doing. Files a commit
replaced stay on disk for two more commits (for readers still on an older
manifest) and are then deleted; files of an interrupted sync that never got
committed are deleted by the next sync.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import urllib.parse
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from ..errors import MissionlabError
from ._schema import KEYS, SCHEMAS

FORMAT = "missionlab-history"
VERSION = 1
MANIFEST = "manifest.json"
KEEP_SUPERSEDED = 2  # commits a replaced file survives, for readers on an older manifest
# Per run: the run's updated_at when its plan was last read (a plan is re-read when it changes).
MARKS = pa.schema([("run_id", pa.string()), ("mission_id", pa.string()), ("plan_for", pa.string())])
TABLES = ("missions", "runs", "steps", "events", "_marks")


class HistoryFormatError(MissionlabError):
    """The folder holds something that is not a missionlab history this version can read."""


def _empty_manifest(base_url: str | None) -> dict[str, Any]:
    return {
        "format": FORMAT,
        "version": VERSION,
        "base_url": base_url,
        "seq": 0,
        "files": {table: [] for table in TABLES},
        "superseded": [],
        "state": {"runs_frontier": None, "events_frontier": None},
        "syncs": [],
    }


def schema_of(table: str) -> pa.Schema:
    return MARKS if table == "_marks" else SCHEMAS[table]


def key_of(table: str) -> tuple[str, ...]:
    return ("run_id",) if table == "_marks" else KEYS[table]


class Dataset:
    """The files and manifest of one history folder."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.manifest = self._read_manifest()

    # -- manifest ------------------------------------------------------------------------------

    def _read_manifest(self) -> dict[str, Any]:
        file = self.path / MANIFEST
        if not file.exists():
            return _empty_manifest(None)
        manifest: dict[str, Any] = json.loads(file.read_text())
        if manifest.get("format") != FORMAT:
            raise HistoryFormatError(f"{file} is not a missionlab history manifest")
        if manifest.get("version", 0) > VERSION:
            raise HistoryFormatError(
                f"{file} was written by a newer missionlab (history format "
                f"{manifest['version']}, this one reads {VERSION}): upgrade missionlab"
            )
        return manifest

    def reload(self) -> None:
        self.manifest = self._read_manifest()

    @property
    def exists(self) -> bool:
        return (self.path / MANIFEST).exists()

    def files(self, table: str) -> list[str]:
        return list(self.manifest["files"][table])

    def commit(self, manifest: dict[str, Any]) -> None:
        """Make ``manifest`` the current state (atomically), then delete expired files."""
        manifest["seq"] += 1
        self.path.mkdir(parents=True, exist_ok=True)
        temporary = self.path / f".{MANIFEST}.tmp"
        with open(temporary, "w") as out:
            json.dump(manifest, out, indent=1)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, self.path / MANIFEST)
        self.manifest = manifest
        expired = [s for s in manifest["superseded"] if manifest["seq"] - s["at_seq"] >= KEEP_SUPERSEDED]
        for item in expired:
            with contextlib.suppress(FileNotFoundError):
                (self.path / item["file"]).unlink()
        manifest["superseded"] = [s for s in manifest["superseded"] if s not in expired]

    @contextlib.contextmanager
    def sync_lock(self) -> Iterator[None]:
        """One sync at a time per folder (readers never wait)."""
        self.path.mkdir(parents=True, exist_ok=True)
        with open(self.path / ".sync.lock", "w") as lock:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise RuntimeError(f"another process is syncing {self.path}") from None
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def remove_orphans(self) -> int:
        """Delete data files no manifest refers to (left by an interrupted sync)."""
        known = {f for files in self.manifest["files"].values() for f in files}
        known |= {s["file"] for s in self.manifest["superseded"]}
        removed = 0
        for table in TABLES:
            folder = self.path / table
            if not folder.exists():
                continue
            for file in folder.rglob("*"):
                if file.is_file() and str(file.relative_to(self.path)) not in known:
                    file.unlink()
                    removed += 1
        return removed

    # -- writing -------------------------------------------------------------------------------

    def _partition_dir(self, table: str, mission_id: str | None, day: str | None) -> str:
        if table == "missions":
            return "missions"
        mission = urllib.parse.quote(str(mission_id), safe="")
        return f"{table}/mission={mission}/day={day}"

    def write(self, table: str, data: pa.Table, directory: str, seq: int, index: int) -> str:
        """Write one file (complete before it gets its name); returns its relative path."""
        relative = f"{directory}/part-{seq:06d}-{index}.parquet"
        target = self.path / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        temporary = target.with_name(f".{target.name}.tmp")
        pq.write_table(data.cast(schema_of(table)), temporary, compression="zstd")
        os.replace(temporary, target)
        return relative

    def partitions(
        self, table: str, data: pa.Table, days: list[str] | None
    ) -> Iterator[tuple[str, pa.Table]]:
        """``data`` split by (mission_id, day of its run), with each part's folder."""
        if table == "missions" or days is None:
            yield "missions", data
            return
        keyed = data.append_column("__day", pa.array(days, pa.string()))
        pairs = keyed.select(["mission_id", "__day"]).group_by(["mission_id", "__day"]).aggregate([])
        for mission_id, day in zip(pairs["mission_id"].to_pylist(), pairs["__day"].to_pylist(), strict=True):
            mask = pc.and_(pc.equal(keyed["mission_id"], mission_id), pc.equal(keyed["__day"], day))
            yield self._partition_dir(table, mission_id, day), data.filter(mask)

    def _files_in(self, table: str, directory: str) -> list[str]:
        return [f for f in self.manifest["files"][table] if f.rsplit("/", 1)[0] == directory]

    def stage(
        self,
        manifest: dict[str, Any],
        table: str,
        data: pa.Table,
        *,
        replace: bool,
        days: list[str] | None = None,
    ) -> int:
        """Write ``data`` into its partitions and record the files in ``manifest`` (not committed).

        ``days``: per row, the day its run started (the partition, with ``mission_id``).
        ``replace``: rows replace those with the same key (runs, steps: all steps of a run are
        replaced by its new plan); otherwise rows whose key is already stored are dropped
        (events). Returns how many rows were new.
        """
        if data.num_rows == 0:
            return 0
        seq = manifest["seq"] + 1
        files = manifest["files"][table]
        added = 0
        for index, (directory, part) in enumerate(self.partitions(table, data, days)):
            old_files = [f for f in files if f.rsplit("/", 1)[0] == directory]
            if replace:  # rewrite the partition without the replaced rows
                old = self._read_files(table, old_files)
                column = _replace_key(table)
                keep = old.filter(pc.invert(pc.is_in(old[column], value_set=part[column])))
                files.append(
                    self.write(
                        table, pa.concat_tables([keep, part.cast(schema_of(table))]), directory, seq, index
                    )
                )
                for file in old_files:
                    files.remove(file)
                    manifest["superseded"].append({"file": file, "at_seq": seq})
                added += part.num_rows
            else:  # append a file of the rows not stored yet
                key = key_of(table)[0]
                stored = self._read_files(table, old_files, columns=[key])[key]
                fresh = part.filter(pc.invert(pc.is_in(part[key], value_set=stored)))
                if fresh.num_rows:
                    files.append(self.write(table, fresh, directory, seq, index))
                    added += fresh.num_rows
        return added

    # -- reading -------------------------------------------------------------------------------

    def _read_files(
        self, table: str, files: list[str], columns: list[str] | None = None, filters: Any = None
    ) -> pa.Table:
        schema = schema_of(table)
        if columns is not None:
            schema = pa.schema([schema.field(c) for c in columns])
        if not files:
            return schema.empty_table()
        parts = [pq.read_table(self.path / f, columns=columns, filters=filters, schema=schema) for f in files]
        return pa.concat_tables(parts)

    def read(
        self,
        table: str,
        *,
        missions: list[str] | None = None,
        days: tuple[str | None, str | None] = (None, None),
        columns: list[str] | None = None,
        filters: Any = None,
    ) -> pa.Table:
        """Rows of ``table`` from the manifest's files, pruned by mission and day first."""
        files = self.files(table)
        if table != "missions":
            files = [f for f in files if _in_partition(f, missions, days)]
        return self._read_files(table, files, columns, filters)

    def absolute(self, table: str) -> list[str]:
        return [str(self.path / f) for f in self.files(table)]


def _replace_key(table: str) -> str:
    """The column whose values a replacing write removes first (a run's rows as a whole)."""
    return "mission_id" if table == "missions" else "run_id"


def _in_partition(file: str, missions: list[str] | None, days: tuple[str | None, str | None]) -> bool:
    parts = dict(p.split("=", 1) for p in file.split("/")[1:-1] if "=" in p)
    if missions is not None and urllib.parse.unquote(parts.get("mission", "")) not in missions:
        return False
    day = parts.get("day", "")
    return not ((days[0] and day < days[0]) or (days[1] and day > days[1]))
