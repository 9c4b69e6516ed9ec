"""Tool calls read from a run's events: each ``tool_call`` with its result, whether it failed,
and which calls are repeated attempts of the same tool inside a step.

The tool a call names is read from its payload (``tool``, ``tool_name``, ``name``, an
OpenAI-style ``function.name``, an MCP-style ``params.name``), else from its summary
("Calling flights.search (page 2)" names ``flights.search``). A call's result is the
first ``tool_result`` of the same step that names the same call id (``request_id``; an
OpenAI ``tool_call_id`` or an MCP ``id``), however late; else (a result naming no call's id)
a result goes to the newest call of the same step and tool still waiting for one, else (a
result naming no tool it can be matched by) to the step's oldest call waiting for one. The
call id wins over order: a result given by tool to another call, for want of a call of its
id, is taken back by the call of its id logged at the same moment (events of one moment come
in no promised order), and a call's own result replaces one given to it by tool.

A call with a result failed when that result says so, whatever happened while it waited:
``ok: false``, an HTTP ``status`` of 400 or more, an ``error``, an MCP ``isError`` (the
outcome keeps the error's text); a result with an empty payload, told by its summary only,
when the summary names a failure ("failed", "error", "timed out") that it does not deny
(after a zero or a negation, "0 failed", "no error", "no tests failed", "never timed out";
before a zero, "failed: 0"; in a compound, "error budget", "error rate", "error-free").
A call that never got a result failed when an ``error`` event of its step followed it before
its tool was called again in the step (the outcome is the error's summary), or when its
tool was called again in the step ("no result before the next call") and its step has
ended: the plan gives the step as ended (completed, failed or skipped, or with an end), a
``step_completed`` or ``step_failed`` event of it was read, or its run is no longer active
(:class:`Ended`; a record read without its run, as :func:`tool_calls` reads events by
default, is an ended one). While its step is open such a call is still waiting (not
failed, no outcome): calls of one tool made together are not failures, whether or not their
own results have come yet. As events are read in parts, a call waiting while an error comes
reads as failed until its own result comes, and so, on an ended record, does a call waiting
while its tool is called again. ``ended_at`` is the moment of the call's own result, else of
the error that failed it, missing when it had neither.

A failed call's retry is the first later call of its tool in its step made once its failure
was known: at or after its ``ended_at`` (its result or error), or, for a call given up with
no end, the call it was given up for (:func:`retries`). Calls made together are not retries
of each other, even when some of them fail: a call of a fan-out that failed is retried only
by a call made after its failure. A retry's ``attempt`` is one more than the calls it
retries (the highest of them); any other call's is 1. A failed call with no retry is its
tool's last word in its step (:func:`retried`: the failures a step's failure is blamed on).

``by_run=True`` reads the events of many runs at once (a fleet's events frame, or a history's
events): each run is read on its own, as above, and the calls carry their ``run_id``; the
step ends read are each run's own, and the runs are read as ended.
"""

from __future__ import annotations

import bisect
import heapq
import re
from collections.abc import Hashable, Sequence
from typing import Any, NamedTuple

import numpy as np
import orjson
import pandas as pd

from ..frames._jsontext import json_objects
from ..frames._runlike import field
from ..types import ACTIVE_RUN_STATUSES, FINISHED_STEP_STATUSES, EventType

__all__ = [
    "CALL_COLUMNS",
    "ENDED",
    "VOLATILE_KEYS",
    "CallLog",
    "Ended",
    "call_arguments",
    "retried",
    "retries",
    "tool_calls",
    "tool_name",
]

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
_STEP_ENDS = [str(EventType.STEP_COMPLETED), str(EventType.STEP_FAILED)]
# the ids that tie a call to its result, in the order they are looked for
_CALL_KEYS, _RESULT_KEYS = ("request_id", "id"), ("request_id", "tool_call_id", "id")
# what a call's row holds, in order (CallLog.rows): its run, the columns but its attempt, when
# the same tool was next called in its step, and what its failed, outcome and ended_at are
# settled from (CallLog._settle): its result's moment and what the result says (None: ok),
# and the error of its step that came while it waited, and that error's summary
_STORED = [
    "run_id",
    *(name for name in CALL_COLUMNS if name != "attempt"),
    "again_at",
    "result_at",
    "said",
    "error_at",
    "error_text",
]
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
    _RESULT_AT,
    _SAID,
    _ERROR_AT,
    _ERROR_TEXT,
) = range(len(_STORED))
_CALLED_AGAIN = "no result before the next call"
_ANSWERED = -1  # what CallLog.by_request holds for a call id once its own result came
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
        if payload or not _says_failed(summary):
            return None
        return str(summary)[:120]  # a result told by its summary only
    # a ``message`` says why only when the result says it failed ("Message queued" is no failure)
    error = error or payload.get("message")
    parts = [f"status {status}"] if status is not None else []
    if error:
        parts.append(str(error) if not isinstance(error, dict) else str(error.get("message", error)))
    text = ": ".join(parts) or ("error" if mcp_error else "ok: false")
    return text[:120]


