"""What changed between two figure dicts of the same figure, as plotly.js calls.

A live figure is sent to the browser whole once; after that, :func:`figure_patch` compares
the figure dict drawn last with the new one and says what to send: ``extend`` (arrays that
only grew, with just their new items: ``Plotly.extendTraces``), ``restyle`` (a trace's
properties that changed otherwise) and ``relayout`` (layout parts that changed). It answers
None when the traces themselves changed (added, removed, moved, or a trace's properties
appeared or went): then the figure is drawn anew. :func:`apply_patch` makes the same
changes to the figure's JSON, which thus stays what the browser shows.
"""

from __future__ import annotations

import base64
import math
from datetime import date, datetime
from typing import Any

import numpy as np

__all__ = ["apply_patch", "decoded", "figure_patch", "plain"]

_SCALARS = frozenset({str, int, float, bool, type(None)})
AXES = ("xaxis", "yaxis")  # compared property by property: a relayout of a whole axis resets its zoom


def plain(value: Any) -> Any:
    """``value`` as JSON data (numpy arrays as lists, times as ISO text, NaN as null)."""
    if isinstance(value, np.ndarray):
        if value.dtype.kind == "M":
            return [None if t is None else t.isoformat() for t in value.astype("datetime64[us]").tolist()]
        return plain(value.tolist()) if value.dtype.kind in "fO" or value.ndim > 1 else value.tolist()
    if isinstance(value, dict):
        return {key: plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [plain(item) for item in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, np.generic):
        return plain(value.item())
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def decoded(value: Any) -> Any:
    """Figure JSON with plotly's base64 arrays (``{"dtype", "bdata"}``) as plain lists."""
    if isinstance(value, dict):
        if "bdata" in value and "dtype" in value:
            array = np.frombuffer(base64.b64decode(value["bdata"]), dtype=value["dtype"])
            if "shape" in value:
                array = array.reshape([int(n) for n in str(value["shape"]).split(",")])
            return plain(array)
        return {key: decoded(item) for key, item in value.items()}
    if isinstance(value, list):
        return [decoded(item) for item in value]
    return value


def _same(old: Any, new: Any) -> bool:
    if old is new:
        return True
    if isinstance(old, np.ndarray) or isinstance(new, np.ndarray):
        if _viewed_alike(old, new):
            return True  # one memory seen the same way (markers kept from the last build)
        old_a, new_a = np.asarray(old), np.asarray(new)
        return (
            old_a.shape == new_a.shape
            and old_a.dtype.kind == new_a.dtype.kind
            and bool(np.array_equal(old_a, new_a))
        )
    if isinstance(old, dict) and isinstance(new, dict):
        return old.keys() == new.keys() and all(_same(old[k], new[k]) for k in old)
    if isinstance(old, list | tuple) and isinstance(new, list | tuple):
        if len(old) != len(new):
            return False
        kinds = list(map(type, old))
        if kinds == list(map(type, new)) and _SCALARS.issuperset(kinds):
            return bool(old == new)  # plain values, compared in one go (tick labels, row keys)
        return all(_same(a, b) for a, b in zip(old, new, strict=True))
    return type(old) is type(new) and bool(old == new)


def _viewed_alike(old: Any, new: Any) -> bool:
    """Whether two arrays are views of the same memory with the same type, shape and strides
    (so the same values, whatever happened to that memory)."""
    if not (isinstance(old, np.ndarray) and isinstance(new, np.ndarray)):
        return False
    return (
        old.dtype == new.dtype
        and old.shape == new.shape
        and old.strides == new.strides
        and old.__array_interface__["data"][0] == new.__array_interface__["data"][0]
    )


def _grown(old: Any, new: Any) -> int | None:
    """How many leading items ``new`` shares with ``old`` when it is ``old`` with more items
    appended (arrays of one kind only); None otherwise."""
    if not (isinstance(old, np.ndarray) and isinstance(new, np.ndarray)):
        return None
    if old.dtype.kind != new.dtype.kind or old.shape[1:] != new.shape[1:] or len(new) <= len(old):
        return None
    return len(old) if np.array_equal(new[: len(old)], old) else None


def figure_patch(old: dict[str, Any], new: dict[str, Any]) -> list[dict[str, Any]] | None:
    """The plotly.js calls that turn figure dict ``old`` into ``new`` ([] when they are the same),
    or None when the traces are not the same ones with the same properties."""
    old_data, new_data = old["data"], new["data"]
    if len(old_data) != len(new_data):
        return None
    ops: list[dict[str, Any]] = []
    for index, (before, after) in enumerate(zip(old_data, new_data, strict=True)):
        if before.keys() != after.keys() or before.get("meta") != after.get("meta"):
            return None
        extend, restyle = {}, {}
        for key, value in after.items():
            previous = before[key]
            if _same(previous, value):
                continue
            shared = _grown(previous, value)
            if shared is not None:
                extend[key] = plain(value[shared:])
            else:
                restyle[key] = plain(value)
        if extend:
            ops.append({"op": "extend", "trace": index, "values": extend})
        if restyle:
            ops.append({"op": "restyle", "trace": index, "values": restyle})
    layout: dict[str, Any] = {}
    old_layout, new_layout = old["layout"], new["layout"]
    for key in old_layout.keys() | new_layout.keys():
        before, after = old_layout.get(key), new_layout.get(key)
        if _same(before, after):
            continue
        if key in AXES and isinstance(before, dict) and isinstance(after, dict):
            for part in before.keys() | after.keys():
                if not _same(before.get(part), after.get(part)):
                    layout[f"{key}.{part}"] = plain(after.get(part))
        else:
            layout[key] = plain(after)
    if layout:
        ops.append({"op": "relayout", "values": layout})
    return ops


def apply_patch(figure: dict[str, Any], ops: list[dict[str, Any]]) -> None:
    """Make ``ops`` (from :func:`figure_patch`) to ``figure``, a figure's JSON data, in place."""
    for op in ops:
        if op["op"] == "relayout":
            for path, value in op["values"].items():
                *parents, last = path.split(".")
                target = figure["layout"]
                for part in parents:
                    target = target.setdefault(part, {})
                if value is None:
                    target.pop(last, None)
                else:
                    target[last] = value
            continue
        trace = figure["data"][op["trace"]]
        for key, value in op["values"].items():
            if op["op"] == "extend":
                trace[key] = [*trace[key], *value]
            else:
                trace[key] = value
