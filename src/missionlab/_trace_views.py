"""The debugging views a :class:`missionlab.RunTrace` offers as methods: explain, compare,
find, roll-ups, capsules and the shareable page. Each delegates to its module; the trace
remembers the client that loaded it (``trace.client``), which ``explain`` and ``compare``
use for the mission's history when no baseline is given.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from .client.errors import APIError
from .frames._runlike import RunLike

if TYPE_CHECKING:
    import pandas as pd

    from .analysis.compare import Comparison
    from .analysis.explain import Explanation

__all__ = ["RunViews"]


class _Trace(RunLike, Protocol):
    client: Any
    __dict__: dict[str, Any]


class RunViews:
    """Methods of :class:`missionlab.RunTrace` beyond its frames and Gantt."""

    def explain(self: _Trace, baseline: Any = None, **kwargs: Any) -> Explanation:
        """Why this run ended (or stands) as it does (see :func:`missionlab.analysis.explain.explain`).

        Without ``baseline``, the client that loaded the trace fetches the mission's recent
        succeeded runs once (kept on the trace); ``baseline=False`` compares with nothing.
        """
        from .analysis._baseline import BASELINE_KEY, baseline_steps
        from .analysis.explain import explain

        if baseline is None and self.client is not None:
            if BASELINE_KEY not in self.__dict__:
                try:
                    self.__dict__[BASELINE_KEY] = baseline_steps(self, self.client)
                except APIError as error:  # explained without a baseline (not asked for again)
                    warnings.warn(
                        f"explain: no baseline from the mission's earlier runs ({error})", stacklevel=2
                    )
                    self.__dict__[BASELINE_KEY] = None
            baseline = self.__dict__[BASELINE_KEY]
        return explain(self, baseline=baseline, **kwargs)

    def compare(self: _Trace, *others: RunLike, client: Any = None, **kwargs: Any) -> Comparison:
        """This run against ``others``, or against the most similar succeeded run of its
        mission (see :func:`missionlab.analysis.compare.compare`)."""
        from .analysis.compare import compare

        return compare(self, list(others) or None, client=client or self.client, **kwargs)

    def find(self: _Trace, text: str | None = None, **filters: Any) -> pd.DataFrame:
        """Events matching ``text`` and ``filters`` (see :func:`missionlab.analysis.find.find`)."""
        from .analysis.find import find

        return find(self, text, **filters)

    def search(self: _Trace, text: str, **filters: Any) -> pd.DataFrame:
        """Events whose summary or payload holds ``text`` (see :func:`missionlab.analysis.find.find`)."""
        from .analysis.find import find

        return find(self, text, **filters)

    def events_between(self: _Trace, start: Any, end: Any) -> pd.DataFrame:
        """Events stamped in ``[start, end]`` (datetimes, ISO strings or seconds since the start)."""
        from .analysis.find import events_between

        return events_between(self, start, end)

    def rollup(self: _Trace, path: str = "payload.usage.total_tokens") -> pd.DataFrame:
        """A payload number summed per step, per parent step and per run
        (see :mod:`missionlab.analysis.rollup`)."""
        from .analysis.rollup import rollup

        return rollup(self, path)

    def step_table(self: _Trace, *paths: str) -> pd.DataFrame:
        """The steps with their status and times, and each roll-up path's total as a column."""
        from .analysis.rollup import step_table

        return step_table(self, list(paths))

    def save(self: _Trace, path: str | Path) -> Path:
        """Write this run as a capsule file (see :func:`missionlab.analysis.capsule.save_run`)."""
        from .analysis.capsule import save_run

        return save_run(self, path)

    def to_html(self: _Trace, path: str | Path | None = None, **kwargs: Any) -> str:
        """This run as one self-contained HTML page; written to ``path`` when given
        (see :func:`missionlab.figures.share.run_page`)."""
        from .figures.share import run_page

        page = run_page(self, **kwargs)
        if path is not None:
            Path(path).write_text(page, encoding="utf-8")
        return page