_SAYS_FAILED = re.compile(r"\b(?:failed|error|timed out)\b", re.IGNORECASE)
# what denies a failure named in a summary: a negation or a zero just before it ("0 failed",
# "no error", "hasn't failed"), or a quantity one word before it ("no tests failed"); a zero
# after it, as a count's value ("failed: 0, skipped: 1"); a noun after "error" making it a
# compound ("error budget")
_NEGATIONS = frozenset({"no", "not", "never", "without", "zero", "none", "nothing", "nobody", "0", "non"})
_QUANTITIES = frozenset({"no", "zero", "none", "0"})
_WORDS_BEFORE = re.compile(r"([\w']+)\W*(?:([\w']+)\W*)?$")
_CLAUSE_END = re.compile(r"[,;:.!?()\[\]]")
_ZERO_AFTER = re.compile(r"\s*[:=]\s*0\s*(?:$|[,;)\]|])")  # a count's value, not "failed: 0 bytes"
_COMPOUND = re.compile(
    r"-\w|\s+(?:budgets?|rates?|ratio|counts?|counters?|free|handling|handlers?|margins?|bars?|"
    r"thresholds?|tolerance|correction|checking|metrics?)\b",
    re.IGNORECASE,
)


def _says_failed(summary: Any) -> bool:
    """Whether a result's summary names a failure it does not deny (see the module's docstring)."""
    if not isinstance(summary, str):
        return False
    return any(not _denied(summary, found) for found in _SAYS_FAILED.finditer(summary))


def _denied(summary: str, found: re.Match[str]) -> bool:
    """Whether the failure ``found`` names in ``summary`` is denied by the words around it."""
    after = summary[found.end() :]
    if _ZERO_AFTER.match(after):
        return True
    if found.group().lower() == "error" and _COMPOUND.match(after):
        return True
    clause = _CLAUSE_END.split(summary[: found.start()])[-1]
    words = _WORDS_BEFORE.search(clause)
    if words is None:
        return False
    last, first = (words.group(2), words.group(1)) if words.group(2) else (words.group(1), None)
    last = last.lower()
    if last in _NEGATIONS or last.endswith("n't"):
        return True
    return first is not None and first.lower() in _QUANTITIES


class Ended(NamedTuple):
    """What of a run has ended, which decides whether a call given up for another call of its
    tool failed (see the module's docstring): the run itself (``run``: no longer active), or,
    while it is active, the ``steps`` its plan gives as ended (step ids). A step end read from
    the events (``step_completed``, ``step_failed``) counts as well; :data:`ENDED`, the
    default, is an ended record."""

    run: bool = True
    steps: frozenset[Any] = frozenset()

    @classmethod
    def of(cls, run: Any, steps: pd.DataFrame | None = None) -> Ended:
        """What has ended of ``run`` (a model or a dict; None, not known: read as ended) and of
        its plan, ``steps`` (a steps frame): the run unless it is pending, running or paused and
        not finished; else the steps completed, failed or skipped, or with an end."""
        active = (
            run is not None
            and field(run, "status") in ACTIVE_RUN_STATUSES
            and field(run, "finished_at") is None
        )
        if not active:
            return ENDED
        if steps is None or steps.empty:
            return cls(False)
        finished = steps["status"].isin(FINISHED_STEP_STATUSES).to_numpy(dtype=bool)
        ended = finished | steps["completed_at"].notna().to_numpy(dtype=bool)
        return cls(False, frozenset(_taken(steps["step_id"], np.flatnonzero(ended), None)))


ENDED = Ended()  # an ended record: every call given up for another one failed


