"""The exceptions missionlab raises, as one tree::

    MissionlabError
    ├── InvalidArgumentError        (also ValueError) bad argument, caught before sending
    ├── MissingAPIKeyError          no key for the hosted API
    ├── APIError                    something went wrong talking to the API
    │   ├── APIConnectionError      the request did not get an answer
    │   │   └── APITimeoutError
    │   ├── IncompleteListError     paging gave fewer items than the list holds
    │   ├── ResponseTooLargeError   an answer larger than the client's cap, once decompressed
    │   └── APIStatusError          the server answered with a 4xx or 5xx
    │       ├── BadRequestError             400
    │       ├── AuthenticationError         401
    │       ├── PermissionDeniedError       403
    │       ├── NotFoundError               404
    │       ├── ConflictError               409
    │       ├── UnprocessableEntityError    422
    │       ├── RateLimitError              429
    │       └── InternalServerError         5xx
    ├── RecorderError               a RunRecorder could not record what it must
    ├── LabelMetadataError          a run's metadata holds other data where its labels go
    ├── CapsuleError                (also ValueError) not a run capsule this missionlab reads
    │   ├── CapsuleLoadError        a capsule the sandbox cannot load
    │   └── DatasetError            a folder that is not a dataset this missionlab reads or writes
    ├── JSONStreamError             (also ValueError) a file read as a stream is not one JSON object
    ├── HistoryError                a local history folder cannot be used as asked
    │   ├── HistoryFormatError      a folder that is not a history this missionlab reads
    │   └── HistorySyncConflictError    another sync of the same folder took over
    ├── SchemaVersionError          (also RuntimeError) a sandbox database from a newer missionlab
    ├── ExportError                 spans could not be delivered to an OpenTelemetry backend
    └── SandboxError                the sandbox refuses a change (answered as an HTTP error)
        ├── NotFound                404
        ├── Conflict                409
        └── Invalid                 422

This module defines the base, the client's errors and ``CapsuleError``; the others are
defined where they are raised: ``RecorderError`` in ``missionlab.client.recorder`` (also
``missionlab.RecorderError``), ``CapsuleLoadError`` in ``missionlab.sandbox.capsules``,
``LabelMetadataError`` in ``missionlab._wire.labels``, ``JSONStreamError`` in
``missionlab._wire.json_stream``, ``DatasetError`` in
``missionlab._wire.dataset`` (also ``missionlab.DatasetError``),
the history's errors in ``missionlab._history`` (also ``missionlab.HistoryError``,
``missionlab.HistoryFormatError`` and ``missionlab.HistorySyncConflictError``),
``SchemaVersionError`` in ``missionlab.sandbox.store``, ``ExportError`` in
``missionlab.otel``, and the sandbox's store errors in ``missionlab.sandbox.errors``.

Every error survives a pickle round trip with its message and attributes (multiprocessing
and Dask send exceptions between processes), whatever arguments its ``__init__`` takes;
an ``APIStatusError`` travels without its ``response``.

``status_error(response, ...)`` (in ``missionlab.client.errors``) is the one place that
maps a response to its class. Messages say what failed and why, are at most ~2 KB, and
never contain the API key or a request body: only the server's own reasons.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import httpx

__all__ = [
    "APIConnectionError",
    "APIError",
    "APIStatusError",
    "APITimeoutError",
    "AuthenticationError",
    "BadRequestError",
    "CapsuleError",
    "ConflictError",
    "IncompleteListError",
    "InternalServerError",
    "InvalidArgumentError",
    "MissingAPIKeyError",
    "MissionlabError",
    "NotFoundError",
    "PermissionDeniedError",
    "RateLimitError",
    "ResponseTooLargeError",
    "UnknownValueWarning",
    "UnprocessableEntityError",
]

MAX_MESSAGE = 2000


def _clip(text: str, limit: int = MAX_MESSAGE) -> str:
    return text if len(text) <= limit else text[: limit - 15] + " … (truncated)"


class MissionlabError(Exception):
    """Base of every error missionlab raises."""

    def __reduce__(self) -> tuple[Any, ...]:
        # Exception's own __reduce__ calls cls(*args): wrong for an __init__ with other arguments.
        return (_rebuild, (type(self), self.args, self._pickled_state()))

    def _pickled_state(self) -> dict[str, Any]:
        """The attributes that travel with a pickled error."""
        return dict(self.__dict__)


def _rebuild(cls: type[MissionlabError], args: tuple[Any, ...], state: dict[str, Any]) -> MissionlabError:
    """An unpickled error: its message and attributes as they were, without calling ``__init__``."""
    error = cls.__new__(cls, *args)
    error.__dict__.update(state)
    return error


class InvalidArgumentError(MissionlabError, ValueError):
    """An argument is invalid; nothing was sent to the server."""

    def __init__(self, argument: str, problem: str) -> None:
        self.argument = argument
        super().__init__(_clip(f"invalid argument `{argument}`: {problem}"))


class UnknownValueWarning(UserWarning):
    """The server sent a value the client doesn't know (e.g. a new run status).

    The value is kept as a plain string; this warning is issued once per new value.
    """


class MissingAPIKeyError(MissionlabError):
    """No API key was given for the hosted API."""


class CapsuleError(MissionlabError, ValueError):
    """A file that is not a run capsule this missionlab can read."""


class APIError(MissionlabError):
    """A request to the API failed.

    ``operation`` names what was attempted, e.g. ``GET /ai/missions/{mission_id}``.
    """

    def __init__(self, message: str, *, operation: str = "") -> None:
        self.operation = operation
        super().__init__(_clip(message))


class APIConnectionError(APIError):
    """The request got no answer: the server is unreachable or dropped the connection."""


class APITimeoutError(APIConnectionError):
    """The request timed out."""


class IncompleteListError(APIError):
    """Paging through a list gave fewer items than the server says the list holds.

    Attributes: ``expected`` (the server's ``total_results``), ``got`` (distinct items read),
    ``changing`` (the list kept shrinking while it was read, even when read once more from
    the start, so items may have been pushed past pages already read) and ``repeated`` (the
    list did not change while it was read twice, and its pages held as many items as it
    counts, but some share their id with another: reading it again gives the same pages).
    Nothing partial is returned: a short list would look complete.
    """

    def __init__(
        self, *, operation: str, expected: int, got: int, changing: bool = False, repeated: bool = False
    ) -> None:
        self.expected = expected
        self.got = got
        self.changing = changing
        self.repeated = repeated
        if changing:
            problem = (
                "the list kept changing while it was read (it shrank again when read once more "
                "from the start), so some of its items may have been skipped; try again, or read "
                "it page by page with iter_pages()"
            )
        elif repeated:
            problem = (
                f"the server says the list holds {expected} items, and its pages held that many, "
                f"but only {got} distinct ones: {expected - got} repeat the id of another item. "
                "The list did not change while it was read twice, so trying again gives the same "
                "pages; read it page by page with iter_pages() to see every item as served"
            )
        else:
            problem = (
                f"the server says the list holds {expected} items, but reading its pages gave "
                f"{got} distinct ones (its pages skip or repeat items); try again, or read it "
                "page by page with iter_pages()"
            )
        super().__init__(f"{operation}: {problem}", operation=operation)


class ResponseTooLargeError(APIError):
    """An answer grew past the client's ``max_response_bytes`` once decompressed.

    Attribute: ``limit`` (the cap, in bytes). The answer is dropped as soon as it
    passes the cap, so a compressed "bomb" never fills the memory.
    """

    def __init__(self, *, operation: str, limit: int) -> None:
        self.limit = limit
        super().__init__(
            f"{operation}: the server's answer is larger than {limit:,} bytes once decompressed, "
            "so it was dropped; if it is genuine, create the client with a larger "
            "max_response_bytes=",
            operation=operation,
        )


class APIStatusError(APIError):
    """The server answered with an error status.

    Attributes: ``status_code``, ``reasons`` (the server's messages, one per
    problem), ``fields`` (for 422, the invalid fields as dotted paths), and
    ``response`` (the :class:`httpx.Response`; its request carries headers, so
    do not print it carelessly).
    """

    status_code: int = 0

    def __init__(
        self,
        *,
        status_code: int,
        operation: str,
        reasons: list[str],
        fields: list[str] | None = None,
        response: httpx.Response | None = None,
    ) -> None:
        self.status_code = status_code
        self.reasons = reasons
        self.fields = fields or []
        self.response = response
        lines = [f"{status_code} {_REASON_PHRASES.get(status_code, 'error')}: {operation} failed"]
        budget = MAX_MESSAGE - len(lines[0]) - 40  # room for the "and N more" line
        for shown, reason in enumerate(reasons):
            line = f"  - {_clip(reason, 300)}"
            if len(line) + 1 > budget:
                lines.append(f"  … and {len(reasons) - shown} more")
                break
            budget -= len(line) + 1
            lines.append(line)
        super().__init__("\n".join(lines), operation=operation)

    def _pickled_state(self) -> dict[str, Any]:
        return {**self.__dict__, "response": None}  # its request carries headers: it stays here


class BadRequestError(APIStatusError):
    status_code = 400


class AuthenticationError(APIStatusError):
    status_code = 401


class PermissionDeniedError(APIStatusError):
    status_code = 403


class NotFoundError(APIStatusError):
    status_code = 404


class ConflictError(APIStatusError):
    status_code = 409


class UnprocessableEntityError(APIStatusError):
    status_code = 422


class RateLimitError(APIStatusError):
    status_code = 429


class InternalServerError(APIStatusError):
    status_code = 500


_REASON_PHRASES = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    408: "Request Timeout",
    409: "Conflict",
    422: "Unprocessable Entity",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}
