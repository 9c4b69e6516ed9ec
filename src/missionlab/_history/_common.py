"""What the sync's parts share: its report, and how API items and times are read."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

PAGE = 1000


@dataclass
class SyncReport:
    """What one sync did."""

    first: bool = False
    missions: int = 0
    new_runs: int = 0
    changed_runs: int = 0
    new_events: int = 0
    plans: int = 0
    runs_recounted: int = 0
    requests: int = 0
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        kind = "first sync" if self.first else "sync"
        return (
            f"{kind}: {self.new_runs} new and {self.changed_runs} changed runs, "
            f"{self.new_events} new events, {self.plans} plans, {self.requests} requests "
            f"in {self.seconds:.1f} s"
        )


def wire(item: Any) -> dict[str, Any]:
    """An API object as its JSON dict (models are dumped; dicts pass)."""
    if isinstance(item, dict):
        return item
    dumped: dict[str, Any] = item.model_dump(mode="json", exclude_none=True)
    return dumped


def page_size_for(fresh: int) -> int:
    """A page size that likely holds ``fresh`` new items and the slack below them in one page."""
    return max(20, min(PAGE, int(fresh * 1.1) + 20))


def utc(value: Any) -> pd.Timestamp:
    """A time as a UTC timestamp (naive times are taken as UTC)."""
    return (
        pd.Timestamp(value).tz_convert("UTC") if pd.Timestamp(value).tzinfo else pd.Timestamp(value, tz="UTC")
    )
