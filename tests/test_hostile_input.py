"""Hostile input refused before sending (issue 10, client side: items 1, 2/8, 3 and 6).

Every case here failed on main before this change: an untyped ``UnicodeEncodeError``,
``ValueError``, ``RecursionError``, ``httpx.InvalidURL`` or ``TypeError``, a request
sent that the sandbox's documented limits refuse, or an API key shown.
"""

from __future__ import annotations

import logging
import pickle
from collections.abc import Callable
from typing import Any

import httpx
import pytest

import missionlab
from missionlab import InvalidArgumentError, limits
from missionlab.sandbox import Sandbox

UUID = "182bd5e5-6e1a-4fe4-a799-aa6d9a6ab26e"
LONE = "ok \udfff"
KEY = "KEY-SENTINEL-3c2b1a09f8e7"


def never_sent() -> missionlab.Client:
    def server(request: httpx.Request) -> httpx.Response:
        raise AssertionError(f"a request was sent: {request.method} {request.url}")

    return missionlab.Client(base_url="http://mock/v2", transport=httpx.MockTransport(server))


def nested(depth: int, leaf: Any = 1) -> dict[str, Any]:
    value: dict[str, Any] = {"leaf": leaf}
    for _ in range(depth - 1):
        value = {"level": value}
    return value


Call = Callable[[missionlab.Client], Any]
STEP = {"step_id": "s", "description": "S", "sequence": 1}

SURROGATES: list[tuple[Call, str]] = [
    (lambda c: c.missions.create(name=LONE), "name"),
    (lambda c: c.missions.create(name="n", description=LONE), "description"),
    (lambda c: c.missions.create(name="n", instructions=LONE), "instructions"),
    (lambda c: c.missions.create(name="n", model=LONE), "model"),
    (lambda c: c.missions.create(name="n", metadata={"k": [LONE]}), "metadata"),
    (lambda c: c.missions.create(name="n", metadata={LONE: 1}), "metadata"),
    (lambda c: c.missions.update_mission(UUID, description=LONE), "description"),
    (lambda c: c.missions.runs.create(UUID, input={"q": LONE}), "input"),
    (lambda c: c.missions.runs.update(UUID, mission_id=UUID, error=LONE), "error"),
    (lambda c: c.missions.runs.update(UUID, mission_id=UUID, result_summary=LONE), "result_summary"),
    (lambda c: c.missions.runs.update(UUID, mission_id=UUID, result_payload={"a": LONE}), "result_payload"),
    (lambda c: c.missions.runs.events.log(UUID, mission_id=UUID, type="message", summary=LONE), "summary"),
    (
        lambda c: c.missions.runs.events.log(
            UUID, mission_id=UUID, type="message", summary="s", agent_id=LONE
        ),
        "agent_id",
    ),
    (
        lambda c: c.missions.runs.events.log(
            UUID, mission_id=UUID, type="message", summary="s", idempotency_key=LONE
        ),
        "idempotency_key",
    ),
    (
        lambda c: c.missions.runs.events.log(
            UUID, mission_id=UUID, type="message", summary="s", payload={"p": LONE}
        ),
        "payload",
    ),
    (lambda c: c.missions.runs.events.list(UUID, mission_id=UUID, type=LONE), "type"),
    (lambda c: c.missions.runs.events.get_event_details(LONE, mission_id=UUID, run_id=UUID), "event_id"),
    (
        lambda c: c.missions.runs.plan.create(UUID, mission_id=UUID, steps=[{**STEP, "description": LONE}]),
        "steps[0].description",
    ),
    (
        lambda c: c.missions.runs.plan.create(UUID, mission_id=UUID, steps=[{**STEP, "step_id": LONE}]),
        "steps[0].step_id",
    ),
    (
        lambda c: c.missions.runs.telnyx_agents.link(UUID, mission_id=UUID, telnyx_agent_id=LONE),
        "telnyx_agent_id",
    ),
    (lambda c: c.missions.tools.create_tool("m", body={"name": LONE}), "body"),
    (lambda c: c.missions.tools.get_tool(LONE, mission_id="m"), "tool_id"),
    (lambda c: c.missions.list(extra_query={"q": LONE}), "extra_query"),
    (lambda c: c.missions.create(name="n", extra_body={"x": LONE}), "extra_body"),
]


@pytest.mark.parametrize("call,argument", SURROGATES)
def test_lone_surrogates_are_refused_naming_the_argument(call: Call, argument: str) -> None:
    with pytest.raises(InvalidArgumentError) as err:
        call(never_sent())
    assert err.value.argument == argument
    assert "surrogate" in str(err.value)


