"""Property-based fuzzing of the sandbox's own OpenAPI document with schemathesis.

Every operation gets generated requests (valid and invalid); no answer may be a
500, and every answer must match the document: status codes, content types and
bodies.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from missionlab.sandbox import Sandbox

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance]


@pytest.fixture(scope="module")
def fuzz_sandbox() -> Iterator[Sandbox]:
    with Sandbox(demo=True, speed=50) as sb:
        yield sb


schema = schemathesis.pytest.from_fixture("fuzz_schema")


@pytest.fixture(scope="module")
def fuzz_schema(fuzz_sandbox: Sandbox) -> schemathesis.schemas.BaseSchema:
    return schemathesis.openapi.from_url(fuzz_sandbox.url + "/openapi.json")


def test_schema_covers_every_endpoint(fuzz_sandbox: Sandbox) -> None:
    import httpx

    document = httpx.get(fuzz_sandbox.url + "/openapi.json").json()
    operations = [(method, path) for path, item in document["paths"].items()
                  for method in item]
    assert len(operations) == 41
    assert all(path.startswith("/v2/ai/missions") for _, path in operations)


@schema.parametrize()
@settings(max_examples=30, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much,
                                 HealthCheck.function_scoped_fixture])
def test_no_server_errors_and_answers_match_the_schema(case: schemathesis.Case) -> None:
    case.call_and_validate(checks=CHECKS)
