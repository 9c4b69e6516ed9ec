"""Repairing a damaged history: keep what can be read, drop the rest, fetch it again.

A table whose log cannot be read is rolled back to its newest version that can (the
log entries after it are deleted), or started afresh if none can. From each table,
files its log names that are missing, unreadable or outside its folder are dropped
in one Delta commit; a log entry that delta-rs cannot remove that way (a path it
decodes differently from how it was written, such as ``..%2F``) makes the table be
rebuilt from its readable files as a new table. Links inside the folder are removed
(never what they point to). Finished syncs whose table versions are gone (rolled
back, started afresh, rebuilt) leave the log of syncs: they can no longer be opened
with ``version=``/``as_of=``. The state then asks the next sync to list every run
and event again and to fetch the plans of runs that have no steps, which brings back
what the dropped files held.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from ._errors import HistoryFormatError
from ._state import SCHEMA, empty_state, read_state
from ._tables import LOG, STATE, TABLES, Tables, _deltalake, inside, is_table

_ENTRY = re.compile(r"^(\d{20})\.(json|checkpoint\.parquet)$")


@dataclass
class RepairReport:
    """What a repair did."""

    links_removed: list[str] = field(default_factory=list)
    rolled_back: dict[str, int] = field(default_factory=dict)  # table -> the version kept
    started_afresh: list[str] = field(default_factory=list)
    rebuilt: list[str] = field(default_factory=list)  # tables rewritten from their readable files
    dropped: dict[str, list[str]] = field(default_factory=dict)  # table -> files dropped

    @property
    def changed(self) -> bool:
        return bool(
            self.links_removed or self.rolled_back or self.started_afresh or self.rebuilt or self.dropped
        )

    def __str__(self) -> str:
        if not self.changed:
            return "repair: nothing to do"
        parts = [f"{len(self.links_removed)} links removed"] if self.links_removed else []
        parts += [f"{t} rolled back to version {v}" for t, v in self.rolled_back.items()]
        parts += [f"{t} started afresh" for t in self.started_afresh]
        parts += [f"{t} rebuilt from its readable files" for t in self.rebuilt]
        parts += [f"{len(files)} files dropped from {t}" for t, files in self.dropped.items()]
        return "repair: " + ", ".join(parts) + "; the next sync fetches what they held"


def _remove_links(path: Path, report: RepairReport) -> None:
    pending = [path]
    while pending:
        with os.scandir(pending.pop()) as entries:
            for entry in entries:
                junction = getattr(os.path, "isjunction", lambda _: False)(entry.path)
                if entry.is_symlink() or junction:
                    os.unlink(entry.path)  # the link itself, not what it points to
                    report.links_removed.append(entry.path)
                elif entry.is_dir(follow_symlinks=False):
                    pending.append(Path(entry.path))


def _loads(folder: Path, version: int | None = None) -> Any:
    """The table at ``version`` (the latest: None) if its log can be read, else None."""
    try:
        table = _deltalake().DeltaTable(str(folder), version=version)
        table.schema()
        return table if table.version() is not None else None
    except Exception:
        return None


def _open_or_roll_back(folder: Path, name: str, report: RepairReport) -> Any:
    """The table at its latest readable version (later log entries deleted), or None."""
    table = _loads(folder)
    if table is not None:
        return table
    log = folder / LOG
    numbers = sorted({int(m.group(1)) for p in log.iterdir() if (m := _ENTRY.match(p.name))}, reverse=True)
    for version in numbers[1:]:
        if _loads(folder, version) is None:
            continue
        for entry in list(log.iterdir()):
            match = _ENTRY.match(entry.name)
            if (match and int(match.group(1)) > version) or entry.name == "_last_checkpoint":
                entry.unlink()
        report.rolled_back[name] = version
        return _loads(folder)
    shutil.rmtree(folder)
    report.started_afresh.append(name)
    return None


def _unreadable(folder: Path, relative: str) -> bool:
    if not inside(relative):
        return True
    file = folder / relative
    try:
        pq.read_table(file)
    except (OSError, pa.ArrowException):
        return True
    return False


def _bad_actions(table: Any, folder: Path) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The table's live files as its log names them: (readable ones, the others)."""
    actions = pa.table(table.get_add_actions(flatten=True)).to_pylist()
    unreadable = [_unreadable(folder, str(a["path"])) for a in actions]
    good = [a for a, bad in zip(actions, unreadable, strict=True) if not bad]
    return good, [a for a, bad in zip(actions, unreadable, strict=True) if bad]