NOT_JSON: list[tuple[Call, str]] = [
    (lambda c: c.missions.create(name="n", metadata={"x": float("nan")}), "metadata"),
    (lambda c: c.missions.create(name="n", metadata={"x": [1, float("inf")]}), "metadata"),
    (
        lambda c: c.missions.runs.update(UUID, mission_id=UUID, result_payload={"x": -float("inf")}),
        "result_payload",
    ),
    (lambda c: c.missions.create(name="n", extra_body={"x": float("nan")}), "extra_body"),
    (lambda c: c.missions.create(name="n", metadata=nested(limits.MAX_NESTING_DEPTH + 1)), "metadata"),
    (lambda c: c.missions.create(name="n", metadata=nested(5000)), "metadata"),
    (lambda c: c.missions.runs.create(UUID, input=nested(100)), "input"),
    (
        lambda c: c.missions.runs.events.log(
            UUID, mission_id=UUID, type="custom", summary="s", payload=nested(65)
        ),
        "payload",
    ),
    (
        lambda c: c.missions.create(name="n", extra_body={"x": nested(limits.MAX_NESTING_DEPTH + 1)}),
        "extra_body",
    ),
    (lambda c: c.missions.create(name="n", metadata={1: "int key"}), "metadata"),  # type: ignore[dict-item]
    (lambda c: c.missions.create(name="n", metadata={"x": {1, 2}}), "metadata"),
]


@pytest.mark.parametrize("call,argument", NOT_JSON)
def test_what_json_cannot_carry_or_is_too_deep_is_refused(call: Call, argument: str) -> None:
    with pytest.raises(InvalidArgumentError) as err:
        call(never_sent())
    assert err.value.argument == argument


OVER_LIMITS: list[tuple[Call, str]] = [
    (lambda c: c.missions.list(page_number=limits.MAX_PAGE_NUMBER + 1), "page_number"),
    (lambda c: c.missions.runs.list_runs(page_number=2**63), "page_number"),
    (lambda c: c.missions.create(name="n" * (limits.MAX_NAME_LENGTH + 1)), "name"),
    (lambda c: c.missions.create(name="n", description="d" * (limits.MAX_TEXT_LENGTH + 1)), "description"),
    (
        lambda c: c.missions.runs.plan.create(UUID, mission_id=UUID, steps=[{**STEP, "step_id": "s" * 201}]),
        "steps[0].step_id",
    ),
    (
        lambda c: c.missions.runs.plan.add_steps_to_plan(
            UUID, mission_id=UUID, steps=[{**STEP, "parent_step_id": "p" * 201}]
        ),
        "steps[0].parent_step_id",
    ),
    (lambda c: c.missions.runs.plan.update_step("s" * 201, mission_id=UUID, run_id=UUID), "step_id"),
    (
        lambda c: c.missions.runs.events.log(
            UUID, mission_id=UUID, type="message", summary="s", idempotency_key="k" * 256
        ),
        "idempotency_key",
    ),
    (
        lambda c: c.missions.runs.telnyx_agents.link(UUID, mission_id=UUID, telnyx_agent_id="a" * 201),
        "telnyx_agent_id",
    ),
    (lambda c: c.missions.runs.create(UUID, input={"blob": "x" * limits.MAX_BODY_BYTES}), "input"),
    (lambda c: c.missions.create(name="n", extra_body={"blob": "x" * limits.MAX_BODY_BYTES}), "extra_body"),
]


@pytest.mark.parametrize("call,argument", OVER_LIMITS)
def test_the_sandbox_limits_are_checked_before_sending(call: Call, argument: str) -> None:
    with pytest.raises(InvalidArgumentError) as err:
        call(never_sent())
    assert err.value.argument == argument


def test_values_at_the_limits_are_sent(sandbox: Sandbox) -> None:
    client = sandbox.client()
    mission = client.missions.create(
        name="n" * limits.MAX_NAME_LENGTH, metadata=nested(limits.MAX_NESTING_DEPTH)
    ).data
    assert mission.metadata == nested(limits.MAX_NESTING_DEPTH)
    run = client.missions.runs.create(mission.mission_id).data
    steps = [{**STEP, "step_id": "s" * limits.MAX_ID_LENGTH}]
    assert client.missions.runs.plan.create(run.run_id, mission_id=mission.mission_id, steps=steps).data
    event = client.missions.runs.events.log(
        run.run_id,
        mission_id=mission.mission_id,
        type="custom",
        summary="é ☃ 𝄞",  # astral characters are text, not surrogates
        idempotency_key="k" * limits.MAX_IDEMPOTENCY_KEY_LENGTH,
        payload={"n": 10**30},  # beyond 64 bits: JSON allows it
    ).data
    assert event.summary == "é ☃ 𝄞" and event.payload == {"n": 10**30}
    client.missions.delete_mission(mission.mission_id)


