"""The sync state of a history folder: one row of JSON in its own Delta table, ``_sync``.

It holds which API the folder is a history of, how far the last sync got (the
newest run and event it stored; an events walk in progress; whether step times are
still to be read from the step events it stored: see _step_times.py), the log of finished
syncs with each table's Delta version after it (what ``History(version=)`` and
``as_of=`` read), and the sync that holds the folder now.

Every save replaces the row in one Delta commit. A sync claims the folder by saving
itself as the owner, and checks before each save that it still is: a sync started
later takes the folder over, and the earlier one stops at its next save with
:class:`HistorySyncConflictError`. Two saves that race are told apart by Delta's own
conflict check (both replace the same file; one commit fails), never by a lock file.
"""

from __future__ import annotations

import copy
import json
import os
import socket
import uuid
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa

from ..client.errors import InvalidArgumentError
from ._errors import HistoryFormatError, HistorySyncConflictError
from ._tables import STATE, Tables, _deltalake, reading

FORMAT = "missionlab-history"
VERSION = 2
SCHEMA = pa.schema([("state", pa.string())])


def empty_state() -> dict[str, Any]:
    return {
        "format": FORMAT,
        "version": VERSION,
        "base_url": None,
        "owner": None,
        "runs_frontier": None,
        "events_frontier": None,
        "events_walk": None,
        "totals": {},
        "recheck": False,
        "step_times_pending": False,  # set while a sync may leave step times to fill in
        "log": [],
    }


def read_state(tables: Tables) -> dict[str, Any]:
    """The folder's state (a fresh one if it has none yet)."""
    latest = Tables(tables.path)
    delta = latest.open(STATE)
    if delta is None:
        return empty_state()
    with reading(tables.path, STATE):
        rows = delta.to_pyarrow_table().column("state").to_pylist()
        if len(rows) != 1:
            raise ValueError(f"the state table holds {len(rows)} rows, not one")
        state: dict[str, Any] = json.loads(rows[0])
    if not isinstance(state, dict) or state.get("format") != FORMAT:
        raise HistoryFormatError(f"{tables.path / STATE} is not a missionlab history's state")
    if not isinstance(state.get("version"), int) or state["version"] > VERSION:
        raise HistoryFormatError(
            f"{tables.path} was written by a newer missionlab (history format {state.get('version')!r}, "
            f"this one reads {VERSION}): upgrade missionlab"
        )
    return {**empty_state(), **state}


class SyncState:
    """The state as one sync holds it: claimed at the start, saved as the sync goes."""

    def __init__(self, tables: Tables) -> None:
        self.tables = tables
        self.id = uuid.uuid4().hex
        self.data: dict[str, Any] = {}

    def _write(self, state: dict[str, Any]) -> None:
        deltalake = _deltalake()
        row = pa.table({"state": [json.dumps(state)]}, schema=SCHEMA)
        folder = str(self.tables.folder(STATE))
        delta = self.tables.open(STATE)
        try:
            if delta is None:
                deltalake.write_deltalake(folder, row, mode="error", name="missionlab history: sync state")
            else:
                deltalake.write_deltalake(delta, row, mode="overwrite")
        except Exception as error:
            if isinstance(error, deltalake.exceptions.CommitFailedError) or (
                delta is None and isinstance(error, deltalake.exceptions.DeltaError)
            ):
                raise HistorySyncConflictError(
                    f"another sync of {self.tables.path} saved its state at the same moment: this "
                    "sync stopped, keeping what it had committed; the other one carries on"
                ) from error
            raise

    def claim(self, base_url: str, *, mark: str | None = None) -> dict[str, Any]:
        """Take the folder for this sync; returns the state as the last sync left it. The
        state saved has ``mark`` (a key) set to True, in the same commit."""
        state = read_state(self.tables)
        if state["base_url"] not in (None, base_url):
            raise HistoryFormatError(
                f"{self.tables.path} holds the history of {state['base_url']}, not of {base_url}: "
                "sync it from the same API, or use another folder"
            )
        state["base_url"] = base_url
        state["owner"] = {
            "sync": self.id,
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "since": pd.Timestamp.now(tz="UTC").isoformat(),
        }
        left = copy.deepcopy(state)
        if mark is not None:
            state[mark] = True
        self._write(state)
        self.data = state
        return left

    def save(self, state: dict[str, Any]) -> None:
        """Save ``state``, if this sync still holds the folder."""
        current = read_state(self.tables)
        owner = current.get("owner") or {}
        if owner.get("sync") != self.id:
            raise HistorySyncConflictError(
                f"another sync of {self.tables.path} (process {owner.get('pid')} on "
                f"{owner.get('host')}, since {str(owner.get('since'))[:19]}) took over while this one "
                "ran: this sync stopped, keeping what it had committed; the other one carries on"
            )
        state = {**state, "owner": current["owner"]}
        self._write(state)
        self.data = copy.deepcopy(state)

    def release(self, state: dict[str, Any]) -> None:
        """Save the final state and give the folder up."""
        self.save({**state, "owner": None})


def pinned_versions(path: Path, version: int | None, as_of: Any) -> dict[str, int | None] | None:
    """The tables' versions after sync number ``version`` (1 = the first), or after the last
    sync that had finished at ``as_of``; None when neither is given (the latest)."""
    if version is None and as_of is None:
        return None
    if version is not None and as_of is not None:
        raise InvalidArgumentError("as_of", "give version= or as_of=, not both")
    log = read_state(Tables(path))["log"]
    if version is not None:
        if isinstance(version, bool) or not isinstance(version, int) or not 1 <= version <= len(log):
            raise InvalidArgumentError(
                "version",
                f"{version!r}: this history has versions 1 to {len(log)} (one per finished sync)"
                if log
                else f"{version!r}: this history has no finished sync yet",
            )
        entry = log[version - 1]
    else:
        when = pd.Timestamp(as_of)
        when = when.tz_localize("UTC") if when.tzinfo is None else when.tz_convert("UTC")
        earlier = [e for e in log if pd.Timestamp(e["at"]) <= when]
        if not earlier:
            first = f" (the first finished at {log[0]['at'][:19]})" if log else ""
            raise InvalidArgumentError(
                "as_of", f"{as_of!r}: no sync of this history had finished by then{first}"
            )
        entry = earlier[-1]
    versions: dict[str, int | None] = entry["versions"]
    return versions
