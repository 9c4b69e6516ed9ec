"""Fetching only the events of a run that a watcher has not seen yet.

A run's events are listed oldest first, so the first unseen event is at index ``count``
(the number already held). The page read is the one that starts closest before it, of
a size that makes it start exactly there when one does (``count`` 2,000: page 3 of
1,000), so that nothing already held is sent again; the pages after it are read only
when more is new than one page holds. The page's ``meta.total_results`` and the ids it
returns check that nothing was inserted among the events already held (an agent may
log an event with an older timestamp): when something was, every event is read again.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, NamedTuple

from ..limits import MAX_PAGE_SIZE

if TYPE_CHECKING:
    from ._client import Client

__all__ = ["NewEvents", "new_events", "page_for"]

MIN_PAGE_SIZE = 100  # smaller pages would take more requests than they save bytes


class NewEvents(NamedTuple):
    """The events after the ones held, or (``reloaded``) every event of the run, in order."""

    events: list[Any]
    reloaded: bool


def page_for(count: int) -> tuple[int, int]:
    """(page number, page size) of the page holding event ``count`` (0-based) whose start is
    closest before it, preferring larger pages: ``page_for(2000) == (3, 1000)``."""
    if count < MIN_PAGE_SIZE:
        return 1, MAX_PAGE_SIZE
    size = min(range(MAX_PAGE_SIZE, MIN_PAGE_SIZE - 1, -1), key=lambda size: count % size)
    return count // size + 1, size


def new_events(client: Client, mission_id: str, run_id: str, held: Sequence[Any]) -> NewEvents:
    """The events of a run after the ``held`` ones (which came from the same list, in order)."""
    events_api = client.missions.runs.events
    count = len(held)
    number, size = page_for(count)
    page = events_api.list(run_id, mission_id=mission_id, page_number=number, page_size=size)
    offset = (number - 1) * size
    fetched = list(page.data)
    while len(page.data) == size and page.has_next_page():  # more is new than one page holds
        page = page.get_next_page()
        fetched.extend(page.data)
    again, fresh = fetched[: count - offset], fetched[count - offset :]
    known = {event.event_id for event in held}
    total = page.meta.total_results if page.meta is not None else offset + len(fetched)
    consistent = (
        [e.event_id for e in again] == [e.event_id for e in held[offset:count]]
        and not any(event.event_id in known for event in fresh)
        and total == count + len(fresh)
    )
    if consistent:
        return NewEvents(fresh, reloaded=False)
    every = events_api.list(run_id, mission_id=mission_id, page_size=MAX_PAGE_SIZE).fetch_all(progress=False)
    return NewEvents(list(every), reloaded=True)