def _drop_files(table: Any, folder: Path, name: str, report: RepairReport) -> None:
    transaction = _deltalake().transaction
    _, bad = _bad_actions(table, folder)
    if not bad:
        return
    now = int(time.time() * 1000)
    partitions = list(table.metadata().partition_columns)
    removes = [
        transaction.RemoveAction(
            path=a["path"],
            data_change=True,
            deletion_timestamp=now,
            size=a["size_bytes"],
            partition_values={
                c: None if a[f"partition.{c}"] is None else str(a[f"partition.{c}"]) for c in partitions
            },
        )
        for a in bad
    ]
    table.create_write_transaction(
        removes, mode="append", schema=table.schema(), partition_by=partitions or None
    )
    report.dropped[name] = [str(a["path"]) for a in bad]


def _removes_outside(path: Path, name: str) -> bool:
    """Whether the table's log names removed files (a vacuum's to delete) outside its folder."""
    try:
        Tables(path).doomed(name)
    except HistoryFormatError:
        return True
    return False


def _clean(path: Path, table: Any, name: str, report: RepairReport) -> None:
    """Drop the table's unreadable files; rebuild it if its log still names files outside
    its folder (entries delta-rs decodes differently from how they were written cannot be
    removed, and removed files outside would be a vacuum's to delete)."""
    folder = path / name
    _drop_files(table, folder, name, report)
    table = _deltalake().DeltaTable(str(folder))
    good, still = _bad_actions(table, folder)
    if still or _removes_outside(path, name):
        _rebuild(table, folder, good, name, report)


def _rebuild(table: Any, folder: Path, good: list[dict[str, Any]], name: str, report: RepairReport) -> None:
    """Replace the table by a new one holding the rows of its readable files (its log is
    deleted; its files stay until a vacuum, and nothing outside the folder is touched)."""
    deltalake = _deltalake()
    schema = pa.schema(table.schema().to_arrow())
    partitions = list(table.metadata().partition_columns)
    parts = []
    for action in good:
        rows = pq.read_table(folder / str(action["path"]))
        for column in partitions:
            value = action[f"partition.{column}"]
            rows = rows.append_column(
                column, pa.array([value] * rows.num_rows).cast(schema.field(column).type)
            )
        parts.append(rows.select(schema.names).cast(schema))
    data = pa.concat_tables(parts) if parts else schema.empty_table()
    shutil.rmtree(folder / LOG)
    deltalake.write_deltalake(
        str(folder),
        data,
        mode="error",
        partition_by=partitions or None,
        name=f"missionlab history: {name}",
    )
    report.rebuilt.append(name)


def repair(path: Path) -> RepairReport:
    """Repair the history in ``path`` (see the module's docstring)."""
    report = RepairReport()
    if not path.is_dir():
        return report
    _remove_links(path, report)
    for name in (*TABLES, STATE):
        folder = path / name
        if not is_table(folder):
            continue
        table = _open_or_roll_back(folder, name, report)
        if table is not None:
            _clean(path, table, name, report)
    state = read_state_safely(path)
    if state is not None:
        state["log"] = _syncs_still_readable(path, state["log"], report)
    if report.changed or state is None:
        state = state or empty_state()
        state.update(recheck=True, events_walk=None, owner=None)
        _write_state(path, state)
    return report


def _syncs_still_readable(
    path: Path, log: list[dict[str, Any]], report: RepairReport
) -> list[dict[str, Any]]:
    """The finished syncs whose table versions still exist as they left them.

    A table started afresh or rebuilt has none of its earlier versions; a table whose
    log is older than a sync's record lost the versions after it (the log entries were
    lost, or the repair rolled the table back)."""
    tables = Tables(path)
    now = {name: tables.version(name) for name in TABLES}
    restarted = {*report.started_afresh, *report.rebuilt}

    def readable(entry: dict[str, Any]) -> bool:
        for table, version in entry["versions"].items():
            if version is None:
                continue
            if table in restarted or now[table] is None or now[table] < version:
                return False
        return True

    kept = [entry for entry in log if readable(entry)]
    if len(kept) < len(log):
        for entry in log:
            for table, version in entry["versions"].items():
                current = now[table]
                if version is not None and table not in restarted and (current is None or current < version):
                    report.rolled_back.setdefault(table, -1 if current is None else current)
    return kept


def read_state_safely(path: Path) -> dict[str, Any] | None:
    """The state, or None if it cannot be read even now."""
    try:
        return read_state(Tables(path))
    except HistoryFormatError:
        return None


def _write_state(path: Path, state: dict[str, Any]) -> None:
    deltalake = _deltalake()
    folder = path / STATE
    row = pa.table({"state": [json.dumps(state)]}, schema=SCHEMA)
    if is_table(folder):
        deltalake.write_deltalake(str(folder), row, mode="overwrite")
    else:
        deltalake.write_deltalake(str(folder), row, mode="error", name="missionlab history: sync state")
