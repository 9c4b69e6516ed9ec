"""The history's own paging against a newest-first list that grows while its pages are
fetched concurrently (issue 22): the real sandbox, reached through a transport that answers
one page of the organization's events after the page behind it, with events logged between
the two answers (an order of answers a server can't be made to produce on cue). After the
sync, every event the sandbox held before it is stored, once."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from missionlab import History, history
from missionlab._history import _sync
from missionlab.sandbox import Sandbox

from .conftest import unique
from .test_history import Interrupted, demo_sandbox, event_page

HELD = 5  # the page answered after the page behind it


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    yield from demo_sandbox()


class Growing(httpx.HTTPTransport):
    """HTTP to the sandbox, recording the pages of 1,000 events asked for; ``log()`` logs
    ``count`` events to the run ``run_id`` of ``mission_id``."""

    def __init__(self, sb: Sandbox, mission_id: str, run_id: str, count: int = 5) -> None:
        super().__init__()
        self.sb, self.mission_id, self.run_id, self.count = sb, mission_id, run_id, count
        self.fired = False
        self.pages: list[int] = []

    def log(self) -> None:
        assert self.sb.store is not None
        for n in range(self.count):
            self.sb.store.log_event(self.mission_id, self.run_id, {"type": "custom", "summary": f"late {n}"})

    def page(self, request: httpx.Request) -> int | None:
        number = event_page(request.url.path, dict(request.url.params))
        if number is not None:
            self.pages.append(number)
        return number


class PageAfterTheNext(Growing):
    """The first request for page ``HELD`` is sent once page ``HELD + 1`` is answered, after
    five events are logged: page ``HELD`` then holds the five events its later answer pushed
    past the end of the page behind's earlier answer."""

    def __init__(self, sb: Sandbox, mission_id: str, run_id: str) -> None:
        super().__init__(sb, mission_id, run_id)
        self.behind = threading.Event()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        number = self.page(request)
        if number == HELD and not self.fired:
            self.fired = True
            assert self.behind.wait(30), f"page {HELD + 1} was not asked for alongside page {HELD}"
            self.log()
        response = super().handle_request(request)
        if number == HELD + 1:
            response.read()
            self.behind.set()
        return response


class GrowsBeforeTheLastPage(Growing):
    """Before the first request for page ``last`` is sent, the list grows past it by five."""

    def __init__(self, sb: Sandbox, mission_id: str, run_id: str, last: int, room: int) -> None:
        super().__init__(sb, mission_id, run_id, count=room + 5)
        self.last = last

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if self.page(request) == self.last and not self.fired:
            self.fired = True
            self.log()
        return super().handle_request(request)


def event_ids(sb: Sandbox) -> set[str]:
    """Every event id the sandbox holds, read from its store."""
    assert sb.store is not None
    with sb.store.transaction() as db:
        return {row[0] for row in db.execute("SELECT event_id FROM events")}


def assert_every_event_once(before: set[str], h: History) -> None:
    got = h.events()["event_id"].tolist()
    assert len(got) == len(set(got)), "events stored twice"
    missing = before - set(got)
    assert not missing, f"{len(missing)} of the events held before the sync are missing"


def a_run(sb: Sandbox) -> tuple[str, str]:
    """A new run of a new mission (the late events are logged to it), as (mission, run)."""
    with sb.client() as client:
        mission = client.missions.create(name=unique("history-grows")).data
        run = client.missions.runs.create(mission.mission_id).data
    return mission.mission_id, run.run_id


def interrupted_first_sync(sb: Sandbox, path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A first sync stopped (as by Ctrl-C) once its first batch, pages 1 and 2, is handed over."""
    monkeypatch.setattr(_sync, "EVENT_BATCH_PAGES", 2)
    commit_walk = _sync.Syncer._commit_walk

    def commit_then_stop(self: _sync.Syncer, walk: dict[str, Any], events: list[Any]) -> None:
        commit_walk(self, walk, events)
        raise Interrupted

    monkeypatch.setattr(_sync.Syncer, "_commit_walk", commit_then_stop)
    with sb.client() as client, pytest.raises(Interrupted):
        history(client, path).sync(progress=False)
    monkeypatch.undo()
    assert len(History(path).events()) == 2000


def events_held(sb: Sandbox) -> int:
    with sb.client() as client:
        meta = client.missions.list_events(page_size=1).meta
    assert meta is not None
    return meta.total_results


@pytest.mark.parametrize("grows", ["page answered after the next", "past the last page"])
def test_a_resumed_walk_of_a_list_that_grows_loses_no_event(
    sandbox: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, grows: str
) -> None:
    """An interrupted first sync resumed: its walk down the rest of the events fetches pages
    eight at a time (``Syncer._pages``). Page 5 answered after page 6, with five events logged
    in between, lost the five events at their boundary; a list grown past its last page while
    the pages were fetched lost its oldest events (the walk ended at the first page's count)."""
    mission_id, run_id = a_run(sandbox)
    interrupted_first_sync(sandbox, tmp_path / "h", monkeypatch)
    before = event_ids(sandbox)
    total = events_held(sandbox)
    last = -(-total // 1000)
    assert last > HELD + 1
    transport = (
        PageAfterTheNext(sandbox, mission_id, run_id)
        if grows == "page answered after the next"
        else GrowsBeforeTheLastPage(sandbox, mission_id, run_id, last, room=last * 1000 - total)
    )
    with sandbox.client(transport=transport) as client:
        history(client, tmp_path / "h").sync(progress=False)
    assert transport.fired
    assert min(transport.pages) < HELD  # the walk carried on from before the held page
    assert_every_event_once(before, History(tmp_path / "h"))


def test_a_first_sync_whose_pages_are_answered_out_of_order_loses_no_event(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    """A first sync walks the events with the client's paging core (``iter_dicts``, eight
    pages in flight): page 5 answered after page 6, with five events logged in between."""
    mission_id, run_id = a_run(sandbox)
    before = event_ids(sandbox)
    transport = PageAfterTheNext(sandbox, mission_id, run_id)
    with sandbox.client(transport=transport) as client:
        history(client, tmp_path / "h").sync(progress=False)
    assert transport.fired
    assert_every_event_once(before, History(tmp_path / "h"))
