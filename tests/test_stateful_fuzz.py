"""Stateful fuzzing of the sandbox: schemathesis chains calls along the document's OpenAPI links,
so that every operation runs on real missions, runs, steps, events, agents and objects.

Driven with hypothesis' ``run_state_machine_as_test`` (schemathesis' pytest plugin is
disabled in pyproject.toml). One state machine per area of the API (each starting from
creating a mission), so that chains reach deep within a small budget; rounds run until
every operation has answered with a 2xx at least once. Every answer is checked: no 5xx,
status code, content type and body as documented.
"""

from __future__ import annotations

import re
import time
from collections import defaultdict
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, settings
from hypothesis.stateful import run_state_machine_as_test
from schemathesis.checks import not_a_server_error
from schemathesis.generation import GenerationMode
from schemathesis.python import asgi
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from missionlab.sandbox import Store, create_app
from missionlab.sandbox.routes import api_operations

if TYPE_CHECKING:
    from schemathesis.specs.openapi.schemas import OpenApiCase

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
BUDGET_SECONDS = 120  # rounds stop as soon as every operation has answered 2xx
TOKEN = "stateful-fuzz-token"
CREATE_MISSION = "POST /v2/ai/missions"

# Operations (as "METHOD /v2/path" labels) each state machine covers, besides creating a mission.
AREAS = {
    "missions": r"^(GET|POST) /v2/ai/missions$|\{mission_id\}(/clone)?$",
    "tools": r"/tools",
    "knowledge bases": r"/knowledge-bases",
    "MCP servers": r"/mcp-servers",
    "run lifecycle": r"/runs(/\{run_id\}(/pause|/resume|/cancel)?)?$",
    "plans": r"^POST .*/\{mission_id\}/runs$|/plan",
    "events": r"^POST .*/\{mission_id\}/runs$|/events",
    "agents": r"^POST .*/\{mission_id\}/runs$|/telnyx-agents",
}
ROUND = settings(
    max_examples=4,
    stateful_step_count=30,
    deadline=None,
    database=None,
    # Each round must draw new chains: hypothesis' CI profile (chosen when CI is set) derandomizes,
    # which would replay the same chains every round and never reach what they missed.
    derandomize=False,
    phases=[Phase.generate],
    suppress_health_check=list(HealthCheck),
)


# schemathesis calls the app in process as "testserver", which no real client would be.
# Managed runs start at once (speed 100), so that a chain can pause and resume them.
APP = create_app(Store(), token=TOKEN, speed=100, allowed_hosts=("testserver",))


@pytest.fixture(scope="module")
def linked_schema() -> Any:
    """The sandbox's document, called in process (no sockets: several times faster than HTTP)."""
    schema = schemathesis.openapi.from_asgi("/v2/openapi.json", APP)
    schema.config.update(headers={"Authorization": f"Bearer {TOKEN}"})
    schema.config.phases.stateful.inference.algorithms = []  # the document's own links only
    schema.config.generation.update(modes=[GenerationMode.POSITIVE], with_security_parameters=False)
    return schema


@pytest.fixture(scope="module")
def app_client() -> Iterator[Any]:
    """One client for every call, instead of one per call."""
    # schemathesis types ASGI messages as dict, Starlette as MutableMapping: the same app either way.
    with asgi.get_client(APP) as client:  # type: ignore[arg-type]
        yield client


def _labels() -> list[str]:
    return [label.replace(" ", " /v2", 1) for label in api_operations()]


def test_the_document_links_every_id_taking_operation(linked_schema: Any) -> None:
    document = linked_schema.raw_schema
    linked = {
        link["operationId"]
        for item in document["paths"].values()
        for operation in item.values()
        for answer in operation["responses"].values()
        for link in answer.get("links", {}).values()
    }
    needing_ids = {
        operation["operationId"]
        for path, item in document["paths"].items()
        if "{" in path
        for operation in item.values()
    }
    assert needing_ids and needing_ids <= linked


def _area_schema(schema: Any, pattern: str) -> Any:
    return schema.include(
        lambda ctx: ctx.operation.label == CREATE_MISSION or re.search(pattern, ctx.operation.label)
    )


def test_the_areas_cover_every_operation(linked_schema: Any) -> None:
    covered = {
        result.ok().label
        for pattern in AREAS.values()
        for result in _area_schema(linked_schema, pattern).get_all_operations()
    }
    assert covered == set(_labels()) and len(covered) == 41


def _machine(schema: Any, client: Any, statuses: dict[str, set[int]]) -> Any:
    """The area's state machine: scenarios start by creating a mission; answers are recorded."""
    base = schema.as_state_machine()

    class Machine(base):  # type: ignore[misc, valid-type]
        def get_call_kwargs(self, case: OpenApiCase) -> dict[str, Any]:
            return {"session": client}

        def call(self, case: OpenApiCase, **kwargs: Any) -> Any:
            response = super().call(case, **kwargs)
            statuses[f"{case.method.upper()} {case.path}"].add(response.status_code)
            return response

        def validate_response(self, response: Any, case: OpenApiCase, **kwargs: Any) -> None:
            case.validate_response(response, checks=CHECKS, transport_kwargs=kwargs or None)

    # Other operations with outgoing links would also start scenarios, with random ids (404).
    for rule in base.root_rules:
        if not rule.endswith("POST_v2_ai_missions"):
            setattr(Machine, rule, None)
    return Machine


def test_every_operation_answers_2xx_under_stateful_fuzzing(linked_schema: Any, app_client: Any) -> None:
    statuses: dict[str, set[int]] = defaultdict(set)
    areas = {
        name: (_machine(_area_schema(linked_schema, pattern), app_client, statuses), pattern)
        for name, pattern in AREAS.items()
    }

    def unanswered(pattern: str = "") -> list[str]:
        return [
            label
            for label in _labels()
            if re.search(pattern, label) and not any(200 <= s < 300 for s in statuses[label])
        ]

    deadline, rounds = time.monotonic() + BUDGET_SECONDS, 0
    while unanswered() and time.monotonic() < deadline:
        for machine, pattern in areas.values():
            if unanswered(pattern) and time.monotonic() < deadline:
                run_state_machine_as_test(machine, settings=ROUND)
        rounds += 1
    answered = {label: sorted(codes) for label, codes in statuses.items()}
    assert unanswered() == [], f"after {rounds} rounds: {answered}"
