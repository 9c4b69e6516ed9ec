"""Tool calls read from a run's events: each ``tool_call`` with its result, whether it failed,
and which calls are repeated attempts of the same tool inside a step.

The tool a call names is read from its payload (``tool``, ``tool_name``, ``name``, an
OpenAI-style ``function.name``, an MCP-style ``params.name``), else from its summary
("Calling flights.search (page 2)" names ``flights.search``). A call's result is the
``tool_result`` of the same step that names the same call id (``request_id``; an OpenAI
``tool_call_id`` or an MCP ``id``), else the first unclaimed result of the same step and
tool after it, else (a result naming no tool it can be matched by) the step's oldest call
waiting for one. A call failed when its result says so (``ok: false``, an HTTP ``status`` of
400 or more, an ``error``, an MCP ``isError``; the outcome keeps the error's text), or, with
no result, when an ``error`` event of its step follows it before the tool is called again.
A call right after a failed call of the same tool in the same step is a retry: its
``attempt`` is one more than that call's. A call followed by another call of the same tool
before any result counts as failed ("no result"). ``ended_at`` is the moment of the call's
own result or error, missing when it had none.

``by_run=True`` reads the events of many runs at once (a fleet's events frame, or a history's
events): each run is read on its own, as above, and the calls carry their ``run_id``.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import orjson
import pandas as pd

from ..frames._jsontext import json_objects
from ..types import EventType

__all__ = ["CALL_COLUMNS", "VOLATILE_KEYS", "CallLog", "call_arguments", "tool_calls", "tool_name"]

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
# the kinds of events read, as plain strings (a StrEnum member's lookup costs more than a compare)
_TOOL_CALL, _TOOL_RESULT, _ERROR = (
    str(kind) for kind in (EventType.TOOL_CALL, EventType.TOOL_RESULT, EventType.ERROR)
)
_KINDS = [_TOOL_CALL, _TOOL_RESULT, _ERROR]
# the ids that tie a call to its result, in the order they are looked for
_CALL_KEYS, _RESULT_KEYS = ("request_id", "id"), ("request_id", "tool_call_id", "id")
# what a call's row holds, in order (CallLog.rows): its run, the columns but its attempt, and
# when the same tool was next called in its step
_STORED = ["run_id", *(name for name in CALL_COLUMNS if name != "attempt"), "again_at"]
(
    _RUN_ID,
    _STEP_ID,
    _TOOL,
    _CALL_ID,
    _CALLED_AT,
    _RESULT_ID,
    _ENDED_AT,
    _FAILED,
    _OUTCOME,
    _ARGUMENTS,
    _AGAIN_AT,
) = range(len(_STORED))
# Keys of a call's payload that differ between any two runs: left out when calls are compared.
VOLATILE_KEYS = frozenset(
    {"request_id", "attempt", "latency_ms", "timestamp", "trace_id", "span_id", "idempotency_key"}
)


_SUMMARY_VERB = re.compile(r"^(?:calling|called|call|retrying|invoking|running|using)\s+", re.IGNORECASE)
_SUMMARY_TAIL = re.compile(r"\s*(?:\(.*\)|:.*|\s(?:returned|answered|failed|succeeded|timed out)\b.*)$")


def _named(payload: dict[str, Any]) -> str | None:
    """The tool a payload names, if it names one."""
    for key in ("tool", "tool_name", "name"):
        value = payload.get(key)
        if isinstance(value, str) and value:
            return value
    for key in ("function", "params"):  # OpenAI tool calls; MCP tools/call requests
        inner = payload.get(key)
        if isinstance(inner, dict) and isinstance(inner.get("name"), str) and inner["name"]:
            return str(inner["name"])
    return None


def tool_name(payload: dict[str, Any], summary: Any) -> str:
    """The tool a call or result names: its payload's (see the module's docstring), else the
    name its summary gives ("Calling X (page 2)", "X returned": ``X``)."""
    named = _named(payload)
    return named if named is not None else _told(summary)


def _told(summary: Any) -> str:
    """The tool a summary names ("?" when it names none)."""
    if not isinstance(summary, str) or not summary.strip():
        return "?"
    text = _SUMMARY_TAIL.sub("", _SUMMARY_VERB.sub("", summary.strip()))
    return text or summary.strip()


def _call_key(payload: dict[str, Any], keys: tuple[str, ...]) -> Any:
    """The id that ties a call to its result (None: none): the first of ``keys`` the payload has."""
    for key in keys:
        value = payload.get(key)
        if isinstance(value, str | int) and not isinstance(value, bool):
            return value
    return None


def call_arguments(payload: dict[str, Any]) -> dict[str, Any]:
    """A call's arguments: an OpenAI ``function.arguments`` (JSON text) or an MCP
    ``params.arguments`` when the call has them, else its payload without the keys that
    differ between any two runs (:data:`VOLATILE_KEYS`)."""
    for key in ("function", "params"):
        inner = payload.get(key)
        if isinstance(inner, dict) and "arguments" in inner:
            given = inner["arguments"]
            if isinstance(given, str):
                try:
                    given = orjson.loads(given)
                except orjson.JSONDecodeError:
                    return {"arguments": given}
            return dict(given) if isinstance(given, dict) else {"arguments": given}
    return {key: value for key, value in payload.items() if key not in VOLATILE_KEYS}


def _failure(payload: dict[str, Any], summary: Any) -> str | None:
    """Why a result says its call failed (its status and error text), or None."""
    status = payload.get("status")
    bad_status = isinstance(status, int) and not isinstance(status, bool) and status >= 400
    inner = payload.get("result")
    mcp_error = isinstance(inner, dict) and inner.get("isError") is True
    error = payload.get("error")
    if not (payload.get("ok") is False or bad_status or mcp_error or error):
        if payload or not isinstance(summary, str) or not _SAYS_FAILED.search(summary):
            return None
        return summary[:120]  # a result told by its summary only
    # a ``message`` says why only when the result says it failed ("Message queued" is no failure)
    error = error or payload.get("message")
    parts = [f"status {status}"] if status is not None else []
    if error:
        parts.append(str(error) if not isinstance(error, dict) else str(error.get("message", error)))
    text = ": ".join(parts) or ("error" if mcp_error else "ok: false")
    return text[:120]


_SAYS_FAILED = re.compile(r"\b(?:failed|error|timed out)\b", re.IGNORECASE)


def tool_calls(events: pd.DataFrame, *, arguments: bool = True, by_run: bool = False) -> pd.DataFrame:
    """One row per ``tool_call`` event, in time order (see the module's docstring);
    ``arguments=False`` leaves the ``arguments`` column empty (None), for callers that
    do not read it. ``by_run``: the events of many runs, read run by run (ordered by run,
    then time), with a ``run_id`` column first."""
    calls = CallLog(arguments=arguments)
    calls.feed(events, by_run=by_run)
    frame = calls.frame(with_run=True)
    return frame if by_run else frame[CALL_COLUMNS]


class CallLog:
    """:func:`tool_calls` of a run's events as they arrive: :meth:`feed` reads only the events
    it is given, which must come after those fed before (see :meth:`follows`)."""

    def __init__(self, *, arguments: bool = True) -> None:
        self.arguments = arguments
        # the calls read, one list each: the values of _STORED (``called_at``, ``ended_at`` and
        # ``again_at``, the same tool's next call in the step, are positions of events read; -1: none)
        self.rows: list[list[Any]] = []
        self._stamps: list[Any] = []  # the times of the events read, in parts (rows hold positions)
        self._read_count = 0
        self._newest: Any = pd.NaT  # the newest time read
        self.open_calls: dict[tuple[Any, str], int] = {}  # (step, tool) -> its row waiting for a result
        self.step_tools: dict[Any, set[str]] = {}  # step -> the tools it has called (keys of open_calls)
        self.by_request: dict[tuple[Any, Any], int] = {}
        self.last_call: dict[tuple[Any, str], int] = {}  # (step, tool) -> its latest call's row
        self.run: Any = None  # the run whose events are being read (by_run)
        self._failures = 0  # counts the changes to failed calls (failed() is kept until the next)
        self._failed: tuple[int, pd.DataFrame] | None = None

    def follows(self, events: pd.DataFrame) -> bool:
        """Whether ``events`` (more events of the run) may be fed after those fed: none of
        them is older than the newest event read."""
        if not self._read_count or events.empty:
            return True
        oldest, newest = events["timestamp"].min(), self._newest
        return bool(pd.isna(oldest) or pd.isna(newest) or oldest >= newest)

    def feed(self, events: pd.DataFrame, *, by_run: bool = False) -> None:
        """Read ``events`` (an events frame; only its calls, results and errors are read);
        ``by_run``: the events of many runs (see :func:`tool_calls`)."""
        kinds = events["type"].isin(_KINDS).to_numpy()
        if by_run:  # only the columns read: a frame's others are wide
            source = events.loc[kinds, [*_READ, "run_id"]].sort_values(["run_id", "timestamp"], kind="stable")
            rows = np.arange(len(source))
        else:  # one run: no frame of the rows read (for a few new events, that frame cost the most)
            source, rows = events, _time_order(events["timestamp"], np.flatnonzero(kinds))
        runs = _taken(source["run_id"].astype(object), rows) if by_run else [None] * len(rows)
        stamps = source["timestamp"].array.take(rows)
        offset = self._read_count
        self._stamps.append(stamps)
        self._read_count += len(stamps)
        newest = events["timestamp"].max()
        if not pd.isna(newest) and (pd.isna(self._newest) or newest > self._newest):
            self._newest = newest
        read = {_TOOL_CALL: self._read_call, _TOOL_RESULT: self._read_result, _ERROR: self._read_error}
        for event_id, kind, step, when, summary, payload, run in zip(
            _taken(source["event_id"], rows),
            _kind_names(source["type"], rows),
            _taken(source["step_id"], rows, None),
            range(offset, offset + len(stamps)),  # positions: the times are taken at the end
            _taken(source["summary"], rows),
            json_objects(_taken(source["payload"], rows)),
            runs,
            strict=True,
        ):
            if run != self.run:  # the next run's events: nothing of the last one is waiting any more
                self.run = run
                self.open_calls, self.step_tools, self.by_request, self.last_call = {}, {}, {}, {}
            read[kind](event_id, step, when, summary, payload)

    def _fail(self, row: list[Any], outcome: str, when: int = -1) -> None:
        """Mark a call failed with ``outcome`` (ended at ``when`` unless -1), unless it is already."""
        if not row[_FAILED]:
            row[_FAILED], row[_OUTCOME] = True, outcome
            if when != -1:
                row[_ENDED_AT] = when
            self._failures += 1

    def _read_error(self, event_id: Any, step: Any, when: int, summary: Any, payload: dict[str, Any]) -> None:
        """An error: the step's calls waiting for a result failed with it."""
        for waiting_tool in self.step_tools.get(step, ()):
            waiting = self.open_calls.get((step, waiting_tool))
            if waiting is not None:
                self._fail(self.rows[waiting], str(summary)[:120], when)

    def _read_call(self, event_id: Any, step: Any, when: int, summary: Any, payload: dict[str, Any]) -> None:
        """A call: a new row; the same tool's call still waiting in the step got no result."""
        rows = self.rows
        named = _named(payload)
        tool = named if named is not None else _told(summary)
        abandoned = self.open_calls.get((step, tool))
        if abandoned is not None:  # called again before answering
            self._fail(rows[abandoned], "no result before the next call")
        arguments = call_arguments(payload) if self.arguments else None
        row = len(rows)
        rows.append([self.run, step, tool, event_id, when, None, -1, False, "", arguments, -1])
        previous = self.last_call.get((step, tool))
        if previous is not None:
            rows[previous][_AGAIN_AT] = when  # called again: where an unanswered call ends
            self._failures += rows[previous][_FAILED]
        self.last_call[(step, tool)] = self.open_calls[(step, tool)] = row
        tools = self.step_tools.get(step)
        if tools is None:
            self.step_tools[step] = {tool}
        else:
            tools.add(tool)
        key = _call_key(payload, _CALL_KEYS)
        if key is not None:
            self.by_request[(step, key)] = row

    def _read_result(
        self, event_id: Any, step: Any, when: int, summary: Any, payload: dict[str, Any]
    ) -> None:
        """A result: the outcome of its call (by the call's id, else by tool, else, naming no
        tool, the step's oldest call waiting for one)."""
        open_calls = self.open_calls
        key = _call_key(payload, _RESULT_KEYS)
        match = self.by_request.pop((step, key), None) if key is not None else None
        if match is None:
            named = _named(payload)
            match = open_calls.get((step, named if named is not None else _told(summary)))
            if match is None and named is None:
                waiting = [open_calls.get((step, tool)) for tool in self.step_tools.get(step, ())]
                match = min((row for row in waiting if row is not None), default=None)
        if match is None or self.rows[match][_RESULT_ID] is not None:
            return
        call = self.rows[match]
        if open_calls.get((step, call[_TOOL])) == match:
            del open_calls[(step, call[_TOOL])]
        reason = _failure(payload, summary)
        call[_RESULT_ID] = event_id
        if call[_ENDED_AT] == -1:
            call[_ENDED_AT] = when
        call[_FAILED] = call[_FAILED] or reason is not None
        call[_OUTCOME] = reason or call[_OUTCOME] or "ok"
        self._failures += call[_FAILED]

    def frame(self, *, with_run: bool = False) -> pd.DataFrame:
        """The calls read so far, as :func:`tool_calls` gives them (``with_run``: with a
        ``run_id`` column first)."""
        columns = ["run_id", *CALL_COLUMNS] if with_run else CALL_COLUMNS
        return self._frame(self.rows, _attempts(self.rows))[columns]

    def failed(self) -> pd.DataFrame:
        """The failed calls read so far (the columns of :func:`tool_calls`, and ``called_again``:
        when the same tool was next called in the step, missing if it was not). Made again only
        when a failed call was added or changed since the last time."""
        if self._failed is not None and self._failed[0] == self._failures:
            return self._failed[1].copy()
        frame = self._failed_frame()
        self._failed = (self._failures, frame)
        return frame.copy()

    def _failed_frame(self) -> pd.DataFrame:
        attempts = _attempts(self.rows)
        chosen = [position for position, row in enumerate(self.rows) if row[_FAILED]]
        rows = [self.rows[p] for p in chosen]
        return self._frame(rows, [attempts[p] for p in chosen], again=True)

    def _frame(self, rows: list[list[Any]], attempts: list[int], *, again: bool = False) -> pd.DataFrame:
        """A frame of ``rows`` (the ``run_id`` and :data:`CALL_COLUMNS`; ``again``: and
        ``called_again``), made in one go."""
        stored = dict(zip(_STORED, map(list, zip(*rows, strict=True)), strict=True)) if rows else {}
        names = ["run_id", *(c for c in CALL_COLUMNS if c not in ("attempt", "called_at", "ended_at"))]
        columns: dict[str, Any] = {name: stored.get(name, []) for name in names}
        columns["failed"] = np.array(columns["failed"], dtype=bool)
        columns["called_at"] = self._times(stored.get("called_at", []))
        columns["ended_at"] = self._times(stored.get("ended_at", []))
        columns["attempt"] = np.array(attempts, dtype="int64")
        if again:
            columns["called_again"] = self._times(stored.get("again_at", []))
        return pd.DataFrame(columns)

    def _times(self, positions: list[int]) -> Any:
        """The times of the events read at ``positions`` (-1: missing)."""
        if not self._stamps:
            return pd.array([pd.NaT] * len(positions), dtype="datetime64[us, UTC]")
        if len(self._stamps) > 1:  # one array of them all, kept for the next frame
            self._stamps = [pd.concat([pd.Series(part) for part in self._stamps], ignore_index=True).array]
        return self._stamps[0].take(np.asarray(positions, dtype="int64"), allow_fill=True)


def _time_order(times: pd.Series, rows: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    """``rows`` (positions in ``times``) ordered by their time, as a stable sort puts them
    (missing times last)."""
    chosen = times.to_numpy(dtype="datetime64[us]")[rows]
    return rows[np.lexsort((chosen.view("int64"), np.isnat(chosen)))]


def _taken(column: pd.Series, rows: np.ndarray[Any, Any], missing: Any = pd.NA) -> list[Any]:
    """:func:`~missionlab.frames._columns.python_values` of ``column``'s ``rows``."""
    values: list[Any] = column.to_numpy(dtype=object, na_value=missing)[rows].tolist()
    return values


def _kind_names(column: pd.Series, rows: np.ndarray[Any, Any]) -> list[str]:
    """The event types at ``rows`` as strings (a categorical column's from its codes)."""
    if isinstance(column.dtype, pd.CategoricalDtype):
        names = np.asarray([str(kind) for kind in column.cat.categories], dtype=object)
        return list(names[column.cat.codes.to_numpy()[rows]])
    return _taken(column.astype(str), rows)


def _attempts(rows: list[list[Any]]) -> list[int]:
    attempts: list[int] = []
    last: dict[tuple[Any, Any, str], tuple[int, bool]] = {}
    for row in rows:
        key = (row[_RUN_ID], row[_STEP_ID], row[_TOOL])
        previous = last.get(key)
        attempt = previous[0] + 1 if previous is not None and previous[1] else 1
        last[key] = (attempt, bool(row[_FAILED]))
        attempts.append(attempt)
    return attempts
