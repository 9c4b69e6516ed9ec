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

import re
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ..frames._durations import duration_text
from ..frames._runlike import RunLike
from ..frames._runlike import field as run_field
from ._attempts import tool_calls
from ._evidence import utc

__all__ = [
    "DIVERGENCE_KINDS",
    "VOLATILE_PAYLOAD_KEYS",
    "Divergence",
    "align_steps",
    "divergences",
    "first_divergence",
    "tool_key",
]

DIVERGENCE_KINDS = ("status", "plan", "tools", "timing", "payload")  # ranked: what explains most first
#: Payload keys left out when calls are compared, unless ``ignore=`` says otherwise: what
#: differs between any two runs (usage, costs, ids, times). Keys ending in ``_id`` or ``_at``
#: too, and keys whose value is one of the run's own input values (per-run arguments).
VOLATILE_PAYLOAD_KEYS = frozenset(
    {
        "usage",
        "cost_usd",
        "cost",
        "model",
        "id",
        "request_id",
        "tool_call_id",
        "attempt",
        "latency_ms",
        "timestamp",
        "trace_id",
        "span_id",
        "idempotency_key",
    }
)
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
            "duration_s": steps["working_s"].to_numpy(dtype="float64", na_value=np.nan),  # pauses left out
        }
    )
    side["tools"] = [list(tools.get(s, [])) for s in side["step_id"]]
    return side


def _plan_order(mine: pd.DataFrame, theirs: pd.DataFrame) -> dict[str, float]:
    """A place for each step id: this run's plan order, a step only in the other's plan
    right after the step it follows there."""
    order: dict[str, float] = {step: float(i) for i, step in enumerate(mine["step_id"])}
    previous = -1.0
    for step in theirs["step_id"]:
        if step in order:
            previous = order[step]
        else:
            previous += 1e-3
            order[step] = previous
    return order


def align_steps(this: RunLike, other: RunLike) -> pd.DataFrame:
    """One row per step id of either run (plan order: this run's, a step only in the other
    run after the step it follows there): each run's status,
    start and end (seconds since its start), duration and tool calls, and the differences."""
    mine, theirs = _side(this), _side(other)
    merged = mine.merge(
        theirs, on="step_id", how="outer", suffixes=("", "_other"), sort=False, indicator=True
    )
    merged = merged.assign(_order=merged["step_id"].map(_plan_order(mine, theirs)))
    merged = merged.sort_values("_order", kind="stable")
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


def tool_key(name: Any) -> str:
    """A tool's name as compared: lower case, letters and digits only."""
    return re.sub(r"[^0-9a-z]", "", str(name).lower())


def _way(tools: Any) -> list[str]:
    """A step's tools in the order first called, a tool called several times in a row once."""
    keys = [tool_key(t) for t in tools]
    return [k for i, k in enumerate(keys) if i == 0 or keys[i - 1] != k]


def _input_values(trace: RunLike) -> set[str]:
    given = run_field(trace.run, "input")
    values = given.values() if isinstance(given, dict) else ()
    return {v for v in values if isinstance(v, str) and v}


def _compared(arguments: Any, tool: Any, ignore: frozenset[str], own: set[str]) -> dict[str, Any]:
    """A call's arguments as compared: without the ignored keys, keys ending in ``_id`` or
    ``_at``, the tool's name (compared as the tools) and the run's own input values (texts)."""
    if not isinstance(arguments, dict):
        return {}
    return {
        key: value
        for key, value in arguments.items()
        if key not in ignore
        and not key.endswith(("_id", "_at"))
        and value != tool
        and not (isinstance(value, str) and value in own)
    }


def _order_divergence(aligned: pd.DataFrame, this: RunLike, other: RunLike, label: str) -> list[Divergence]:
    """A step that ran before a sibling here but after it in the other run."""
    both = aligned[aligned["in_this"] & aligned["in_other"] & aligned["start_s"].notna()]
    both = both[both["start_s_other"].notna()]
    parents = dict(
        zip(this.steps_frame["step_id"].astype(str), this.steps_frame["parent_step_id"], strict=True)
    )
    found = []
    for _, group in both.groupby(
        both["step_id"].map(lambda s: parents.get(s) if isinstance(parents.get(s), str) else ""), sort=False
    ):
        here = list(group.sort_values("start_s", kind="stable")["step_id"])
        there = list(group.sort_values("start_s_other", kind="stable")["step_id"])
        if here == there:
            continue
        first = next(i for i, (a, b) in enumerate(zip(here, there, strict=True)) if a != b)
        step = here[first]
        row = group[group["step_id"] == step].iloc[0]
        moved_past = there[first]
        name = f"'{row['description']}'" if isinstance(row["description"], str) else f"'{step}'"
        text = f"Step {name} ran before '{moved_past}' here, after it in run {label}."
        found.append(Divergence("plan", step, float(row["start_s"]), text, {"order": here}, {"order": there}))
    return found


