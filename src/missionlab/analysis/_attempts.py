"""Tool calls read from a run's events: each ``tool_call`` with its result, whether it failed,
and which calls are repeated attempts of the same tool inside a step.

A call's result is the ``tool_result`` of the same step that names the same ``request_id``
(when both carry one), else the first unclaimed ``tool_result`` of the same step and tool
after it. A call failed when its result says so (``ok: false``, an HTTP ``status`` of 400
or more, or an ``error``), or, with no result, when an ``error`` event of its step follows
it before the tool is called again. A call right after a failed call of the same tool in
the same step is a retry: its ``attempt`` is one more than that call's. A call followed by
another call of the same tool before any result counts as failed ("no result").
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from ..frames._columns import python_values
from ..frames._jsontext import json_objects
from ..types import EventType

__all__ = ["CALL_COLUMNS", "VOLATILE_KEYS", "call_arguments", "tool_calls", "tool_name"]

CALL_COLUMNS = [
    "step_id",
    "tool",
    "call_id",
    "called_at",
    "result_id",
    "ended_at",
    "failed",
    "outcome",
    "attempt",
    "arguments",
]
_READ = ["event_id", "type", "step_id", "timestamp", "summary", "payload"]
# Keys of a call's payload that differ between any two runs: left out when calls are compared.
VOLATILE_KEYS = frozenset(
    {"request_id", "attempt", "latency_ms", "timestamp", "trace_id", "span_id", "idempotency_key"}
)


def tool_name(payload: dict[str, Any], summary: Any) -> str:
    """The tool a call or result names: its payload's ``tool`` (or ``name``), else its summary."""
    for key in ("tool", "tool_name", "name"):
        value = payload.get(key)
        if isinstance(value, str) and value:
            return value
    return str(summary) if isinstance(summary, str) else "?"


def call_arguments(payload: dict[str, Any]) -> dict[str, Any]:
    """A call's payload without the keys that differ between any two runs."""
    return {key: value for key, value in payload.items() if key not in VOLATILE_KEYS}


def _failure(payload: dict[str, Any]) -> str | None:
    """Why a result says its call failed, or None."""
    if payload.get("ok") is False:
        status = payload.get("status")
        return f"status {status}" if status is not None else "ok: false"
    status = payload.get("status")
    if isinstance(status, int) and not isinstance(status, bool) and status >= 400:
        return f"status {status}"
    if payload.get("error"):
        return str(payload["error"])[:120]
    return None


def tool_calls(events: pd.DataFrame, *, arguments: bool = True) -> pd.DataFrame:
    """One row per ``tool_call`` event, in time order (see the module's docstring);
    ``arguments=False`` leaves the ``arguments`` column empty (None), for callers that
    do not read it."""
    kinds = events["type"].isin([EventType.TOOL_CALL, EventType.TOOL_RESULT, EventType.ERROR])
    relevant = events.loc[kinds.to_numpy(), _READ]  # only the columns read: a frame's others are wide
    relevant = relevant.sort_values("timestamp", kind="stable")
    rows: list[dict[str, Any]] = []
    open_calls: dict[tuple[Any, str], list[int]] = {}  # (step, tool) -> rows without a result
    by_request: dict[tuple[Any, Any], int] = {}
    for event_id, kind, step, when, summary, payload in zip(
        python_values(relevant["event_id"]),
        python_values(relevant["type"].astype(str)),
        python_values(relevant["step_id"], None),
        range(len(relevant)),  # positions: the times are taken at the end, column-wise
        python_values(relevant["summary"]),
        json_objects(python_values(relevant["payload"])),
        strict=True,
    ):
        if kind == EventType.ERROR:
            for waiting in open_calls.values():
                for row in waiting:
                    if rows[row]["step_id"] == step and not rows[row]["failed"]:
                        rows[row].update(failed=True, outcome=str(summary)[:120], ended_at=when)
            continue
        tool = tool_name(payload, summary)
        if kind == EventType.TOOL_CALL:
            for abandoned in open_calls.pop((step, tool), []):  # called again before answering
                if not rows[abandoned]["failed"]:
                    rows[abandoned].update(
                        failed=True, outcome="no result before the next call", ended_at=when
                    )
            row = len(rows)
            rows.append(
                {
                    "step_id": step,
                    "tool": tool,
                    "call_id": event_id,
                    "called_at": when,
                    "result_id": None,
                    "ended_at": -1,
                    "failed": False,
                    "outcome": "",
                    "arguments": call_arguments(payload) if arguments else None,
                }
            )
            open_calls.setdefault((step, tool), []).append(row)
            if payload.get("request_id") is not None:
                by_request[(step, payload["request_id"])] = row
            continue
        request = payload.get("request_id")
        match = by_request.pop((step, request), None) if request is not None else None
        waiting = open_calls.get((step, tool), [])
        if match is None and waiting:
            match = waiting[0]
        if match is None or rows[match]["result_id"] is not None:
            continue
        if match in waiting:
            waiting.remove(match)
        reason = _failure(payload)
        rows[match].update(
            result_id=event_id,
            ended_at=when,
            failed=rows[match]["failed"] or reason is not None,
            outcome=reason or rows[match]["outcome"] or "ok",
        )
    frame = pd.DataFrame(rows, columns=[c for c in CALL_COLUMNS if c != "attempt"])
    if rows:
        stamps = relevant["timestamp"].array
        frame["called_at"] = stamps.take(frame["called_at"].to_numpy(dtype="int64"))
        frame["ended_at"] = stamps.take(frame["ended_at"].to_numpy(dtype="int64"), allow_fill=True)
    frame["attempt"] = _attempts(rows)
    frame["failed"] = frame["failed"].astype(bool)
    return frame[CALL_COLUMNS]


def _attempts(rows: list[dict[str, Any]]) -> list[int]:
    attempts: list[int] = []
    last: dict[tuple[Any, str], tuple[int, bool]] = {}
    for step, tool, failed in ((row["step_id"], row["tool"], row["failed"]) for row in rows):
        previous = last.get((step, tool))
        attempt = previous[0] + 1 if previous is not None and previous[1] else 1
        last[(step, tool)] = (attempt, bool(failed))
        attempts.append(attempt)
    return attempts
