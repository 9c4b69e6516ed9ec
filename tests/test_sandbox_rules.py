"""The sandbox's HTTP behaviour where the API's document is silent, checked over raw HTTP."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import httpx
import pytest

from missionlab.sandbox import Sandbox


@pytest.fixture(scope="module")
def raw() -> Iterator[httpx.Client]:
    with (
        Sandbox(token="secret-token") as sb,
        httpx.Client(base_url=sb.url, headers={"Authorization": "Bearer secret-token"}) as http,
    ):
        yield http


def new_run(raw: httpx.Client, mode: str = "external") -> tuple[str, str]:
    m = raw.post("/ai/missions", json={"name": "rules", "execution_mode": mode}).json()["data"]
    r = raw.post(f"/ai/missions/{m['mission_id']}/runs").json()["data"]
    return m["mission_id"], r["run_id"]


def test_404_uses_the_telnyx_envelope(raw: httpx.Client) -> None:
    missing = str(uuid.uuid4())
    response = raw.get(f"/ai/missions/{missing}")
    assert response.status_code == 404
    assert response.json() == {
        "errors": [{"code": "not_found", "title": "Not Found", "detail": f"Mission {missing} not found"}]
    }
    assert raw.get("/ai/nothing-here").json()["errors"][0]["code"] == "not_found"


def test_bad_uuid_is_422_in_fastapi_shape(raw: httpx.Client) -> None:
    response = raw.get("/ai/missions/not-a-uuid")
    assert response.status_code == 422
    detail = response.json()["detail"]
    assert detail[0]["loc"] == ["path", "mission_id"]
    assert set(detail[0]) == {"loc", "msg", "type"}


def test_422_never_echoes_the_body(raw: httpx.Client) -> None:
    secret = "do-not-echo-me-123"
    response = raw.post("/ai/missions", json={"name": 5, "execution_mode": secret, "metadata": secret})
    assert response.status_code == 422
    assert secret not in response.text
    assert all(set(d) == {"loc", "msg", "type"} for d in response.json()["detail"])
    bad_json = raw.post(
        "/ai/missions",
        content=b'{"name": "x", "oops": ' + secret.encode(),
        headers={"content-type": "application/json"},
    )
    assert bad_json.status_code == 422 and secret not in bad_json.text


def test_auth(raw: httpx.Client) -> None:
    url = str(raw.base_url).rstrip("/") + "/ai/missions"
    missing = httpx.get(url)
    assert missing.status_code == 401
    assert missing.json()["errors"][0]["code"] == "unauthorized"
    wrong = httpx.get(url, headers={"Authorization": "Bearer wrong-token-xyz"})
    assert wrong.status_code == 401 and "wrong-token-xyz" not in wrong.text
    assert "Bearer" in wrong.json()["errors"][0]["detail"]


def test_any_token_with_no_token() -> None:
    with Sandbox(no_token=True) as sb:
        assert sb.token is None
        assert (
            httpx.get(sb.url + "/ai/missions", headers={"Authorization": "Bearer anything"}).status_code
            == 200
        )


def test_binds_to_loopback() -> None:
    with Sandbox() as sb:
        assert sb.url.startswith("http://127.0.0.1:")
        assert sb._server is not None
        assert sb._server.servers[0].sockets[0].getsockname()[0] == "127.0.0.1"


@pytest.mark.parametrize(
    "start,action,allowed",
    [
        ("pending", "pause", False),
        ("running", "pause", True),
        ("paused", "pause", False),
        ("pending", "resume", False),
        ("running", "resume", False),
        ("paused", "resume", True),
        ("pending", "cancel", True),
        ("running", "cancel", True),
        ("paused", "cancel", True),
        ("succeeded", "cancel", False),
        ("failed", "cancel", False),
        ("cancelled", "cancel", False),
        ("succeeded", "pause", False),
        ("cancelled", "resume", False),
    ],
)
def test_run_state_machine(raw: httpx.Client, start: str, action: str, allowed: bool) -> None:
    mission_id, run_id = new_run(raw)
    run_url = f"/ai/missions/{mission_id}/runs/{run_id}"
    path = {
        "pending": [],
        "running": ["running"],
        "paused": ["running", "paused"],
        "succeeded": ["succeeded"],
        "failed": ["failed"],
        "cancelled": ["cancelled"],
    }[start]
    for status in path:
        assert raw.patch(run_url, json={"status": status}).status_code == 200
    response = raw.post(f"{run_url}/{action}")
    if allowed:
        assert response.status_code == 200
    else:
        assert response.status_code == 409
        error = response.json()["errors"][0]
        assert error["code"] == "conflict" and f"Run is {start}" in error["detail"]


def test_patch_cannot_revive_a_finished_run(raw: httpx.Client) -> None:
    mission_id, run_id = new_run(raw)
    run_url = f"/ai/missions/{mission_id}/runs/{run_id}"
    done = raw.patch(run_url, json={"status": "succeeded"}).json()["data"]
    assert done["finished_at"]
    assert raw.patch(run_url, json={"status": "running"}).status_code == 409
    assert raw.patch(run_url, json={"status": "failed"}).status_code == 200  # terminal->terminal


def test_status_changes_are_logged_as_events(raw: httpx.Client) -> None:
    mission_id, run_id = new_run(raw)
    run_url = f"/ai/missions/{mission_id}/runs/{run_id}"
    raw.patch(run_url, json={"status": "running"})
    raw.post(f"{run_url}/pause")
    raw.post(f"{run_url}/resume")
    events = raw.get(f"{run_url}/events", params={"type": "status_change"}).json()["data"]
    assert [(e["payload"]["from"], e["payload"]["to"]) for e in events] == [
        ("pending", "running"),
        ("running", "paused"),
        ("paused", "running"),
    ]


def test_idempotent_event_logging(raw: httpx.Client) -> None:
    mission_id, run_id = new_run(raw)
    url = f"/ai/missions/{mission_id}/runs/{run_id}/events"
    body = {"type": "message", "summary": "once", "idempotency_key": "k1", "payload": {"n": 1}}
    first = raw.post(url, json=body)
    second = raw.post(url, json=body)
    assert first.status_code == 201 and second.status_code == 200
    assert first.json()["data"] == second.json()["data"]
    assert raw.get(url).json()["meta"]["total_results"] == 1


@pytest.mark.parametrize(
    "change", [{"summary": "twice?"}, {"payload": {"n": 2}}, {"type": "error"}, {"step_id": "s"}]
)
def test_a_reused_idempotency_key_with_another_body_is_a_409(
    raw: httpx.Client, change: dict[str, object]
) -> None:
    mission_id, run_id = new_run(raw)
    url = f"/ai/missions/{mission_id}/runs/{run_id}/events"
    body = {"type": "message", "summary": "once", "idempotency_key": "k1", "payload": {"n": 1}}
    assert raw.post(url, json=body).status_code == 201
    answer = raw.post(url, json={**body, **change})
    assert answer.status_code == 409
    detail = answer.json()["errors"][0]["detail"]
    assert "idempotency_key 'k1'" in detail and next(iter(change)) in detail
    assert raw.get(url).json()["meta"]["total_results"] == 1


def test_orderings(raw: httpx.Client) -> None:
    mission_id, run_id = new_run(raw)
    url = f"/ai/missions/{mission_id}/runs/{run_id}"
    raw.post(
        f"{url}/plan",
        json={
            "steps": [
                {"step_id": "c", "description": "C", "sequence": 3},
                {"step_id": "a", "description": "A", "sequence": 1},
                {"step_id": "b", "description": "B", "sequence": 2},
            ]
        },
    )
    assert [s["step_id"] for s in raw.get(f"{url}/plan").json()["data"]] == ["a", "b", "c"]
    for n in range(3):
        raw.post(f"{url}/events", json={"type": "custom", "summary": f"e{n}"})
    summaries = [e["summary"] for e in raw.get(f"{url}/events").json()["data"]]
    assert summaries == ["e0", "e1", "e2"]
    recent = [e["summary"] for e in raw.get("/ai/missions/events", params={"type": "custom"}).json()["data"]][
        :3
    ]
    assert recent == ["e2", "e1", "e0"]
    runs = raw.get(f"/ai/missions/{mission_id}/runs").json()["data"]
    second = raw.post(f"/ai/missions/{mission_id}/runs").json()["data"]
    assert (
        raw.get(f"/ai/missions/{mission_id}/runs").json()["data"][0]["run_id"]
        == second["run_id"]
        != runs[0]["run_id"]
    )


def test_pagination_meta_and_limits(raw: httpx.Client) -> None:
    mission_id, _ = new_run(raw)
    for _ in range(4):
        raw.post(f"/ai/missions/{mission_id}/runs")
    page = raw.get(f"/ai/missions/{mission_id}/runs", params={"page[number]": 2, "page[size]": 2}).json()
    assert page["meta"] == {"page_number": 2, "page_size": 2, "total_pages": 3, "total_results": 5}
    assert len(page["data"]) == 2
    for bad in ({"page[size]": 0}, {"page[size]": 1001}, {"page[number]": 0}):
        assert raw.get("/ai/missions", params=bad).status_code == 422
    assert raw.get("/ai/missions", params={"page[size]": 1000}).status_code == 200


def test_filters_are_free_strings_and_unknown_values_match_nothing(raw: httpx.Client) -> None:
    mission_id, run_id = new_run(raw)
    for path, name in (
        ("/ai/missions/runs", "status"),
        (f"/ai/missions/{mission_id}/runs", "status"),
        ("/ai/missions/events", "type"),
        (f"/ai/missions/{mission_id}/runs/{run_id}/events", "type"),
    ):
        answer = raw.get(path, params={name: "queued"})
        assert answer.status_code == 200, path
        assert answer.json()["data"] == [] and answer.json()["meta"]["total_results"] == 0
    assert raw.get(f"/ai/missions/{mission_id}/runs", params={"status": "pending"}).json()["data"]


def test_plain_string_mission_ids_are_not_found_where_the_document_says_string(raw: httpx.Client) -> None:
    for method, path in (
        ("POST", "/ai/missions/not-a-uuid/clone"),
        ("GET", "/ai/missions/not-a-uuid/tools"),
        ("POST", "/ai/missions/not-a-uuid/knowledge-bases"),
        ("GET", "/ai/missions/not-a-uuid/mcp-servers/x"),
        ("DELETE", "/ai/missions/not-a-uuid/tools/x"),
    ):
        answer = raw.request(method, path, json={} if method == "POST" else None)
        assert answer.status_code == 404, (method, path)
        assert answer.json()["errors"][0]["code"] == "not_found"


def test_step_timestamps(raw: httpx.Client) -> None:
    mission_id, run_id = new_run(raw)
    url = f"/ai/missions/{mission_id}/runs/{run_id}/plan"
    raw.post(url, json={"steps": [{"step_id": "s", "description": "S", "sequence": 1}]})
    step = raw.get(f"{url}/steps/s").json()["data"]
    assert "started_at" not in step and "completed_at" not in step
    started = raw.patch(f"{url}/steps/s", json={"status": "in_progress"}).json()["data"]
    again = raw.patch(f"{url}/steps/s", json={"status": "in_progress"}).json()["data"]
    assert started["started_at"] == again["started_at"]
    for final in ("completed", "failed", "skipped"):
        done = raw.patch(f"{url}/steps/s", json={"status": final}).json()["data"]
        assert done["completed_at"] >= started["started_at"]


def test_completed_at_is_when_a_step_last_became_finished(raw: httpx.Client) -> None:
    mission_id, run_id = new_run(raw)
    url = f"/ai/missions/{mission_id}/runs/{run_id}/plan"
    raw.post(url, json={"steps": [{"step_id": "s", "description": "S", "sequence": 1}]})
    step_url = f"{url}/steps/s"
    done = raw.patch(step_url, json={"status": "completed"}).json()["data"]
    repeated = raw.patch(step_url, json={"status": "completed"}).json()["data"]
    assert repeated["completed_at"] == done["completed_at"]  # a repeated PATCH does not move it
    reopened = raw.patch(step_url, json={"status": "in_progress"}).json()["data"]
    assert "completed_at" not in reopened  # back in progress: not completed any more
    assert raw.get(step_url).json()["data"].get("completed_at") is None
    failed = raw.patch(step_url, json={"status": "failed"}).json()["data"]
    assert failed["completed_at"] > done["completed_at"]
    assert (
        raw.patch(step_url, json={"status": "completed"}).json()["data"]["completed_at"]
        > failed["completed_at"]
    )


def test_plan_rules(raw: httpx.Client) -> None:
    mission_id, run_id = new_run(raw)
    url = f"/ai/missions/{mission_id}/runs/{run_id}/plan"
    duplicate_in_body = raw.post(
        url,
        json={
            "steps": [
                {"step_id": "s", "description": "S", "sequence": 1},
                {"step_id": "s", "description": "S again", "sequence": 2},
            ]
        },
    )
    assert duplicate_in_body.status_code == 409
    orphan = raw.post(
        url,
        json={"steps": [{"step_id": "child", "description": "C", "sequence": 1, "parent_step_id": "ghost"}]},
    )
    assert orphan.status_code == 422
    assert orphan.json()["detail"][0]["loc"] == ["body", "steps", 0, "parent_step_id"]
    nested = raw.post(
        url,
        json={
            "steps": [
                {"step_id": "p", "description": "P", "sequence": 1},
                {"step_id": "c", "description": "C", "sequence": 2, "parent_step_id": "p"},
            ]
        },
    )
    assert nested.status_code == 201
    assert (
        raw.post(url, json={"steps": [{"step_id": "x", "description": "X", "sequence": 3}]}).status_code
        == 409
    )


def test_curl_works(raw: httpx.Client) -> None:
    import shutil
    import subprocess

    if shutil.which("curl") is None:
        pytest.fail("curl is not installed; .ci/run installs it")
    out = subprocess.run(
        [
            "curl",
            "-s",
            "-H",
            "Authorization: Bearer secret-token",
            str(raw.base_url).rstrip("/") + "/ai/missions?page%5Bsize%5D=1",
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    )
    assert '"meta"' in out.stdout
