"""OpenAPI links in the sandbox's document: from an answer that names a new object to the
operations that take its id.

The published document has none; they only add to the sandbox's own document, so that a
client generator or a stateful fuzzer (schemathesis) can chain calls on real missions,
runs, steps, events, agents and mission objects instead of ids that name nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

MISSION = "/v2/ai/missions/{mission_id}"
RUN = f"{MISSION}/runs/{{run_id}}"


def _from_body(pointer: str) -> str:
    return f"$response.body#/data{pointer}"


def _from_path(name: str) -> str:
    return f"$request.path.{name}"


@dataclass(frozen=True)
class Producer:
    """An answer (``method path`` with ``status``) from which ``ids`` can be read.

    Linked to every operation whose path parameters are among ``ids`` and include ``key``
    (the id the answer introduces; with ``key`` None, to none of them), and to the ``extra``
    operations, each sent the request body given with it (instead of a generated one).
    """

    method: str
    path: str
    status: int
    ids: dict[str, str]
    key: str | None
    extra: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)


_MISSION_IDS = {"mission_id": _from_body("/mission_id")}
_RUN_IDS = {"mission_id": _from_body("/mission_id"), "run_id": _from_body("/run_id")}
_IN_RUN = {"mission_id": _from_path("mission_id"), "run_id": _from_path("run_id")}

_FIRST_STEP = {"step_id": "first", "description": "The first step", "sequence": 1}
_CHILD_STEP = {"step_id": "child", "description": "A nested step", "sequence": 2, "parent_step_id": "first"}

PRODUCERS: list[Producer] = [
    Producer("post", "/v2/ai/missions", 201, _MISSION_IDS, "mission_id", [("get", "/v2/ai/missions", {})]),
    Producer("post", f"{MISSION}/clone", 201, _MISSION_IDS, None, extra=[("get", MISSION, {})]),
    # A new run is pending: the extra links start or pause it, so that pause and resume can be reached.
    Producer(
        "post",
        f"{MISSION}/runs",
        201,
        _RUN_IDS,
        "run_id",
        extra=[
            ("patch", RUN, {"status": "running"}),
            ("patch", RUN, {"status": "paused"}),
            ("post", f"{RUN}/plan", {"steps": [_FIRST_STEP]}),
            ("get", "/v2/ai/missions/runs", {}),
        ],
    ),
    # A run whose status changed leads on to pausing, resuming or cancelling it.
    *(
        Producer(method, path, 200, _RUN_IDS, None, extra=[("post", f"{RUN}/{a}", {}) for a in actions])
        for method, path, actions in (
            ("patch", RUN, ("pause", "resume", "cancel")),
            ("post", f"{RUN}/pause", ("resume", "cancel")),
            ("post", f"{RUN}/resume", ("pause", "cancel")),
        )
    ),
    Producer(
        "post",
        f"{RUN}/plan",
        201,
        {**_IN_RUN, "step_id": _from_body("/0/step_id")},
        "step_id",
        extra=[("post", f"{RUN}/plan/steps", {"steps": [_CHILD_STEP]})],
    ),
    Producer("post", f"{RUN}/plan/steps", 201, {**_IN_RUN, "step_id": _from_body("/0/step_id")}, "step_id"),
    Producer(
        "post",
        f"{RUN}/events",
        201,
        {**_IN_RUN, "event_id": _from_body("/event_id")},
        "event_id",
        extra=[("get", "/v2/ai/missions/events", {})],
    ),
    Producer(
        "post",
        f"{RUN}/telnyx-agents",
        201,
        {**_IN_RUN, "telnyx_agent_id": _from_body("/telnyx_agent_id")},
        "telnyx_agent_id",
    ),
    *(
        Producer(
            "post",
            f"{MISSION}/{kind}",
            201,
            {"mission_id": _from_path("mission_id"), id_field: _from_body(f"/{id_field}")},
            id_field,
        )
        for kind, id_field in (
            ("tools", "tool_id"),
            ("knowledge-bases", "knowledge_base_id"),
            ("mcp-servers", "mcp_server_id"),
        )
    ),
]


def _path_parameters(path: str) -> set[str]:
    return set(re.findall(r"\{([^}]+)\}", path))


def _link_name(operation: dict[str, Any], body: dict[str, Any]) -> str:
    """The target's summary in CamelCase, e.g. ``GetStepDetails``, and the body it is sent."""
    words = re.split(r"[^A-Za-z0-9]+", operation["summary"])
    sent = "".join(f"With{k.capitalize()}{str(v).capitalize()}" for k, v in body.items())
    return "".join(w.capitalize() for w in words if w) + sent


def add_links(document: dict[str, Any]) -> dict[str, Any]:
    """Add the :data:`PRODUCERS`' links to ``document`` (the sandbox's OpenAPI document), in place."""
    paths: dict[str, dict[str, Any]] = document["paths"]
    for producer in PRODUCERS:
        answer = paths[producer.path][producer.method]["responses"][str(producer.status)]
        links: dict[str, Any] = answer.setdefault("links", {})
        given = {(method, path) for method, path, _ in producer.extra}
        targets: list[tuple[str, str, dict[str, Any]]] = [
            (method, path, {})
            for path, item in paths.items()
            if producer.key in _path_parameters(path) and _path_parameters(path) <= producer.ids.keys()
            for method in item
            if (method, path) not in given
        ]
        for method, path, body in targets + producer.extra:
            name = _link_name(paths[path][method], body)
            if name in links:
                raise ValueError(f"two links named {name} from {producer.method} {producer.path}")
            links[name] = {
                "operationId": paths[path][method]["operationId"],
                "parameters": {key: producer.ids[key] for key in sorted(_path_parameters(path))},
                **({"requestBody": body} if body else {}),
            }
    return document
