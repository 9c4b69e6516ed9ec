"""What the sync's parts share: its report, and how API items (JSON dicts or models) and
their times are read."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

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


def get(item: Any, name: str) -> Any:
    """A field of an API item: a JSON dict's key or a model's attribute (None when missing)."""
    return item.get(name) if isinstance(item, dict) else getattr(item, name, None)


def instant(value: Any) -> datetime:
    """A time from the API (an ISO 8601 string or a datetime) as an aware UTC datetime
    (naive times are taken as UTC)."""
    if isinstance(value, datetime):
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    try:
        return instant(datetime.fromisoformat(value))
    except (TypeError, ValueError):  # forms fromisoformat does not read (nanoseconds, ...)
        stamp: datetime = utc(value).to_pydatetime()
        return stamp


def page_size_for(fresh: int) -> int:
    """A page size that likely holds ``fresh`` new items and the slack below them in one page."""
    return max(20, min(PAGE, int(fresh * 1.1) + 20))


def utc(value: Any) -> pd.Timestamp:
    """A time as a UTC timestamp (naive times are taken as UTC)."""
    return (
        pd.Timestamp(value).tz_convert("UTC") if pd.Timestamp(value).tzinfo else pd.Timestamp(value, tz="UTC")
    )


EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
EPOCH_DAY = date(1970, 1, 1).toordinal()


def python_values(column: pa.ChunkedArray) -> list[Any]:
    """A column's values as Python objects; UTC times and days through their integers, which
    is many times faster than Arrow's conversion of zoned timestamps (a second per 50,000)."""
    if pa.types.is_timestamp(column.type):
        micros = pc.cast(pc.cast(column, pa.timestamp("us", "UTC")), pa.int64()).to_pylist()
        return [None if m is None else EPOCH + timedelta(microseconds=m) for m in micros]
    if pa.types.is_date32(column.type):
        days = pc.cast(column, pa.int32()).to_pylist()
        return [None if d is None else date.fromordinal(EPOCH_DAY + d) for d in days]
    values: list[Any] = column.to_pylist()
    return values
