"""A planted API key must never show: not in reprs, errors, logs or tracebacks."""

from __future__ import annotations

import logging
import traceback
from collections.abc import Callable

import httpx
import pytest

import missionlab

SENTINEL = "KEY-SENTINEL-9f8e7d6c5b4a"


def echoing_server(request: httpx.Request) -> httpx.Response:
    """A hostile server that echoes the Authorization header back in every error."""
    auth = request.headers.get("authorization", "")
    return httpx.Response(
        500,
        json={"errors": [{"detail": f"bad header {auth}"}], "detail": auth},
        headers={"x-should-retry": "false"},
    )


def failing_transport(request: httpx.Request) -> httpx.Response:
    raise httpx.ConnectError(f"cannot send with {request.headers['authorization']}")


@pytest.mark.parametrize("handler", [echoing_server, failing_transport])
def test_sentinel_key_never_appears(
    handler: Callable[[httpx.Request], httpx.Response], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    client = missionlab.Client(
        api_key=SENTINEL, base_url="http://mock/v2", max_retries=1, transport=httpx.MockTransport(handler)
    )
    seen = [repr(client), str(client), repr(client._http.auth), repr(client.missions)]
    with pytest.raises(missionlab.APIError) as err:
        client.missions.list()
    error = err.value
    seen += [
        str(error),
        repr(error),
        repr(error.args),
        "".join(traceback.format_exception(error)),
        "".join(traceback.TracebackException.from_exception(error, capture_locals=True).format()),
    ]
    if isinstance(error, missionlab.APIStatusError):
        assert error.response is not None
        seen += [repr(error.reasons), repr(error.response.request.headers)]
    seen += [record.getMessage() for record in caplog.records]
    for text in seen:
        assert SENTINEL not in text
    assert "/ai/missions" in str(error)  # the error is still informative


def test_key_is_sent_to_the_server() -> None:
    headers: list[str] = []

    def server(request: httpx.Request) -> httpx.Response:
        headers.append(request.headers["authorization"])
        return httpx.Response(
            200,
            json={
                "data": [],
                "meta": {"page_number": 1, "page_size": 20, "total_pages": 0, "total_results": 0},
            },
        )

    missionlab.Client(
        api_key=SENTINEL, base_url="http://mock/v2", transport=httpx.MockTransport(server)
    ).missions.list()
    assert headers == [f"Bearer {SENTINEL}"]


def test_key_cannot_be_pickled_with_the_client() -> None:
    client = missionlab.Client(api_key=SENTINEL, base_url="http://mock/v2")
    with pytest.raises(TypeError):
        import pickle

        pickle.dumps(client._secret)
