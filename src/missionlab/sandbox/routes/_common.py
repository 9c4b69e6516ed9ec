"""What every route module uses: answers, paging parameters, documented error responses."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Annotated, Any, Protocol

from fastapi import Query, Response
from starlette.concurrency import run_in_threadpool

from .. import schemas as s
from ..store import SMALL_PAGE, Page, Store

RUN_PATH = "/{mission_id}/runs/{run_id}"  # under the router's /ai/missions

PageNumber = Annotated[
    int, Query(alias="page[number]", ge=1, le=2**31 - 1, description="Page number (1-based)")
]
PageSize = Annotated[int, Query(alias="page[size]", gt=0, le=1000, description="Items per page")]

ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": s.ErrorEnvelope, "description": "Missing or wrong bearer token"},
    403: {"model": s.ErrorEnvelope, "description": "Another Host or Origin, or a form content type"},
    404: {"model": s.ErrorEnvelope, "description": "Not found"},
    413: {"model": s.ErrorEnvelope, "description": "Request body over 1 MiB"},
}
CONFLICT: dict[int | str, dict[str, Any]] = {409: {"model": s.ErrorEnvelope, "description": "Conflict"}}


class RunStarter(Protocol):
    """What starts managed runs (the simulator)."""

    def start(self, mission: dict[str, Any], run: dict[str, Any]) -> None: ...


def ok(payload: Any, status: int = 200) -> Response:
    """A JSON answer, encoded once."""
    return Response(
        json.dumps(payload, separators=(",", ":")), status_code=status, media_type="application/json"
    )


# A page of at most SMALL_PAGE rows, all among a list's first INLINE_REACH, is read on the
# event loop: reading it costs less than handing it to a thread (small lists of a busy sandbox
# served 660/s through the pool), and the store never makes such a page wait its turn behind
# big ones. Deeper or bigger pages go to the thread pool, so that they do not hold up other
# requests.
INLINE_REACH = 1000


async def page_of(store: Store, read: Callable[[int, int], Page], number: int, size: int) -> Response:
    """Page ``number`` at ``size`` items a page, as ``read(number, size)`` gives it from
    ``store``, read where it costs least and in its turn (``Store.page_turn``)."""

    def answer() -> Response:
        with store.page_turn(size):
            return Response(read(number, size).json(), media_type="application/json")

    if size <= SMALL_PAGE and number * size <= INLINE_REACH:
        return answer()
    return await run_in_threadpool(answer)


def _doc(model: type, status: int = 200, conflict: bool = False) -> dict[str, Any]:
    answer = {"description": "Deleted"} if status == 204 else {"model": model}
    responses: dict[int | str, dict[str, Any]] = {status: answer, **ERRORS}
    if conflict:
        responses.update(CONFLICT)
    return {"status_code": status, "responses": responses, "response_class": Response}
