"""The findings engine: one registry of checks, run over a run at one moment.

``examine(trace)`` runs every check of :data:`CHECKS` (in order) over the run as seen at
``now`` (given, or read once here: no check reads the clock) with the mission's baseline
when there is one, and returns :class:`RunFindings`: the findings, unranked, with the view
they were made on. The two views of them:

- :func:`missionlab.diagnose`: every finding of kind ``inconsistency`` (what does not add
  up in the run's record), all severities, as a frame, most severe first;
- :func:`missionlab.analysis.explain.explain`: the findings above ``info``, each told once
  (:meth:`RunFindings.told_once`), heaviest first, after a headline.

A check is added by writing its function and declaring it in its module's list
(``_outcome_checks``, ``_consistency_checks``): see :class:`~.finding.Check`.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pandas as pd

from ..frames._runlike import RunLike, as_of
from ._baseline import Baseline
from ._consistency_checks import CONSISTENCY_CHECKS, INCONSISTENCY
from ._evidence import utc
from ._fleet_check import FLEET_CHECKS
from ._outcome_checks import OUTCOME_CHECKS
from ._run_view import RunView
from .finding import Check, CheckInput, Finding, Settings

__all__ = ["CHECKS", "INCONSISTENCY", "KINDS", "Baseline", "RunFindings", "RunView", "at_moment", "examine"]

#: Every check, in the order they run (which orders findings of equal weight and time).
CHECKS: tuple[Check, ...] = (*OUTCOME_CHECKS, *FLEET_CHECKS, *CONSISTENCY_CHECKS)
#: The kinds of findings, in the order of the checks that make them.
KINDS: tuple[str, ...] = tuple(dict.fromkeys(check.kind for check in CHECKS))
_BY_NAME = {check.name: check for check in CHECKS}
_DEFAULT = Settings()


@dataclass(frozen=True)
class RunFindings:
    """What the checks found in a run (unranked, in the order of :data:`CHECKS`), the view
    of the run they looked at, and the baseline they compared with (None: none)."""

    view: RunView
    baseline: Baseline | None
    findings: tuple[Finding, ...]

    def of_kinds(self, kinds: Collection[str]) -> list[Finding]:
        return [finding for finding in self.findings if finding.kind in kinds]

    def told_once(self) -> list[Finding]:
        """The findings less those that another finding already tells: a check ``covers``
        checks whose findings about the same step (or about the run) say what its own say
        (a run stuck open covers its silent running step)."""
        covered = {
            (name, step)
            for finding in self.findings
            for name in _BY_NAME[finding.check].covers
            for step in (None, *finding.evidence.steps)
        }
        return [f for f in self.findings if (f.check, f.step_id) not in covered]


def at_moment(now: datetime | None) -> pd.Timestamp:
    """``now`` as a UTC timestamp (naive: read as UTC); the clock's time when None. The one
    place the analysis reads the clock."""
    return utc(now) or pd.Timestamp.now(tz="UTC")


def examine(
    trace: RunLike,
    *,
    now: datetime | None = None,
    baseline: Baseline | None = None,
    settings: Settings = _DEFAULT,
    kinds: Collection[str] | None = None,
    fleet: Any = None,
) -> RunFindings:
    """Run the checks (those making findings of ``kinds``; None: all) over ``trace`` as it
    stands at ``now`` (default: the moment ``trace`` is a record of, a capsule's of an
    active run, else the clock's time); those that need a baseline only with ``baseline``,
    those that need the fleet's failure clusters only with ``fleet``."""
    view = RunView(trace, at_moment(as_of(trace) if now is None else now))
    given = CheckInput(view, baseline, settings, fleet)
    found = [
        finding
        for check in CHECKS
        if (kinds is None or check.kind in kinds)
        and (baseline is not None or "baseline" not in check.needs)
        and (fleet is not None or "fleet" not in check.needs)
        for finding in check.findings(given)
    ]
    return RunFindings(view, baseline, tuple(found))
