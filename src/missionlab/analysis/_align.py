"""Two runs side by side: their steps aligned by step id, their tool calls by position inside
each step, and the first point where they diverge.

Each kind of difference is placed at the moment it shows in the first run (seconds since
its start): a step in one plan only at that step's start; a different status at the end
of the step (a step that failed in this run only, in one plan only or not, is a status
divergence); steps run in another order at the start of the step that moved; a different
tool sequence at the first call that differs; the same call (tool and arguments) answered
with success twice as often and ``MORE_CALLS`` times more (a loop) at its first call too
many; different call arguments at that call, a
different final outcome of a tool (its last call in the step) at its result; a step
``factor`` times slower when it had run ``factor`` times the other's duration, a faster
one at its end. The first divergence is the most telling of them: by kind (status, plan,
tools, timing, payload), the failure this run's failure started in (:func:`._signature.failure_origin`)
before the other statuses (what was skipped after it is a consequence), then the earliest.

Order is only read between steps (or calls) that ran one before the other: work run side
by side (:mod:`._parallel`) has no order, and calls that ran side by side are taken in the
order of their tools' names (a call with no result counts as an instant). Arguments are
compared without the keys that differ between any runs: ``VOLATILE_PAYLOAD_KEYS`` and keys
ending in ``_id`` or ``_at``, at any depth and in any spelling (``requestId``, ``sentAt``);
a text equal to one of the run's own input values stands for that input field (so runs of
other inputs agree, and swapped arguments do not), under any key, a volatile one too (a
``customer_id`` taken from the input is what the run was asked to act on: another
customer's id there is a divergence), and numbers equal to nine significant
digits are equal (0.1 + 0.2 and 0.3). Differences healthy runs show too are *variance*:
listed last in :func:`divergences`, never the first divergence: a failed call retried with
success where the other run's call succeeded at once (or the reverse).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ..frames._durations import duration_text
from ..frames._runlike import RunLike
from ..frames._runlike import field as run_field
from ._attempts import Ended, tool_calls
from ._evidence import utc
from ._parallel import batches, done_by
from ._signature import failure_origin, final_failures

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
#: too, at any depth, in snake_case or camelCase (see the module's docstring).
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
MORE_CALLS = 3  # the same call made twice as often, and at least this many times more, is a loop


@dataclass(frozen=True)
class Divergence:
    """Where two runs differ: ``kind``, the step, the moment (``at_s``, seconds since this
    run's start), a sentence, each run's values and their ``delta``, the event ids it rests
    on in this run (``events``) and in the other (``other_events``), and whether it is
    ``variance`` (see the module's docstring)."""

    kind: str
    step_id: str | None
    at_s: float
    text: str
    this: dict[str, Any] = field(default_factory=dict)
    other: dict[str, Any] = field(default_factory=dict)
    delta: dict[str, Any] = field(default_factory=dict)
    events: tuple[str, ...] = ()
    other_events: tuple[str, ...] = ()
    #: A difference healthy runs show too (a failed call retried with success): listed, never first.
    variance: bool = False


def _origin(trace: RunLike) -> pd.Timestamp:
    start = utc(run_field(trace.run, "started_at"))
    if start is not None:
        return start
    candidates = [trace.steps_frame["started_at"].min(), trace.events_frame["timestamp"].min()]
    return min(c for c in candidates if not pd.isna(c))


def _tool_calls(trace: RunLike) -> pd.DataFrame:
    """A run's tool calls, those given up for another still waiting while their step is open."""
    return tool_calls(trace.events_frame, ended=Ended.of(trace.run, trace.steps_frame))


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


def _way(keys: list[str]) -> list[str]:
    """A step's tools (their keys, in the order compared), a tool called several times in a
    row once."""
    return [k for i, k in enumerate(keys) if i == 0 or keys[i - 1] != k]


def _calls_by_step(calls: pd.DataFrame, origin: pd.Timestamp) -> dict[Any, list[dict[str, Any]]]:
    """Each step's calls (a record each) in the order compared: in time order, those that ran
    side by side (:func:`._parallel.batches`; a call with no result an instant) by their
    tools' keys; ``final``: failed, and the last call of its tool in its step."""
    start = (calls["called_at"] - origin).dt.total_seconds().to_numpy(dtype="float64", na_value=np.nan)
    end = (calls["ended_at"] - origin).dt.total_seconds().to_numpy(dtype="float64", na_value=np.nan)
    keys = [tool_key(t) for t in calls["tool"]]
    final = final_failures(calls.assign(tool=keys)).to_numpy(dtype=bool)
    by_step: dict[Any, list[dict[str, Any]]] = {}
    columns = ("step_id", "tool", "call_id", "result_id", "failed", "outcome", "arguments")
    for i, values in enumerate(zip(*(calls[c].tolist() for c in columns), strict=True)):
        call = dict(zip(columns, values, strict=True))
        call.update(key=keys[i], start=start[i], end=end[i], failed=bool(call["failed"]), final=final[i])
        by_step.setdefault(call["step_id"], []).append(call)
    for step, found in by_step.items():
        begun = [c["start"] for c in found]
        batch = batches(
            begun, [b if np.isnan(c["end"]) else c["end"] for b, c in zip(begun, found, strict=True)]
        )
        order = sorted(range(len(found)), key=lambda i: (batch[i], found[i]["key"]))
        by_step[step] = [found[i] for i in order]
    return by_step


@dataclass(frozen=True)
class _FromInput:
    """An argument equal to one of the run's input values: the input fields it may come from."""

    fields: frozenset[str]


def _input_fields(trace: RunLike) -> dict[str, frozenset[str]]:
    """Each text input value of the run, with the input fields holding it."""
    given = run_field(trace.run, "input")
    found: dict[str, set[str]] = {}
    for key, value in given.items() if isinstance(given, dict) else ():
        if isinstance(value, str) and value:
            found.setdefault(value, set()).add(str(key))
    return {value: frozenset(keys) for value, keys in found.items()}


_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")


def _volatile(key: Any, ignore: frozenset[str]) -> bool:
    """Whether a payload key is left out: named in ``ignore``, or ending in ``_id`` or ``_at``,
    as written or in snake_case (``requestId``: ``request_id``)."""
    name = _CAMEL.sub("_", str(key)).lower()
    return key in ignore or name in ignore or name.endswith(("_id", "_at"))


def _left_out(key: Any, value: Any, ignore: frozenset[str], own: dict[str, frozenset[str]]) -> bool:
    """Whether a payload entry is left out of the comparison: a volatile key, unless its value
    is one of the run's own input values (compared as the input field it comes from)."""
    return _volatile(key, ignore) and not (isinstance(value, str) and value in own)


def _kept(value: Any, ignore: frozenset[str], own: dict[str, frozenset[str]]) -> Any:
    """A value as compared: without volatile keys at any depth (but those holding an input
    value), the run's own input values replaced by the input fields they come from."""
    if isinstance(value, dict):
        return {k: _kept(v, ignore, own) for k, v in value.items() if not _left_out(k, v, ignore, own)}
    if isinstance(value, list | tuple):
        return [_kept(v, ignore, own) for v in value]
    if isinstance(value, str) and value in own:
        return _FromInput(own[value])
    return value


def _compared(
    arguments: Any, tool: Any, ignore: frozenset[str], own: dict[str, frozenset[str]]
) -> dict[str, Any]:
    """A call's arguments as compared (see the module's docstring), the tool's own name
    (compared as the tools) left out."""
    if not isinstance(arguments, dict):
        return {}
    return {
        key: _kept(value, ignore, own)
        for key, value in arguments.items()
        if not _left_out(key, value, ignore, own) and value != tool
    }


_ABSENT = object()


def _same(a: Any, b: Any) -> bool:
    """Whether two compared values agree: numbers to nine significant digits, a value from
    the input where both may come from the same input field."""
    if isinstance(a, _FromInput) or isinstance(b, _FromInput):
        return isinstance(a, _FromInput) and isinstance(b, _FromInput) and bool(a.fields & b.fields)
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    numbers = (int, float)
    if (
        isinstance(a, numbers)
        and isinstance(b, numbers)
        and not isinstance(a, bool)
        and not isinstance(b, bool)
    ):
        return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)
    return bool(a == b)


def _order_divergence(aligned: pd.DataFrame, this: RunLike, label: str) -> list[Divergence]:
    """A step that ran before a sibling here but after it in the other run (each run one
    before the other, :func:`._parallel.done_by`): the earliest such step here."""
    both = aligned[aligned["in_this"] & aligned["in_other"] & aligned["start_s"].notna()]
    both = both[both["start_s_other"].notna()]
    parents = dict(
        zip(this.steps_frame["step_id"].astype(str), this.steps_frame["parent_step_id"], strict=True)
    )
    found = []
    for _, group in both.groupby(
        both["step_id"].map(lambda s: parents.get(s) if isinstance(parents.get(s), str) else ""), sort=False
    ):
        if len(group) < 2:
            continue
        here, there = (
            group["start_s"].to_numpy(dtype="float64"),
            group["start_s_other"].to_numpy(dtype="float64"),
        )
        # before_here[i, j]: step i ran before step j here; before_there[j, i]: j before i there
        before_here = done_by(here, group["end_s"].to_numpy(dtype="float64"))[:, None] <= here[None, :]
        before_there = (
            done_by(there, group["end_s_other"].to_numpy(dtype="float64"))[:, None] <= there[None, :]
        )
        swapped = before_here & before_there.T
        if not swapped.any():
            continue
        movers = np.flatnonzero(swapped.any(axis=1))
        mover = movers[np.argmin(here[movers])]
        partners = np.flatnonzero(swapped[mover])
        passed = partners[np.argmin(there[partners])]
        ids = group["step_id"].tolist()
        row = group.iloc[mover]
        name = f"'{row['description']}'" if isinstance(row["description"], str) else f"'{ids[mover]}'"
        text = f"Step {name} ran before '{ids[passed]}' here, after it in run {label}."
        order_here = [ids[i] for i in np.argsort(here, kind="stable")]
        order_there = [ids[i] for i in np.argsort(there, kind="stable")]
        found.append(
            Divergence(
                "plan", ids[mover], float(here[mover]), text, {"order": order_here}, {"order": order_there}
            )
        )
    return found


def divergences(
    this: RunLike,
    other: RunLike,
    aligned: pd.DataFrame | None = None,
    *,
    factor: float = 2.0,
    ignore: frozenset[str] = VOLATILE_PAYLOAD_KEYS,
) -> list[Divergence]:
    """Every divergence of ``this`` from ``other``, ranked (see the module's docstring):
    variance last."""
    aligned = align_steps(this, other) if aligned is None else aligned
    label = str(run_field(other.run, "run_id"))[:8]
    found: list[Divergence] = []
    this_end = (_end_of(this) - _origin(this)).total_seconds()
    mine = _calls_by_step(_tool_calls(this), _origin(this))
    theirs = _calls_by_step(_tool_calls(other), _origin(other))
    own = (_input_fields(this), _input_fields(other))
    row: Any
    for row in aligned.itertuples(index=False):
        name = _name(row)
        if not row.in_this or not row.in_other:
            where = "this run's plan" if row.in_this else f"the plan of run {label}"
            start = row.start_s if row.in_this else row.start_s_other
            at = this_end if pd.isna(start) else float(start)
            found.append(Divergence("plan", row.step_id, at, f"Step {name} is only in {where}."))
            if row.in_this and row.status == "failed":
                text = f"Step {name} failed here; the plan of run {label} has no such step."
                found.append(
                    Divergence("status", row.step_id, _end(row, "", this_end), text, {"status": "failed"})
                )
            continue
        if row.status != row.status_other:
            text = f"Step {name} {row.status} here but {row.status_other} in run {label}."
            values = ({"status": row.status}, {"status": row.status_other})
            found.append(Divergence("status", row.step_id, _end(row, "", this_end), text, *values))
        calls = mine.get(row.step_id, []), theirs.get(row.step_id, [])
        found.extend(_call_divergences(row, *calls, this_end, label, ignore, own))
        found.extend(_timing(row, factor, this_end, label))
    found.extend(_order_divergence(aligned, this, label))
    mine_status, theirs_status = str(run_field(this.run, "status")), str(run_field(other.run, "status"))
    if mine_status != theirs_status and not any(d.kind == "status" for d in found):
        at = (_end_of(this) - _origin(this)).total_seconds()
        text = f"The run {mine_status} here but {theirs_status} in run {label}."
        found.append(Divergence("status", None, at, text, {"status": mine_status}, {"status": theirs_status}))
    steps = this.steps_frame
    started_in = failure_origin(
        zip(
            steps["step_id"].astype(str),
            steps["parent_step_id"].astype(object),
            steps["status"].astype(str),
            steps["completed_at"],
            strict=True,
        )
    )
    rank = {kind: i for i, kind in enumerate(DIVERGENCE_KINDS)}
    return sorted(
        found,
        key=lambda d: (
            d.variance,
            rank[d.kind],
            not (d.kind == "status" and started_in is not None and d.step_id == started_in),
            *_weight(d),
        ),
    )


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


def _call_ids(call: dict[str, Any]) -> tuple[str, ...]:
    return tuple(str(v) for v in (call["call_id"], call["result_id"]) if isinstance(v, str))


def _ended(call: dict[str, Any]) -> float:
    return float(call["start"] if np.isnan(call["end"]) else call["end"])


def _said(call: dict[str, Any], retried: bool) -> str:
    if not call["failed"]:
        return "succeeded"
    return (
        f"failed ({call['outcome']}) and was retried with success"
        if retried
        else f"failed ({call['outcome']})"
    )


Calls = list[dict[str, Any]]
Inputs = tuple[dict[str, frozenset[str]], dict[str, frozenset[str]]]


def _call_divergences(
    row: Any, a: Calls, b: Calls, this_end: float, label: str, ignore: frozenset[str], own: Inputs
) -> list[Divergence]:
    """The divergences of one step's calls (each run's, in the order compared)."""
    name = _name(row)
    found = []
    keys_a, keys_b = [c["key"] for c in a], [c["key"] for c in b]
    way_a, way_b = _way(keys_a), _way(keys_b)
    if way_a != way_b:
        first = next((i for i, (x, y) in enumerate(zip(way_a, way_b, strict=False)) if x != y), None)
        differing = (
            way_a[first] if first is not None else (way_a[len(way_b)] if len(way_a) > len(way_b) else None)
        )
        index = keys_a.index(differing) if differing in keys_a else len(a)
        at = float(a[index]["start"]) if index < len(a) else _end(row, "", this_end)
        tools_a, tools_b = (
            list(dict.fromkeys(c["tool"] for c in a)),
            list(dict.fromkeys(c["tool"] for c in b)),
        )
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
                {"tools": [c["tool"] for c in a]},
                {"tools": [c["tool"] for c in b]},
                {"calls": len(a) - len(b), "first_different_call": index},
                tuple(c["call_id"] for c in a[index : index + 1]),
                tuple(c["call_id"] for c in b[index : index + 1]),
            )
        )
    found.extend(_repeated(a, b, name, label, ignore, own, row.step_id))
    for x, y in zip(a, b, strict=False):
        if x["key"] != y["key"]:
            break
        args_x = _compared(x["arguments"], x["tool"], ignore, own[0])
        args_y = _compared(y["arguments"], y["tool"], ignore, own[1])
        if args_x and args_y and not _same(args_x, args_y):  # a call told by its summary only has none
            changed = sorted(
                k for k in {*args_x, *args_y} if not _same(args_x.get(k, _ABSENT), args_y.get(k, _ABSENT))
            )
            keys = ", ".join(changed[:5])
            text = f"Step {name} called {x['tool']} with different arguments ({keys}) than in run {label}."
            raw_x = x["arguments"] if isinstance(x["arguments"], dict) else {}
            raw_y = y["arguments"] if isinstance(y["arguments"], dict) else {}
            found.append(
                Divergence(
                    "payload",
                    row.step_id,
                    float(x["start"]),
                    text,
                    {k: raw_x.get(k) for k in changed},
                    {k: raw_y.get(k) for k in changed},
                    {"keys": changed},
                    (str(x["call_id"]),),
                    (str(y["call_id"]),),
                )
            )
        # a tool's outcome is its last call's in the step; a failure retried with success is variance
        retried = x["failed"] and not x["final"], y["failed"] and not y["final"]
        if x["failed"] != y["failed"] and (retried[0] or retried[1]):
            text = (
                f"In step {name}, {x['tool']} {_said(x, retried[0])} here but {_said(y, retried[1])} "
                f"in run {label}."
            )
            found.append(_outcome(row.step_id, _ended(x), text, x, y, variance=True))
    last_a, last_b = {c["key"]: c for c in a}, {c["key"]: c for c in b}
    for key in [k for k in last_a if k in last_b]:
        x, y = last_a[key], last_b[key]
        if x["failed"] != y["failed"]:
            text = f"In step {name}, {x['tool']} {_said(x, False)} here but {_said(y, False)} in run {label}."
            found.append(_outcome(row.step_id, _ended(x), text, x, y, variance=False))
    return found


