"""Readable errors from the server, and bad arguments refused before anything is sent."""

from __future__ import annotations

import pickle
from typing import Any

import httpx
import pytest

import missionlab
from missionlab import (
    APIConnectionError,
    AuthenticationError,
    InvalidArgumentError,
    NotFoundError,
    UnprocessableEntityError,
)
from missionlab.client.errors import status_error
from missionlab.sandbox import Sandbox

UUID = "182bd5e5-6e1a-4fe4-a799-aa6d9a6ab26e"


def never_sent() -> missionlab.Client:
    def server(request: httpx.Request) -> httpx.Response:
        raise AssertionError(f"a request was sent: {request.method} {request.url}")

    return missionlab.Client(base_url="http://mock/v2", transport=httpx.MockTransport(server))


@pytest.mark.parametrize(
    "call,argument",
    [
        # UUIDs are required where we write; reads take plain-string ids (test_plain_ids)
        (lambda c: c.missions.update_mission("not-a-uuid", name="n"), "mission_id"),
        (lambda c: c.missions.retrieve("a/b"), "mission_id"),
        (lambda c: c.missions.retrieve(""), "mission_id"),
        (lambda c: c.missions.retrieve(None), "mission_id"),
        (lambda c: c.missions.runs.update("x", mission_id=UUID, status="failed"), "run_id"),
        (lambda c: c.missions.create(name=""), "name"),
        (lambda c: c.missions.create(name=42), "name"),
        (lambda c: c.missions.create(name="n", execution_mode="auto"), "execution_mode"),
        (lambda c: c.missions.create(name="n", metadata=[1]), "metadata"),
        (lambda c: c.missions.create(name="n", metadata={"x": object()}), "metadata"),
        (lambda c: c.missions.runs.create(UUID, input="{}"), "input"),
        (lambda c: c.missions.runs.list(UUID, status=""), "status"),
        (lambda c: c.missions.runs.list(UUID, page_size=1001), "page_size"),
        (lambda c: c.missions.runs.list(UUID, page_number=0), "page_number"),
        (lambda c: c.missions.runs.update(UUID, mission_id=UUID, status="finished"), "status"),
        (lambda c: c.missions.runs.events.log(UUID, mission_id=UUID, type="oops", summary="s"), "type"),
        (lambda c: c.missions.runs.events.log(UUID, mission_id=UUID, type="message", summary=""), "summary"),
        (lambda c: c.missions.runs.plan.create(UUID, mission_id=UUID, steps=[]), "steps"),
        (
            lambda c: c.missions.runs.plan.create(
                UUID, mission_id=UUID, steps=[{"step_id": "a", "description": "A"}]
            ),
            "steps[0].sequence",
        ),
        (
            lambda c: c.missions.runs.plan.create(
                UUID,
                mission_id=UUID,
                steps=[
                    {"step_id": "a", "description": "A", "sequence": 1},
                    {"step_id": "a", "description": "B", "sequence": 2},
                ],
            ),
            "steps[1].step_id",
        ),
        (lambda c: c.missions.runs.plan.update_step("s/x", mission_id=UUID, run_id=UUID), "step_id"),
        (
            lambda c: c.missions.runs.plan.update_step("s", mission_id=UUID, run_id=UUID, status="done"),
            "status",
        ),
        (lambda c: c.missions.retrieve(UUID, timeoutt=3), "timeoutt"),
    ],
)
def test_bad_arguments_fail_before_sending(call: Any, argument: str) -> None:
    with pytest.raises(InvalidArgumentError) as err:
        call(never_sent())
    assert err.value.argument == argument
    assert f"`{argument}`" in str(err.value)
    assert isinstance(err.value, ValueError)


def test_missing_required_argument_names_it() -> None:
    with pytest.raises(TypeError, match="name"):
        never_sent().missions.create()  # type: ignore[call-arg]


def test_telnyx_envelope_is_read() -> None:
    response = httpx.Response(
        404,
        json={"errors": [{"code": "not_found", "title": "Not Found", "detail": "Mission x not found"}]},
        request=httpx.Request("GET", "http://x"),
    )
    error = status_error(response, "GET /ai/missions/{mission_id}")
    assert isinstance(error, NotFoundError)
    assert str(error) == ("404 Not Found: GET /ai/missions/{mission_id} failed\n  - Mission x not found")


def test_fastapi_422_names_the_fields() -> None:
    response = httpx.Response(
        422,
        json={
            "detail": [
                {"loc": ["body", "steps", 0, "sequence"], "msg": "Field required", "type": "missing"},
                {
                    "loc": ["query", "page[size]"],
                    "msg": "Input should be less than or equal to 1000",
                    "type": "less_than_equal",
                },
            ]
        },
        request=httpx.Request("GET", "http://x"),
    )
    error = status_error(response, "POST .../plan")
    assert isinstance(error, UnprocessableEntityError)
    assert error.fields == ["steps.0.sequence", "page[size]"]
    assert "steps.0.sequence: Field required" in str(error)


def test_messages_are_bounded() -> None:
    response = httpx.Response(
        500, json={"errors": [{"detail": "x" * 5000}] * 50}, request=httpx.Request("GET", "http://x")
    )
    error = status_error(response, "GET /ai/missions")
    assert len(str(error)) <= 2000
    assert str(error).endswith("more") and str(error).count("  - ") >= 5


def test_non_json_error_body() -> None:
    response = httpx.Response(502, text="<html>Bad gateway</html>", request=httpx.Request("GET", "http://x"))
    assert "Bad gateway" in str(status_error(response, "GET /ai/missions"))


def test_errors_pickle() -> None:
    response = httpx.Response(
        409, json={"errors": [{"detail": "busy"}]}, request=httpx.Request("GET", "http://x")
    )
    error = pickle.loads(pickle.dumps(status_error(response, "POST x")))
    assert isinstance(error, missionlab.ConflictError) and "busy" in str(error)


def test_real_server_errors_are_readable(client: missionlab.Client) -> None:
    with pytest.raises(NotFoundError) as err:
        client.missions.retrieve(UUID)
    assert str(err.value).startswith("404 Not Found: GET /ai/missions/{mission_id} failed")
    assert UUID in str(err.value)


def test_stopped_server_is_a_connection_error() -> None:
    sandbox = Sandbox().start()
    client = sandbox.client(max_retries=0)
    sandbox.stop()
    with pytest.raises(APIConnectionError) as err:
        client.missions.list()
    assert "could not reach the server" in str(err.value)


def test_missing_key_against_hosted_api(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TELNYX_API_KEY", raising=False)
    monkeypatch.delenv("TELNYX_BASE_URL", raising=False)
    with pytest.raises(missionlab.MissingAPIKeyError) as err:
        missionlab.Client()
    assert "TELNYX_API_KEY" in str(err.value) and "sandbox" in str(err.value)


def test_base_url_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TELNYX_BASE_URL", "http://127.0.0.1:1/v2/")
    monkeypatch.delenv("TELNYX_API_KEY", raising=False)
    assert missionlab.Client().base_url == "http://127.0.0.1:1/v2"


def test_wrong_token_is_401() -> None:
    with Sandbox(token="right") as sandbox:
        client = missionlab.Client(api_key="wrong", base_url=sandbox.url)
        with pytest.raises(AuthenticationError) as err:
            client.missions.list()
        assert "bearer token" in str(err.value)
        assert sandbox.client().missions.list().data == []
