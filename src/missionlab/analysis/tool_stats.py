"""Tools and models across runs: calls, error rate, latency percentiles, tokens and cost.

``tool_stats(source)`` answers, per tool (``by="tool"``), per model (``by="model"``) or per
mission (``by="mission"``), optionally per period (``freq="D"``): how many calls, in how many
runs, how many failed, their p50/p95/p99 latency in seconds, and the tokens and cost they
used, per call and per run. ``source`` is a :class:`missionlab.History` (out of core: DuckDB
pairs the calls and aggregates them, ``_history/_query.py``, and hands the runs its plain join
does not read exactly, the "odd runs", to the reading below), a
:class:`missionlab.FetchedFrames` or an events frame of many runs, or a list of run traces:
they give the same answer (tests/test_fleet_sql.py holds the SQL to the reading below).

A tool call, its latency and whether it failed are what the Gantt and ``explain`` see
(``analysis._attempts.tool_calls``: the call's result or error, retries counted as calls of
their own), every run read as an ended one (a call of a run still active, given up for
another call of its tool in a step still open, counts as failed here); its latency is from
the call to its result or error, missing when it had none (then not in the percentiles).
Usage follows the payload convention of the roll-ups (:mod:`.rollup`):
``payload.usage.total_tokens`` and ``payload.cost_usd``, with the model named by
``payload.model``; a tool call's usage is its call's and its result's. An event
that carries a model's usage and is no part of a tool call (a plan, a message) counts as a
call of that model, without latency. The events read are those stamped in
``[since, until)`` (UTC): a result that came back after ``until`` is not read.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from ..client.errors import InvalidArgumentError
from ..frames._columns import TEXT, python_values
from ..frames._fleet import is_history
from ..frames._jsontext import json_number, json_objects
from ..types import EventType
from ._attempts import tool_calls
from ._evidence import utc

__all__ = ["CALL_COLUMNS", "STATS_COLUMNS", "calls_frame", "fleet_events", "tool_stats"]

#: The columns of :func:`calls_frame`: one row per call of a tool or a model.
CALL_COLUMNS = [
    "run_id",
    "mission_id",
    "tool",
    "model",
    "called_at",
    "latency_s",
    "failed",
    "attempt",
    "tokens",
    "cost_usd",
]
#: The columns of :func:`tool_stats` after its keys.
STATS_COLUMNS = [
    "calls",
    "runs",
    "errors",
    "error_rate",
    "p50_s",
    "p95_s",
    "p99_s",
    "tokens",
    "tokens_per_call",
    "tokens_per_run",
    "cost_usd",
    "cost_per_call",
    "cost_per_run",
]
_KEYS = {"tool": "tool", "model": "model", "mission": "mission_id"}
_USAGE_MARKS = ('"model"', '"usage"', '"cost_usd"')
_TOOL_TYPES = (EventType.TOOL_CALL.value, EventType.TOOL_RESULT.value, EventType.ERROR.value)
#: The events a fleet view reads (the columns of an events frame it needs, and the run's mission).
EVENT_READ = ["run_id", "mission_id", "event_id", "type", "step_id", "timestamp", "summary", "payload"]


def _usage(payload: dict[str, Any]) -> tuple[str | None, float, float]:
    """The model a payload names, its total tokens and its cost (NaN: none)."""
    model = payload.get("model")
    usage = payload.get("usage")
    tokens = usage.get("total_tokens") if isinstance(usage, dict) else None
    named = model if isinstance(model, str) and model else None
    return named, json_number(tokens), json_number(payload.get("cost_usd"))


def _pick(values: np.ndarray, at: np.ndarray, missing: Any) -> np.ndarray:
    """``values[at]``, ``missing`` where ``at`` is -1."""
    out = np.full(len(at), missing, dtype=values.dtype)
    found = at >= 0
    out[found] = values[at[found]]
    return out


def _either(first: np.ndarray, second: np.ndarray) -> np.ndarray:
    """The sum of two arrays of numbers, NaN where both are."""
    both_missing = np.isnan(first) & np.isnan(second)
    return np.where(both_missing, np.nan, np.nansum(np.vstack([first, second]), axis=0))


def calls_frame(events: pd.DataFrame) -> pd.DataFrame:
    """One row per tool call and per other model call in ``events`` (of many runs, with a
    ``mission_id`` column; see the module's docstring), in run then time order."""
    events = events.reset_index(drop=True)
    calls = tool_calls(events, arguments=False, by_run=True)
    holds = events["payload"].astype(str).str.contains("|".join(_USAGE_MARKS), regex=True)
    marked = np.flatnonzero(holds.fillna(False).to_numpy(dtype=bool))
    parsed = [_usage(p) for p in json_objects(python_values(events["payload"].iloc[marked], None))]
    models = np.array([u[0] for u in parsed], dtype=object)
    tokens = np.array([u[1] for u in parsed], dtype=float)
    costs = np.array([u[2] for u in parsed], dtype=float)
    # an event is known by its run and its id (the first of an id given twice in a run)
    ids = pd.MultiIndex.from_arrays(
        [
            python_values(events["run_id"].iloc[marked], None),
            python_values(events["event_id"].iloc[marked], None),
        ]
    )
    if not ids.is_unique:
        keep = ~ids.duplicated()
        ids, marked, models, tokens, costs = ids[keep], marked[keep], models[keep], tokens[keep], costs[keep]
    runs = python_values(calls["run_id"], None)
    at_call = ids.get_indexer(pd.MultiIndex.from_arrays([runs, python_values(calls["call_id"], None)]))
    at_result = ids.get_indexer(pd.MultiIndex.from_arrays([runs, python_values(calls["result_id"], None)]))
    call_model, result_model = _pick(models, at_call, None), _pick(models, at_result, None)
    mission_of = dict(
        zip(python_values(events["run_id"], None), python_values(events["mission_id"], None), strict=True)
    )
    frame = pd.DataFrame(
        {
            "run_id": python_values(calls["run_id"], None),
            "mission_id": [mission_of.get(run) for run in python_values(calls["run_id"], None)],
            "tool": python_values(calls["tool"], None),
            "model": np.where(pd.isna(call_model), result_model, call_model),
            "called_at": pd.to_datetime(calls["called_at"], utc=True),
            "latency_s": (
                pd.to_datetime(calls["ended_at"], utc=True) - pd.to_datetime(calls["called_at"], utc=True)
            ).dt.total_seconds(),
            "failed": calls["failed"].to_numpy(dtype=bool),
            "attempt": calls["attempt"].to_numpy(dtype="int64"),
            "tokens": _either(_pick(tokens, at_call, np.nan), _pick(tokens, at_result, np.nan)),
            "cost_usd": _either(_pick(costs, at_call, np.nan), _pick(costs, at_result, np.nan)),
        }
    )
    in_calls = np.zeros(len(ids), dtype=bool)
    in_calls[at_call[at_call >= 0]] = True
    in_calls[at_result[at_result >= 0]] = True
    own = ~in_calls & ~pd.isna(models)  # a model's own calls: usage outside any tool call
    if own.any():
        loose = events.iloc[marked[own]]
        others = pd.DataFrame(
            {
                "run_id": python_values(loose["run_id"], None),
                "mission_id": python_values(loose["mission_id"], None),
                "tool": None,
                "model": models[own],
                "called_at": pd.to_datetime(loose["timestamp"], utc=True).to_numpy(),
                "latency_s": np.nan,
                "failed": False,
                "attempt": 1,
                "tokens": tokens[own],
                "cost_usd": costs[own],
            }
        )
        frame = pd.concat([frame, others], ignore_index=True)
    frame["called_at"] = pd.to_datetime(frame["called_at"], utc=True)
    frame["failed"] = frame["failed"].astype(bool)
    frame["attempt"] = frame["attempt"].astype("int64")
    for column in ("run_id", "mission_id", "tool", "model"):
        frame[column] = frame[column].astype(object)
    return frame[CALL_COLUMNS]


# -- the sources ---------------------------------------------------------------------------


def _window(events: pd.DataFrame, since: Any, until: Any) -> pd.DataFrame:
    begin, end = utc(since), utc(until)
    keep = pd.Series(True, index=events.index)
    if begin is not None:
        keep &= events["timestamp"] >= begin
    if end is not None:
        keep &= events["timestamp"] < end
    return events[keep.to_numpy(dtype=bool)]


def _relevant(events: pd.DataFrame) -> pd.DataFrame:
    """The events a fleet view reads: tool calls, results, errors and events with usage."""
    kinds = events["type"].astype(str).isin(_TOOL_TYPES)
    marked = events["payload"].astype(str).str.contains("|".join(_USAGE_MARKS), regex=True).fillna(False)
    return events[(kinds | marked).to_numpy(dtype=bool)]


def _frames_events(source: Any) -> pd.DataFrame:
    """An events frame of many runs with a ``mission_id`` column, from frames or traces."""
    if isinstance(source, pd.DataFrame):
        events = source
        if "mission_id" not in events:
            events = events.assign(mission_id=None)
        return events
    runs, fetched = getattr(source, "runs", None), getattr(source, "events", None)
    if isinstance(runs, pd.DataFrame) and isinstance(fetched, pd.DataFrame):  # FetchedFrames
        missions = dict(zip(runs["run_id"].astype(object), runs["mission_id"].astype(object), strict=True))
        return fetched.assign(mission_id=fetched["run_id"].astype(object).map(missions))
    if isinstance(source, Iterable) and not isinstance(source, str | bytes):
        parts = []
        for trace in source:
            frame = getattr(trace, "events_frame", None)
            if not isinstance(frame, pd.DataFrame):
                raise InvalidArgumentError(
                    "source", f"a list of run traces was expected, not one holding a {type(trace).__name__}"
                )
            run = getattr(trace, "run", None)
            mission = getattr(run, "mission_id", None) if run is not None else None
            if mission is None and isinstance(run, dict):
                mission = run.get("mission_id")
            parts.append(frame.assign(mission_id=mission))
        if parts:
            return pd.concat(parts, ignore_index=True)
        return pd.DataFrame({column: pd.Series(dtype=object) for column in EVENT_READ})
    raise InvalidArgumentError(
        "source",
        f"a missionlab.History, fetch_frames() output, an events frame or a list of runs, "
        f"not a {type(source).__name__}",
    )


def fleet_events(
    source: Any,
    *,
    since: Any = None,
    until: Any = None,
    mission: str | Sequence[str] | None = None,
    batch: int = 200_000,
) -> Iterator[pd.DataFrame]:
    """The tool, error and usage events of ``source`` stamped in ``[since, until)``, in
    frames of whole runs (each run's events together, ordered by run then time)."""
    if is_history(source):
        yield from source._fleet_events(since=since, until=until, mission=mission, batch=batch)
        return
    events = _frames_events(source)
    if mission is not None:
        wanted = [mission] if isinstance(mission, str) else list(mission)
        events = events[events["mission_id"].isin(wanted).to_numpy(dtype=bool)]
    events = _relevant(_window(events, since, until))
    # events of one moment in the order of their ids, as the history's SQL orders them (the
    # API lists a run's events newest first: a frame keeps ties in that order)
    yield events.sort_values(["run_id", "timestamp", "event_id"], kind="stable")


def fleet_calls(source: Any, *, since: Any = None, until: Any = None, mission: Any = None) -> pd.DataFrame:
    """:func:`calls_frame` of every run of ``source`` (read batch by batch)."""
    parts = [
        calls_frame(events) for events in fleet_events(source, since=since, until=until, mission=mission)
    ]
    parts = [part for part in parts if len(part)]
    if not parts:
        return calls_frame(pd.DataFrame({c: pd.Series(dtype=object) for c in EVENT_READ}))
    return pd.concat(parts, ignore_index=True)


# -- the statistics ------------------------------------------------------------------------


def _percentile(values: pd.Series, q: float) -> float:
    known = values.dropna().to_numpy(dtype=float)
    return float(np.percentile(known, q)) if len(known) else np.nan


def _keys(by: str | Sequence[str]) -> list[str]:
    """The columns of the calls that ``by`` groups by."""
    names = [by] if isinstance(by, str) else list(by)
    unknown = [name for name in names if name not in _KEYS]
    if unknown or not names:
        raise InvalidArgumentError(
            "by", f"{unknown[0] if unknown else by!r}: group by one of {', '.join(_KEYS)}"
        )
    return [_KEYS[name] for name in names]


def _floor(times: pd.Series, freq: str) -> pd.Series:
    """``times`` floored to periods of ``freq`` (counted from the epoch, as pandas does)."""
    try:
        floored: pd.Series = times.dt.floor(freq)
    except ValueError as error:
        raise InvalidArgumentError(
            "freq", f"{freq!r} is not a fixed frequency ('h', 'D', '7D'): {error}"
        ) from error
    return floored


def _period_us(freq: str) -> int:
    """The length of ``freq``'s periods in microseconds (a whole number of them)."""
    _floor(pd.Series([pd.Timestamp(0, tz="UTC")]), freq)  # the same error as the frames' path
    nanos = int(pd.tseries.frequencies.to_offset(freq).nanos)
    if nanos <= 0 or nanos % 1000:
        raise InvalidArgumentError("freq", f"{freq!r}: periods are whole microseconds (at least '1us')")
    return nanos // 1000


def _typed(frame: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    for column in keys:
        if column != "period":
            frame[column] = frame[column].astype(TEXT)
    if "period" in frame:
        frame["period"] = pd.to_datetime(frame["period"], utc=True).astype("datetime64[us, UTC]")
    for column in ("calls", "runs", "errors"):
        frame[column] = frame[column].astype("int64")
    for column in STATS_COLUMNS[3:]:
        frame[column] = frame[column].astype("float64")
    return frame.reset_index(drop=True)


def stats_of_calls(
    calls: pd.DataFrame, by: str | Sequence[str] = "tool", freq: str | None = None
) -> pd.DataFrame:
    """:func:`tool_stats` of a :func:`calls_frame`."""
    keys = _keys(by)
    calls = calls.dropna(subset=keys)
    if freq is not None:
        _period_us(freq)
        calls = calls.assign(period=_floor(calls["called_at"], freq))
        keys = ["period", *keys]
    rows = []
    for key, group in calls.groupby(keys, sort=True, observed=True):
        runs = group["run_id"].nunique()
        tokens = float(group["tokens"].sum())
        cost = float(group["cost_usd"].sum())
        count = len(group)
        errors = int(group["failed"].sum())
        rows.append(
            (
                *(key if isinstance(key, tuple) else (key,)),
                count,
                runs,
                errors,
                errors / count,
                _percentile(group["latency_s"], 50),
                _percentile(group["latency_s"], 95),
                _percentile(group["latency_s"], 99),
                tokens,
                tokens / count,
                tokens / runs,
                cost,
                cost / count,
                cost / runs,
            )
        )
    return _typed(pd.DataFrame(rows, columns=[*keys, *STATS_COLUMNS]), keys)


#: What the history's SQL reads of the calls of the runs it leaves to :func:`calls_frame`.
_ODD_SCHEMA = pa.schema(
    [
        ("run_id", pa.string()),
        ("mission_id", pa.string()),
        ("tool", pa.string()),
        ("model", pa.string()),
        ("called_at", pa.timestamp("us", tz="UTC")),
        ("latency_s", pa.float64()),
        ("failed", pa.bool_()),
        ("tokens", pa.float64()),
        ("cost_usd", pa.float64()),
    ]
)


def _odd_calls(events: Iterable[pd.DataFrame]) -> pa.Table:
    """The calls of the runs the history's SQL does not pair itself (:func:`calls_frame`)."""
    parts = [calls_frame(part) for part in events]
    parts = [part for part in parts if len(part)]
    if not parts:
        return _ODD_SCHEMA.empty_table()
    calls = pd.concat(parts, ignore_index=True)
    columns = {}
    for field in _ODD_SCHEMA:
        values = calls[field.name]
        if field.name == "called_at":
            values = values.dt.as_unit("us")
        elif pa.types.is_string(field.type):
            values = python_values(values, None)
        columns[field.name] = pa.array(values, type=field.type, from_pandas=True)
    return pa.table(columns, schema=_ODD_SCHEMA)


def tool_stats(
    source: Any,
    *,
    by: str | Sequence[str] = "tool",
    since: Any = None,
    until: Any = None,
    freq: str | None = None,
    mission: str | Sequence[str] | None = None,
) -> pd.DataFrame:
    """Per tool (``by="tool"``), model (``"model"``) or mission (``"mission"``), or several of
    them (``by=["mission", "tool"]``), and per period of ``freq`` when given: calls, runs,
    errors, error_rate, p50_s/p95_s/p99_s latency, tokens and cost_usd in total, per call and
    per run. See the module's docstring for what is read from which ``source``."""
    if is_history(source):  # DuckDB pairs and aggregates the calls (see _history/_query.py)
        keys = _keys(by)
        period = None if freq is None else _period_us(freq)
        frame = source._tool_stats(
            since=since, until=until, mission=mission, keys=keys, period_us=period, odd_calls=_odd_calls
        )
        return _typed(frame, keys if period is None else ["period", *keys])
    calls = fleet_calls(source, since=since, until=until, mission=mission)
    return stats_of_calls(calls, by, freq)
