"""Errors the sandbox's store raises, and the error envelope every refusal is answered with."""

from __future__ import annotations

from starlette.responses import JSONResponse

from ..errors import MissionlabError


def error_response(status: int, code: str, title: str, detail: str) -> JSONResponse:
    """An error in the envelope Telnyx uses across its v2 API."""
    return JSONResponse({"errors": [{"code": code, "title": title, "detail": detail}]}, status_code=status)


class SandboxError(MissionlabError):
    """Base of the store's errors."""

    status = 500
    code = "internal_error"
    title = "Internal Server Error"

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class NotFound(SandboxError):
    status, code, title = 404, "not_found", "Not Found"


class Conflict(SandboxError):
    status, code, title = 409, "conflict", "Conflict"


class Invalid(SandboxError):
    """A body that is well-formed but refers to something that does not fit (422)."""

    status, code, title = 422, "unprocessable_entity", "Unprocessable Entity"

    def __init__(self, loc: list[str | int], msg: str) -> None:
        super().__init__(msg)
        self.loc = loc
