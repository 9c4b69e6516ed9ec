"""Contract tests against Telnyx's published Missions API document.

(a) the sandbox serves every published operation with the same parameters, bodies,
status codes and response shapes; (b) every answer the sandbox gives validates
against the published response schema; (c) every client method sends exactly the
parameters its operation documents. The facts come from
``tests/data/published-openapi-facts.json`` (see its ``source``).
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Iterator
from functools import partial
from typing import Any

import httpx
import pytest

import missionlab
from missionlab.sandbox import Sandbox, Store, create_app

from . import contract

TOKEN = "contract-token"


@pytest.fixture(scope="module")
def served() -> dict[str, Any]:
    document: dict[str, Any] = create_app(Store(), simulate=False).openapi()
    return document


@pytest.fixture(scope="module")
def contract_sandbox() -> Iterator[Sandbox]:
    with Sandbox(token=TOKEN, speed=50) as sb:
        yield sb


def test_the_facts_cover_the_whole_published_document() -> None:
    source = contract.facts()["source"]
    assert source["path"] == "openapi/telnyx-missions-api-openapi.yml"
    assert len(contract.operations()) == 41


# -- (a) the sandbox's document ------------------------------------------------------------------


def test_sandbox_document_matches_the_published_one(served: dict[str, Any]) -> None:
    problems = contract.compare_documents(served)
    assert problems == [], "\n".join(problems)


def _mutations(served: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """Copies of the sandbox's document with one deliberate break each."""
    renamed = copy.deepcopy(served)
    run = renamed["components"]["schemas"]["Run"]
    run["properties"]["started"] = run["properties"].pop("started_at")
    run["required"] = [("started" if r == "started_at" else r) for r in run["required"]]
    yield "a response field renamed", renamed
    dropped = copy.deepcopy(served)
    events = dropped["paths"]["/v2/ai/missions/{mission_id}/runs/{run_id}/events"]["get"]
    events["parameters"] = [p for p in events["parameters"] if p["name"] != "agent_id"]
    yield "a query parameter dropped", dropped
    stricter = copy.deepcopy(served)
    runs = stricter["paths"]["/v2/ai/missions/runs"]["get"]
    for parameter in runs["parameters"]:
        if parameter["name"] == "status":
            parameter["schema"] = {"type": "string", "enum": ["running"]}
    yield "a free-string filter made an enum", stricter
    status = copy.deepcopy(served)
    create = status["paths"]["/v2/ai/missions"]["post"]
    create["responses"]["200"] = create["responses"].pop("201")
    yield "a success status changed", status


@pytest.mark.parametrize("index", range(4))
def test_the_comparison_catches_a_broken_sandbox(served: dict[str, Any], index: int) -> None:
    what, broken = list(_mutations(served))[index]
    assert contract.compare_documents(broken), f"not caught: {what}"


# -- (b) the sandbox's answers --------------------------------------------------------------------


