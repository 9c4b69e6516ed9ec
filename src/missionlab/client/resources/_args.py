"""URL paths and request bodies, shared by the sync and async resources (not generated)."""

from __future__ import annotations

from typing import Any

from ...limits import MAX_NAME_LENGTH
from ...types import ExecutionMode
from .. import _validate as v


def mission_path(mission_id: Any, *, reading: bool = False) -> str:
    """A mission's path, on the routes whose document says its id is a UUID: refused unless
    a UUID where we write, any plain-string id where we only read (``reading``)."""
    check = v.read_id_arg if reading else v.uuid_arg
    return f"/ai/missions/{check('mission_id', mission_id)}"


def free_mission_path(mission_id: Any) -> str:
    """A mission's path, on the routes whose document says its id is a plain string."""
    return f"/ai/missions/{v.path_id('mission_id', mission_id)}"


def run_path(mission_id: Any, run_id: Any, *, reading: bool = False) -> str:
    """A run's path; as :func:`mission_path`, UUIDs required only where we write."""
    check = v.read_id_arg if reading else v.uuid_arg
    return f"{mission_path(mission_id, reading=reading)}/runs/{check('run_id', run_id)}"


def object_path(segment: str, id_name: str, mission_id: Any, object_id: Any = None) -> str:
    """The path of a mission's tools (knowledge bases, MCP servers), or of one of them."""
    path = f"{free_mission_path(mission_id)}/{segment}"
    return path if object_id is None else f"{path}/{v.path_id(id_name, object_id)}"


def object_operation(method: str, segment: str, id_name: str | None = None) -> str:
    one = "" if id_name is None else f"/{{{id_name}}}"
    return f"{method} /ai/missions/{{mission_id}}/{segment}{one}"


def mission_body(
    *, name: Any, description: Any, execution_mode: Any, instructions: Any, metadata: Any, model: Any
) -> dict[str, Any]:
    """The body of a mission's create or update; ``name`` is required when not None."""
    return v.body(
        name=None if name is None else v.text_arg("name", name, required=True, max_length=MAX_NAME_LENGTH),
        description=v.text_arg("description", description),
        execution_mode=v.enum_arg("execution_mode", execution_mode, ExecutionMode),
        instructions=v.text_arg("instructions", instructions),
        metadata=v.object_arg("metadata", metadata),
        model=v.text_arg("model", model),
    )
