"""Size limits shared by the client (checked before sending) and the sandbox (answered with 413/422).

The published Missions API document sets none of these; they are this project's
documented rules, chosen so that whatever one side accepts the other can store,
serve and parse (see the README's sandbox section).
"""

from __future__ import annotations

__all__ = [
    "MAX_BODY_BYTES",
    "MAX_IDEMPOTENCY_KEY_LENGTH",
    "MAX_ID_LENGTH",
    "MAX_NAME_LENGTH",
    "MAX_NESTING_DEPTH",
    "MAX_PAGE_NUMBER",
    "MAX_STRING_LENGTH",
]

MAX_NESTING_DEPTH = 64
"""Levels of objects/arrays inside ``metadata``, ``payload``, ``input``, ``result_payload``
(and a tool, knowledge base or MCP server body): ``{"a": {"b": 1}}`` is 2 deep."""

MAX_PAGE_NUMBER = 2**31 - 1
"""Largest ``page[number]``."""

MAX_ID_LENGTH = 200
"""Characters of a ``step_id``, ``parent_step_id`` or ``telnyx_agent_id``."""

MAX_IDEMPOTENCY_KEY_LENGTH = 255
"""Characters of an event's ``idempotency_key``."""

MAX_NAME_LENGTH = 1_000
"""Characters of a mission's ``name``."""

MAX_STRING_LENGTH = 100_000
"""Characters of any other string (descriptions, summaries, errors, strings inside objects)."""

MAX_BODY_BYTES = 1024 * 1024
"""Bytes of a request body (1 MiB)."""