def divergences(
    this: RunLike,
    other: RunLike,
    aligned: pd.DataFrame | None = None,
    *,
    factor: float = 2.0,
    ignore: frozenset[str] = VOLATILE_PAYLOAD_KEYS,
) -> list[Divergence]:
    """Every divergence of ``this`` from ``other``, ranked (see the module's docstring)."""
    aligned = align_steps(this, other) if aligned is None else aligned
    label = str(run_field(other.run, "run_id"))[:8]
    found: list[Divergence] = []
    this_end = (_end_of(this) - _origin(this)).total_seconds()
    mine, theirs = tool_calls(this.events_frame), tool_calls(other.events_frame)
    origin = _origin(this)
    own = (_input_values(this), _input_values(other))
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
        found.extend(_call_divergences(row, mine, theirs, origin, this_end, label, ignore, own))
        found.extend(_timing(row, factor, this_end, label))
    found.extend(_order_divergence(aligned, this, other, label))
    mine_status, theirs_status = str(run_field(this.run, "status")), str(run_field(other.run, "status"))
    if mine_status != theirs_status and not any(d.kind == "status" for d in found):
        at = (_end_of(this) - _origin(this)).total_seconds()
        text = f"The run {mine_status} here but {theirs_status} in run {label}."
        found.append(Divergence("status", None, at, text, {"status": mine_status}, {"status": theirs_status}))
    rank = {kind: i for i, kind in enumerate(DIVERGENCE_KINDS)}
    return sorted(found, key=lambda d: (rank[d.kind], *_weight(d)))


def _weight(divergence: Divergence) -> tuple[float, float]:
    """Within a kind: timing by how much slower (a step far slower than usual explains more
    than one a little faster), the others by when they happened."""
    if divergence.kind == "timing":
        return (-float(divergence.delta.get("delta_s", 0.0)), divergence.at_s)
    return (0.0, divergence.at_s)


def _end_of(trace: RunLike) -> pd.Timestamp:
    end = utc(run_field(trace.run, "finished_at"))
    if end is not None:
        return end
    times = [trace.steps_frame["completed_at"].max(), trace.events_frame["timestamp"].max()]
    valid = [t for t in times if not pd.isna(t)]
    return max(valid) if valid else _origin(trace)


def _call_divergences(
    row: Any,
    mine: pd.DataFrame,
    theirs: pd.DataFrame,
    origin: pd.Timestamp,
    this_end: float,
    label: str,
    ignore: frozenset[str],
    own: tuple[set[str], set[str]],
) -> list[Divergence]:
    name = _name(row)
    a = mine[mine["step_id"] == row.step_id].reset_index(drop=True)
    b = theirs[theirs["step_id"] == row.step_id].reset_index(drop=True)
    found = []
    way_a, way_b = _way(a["tool"]), _way(b["tool"])
    if way_a != way_b:
        keys_a = [tool_key(t) for t in a["tool"]]
        first = next((i for i, (x, y) in enumerate(zip(way_a, way_b, strict=False)) if x != y), None)
        differing = (
            way_a[first] if first is not None else (way_a[len(way_b)] if len(way_a) > len(way_b) else None)
        )
        index = keys_a.index(differing) if differing in keys_a else len(a)
        at = (
            (a["called_at"].iat[index] - origin).total_seconds()
            if index < len(a)
            else _end(row, "", this_end)
        )
        tools_a, tools_b = list(dict.fromkeys(a["tool"])), list(dict.fromkeys(b["tool"]))
        text = (
            f"Step {name} called {', '.join(tools_a) or 'no tool'} here but "
            f"{', '.join(tools_b) or 'no tool'} in run {label} ({len(a)} calls vs {len(b)})."
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
        if tool_key(x["tool"]) != tool_key(y["tool"]):
            break
        args_x = _compared(x["arguments"], x["tool"], ignore, own[0])
        args_y = _compared(y["arguments"], y["tool"], ignore, own[1])
        if args_x and args_y and args_x != args_y:  # a call told by its summary only has none to compare
            changed = sorted(k for k in {*args_x, *args_y} if args_x.get(k) != args_y.get(k))
            keys = ", ".join(changed[:5])
            text = f"Step {name} called {x['tool']} with different arguments ({keys}) than in run {label}."
            found.append(
                Divergence(
                    "payload",
                    row.step_id,
                    (x["called_at"] - origin).total_seconds(),
                    text,
                    {k: args_x.get(k) for k in changed},
                    {k: args_y.get(k) for k in changed},
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
    this: RunLike,
    other: RunLike,
    aligned: pd.DataFrame | None = None,
    *,
    factor: float = 2.0,
    ignore: frozenset[str] = VOLATILE_PAYLOAD_KEYS,
) -> Divergence | None:
    """The first of :func:`divergences` (what explains most of the difference), or None
    when the runs do not differ."""
    found = divergences(this, other, aligned, factor=factor, ignore=ignore)
    return found[0] if found else None
