"""Tidy pandas DataFrames of missions, runs, plan steps, events and linked agents.

Every frame has fixed columns in a fixed order (the ``*_COLUMNS`` lists below), ids
as strings, timestamps as tz-aware UTC datetimes, statuses and types as ordered
categoricals holding every documented value, and durations both as timedelta and
seconds. Items still in progress are measured to "now" and flagged ``is_running``.
Nested ``metadata``/``payload``/``input`` stay as dict columns; ``flatten=True``
adds them as prefixed columns (``metadata.team``). Empty input gives an empty frame
with the same columns and dtypes.

Inputs may be our models, pages or iterators of them, envelopes (``.data``), lists
of dicts, or the official ``telnyx`` SDK's objects.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any, Final

import pandas as pd

from ._runlike import is_runlike
from .types import ACTIVE_RUN_STATUSES, EventType, ExecutionMode, RunStatus, StepStatus

__all__ = [
    "AGENT_COLUMNS",
    "EVENT_COLUMNS",
    "MISSION_COLUMNS",
    "RUN_COLUMNS",
    "STEP_COLUMNS",
    "agents_frame",
    "events_frame",
    "missions_frame",
    "outcomes_over_time",
    "runs_frame",
    "step_stats",
    "steps_frame",
    "to_frame",
]

MISSION_COLUMNS = [
    "mission_id",
    "name",
    "execution_mode",
    "model",
    "description",
    "instructions",
    "created_at",
    "updated_at",
    "metadata",
]
RUN_COLUMNS = [
    "run_id",
    "mission_id",
    "status",
    "started_at",
    "finished_at",
    "updated_at",
    "duration",
    "duration_s",
    "is_running",
    "result_summary",
    "error",
    "input",
    "metadata",
    "result_payload",
]
STEP_COLUMNS = [
    "run_id",
    "step_id",
    "parent_step_id",
    "sequence",
    "depth",
    "description",
    "status",
    "started_at",
    "completed_at",
    "duration",
    "duration_s",
    "is_running",
    "metadata",
]
EVENT_COLUMNS = [
    "run_id",
    "event_id",
    "timestamp",
    "type",
    "step_id",
    "agent_id",
    "summary",
    "idempotency_key",
    "payload",
]
AGENT_COLUMNS = ["run_id", "telnyx_agent_id", "created_at"]

RUN_STATUS = pd.CategoricalDtype([s.value for s in RunStatus], ordered=True)
STEP_STATUS = pd.CategoricalDtype([s.value for s in StepStatus], ordered=True)
EVENT_TYPE = pd.CategoricalDtype([t.value for t in EventType], ordered=True)
EXECUTION_MODE = pd.CategoricalDtype([m.value for m in ExecutionMode], ordered=True)

# Finished steps that ran (and so have a duration): not the skipped ones.
ENDED_STEP_STATUSES = frozenset({StepStatus.COMPLETED, StepStatus.FAILED})

_TEXT: Final = "string"
_TIME: Final = "datetime64[us, UTC]"


def _records(items: Any) -> list[dict[str, Any]]:
    """Plain dicts from models, envelopes, pages, iterators or dicts."""
    data = getattr(items, "data", None)
    if data is not None and not isinstance(items, Mapping):
        items = data
    if isinstance(items, Mapping) or hasattr(items, "model_dump"):
        items = [items]
    records = []
    for item in items if isinstance(items, Iterable) else [items]:
        if hasattr(item, "model_dump"):
            item = item.model_dump(mode="python")
        elif hasattr(item, "to_dict") and not isinstance(item, Mapping):
            item = item.to_dict()
        if not isinstance(item, Mapping):
            raise TypeError(f"cannot make a row of {type(item).__name__}")
        records.append({k: getattr(v, "value", v) for k, v in item.items()})
    return records


def _now(now: datetime | None) -> pd.Timestamp:
    return pd.Timestamp(now or datetime.now(UTC)).tz_convert("UTC")


def _frame(records: list[dict[str, Any]], columns: list[str], dtypes: dict[str, Any]) -> pd.DataFrame:
    frame = (
        pd.DataFrame.from_records(records, columns=columns)
        if records
        else pd.DataFrame({c: pd.Series(dtype=object) for c in columns})
    )
    for column, dtype in dtypes.items():
        if column not in frame:
            continue
        if dtype == _TIME:
            frame[column] = pd.to_datetime(frame[column], utc=True, format="ISO8601").astype(_TIME)
        elif dtype == _TEXT:
            frame[column] = frame[column].astype(_TEXT)
        else:
            frame[column] = frame[column].astype(dtype)
    return frame


def _durations(frame: pd.DataFrame, start: str, end: str, running: pd.Series, now: Any) -> None:
    stop = frame[end].where(~running, now)
    frame["duration"] = (stop - frame[start]).astype("timedelta64[us]")
    frame["duration_s"] = frame["duration"].dt.total_seconds()
    frame["is_running"] = running.astype(bool)


def _flatten(frame: pd.DataFrame, columns: Iterable[str]) -> pd.DataFrame:
    for column in columns:
        if column not in frame or frame.empty:
            continue
        values = frame[column].map(lambda v: v if isinstance(v, dict) else {})
        flat = pd.json_normalize(values.tolist()).add_prefix(f"{column}.")
        flat.index = frame.index
        frame = pd.concat([frame, flat], axis=1)
    return frame


def missions_frame(items: Any, *, flatten: bool = False) -> pd.DataFrame:
    """Missions, one row each, in the order given."""
    frame = _frame(
        _records(items),
        MISSION_COLUMNS,
        {
            "mission_id": _TEXT,
            "name": _TEXT,
            "execution_mode": EXECUTION_MODE,
            "model": _TEXT,
            "description": _TEXT,
            "instructions": _TEXT,
            "created_at": _TIME,
            "updated_at": _TIME,
        },
    )
    return _flatten(frame, ["metadata"]) if flatten else frame


def runs_frame(items: Any, *, flatten: bool = False, now: datetime | None = None) -> pd.DataFrame:
    """Runs, with durations (active runs measured to now)."""
    frame = _frame(
        _records(items),
        RUN_COLUMNS,
        {
            "run_id": _TEXT,
            "mission_id": _TEXT,
            "status": RUN_STATUS,
            "started_at": _TIME,
            "finished_at": _TIME,
            "updated_at": _TIME,
            "result_summary": _TEXT,
            "error": _TEXT,
        },
    )
    active = frame["status"].isin(ACTIVE_RUN_STATUSES) & frame["finished_at"].isna()
    _durations(frame, "started_at", "finished_at", active, _now(now))
    return _flatten(frame, ["input", "metadata", "result_payload"]) if flatten else frame


def steps_frame(items: Any, *, flatten: bool = False, now: datetime | None = None) -> pd.DataFrame:
    """Plan steps in plan order (by sequence, children right after their parent), with depth."""
    records = _records(items)
    frame = _frame(
        _plan_order(records),
        STEP_COLUMNS,
        {
            "run_id": _TEXT,
            "step_id": _TEXT,
            "parent_step_id": _TEXT,
            "sequence": "Int64",
            "depth": "int64",
            "description": _TEXT,
            "status": STEP_STATUS,
            "started_at": _TIME,
            "completed_at": _TIME,
        },
    )
    running = (frame["status"] == StepStatus.IN_PROGRESS) & frame["started_at"].notna()
    _durations(frame, "started_at", "completed_at", running, _now(now))
    return _flatten(frame, ["metadata"]) if flatten else frame


def _plan_order(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Depth-first by sequence per run, each child under its parent, with ``depth`` set."""
    by_run: dict[Any, list[dict[str, Any]]] = {}
    for record in records:
        by_run.setdefault(record.get("run_id"), []).append(record)
    ordered: list[dict[str, Any]] = []
    for steps in by_run.values():
        ids = {s.get("step_id") for s in steps}
        children: dict[Any, list[dict[str, Any]]] = {}
        for step in steps:
            parent = step.get("parent_step_id")
            children.setdefault(parent if parent in ids else None, []).append(step)
        for group in children.values():
            group.sort(key=lambda s: (s.get("sequence") is None, s.get("sequence") or 0))
        seen: set[Any] = set()
        stack = [(s, 0) for s in reversed(children.get(None, []))]
        while stack:
            step, depth = stack.pop()
            if step.get("step_id") in seen:
                continue
            seen.add(step.get("step_id"))
            ordered.append({**step, "depth": depth})
            stack.extend((c, depth + 1) for c in reversed(children.get(step.get("step_id"), [])))
        # steps caught in a parent cycle are still listed, at the top level
        ordered.extend({**s, "depth": 0} for s in steps if s.get("step_id") not in seen)
    return ordered


