"""The sandbox's documented limits on what a request may carry, defined once.

The sandbox answers a request over these limits with 413 (body size) or 422
(everything else) and its error envelope; the client refuses the same arguments
with :class:`missionlab.InvalidArgumentError` before sending. The published API
document constrains none of them except the page size; they bound what a local
server has to store and what every later list has to send back.

Nesting depth counts containers: ``{}`` and ``[]`` are depth 1, ``{"a": [1]}``
is depth 2. It applies to each free-form object (``metadata``, ``payload``,
``input``, ``result_payload``) on its own.
"""

from __future__ import annotations

__all__ = [
    "MAX_BODY_BYTES",
    "MAX_IDEMPOTENCY_KEY_LENGTH",
    "MAX_ID_LENGTH",
    "MAX_NAME_LENGTH",
    "MAX_NESTING_DEPTH",
    "MAX_PAGE_NUMBER",
    "MAX_PAGE_SIZE",
    "MAX_TEXT_LENGTH",
]

MAX_BODY_BYTES = 1024 * 1024
"""A whole request body, in bytes of UTF-8 JSON."""

MAX_NESTING_DEPTH = 64
"""Containers nested in one free-form object (metadata, payload, input, result_payload)."""

MAX_PAGE_NUMBER = 2**31 - 1
"""``page[number]``: SQLite and the official SDK both treat it as a 32-bit integer."""

MAX_PAGE_SIZE = 1000
"""``page[size]``, as the published document says."""

MAX_ID_LENGTH = 200
"""Caller-chosen ids: ``step_id``, ``parent_step_id``, ``telnyx_agent_id``."""

MAX_IDEMPOTENCY_KEY_LENGTH = 255
"""An event's ``idempotency_key``."""

MAX_NAME_LENGTH = 1000
"""A mission's ``name``."""

MAX_TEXT_LENGTH = 100_000
"""Every other string: description, summary, instructions, error, result_summary, ..."""
