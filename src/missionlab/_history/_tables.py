"""The history on disk: one Delta Lake table per kind of record, kept with ``deltalake``.

Layout::

    PATH/missions/      a Delta table (its _delta_log/ and Parquet files)
    PATH/runs/          partitioned by run_day (the UTC day the run started)
    PATH/steps/         partitioned by run_day
    PATH/events/        partitioned by run_day
    PATH/_sync/         the sync state: one row of JSON (see _state.py)

Transactions, snapshots, concurrent readers, time travel and vacuuming are Delta
Lake's: every write here is one Delta commit keyed by the rows' ids (so that a
write repeated by a resumed sync stores nothing twice) that replaces the partitions
it changes (so that two writers racing on the same rows conflict instead of both
committing). Readers read a table
through its log, so superseded files, kept on disk until they are vacuumed, are
never read.

Nothing outside PATH is read, written or deleted: a table whose log names a file
(live, or removed and waiting for a vacuum) that is not a plain relative path inside
its folder, and a folder holding a link, are refused before anything is read or
vacuumed.
"""

from __future__ import annotations

import contextlib
import json
import os
import stat
import urllib.parse
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds

from ._common import python_values
from ._errors import HistoryFormatError, HistorySyncConflictError
from ._schema import KEYS, PARTITION, SCHEMAS, partitioned

if TYPE_CHECKING:
    from deltalake import DeltaTable

TABLES = ("missions", "runs", "steps", "events")
STATE = "_sync"
LOG = "_delta_log"
RETENTION_HOURS = 7 * 24  # superseded files stay this long (readers on older snapshots, time travel)
REPAIR_HINT = "history.repair() keeps what can be read, then history.sync() fetches the rest again"


def _deltalake() -> Any:
    try:
        import deltalake
    except ImportError as error:
        raise ImportError(
            "the local history keeps its tables in Delta Lake format: pip install 'missionlab[history]'"
        ) from error
    return deltalake


def is_table(folder: Path) -> bool:
    return (folder / LOG).is_dir()


def check_folder(path: Path) -> None:
    """Refuse a history folder that holds a link (it could lead a reader or a vacuum outside)."""
    if not path.exists():
        return
    if path.is_symlink():
        raise HistoryFormatError(f"{path} is a link: give the history's real folder")
    pending = [path]
    while pending:
        with os.scandir(pending.pop()) as entries:
            for entry in entries:
                junction = getattr(os.path, "isjunction", lambda _: False)(entry.path)
                if entry.is_symlink() or junction:
                    raise HistoryFormatError(
                        f"{entry.path} is a link inside the history folder {path}: a history holds "
                        "only its own files; remove the link (nothing it points to was read)"
                    )
                if entry.is_dir(follow_symlinks=False):
                    pending.append(Path(entry.path))


def inside(relative: str) -> bool:
    """Whether a path from a table's log is a plain relative path inside the table's folder
    (as written, and once percent-decoded, as Delta readers decode it)."""
    for path in (relative, urllib.parse.unquote(relative)):
        if not path or "\\" in path or ":" in path or path.startswith("/"):
            return False
        if any(part in ("", ".", "..") for part in path.split("/")):
            return False
    return True


@contextlib.contextmanager
def reading(path: Path, table: str) -> Iterator[None]:
    """Errors of a damaged table (a file missing or corrupt, a broken log) as HistoryFormatError."""
    try:
        yield
    except (HistoryFormatError, HistorySyncConflictError, ImportError):
        raise
    except (OSError, pa.ArrowInvalid, json.JSONDecodeError) as error:
        raise HistoryFormatError(
            f"the {table!r} table of {path} is damaged ({type(error).__name__}: "
            f"{str(error).splitlines()[0][:300] if str(error) else 'no detail'}): {REPAIR_HINT}"
        ) from error
    except Exception as error:  # deltalake's own errors (DeltaError, its internal ones)
        if type(error).__module__.split(".")[0] not in ("deltalake", "_internal", "builtins"):
            raise
        raise HistoryFormatError(
            f"the {table!r} table of {path} is damaged ({type(error).__name__}: "
            f"{str(error).splitlines()[0][:300] if str(error) else 'no detail'}): {REPAIR_HINT}"
        ) from error