def tool_calls(
    events: pd.DataFrame, *, arguments: bool = True, by_run: bool = False, ended: Ended = ENDED
) -> pd.DataFrame:
    """One row per ``tool_call`` event, in time order (see the module's docstring);
    ``arguments=False`` leaves the ``arguments`` column empty (None), for callers that
    do not read it. ``by_run``: the events of many runs, read run by run (ordered by run,
    then time), with a ``run_id`` column first. ``ended``: what has ended of the run (one
    run's; :meth:`Ended.of` its run and plan), by default all of it."""
    calls = CallLog(arguments=arguments)
    calls.feed(events, by_run=by_run)
    frame = calls.frame(with_run=True, ended=ended)
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
        self.waiting: dict[tuple[Any, str], list[int]] = {}  # (step, tool) -> its rows waiting for a result
        self.step_tools: dict[Any, set[str]] = {}  # step -> the tools it has called (keys of waiting)
        # (step, call id) -> its row, until its own result comes (then _ANSWERED)
        self.by_request: dict[tuple[Any, Any], int] = {}
        self.last_call: dict[tuple[Any, str], int] = {}  # (step, tool) -> its latest call's row
        # (step, call id) -> a result naming that id that came before any call of it: its
        # event id, position, what it says and the row it was given to by tool (or None)
        self.early: dict[tuple[Any, Any], tuple[Any, int, str | None, int | None]] = {}
        self.run: Any = None  # the run whose events are being read (by_run)
        self.step_ends: set[tuple[Any, Any]] = set()  # (run, step) of the step ends read
        # the rows failed only because their tool was called again: still waiting while their
        # step is open (see Ended)
        self.called_again: set[int] = set()
        self._failures = 0  # counts the changes to failed calls (failed() is kept until the next)
        self._failed: tuple[tuple[int, frozenset[int]], pd.DataFrame] | None = None

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
        self._read_step_ends(events, by_run)
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
                self._forget()
            read[kind](event_id, step, when, summary, payload)

    def _read_step_ends(self, events: pd.DataFrame, by_run: bool) -> None:
        """Keep the steps whose end ``events`` tell (``step_completed``, ``step_failed``)."""
        ends = np.flatnonzero(events["type"].isin(_STEP_ENDS).to_numpy())
        if not len(ends):
            return
        runs = _taken(events["run_id"].astype(object), ends) if by_run else [None] * len(ends)
        self.step_ends.update(zip(runs, _taken(events["step_id"], ends, None), strict=True))

    def _forget(self) -> None:
        """Forget what waits (the next run's events come)."""
        self.waiting, self.step_tools, self.by_request, self.last_call, self.early = {}, {}, {}, {}, {}

    def _settle(self, at: int) -> None:
        """Set the ``failed``, ``outcome`` and ``ended_at`` of the call at row ``at`` from what it
        got (see the module's docstring): its own result, else the error that came while it
        waited, else its tool called again (failed on an ended record: see :meth:`_open`)."""
        row = self.rows[at]
        before = row[_FAILED]
        if row[_RESULT_ID] is not None:
            said = row[_SAID]
            row[_FAILED], row[_OUTCOME], row[_ENDED_AT] = said is not None, said or "ok", row[_RESULT_AT]
        elif row[_ERROR_AT] != -1:
            row[_FAILED], row[_OUTCOME], row[_ENDED_AT] = True, row[_ERROR_TEXT], row[_ERROR_AT]
        elif row[_AGAIN_AT] != -1:
            row[_FAILED], row[_OUTCOME], row[_ENDED_AT] = True, _CALLED_AGAIN, -1
            self.called_again.add(at)
        else:
            row[_FAILED], row[_OUTCOME], row[_ENDED_AT] = False, "", -1
        if row[_OUTCOME] is not _CALLED_AGAIN:
            self.called_again.discard(at)
        self._failures += before or row[_FAILED]

    def _read_error(self, event_id: Any, step: Any, when: int, summary: Any, payload: dict[str, Any]) -> None:
        """An error: the step's calls waiting for a result, each its tool's latest, failed with
        it unless their own result comes."""
        rows = self.rows
        for tool in self.step_tools.get(step, ()):
            latest = self.last_call[(step, tool)]
            call = rows[latest]
            if call[_RESULT_ID] is None and call[_ERROR_AT] == -1:
                call[_ERROR_AT], call[_ERROR_TEXT] = when, str(summary)[:120]
                self._settle(latest)

    def _read_call(self, event_id: Any, step: Any, when: int, summary: Any, payload: dict[str, Any]) -> None:
        """A call: a new row, waiting for its result; the same tool's previous call in the
        step was called again (failed, if it never gets a result)."""
        rows = self.rows
        named = _named(payload)
        tool = named if named is not None else _told(summary)
        arguments = call_arguments(payload) if self.arguments else None
        row = len(rows)
        rows.append(
            [self.run, step, tool, event_id, when, None, -1, False, "", arguments, -1, -1, None, -1, ""]
        )
        previous = self.last_call.get((step, tool))
        if previous is not None:
            rows[previous][_AGAIN_AT] = when  # called again: where an unanswered call ends
            self._settle(previous)
        self.last_call[(step, tool)] = row
        key = _call_key(payload, _CALL_KEYS)
        if key is not None:
            if self.early and self._claim_early(step, key, row, when):
                return
            self.by_request[(step, key)] = row
        waiting = self.waiting.get((step, tool))
        if waiting is None:
            self.waiting[(step, tool)] = [row]
            tools = self.step_tools.get(step)
            if tools is None:
                self.step_tools[step] = {tool}
            else:
                tools.add(tool)
        else:
            waiting.append(row)

    def _read_result(
        self, event_id: Any, step: Any, when: int, summary: Any, payload: dict[str, Any]
    ) -> None:
        """A result: the outcome of its call (by the call's id, else by tool, else, naming no
        tool, the step's oldest call waiting for one)."""
        key = _call_key(payload, _RESULT_KEYS)
        said = _failure(payload, summary)
        if key is not None:
            mine = self.by_request.get((step, key))
            if mine == _ANSWERED:  # its call has its own result already
                return
            if mine is not None:  # its own call's, even when a result was given to it by tool
                self.by_request[(step, key)] = _ANSWERED
                self._answer(mine, event_id, when, said)
                return
        named = _named(payload)
        match: int | None = None
        waiting = self.waiting.get((step, named if named is not None else _told(summary)))
        if waiting:
            match = waiting[-1]
        elif named is None:
            newest = [
                calls[-1] for tool in self.step_tools.get(step, ()) if (calls := self.waiting[(step, tool)])
            ]
            match = min(newest, default=None)
        if key is not None:  # a call of its id at the same moment takes it back (see _claim_early)
            self.early[(step, key)] = (event_id, when, said, match)
        if match is not None:
            self._answer(match, event_id, when, said)

    def _answer(self, row: int, event_id: Any, when: int, said: str | None) -> None:
        """Give the call at ``row`` the result ``event_id`` read at ``when``, saying ``said``."""
        call = self.rows[row]
        if call[_RESULT_ID] is None:
            self.waiting[(call[_STEP_ID], call[_TOOL])].remove(row)
        call[_RESULT_ID], call[_RESULT_AT], call[_SAID] = event_id, when, said
        self._settle(row)

    def _claim_early(self, step: Any, key: Any, row: int, when: int) -> bool:
        """Whether the call at ``row``, of id ``key``, took a result of its id read before it
        at the same moment (taken back from the call it was given to by tool)."""
        early = self.early.pop((step, key), None)
        if early is None:
            return False
        event_id, at, said, given = early
        if not self._same_moment(at, when):
            return False
        if given is not None and self.rows[given][_RESULT_ID] == event_id:
            other = self.rows[given]
            other[_RESULT_ID], other[_RESULT_AT], other[_SAID] = None, -1, None
            waiting = self.waiting[(other[_STEP_ID], other[_TOOL])]
            waiting.insert(bisect.bisect(waiting, given), given)
            self._settle(given)
        self.by_request[(step, key)] = _ANSWERED
        self.rows[row][_RESULT_ID], self.rows[row][_RESULT_AT], self.rows[row][_SAID] = event_id, at, said
        self._settle(row)
        return True

    def _same_moment(self, first: int, second: int) -> bool:
        """Whether the events read at positions ``first`` and ``second`` have one time (not missing)."""
        one, other = self._times([first, second])
        return bool(not pd.isna(one) and one == other)

    def frame(self, *, with_run: bool = False, ended: Ended = ENDED) -> pd.DataFrame:
        """The calls read so far, as :func:`tool_calls` gives them (``with_run``: with a
        ``run_id`` column first), with what has ended of the run (``ended``; the default: an
        ended record)."""
        columns = ["run_id", *CALL_COLUMNS] if with_run else CALL_COLUMNS
        rows = self._as_of(self._waiting(ended))
        return self._frame(rows, self._attempts(rows))[columns]

    def failed(self, ended: Ended = ENDED) -> pd.DataFrame:
        """The failed calls read so far, with what has ended of the run (``ended``; the default:
        an ended record): the columns of :func:`tool_calls`, and ``called_again``, when the same
        tool was next called in the step, missing if it was not. Made again only when a failed
        call was added or changed, or a call became waiting or failed, since the last time."""
        waiting = self._waiting(ended)
        key = (self._failures, waiting)
        if self._failed is not None and self._failed[0] == key:
            return self._failed[1].copy()
        rows = self._as_of(waiting)
        attempts = self._attempts(rows)
        chosen = [position for position, row in enumerate(rows) if row[_FAILED]]
        frame = self._frame([rows[p] for p in chosen], [attempts[p] for p in chosen], again=True)
        self._failed = (key, frame)
        return frame.copy()

    def _waiting(self, ended: Ended) -> frozenset[int]:
        """The rows of the calls given up for another call of their tool whose step is still
        open: calls still waiting, not failed (see :class:`Ended`)."""
        if ended.run or not self.called_again:
            return frozenset()
        rows, step_ends, steps = self.rows, self.step_ends, ended.steps
        return frozenset(
            at
            for at in self.called_again
            if rows[at][_STEP_ID] not in steps and (rows[at][_RUN_ID], rows[at][_STEP_ID]) not in step_ends
        )

    def _as_of(self, waiting: frozenset[int]) -> list[list[Any]]:
        """The rows, those at ``waiting`` as calls still waiting (not failed, no outcome)."""
        if not waiting:
            return self.rows
        rows = list(self.rows)
        for at in waiting:
            rows[at] = [*rows[at]]
            rows[at][_FAILED], rows[at][_OUTCOME] = False, ""
        return rows

    def _attempts(self, rows: list[list[Any]]) -> list[int]:
        """The ``attempt`` of each of ``rows`` (:func:`retries`)."""
        if not rows:
            return []
        self._times([])  # the times read, in one array
        moments = _micros(self._stamps[0])
        moments.append(_MISSING)  # at position -1: no moment
        keys = [(row[_RUN_ID], row[_STEP_ID], row[_TOOL]) for row in rows]
        made = [moments[row[_CALLED_AT]] for row in rows]
        ended = [moments[row[_ENDED_AT]] for row in rows]
        return retries(keys, made, ended, [row[_FAILED] for row in rows])[0]

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


