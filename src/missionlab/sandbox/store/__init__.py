"""The sandbox's data: SQLite through the standard library, one module per resource.

:class:`Store` is composed of one class per resource (missions, objects, runs, plan,
events, agents, simulations) over :class:`~._db.Database` (the connections, the write
lock and transactions). Each builds only on the ones it names as its base. Rows come back as
plain dicts in the API's wire format.
"""

from __future__ import annotations

from ._db import (
    EVENT_FIELDS,
    JSON_FIELDS,
    MIGRATIONS,
    SCHEMA,
    Database,
    SchemaVersionError,
    now,
    page_meta,
    stamp,
)
from ._encode import stored_json
from ._paging import SMALL_PAGE, ListQuery, Page
from .agents import AGENT_FIELDS, AgentStore
from .events import EventStore
from .missions import MISSION_FIELDS, OBJECT_KINDS
from .objects import ObjectStore
from .plan import STEP_FIELDS, PlanStore
from .runs import RUN_FIELDS
from .simulations import BulkInsert, SimulationStore

__all__ = [
    "AGENT_FIELDS",
    "EVENT_FIELDS",
    "JSON_FIELDS",
    "MIGRATIONS",
    "MISSION_FIELDS",
    "OBJECT_KINDS",
    "RUN_FIELDS",
    "SCHEMA",
    "SMALL_PAGE",
    "STEP_FIELDS",
    "BulkInsert",
    "Database",
    "ListQuery",
    "Page",
    "SchemaVersionError",
    "Store",
    "now",
    "page_meta",
    "stamp",
    "stored_json",
]


class Store(ObjectStore, PlanStore, EventStore, AgentStore, SimulationStore):
    """All of the sandbox's state. ``path`` is a file, or ``":memory:"``."""
