"""``client.missions.knowledge_bases``: knowledge bases."""

from __future__ import annotations

from typing import Any, Unpack

from .._call import RequestOptions
from ._objects import _MissionObjects


class KnowledgeBases(_MissionObjects):
    """``client.missions.knowledge_bases``: knowledge bases (free-form JSON)."""

    segment = "knowledge-bases"
    id_name = "knowledge_base_id"

    def list_knowledge_bases(self, mission_id: str, **options: Unpack[RequestOptions]) -> Any:
        """The mission's knowledge bases."""
        return self._list_objects(mission_id, options)

    def create_knowledge_base(
        self, mission_id: str, *, body: dict[str, Any] | None = None, **options: Unpack[RequestOptions]
    ) -> Any:
        """Add a knowledge base to the mission; ``body`` is sent as it is."""
        return self._create(mission_id, body, options)

    def get_knowledge_base(
        self, knowledge_base_id: str, *, mission_id: str, **options: Unpack[RequestOptions]
    ) -> Any:
        """One knowledge base."""
        return self._retrieve(knowledge_base_id, mission_id, options)

    def update_knowledge_base(
        self,
        knowledge_base_id: str,
        *,
        mission_id: str,
        body: dict[str, Any] | None = None,
        **options: Unpack[RequestOptions],
    ) -> Any:
        """Change a knowledge base; ``body`` is sent as it is."""
        return self._update(knowledge_base_id, mission_id, body, options)

    def delete_knowledge_base(
        self, knowledge_base_id: str, *, mission_id: str, **options: Unpack[RequestOptions]
    ) -> None:
        """Remove a knowledge base from the mission."""
        return self._delete_object(knowledge_base_id, mission_id, options)
