"""Reading a Gantt's traces in tests: a live Gantt keeps a type's new event markers in a
second trace (``event:<type>:new``) until they are merged; these helpers join them."""

from __future__ import annotations

from typing import Any

import numpy as np

POINT_PROPS = ("x", "y", "base", "text", "customdata", "hovertext")


def points_by_trace(figure: Any) -> dict[str, dict[str, list[Any]]]:
    """Each trace's points by its ``meta`` name, a type's new markers joined to the others."""
    joined: dict[str, dict[str, list[Any]]] = {}
    for trace in figure.data:
        name = trace.meta.removesuffix(":new")
        into = joined.setdefault(name, {prop: [] for prop in POINT_PROPS})
        for prop in POINT_PROPS:
            if prop in trace and trace[prop] is not None:
                into[prop].extend(np.asarray(trace[prop], dtype=object).tolist())
    return joined


def assert_same_points(mine: Any, theirs: Any) -> None:
    """Two Gantts draw the same points under the same trace names, in the same order."""
    assert points_by_trace(mine) == points_by_trace(theirs)
