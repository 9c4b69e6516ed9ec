"""Retry behaviour, with httpx.MockTransport for what a server can't easily produce."""

from __future__ import annotations

import email.utils
import json
import time
from collections.abc import Callable, Sequence
from typing import Any

import httpx
import pytest

import missionlab
from missionlab.client import _retry

MISSION_ID = "182bd5e5-6e1a-4fe4-a799-aa6d9a6ab26e"
RUN = {
    "run_id": MISSION_ID,
    "mission_id": MISSION_ID,
    "status": "running",
    "started_at": "2026-01-01T00:00:00Z",
    "updated_at": "2026-01-01T00:00:00Z",
}
MISSION = {
    "mission_id": MISSION_ID,
    "name": "m",
    "execution_mode": "external",
    "created_at": "2026-01-01T00:00:00Z",
    "updated_at": "2026-01-01T00:00:00Z",
}


class Recorder:
    """A mock server: answers in turn from ``answers``, recording every request."""

    def __init__(
        self, answers: Sequence[Callable[[httpx.Request], httpx.Response] | httpx.Response | Exception]
    ) -> None:
        self.answers = answers
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        answer = self.answers[min(len(self.requests), len(self.answers)) - 1]
        if isinstance(answer, Exception):
            raise answer
        return answer(request) if callable(answer) else answer


def make_client(server: Recorder, max_retries: int = 2) -> missionlab.Client:
    return missionlab.Client(
        api_key="k", base_url="http://mock/v2", max_retries=max_retries, transport=httpx.MockTransport(server)
    )


