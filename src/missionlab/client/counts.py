"""How many runs each mission has, and its latest run's status: one small request per mission.

``run_counts(client, mission_ids)`` asks for a one-run page of each mission's runs (newest
first), concurrently, and reads the total from the page's ``meta``.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING, NamedTuple

from ._concurrent import MAX_CONCURRENT_REQUESTS, bounded_map

if TYPE_CHECKING:
    from ._client import Client

__all__ = ["RunCount", "run_counts"]


class RunCount(NamedTuple):
    """A mission's number of runs, and its newest run's status and start (if it has runs)."""

    total: int
    last_status: str = ""
    last_started_at: datetime | None = None


def run_count(client: Client, mission_id: str) -> RunCount:
    """The :class:`RunCount` of one mission."""
    page = client.missions.runs.list(mission_id, page_size=1)
    total = page.meta.total_results if page.meta else len(page.data)
    if not page.data:
        return RunCount(total)
    newest = page.data[0]
    return RunCount(total, str(newest.status), newest.started_at)


def run_counts(
    client: Client, mission_ids: Iterable[str], *, workers: int = MAX_CONCURRENT_REQUESTS
) -> dict[str, RunCount]:
    """``{mission_id: RunCount}`` for every mission, fetched ``workers`` at a time."""
    ids = list(dict.fromkeys(mission_ids))
    counts = bounded_map(lambda i: run_count(client, i), ids, limit=workers, name="missionlab-counts")
    return dict(zip(ids, counts, strict=True))
