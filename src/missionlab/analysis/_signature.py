"""A failed run's error signature: the step its failure started in, the tool that failed
there, and its error text with what differs between two runs of the same error masked.

The failing step is the failed step with no failed descendant that ended first, among those
not inside a step that completed (a failure recovered from is not the run's failure; the one
``explain`` names: :func:`failure_origin`). The error is the last ``error`` event of that
step or its descendants, else the run's ``error``, else the outcome of the step's last
failed tool call; the tool is that call's (:func:`._attempts.tool_calls`), counting only
failed calls not retried (a failed call whose tool was called again in its step once its
failure was known did not fail the step; one made together with others of its tool did:
:func:`final_failures`). In the text,
quoted values, timestamps, ids (UUIDs, hex strings, words holding digits such as
``ORD-1042`` or ``req_9f3a``) and numbers are masked (:func:`normalize`), so "Refund of
$41.50 for order ORD-1042 declined: 'card expired'" and "Refund of $9 for order ORD-77
declined: 'insufficient funds'" have one signature. Runs of one mission with the same
signature make a failure cluster (:mod:`.failures`).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from ..types import StepStatus
from ._attempts import retried

__all__ = [
    "Signature",
    "failure_origin",
    "final_failures",
    "missing",
    "normalize",
    "normalize_many",
    "signature",
    "signature_parts",
    "subtree",
]

_MASKS = [
    (
        re.compile(
            r"(?<!\w)'[^'\n]*'(?!\w)|\"[^\"\n]*\"|`[^`\n]*`"
            r"|\u201c[^\u201d\n]*\u201d|\u2018[^\u2019\n]*\u2019"  # typographic quotes
        ),
        "<str>",
    ),
    (
        re.compile(
            r"\b\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?(?:Z|[+-]\d{2}:?\d{2})?"
            r"|\b\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?\b"
        ),
        "<time>",
    ),
    (re.compile(r"\b[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}\b"), "<id>"),
    (re.compile(r"\b(?=[\w-]*\d)(?=[\w-]*[A-Za-z])[A-Za-z0-9][\w-]*\b"), "<id>"),
    (re.compile(r"[-+]?[$€£]?\d+(?:[.,]\d+)*%?"), "<n>"),
    (re.compile(r"\s+"), " "),
]


def normalize(text: Any) -> str:
    """``text`` with quoted values, timestamps, ids and numbers masked (see the module's
    docstring), spaces collapsed."""
    if missing(text):
        return ""
    out = str(text)
    for pattern, mask in _MASKS:
        out = pattern.sub(mask, out)
    return out.strip()


# The masks again for RE2 (pyarrow's engine, which has no lookaround), for texts of ASCII
# characters only (there Python's \w, \d and \b are RE2's): a quote's neighbours are written
# into it first, as one of four marks (before a word character or not, after one or not),
# so that quoted values are found by the marks alone; the words holding a digit and a letter
# are those that start with a letter and hold a digit, or start with a digit and hold a letter.
_A, _B, _C = "\x02", "\x03", "\x04"  # a ' after a word character, before one, or both
_RE2_MASKS = [
    (r"(\w)'", "\\1" + _A),  # after a word character: not a quote's opening
    (r"'(\w)", _B + "\\1"),  # before one (and not after one): not a quote's closing
    (_A + r"(\w)", _C + "\\1"),  # after and before one: neither
    (
        rf"['{_B}][^'{_A}{_B}{_C}\n]*['{_A}]"
        r"|\"[^\"\n]*\"|`[^`\n]*`|\x{201c}[^\x{201d}\n]*\x{201d}|\x{2018}[^\x{2019}\n]*\x{2019}",
        "<str>",
    ),
    (f"[{_A}{_B}{_C}]", "'"),
    (_MASKS[1][0].pattern, "<time>"),
    (_MASKS[2][0].pattern, "<id>"),
    (r"\b(?:[A-Za-z][\w-]*\d|[0-9][\w-]*[A-Za-z])[\w-]*\b", "<id>"),
    (_MASKS[4][0].pattern, "<n>"),
]
_MARKS = frozenset(_A + _B + _C)
# Texts RE2 does not mask as Python does are masked together by Python, joined by a line of
# their own: no mask reaches across a line break (quotes end at one) nor matches it, and a
# line break sits where a text starts or ends as nothing does for a lookbehind or a word
# boundary, so each text is masked as alone.
_JOIN = "\n\x1e\n"


def normalize_many(texts: Sequence[Any]) -> list[str]:
    """:func:`normalize` of each of ``texts``, the same, masked in bulk: by RE2 (pyarrow) for
    texts of ASCII characters, by one pass of each Python mask over the others together."""
    import pyarrow as pa
    import pyarrow.compute as pc

    plain = ["" if missing(text) else str(text) for text in texts]
    out = list(plain)
    simple = [i for i, text in enumerate(plain) if text.isascii() and _MARKS.isdisjoint(text)]
    if simple:
        array = pa.array([plain[i] for i in simple], pa.string())
        for re2, mask in _RE2_MASKS:
            array = pc.replace_substring_regex(array, pattern=re2, replacement=mask)
        for i, text in zip(simple, array.to_pylist(), strict=True):
            out[i] = text
    others = [i for i, text in enumerate(plain) if not (text.isascii() and _MARKS.isdisjoint(text))]
    alone = [i for i in others if "\x1e" in plain[i]]  # the joint's own character
    together = [i for i in others if "\x1e" not in plain[i]]
    if together:
        joined = _JOIN.join(plain[i] for i in together)
        for pattern, mask in _MASKS[:-1]:  # the spaces last, text by text: a line break is one
            joined = pattern.sub(mask, joined)
        for i, text in zip(together, joined.split(_JOIN), strict=True):
            out[i] = text
    for i in alone:
        out[i] = normalize(plain[i])
    return [text if i in alone else " ".join(text.split()) for i, text in enumerate(out)]


@dataclass(frozen=True)
class Signature:
    """What identifies a failure: its mission, failing step (None: the run failed outside
    any step), failed tool (None: none) and masked error text; ``error`` is the raw text."""

    mission_id: str | None
    step_id: str | None
    tool: str | None
    text: str
    error: str

    @property
    def key(self) -> tuple[str | None, str | None, str | None, str]:
        return (self.mission_id, self.step_id, self.tool, self.text)

    @property
    def cluster_id(self) -> str:
        """A short, stable name of the signature (the same in every session)."""
        raw = "\x1f".join("" if part is None else part for part in self.key)
        return hashlib.sha1(raw.encode("utf-8", "surrogatepass")).hexdigest()[:8]


def failure_origin(steps: Iterable[tuple[Any, Any, Any, Any]]) -> Any:
    """The step a failure started in, of ``(step_id, parent_step_id, status, completed_at)``
    rows in plan order: a failed step none of whose ancestors completed (a failed step inside
    one that completed was recovered from: it is not the run's failure) and with no such
    failed descendant, the earliest to end (the first in plan order among equals; None when
    no step failed that way)."""
    rows = list(steps)
    parent = {step: up for step, up, _, _ in rows}
    completed = {step for step, _, status, _ in rows if str(status) == StepStatus.COMPLETED}

    def ancestors(step: Any) -> list[Any]:
        chain, up, seen = [], parent.get(step), {step}
        while isinstance(up, str) and up not in seen:
            chain.append(up)
            seen.add(up)
            up = parent.get(up)
        return chain

    failed = [
        (step, done)
        for step, _, status, done in rows
        if str(status) == StepStatus.FAILED and completed.isdisjoint(ancestors(step))
    ]
    if not failed:
        return None
    has_failed_child = {up for step, _ in failed for up in ancestors(step)}
    leaves = [row for row in failed if row[0] not in has_failed_child] or failed
    ended = [row for row in leaves if row[1] is not None and not pd.isna(row[1])]
    chosen = min(ended, key=lambda row: row[1]) if ended else leaves[0]
    return chosen[0]


def final_failures(calls: pd.DataFrame) -> pd.Series:
    """Which calls of a :func:`~._attempts.tool_calls` frame failed and were not retried (no
    later call of their tool in their step, of their run when the frame has ``run_id``, was
    made once their failure was known: :func:`._attempts.retried`)."""
    return calls["failed"].astype(bool) & ~retried(calls)


def subtree(steps: Iterable[tuple[Any, Any]], root: Any) -> set[Any]:
    """``root`` and its descendants, of ``(step_id, parent_step_id)`` rows."""
    children: dict[Any, list[Any]] = {}
    for step, up in steps:
        children.setdefault(up, []).append(step)
    found, todo = {root}, [root]
    while todo:
        for child in children.get(todo.pop(), []):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


def signature(
    mission_id: Any,
    origin: Any,
    errors: Sequence[Any],
    run_error: Any,
    failed_calls: Sequence[tuple[Any, Any]],
) -> Signature:
    """The signature of a failed run: its failing step ``origin``, the summaries of the
    ``error`` events in that step's subtree (time order), the run's ``error``, and the
    ``(tool, outcome)`` of the failed tool calls in the subtree (time order)."""
    step, tool, error_text = signature_parts(origin, errors, run_error, failed_calls)
    return Signature(
        None if mission_id is None else str(mission_id), step, tool, normalize(error_text), error_text
    )


def missing(value: Any) -> bool:
    """Whether a value read from a frame is missing (None, NaN, NaT or pandas' NA)."""
    return value is None or (not isinstance(value, str | dict | list) and bool(pd.isna(value)))


def signature_parts(
    origin: Any, errors: Sequence[Any], run_error: Any, failed_calls: Sequence[tuple[Any, Any]]
) -> tuple[str | None, str | None, str]:
    """What :func:`signature` reads (its failing step, tool and raw error text), unmasked."""
    tool, outcome = failed_calls[-1] if failed_calls else (None, None)
    if errors:
        error = errors[-1]
    elif not missing(run_error):
        error = run_error if isinstance(run_error, str) else _text(run_error)
    else:
        error = outcome
    return (
        None if origin is None else str(origin),
        None if tool is None else str(tool),
        "" if error is None else str(error),
    )


def _text(value: Any) -> str:
    if isinstance(value, dict):
        message = value.get("message")
        return str(message) if message is not None else str(value)
    return str(value)
