"""From an HTTP response to its error: ``status_error(response, ...)`` is the one place that
maps a response to its class of the tree in :mod:`missionlab.errors` (re-exported here for the
client's modules)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ..errors import (
    APIConnectionError,
    APIError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    ConflictError,
    IncompleteListError,
    InternalServerError,
    InvalidArgumentError,
    MissingAPIKeyError,
    MissionlabError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    UnknownValueWarning,
    UnprocessableEntityError,
    _clip,
)
from . import _json

if TYPE_CHECKING:
    import httpx

__all__ = [
    "APIConnectionError",
    "APIError",
    "APIStatusError",
    "APITimeoutError",
    "AuthenticationError",
    "BadRequestError",
    "ConflictError",
    "IncompleteListError",
    "InternalServerError",
    "InvalidArgumentError",
    "MissingAPIKeyError",
    "MissionlabError",
    "NotFoundError",
    "PermissionDeniedError",
    "RateLimitError",
    "UnknownValueWarning",
    "UnprocessableEntityError",
    "parse_error_body",
    "status_error",
]

_CLASSES: dict[int, type[APIStatusError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    422: UnprocessableEntityError,
    429: RateLimitError,
}


def _text(value: Any) -> str:
    """A server-sent value as text, bounded whatever its depth."""
    return value if isinstance(value, str) else _json.short_json(value, 300)


def _loc_path(loc: Any) -> str:
    if not isinstance(loc, list | tuple):
        return _text(loc)
    parts = [str(p) if isinstance(p, str | int) else _text(p) for p in loc[:50]]
    # FastAPI prefixes where the value came from: body, query, path, header.
    if len(parts) > 1 and parts[0] in {"body", "query", "path", "header"}:
        parts = parts[1:]
    return ".".join(parts)


def parse_error_body(body: Any) -> tuple[list[str], list[str]]:
    """Reasons and invalid fields from a Telnyx ``errors`` or FastAPI ``detail`` body."""
    reasons: list[str] = []
    fields: list[str] = []
    if not isinstance(body, dict):
        return reasons, fields
    for err in body.get("errors") or []:
        if not isinstance(err, dict):
            continue
        text = _text(err.get("detail") or err.get("title") or err.get("code") or "")
        pointer = (err.get("source") or {}).get("pointer") if isinstance(err.get("source"), dict) else None
        if pointer:
            fields.append(_clip(_text(pointer), 300).strip("/").replace("/", "."))
            text = f"{fields[-1]}: {text}"
        if text:
            reasons.append(_clip(text, 300))
    detail = body.get("detail")
    if isinstance(detail, str):
        reasons.append(_clip(detail, 300))
    elif isinstance(detail, list):
        for item in detail:
            if not isinstance(item, dict):
                continue
            path = _loc_path(item.get("loc", ()))
            fields.append(path)
            reasons.append(_clip(f"{path}: {_text(item.get('msg', 'invalid'))}", 300))
    return reasons, fields


def _unchanged(text: str) -> str:
    return text


def status_error(
    response: httpx.Response, operation: str, redact: Callable[[str], str] = _unchanged
) -> APIStatusError:
    """The exception for an error ``response`` to ``operation``.

    ``redact`` is applied to every text taken from the answer (reasons and field
    paths), so that a server echoing a secret back does not put it in the error.
    """
    status = response.status_code
    try:
        body = _json.loads(response.content) if response.content else None
    except ValueError:
        body = None
    reasons, fields = parse_error_body(body)
    if not reasons:
        text = " ".join(response.text.split())[:300] if body is None else ""
        reasons = [text or response.reason_phrase or "no reason given"]
    cls = _CLASSES.get(status) or (InternalServerError if status >= 500 else APIStatusError)
    return cls(
        status_code=status,
        operation=operation,
        reasons=[redact(reason) for reason in reasons],
        fields=[redact(field) for field in fields],
        response=response,
    )
