"""Roll-ups: any number the events' payloads carry, summed per step, per parent step and per run.

``rollup(trace, "payload.usage.total_tokens")`` reads that number from every event's payload
(events without it, or with a value that is not a number, count as nothing) and returns one
row for the run, then one per plan step in plan order: ``own`` (the step's own events),
``total`` (the step and all its descendants; for the run, every event), ``events`` (how many
events carried the number). The sandbox's simulated agents log ``payload.usage`` (tokens)
and ``payload.cost_usd`` on their tool results and messages; any other path works the same.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ..frames._columns import TEXT
from ..frames._jsontext import json_number, json_object
from ..frames._runlike import RunLike

__all__ = ["ROLLUP_COLUMNS", "payload_numbers", "rollup", "rollup_frames", "rollup_label", "step_table"]

ROLLUP_COLUMNS = ["step_id", "parent_step_id", "depth", "description", "own", "total", "events"]


def _keys(path: str) -> list[str]:
    keys = path.split(".")
    if keys and keys[0] == "payload":
        keys = keys[1:]
    if not keys or not all(keys):
        raise ValueError(f"not a payload path: {path!r} (e.g. 'payload.usage.total_tokens')")
    return keys


def rollup_label(path: str) -> str:
    """A short name of a path for a hover or a column: its last key."""
    return _keys(path)[-1]


def payload_numbers(events: pd.DataFrame, path: str) -> pd.Series:
    """The number at ``path`` in each event's payload (NaN where there is none)."""
    keys = _keys(path)
    payloads = events["payload"]
    # Parse only payloads whose text holds the last key.
    holders = payloads.notna() & payloads.astype(str).str.contains(f'"{keys[-1]}"', regex=False).fillna(False)
    values = np.full(len(events), np.nan)
    for position in np.flatnonzero(holders.to_numpy(dtype=bool)):
        value: Any = json_object(payloads.iat[int(position)])
        for key in keys:
            value = value.get(key) if isinstance(value, dict) else None
        values[position] = json_number(value)
    return pd.Series(values, index=events.index, name=rollup_label(path))


def rollup(trace: RunLike, path: str = "payload.usage.total_tokens") -> pd.DataFrame:
    """The number at ``path`` summed per step (``own``), per step with its descendants
    (``total``) and for the whole run (the first row, ``step_id`` missing)."""
    return rollup_frames(trace.steps_frame, trace.events_frame, path)


def rollup_frames(steps: pd.DataFrame, events: pd.DataFrame, path: str) -> pd.DataFrame:
    """:func:`rollup` of a steps frame and an events frame."""
    numbers = payload_numbers(events, path)
    step_ids = events["step_id"].astype(object).where(events["step_id"].notna(), None)
    carried = numbers.notna()
    own = numbers.groupby(step_ids.where(carried), dropna=True).sum()
    counts = carried.groupby(step_ids.where(carried), dropna=True).sum()
    ids = steps["step_id"].astype(object).tolist()
    parents = dict(zip(ids, steps["parent_step_id"].astype(object), strict=True))
    total = {step_id: float(own.get(step_id, 0.0)) for step_id in ids}
    for step_id in reversed(ids):  # plan order: children after their parent
        parent = parents.get(step_id)
        if isinstance(parent, str) and parent in total and parent != step_id:
            total[parent] += total[step_id]
    known = set(ids)
    loose = float(numbers[carried & ~step_ids.isin(known)].sum())
    frame = pd.DataFrame(
        {
            "step_id": [None, *ids],
            "parent_step_id": [None, *steps["parent_step_id"].astype(object)],
            "depth": [-1, *steps["depth"]],
            "description": ["run", *steps["description"].astype(object)],
            "own": [loose, *(float(own.get(s, 0.0)) for s in ids)],
            "total": [float(numbers[carried].sum()), *(total[s] for s in ids)],
            "events": [int(carried.sum()), *(int(counts.get(s, 0)) for s in ids)],
        }
    )
    for column in ("step_id", "parent_step_id", "description"):
        frame[column] = frame[column].astype(TEXT)
    frame["depth"] = frame["depth"].astype("int64")
    frame.attrs["path"] = path
    return frame[ROLLUP_COLUMNS]


STEP_TABLE_COLUMNS = ["step_id", "description", "depth", "status", "started_at", "completed_at", "duration_s"]


def step_table(trace: RunLike, paths: list[str]) -> pd.DataFrame:
    """The run's steps (plan order) with each path's total per step (children included) as a
    column named by the path's last key."""
    table = trace.steps_frame[STEP_TABLE_COLUMNS].reset_index(drop=True)
    for path in paths:
        totals = rollup(trace, path)["total"].iloc[1:].reset_index(drop=True)
        table[rollup_label(path)] = totals
    return table
