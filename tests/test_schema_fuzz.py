"""Property-based fuzzing of the sandbox's own OpenAPI document with schemathesis.

Every operation gets generated requests, valid and invalid; no answer may be a
500, and every answer must match the document: status codes, content types and
bodies. The test drives schemathesis' strategies with plain hypothesis, not
through schemathesis' pytest plugin (which is disabled in pyproject.toml): the
plugin reaches into pytest's internals and broke on a pytest minor release.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from missionlab.sandbox import Sandbox
from missionlab.sandbox.routes import api_operations

if TYPE_CHECKING:
    from schemathesis.specs.openapi.schemas import OpenApiCase

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
EXAMPLES = 30


@pytest.fixture(scope="module")
def fuzz_sandbox() -> Iterator[Sandbox]:
    with Sandbox(demo=True, speed=50) as sb:
        yield sb


@pytest.fixture(scope="module")
def fuzz_schema(fuzz_sandbox: Sandbox) -> schemathesis.schemas.BaseSchema:
    schema = schemathesis.openapi.from_url(fuzz_sandbox.url + "/openapi.json")
    # The sandbox's token, so that requests reach the handlers; schemathesis still sends
    # generated Authorization headers too (answered 401) when it fuzzes the security scheme.
    schema.config.update(headers={"Authorization": f"Bearer {fuzz_sandbox.token}"})
    return schema


def _document_operations() -> list[str]:
    """Labels of the operations the sandbox documents, e.g. ``GET /v2/ai/missions``."""
    from missionlab.sandbox import Store, create_app

    document = create_app(Store(), simulate=False).openapi()
    return [f"{method.upper()} {path}" for path, item in document["paths"].items() for method in item]


OPERATIONS = _document_operations()


def test_schema_covers_every_endpoint(fuzz_sandbox: Sandbox) -> None:
    document = httpx.get(fuzz_sandbox.url + "/openapi.json").json()
    served = [f"{method.upper()} {path}" for path, item in document["paths"].items() for method in item]
    defined = [label.replace(" ", " /v2", 1) for label in api_operations()]
    assert sorted(served) == sorted(defined) == sorted(OPERATIONS)
    assert len(served) == len(set(served)) > 0
    assert all(label.split()[1].startswith("/v2/ai/missions") for label in served)


@pytest.mark.parametrize("label", OPERATIONS)
def test_no_server_errors_and_answers_match_the_schema(
    label: str, fuzz_schema: schemathesis.schemas.BaseSchema
) -> None:
    operation = fuzz_schema.find_operation_by_label(label)
    assert operation is not None, label
    strategy = st.one_of(
        operation.as_strategy(GenerationMode.POSITIVE), operation.as_strategy(GenerationMode.NEGATIVE)
    )

    @given(case=strategy)
    @settings(max_examples=EXAMPLES, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    def check(case: OpenApiCase) -> None:
        case.call_and_validate(checks=CHECKS)

    check()
