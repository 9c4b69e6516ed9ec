"""When the history's runs were paused, for the steps' working time.

A step's working time (``working_s``) is its seconds less those its run was paused while it
was open, as :mod:`missionlab.frames._pauses` reads pauses from a run's ``status_change``
events. The history measures it when it is read, from the few events that name a pause,
rather than storing it: a step still open, or a pause not ended, is measured to now, and a
run's pauses may arrive in a later sync than its plan. Only the events of type
``status_change`` whose payload names ``paused`` are read (most runs have none).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds

from ..client._json import loads
from ..frames import events_frame
from ..frames._pauses import paused_by_run
from ..types import EventType, RunStatus
from ._schema import PARTITION, TIME
from ._tables import Tables

COLUMNS = ["run_id", "type", "timestamp", "payload"]
PAUSES = pa.schema([("run_id", pa.string()), ("began_at", TIME), ("ended_at", TIME)])
STATUS_CHANGE = EventType.STATUS_CHANGE.value


def as_events(rows: list[dict[str, Any]]) -> pd.DataFrame | None:
    """Status changes (``COLUMNS``, the payload as JSON text) as an events frame, keeping those
    whose payload names a pause (the frames' rule reads which start or end one); None when
    none does."""
    rows = [row for row in rows if RunStatus.PAUSED.value in (row["payload"] or "")]
    if not rows:
        return None
    for row in rows:
        row["payload"] = loads(row["payload"])
    return events_frame(rows)


def of_steps(tables: Tables, steps: pa.Table) -> pd.DataFrame | None:
    """The status changes that may start or end a pause, of the runs of ``steps`` (rows of
    the steps table), as an events frame; None when there are none.

    The type is filtered while the files are read, the rest in memory (on a few rows):
    matching every payload and run id of the table costs more than reading the column."""
    if not steps.num_rows:
        return None
    where = ds.field(PARTITION).isin(pc.unique(steps[PARTITION])) & (ds.field("type") == STATUS_CHANGE)
    table = tables.read("events", filter=where, columns=COLUMNS)
    table = table.filter(pc.is_in(table["run_id"], value_set=pc.unique(steps["run_id"])))
    return as_events(table.to_pylist())


def pauses_table(events: pd.DataFrame | None, now: Any = None) -> pa.Table:
    """Each pause of each run (``run_id``, ``began_at``, ``ended_at``) that ``events`` record;
    a pause not ended lasts until ``now`` (default: now)."""
    if events is None:
        return PAUSES.empty_table()
    moment = pd.Timestamp.now(tz="UTC") if now is None else pd.Timestamp(now)
    found = paused_by_run(events, moment)
    runs = [run for run, intervals in found.items() for _ in intervals]
    began = [np.datetime64(begin, "us") for intervals in found.values() for begin, _ in intervals]
    ended = [np.datetime64(end, "us") for intervals in found.values() for _, end in intervals]
    return pa.table(
        {
            "run_id": pa.array(runs, pa.string()),
            "began_at": pa.array(np.array(began, dtype="datetime64[us]")).cast(TIME),
            "ended_at": pa.array(np.array(ended, dtype="datetime64[us]")).cast(TIME),
        },
        schema=PAUSES,
    )