def events_frame(items: Any, *, flatten: bool = False) -> pd.DataFrame:
    """Events, in the order given (a run's events come oldest first)."""
    frame = _frame(
        _records(items),
        EVENT_COLUMNS,
        {
            "run_id": _TEXT,
            "event_id": _TEXT,
            "timestamp": _TIME,
            "type": EVENT_TYPE,
            "step_id": _TEXT,
            "agent_id": _TEXT,
            "summary": _TEXT,
            "idempotency_key": _TEXT,
        },
    )
    return _flatten(frame, ["payload"]) if flatten else frame


def agents_frame(items: Any) -> pd.DataFrame:
    """Telnyx agents linked to runs."""
    return _frame(
        _records(items), AGENT_COLUMNS, {"run_id": _TEXT, "telnyx_agent_id": _TEXT, "created_at": _TIME}
    )


_KINDS = [  # (a key only this kind has, its frame function), checked in order
    ("event_id", events_frame),
    ("sequence", steps_frame),
    ("telnyx_agent_id", agents_frame),
    ("run_id", runs_frame),
    ("mission_id", missions_frame),
]


def to_frame(obj: Any, **kwargs: Any) -> pd.DataFrame:
    """Any model, page, envelope, list or iterator of API objects -> its DataFrame.

    A page gives the items of that page; use ``page.fetch_all()`` for every page.
    """
    if is_runlike(obj):
        steps: pd.DataFrame = obj.steps_frame
        return steps
    records = _records(obj)
    if not records:
        raise ValueError(
            "to_frame() cannot tell the kind of an empty input: use "
            "missions_frame, runs_frame, steps_frame, events_frame or agents_frame"
        )
    for key, function in _KINDS:
        if key in records[0]:
            result: pd.DataFrame = function(records, **kwargs)
            return result
    raise TypeError(f"to_frame() does not know objects with fields {sorted(records[0])[:8]}")


