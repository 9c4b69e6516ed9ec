"""The shared base of the free-form objects attached to a mission."""

from __future__ import annotations

from typing import Any

from .. import _validate as v
from .._call import RequestOptions
from ._args import object_operation, object_path
from ._base import _Resource


class _MissionObjects(_Resource):
    """Free-form objects attached to a mission: tools, knowledge bases, MCP servers.

    The published document gives no schema for them: answers are returned as
    the JSON the server sent, and ``body`` (a missionlab extension; the document
    describes no request body) is sent as it is. Ids are plain strings.
    Subclasses name the URL segment and the id, and expose the SDK's method names.
    """

    segment = ""
    id_name = ""

    def _list_objects(self, mission_id: Any, options: RequestOptions) -> Any:
        path = object_path(self.segment, self.id_name, mission_id)
        return self._get_json(path, object_operation("GET", self.segment), options)

    def _create(self, mission_id: Any, body: Any, options: RequestOptions) -> Any:
        return self._write_json(
            "POST",
            object_path(self.segment, self.id_name, mission_id),
            object_operation("POST", self.segment),
            options,
            v.object_arg("body", body),
            idempotent=False,
        )

    def _retrieve(self, object_id: Any, mission_id: Any, options: RequestOptions) -> Any:
        path = object_path(self.segment, self.id_name, mission_id, object_id)
        return self._get_json(path, object_operation("GET", self.segment, self.id_name), options)

    def _update(self, object_id: Any, mission_id: Any, body: Any, options: RequestOptions) -> Any:
        return self._write_json(
            "PUT",
            object_path(self.segment, self.id_name, mission_id, object_id),
            object_operation("PUT", self.segment, self.id_name),
            options,
            v.object_arg("body", body),
            idempotent=True,
        )

    def _delete_object(self, object_id: Any, mission_id: Any, options: RequestOptions) -> None:
        path = object_path(self.segment, self.id_name, mission_id, object_id)
        return self._delete(path, object_operation("DELETE", self.segment, self.id_name), options)
