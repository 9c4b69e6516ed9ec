"""The published Missions API document, as facts, and comparisons of other documents with it.

``tests/data/published-openapi-facts.json`` holds every path, method, parameter,
request body and response schema of Telnyx's published OpenAPI document (its
``source`` says which copy). The functions here compare the sandbox's own
document with those facts and validate answers against the published schemas;
each returns a list of problems (empty when everything matches), so that tests
can also show that a deliberate mismatch is caught.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterator
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker

FACTS_FILE = Path(__file__).parent / "data" / "published-openapi-facts.json"
PREFIX = "/v2"


@cache
def facts() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(FACTS_FILE.read_text())
    return loaded


def operations(document: dict[str, Any] | None = None) -> list[tuple[str, str]]:
    """(METHOD, path) of every operation of ``document`` (the published one by default)."""
    paths = (document or facts())["paths"]
    return [
        (method.upper(), path)
        for path, item in paths.items()
        for method in item
        if method in {"get", "post", "put", "patch", "delete"}
    ]


def path_regex(template: str) -> re.Pattern[str]:
    """A regex matching concrete paths of an OpenAPI path template."""
    pattern = re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(template))
    return re.compile(f"^{pattern}$")


def match_operation(method: str, path: str) -> tuple[str, str] | None:
    """The published operation a concrete request (path without ``/v2``) belongs to."""
    # Literal segments win over parameters: /ai/missions/runs is not /ai/missions/{mission_id}.
    candidates = [(m, t) for m, t in operations() if m == method and path_regex(t).match(path)]
    candidates.sort(key=lambda op: op[1].count("{"))
    return candidates[0] if candidates else None


# -- resolving schemas --------------------------------------------------------------------------


def resolve(schema: dict[str, Any], document: dict[str, Any]) -> dict[str, Any]:
    """``schema`` with its $ref followed and a nullable ``anyOf`` reduced to its one other member."""
    while True:
        if "$ref" in schema:
            name = schema["$ref"].rsplit("/", 1)[-1]
            schema = {
                **document["components"]["schemas"][name],
                **{k: v for k, v in schema.items() if k != "$ref"},
            }
            continue
        options = [s for s in schema.get("anyOf", []) if s.get("type") != "null"]
        if "anyOf" in schema and len(options) == 1:
            schema = {**options[0], **{k: v for k, v in schema.items() if k != "anyOf"}}
            continue
        return schema


def shape(schema: dict[str, Any], document: dict[str, Any]) -> dict[str, Any]:
    """What a value of ``schema`` may be: type, format, enum and item shape."""
    schema = resolve(schema, document)
    out: dict[str, Any] = {key: schema[key] for key in ("type", "format", "enum") if key in schema}
    if schema.get("type") == "array" and "items" in schema:
        out["items"] = shape(schema["items"], document)
    return out


def properties(schema: dict[str, Any], document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    resolved = resolve(schema, document)
    return {name: resolve(sub, document) for name, sub in resolved.get("properties", {}).items()}


def _body_schema(operation: dict[str, Any], document: dict[str, Any]) -> dict[str, Any] | None:
    body = operation.get("requestBody")
    if body is None:
        return None
    schema = body.get("schema") or body["content"]["application/json"]["schema"]
    return resolve(schema, document)


def _response_schema(operation: dict[str, Any], status: str) -> dict[str, Any] | None:
    answer = operation["responses"][status]
    if "schema" in answer:
        return dict(answer["schema"])
    content = answer.get("content", {}).get("application/json")
    return None if content is None else dict(content.get("schema", {}))


def success_status(operation: dict[str, Any]) -> str:
    statuses: list[str] = [s for s in operation["responses"] if s.startswith("2")]
    return min(statuses)


# -- comparing the sandbox's document with the published one -----------------------------------


def compare_documents(served: dict[str, Any]) -> list[str]:
    """Every way ``served`` (the sandbox's OpenAPI document) departs from the published facts.

    Checked per published operation: it is served under ``/v2``; the same parameters
    (names, places, required, types, formats, defaults), no enum the document doesn't
    have; the same request body properties with the same types and required fields
    (an undocumented body may only be optional and free-form); the same success status;
    and a response whose properties include every published one with the same shape.
    """
    published = facts()
    problems: list[str] = []
    served_ops = set(operations({"paths": {p.removeprefix(PREFIX): i for p, i in served["paths"].items()}}))
    for method, path in operations():
        label = f"{method} {path}"
        mine = published["paths"][path][method.lower()]
        theirs = served["paths"].get(PREFIX + path, {}).get(method.lower())
        if theirs is None:
            problems.append(f"{label}: not served")
            continue
        problems += [f"{label}: {p}" for p in _compare_parameters(mine, theirs, served)]
        problems += [f"{label}: {p}" for p in _compare_body(mine, theirs, served)]
        status = success_status(mine)
        if status not in theirs["responses"]:
            problems.append(f"{label}: success status {status} not documented by the sandbox")
            continue
        problems += [f"{label}: {p}" for p in _compare_response(mine, theirs, status, served)]
    for method, path in sorted(served_ops - set(operations())):
        problems.append(f"{method} {path}: served but not in the published document")
    return problems


def _compare_parameters(
    mine: dict[str, Any], theirs: dict[str, Any], served: dict[str, Any]
) -> Iterator[str]:
    published = {(p["in"], p["name"]): p for p in mine["parameters"]}
    actual = {(p["in"], p["name"]): p for p in theirs.get("parameters", []) if p["in"] != "header"}
    for key in sorted(published.keys() - actual.keys()):
        yield f"parameter {key[1]} ({key[0]}) is missing"
    for key in sorted(actual.keys() - published.keys()):
        yield f"parameter {key[1]} ({key[0]}) is not in the published document"
    for key in sorted(published.keys() & actual.keys()):
        want, have = published[key], actual[key]
        if bool(want.get("required")) != bool(have.get("required")):
            yield f"parameter {key[1]}: required={have.get('required')}, published {want.get('required')}"
        want_shape = shape(want["schema"], facts())
        have_shape = shape(have["schema"], served)
        for aspect in ("type", "format", "enum"):
            if want_shape.get(aspect) != have_shape.get(aspect):
                yield (
                    f"parameter {key[1]}: {aspect} {have_shape.get(aspect)!r}, published "
                    f"{want_shape.get(aspect)!r}"
                )
        default = want["schema"].get("default")
        if default is not None and resolve(have["schema"], served).get("default") != default:
            yield f"parameter {key[1]}: default differs from the published {default!r}"


def _compare_body(mine: dict[str, Any], theirs: dict[str, Any], served: dict[str, Any]) -> Iterator[str]:
    want = _body_schema(mine, facts())
    have = _body_schema(theirs, served)
    if want is None:
        if have is not None and (
            theirs["requestBody"].get("required") or have.get("properties") or have.get("type") != "object"
        ):
            yield "has an undocumented request body (only an optional free-form one may be added)"
        return
    if have is None:
        yield "the published request body is missing"
        return
    if bool(mine["requestBody"].get("required")) != bool(theirs["requestBody"].get("required")):
        yield "request body required-ness differs"
    want_props, have_props = properties(want, facts()), properties(have, served)
    for name in sorted(want_props.keys() - have_props.keys()):
        yield f"request field {name} is missing"
    for name in sorted(have_props.keys() - want_props.keys()):
        yield f"request field {name} is not in the published document"
    for name in sorted(want_props.keys() & have_props.keys()):
        a, b = shape(want_props[name], facts()), shape(have_props[name], served)
        if (a.get("type"), a.get("format"), a.get("enum")) != (b.get("type"), b.get("format"), b.get("enum")):
            yield f"request field {name}: {b}, published {a}"
    if set(want.get("required", [])) != set(have.get("required", [])):
        yield (
            f"required request fields {sorted(have.get('required', []))}, published "
            f"{sorted(want.get('required', []))}"
        )


def _compare_response(
    mine: dict[str, Any], theirs: dict[str, Any], status: str, served: dict[str, Any]
) -> Iterator[str]:
    want = _response_schema(mine, status)
    if not want:  # 204, or {}: any JSON is allowed
        return
    have = _response_schema(theirs, status)
    if have is None:
        yield f"no response schema for {status}"
        return
    yield from _compare_shapes(want, have, served, "response")


def _compare_shapes(
    want: dict[str, Any], have: dict[str, Any], served: dict[str, Any], where: str
) -> Iterator[str]:
    want_r, have_r = resolve(want, facts()), resolve(have, served)
    want_props, have_props = properties(want_r, facts()), properties(have_r, served)
    if want_r.get("type") == "array":
        yield from _compare_shapes(want_r["items"], have_r.get("items", {}), served, f"{where}[]")
        return
    for name in sorted(want_props.keys() - have_props.keys()):
        yield f"{where}.{name} is missing"
    missing_required = set(want_r.get("required", [])) - set(have_r.get("required", []))
    for name in sorted(missing_required):
        yield f"{where}.{name} is required by the published document but optional here"
    for name in sorted(want_props.keys() & have_props.keys()):
        a, b = want_props[name], have_props[name]
        if a.get("type") in ("object", "array") and ("properties" in a or "items" in a):
            yield from _compare_shapes(a, b, served, f"{where}.{name}")
            continue
        sa, sb = shape(a, facts()), shape(b, served)
        if sa != {k: v for k, v in sb.items() if k in sa or k == "enum"}:
            yield f"{where}.{name}: {sb}, published {sa}"


# -- validating answers -------------------------------------------------------------------------


def _format_checker() -> FormatChecker:
    checker = FormatChecker(formats=())

    @checker.checks("uuid", raises=ValueError)
    def is_uuid(value: object) -> bool:
        return not isinstance(value, str) or bool(uuid.UUID(value))

    @checker.checks("date-time", raises=ValueError)
    def is_datetime(value: object) -> bool:
        return not isinstance(value, str) or bool(datetime.fromisoformat(value))

    return checker


def answer_problems(method: str, path: str, status: int, body: Any) -> list[str]:
    """How an answer (path without ``/v2``) departs from the published document."""
    operation = match_operation(method, path)
    if operation is None:
        return [f"{method} {path}: no such published operation"]
    item = facts()["paths"][operation[1]][method.lower()]
    key = str(status)
    if key not in item["responses"]:
        return [f"{method} {operation[1]}: status {status} is not published ({sorted(item['responses'])})"]
    schema = _response_schema(item, key)
    if not schema:
        return []
    validator = Draft202012Validator(
        {**schema, "components": facts()["components"]}, format_checker=_format_checker()
    )
    return [
        f"{method} {operation[1]} {status}: {'/'.join(map(str, e.absolute_path))}: {e.message[:200]}"
        for e in validator.iter_errors(body)
    ]


def request_problems(
    method: str, path: str, query: dict[str, Any], body: Any, *, free_body: bool = False
) -> list[str]:
    """How a request (path without ``/v2``) departs from what its operation documents."""
    operation = match_operation(method, path)
    if operation is None:
        return [f"{method} {path}: no such published operation"]
    item = facts()["paths"][operation[1]][method.lower()]
    label = f"{method} {operation[1]}"
    problems = []
    documented = {p["name"] for p in item["parameters"] if p["in"] == "query"}
    for name in sorted(set(query) - documented):
        problems.append(f"{label}: sends undocumented query parameter {name}")
    schema = _body_schema(item, facts())
    if schema is None:
        if body is not None and not (free_body and isinstance(body, dict)):
            problems.append(f"{label}: sends a body the document doesn't describe: {body!r:.80}")
    elif body is not None:
        fields = properties(schema, facts())
        for name in sorted(set(body) - set(fields)):
            problems.append(f"{label}: sends undocumented body field {name}")
        for name in sorted(set(schema.get("required", [])) - set(body)):
            problems.append(f"{label}: leaves out required body field {name}")
    return problems
