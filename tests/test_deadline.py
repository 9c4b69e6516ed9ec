"""A whole-call deadline (issue 10 item 9): retries, waits and slow answers included.

On main a server trickling a byte every 0.5 s held a ``timeout=1`` call for over
25 s, and ``Retry-After: 5`` made a ``timeout=1, max_retries=2`` call take 10 s;
there was no deadline option at all.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import httpx
import pytest

import missionlab
from missionlab import APITimeoutError

from .conftest import Portal

MISSION_ID = "182bd5e5-6e1a-4fe4-a799-aa6d9a6ab26e"


class TricklingServer:
    """An HTTP server that answers one byte every ``interval`` seconds, in the headers or the body."""

    def __init__(self, where: str, interval: float = 0.5) -> None:
        self.where = where
        self.interval = interval
        self.stop = threading.Event()
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.listener.getsockname()[1]}/v2"
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def serve(self) -> None:
        self.listener.settimeout(0.2)
        while not self.stop.is_set():
            try:
                connection, _ = self.listener.accept()
            except TimeoutError:
                continue
            threading.Thread(target=self.answer, args=(connection,), daemon=True).start()

    def answer(self, connection: socket.socket) -> None:
        with connection:
            request = b""
            while b"\r\n\r\n" not in request:
                request += connection.recv(4096)
            if self.where == "body":
                connection.sendall(
                    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 999\r\n\r\n"
                )
                trickle = b'{"data": ' + b" " * 990
            else:
                connection.sendall(b"HTTP/1.1 200 OK\r\n")
                trickle = b"X-Slow: " + b"a" * 990
            for byte in trickle:
                if self.stop.wait(self.interval):
                    return
                try:
                    connection.sendall(bytes([byte]))
                except OSError:
                    return  # the client gave up

    def close(self) -> None:
        self.stop.set()
        self.thread.join(2)
        self.listener.close()


@pytest.fixture(params=["headers", "body"])
def trickling(request: pytest.FixtureRequest) -> Iterator[TricklingServer]:
    server = TricklingServer(request.param)
    yield server
    server.close()


def test_a_trickling_server_cannot_hold_a_call_past_its_deadline(trickling: TricklingServer) -> None:
    client = missionlab.Client(api_key="k", base_url=trickling.url, timeout=1, max_retries=2)
    started = time.monotonic()
    with pytest.raises(APITimeoutError, match="deadline of 1 s"):
        client.missions.retrieve(MISSION_ID, deadline=1)
    assert time.monotonic() - started < 2.0  # ~1 s; well under the 25 s main took
    client.close()


def test_the_client_wide_deadline_applies_to_every_call(trickling: TricklingServer) -> None:
    client = missionlab.Client(api_key="k", base_url=trickling.url, deadline=0.8)
    started = time.monotonic()
    with pytest.raises(APITimeoutError):
        client.missions.list()
    assert time.monotonic() - started < 2.0
    client.close()


def test_the_async_client_keeps_its_deadline(trickling: TricklingServer, portal: Portal) -> None:
    client = missionlab.AsyncClient(api_key="k", base_url=trickling.url)
    started = time.monotonic()
    with pytest.raises(APITimeoutError):
        portal.run(client.missions.retrieve(MISSION_ID, deadline=1))
    assert time.monotonic() - started < 2.0
    portal.run(client.aclose())


def busy(request: httpx.Request) -> httpx.Response:
    return httpx.Response(503, json={"errors": [{"detail": "busy"}]}, headers={"Retry-After": "5"})


def test_a_retry_after_beyond_the_deadline_is_not_waited_for(monkeypatch: pytest.MonkeyPatch) -> None:
    slept: list[float] = []
    monkeypatch.setattr(time, "sleep", slept.append)
    client = missionlab.Client(
        api_key="k", base_url="http://mock/v2", max_retries=2, transport=httpx.MockTransport(busy)
    )
    with pytest.raises(APITimeoutError, match="HTTP 503") as err:
        client.missions.retrieve(MISSION_ID, deadline=1)
    assert slept == [] and "5.00 s" in str(err.value)
    with pytest.raises(missionlab.InternalServerError):  # without a deadline, it waits and retries
        client.missions.retrieve(MISSION_ID)
    assert slept == [5.0, 5.0]


async def test_the_async_client_does_not_wait_past_its_deadline() -> None:
    client = missionlab.AsyncClient(
        api_key="k", base_url="http://mock/v2", transport=httpx.MockTransport(busy)
    )
    started = time.monotonic()
    with pytest.raises(APITimeoutError):
        await client.missions.retrieve(MISSION_ID, deadline=1)
    assert time.monotonic() - started < 1.0


def test_a_deadline_leaves_fast_calls_alone(sandbox: missionlab.sandbox.Sandbox) -> None:
    client = missionlab.Client(base_url=sandbox.url, deadline=30)
    assert client.missions.list(page_size=1, deadline=5).meta is not None
    assert client.missions.list(page_size=1, deadline=None).meta is not None  # None: no deadline
