"""How API objects show themselves in a notebook: a short repr and escaped HTML.

Every value that came from a server passes through :func:`html.escape` before it
meets HTML; nothing here builds markup from unescaped strings.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from enum import StrEnum
from typing import Any, ClassVar

from ._json import short_json

# Colorblind-safe (Okabe-Ito) colors per status, shared by badges and charts.
STATUS_COLORS: dict[str, str] = {
    "pending": "#999999",
    "running": "#0072B2",
    "in_progress": "#0072B2",
    "paused": "#E69F00",
    "succeeded": "#009E73",
    "completed": "#009E73",
    "failed": "#D55E00",
    "cancelled": "#CC79A7",
    "skipped": "#CC79A7",
}

_MAX_CELL = 200

_frame_converter: Callable[..., Any] | None = None


def register_frame_converter(convert: Callable[..., Any]) -> None:
    """Set the function behind ``to_frame()`` of pages and models.

    The client layer knows nothing of pandas: ``missionlab/__init__.py`` registers
    :func:`missionlab.frames.to_frame`, imported when first used.
    """
    global _frame_converter
    _frame_converter = convert


def frame_of(value: Any, **kwargs: Any) -> Any:
    """``value`` as a DataFrame, through the registered converter."""
    if _frame_converter is None:
        raise RuntimeError("no DataFrame converter is registered: import missionlab first")
    return _frame_converter(value, **kwargs)


def short_text(value: Any, limit: int = _MAX_CELL) -> str:
    """Render a value as one line of plain text, shortened to ``limit`` characters."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        text = value.isoformat(sep=" ", timespec="seconds")
    elif isinstance(value, dict | list):
        text = short_json(value, limit * 2)
    else:
        text = str(value)
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def badge(status: Any) -> str:
    """An escaped HTML status badge."""
    label = short_text(str(status))
    color = STATUS_COLORS.get(label, "#555555")
    return (
        f'<span style="background:{color};color:#fff;border-radius:0.6em;'
        f'padding:0 0.5em;font-size:0.85em;white-space:nowrap">{html.escape(label)}</span>'
    )


def html_table(rows: Sequence[dict[str, Any]], columns: Sequence[str]) -> str:
    """An escaped HTML table of ``rows`` limited to ``columns``."""
    head = "".join(f"<th>{html.escape(c)}</th>" for c in columns)
    body = []
    for row in rows:
        cells = []
        for column in columns:
            value = row.get(column)
            if column == "status" and value is not None:
                cells.append(f"<td>{badge(value)}</td>")
            else:
                cells.append(f"<td>{html.escape(short_text(value))}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def html_fields(fields: Iterable[tuple[str, Any]], limit: int = 2000) -> str:
    """An escaped HTML table of labelled values; empty values are left out.

    A field labelled ``status`` shows as a badge.
    """
    rows = []
    for label, value in fields:
        if value is None or value == "" or value == {}:
            continue
        shown = badge(value) if label == "status" else html.escape(short_text(value, limit))
        rows.append(
            f'<tr><th style="text-align:left;padding-right:1em;vertical-align:top">'
            f'{html.escape(label)}</th><td style="text-align:left">{shown}</td></tr>'
        )
    return f"<table>{''.join(rows)}</table>"


def html_record(title: str, fields: Iterable[tuple[str, Any]]) -> str:
    """An escaped HTML card: a title and a list of labelled values."""
    return f'<div class="missionlab-record"><strong>{html.escape(title)}</strong>{html_fields(fields)}</div>'


class DisplayMixin:
    """Short repr and escaped HTML for pydantic models.

    A model names the fields its repr shows in ``_repr_fields``; its HTML shows
    every field that has a value.
    """

    _repr_fields: ClassVar[tuple[str, ...]] = ()

    def __repr_args__(self) -> Any:
        fields = self._repr_fields or tuple(type(self).model_fields)[:4]  # type: ignore[attr-defined]
        for name in fields:
            value = getattr(self, name, None)
            if isinstance(value, datetime):
                yield name, value.isoformat(timespec="seconds")
            elif isinstance(value, StrEnum):
                yield name, str(value)
            elif value is not None:
                yield name, value

    def to_frame(self, **kwargs: Any) -> Any:
        """This object (or the list in its ``data``) as a pandas DataFrame."""
        return frame_of(self, **kwargs)

    def _repr_html_(self) -> str:
        data: dict[str, Any] = self.model_dump(exclude_none=True)  # type: ignore[attr-defined]
        inner = data.get("data")
        if isinstance(inner, list) and all(isinstance(r, dict) for r in inner):
            columns = list(dict.fromkeys(k for r in inner[:50] for k in r))
            return html_table(inner, columns)
        if isinstance(inner, dict):
            data = inner
        return html_record(type(self).__name__, data.items())
