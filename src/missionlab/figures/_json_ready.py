"""A figure's dict as plotly's JSON writer takes it whole.

plotly's ``to_json`` (and ``to_html``, ``write_image`` ...) first tries orjson on the figure's
dict, and when orjson refuses anything in it (a numpy array of strings, which ``to_dict``
makes an array of objects; a pandas ``Timestamp``), cleans the whole dict value by value
in Python and tries again. A Gantt holds tens of thousands of strings, so the cleaning cost
more than all the rest of writing it.

:func:`json_ready` turns what the cleaning would have turned, the same way, before plotly
sees it: arrays of strings into lists (``tolist()``, as the cleaning does), ``Timestamp``\\ s
into ``datetime``\\ s (``to_pydatetime()``, as it does), numpy scalars into Python numbers
(``tolist()``). Then orjson takes the dict at once and writes the same JSON. Anything else
it does not know (a datetime64 array, an object array holding more than strings, a
nanosecond time, a type of its own) leaves the whole dict as it was, for plotly to clean as
before: orjson would write some of those otherwise than the cleaning does.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["json_ready"]

_PLAIN = frozenset({str, int, float, bool, type(None), datetime, date})
_NUMBERS = frozenset("biuf")  # numpy kinds orjson writes as the cleaning leaves them


class _Unknown(Exception):
    """A value :func:`json_ready` does not turn: the dict is left to plotly's cleaning."""


def json_ready(figure: dict[str, Any]) -> dict[str, Any]:
    """``figure`` (a dict of ``to_dict``'s, which it changes in place) ready for plotly's JSON
    writer to take whole, or as it was when it holds anything not known here (see the module)."""
    changes: list[tuple[Any, Any, Any]] = []
    try:
        _scan(figure, changes)
    except _Unknown:
        return figure
    for parent, key, value in changes:
        parent[key] = value
    return figure


def _scan(value: Any, changes: list[tuple[Any, Any, Any]]) -> None:
    """Note in ``changes`` what to turn in ``value``'s parts (raises :class:`_Unknown`)."""
    items = value.items() if isinstance(value, dict) else enumerate(value)
    for key, item in items:
        if type(item) in _PLAIN:
            continue
        if isinstance(item, dict | list):
            _scan(item, changes)
        elif isinstance(item, tuple):
            as_list = list(item)  # orjson and the cleaning both write a tuple as a list
            _scan(as_list, changes)
            changes.append((value, key, as_list))
        elif isinstance(item, np.ndarray):
            changes.extend(_array(value, key, item))
        elif isinstance(item, pd.Timestamp):
            if item.nanosecond:  # to_pydatetime() would drop them, with a warning
                raise _Unknown
            changes.append((value, key, item.to_pydatetime()))
        elif isinstance(item, np.number | np.bool_):
            changes.append((value, key, item.tolist()))
        elif item is pd.NaT or item is pd.NA:
            changes.append((value, key, None))
        elif isinstance(item, str | int) and not isinstance(item, np.generic):
            continue  # an enum's member: orjson writes its value, as after the cleaning
        else:
            raise _Unknown


def _array(parent: Any, key: Any, array: np.ndarray[Any, Any]) -> list[tuple[Any, Any, Any]]:
    if array.dtype.kind in _NUMBERS:
        return []
    if array.dtype.kind == "U" or (array.dtype.kind == "O" and set(map(type, array.ravel())) <= {str}):
        return [(parent, key, array.tolist())]
    raise _Unknown
