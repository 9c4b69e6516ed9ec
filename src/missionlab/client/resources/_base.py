"""What every resource shares: sending its calls through the client."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import httpx
from pydantic import BaseModel

from .. import _validate as v
from .._call import Call, RequestOptions, check_options, parse_json, parse_model, parse_nothing
from .._pagination import PageRequest, PageSource, SyncPage

M = TypeVar("M", bound=BaseModel)
R = TypeVar("R")


class _Resource:
    def __init__(self, client: PageSource) -> None:
        self._client = client

    def _call(
        self,
        method: str,
        path: str,
        operation: str,
        parse: Callable[[httpx.Response], R],
        options: RequestOptions,
        body: dict[str, Any] | None = None,
        *,
        idempotent: bool = True,
    ) -> R:
        """Send one request; ``body`` None sends none."""
        call = Call(
            method, path, operation, parse, json=body, idempotent=idempotent, options=check_options(options)
        )
        return self._client._send(call)

    def _get(self, path: str, operation: str, model: type[M], options: RequestOptions) -> M:
        return self._call("GET", path, operation, parse_model(model), options)

    def _get_json(self, path: str, operation: str, options: RequestOptions) -> Any:
        return self._call("GET", path, operation, parse_json, options)

    def _write(
        self,
        method: str,
        path: str,
        operation: str,
        model: type[M],
        options: RequestOptions,
        body: dict[str, Any] | None = None,
        *,
        idempotent: bool,
    ) -> M:
        return self._call(method, path, operation, parse_model(model), options, body, idempotent=idempotent)

    def _write_json(
        self,
        method: str,
        path: str,
        operation: str,
        options: RequestOptions,
        body: dict[str, Any] | None = None,
        *,
        idempotent: bool,
    ) -> Any:
        return self._call(method, path, operation, parse_json, options, body, idempotent=idempotent)

    def _delete(self, path: str, operation: str, options: RequestOptions) -> None:
        return self._call("DELETE", path, operation, parse_nothing, options)

    def _list(
        self,
        path: str,
        operation: str,
        item: type[M],
        filters: dict[str, Any],
        page_number: Any,
        page_size: Any,
        options: RequestOptions,
    ) -> SyncPage[M]:
        v.page_query(page_number, page_size)
        request = PageRequest(path, operation, item, filters, page_number, page_size, check_options(options))
        return self._client._list(request)
