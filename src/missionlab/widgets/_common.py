"""What every panel shares: inline messages, error wording, JSON fields, buttons and rows that
wrap, background refresh."""

from __future__ import annotations

import html
import json
import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import ipywidgets as w

from ..client._display import STATUS_COLORS
from ..client.errors import APIConnectionError, APIStatusError, InvalidArgumentError, MissionlabError

log = logging.getLogger("missionlab.widgets")


def describe_error(exc: BaseException, action: str) -> str:
    """One readable line: what failed and why, e.g. "Pause failed (409): Run is cancelled"."""
    if isinstance(exc, APIStatusError):
        reason = "; ".join(exc.reasons[:3]) or "no reason given"
        return f"{action} failed ({exc.status_code}): {reason}"
    if isinstance(exc, APIConnectionError):
        return f"{action} failed: cannot reach the API ({str(exc).split(': ', 1)[-1][:200]})"
    if isinstance(exc, InvalidArgumentError | MissionlabError):
        return f"{action} failed: {exc}"
    return f"{action} failed: {type(exc).__name__}: {str(exc)[:300]}"


def button(description: str, icon: str = "", **kwargs: Any) -> w.Button:
    """A button as wide as its label (ipywidgets' fixed width cuts labels to "…")."""
    return w.Button(description=description, icon=icon, layout=w.Layout(width="auto"), **kwargs)


def row(*children: w.Widget) -> w.HBox:
    """Controls side by side that wrap onto the next line when the panel is narrow."""
    box = w.HBox(list(children), layout=w.Layout(flex_flow="row wrap", align_items="center", width="100%"))
    box.add_class("missionlab-row")
    return box


def dropdown(description: str, options: Any, value: Any, width: str = "auto") -> w.Dropdown:
    """A dropdown whose label takes the room it needs (the default cuts it at 80 px)."""
    return w.Dropdown(
        description=description,
        options=options,
        value=value,
        style={"description_width": "initial"},
        layout=w.Layout(width=width, max_width="100%"),
    )


class Notice(w.HTML):
    """A one-line message area: errors in red, information in the theme's color."""

    def __init__(self) -> None:
        super().__init__(value="")
        self.add_class("missionlab-notice")

    def error(self, text: str) -> None:
        self.value = f'<div style="color:{STATUS_COLORS["failed"]};font-weight:600">{html.escape(text)}</div>'

    def info(self, text: str) -> None:
        self.value = f'<div style="opacity:0.8">{html.escape(text)}</div>'

    def clear(self) -> None:
        self.value = ""

    @property
    def text(self) -> str:
        """The message as plain text (for tests and logs)."""
        return html.unescape(self.value.split(">", 1)[-1].rsplit("</div>", 1)[0]) if self.value else ""


@contextmanager
def reporting(notice: Notice, action: str, busy: w.Widget | None = None) -> Iterator[None]:
    """Run a user action: any error is shown in ``notice``, never raised into the kernel."""
    if busy is not None:
        busy.disabled = True
    try:
        yield
    except Exception as exc:  # a panel must keep working whatever goes wrong
        log.info("%s", describe_error(exc, action))
        notice.error(describe_error(exc, action))
    finally:
        if busy is not None:
            busy.disabled = False


def parse_json_object(text: str) -> tuple[dict[str, Any] | None, str | None]:
    """(value, None) for an empty text or a JSON object; (None, message) otherwise."""
    if not text.strip():
        return None, None
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        return None, f"Invalid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}"
    if not isinstance(value, dict):
        return None, f"Must be a JSON object ({{...}}), not {type(value).__name__}"
    return value, None


class JsonField(w.VBox):
    """A JSON object editor: a text area and an inline message under it."""

    def __init__(
        self, label: str, value: dict[str, Any] | None = None, placeholder: str = '{"key": "value"}'
    ) -> None:
        self.area = w.Textarea(
            value=json.dumps(value, indent=2) if value else "",
            placeholder=placeholder,
            description=label,
            style={"description_width": "70px"},
            layout=w.Layout(width="100%", height="90px"),
        )
        self.message = w.HTML(value="")
        super().__init__([self.area, self.message])

    def read(self) -> tuple[dict[str, Any] | None, bool]:
        """(value, ok); an invalid text shows its message and keeps what was typed."""
        value, problem = parse_json_object(self.area.value)
        self.message.value = (
            ""
            if problem is None
            else (f'<span style="color:{STATUS_COLORS["failed"]}">{html.escape(problem)}</span>')
        )
        return value, problem is None


class Refresher:
    """Calls ``tick`` every ``interval`` seconds in a daemon thread until stopped.

    ``tick`` returns False to stop (e.g. when the run has finished).
    """

    def __init__(self, tick: Callable[[], bool], interval: float) -> None:
        self._tick = tick
        self.interval = interval
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> None:
        if self.alive:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name="missionlab-refresh", daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                if not self._tick():
                    return
            except Exception:  # shown by the panel; keep the thread's death quiet
                log.exception("background refresh failed")

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout)
        self._thread = None
