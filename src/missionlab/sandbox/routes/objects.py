"""Tools, knowledge bases and MCP servers: free-form objects attached to a mission.

Annotations here are evaluated when a handler is defined (no ``from __future__ import
annotations``): the path parameter's alias is a local variable, which FastAPI could not
resolve from a string.
"""

from typing import Annotated

from fastapi import APIRouter, Body, Path, Response

from .. import schemas as s
from ..input_checks import JSONObject
from ..store import OBJECT_KINDS, Store
from ._common import _doc, ok


def add_object_routes(api: APIRouter, store: Store) -> None:
    """The five routes of each kind of mission object."""
    for kind, id_field in OBJECT_KINDS.items():
        _object_routes(api, store, kind, id_field)


def _object_routes(api: APIRouter, store: Store, kind: str, id_field: str) -> None:
    """The five routes of one kind of free-form mission object."""
    base = f"/{{mission_id}}/{kind}"
    one = f"{base}/{{{id_field}}}"
    label = kind.replace("-", " ")
    tag = kind.replace("-", "_")

    @api.get(base, summary=f"List {label}", name=f"list_{tag}", **_doc(s.ObjectList))
    async def list_objects(mission_id: str) -> Response:
        store.get_mission(mission_id, with_objects=False)
        return ok({"data": store.list_objects(kind, mission_id)})

    @api.post(base, summary=f"Create {label}", name=f"create_{tag}", **_doc(s.ObjectOut, 201, conflict=True))
    async def create_object(mission_id: str, body: Annotated[JSONObject | None, Body()] = None) -> Response:
        return ok({"data": store.create_object(kind, mission_id, body or {})}, 201)

    # The id's name in the path differs per kind (tool_id, ...); the alias names it.
    ObjectId = Annotated[str, Path(alias=id_field)]

    async def get_object(mission_id: str, object_id: ObjectId) -> Response:
        return ok({"data": store.get_object(kind, mission_id, object_id)})

    async def update_object(
        mission_id: str, object_id: ObjectId, body: Annotated[JSONObject | None, Body()] = None
    ) -> Response:
        return ok({"data": store.update_object(kind, mission_id, object_id, body or {})})

    async def delete_object(mission_id: str, object_id: ObjectId) -> Response:
        store.delete_object(kind, mission_id, object_id)
        return Response(status_code=204)

    for method, handler, doc, verb in (
        ("GET", get_object, _doc(s.ObjectOut), "Get"),
        ("PUT", update_object, _doc(s.ObjectOut), "Update"),
        ("DELETE", delete_object, _doc(type(None), 204), "Delete"),
    ):
        api.add_api_route(
            one,
            handler,
            methods=[method],
            summary=f"{verb} {label.rstrip('s')}",
            name=f"{verb.lower()}_{tag}",
            **doc,
        )
