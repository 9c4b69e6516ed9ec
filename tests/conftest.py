"""Shared fixtures: a real sandbox over HTTP, and both clients against it."""

from __future__ import annotations

import asyncio
import inspect
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest

import missionlab
from missionlab.sandbox import Sandbox


class Portal:
    """An event loop in a thread, so sync tests can drive the async client."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    def run(self, awaitable: Any, timeout: float = 60) -> Any:
        async def wrap() -> Any:
            return await awaitable

        return asyncio.run_coroutine_threadsafe(wrap(), self.loop).result(timeout)

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)


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
    p = Portal()
    yield p
    p.close()


@pytest.fixture
def client(sandbox: Sandbox) -> Iterator[missionlab.Client]:
    with sandbox.client() as c:
        yield c


@pytest.fixture(params=["sync", "async"])
def api(request: pytest.FixtureRequest, sandbox: Sandbox, portal: Portal) -> Iterator[Api]:
    """Each test using it runs once with Client and once with AsyncClient."""
    if request.param == "sync":
        with sandbox.client() as c:
            yield Api(c, None)
    else:
        c = sandbox.async_client()
        yield Api(c, portal)
        portal.run(c.aclose())


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