def check_files(path: Path, table: str, delta: DeltaTable) -> None:
    """Refuse a table whose log names a file outside its folder, a link, or a missing file."""
    paths = [str(p) for p in pa.table(delta.get_add_actions(flatten=True)).column("path").to_pylist()]
    outside = [p for p in paths if not inside(p)]
    if outside:
        raise HistoryFormatError(
            f"the {table!r} table of {path} names {len(outside)} file(s) outside its folder "
            f"(first: {outside[0][:200]!r}); nothing was read from them. {REPAIR_HINT}"
        )
    folder = path / table
    real = os.path.realpath(folder)
    directories: dict[str, bool] = {}
    for relative in paths:
        file = folder / relative
        parent = str(file.parent)
        if parent not in directories:
            directories[parent] = os.path.realpath(parent).startswith(real + os.sep) or parent == str(folder)
        try:
            linked = stat.S_ISLNK(os.lstat(file).st_mode)
        except FileNotFoundError:
            raise HistoryFormatError(
                f"the {table!r} table of {path} is damaged: its file {relative!r} is missing. {REPAIR_HINT}"
            ) from None
        if linked or not directories[parent] or os.path.realpath(folder) != real:
            raise HistoryFormatError(
                f"the {table!r} table of {path} reaches outside its folder through a link at "
                f"{relative!r}; nothing was read from it. {REPAIR_HINT}"
            )


def _key(name: str, table: pa.Table) -> pa.Array:
    """The rows' keys (the key columns joined, for a key of several columns)."""
    columns = KEYS[name]
    if len(columns) == 1:
        return table[columns[0]].combine_chunks()
    return pc.binary_join_element_wise(*(table[c] for c in columns), "\x1f").combine_chunks()


