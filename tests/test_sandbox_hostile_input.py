"""Hostile input to the sandbox: lone surrogates, deep nesting, NaN, oversized bodies and strings.

Each is answered with 422 (413 for a body over the limit) naming what is wrong, never a 500
or a dropped connection; and nothing already stored can make a list answer fail.
Bodies are written by hand: a JSON encoder would refuse to produce most of them.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from missionlab import limits
from missionlab.sandbox import Sandbox

TOKEN = "hostile-input-token"
SURROGATE = "\\udfff"  # as written in JSON text: a lone low surrogate


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(token=TOKEN) as sb:
        yield sb


@pytest.fixture(scope="module")
def raw(sandbox: Sandbox) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=sandbox.url, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=30) as http:
        yield http


def send(raw: httpx.Client, method: str, path: str, text: str | bytes) -> httpx.Response:
    content = text.encode() if isinstance(text, str) else text
    return raw.request(method, path, content=content, headers={"Content-Type": "application/json"})


def nested(depth: int) -> str:
    """A JSON object ``depth`` levels deep: {"a": {"a": ... {} ...}}."""
    return '{"a": ' * (depth - 1) + "{}" + "}" * (depth - 1)


@pytest.fixture(scope="module")
def run_path(raw: httpx.Client) -> str:
    mission = raw.post("/ai/missions", json={"name": "hostile"}).json()["data"]
    run = raw.post(f"/ai/missions/{mission['mission_id']}/runs").json()["data"]
    path = f"/ai/missions/{mission['mission_id']}/runs/{run['run_id']}"
    raw.post(f"{path}/plan", json={"steps": [{"step_id": "s", "description": "S", "sequence": 1}]})
    return path


def _targets(run_path: str) -> list[tuple[str, str, str]]:
    """(method, path, body with a {} placeholder) for each string field a body can carry."""
    mission_path = run_path.split("/runs/")[0]
    return [
        ("POST", "/ai/missions", '{"name": %s}'),
        ("POST", "/ai/missions", '{"name": "m", "description": %s}'),
        ("POST", "/ai/missions", '{"name": "m", "instructions": %s}'),
        ("PUT", mission_path, '{"model": %s}'),
        ("PATCH", run_path, '{"error": %s}'),
        ("PATCH", run_path, '{"result_summary": %s}'),
        ("POST", f"{run_path}/plan/steps", '{"steps": [{"step_id": "x", "description": %s, "sequence": 2}]}'),
        ("POST", f"{run_path}/plan/steps", '{"steps": [{"step_id": %s, "description": "d", "sequence": 2}]}'),
        ("POST", f"{run_path}/events", '{"type": "message", "summary": %s}'),
        ("POST", f"{run_path}/events", '{"type": "message", "summary": "s", "agent_id": %s}'),
        ("POST", f"{run_path}/events", '{"type": "message", "summary": "s", "step_id": %s}'),
        ("POST", f"{run_path}/events", '{"type": "message", "summary": "s", "idempotency_key": %s}'),
        ("POST", f"{run_path}/telnyx-agents", '{"telnyx_agent_id": %s}'),
        ("POST", f"{run_path}/events", '{"type": "message", "summary": "s", "payload": {"k": %s}}'),
        ("POST", "/ai/missions", '{"name": "m", "metadata": {%s: 1}}'),
        ("POST", f"{mission_path}/tools", '{"name": %s}'),
    ]


def test_a_lone_surrogate_in_any_string_is_a_422(raw: httpx.Client, run_path: str) -> None:
    for method, path, body in _targets(run_path):
        answer = send(raw, method, path, body % f'"x{SURROGATE}y"')
        assert answer.status_code == 422, (method, path, body, answer.status_code, answer.text[:200])
        problem = answer.json()["detail"][0]
        assert "surrogate" in problem["msg"] or problem["type"] == "string_unicode", body
    # The same bodies with valid text go through.
    for method, path, body in _targets(run_path)[:6]:
        assert send(raw, method, path, body % '"valid \\u00e9"').status_code < 300, body


@pytest.mark.parametrize("field", ["metadata", "payload", "input", "result_payload", "tool"])
@pytest.mark.parametrize("depth", [limits.MAX_NESTING_DEPTH + 1, 958, 960, 5000, 100_000])
def test_objects_nested_beyond_the_limit_are_a_422(
    raw: httpx.Client, run_path: str, field: str, depth: int
) -> None:
    mission_path = run_path.split("/runs/")[0]
    method, path, body = {
        "metadata": ("POST", "/ai/missions", '{"name": "deep", "metadata": %s}'),
        "payload": ("POST", f"{run_path}/events", '{"type": "custom", "summary": "s", "payload": %s}'),
        "input": ("POST", f"{mission_path}/runs", '{"input": %s}'),
        "result_payload": ("PATCH", run_path, '{"result_payload": %s}'),
        "tool": ("POST", f"{mission_path}/tools", "%s"),
    }[field]
    answer = send(raw, method, path, body % nested(depth))
    assert answer.status_code == 422, answer.text[:300]
    assert "detail" in answer.json()
    assert raw.get("/ai/missions").status_code == 200


def test_objects_at_the_depth_limit_are_stored_and_served(raw: httpx.Client) -> None:
    body = '{"name": "deep", "metadata": ' + nested(limits.MAX_NESTING_DEPTH) + "}"
    created = send(raw, "POST", "/ai/missions", body)
    assert created.status_code == 201
    mission = raw.get(f"/ai/missions/{created.json()['data']['mission_id']}").json()["data"]
    assert mission["metadata"] == json.loads(nested(limits.MAX_NESTING_DEPTH))
    assert raw.get("/ai/missions", params={"page[size]": 1000}).status_code == 200


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity", "1e400", "-1e999"])
def test_nan_and_infinity_are_a_422(raw: httpx.Client, run_path: str, constant: str) -> None:
    for method, path, body in (
        ("POST", "/ai/missions", '{"name": "n", "metadata": {"x": %s}}'),
        ("POST", f"{run_path}/events", '{"type": "custom", "summary": "s", "payload": {"v": [1, %s]}}'),
        ("PATCH", run_path, '{"result_payload": {"score": %s}}'),
    ):
        answer = send(raw, method, path, body % constant)
        assert answer.status_code == 422, (body, constant, answer.text[:200])
        assert "NaN or Infinity" in answer.text


def test_strings_over_their_limit_are_a_422(raw: httpx.Client, run_path: str) -> None:
    too_long = {
        "name": limits.MAX_NAME_LENGTH + 1,
        "description": limits.MAX_TEXT_LENGTH + 1,
    }
    for field, length in too_long.items():
        answer = raw.post("/ai/missions", json={"name": "m", field: "x" * length})
        assert answer.status_code == 422 and answer.json()["detail"][0]["loc"] == ["body", field]
    assert raw.post("/ai/missions", json={"name": "x" * limits.MAX_NAME_LENGTH}).status_code == 201
    step = {"step_id": "s" * (limits.MAX_ID_LENGTH + 1), "description": "d", "sequence": 9}
    assert raw.post(f"{run_path}/plan/steps", json={"steps": [step]}).status_code == 422
    child = {"step_id": "c", "description": "d", "sequence": 9, "parent_step_id": "p" * 201}
    assert raw.post(f"{run_path}/plan/steps", json={"steps": [child]}).status_code == 422
    agent = {"telnyx_agent_id": "a" * (limits.MAX_ID_LENGTH + 1)}
    assert raw.post(f"{run_path}/telnyx-agents", json=agent).status_code == 422
    key = "k" * (limits.MAX_IDEMPOTENCY_KEY_LENGTH + 1)
    event = {"type": "custom", "summary": "s", "idempotency_key": key}
    assert raw.post(f"{run_path}/events", json=event).status_code == 422
    payload = {"type": "custom", "summary": "s", "payload": {"text": "x" * (limits.MAX_TEXT_LENGTH + 1)}}
    assert raw.post(f"{run_path}/events", json=payload).status_code == 422


def test_page_numbers_over_the_limit_are_a_422(raw: httpx.Client, run_path: str) -> None:
    for path in ("/ai/missions", "/ai/missions/runs", "/ai/missions/events", f"{run_path}/events"):
        too_far = raw.get(path, params={"page[number]": limits.MAX_PAGE_NUMBER + 1})
        assert too_far.status_code == 422, path
        last = raw.get(path, params={"page[number]": limits.MAX_PAGE_NUMBER, "page[size]": 1000})
        assert last.status_code == 200 and last.json()["data"] == [], path


def _assert_too_large(answer: httpx.Response) -> None:
    assert answer.status_code == 413
    error = answer.json()["errors"][0]
    assert error["code"] == "request_too_large" and f"{limits.MAX_BODY_BYTES:,}" in error["detail"]


def test_a_body_over_the_limit_is_a_413_in_the_error_envelope(raw: httpx.Client) -> None:
    name = "x" * limits.MAX_BODY_BYTES
    _assert_too_large(send(raw, "POST", "/ai/missions", '{"name": "' + name + '"}'))

    def chunks() -> Iterator[bytes]:  # no Content-Length: sent chunked
        yield b'{"name": "m", "description": "'
        for _ in range(limits.MAX_BODY_BYTES // 65536 + 1):
            yield b"y" * 65536
        yield b'"}'

    answer = raw.post("/ai/missions", content=chunks(), headers={"Content-Type": "application/json"})
    _assert_too_large(answer)
    near = '{"name": "m", "description": "%s"}' % ("z" * (limits.MAX_TEXT_LENGTH - 10))
    assert send(raw, "POST", "/ai/missions", near).status_code == 201


def _no_constant(name: str) -> Any:
    raise AssertionError(f"{name} in an answer: not JSON")


def test_values_stored_before_the_limits_cannot_break_a_list(sandbox: Sandbox, raw: httpx.Client) -> None:
    """A store written by an older sandbox may hold values no request can store any more."""
    assert sandbox.store is not None
    deep = nested(958)
    mission: dict[str, Any] = raw.post("/ai/missions", json={"name": "old data"}).json()["data"]
    run = raw.post(f"/ai/missions/{mission['mission_id']}/runs").json()["data"]
    with sandbox.store.transaction() as db:
        db.execute("UPDATE missions SET metadata=? WHERE mission_id=?", (deep, mission["mission_id"]))
        db.execute("UPDATE runs SET input=?, metadata=? WHERE run_id=?", ('{"x": NaN}', deep, run["run_id"]))
    for path in ("/ai/missions", "/ai/missions/runs", f"/ai/missions/{mission['mission_id']}"):
        answer = raw.get(path, params={"page[size]": 1000} if path.endswith(("missions", "runs")) else None)
        assert answer.status_code == 200, path
        json.loads(answer.text, parse_constant=_no_constant)
    served = raw.get(f"/ai/missions/{mission['mission_id']}/runs/{run['run_id']}").json()["data"]
    assert served["input"] == served["metadata"] and "_unservable" in served["input"]
