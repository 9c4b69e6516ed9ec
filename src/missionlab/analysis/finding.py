"""What the findings engine deals in: a finding, the check that makes it, and what a check
is given.

A **finding** is one sentence about a run with what it rests on (its :class:`Evidence`):
its ``kind`` (what it tells: ``failed_step``, ``slow_step``, ``inconsistency``...), the
``check`` that found it, a ``severity`` and a ``weight`` (how much it explains of the run's
outcome, which ranks an explanation). Severities mean something:

- ``error``: the run failed, is stuck, or its record contradicts itself; act on it.
- ``warning``: probably a problem worth a look (slow, silent, retried, skipped, a record
  that does not add up).
- ``info``: context for reading the run (times read from events, values missionlab does
  not know); never a problem by itself. A healthy run has no finding above ``info``.

A **check** declares its name, the kind, severity and weight of its findings, and what it
needs beyond the run: the mission's ``baseline`` or the ``fleet`` (it is skipped without
them) and ``now``
(its answer depends on the moment: it reads ``given.now``, never the clock). It is a
function from a :class:`CheckInput` to what it found (:class:`Found`); the engine
(:mod:`missionlab.analysis.engine`) turns that into findings.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Any, Literal, NamedTuple

from ._evidence import Evidence

if TYPE_CHECKING:
    import pandas as pd

    from ._baseline import Baseline
    from ._run_view import RunView

__all__ = ["SEVERITIES", "Check", "CheckInput", "Finding", "Found", "Need", "Settings", "Severity"]

Severity = Literal["error", "warning", "info"]
SEVERITIES: tuple[Severity, ...] = ("error", "warning", "info")  # most severe first
Need = Literal["baseline", "now", "fleet"]


@dataclass(frozen=True)
class Finding:
    """One sentence about a run, with what it rests on.

    ``kind``: what it tells; ``rank``: its place in an explanation (1 first; 0 outside
    one); ``severity``: ``error``, ``warning`` or ``info``; ``check``: the check that found
    it (:func:`missionlab.diagnose`'s ``check`` column); ``weight``: how much it explains of
    the run's outcome (an explanation tells the heaviest first).
    """

    kind: str
    rank: int
    severity: Severity
    text: str
    evidence: Evidence
    check: str = ""
    weight: float = 0.0

    @property
    def step_id(self) -> str | None:
        return self.evidence.step_id


class Found(NamedTuple):
    """What a check found: a sentence and its evidence; a ``severity`` or ``weight`` other
    than the check's own when this finding differs (a pending step is less severe than one
    left running)."""

    text: str
    evidence: Evidence = Evidence()
    severity: Severity | None = None
    weight: float | None = None


@dataclass(frozen=True)
class Settings:
    """The thresholds of the checks: ``silence``, how long an active run (or a running step)
    may go unheard; ``gap``, the shortest silence told inside a run (None: a minute, or ten
    times the run's usual time between events when that is longer); ``slow``, how many
    times its usual duration makes a step slow."""

    silence: timedelta = timedelta(minutes=5)
    gap: timedelta | None = None
    slow: float = 2.0


@dataclass(frozen=True)
class CheckInput:
    """What every check is given: the run view (measured at ``now``), the mission's
    baseline when there is one, the thresholds, and the fleet's failure clusters when
    there are (:class:`~._failure_clusters.FailureClusters`, for the checks that need ``fleet``)."""

    view: RunView
    baseline: Baseline | None
    settings: Settings
    fleet: Any = None

    @property
    def now(self) -> pd.Timestamp:
        """The moment the run is examined at (the engine's, given or read once)."""
        return self.view.now


@dataclass(frozen=True)
class Check:
    """A check of the engine's registry: its ``name`` (its findings' ``check``), the
    ``kind``, ``severity`` (the most severe, when a finding says otherwise) and ``weight``
    of its findings, the function that looks (``look``), what it ``needs`` beyond the run
    (``"baseline"``, ``"now"``) and the checks whose findings about the same step (or the
    run) its own findings already tell (``covers``: an explanation tells such things once).
    """

    name: str
    kind: str
    severity: Severity
    weight: float
    look: Callable[[CheckInput], Iterable[Found]]
    needs: frozenset[Need] = field(default_factory=frozenset)
    covers: frozenset[str] = field(default_factory=frozenset)

    def findings(self, given: CheckInput) -> list[Finding]:
        """What this check finds in ``given``, as findings (unranked)."""
        return [
            Finding(
                self.kind,
                0,
                found.severity or self.severity,
                found.text,
                found.evidence,
                check=self.name,
                weight=self.weight if found.weight is None else found.weight,
            )
            for found in self.look(given)
        ]
