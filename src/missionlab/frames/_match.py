"""The one rule that says whether an event matches a search: used by ``RunTrace.find`` (one
run) and ``History.find`` (every run of a history).

An event matches ``text`` when its summary holds it, or its payload does: the payload is
compact JSON text, so a value with quotes or backslashes (``say "hi"``) is looked for as
written in the text and as JSON writes it inside a string (``say \\"hi\\"``); case-insensitive
unless ``case``. ``agent``, ``step`` and ``type`` take one value or several.
"""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd

from ._jsontext import json_text

__all__ = ["choices", "event_mask", "text_forms"]


def choices(values: str | Iterable[str] | None) -> list[str] | None:
    """One value or several as a list (None: no filter)."""
    if values is None:
        return None
    return [values] if isinstance(values, str) else [str(v) for v in values]


def text_forms(text: str) -> list[str]:
    """The forms ``text`` takes in a payload's JSON text: as given, and escaped as in a string."""
    escaped = json_text(text)[1:-1]
    return [text] if escaped == text else [text, escaped]


def event_mask(
    events: pd.DataFrame,
    text: str | None = None,
    *,
    agent: str | Iterable[str] | None = None,
    step: str | Iterable[str] | None = None,
    type: str | Iterable[str] | None = None,
    case: bool = False,
) -> pd.Series:
    """Which rows of an events frame match every filter given (see the module's docstring)."""
    keep = pd.Series(True, index=events.index)
    if text:
        found = events["summary"].astype(str).str.contains(text, case=case, regex=False).fillna(False)
        payloads = events["payload"].fillna("").astype(str)
        for form in text_forms(text):
            found |= payloads.str.contains(form, case=case, regex=False).fillna(False)
        keep &= found.astype(bool)
    for column, wanted in (("agent_id", agent), ("step_id", step), ("type", type)):
        values = choices(wanted)
        if values is not None:
            keep &= events[column].astype(object).isin(values)
    return keep
