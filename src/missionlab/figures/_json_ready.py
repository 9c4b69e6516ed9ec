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

:func:`figure_dict` makes that dict from a figure in one pass over its properties, without
``to_dict``'s deep copy of every array and its typed-array pass (which turns each string
array into one of objects first): a Gantt's JSON took about twice as long to write through them.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import numpy as np
import pandas as pd
from _plotly_utils.utils import is_homogeneous_array, is_skipped_key, to_typed_array_spec

__all__ = ["figure_dict", "json_ready"]

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


def figure_dict(
    data: list[dict[str, Any]], layout: dict[str, Any], frames: list[dict[str, Any]]
) -> dict[str, Any] | None:
    """:func:`json_ready` of the dict plotly's ``to_dict`` makes of a figure's trace
    properties (``data``), ``layout`` and frames' properties, made at once: all it holds is
    copied (nothing shared with the figure), each array turned as ``to_dict`` and then
    :func:`json_ready` turn it. None where :func:`json_ready` would leave the whole dict to
    plotly's cleaning."""
    figure = {"data": data, "layout": layout, **({"frames": frames} if frames else {})}
    try:
        ready: dict[str, Any] = _copy(figure, typed=True)
    except _Unknown:
        return None
    return ready


def _copy(value: Any, *, typed: bool) -> Any:
    """``value`` copied and turned; ``typed``: its dicts' arrays become typed-array specs
    (plotly's ``convert_to_base64``, which leaves the arrays in lists and what its skipped
    keys hold as they are)."""
    kind = type(value)
    if kind in _PLAIN:
        return value
    if kind is dict:
        return {key: _entry(key, item, typed) for key, item in value.items()}
    if kind is list or kind is tuple:  # a tuple is written as a list (see _scan)
        return [_copy(item, typed=typed) for item in value]
    if isinstance(value, np.ndarray):
        return _array_copy(value)
    return _scalar(value)


def _entry(key: Any, value: Any, typed: bool) -> Any:
    """A dict's ``value`` under ``key``, copied and turned (see :func:`_copy`)."""
    if not typed or is_skipped_key(key):
        return _copy(value, typed=False)
    if type(value) in _PLAIN:
        return value
    if isinstance(value, np.ndarray) and value.dtype.kind == "U":
        return value.tolist()  # what the spec's array of objects becomes (see _array)
    if is_homogeneous_array(value):
        spec = to_typed_array_spec(value)
        return spec if isinstance(spec, dict) else _array_copy(spec)
    return _copy(value, typed=True)


def _array_copy(array: np.ndarray[Any, Any]) -> Any:
    """An array as :func:`_array` turns it, never the array itself."""
    for _, _, value in _array(None, None, array):
        return value
    return array.copy()


def _scalar(item: Any) -> Any:
    """A value that is no container or array, as :func:`_scan` turns it."""
    if isinstance(item, pd.Timestamp):
        if item.nanosecond:
            raise _Unknown
        return item.to_pydatetime()
    if isinstance(item, np.number | np.bool_):
        return item.tolist()
    if item is pd.NaT or item is pd.NA:
        return None
    if isinstance(item, str | int) and not isinstance(item, np.generic):
        return item
    raise _Unknown


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
        else:
            changes.append((value, key, _scalar(item)))


def _array(parent: Any, key: Any, array: np.ndarray[Any, Any]) -> list[tuple[Any, Any, Any]]:
    if array.dtype.kind in _NUMBERS:
        return []
    if array.dtype.kind == "U" or (array.dtype.kind == "O" and set(map(type, array.ravel())) <= {str}):
        return [(parent, key, array.tolist())]
    raise _Unknown
