"""What every resource shares: sending through the client, and the URL paths of a
mission and a run."""

from __future__ import annotations

from typing import Any, TypeVar, cast

from pydantic import BaseModel

from .. import _validate as v
from .._call import Call, check_options, parse_model, parse_nothing
from .._pagination import PageRequest, SyncPage

M = TypeVar("M", bound=BaseModel)


class _Resource:
    def __init__(self, client: Any) -> None:
        self._client = client

    # With the async client these return coroutines; the annotations are the sync client's.

    def _get(self, path: str, operation: str, model: type[M], options: dict[str, Any]) -> M:
        return cast(
            M,
            self._client._send(
                Call("GET", path, operation, parse_model(model), options=check_options(options))
            ),
        )

    def _write(
        self,
        method: str,
        path: str,
        operation: str,
        model: type[M],
        options: dict[str, Any],
        json: Any = None,
        *,
        idempotent: bool,
    ) -> M:
        return cast(
            M,
            self._client._send(
                Call(
                    method,
                    path,
                    operation,
                    parse_model(model),
                    json=json,
                    idempotent=idempotent,
                    options=check_options(options),
                )
            ),
        )

    def _delete(self, path: str, operation: str, options: dict[str, Any]) -> None:
        return cast(
            None,
            self._client._send(
                Call("DELETE", path, operation, parse_nothing, options=check_options(options))
            ),
        )

    def _list(
        self,
        path: str,
        operation: str,
        item: type[M],
        filters: dict[str, Any],
        page_number: Any,
        page_size: Any,
        options: dict[str, Any],
    ) -> SyncPage[M]:
        v.page_query(page_number, page_size)
        request = PageRequest(path, operation, item, filters, page_number, page_size, check_options(options))
        return cast(SyncPage[M], self._client._list(request))


def _mission_path(mission_id: Any) -> str:
    return f"/ai/missions/{v.uuid_arg('mission_id', mission_id)}"


def _run_path(mission_id: Any, run_id: Any) -> str:
    return f"{_mission_path(mission_id)}/runs/{v.uuid_arg('run_id', run_id)}"
