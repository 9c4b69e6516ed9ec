"""A client that a hostile or broken server cannot take down (issue 22).

On main a 2 MB gzip bomb inflated to 2.1 GB and ended in an untyped ``MemoryError``, an
answer that was not valid gzip raised httpx's own ``DecodingError``, and a call had no
deadline unless one was given. (The trickling server and explicit deadlines are in
test_deadline.py.)
"""

from __future__ import annotations

import json
import zlib
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest

import missionlab
from missionlab import APIError, InvalidArgumentError, ResponseTooLargeError

MISSION_ID = "182bd5e5-6e1a-4fe4-a799-aa6d9a6ab26e"
MIB = 1024 * 1024


class GzipBomb(httpx.SyncByteStream, httpx.AsyncByteStream):
    """A gzip body of 2 GiB of spaces (about 2 MB on the wire), made lazily as it is read.

    ``sent`` counts the compressed bytes the client has pulled from the server.
    """

    def __init__(self) -> None:
        self.sent = 0

    def chunks(self) -> Iterator[bytes]:
        packer = zlib.compressobj(9, zlib.DEFLATED, 31)  # 31: the gzip container
        block = b" " * MIB
        for _ in range(2048):
            chunk = packer.compress(block) + packer.flush(zlib.Z_SYNC_FLUSH)
            self.sent += len(chunk)
            yield chunk
        tail = packer.flush()
        self.sent += len(tail)
        yield tail

    def __iter__(self) -> Iterator[bytes]:
        return self.chunks()

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for chunk in self.chunks():
            yield chunk

    def close(self) -> None:
        pass

    async def aclose(self) -> None:
        pass

    def answer(self, request: httpx.Request) -> httpx.Response:
        headers = {"Content-Type": "application/json", "Content-Encoding": "gzip"}
        return httpx.Response(200, headers=headers, stream=self)


def test_a_gzip_bomb_is_refused_after_reading_a_sliver_of_it() -> None:
    bomb = GzipBomb()
    client = missionlab.Client(
        api_key="k",
        base_url="http://mock/v2",
        max_response_bytes=4 * MIB,
        transport=httpx.MockTransport(bomb.answer),
    )
    with pytest.raises(ResponseTooLargeError, match="larger than 4,194,304 bytes") as err:
        client.missions.retrieve(MISSION_ID)
    assert err.value.limit == 4 * MIB and isinstance(err.value, APIError)
    assert "max_response_bytes" in str(err.value)
    # 1 MiB of spaces packs into about 1 KB, so 5 blocks (of 2048) were pulled before the refusal
    one_block = len(zlib.compress(b" " * MIB, 9))
    assert bomb.sent <= 6 * (one_block + 64)


async def test_the_async_client_refuses_the_bomb_too() -> None:
    bomb = GzipBomb()
    client = missionlab.AsyncClient(
        api_key="k",
        base_url="http://mock/v2",
        max_response_bytes=MIB,
        transport=httpx.MockTransport(bomb.answer),
    )
    with pytest.raises(ResponseTooLargeError):
        await client.missions.retrieve(MISSION_ID)
    one_block = len(zlib.compress(b" " * MIB, 9))
    assert bomb.sent <= 3 * (one_block + 64)
    await client.aclose()


def test_the_cap_is_not_retried_and_is_checked_by_name() -> None:
    bomb = GzipBomb()
    client = missionlab.Client(
        api_key="k",
        base_url="http://mock/v2",
        max_response_bytes=MIB,
        transport=httpx.MockTransport(bomb.answer),
    )
    with pytest.raises(ResponseTooLargeError):
        client.missions.list()
    one_block = len(zlib.compress(b" " * MIB, 9))
    assert bomb.sent <= 3 * (one_block + 64)  # one attempt: a too-large answer is not asked for again
    for bad in (0, -1, 1.5, True, "big"):
        with pytest.raises(InvalidArgumentError, match="max_response_bytes"):
            missionlab.Client(api_key="k", base_url="http://mock/v2", max_response_bytes=bad)  # type: ignore[arg-type]


def test_answers_under_the_cap_read_as_before(sandbox: missionlab.sandbox.Sandbox) -> None:
    client = missionlab.Client(api_key=sandbox.token, base_url=sandbox.url)
    page = client.missions.list(page_size=3)
    expected = httpx.get(
        f"{sandbox.url}/ai/missions",
        params={"page[size]": 3},
        headers={"Authorization": f"Bearer {sandbox.token}"},
    ).json()
    assert [str(m.mission_id) for m in page.data] == [m["mission_id"] for m in expected["data"]]
    small = missionlab.Client(api_key=sandbox.token, base_url=sandbox.url, max_response_bytes=100)
    with pytest.raises(ResponseTooLargeError):
        small.missions.list(page_size=3)
    client.close()
    small.close()


def test_a_gzip_answer_decodes_and_a_broken_one_is_an_api_error() -> None:
    mission = {
        "mission_id": MISSION_ID,
        "name": "zipped",
        "execution_mode": "external",
        "created_at": "2025-01-01T00:00:00Z",
        "updated_at": "2025-01-01T00:00:00Z",
    }
    body = json.dumps({"data": mission}).encode()

    def zipped(request: httpx.Request) -> httpx.Response:
        packed = zlib.compress(body, 9, wbits=31)
        return httpx.Response(200, headers={"Content-Encoding": "gzip"}, content=packed)

    def broken(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers={"Content-Encoding": "gzip"}, content=b"not gzip at all")

    good = missionlab.Client(api_key="k", base_url="http://mock/v2", transport=httpx.MockTransport(zipped))
    assert good.missions.retrieve(MISSION_ID).data.name == "zipped"
    bad = missionlab.Client(api_key="k", base_url="http://mock/v2", transport=httpx.MockTransport(broken))
    with pytest.raises(APIError, match="could not be decoded"):
        bad.missions.retrieve(MISSION_ID)


def test_every_call_has_a_deadline_unless_told_otherwise() -> None:
    # The documented default (README, Client's docstring): 300 s for a whole call.
    assert missionlab.Client(api_key="k", base_url="http://mock/v2").deadline == 300.0
    assert missionlab.AsyncClient(api_key="k", base_url="http://mock/v2").deadline == 300.0
    assert missionlab.Client(api_key="k", base_url="http://mock/v2", deadline=None).deadline is None
