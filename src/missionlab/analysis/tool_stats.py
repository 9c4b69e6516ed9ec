"""Tools and models across runs: calls, error rate, latency percentiles, tokens and cost.

``tool_stats(source)`` answers, per tool (``by="tool"``), per model (``by="model"``) or per
mission (``by="mission"``), optionally per period (``freq="D"``): how many calls, in how many
runs, how many failed, their p50/p95/p99 latency in seconds, and the tokens and cost they
used, per call and per run. ``source`` is a :class:`missionlab.History` (read out of core:
DuckDB selects the events that matter, ordered by run, and hands them over in batches), a
:class:`missionlab.FetchedFrames` or an events frame of many runs, or a list of run traces:
every source goes through the same reading below, so they give the same answer.

A tool call, its latency and whether it failed are what the Gantt and ``explain`` see
(:func:`._attempts.tool_calls`: the call's result or error, retries counted as calls of
their own); its latency is from the call to its result or error, missing when it had none
(then not in the percentiles). Usage follows the payload convention of the roll-ups
(:mod:`.rollup`): ``payload.usage.total_tokens`` and ``payload.cost_usd``, with the model
named by ``payload.model``; a tool call's usage is its call's and its result's. An event
that carries a model's usage and is no part of a tool call (a plan, a message) counts as a
call of that model, without latency. The events read are those stamped in
``[since, until)`` (UTC): a result that came back after ``until`` is not read.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import numpy as np
import pandas as pd

from ..client.errors import InvalidArgumentError
from ..frames._columns import TEXT
from ..frames._fleet import is_history
from ..frames._jsontext import json_objects
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
    cost = payload.get("cost_usd")
    return (
        model if isinstance(model, str) and model else None,
        float(tokens) if isinstance(tokens, int | float) and not isinstance(tokens, bool) else np.nan,
        float(cost) if isinstance(cost, int | float) and not isinstance(cost, bool) else np.nan,
    )


def _sum(*values: float) -> float:
    given = [v for v in values if not np.isnan(v)]
    return float(sum(given)) if given else np.nan


def calls_frame(events: pd.DataFrame) -> pd.DataFrame:
    """One row per tool call and per other model call in ``events`` (of many runs, with a
    ``mission_id`` column; see the module's docstring), in run then time order."""
    events = events.reset_index(drop=True)
    calls = tool_calls(events, arguments=False, by_run=True)
    holds = events["payload"].astype(str).str.contains("|".join(_USAGE_MARKS), regex=True)
    marked = holds.fillna(False).to_numpy(dtype=bool)
    usage = dict(
        zip(
            events["event_id"].to_numpy(dtype=object)[marked],
            (_usage(p) for p in json_objects(list(events["payload"].to_numpy(dtype=object)[marked]))),
            strict=True,
        )
    )
    none = (None, np.nan, np.nan)
    call_usage = [usage.get(e, none) for e in calls["call_id"]]
    result_usage = [usage.get(e, none) if e is not None else none for e in calls["result_id"]]
    missions = dict(zip(events["run_id"], events["mission_id"], strict=True))
    frame = pd.DataFrame(
        {
            "run_id": calls["run_id"].astype(object),
            "mission_id": calls["run_id"].map(missions).astype(object),
            "tool": calls["tool"].astype(object),
            "model": [c[0] or r[0] for c, r in zip(call_usage, result_usage, strict=True)],
            "called_at": calls["called_at"],
            "latency_s": (
                pd.to_datetime(calls["ended_at"], utc=True) - pd.to_datetime(calls["called_at"], utc=True)
            ).dt.total_seconds(),
            "failed": calls["failed"].astype(bool),
            "attempt": calls["attempt"].astype("int64"),
            "tokens": [_sum(c[1], r[1]) for c, r in zip(call_usage, result_usage, strict=True)],
            "cost_usd": [_sum(c[2], r[2]) for c, r in zip(call_usage, result_usage, strict=True)],
        }
    )
    in_calls = set(calls["call_id"]) | set(calls["result_id"].dropna())
    loose = events.loc[marked & ~events["event_id"].isin(in_calls).to_numpy(dtype=bool)]
    loose = loose[[usage[e][0] is not None for e in loose["event_id"]]]  # a model's own calls
    if len(loose):
        others = pd.DataFrame(
            {
                "run_id": loose["run_id"].astype(object),
                "mission_id": loose["mission_id"].astype(object),
                "tool": None,
                "model": [usage[e][0] for e in loose["event_id"]],
                "called_at": loose["timestamp"],
                "latency_s": np.nan,
                "failed": False,
                "attempt": 1,
                "tokens": [usage[e][1] for e in loose["event_id"]],
                "cost_usd": [usage[e][2] for e in loose["event_id"]],
            }
        )
        frame = pd.concat([frame, others], ignore_index=True)
    frame["called_at"] = pd.to_datetime(frame["called_at"], utc=True)
    frame["failed"] = frame["failed"].astype(bool)
    frame["attempt"] = frame["attempt"].astype("int64")
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
    yield events.sort_values(["run_id", "timestamp"], kind="stable")


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


def stats_of_calls(
    calls: pd.DataFrame, by: str | Sequence[str] = "tool", freq: str | None = None
) -> pd.DataFrame:
    """:func:`tool_stats` of a :func:`calls_frame`."""
    names = [by] if isinstance(by, str) else list(by)
    unknown = [name for name in names if name not in _KEYS]
    if unknown or not names:
        raise InvalidArgumentError(
            "by", f"{unknown[0] if unknown else by!r}: group by one of {', '.join(_KEYS)}"
        )
    keys = [_KEYS[name] for name in names]
    calls = calls.dropna(subset=keys)
    if freq is not None:
        try:
            periods = calls["called_at"].dt.floor(freq)
        except ValueError as error:
            raise InvalidArgumentError(
                "freq", f"{freq!r} is not a fixed frequency ('h', 'D', '7D'): {error}"
            ) from error
        calls = calls.assign(period=periods)
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
    frame = pd.DataFrame(rows, columns=[*keys, *STATS_COLUMNS])
    for column in keys:
        if column != "period":
            frame[column] = frame[column].astype(TEXT)
    if "period" in frame:
        frame["period"] = pd.to_datetime(frame["period"], utc=True)
    for column in ("calls", "runs", "errors"):
        frame[column] = frame[column].astype("int64")
    for column in STATS_COLUMNS[3:]:
        frame[column] = frame[column].astype("float64")
    return frame


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
    calls = fleet_calls(source, since=since, until=until, mission=mission)
    return stats_of_calls(calls, by, freq)
