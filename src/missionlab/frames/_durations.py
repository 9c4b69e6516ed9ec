"""How every view writes a duration: one formatter for sentences, hovers, tables and sliders."""

from __future__ import annotations

import math
from typing import Any

__all__ = ["duration_text"]

MINUTE, HOUR, DAY = 60, 3600, 86400


def duration_text(seconds: Any) -> str:
    """A duration as people read it: ``0.4 s``, ``38 s``, ``1 min 40 s``, ``2 min``,
    ``1.1 h``, ``2.6 days``, ``12 days``; ``—`` when it is unknown (None, NaN or NA).

    Tenths of a second under 10 s, whole seconds under 90 s, minutes and seconds under an
    hour, tenths of an hour under two days, tenths of a day under ten days, whole days
    beyond.
    """
    if seconds is None:
        return "—"
    try:
        value = float(seconds)
    except (TypeError, ValueError):  # pandas' NA, which float() refuses
        return "—"
    if math.isnan(value):
        return "—"
    if value < 0:
        return "-" + duration_text(-value)
    if round(value, 1) < 10:
        return f"{value:.1f} s"
    if round(value) < 90:
        return f"{value:.0f} s"
    if round(value) < HOUR:
        minutes, rest = divmod(round(value), MINUTE)
        return f"{minutes} min {rest} s" if rest else f"{minutes} min"
    if round(value / HOUR, 1) < 48:
        return f"{value / HOUR:.1f} h"
    if round(value / DAY, 1) < 10:
        return f"{value / DAY:.1f} days"
    return f"{value / DAY:.0f} days"
