"""Two runs side by side: their steps aligned by step id, their tool calls by position inside
each step, and the first point where they diverge.

Each kind of difference is placed at the moment it shows in the first run (seconds since
its start): a step in one plan only at that step's start; a different status at the end
of the step; a different tool sequence at the first call that differs; different call
arguments (payload keys that differ between any runs, like ``request_id``, left out) at
that call, a different outcome at its result; a step ``factor`` times slower when it had
run ``factor`` times the other's duration, a faster one at its end. The first divergence
is the earliest of them (ties: plan, status, tools, payload, timing).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ..frames._durations import duration_text
from ..frames._runlike import RunLike
from ..frames._runlike import field as run_field
from ._attempts import tool_calls
from ._evidence import utc

__all__ = ["DIVERGENCE_KINDS", "Divergence", "align_steps", "first_divergence"]

DIVERGENCE_KINDS = ("plan", "status", "tools", "payload", "timing")
MIN_DELTA_S = 5.0  # a timing difference also needs this many seconds


@dataclass(frozen=True)
class Divergence:
    """Where two runs first differ: ``kind``, the step, the moment (``at_s``, seconds since
    this run's start), a sentence, each run's values and their ``delta``, and the event ids
    it rests on in this run (``events``) and in the other (``other_events``)."""

    kind: str
    step_id: str | None
    at_s: float
    text: str
    this: dict[str, Any] = field(default_factory=dict)
    other: dict[str, Any] = field(default_factory=dict)
    delta: dict[str, Any] = field(default_factory=dict)
    events: tuple[str, ...] = ()
    other_events: tuple[str, ...] = ()


def _origin(trace: RunLike) -> pd.Timestamp:
    start = utc(run_field(trace.run, "started_at"))
    if start is not None:
        return start
    candidates = [trace.steps_frame["started_at"].min(), trace.events_frame["timestamp"].min()]
    return min(c for c in candidates if not pd.isna(c))


def _side(trace: RunLike) -> pd.DataFrame:
    steps = trace.steps_frame
    origin = _origin(trace)
    calls = tool_calls(trace.events_frame)
    tools = calls.groupby(calls["step_id"].astype(object), sort=False)["tool"].agg(list)
    side = pd.DataFrame(
        {
            "step_id": steps["step_id"].astype(str).to_numpy(),
            "description": steps["description"].astype(object).to_numpy(),
            "parent_step_id": steps["parent_step_id"].astype(object).to_numpy(),
            "status": steps["status"].astype(str).to_numpy(),
            "start_s": (steps["started_at"] - origin).dt.total_seconds().to_numpy(),
            "end_s": (steps["completed_at"] - origin).dt.total_seconds().to_numpy(),
            "duration_s": steps["duration_s"].to_numpy(dtype="float64", na_value=np.nan),
        }
    )
    side["tools"] = [list(tools.get(s, [])) for s in side["step_id"]]
    return side


def align_steps(this: RunLike, other: RunLike) -> pd.DataFrame:
    """One row per step id of either run (this run's plan order first): each run's status,
    start and end (seconds since its start), duration and tool calls, and the differences."""
    mine, theirs = _side(this), _side(other)
    merged = mine.merge(
        theirs, on="step_id", how="outer", suffixes=("", "_other"), sort=False, indicator=True
    )
    order = {s: i for i, s in enumerate([*mine["step_id"], *theirs["step_id"]])}
    merged = merged.assign(_order=merged["step_id"].map(order)).sort_values("_order", kind="stable")
    merged["description"] = merged["description"].fillna(merged["description_other"])
    merged["in_this"] = merged["_merge"] != "right_only"
    merged["in_other"] = merged["_merge"] != "left_only"
    merged["delta_s"] = merged["duration_s"] - merged["duration_s_other"]
    merged["ratio"] = merged["duration_s"] / merged["duration_s_other"].where(merged["duration_s_other"] > 0)
    for column in ("tools", "tools_other"):
        merged[column] = [value if isinstance(value, list) else [] for value in merged[column]]
    columns = [
        "step_id",
        "description",
        "in_this",
        "in_other",
        "status",
        "status_other",
        "start_s",
        "start_s_other",
        "end_s",
        "end_s_other",
        "duration_s",
        "duration_s_other",
        "delta_s",
        "ratio",
        "tools",
        "tools_other",
    ]
    return merged[columns].reset_index(drop=True)


def _name(row: Any) -> str:
    return f"'{row.description}'" if isinstance(row.description, str) else f"'{row.step_id}'"


def _end(row: Any, suffix: str, run_end: float) -> float:
    end = getattr(row, f"end_s{suffix}")
    return float(end) if not pd.isna(end) else run_end


def _candidates(
    this: RunLike, other: RunLike, aligned: pd.DataFrame, label: str, factor: float
) -> list[Divergence]:
    found: list[Divergence] = []
    this_end = (_end_of(this) - _origin(this)).total_seconds()
    mine, theirs = tool_calls(this.events_frame), tool_calls(other.events_frame)
    origin = _origin(this)
    row: Any
    for row in aligned.itertuples(index=False):
        name = _name(row)
        if not row.in_this or not row.in_other:
            where = "this run's plan" if row.in_this else f"the plan of run {label}"
            start = row.start_s if row.in_this else row.start_s_other
            at = this_end if pd.isna(start) else float(start)
            found.append(Divergence("plan", row.step_id, at, f"Step {name} is only in {where}."))
            continue
        if row.status != row.status_other:
            text = f"Step {name} {row.status} here but {row.status_other} in run {label}."
            values = ({"status": row.status}, {"status": row.status_other})
            found.append(Divergence("status", row.step_id, _end(row, "", this_end), text, *values))
        found.extend(_call_divergences(row, mine, theirs, origin, this_end, label))
        found.extend(_timing(row, factor, this_end, label))
    return found


def _end_of(trace: RunLike) -> pd.Timestamp:
    end = utc(run_field(trace.run, "finished_at"))
    if end is not None:
        return end
    times = [trace.steps_frame["completed_at"].max(), trace.events_frame["timestamp"].max()]
    valid = [t for t in times if not pd.isna(t)]
    return max(valid) if valid else _origin(trace)


def _call_divergences(
    row: Any, mine: pd.DataFrame, theirs: pd.DataFrame, origin: pd.Timestamp, this_end: float, label: str
) -> list[Divergence]:
    name = _name(row)
    a = mine[mine["step_id"] == row.step_id].reset_index(drop=True)
    b = theirs[theirs["step_id"] == row.step_id].reset_index(drop=True)
    found = []
    if list(a["tool"]) != list(b["tool"]):
        index = next(
            (i for i, (x, y) in enumerate(zip(a["tool"], b["tool"], strict=False)) if x != y),
            min(len(a), len(b)),
        )
        at = (
            (a["called_at"].iat[index] - origin).total_seconds()
            if index < len(a)
            else _end(row, "", this_end)
        )
        text = (
            f"Step {name} called {', '.join(a['tool']) or 'no tool'} here but "
            f"{', '.join(b['tool']) or 'no tool'} in run {label} ({len(a)} calls vs {len(b)})."
        )
        found.append(
            Divergence(
                "tools",
                row.step_id,
                at,
                text,
                {"tools": list(a["tool"])},
                {"tools": list(b["tool"])},
                {"calls": len(a) - len(b), "first_different_call": index},
                tuple(a["call_id"].iloc[index : index + 1]),
                tuple(b["call_id"].iloc[index : index + 1]),
            )
        )
    for i in range(min(len(a), len(b))):
        x, y = a.iloc[i], b.iloc[i]
        if x["tool"] != y["tool"]:
            break
        if x["arguments"] != y["arguments"]:
            changed = sorted(
                k
                for k in {*x["arguments"], *y["arguments"]}
                if x["arguments"].get(k) != y["arguments"].get(k)
            )
            keys = ", ".join(changed[:5])
            text = f"Step {name} called {x['tool']} with different arguments ({keys}) than in run {label}."
            found.append(
                Divergence(
                    "payload",
                    row.step_id,
                    (x["called_at"] - origin).total_seconds(),
                    text,
                    {k: x["arguments"].get(k) for k in changed},
                    {k: y["arguments"].get(k) for k in changed},
                    {"keys": changed},
                    (str(x["call_id"]),),
                    (str(y["call_id"]),),
                )
            )
        if bool(x["failed"]) != bool(y["failed"]):
            when = x["ended_at"] if not pd.isna(x["ended_at"]) else x["called_at"]
            mine_said = f"failed ({x['outcome']})" if x["failed"] else "succeeded"
            theirs_said = f"failed ({y['outcome']})" if y["failed"] else "succeeded"
            text = f"In step {name}, {x['tool']} {mine_said} here but {theirs_said} in run {label}."
            ids = tuple(str(v) for v in (x["call_id"], x["result_id"]) if isinstance(v, str))
            other_ids = tuple(str(v) for v in (y["call_id"], y["result_id"]) if isinstance(v, str))
            found.append(
                Divergence(
                    "payload",
                    row.step_id,
                    (when - origin).total_seconds(),
                    text,
                    {"failed": bool(x["failed"]), "outcome": x["outcome"]},
                    {"failed": bool(y["failed"]), "outcome": y["outcome"]},
                    {},
                    ids,
                    other_ids,
                )
            )
    return found


def _timing(row: Any, factor: float, this_end: float, label: str) -> list[Divergence]:
    mine, theirs = row.duration_s, row.duration_s_other
    if pd.isna(mine) or pd.isna(theirs) or pd.isna(row.start_s) or abs(mine - theirs) < MIN_DELTA_S:
        return []
    values = ({"duration_s": float(mine)}, {"duration_s": float(theirs)})
    delta = {"delta_s": float(mine - theirs), "ratio": float(mine / theirs) if theirs > 0 else float("inf")}
    name = _name(row)
    if mine >= factor * theirs:
        at = float(row.start_s) + factor * float(theirs)
        text = (
            f"Step {name} took {duration_text(mine)} here, {delta['ratio']:.1f}x the "
            f"{duration_text(theirs)} of run {label} (+{duration_text(mine - theirs)})."
        )
        return [Divergence("timing", row.step_id, at, text, *values, delta)]
    if theirs >= factor * mine:
        text = (
            f"Step {name} took {duration_text(mine)} here, far less than the "
            f"{duration_text(theirs)} of run {label} (-{duration_text(theirs - mine)})."
        )
        return [Divergence("timing", row.step_id, _end(row, "", this_end), text, *values, delta)]
    return []


def first_divergence(
    this: RunLike, other: RunLike, aligned: pd.DataFrame | None = None, *, factor: float = 2.0
) -> Divergence | None:
    """The earliest divergence of ``this`` from ``other`` (see the module's docstring), or
    None when they do not differ (nor do the runs' statuses)."""
    aligned = align_steps(this, other) if aligned is None else aligned
    label = str(run_field(other.run, "run_id"))[:8]
    found = _candidates(this, other, aligned, label, factor)
    if not found:
        mine, theirs = str(run_field(this.run, "status")), str(run_field(other.run, "status"))
        if mine == theirs:
            return None
        at = (_end_of(this) - _origin(this)).total_seconds()
        return Divergence("status", None, at, f"The run {mine} here but {theirs} in run {label}.")
    rank = {kind: i for i, kind in enumerate(DIVERGENCE_KINDS)}
    return min(found, key=lambda d: (d.at_s, rank[d.kind]))