@pytest.mark.parametrize(
    "options,argument",
    [
        ({"base_url": "localhost:8000"}, "base_url"),
        ({"base_url": "http://"}, "base_url"),
        ({"base_url": "ftp://example.com"}, "base_url"),
        ({"base_url": "http://[::1"}, "base_url"),
        ({"base_url": "http://exa mple.com"}, "base_url"),
        ({"base_url": "http://example.com/v2?x=1"}, "base_url"),
        ({"base_url": 42}, "base_url"),
        ({"max_retries": "a"}, "max_retries"),
        ({"max_retries": -1}, "max_retries"),
        ({"max_retries": 1.5}, "max_retries"),
        ({"timeout": "slow"}, "timeout"),
        ({"timeout": -1}, "timeout"),
        ({"deadline": 0}, "deadline"),
        ({"deadline": float("nan")}, "deadline"),
        ({"api_key": 12345}, "api_key"),
    ],
)
def test_bad_client_options_are_typed_errors(options: dict[str, Any], argument: str) -> None:
    for cls in (missionlab.Client, missionlab.AsyncClient):
        with pytest.raises(InvalidArgumentError) as err:
            cls(**{"base_url": "http://localhost:9/v2", **options})
        assert err.value.argument == argument


def test_bad_per_call_options_are_typed_errors() -> None:
    client = never_sent()
    bad_options: list[tuple[dict[str, Any], str]] = [
        ({"deadline": -1}, "deadline"),
        ({"timeout": "x"}, "timeout"),
        ({"extra_headers": {"x-a": "v\n"}}, "extra_headers"),
        ({"extra_body": [1]}, "extra_body"),
    ]
    for options, argument in bad_options:
        with pytest.raises(InvalidArgumentError) as err:
            client.missions.list(**options)
        assert err.value.argument == argument


def test_a_bad_base_url_from_the_environment_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TELNYX_BASE_URL", "not a url")
    with pytest.raises(InvalidArgumentError, match="TELNYX_BASE_URL"):
        missionlab.Client(api_key="k")


# -- the API key --------------------------------------------------------------------------------


def echo_auth(request: httpx.Request) -> httpx.Response:
    """A server that echoes the Authorization header into every place of an error."""
    auth = request.headers["authorization"]
    return httpx.Response(
        422,
        json={
            "errors": [{"detail": f"bad {auth}", "source": {"pointer": f"/header/{auth}"}}],
            "detail": [{"loc": ["header", auth], "msg": f"echo {auth}", "type": "x"}],
        },
    )


@pytest.mark.parametrize("suffix", ["\n", "\r\n", " ", "\t"])
def test_surrounding_whitespace_is_removed_from_the_key(
    suffix: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    seen: list[str] = []

    def server(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers["authorization"])
        return httpx.Response(200, json={"data": [], "meta": None})

    client = missionlab.Client(
        api_key=KEY + suffix, base_url="http://mock/v2", transport=httpx.MockTransport(server)
    )
    client.missions.list()
    assert seen == [f"Bearer {KEY}"]
    assert all(KEY not in record.getMessage() for record in caplog.records)


def test_the_key_from_the_environment_is_cleaned_too(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TELNYX_API_KEY", KEY + "\n")
    assert missionlab.Client(base_url="http://mock/v2")._secret.reveal() == KEY


@pytest.mark.parametrize("bad", [f"{KEY}\nX-Injected: 1", f"{KEY}\x00", f"{KEY}é", f"{KEY}\x7f"])
def test_a_key_no_header_can_carry_is_refused_without_showing_it(bad: str) -> None:
    with pytest.raises(InvalidArgumentError) as err:
        missionlab.Client(api_key=bad, base_url="http://mock/v2")
    assert err.value.argument == "api_key"
    assert KEY not in str(err.value) and KEY not in repr(err.value.args)


def test_a_real_request_with_a_newline_key_leaks_nothing_in_debug_logs(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)  # httpx and httpcore log at DEBUG
    with Sandbox(token=KEY) as sandbox:  # the key is the token it requires
        client = missionlab.Client(api_key=KEY + "\n", base_url=sandbox.url)
        client.missions.list(page_size=1)
    assert caplog.records and all(KEY not in record.getMessage() for record in caplog.records)


def test_status_error_fields_and_reasons_are_redacted_also_after_pickling() -> None:
    client = missionlab.Client(
        api_key=KEY, base_url="http://mock/v2", transport=httpx.MockTransport(echo_auth)
    )
    with pytest.raises(missionlab.UnprocessableEntityError) as err:
        client.missions.list()
    error = err.value
    assert error.fields and error.reasons
    copy = pickle.loads(pickle.dumps(error))
    for seen in (error, copy):
        texts = [str(seen), repr(seen.args), *seen.reasons, *seen.fields]
        assert all(KEY not in text for text in texts)
        assert any("<redacted>" in field for field in seen.fields)
