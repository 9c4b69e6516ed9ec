"""``client.missions.knowledge_bases``: knowledge bases."""

from __future__ import annotations

from typing import Any

from ..models import ObjectListResponse, ObjectResponse
from ._objects import _MissionObjects


class KnowledgeBases(_MissionObjects):
    """``client.missions.knowledge_bases``: knowledge bases (free-form JSON objects)."""

    segment = "knowledge-bases"

    def list_knowledge_bases(self, mission_id: str, **options: Any) -> ObjectListResponse:
        return self._list_objects(mission_id, options)

    def create_knowledge_base(
        self, mission_id: str, *, body: dict[str, Any] | None = None, **options: Any
    ) -> ObjectResponse:
        return self._create(mission_id, body, options)

    def get_knowledge_base(
        self, knowledge_base_id: str, *, mission_id: str, **options: Any
    ) -> ObjectResponse:
        return self._retrieve(knowledge_base_id, mission_id, options)

    def update_knowledge_base(
        self, knowledge_base_id: str, *, mission_id: str, body: dict[str, Any] | None = None, **options: Any
    ) -> ObjectResponse:
        return self._update(knowledge_base_id, mission_id, body, options)

    def delete_knowledge_base(self, knowledge_base_id: str, *, mission_id: str, **options: Any) -> None:
        return self._delete_object(knowledge_base_id, mission_id, options)