def retries(
    keys: Sequence[Hashable], called_at: Sequence[int], ended_at: Sequence[int], failed: Sequence[bool]
) -> tuple[list[int], list[bool]]:
    """Each call's ``attempt`` and whether it was ``retried`` (see the module's docstring), of
    calls in time order: ``keys`` (equal for calls of one tool in one step of one run), the
    moments they were made and ended (``called_at``, ``ended_at``: integers of one unit, a
    missing one the smallest, :func:`_micros`) and whether they failed. A failed call is known
    to have failed at its end; one with no end (given up for the next call of its tool) at
    once, so that next call is its retry."""
    attempts, was_retried = [1] * len(keys), [False] * len(keys)
    # key -> its failed calls not retried yet, as a heap of (the moment known, row)
    waiting: dict[Hashable, list[tuple[int, int]]] = {}
    for row, (key, made, bad) in enumerate(zip(keys, called_at, failed, strict=True)):
        heap = waiting.get(key) if waiting else None
        if heap and heap[0][0] <= made:  # a missing moment is the smallest: known at once
            highest = 0
            while heap and heap[0][0] <= made:
                earlier = heapq.heappop(heap)[1]
                was_retried[earlier] = True
                highest = max(highest, attempts[earlier])
            attempts[row] = highest + 1
        if bad:
            heapq.heappush(waiting.setdefault(key, []), (ended_at[row], row))
    return attempts, was_retried


def retried(calls: pd.DataFrame) -> np.ndarray[Any, np.dtype[np.bool_]]:
    """Which calls of a :func:`tool_calls` frame (in its order) were retried: a later call of
    their tool in their step (of their run, when the frame has ``run_id``) was made once their
    failure was known (:func:`retries`)."""
    keys = [c for c in ("run_id", "step_id", "tool") if c in calls]
    groups = calls.groupby(keys, sort=False, dropna=False).ngroup().tolist() if len(calls) else []
    failed = calls["failed"].to_numpy(dtype=bool).tolist()
    made, ended = _micros(calls["called_at"]), _micros(calls["ended_at"])
    return np.array(retries(groups, made, ended, failed)[1], dtype=bool)


_MISSING = np.iinfo(np.int64).min  # a missing moment, as :func:`_micros` gives it (NaT's integer)


def _micros(moments: Any) -> list[int]:
    """Datetimes as microseconds since the epoch (missing: the smallest integer)."""
    micros: list[int] = pd.DatetimeIndex(moments).as_unit("us").asi8.tolist()
    return micros
