"""Shared fixtures: a real sandbox over HTTP, and both clients against it."""

from __future__ import annotations

import inspect
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from anyio.from_thread import BlockingPortal, start_blocking_portal

import missionlab
from missionlab.sandbox import Sandbox


class Portal:
    """anyio's blocking portal (an event loop in a thread), so sync tests can drive the async client."""

    def __init__(self, portal: BlockingPortal) -> None:
        self.portal = portal

    def run(self, awaitable: Any, timeout: float = 60) -> Any:
        """Await ``awaitable`` (e.g. a coroutine made in this thread) in the portal's loop."""

        async def wrap() -> Any:
            return await awaitable

        return self.portal.start_task_soon(wrap).result(timeout)


class Api:
    """One of the two clients, with ``api(x)`` resolving a result or awaiting a coroutine."""

    def __init__(self, client: Any, portal: Portal | None) -> None:
        self.client = client
        self.portal = portal
        self.is_async = portal is not None

    def __call__(self, value: Any) -> Any:
        if inspect.isawaitable(value):
            assert self.portal is not None
            return self.portal.run(value)
        return value


@pytest.fixture(scope="session")
def sandbox() -> Iterator[Sandbox]:
    """A sandbox with demo data, shared by the session (tests make their own missions)."""
    with Sandbox(demo=True, speed=50) as sb:
        yield sb


@pytest.fixture(scope="session")
def portal() -> Iterator[Portal]:
    with start_blocking_portal() as blocking:
        yield Portal(blocking)
        # Like a stopped loop: a task left behind by a timed-out test must not hold the session.
        blocking.call(blocking.stop, True)


@pytest.fixture
def client(sandbox: Sandbox) -> Iterator[missionlab.Client]:
    with sandbox.client() as c:
        yield c


@pytest.fixture(params=["sync", "async"])
def api(request: pytest.FixtureRequest, sandbox: Sandbox, portal: Portal) -> Iterator[Api]:
    """Each test using it runs once with Client and once with AsyncClient."""
    if request.param == "sync":
        with sandbox.client() as sync_client:
            yield Api(sync_client, None)
    else:
        async_client = sandbox.async_client()
        yield Api(async_client, portal)
        portal.run(async_client.aclose())


def unique(name: str) -> str:
    return f"{name} {uuid.uuid4().hex[:6]}"


def wait_for(check: Callable[[], Any], timeout: float = 20) -> Any:
    """Poll ``check`` until it returns something truthy, and return that."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError("condition not met in time")
