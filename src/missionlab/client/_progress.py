"""The one progress bar of missionlab's long fetches (pages, plans, history syncs).

``progress`` is what a user passes: None shows the bar only once the work has taken more
than half a second, True shows it at once, False never (and tqdm is not even imported).
"""

from __future__ import annotations

from types import TracebackType
from typing import Protocol, Self

__all__ = ["PROGRESS_DELAY", "ProgressBar", "progress_bar"]

PROGRESS_DELAY = 0.5  # seconds of work before a bar appears when progress is None


class ProgressBar(Protocol):
    """What the fetches use of a bar (tqdm's, or one that shows nothing); a context manager
    that closes the bar."""

    def update(self, n: float | None = 1) -> bool | None: ...

    def close(self) -> None: ...

    def __enter__(self) -> Self: ...

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> object: ...


class _NoBar:
    """The bar of ``progress=False``: counts nothing, shows nothing."""

    def update(self, n: float | None = 1) -> None:
        pass

    def close(self) -> None:
        pass

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        pass


def progress_bar(total: int | None, *, desc: str, unit: str, progress: bool | None) -> ProgressBar:
    """A bar for ``total`` steps (None: not known in advance) named ``desc``, counting ``unit``s,
    shown as ``progress`` says (see the module's docstring). Use it in a ``with`` block."""
    if progress is False:
        return _NoBar()
    from tqdm.auto import tqdm

    bar: ProgressBar = tqdm(total=total, desc=desc, unit=unit, delay=0 if progress else PROGRESS_DELAY)
    return bar
