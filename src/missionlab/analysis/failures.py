"""Failure clusters of a fleet with each cluster's explanation one call away:
``missionlab.failures(history, since="2026-11-01")`` (see :mod:`._failure_clusters`).

>>> found = missionlab.failures(history, since="2026-11-20")
>>> found.clusters              # one row per cluster: step, tool, signature, runs, first/last seen, new
>>> found.over_time("D")        # failed runs per day and cluster
>>> found.explain(0)            # the largest cluster's latest run, explained
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from ._failure_clusters import CLUSTER_COLUMNS, RUN_COLUMNS, FailureClusters, cluster_failures
from .explain import Explanation, explain

__all__ = ["CLUSTER_COLUMNS", "RUN_COLUMNS", "Failures", "failures"]


class Failures(FailureClusters):
    """Failure clusters (:attr:`clusters`, :attr:`runs`, :meth:`over_time`,
    :meth:`example`) whose example runs explain themselves."""

    def explain(self, cluster: str | int = 0, **options: Any) -> Explanation:
        """``explain()`` of the cluster's example run (its latest), with this fleet to compare
        with (``options``: those of :func:`missionlab.analysis.explain.explain`)."""
        return explain(self.example(cluster), fleet=self, **options)


def failures(
    source: Any,
    *,
    since: Any = None,
    until: Any = None,
    mission: str | Sequence[str] | None = None,
    new_within: timedelta = timedelta(hours=24),
    now: Any = None,
) -> Failures:
    """The failed runs of ``source`` that started in ``[since, until)``, grouped by error
    signature: a :class:`Failures`. ``source``: a :class:`missionlab.History`,
    ``fetch_frames(client, steps=True)`` or a list of runs. A cluster is ``new`` when first
    seen within ``new_within`` of the window's end (``until``, else ``now``)."""
    found = cluster_failures(
        source, since=since, until=until, mission=mission, new_within=new_within, now=now, kind=Failures
    )
    assert isinstance(found, Failures)
    return found
