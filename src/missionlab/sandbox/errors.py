"""Errors the sandbox's store raises; the app turns each into its HTTP answer."""

from __future__ import annotations


class SandboxError(Exception):
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