# -- fleet views ------------------------------------------------------------------------------


def step_stats(steps: pd.DataFrame) -> pd.DataFrame:
    """Per-step duration statistics across runs: count, median, p95, failure rate.

    ``steps`` is a steps frame of many runs (e.g. from ``fetch_steps``); steps are
    grouped by ``step_id``. Sorted slowest (median) first.
    """
    columns = ["step_id", "description", "runs", "finished", "median_s", "p95_s", "max_s", "failure_rate"]
    if steps.empty:
        return pd.DataFrame(
            {
                c: pd.Series(
                    dtype="float64"
                    if c.endswith(("_s", "rate"))
                    else "int64"
                    if c in ("runs", "finished")
                    else "string"
                )
                for c in columns
            }
        )
    finished = steps["status"].isin(ENDED_STEP_STATUSES)
    grouped = steps.assign(
        _finished=finished,
        _failed=steps["status"] == StepStatus.FAILED,
        _done_s=steps["duration_s"].where(finished & ~steps["is_running"]),
    )
    stats = grouped.groupby("step_id", observed=True, sort=False).agg(
        description=("description", "first"),
        runs=("run_id", "nunique"),
        finished=("_finished", "sum"),
        median_s=("_done_s", "median"),
        p95_s=("_done_s", lambda s: s.quantile(0.95)),
        max_s=("_done_s", "max"),
        failed=("_failed", "sum"),
    )
    stats["failure_rate"] = stats["failed"] / stats["finished"].where(stats["finished"] > 0)
    stats = stats.drop(columns="failed").reset_index()
    stats["step_id"] = stats["step_id"].astype("string")
    return stats.sort_values("median_s", ascending=False, na_position="last", ignore_index=True)[columns]


def outcomes_over_time(runs: pd.DataFrame, freq: str = "D") -> pd.DataFrame:
    """Run counts per period (rows) and status (columns), by ``started_at``."""
    if runs.empty:
        return pd.DataFrame(
            columns=pd.CategoricalIndex(RUN_STATUS.categories, dtype=RUN_STATUS), dtype="int64"
        )
    grouper = pd.Grouper(key="started_at", freq=freq)
    table = runs.groupby([grouper, "status"], observed=False).size().unstack("status", fill_value=0)
    table = table.reindex(columns=RUN_STATUS.categories, fill_value=0).astype("int64")
    table.index.name = "period"
    table.columns = pd.Index(list(RUN_STATUS.categories), name="status")
    return table