class Recorder:
    """An httpx client against the sandbox that remembers every answer."""

    def __init__(self, sandbox: Sandbox) -> None:
        self.http = httpx.Client(
            base_url=sandbox.url, timeout=30, headers={"Authorization": f"Bearer {TOKEN}"}
        )
        self.answers: list[tuple[str, str, int, Any]] = []

    def __call__(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self.http.request(method, path, **kwargs)
        body = response.json() if response.content else None
        self.answers.append((method, path, response.status_code, body))
        assert response.status_code < 300, (method, path, response.status_code, body)
        return body


def walk_every_operation(call: Recorder) -> None:
    """Each of the 41 operations once, with valid data, on fresh objects."""
    mission = call("POST", "/ai/missions", json={"name": "contract", "metadata": {"k": 1}})["data"]
    m = mission["mission_id"]
    call("GET", "/ai/missions", params={"page[size]": 5})
    call("GET", f"/ai/missions/{m}")
    call("PUT", f"/ai/missions/{m}", json={"description": "changed"})
    clone = call("POST", f"/ai/missions/{m}/clone")
    for segment, id_field in (
        ("tools", "tool_id"),
        ("knowledge-bases", "knowledge_base_id"),
        ("mcp-servers", "mcp_server_id"),
    ):
        created = call("POST", f"/ai/missions/{m}/{segment}", json={"name": "x"})
        object_id = created["data"][id_field]
        call("GET", f"/ai/missions/{m}/{segment}")
        call("GET", f"/ai/missions/{m}/{segment}/{object_id}")
        call("PUT", f"/ai/missions/{m}/{segment}/{object_id}", json={"name": "y"})
        call("DELETE", f"/ai/missions/{m}/{segment}/{object_id}")
    run = call("POST", f"/ai/missions/{m}/runs", json={"input": {"a": 1}})["data"]
    r = run["run_id"]
    base = f"/ai/missions/{m}/runs/{r}"
    call("GET", f"/ai/missions/{m}/runs", params={"status": "pending"})
    call("GET", "/ai/missions/runs", params={"page[size]": 3})
    call("GET", base)
    call("PATCH", base, json={"status": "running"})
    call("POST", f"{base}/plan", json={"steps": [{"step_id": "a", "description": "A", "sequence": 1}]})
    call(
        "POST",
        f"{base}/plan/steps",
        json={"steps": [{"step_id": "b", "description": "B", "sequence": 2, "parent_step_id": "a"}]},
    )
    call("GET", f"{base}/plan")
    call("GET", f"{base}/plan/steps/a")
    call("PATCH", f"{base}/plan/steps/a", json={"status": "in_progress"})
    event = call(
        "POST",
        f"{base}/events",
        json={"type": "tool_call", "summary": "s", "step_id": "a", "payload": {"x": 1}},
    )["data"]
    call("GET", f"{base}/events", params={"type": "tool_call"})
    call("GET", f"{base}/events/{event['event_id']}")
    call("GET", "/ai/missions/events", params={"page[size]": 3})
    call("POST", f"{base}/telnyx-agents", json={"telnyx_agent_id": "agent-1"})
    call("GET", f"{base}/telnyx-agents")
    call("DELETE", f"{base}/telnyx-agents/agent-1")
    call("POST", f"{base}/pause")
    call("POST", f"{base}/resume")
    call("POST", f"{base}/cancel")
    if isinstance(clone, dict) and isinstance(clone.get("data"), dict):
        call("DELETE", f"/ai/missions/{clone['data']['mission_id']}")
    call("DELETE", f"/ai/missions/{m}")


def test_every_sandbox_answer_validates_against_the_published_schema(contract_sandbox: Sandbox) -> None:
    call = Recorder(contract_sandbox)
    walk_every_operation(call)
    reached = {contract.match_operation(method, path) for method, path, _, _ in call.answers}
    assert reached == set(contract.operations())
    problems = [problem for answer in call.answers for problem in contract.answer_problems(*answer)]
    assert problems == [], "\n".join(problems)


def test_answer_validation_catches_a_wrong_answer() -> None:
    run = {
        "run_id": "not-a-uuid",
        "mission_id": "182bd5e5-6e1a-4fe4-a799-aa6d9a6ab26e",
        "status": "running",
        "started_at": "2026-11-30T00:00:00Z",
    }
    problems = contract.answer_problems(
        "GET", "/ai/missions/runs", 200, {"data": [run], "meta": {"page_number": 1}}
    )
    joined = "\n".join(problems)
    assert "updated_at" in joined and "not-a-uuid" in joined and "page_size" in joined


# -- (c) what the client sends --------------------------------------------------------------------

MISSION = "182bd5e5-6e1a-4fe4-a799-aa6d9a6ab26e"


def _client_calls(c: missionlab.Client, m: str, r: str) -> list[tuple[Callable[[], Any], bool]]:
    """Every client method, called with every argument it has; (call, sends a free-form body)."""
    runs, plan = c.missions.runs, c.missions.runs.plan
    steps = [{"step_id": "s1", "description": "S", "sequence": 1, "metadata": {"a": 1}}]
    more = [{"step_id": "s2", "description": "T", "sequence": 2, "parent_step_id": "s1"}]
    logged: dict[str, str] = {}
    calls: list[tuple[Callable[[], Any], bool]] = [
        (lambda: c.missions.list(page_number=1, page_size=5), False),
        (
            lambda: c.missions.create(
                name="n",
                description="d",
                execution_mode="external",
                instructions="i",
                metadata={"a": 1},
                model="m",
            ),
            False,
        ),
        (lambda: c.missions.list_events(type="tool_call", page_number=1, page_size=5), False),
        (lambda: runs.list_runs(status="running", page_number=1, page_size=5), False),
        (lambda: c.missions.retrieve(m), False),
        (
            lambda: c.missions.update_mission(
                m,
                name="n",
                description="d",
                execution_mode="external",
                instructions="i",
                metadata={"a": 1},
                model="m",
            ),
            False,
        ),
        (lambda: runs.list(m, status="running", page_number=1, page_size=5), False),
        (lambda: runs.retrieve(r, mission_id=m), False),
        (
            lambda: runs.update(
                r,
                mission_id=m,
                status="running",
                result_summary="s",
                result_payload={"a": 1},
                error="e",
                metadata={"a": 1},
            ),
            False,
        ),
        (lambda: plan.create(r, mission_id=m, steps=steps), False),
        (lambda: plan.add_steps_to_plan(r, mission_id=m, steps=more), False),
        (lambda: plan.retrieve(r, mission_id=m), False),
        (lambda: plan.get_step_details("s1", mission_id=m, run_id=r), False),
        (
            lambda: plan.update_step("s1", mission_id=m, run_id=r, status="in_progress", metadata={"a": 1}),
            False,
        ),
        (
            lambda: logged.setdefault(
                "event_id",
                runs.events.log(
                    r,
                    mission_id=m,
                    type="message",
                    summary="s",
                    step_id="s1",
                    agent_id="ag",
                    payload={"a": 1},
                    idempotency_key="k1",
                ).data.event_id,
            ),
            False,
        ),
        (lambda: runs.events.get_event_details(logged["event_id"], mission_id=m, run_id=r), False),
        (
            lambda: runs.events.list(
                r, mission_id=m, type="message", step_id="s1", agent_id="ag", page_number=1, page_size=5
            ),
            False,
        ),
        (lambda: runs.telnyx_agents.link(r, mission_id=m, telnyx_agent_id="ag"), False),
        (lambda: runs.telnyx_agents.list(r, mission_id=m), False),
        (lambda: runs.telnyx_agents.unlink("ag", mission_id=m, run_id=r), False),
        (lambda: runs.pause_run(r, mission_id=m), False),
        (lambda: runs.resume_run(r, mission_id=m), False),
        (lambda: runs.cancel_run(r, mission_id=m), False),
    ]
    for resource, kind in (
        (c.missions.tools, "tool"),
        (c.missions.knowledge_bases, "knowledge_base"),
        (c.missions.mcp_servers, "mcp_server"),
    ):
        object_id = f"{kind}-1"
        body = {f"{kind}_id": object_id, "name": "x"}
        calls += [
            (partial(getattr(resource, f"create_{kind}"), m, body=body), True),
            (partial(getattr(resource, f"list_{kind}s"), m), False),
            (partial(getattr(resource, f"get_{kind}"), object_id, mission_id=m), False),
            (partial(getattr(resource, f"update_{kind}"), object_id, mission_id=m, body={"name": "y"}), True),
            (partial(getattr(resource, f"delete_{kind}"), object_id, mission_id=m), False),
        ]
    return calls


def test_every_client_method_sends_the_documented_parameters(contract_sandbox: Sandbox) -> None:
    sent: list[httpx.Request] = []
    http = httpx.Client(event_hooks={"request": [sent.append]})
    client = missionlab.Client(api_key=TOKEN, base_url=contract_sandbox.url, http_client=http)
    mission = client.missions.create(name="client contract").data
    run = client.missions.runs.create(mission.mission_id).data
    problems: list[str] = []
    reached: set[tuple[str, str] | None] = set()
    all_query_names: dict[tuple[str, str], set[str]] = {}
    for call, free_body in _client_calls(client, mission.mission_id, run.run_id):
        sent.clear()
        call()
        assert len(sent) == 1
        request = sent[0]
        path = request.url.path.removeprefix(contract.PREFIX)
        body = json.loads(request.content) if request.content else None
        query = dict(request.url.params)
        operation = contract.match_operation(request.method, path)
        reached.add(operation)
        if operation is not None:
            all_query_names[operation] = set(query)
        problems += contract.request_problems(request.method, path, query, body, free_body=free_body)
    reached.add(contract.match_operation("POST", f"/ai/missions/{MISSION}/runs"))
    sent.clear()
    client.missions.clone_mission(mission.mission_id)
    client.missions.delete_mission(mission.mission_id)
    for request in sent:
        path = request.url.path.removeprefix(contract.PREFIX)
        reached.add(contract.match_operation(request.method, path))
        body = json.loads(request.content) if request.content else None
        problems += contract.request_problems(request.method, path, dict(request.url.params), body)
    assert problems == [], "\n".join(problems)
    assert reached == set(contract.operations())
    # Called with every argument, a method sends every query parameter its operation documents.
    for operation, names in all_query_names.items():
        item = contract.facts()["paths"][operation[1]][operation[0].lower()]
        assert names == {p["name"] for p in item["parameters"] if p["in"] == "query"}, operation


def test_request_check_catches_an_undocumented_parameter() -> None:
    problems = contract.request_problems("GET", f"/ai/missions/{MISSION}/runs", {"state": "running"}, None)
    assert problems == ["GET /ai/missions/{mission_id}/runs: sends undocumented query parameter state"]
    problems = contract.request_problems("POST", f"/ai/missions/{MISSION}/clone", {}, {})
    assert problems and "body" in problems[0]
