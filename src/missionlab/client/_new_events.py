"""Fetching only what changed of a run that a watcher holds: its new events, and its run and plan
read into models only when their answers changed; and every event of a run (:func:`every_event`),
for a first read or when the events held no longer match.

A run's events are listed oldest first, so the first unseen event is at index ``count``
(the number already held). The page read is the one that starts closest before it, of
a size that makes it start exactly there when one does (``count`` 2,000: page 3 of
1,000), so that nothing already held is sent again; the pages after it are read only
when more is new than one page holds. The page's ``meta.total_results`` and the ids it
returns check that nothing was inserted among the events already held (an agent may
log an event with an older timestamp): when something was, every event is read again.

:func:`reread` fetches the run or its plan and makes the model only when the answer's bytes
differ from those read last time (a watched run's plan seldom changes; validating its steps
again on every refresh would cost more than the request).
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, NamedTuple

from ..limits import MAX_PAGE_SIZE
from . import _json
from ._call import Call
from ._items import ItemList
from ._pagination import PageRequest, fetch_every
from .models import Event, PlanResponse, RunResponse
from .resources._args import run_path

if TYPE_CHECKING:
    import httpx

    from ._client import Client

__all__ = ["NewEvents", "Reread", "every_event", "new_events", "page_for", "reread"]

# what reread() reads: (path after the run's, operation, answer model)
_REREAD: dict[str, tuple[str, str, type[RunResponse] | type[PlanResponse]]] = {
    "run": ("", "GET .../runs/{run_id}", RunResponse),
    "plan": ("/plan", "GET .../runs/{run_id}/plan", PlanResponse),
}

MIN_PAGE_SIZE = 100  # smaller pages would take more requests than they save bytes


class NewEvents(NamedTuple):
    """The events after the ones held, or (``reloaded``) every event of the run, in order."""

    events: list[Any]
    reloaded: bool


@functools.lru_cache(maxsize=16)  # a watched run's count stays the same while nothing is new
def page_for(count: int) -> tuple[int, int]:
    """(page number, page size) of the page holding event ``count`` (0-based) whose start is
    closest before it, preferring larger pages: ``page_for(2000) == (3, 1000)``."""
    if count < MIN_PAGE_SIZE:
        return 1, MAX_PAGE_SIZE
    size = min(range(MAX_PAGE_SIZE, MIN_PAGE_SIZE - 1, -1), key=count.__mod__)
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
    # events inserted before the page push the last ones held into it (when the page starts
    # before the first unseen event, ``again`` no longer matches instead): those are the
    # events held that a fresh one can be (not every id held, read again on every refresh)
    pushed = {event.event_id for event in held[max(0, count - len(fresh)) : count]} if fresh else set()
    total = page.meta.total_results if page.meta is not None else offset + len(fetched)
    consistent = (
        [e.event_id for e in again] == [e.event_id for e in held[offset:count]]
        and not any(event.event_id in pushed for event in fresh)
        and total == count + len(fresh)
    )
    if consistent:
        return NewEvents(fresh, reloaded=False)
    return NewEvents(list(every_event(client, mission_id, run_id)), reloaded=True)


def every_event(
    client: Client, mission_id: str, run_id: str, *, progress: bool | None = False
) -> ItemList[Event]:
    """Every event of a run, oldest first: ``client.missions.runs.events.list(run_id,
    mission_id=mission_id, page_size=1000).fetch_all(progress=progress)``, without the models
    that ``list`` makes of the first page and ``fetch_all`` does not use."""
    path = run_path(mission_id, run_id, reading=True) + "/events"
    request = PageRequest(path, "GET .../runs/{run_id}/events", Event, {}, page_size=MAX_PAGE_SIZE)
    return fetch_every(client, request, progress=progress)


class Reread(NamedTuple):
    """The run or plan read again: its ``data`` (None when the answer is the one read last
    time) and the answer's bytes."""

    data: Any
    body: bytes


def reread(client: Client, what: str, mission_id: str, run_id: str, last: bytes | None) -> Reread:
    """The run (``what="run"``) or its plan (``"plan"``), as one GET; the answer is validated
    into models only when its bytes differ from ``last`` (an invalid answer raises
    :class:`~missionlab.APIError` as the resource's own method does)."""
    suffix, operation, model = _REREAD[what]

    def parse(response: httpx.Response) -> Reread:
        body = response.content
        if last is not None and body == last:
            return Reread(None, body)
        return Reread(_json.validate(model, body).data, body)

    path = run_path(mission_id, run_id, reading=True) + suffix
    result: Reread = client._send(Call("GET", path, operation, parse))
    return result