class Tables:
    """The Delta tables of one history folder, at their latest versions or at given ones."""

    def __init__(self, path: Path, versions: dict[str, int | None] | None = None) -> None:
        self.path = path
        self.pinned = versions  # None: the latest version of each table

    def folder(self, name: str) -> Path:
        return self.path / name

    def open(self, name: str) -> DeltaTable | None:
        """The table (checked), or None if it does not exist (yet, or at the pinned version)."""
        folder = self.folder(name)
        version = None
        if self.pinned is not None:
            version = self.pinned.get(name)
            if version is None:
                return None
        if not is_table(folder):
            if version is not None:
                raise HistoryFormatError(f"the {name!r} table of {self.path} is missing: {REPAIR_HINT}")
            return None
        with reading(self.path, name):
            delta: DeltaTable = _deltalake().DeltaTable(str(folder), version=version)
            check_files(self.path, name, delta)
        return delta

    def version(self, name: str) -> int | None:
        delta = self.open(name)
        return None if delta is None else int(delta.version())

    def versions(self) -> dict[str, int | None]:
        return {name: self.version(name) for name in TABLES}

    def dataset(self, name: str) -> ds.Dataset:
        """The table as a pyarrow dataset (its live files only), or an empty one."""
        delta = self.open(name)
        if delta is None:
            return ds.dataset(SCHEMAS[name].empty_table())
        with reading(self.path, name):
            dataset: ds.Dataset = delta.to_pyarrow_dataset(schema=SCHEMAS[name])
        return dataset

    def read(self, name: str, *, filter: Any = None, columns: list[str] | None = None) -> pa.Table:
        """Rows of ``name`` (pruned by partition and file statistics first)."""
        dataset = self.dataset(name)
        with reading(self.path, name):
            table: pa.Table = dataset.to_table(filter=filter, columns=columns)
        if columns is None:
            table = table.select(SCHEMAS[name].names).cast(SCHEMAS[name])
        return table

    def file_uris(self, name: str) -> list[str]:
        delta = self.open(name)
        if delta is None:
            return []
        with reading(self.path, name):
            return [str(uri) for uri in delta.file_uris()]

    # -- writing -------------------------------------------------------------------------------

    def _create(self, name: str, data: pa.Table) -> None:
        deltalake = _deltalake()
        try:
            deltalake.write_deltalake(
                str(self.folder(name)),
                data,
                mode="error",
                partition_by=[PARTITION] if partitioned(name) else None,
                name=f"missionlab history: {name}",
            )
        except Exception as error:
            if is_table(self.folder(name)):  # another writer created it meanwhile
                raise HistorySyncConflictError(
                    f"another sync created the {name!r} table of {self.path} while this one ran: "
                    "this sync stopped; the other one carries on"
                ) from error
            raise

    def upsert(self, name: str, data: pa.Table, *, replace: bool, newer: str | None = None) -> int:
        """Write ``data`` keyed by the table's ids, in one Delta commit; returns the rows inserted.

        A row whose key is new is inserted. A row whose key is stored replaces it if
        ``replace`` (and, with ``newer``, a column, unless the stored row's value there is
        greater), and is dropped otherwise. The commit replaces the partitions that change
        (Delta's replaceWhere): a writer that changed them meanwhile makes it fail, so two
        syncs that race on the same rows never both commit.
        """
        if data.num_rows == 0:
            return 0
        schema = SCHEMAS[name]
        data = data.select(schema.names).cast(schema)
        delta = self.open(name)
        if delta is None:
            self._create(name, data)
            return int(data.num_rows)
        split = partitioned(name)
        where = ds.field(PARTITION).isin(pc.unique(data[PARTITION])) if split else None
        with reading(self.path, name):
            stored = delta.to_pyarrow_dataset(schema=schema).to_table(filter=where)
        stored = stored.select(schema.names).cast(schema)
        key, stored_key = _key(name, data), _key(name, stored)
        known = pc.is_in(key, value_set=stored_key)
        if newer is not None and replace:
            by_key = dict(zip(stored_key.to_pylist(), python_values(stored[newer]), strict=True))
            values = python_values(data[newer])
            older = [
                k in by_key and v is not None and by_key[k] is not None and v < by_key[k]
                for k, v in zip(key.to_pylist(), values, strict=True)
            ]
            data = data.filter(pc.invert(pa.array(older, pa.bool_())))
            key, known = _key(name, data), pc.is_in(_key(name, data), value_set=stored_key)
        if not replace:
            data = data.filter(pc.invert(known))
            key, known = _key(name, data), pa.array([False] * data.num_rows, pa.bool_())
        if data.num_rows == 0:
            return 0
        inserted = data.num_rows - int(pc.sum(known).as_py() or 0)
        keep = stored.filter(pc.invert(pc.is_in(stored_key, value_set=key)))
        if split:  # only the partitions with a new or replaced row are rewritten
            days = pc.unique(data[PARTITION])
            keep = keep.filter(pc.is_in(keep[PARTITION], value_set=days))
            listed = ", ".join(f"'{day}'" for day in days.to_pylist())
            predicate: str | None = f"{PARTITION} IN ({listed})"
        else:
            predicate = None
        deltalake = _deltalake()
        try:
            deltalake.write_deltalake(
                delta,
                pa.concat_tables([keep, data]),
                mode="overwrite",
                predicate=predicate,
                partition_by=[PARTITION] if split else None,
                schema_mode="merge",  # a field described since the table was made: a new column
            )
        except deltalake.exceptions.CommitFailedError as error:
            raise HistorySyncConflictError(
                f"another writer changed the {name!r} table of {self.path} while this sync wrote to "
                f"it ({str(error).splitlines()[0]}): this sync stopped, keeping what it had "
                "committed; sync again once the other one is done"
            ) from error
        return int(inserted)

    def doomed(self, name: str, retention_hours: int = 0) -> list[str]:
        """What a vacuum of ``name`` would delete (paths inside its folder), or
        HistoryFormatError if its log's removed files name any outside it."""
        delta = self.open(name)
        if delta is None:
            return []
        with reading(self.path, name):
            paths = [
                str(p)
                for p in delta.vacuum(
                    retention_hours=retention_hours, dry_run=True, enforce_retention_duration=False
                )
            ]
        folder = str(self.folder(name))
        relative = [p[len(folder) + 1 :] if p.startswith(folder + os.sep) else p for p in paths]
        outside = [p for p in relative if not inside(p)]
        if outside:
            raise HistoryFormatError(
                f"the {name!r} table of {self.path} names {len(outside)} removed file(s) outside its "
                f"folder (first: {outside[0][:200]!r}); nothing was deleted. {REPAIR_HINT}"
            )
        return paths

    def check_removed_files(self) -> None:
        """Refuse tables whose logs name removed files outside their folders (before a sync
        writes anything, rather than at its closing vacuum)."""
        for name in (*TABLES, STATE):
            self.doomed(name)

    def vacuum(self, retention_hours: int = RETENTION_HOURS) -> list[str]:
        """Delete the files no version younger than ``retention_hours`` reads (Delta's vacuum),
        once every one of them is known to be inside its table's folder."""
        check_folder(self.path)
        removed: list[str] = []
        for name in (*TABLES, STATE):
            if not self.doomed(name, retention_hours):
                continue
            delta = self.open(name)
            assert delta is not None  # it had files to delete
            with reading(self.path, name):
                removed += delta.vacuum(
                    retention_hours=retention_hours, dry_run=False, enforce_retention_duration=False
                )
        return removed