@pytest.fixture
def sleeps(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    recorded: list[float] = []
    monkeypatch.setattr(time, "sleep", recorded.append)
    return recorded


def ok(body: Any, status: int = 200, **headers: str) -> httpx.Response:
    return httpx.Response(status, json=body, headers=headers)


def test_backoff_schedule_doubles_from_half_a_second_and_caps_at_8(sleeps: list[float]) -> None:
    server = Recorder([ok({}, 503)] * 7 + [ok({"data": MISSION})])
    make_client(server, max_retries=7).missions.retrieve(MISSION_ID)
    assert len(server.requests) == 8
    for delay, base in zip(sleeps, [0.5, 1, 2, 4, 8, 8, 8], strict=True):
        assert 0.75 * base <= delay <= base  # up to 25 % jitter, never above the schedule


def test_gives_up_after_max_retries_with_the_last_error(sleeps: list[float]) -> None:
    server = Recorder([ok({"errors": [{"detail": "down for maintenance"}]}, 503)])
    with pytest.raises(missionlab.InternalServerError) as err:
        make_client(server, max_retries=2).missions.retrieve(MISSION_ID)
    assert len(server.requests) == 3 and len(sleeps) == 2
    assert "503" in str(err.value) and "down for maintenance" in str(err.value)


@pytest.mark.parametrize("status", [408, 429, 500, 502, 503, 504])
def test_retryable_statuses(status: int, sleeps: list[float]) -> None:
    server = Recorder([ok({}, status), ok({"data": MISSION})])
    assert make_client(server).missions.retrieve(MISSION_ID).data.name == "m"
    assert len(server.requests) == 2


@pytest.mark.parametrize("status", [400, 401, 403, 404, 409, 422])
def test_client_errors_are_not_retried(status: int, sleeps: list[float]) -> None:
    server = Recorder([ok({"errors": [{"detail": "no"}]}, status)])
    with pytest.raises(missionlab.APIStatusError) as err:
        make_client(server).missions.retrieve(MISSION_ID)
    assert err.value.status_code == status and len(server.requests) == 1


NOW = 1_800_000_000.0


@pytest.mark.parametrize(
    "headers,expected",
    [
        ({"retry-after": "3"}, 3.0),
        ({"retry-after": "1.5"}, 1.5),
        ({"retry-after-ms": "250"}, 0.25),
        ({"retry-after-ms": "250", "retry-after": "9"}, 0.25),  # ms wins
        ({"retry-after": email.utils.formatdate(NOW + 7, usegmt=True)}, 7.0),
        ({"retry-after": "-1"}, None),
        ({"retry-after": "61"}, None),  # beyond 60 s: use our own backoff
        ({"retry-after-ms": "60001"}, None),
        ({"retry-after": "soon"}, None),
        ({"retry-after": ""}, None),
        ({}, None),
    ],
)
def test_retry_after_table(headers: dict[str, str], expected: float | None) -> None:
    value = _retry.retry_after(httpx.Headers(headers), now=NOW)
    assert value == (pytest.approx(expected, abs=0.01) if expected is not None else None)


def test_retry_after_is_honoured(sleeps: list[float]) -> None:
    server = Recorder([ok({}, 429, **{"retry-after": "4"}), ok({"data": MISSION})])
    make_client(server).missions.retrieve(MISSION_ID)
    assert sleeps == [4.0]


def test_too_long_retry_after_falls_back_to_backoff(sleeps: list[float]) -> None:
    server = Recorder([ok({}, 429, **{"retry-after": "600"}), ok({"data": MISSION})])
    make_client(server).missions.retrieve(MISSION_ID)
    assert 0.375 <= sleeps[0] <= 0.5


def test_x_should_retry_false_stops_retries(sleeps: list[float]) -> None:
    server = Recorder([ok({}, 503, **{"x-should-retry": "false"})])
    with pytest.raises(missionlab.InternalServerError):
        make_client(server).missions.retrieve(MISSION_ID)
    assert len(server.requests) == 1


def test_x_should_retry_true_retries_any_status_even_unsafe(sleeps: list[float]) -> None:
    server = Recorder([ok({}, 400, **{"x-should-retry": "true"}), ok({"data": MISSION}, 201)])
    make_client(server).missions.create(name="m")
    assert len(server.requests) == 2


def test_connection_errors_and_timeouts_are_retried_for_reads(sleeps: list[float]) -> None:
    server = Recorder([httpx.ConnectError("refused"), httpx.ReadTimeout("slow"), ok({"data": MISSION})])
    make_client(server).missions.retrieve(MISSION_ID)
    assert len(server.requests) == 3


def test_timeout_error_class_and_message(sleeps: list[float]) -> None:
    server = Recorder([httpx.ReadTimeout("timed out")])
    with pytest.raises(missionlab.APITimeoutError) as err:
        make_client(server, max_retries=0).missions.retrieve(MISSION_ID)
    assert "timed out" in str(err.value) and "GET /ai/missions/{mission_id}" in str(err.value)


@pytest.mark.parametrize(
    "failure",
    [
        ok({}, 500),
        ok({}, 503),
        httpx.ReadTimeout("slow"),
        httpx.RemoteProtocolError("dropped"),
    ],
)
def test_unsafe_posts_are_not_sent_twice_when_the_server_may_have_acted(
    failure: Any, sleeps: list[float]
) -> None:
    server = Recorder([failure, ok({"data": RUN}, 201)])
    client = make_client(server)
    with pytest.raises(missionlab.APIError) as err:
        client.missions.runs.create(MISSION_ID)
    assert len(server.requests) == 1
    if isinstance(failure, Exception):
        assert "may have acted" in str(err.value)


@pytest.mark.parametrize(
    "failure", [ok({}, 429), ok({}, 408), httpx.ConnectError("refused"), httpx.ConnectTimeout("no route")]
)
def test_unsafe_posts_are_retried_when_the_server_surely_did_not_act(
    failure: Any, sleeps: list[float]
) -> None:
    server = Recorder([failure, ok({"data": RUN}, 201)])
    make_client(server).missions.runs.create(MISSION_ID)
    assert len(server.requests) == 2


def test_event_logging_is_retried_with_the_same_idempotency_key(sleeps: list[float]) -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        return ok(
            {
                "data": {
                    "event_id": "e1",
                    "run_id": MISSION_ID,
                    "type": body["type"],
                    "summary": body["summary"],
                    "timestamp": "2026-01-01T00:00:00Z",
                    "idempotency_key": body["idempotency_key"],
                }
            },
            201,
        )

    server = Recorder([httpx.ReadTimeout("slow"), ok({}, 502), answer])
    event = (
        make_client(server)
        .missions.runs.events.log(MISSION_ID, mission_id=MISSION_ID, type="message", summary="hello")
        .data
    )
    keys = [json.loads(r.content)["idempotency_key"] for r in server.requests]
    assert len(keys) == 3 and len(set(keys)) == 1 and keys[0]
    assert event.idempotency_key == keys[0]


def test_given_idempotency_key_is_kept(sleeps: list[float]) -> None:
    server = Recorder(
        [
            ok({}, 503),
            ok(
                {
                    "data": {
                        "event_id": "e1",
                        "run_id": MISSION_ID,
                        "type": "message",
                        "summary": "s",
                        "timestamp": "2026-01-01T00:00:00Z",
                    }
                },
                201,
            ),
        ]
    )
    make_client(server).missions.runs.events.log(
        MISSION_ID, mission_id=MISSION_ID, type="message", summary="s", idempotency_key="mine"
    )
    assert {json.loads(r.content)["idempotency_key"] for r in server.requests} == {"mine"}


def test_retried_delete_that_finds_nothing_counts_as_deleted(sleeps: list[float]) -> None:
    server = Recorder([httpx.ReadTimeout("slow"), ok({"errors": [{"detail": "gone"}]}, 404)])
    delete: Callable[[str], object] = make_client(server).missions.delete_mission  # typed to return None
    assert delete(MISSION_ID) is None
    assert len(server.requests) == 2


async def test_async_client_retries_the_same_way(monkeypatch: pytest.MonkeyPatch) -> None:
    slept: list[float] = []

    async def fake_sleep(delay: float) -> None:
        slept.append(delay)

    monkeypatch.setattr("asyncio.sleep", fake_sleep)
    server = Recorder([ok({}, 503), ok({}, 429, **{"retry-after-ms": "100"}), ok({"data": MISSION})])
    client = missionlab.AsyncClient(
        api_key="k", base_url="http://mock/v2", transport=httpx.MockTransport(server)
    )
    mission = (await client.missions.retrieve(MISSION_ID)).data
    assert mission.name == "m" and len(server.requests) == 3
    assert 0.375 <= slept[0] <= 0.5 and slept[1] == pytest.approx(0.1)
    server = Recorder([ok({}, 500)])
    client = missionlab.AsyncClient(
        api_key="k", base_url="http://mock/v2", transport=httpx.MockTransport(server)
    )
    with pytest.raises(missionlab.InternalServerError):
        await client.missions.runs.create(MISSION_ID)
    assert len(server.requests) == 1