def _print(value: Any) -> Any:
    """A compared value as a key: hashable, numbers to nine significant digits."""
    if isinstance(value, dict):
        return tuple(sorted((str(k), _print(v)) for k, v in value.items()))
    if isinstance(value, list):
        return tuple(_print(v) for v in value)
    if isinstance(value, _FromInput):
        return ("input", tuple(sorted(value.fields)))
    if isinstance(value, float):
        return float(f"{value:.9g}")
    return value if isinstance(value, str | int | bool | None) else repr(value)


def _same_calls(calls: Calls, ignore: frozenset[str], own: dict[str, frozenset[str]]) -> dict[Any, Calls]:
    """A step's successful calls, by tool and compared arguments."""
    found: dict[Any, Calls] = {}
    for call in calls:
        if not call["failed"]:
            compared = _compared(call["arguments"], call["tool"], ignore, own)
            found.setdefault((call["key"], _print(compared)), []).append(call)
    return found


def _repeated(
    a: Calls, b: Calls, name: str, label: str, ignore: frozenset[str], own: Inputs, step_id: Any
) -> list[Divergence]:
    """The same call (tool and arguments) answered with success at least twice as often in
    one run as in the other, and ``MORE_CALLS`` times more: a loop (paging changes its
    arguments, a retry follows a failure)."""
    mine, theirs = _same_calls(a, ignore, own[0]), _same_calls(b, ignore, own[1])
    found = []
    for key in [k for k in mine if k in theirs]:
        n, m = len(mine[key]), len(theirs[key])
        if max(n, m) >= 2 * min(n, m) and abs(n - m) >= MORE_CALLS:
            x = mine[key][m] if n > m else mine[key][-1]
            text = (
                f"Step {name} called {x['tool']} {n} times with the same arguments here, {m} in run "
                f"{label} ({n} calls vs {m})."
            )
            values = ({"calls": n}, {"calls": m}, {"calls": n - m})
            found.append(Divergence("tools", step_id, float(x["start"]), text, *values, (str(x["call_id"]),)))
    return found


def _outcome(
    step_id: Any, at: float, text: str, x: dict[str, Any], y: dict[str, Any], *, variance: bool
) -> Divergence:
    return Divergence(
        "payload",
        step_id,
        at,
        text,
        {"failed": x["failed"], "outcome": x["outcome"]},
        {"failed": y["failed"], "outcome": y["outcome"]},
        {},
        _call_ids(x),
        _call_ids(y),
        variance=variance,
    )


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
    when the runs do not differ but for variance."""
    found = divergences(this, other, aligned, factor=factor, ignore=ignore)
    return found[0] if found and not found[0].variance else None
