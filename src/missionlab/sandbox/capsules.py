"""Run capsules loaded into the sandbox's store, so that it serves them under their own ids.

``load_capsules(store, paths)`` reads each capsule (see :mod:`missionlab.analysis.capsule` for the
format; plain JSON here, the sandbox does not use the client's models) and inserts its
mission (once, when several capsules share it, with its tools, knowledge bases and MCP
servers), run, plan steps, events and linked agents. Loaded runs are not simulated: they
stand as they were saved.

A folder (a dataset saved by ``missionlab.dataset``, or any folder of capsules) stands for
every capsule it holds: those its index ``dataset.json`` lists, or, without an index, its
``*.json`` files (see ``missionlab._wire.dataset``; an index naming a file outside the
folder is refused before anything is read).

One call is one transaction: every capsule of it is loaded, or none (a bad capsule never
leaves part of itself, which would then pass for "loaded" on the next try). Loading a
capsule whose run the store holds already is a no-op when it is the same version of the run
(same ``updated_at``), an error otherwise.

Every object is checked strictly against its wire description (``missionlab._wire.fields``):
a required field present, each field of its JSON type (a string, a whole number, an object),
times that are date-times, the plan's, events' and agents' ``run_id`` the run's; the first
problem is named in one line (``run.json: events[41].timestamp: not a date-time: 'soon'``).
Enumerations are not checked (a newer API may add values) nor ids' formats (the API's
documents make some ids plain strings). Fields the sandbox has no column for (a hosted run's
extra fields) are not kept. Timestamps are rewritten in the sandbox's own format (UTC,
microseconds, ``Z``) so that lists sort as they do for the sandbox's own data.

Speed and memory: a capsule file is read as a stream (``missionlab._wire.json_stream``): its
events are parsed a block of about 5,000 at a time, checked, and inserted as they come (one
``executemany`` per table, fed by a generator; big tables have their indexes built once at
the end), so that neither the file's text nor its parsed events are ever held whole: a
load's peak memory is SQLite's page cache and index builds, not the capsule's size
(``bench/capsule_load.py`` measures it). The events' rows need the capsule's mission and run:
a file that has them after its events has its events read past and read again. A
capsule refused for an id it repeats (SQLite's unique keys) is read again to name the id and
both places (``events[2999].event_id: 'e-17' is events[17]'s too``).
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime
from itertools import chain, repeat
from pathlib import Path
from typing import Any

from .._wire.capsule import check_capsule
from .._wire.collector import collection_paused
from .._wire.dataset import folder_capsules
from .._wire.fields import EVENT, MISSION, PLAN_STEP, RUN, TELNYX_AGENT, WireObject
from .._wire.json_stream import Items, JSONStreamError, ObjectStream
from ..errors import CapsuleError
from .errors import NotFound
from .input_checks import NOT_JSON_NUMBERS
from .store import OBJECT_KINDS, BulkInsert, Store, stamp, stored_json

__all__ = ["CapsuleLoadError", "capsule_files", "load_capsule", "load_capsules"]


class CapsuleLoadError(CapsuleError):
    """A capsule the sandbox cannot load (not a capsule, too new, or a run it holds already)."""


_TYPES: dict[str, type] = {"string": str, "integer": int, "object": dict}
_TYPE_NAMES = {"string": "a string", "integer": "a whole number", "object": "an object"}
# The sandbox's own time format (what ``stamp`` writes), kept as it is when it is one.
_STAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z")
_SHAPE = "0000-00-00T00:00:00.000000Z"  # the same with every (ASCII) digit a 0
_ZEROS = str.maketrans("0123456789", "0" * 10)
_BY_COLUMN = 100  # more items than this are checked a column at a time (see _Rows.rows)
_BLOCK = 5000  # a streamed capsule's events parsed, checked and inserted at a time


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _time(value: str, where: str) -> str:
    """``value`` in the sandbox's time format; CapsuleLoadError when it is not a date-time."""
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise CapsuleLoadError(f"{where}: not a date-time: {_shown(value)}") from None
    if _STAMP.fullmatch(value):
        return value
    if moment.tzinfo is None:
        raise CapsuleLoadError(f"{where}: a date-time without its time zone: {_shown(value)}")
    return stamp(moment.astimezone(UTC))


def _stamps(values: list[Any]) -> bool:
    """Whether every time of ``values`` (strings or None) is in the sandbox's format, with
    ASCII digits: one ``translate`` of them all (a regex match each took ten times as long)."""
    times: list[str] = [value for value in values if value is not None] if None in values else values
    return set(map(len, times)) <= {len(_SHAPE)} and "".join(times).translate(_ZEROS) == _SHAPE * len(times)


class _Rows:
    """How one kind of object becomes rows: its columns and a strict check of each value."""

    def __init__(
        self, wire: WireObject, *, given: tuple[str, ...] = (), stored: dict[str, str] | None = None
    ) -> None:
        # given: fields whose value is the capsule's (a step's run_id), checked when present;
        # stored: the column (and the context's value) a given field is stored as, when not
        # its own (an event's run_id as the run's key)
        stored = stored or {}
        self.columns = tuple(stored.get(name, name) for name in wire.names)
        self._fields = [
            (
                f.name,
                f.required,
                _TYPES[f.json_type],
                f.json_type,
                f.format == "date-time",
                stored.get(f.name, f.name) if f.name in given else None,
            )
            for f in wire.fields
        ]

    def row(self, item: Any, where: str, context: dict[str, Any]) -> tuple[Any, ...]:
        """``item`` as a row (``context``: the values of given columns)."""
        if type(item) is not dict:
            raise CapsuleLoadError(f"{where}: not an object: {_shown(item)}")
        values: list[Any] = []
        get = item.get
        for name, required, kind, type_name, is_time, given_as in self._fields:
            value: Any = get(name)
            if given_as:
                if value is not None and value != context[name]:
                    raise CapsuleLoadError(
                        f"{where}.{name}: {_shown(value)}, not the capsule's {_shown(context[name])}"
                    )
                value = context[given_as]
            elif value is None:
                if required:
                    raise CapsuleLoadError(f"{where}.{name}: missing")
            elif type(value) is not kind:
                raise CapsuleLoadError(f"{where}.{name}: not {_TYPE_NAMES[type_name]}: {_shown(value)}")
            elif kind is dict:
                try:
                    value = stored_json(value)
                except ValueError:  # as the API's routes refuse it (see input_checks)
                    raise CapsuleLoadError(f"{where}.{name}: {NOT_JSON_NUMBERS}") from None
            elif is_time:
                value = _time(str(value), f"{where}.{name}")
            values.append(value)
        return tuple(values)

    def rows(
        self, items: list[Any], where: str, context: dict[str, Any], offset: int = 0
    ) -> Iterator[tuple[Any, ...]]:
        """Each item's row (``offset``: the index of the first in its list, for the names of
        problems).

        Many items are checked a column at a time (each check one loop in C); a column with
        anything out of the ordinary (a problem, a time to rewrite) sends them all through
        :meth:`row`, which names the first problem in the items' order."""
        columns = self._columns(items, context) if len(items) > _BY_COLUMN else None
        if columns is not None:
            return zip(*columns, strict=True)
        row = self.row
        return (row(item, f"{where}[{offset + index}]", context) for index, item in enumerate(items))

    def _columns(self, items: list[Any], context: dict[str, Any]) -> list[Any] | None:
        """The rows' values column by column, or None when a column needs a look item by item."""
        if set(map(type, items)) != {dict}:
            return None
        count = len(items)
        columns: list[Any] = []
        for name, required, kind, _, is_time, given_as in self._fields:
            values = [item.get(name) for item in items]
            if not set(map(type, values)) <= ({kind} if required and not given_as else {kind, type(None)}):
                return None
            if given_as:
                if not set(values) <= {None, context[name]}:
                    return None
                columns.append(repeat(context[given_as], count))
                continue
            if kind is dict:
                try:
                    values = [None if value is None else stored_json(value) for value in values]
                except ValueError:  # NaN or an infinity: refused item by item, by name
                    return None
            elif is_time and not _stamps(values):
                return None
            columns.append(values)
        return columns


_MISSION = _Rows(MISSION)
_RUN = _Rows(RUN)
_STEPS = _Rows(PLAN_STEP, given=("run_id",))
_EVENTS = _Rows(EVENT, given=("run_id",), stored={"run_id": "run_key"})
_AGENTS = _Rows(TELNYX_AGENT, given=("run_id",))
_OBJECT_COLUMNS = ("kind", "mission_id", "object_id", "body")


def _check(data: Any, where: str) -> dict[str, Any]:
    """A capsule the sandbox can host: a capsule (see ``check_capsule``) with its mission."""
    try:
        capsule = check_capsule(data)
    except CapsuleError as error:
        raise CapsuleLoadError(f"{where}: {error}") from None
    if not isinstance(capsule.get("mission"), dict):
        raise CapsuleLoadError(f"{where}: run capsule without a mission")
    return capsule


def _has_mission(store: Store, mission_id: str) -> bool:
    try:
        store.get_mission(mission_id, with_objects=False)
    except NotFound:
        return False
    return True


def _items(value: Any, where: str) -> list[Any]:
    if value is None:
        return []
    if type(value) is not list:
        raise CapsuleLoadError(f"{where}: not a list of objects: {_shown(value)}")
    return value


Members = Callable[[], Iterator[tuple[str, Any]]]
"""A capsule's top-level ``(key, value)`` pairs, each call from the start; the events may
come as :class:`~missionlab._wire.json_stream.Items`, parsed a block at a time."""

_HEAD = ("format", "version", "mission", "run")  # what the events' rows need first
_LISTS = {"plan": ("steps", _STEPS), "agents": ("agents", _AGENTS)}  # a capsule's key: (table, rows)


def _insert(store: Store, bulk: BulkInsert, members: Members, where: str) -> tuple[str, str]:
    """Check one capsule and insert its rows (none when the store holds this very run), the
    events as they are read; returns its (mission_id, run_id).

    The events' rows need the capsule's run and mission: when they come after the events in
    the file, the events are read past and read again (a second parse)."""
    head: dict[str, Any] = {}
    inserted: tuple[str, str, dict[str, Any] | None] | None = None
    events_read = False
    for key, value in members():
        if key != "events":
            head[key] = value
            if inserted is not None and inserted[2] is not None and key in _LISTS:
                _insert_list(bulk, key, value, where, inserted[2])
        elif all(name in head for name in _HEAD):
            inserted = _insert_head(store, bulk, head, where)
            if inserted[2] is not None:
                _insert_events(bulk, value, where, inserted[2])
            events_read = True
    if inserted is None:
        inserted = _insert_head(store, bulk, head, where)
        if inserted[2] is not None and not events_read:
            for key, value in members():
                if key == "events":
                    _insert_events(bulk, value, where, inserted[2])
    return inserted[0], inserted[1]


def _insert_head(
    store: Store, bulk: BulkInsert, data: dict[str, Any], where: str
) -> tuple[str, str, dict[str, Any] | None]:
    """Check the capsule's head (all but its events and what follows them) and insert its
    mission (unless held), run, and plan and agents when there; returns (mission_id, run_id,
    the events' context), the context None when the store holds this very run."""
    data = _check(data, where)
    mission, run = data["mission"], data["run"]
    mission_row = _MISSION.row(mission, f"{where}: mission", {})
    run_row = _RUN.row(run, f"{where}: run", {})
    mission_id, run_id = mission_row[0], run_row[0]
    if run_row[1] != mission_id:
        raise CapsuleLoadError(f"{where}: the run belongs to mission {run_row[1]}, not {mission_id}")
    if store.run_status(run_id) is not None:
        held = store.get_run(mission_id, run_id) if _has_mission(store, mission_id) else {}
        if held.get("updated_at") == run_row[RUN.names.index("updated_at")]:
            return mission_id, run_id, None  # this capsule, loaded before (a database file kept)
        raise CapsuleLoadError(f"{where}: the sandbox already holds another version of run {run_id}")
    if not _has_mission(store, mission_id):
        bulk.insert("missions", _MISSION.columns, [mission_row])
        objects = []
        for kind, id_field in OBJECT_KINDS.items():
            name = kind.replace("-", "_")
            for index, body in enumerate(_items(mission.get(name), f"{where}: mission.{name}")):
                if type(body) is not dict:
                    raise CapsuleLoadError(f"{where}: mission.{name}[{index}]: not an object: {_shown(body)}")
                if body.get(id_field) is not None:
                    objects.append((kind, mission_id, body[id_field], stored_json(body)))
        bulk.insert("objects", _OBJECT_COLUMNS, objects)
    bulk.insert("runs", _RUN.columns, [run_row])
    context = {"run_id": run_id, "run_key": bulk.run_key(run_id)}
    for key in _LISTS:
        if key in data:
            _insert_list(bulk, key, data[key], where, context)
    return mission_id, run_id, context


def _insert_list(bulk: BulkInsert, key: str, value: Any, where: str, context: dict[str, Any]) -> None:
    """Insert the rows of a capsule's plan or agents."""
    table, rows = _LISTS[key]
    items = _items(value, f"{where}: {key}")
    bulk.insert(table, rows.columns, rows.rows(items, f"{where}: {key}", context), expected=len(items))


def _insert_events(bulk: BulkInsert, value: Any, where: str, context: dict[str, Any]) -> None:
    """Insert the events' rows as they are read, a block at a time.

    How many are coming decides whether the table's indexes are dropped and built again
    (see ``BulkInsert.insert``): for a stream, the first block's share of the text says it."""
    blocks: Iterator[tuple[int, list[Any], Any]]
    if isinstance(value, Items):
        before = value.stream.offset
        blocks = value.blocks(_BLOCK, exact=False)
        first = next(blocks, None)
        if first is None:
            return
        read, size = value.stream.offset - before, value.stream.size
        expected = len(first[1]) + (
            int((size - value.stream.offset) * len(first[1]) / read) if size and read else 0
        )
        blocks = chain([first], blocks)
    else:
        items = _items(value, f"{where}: events")
        expected = len(items)
        blocks = ((start, items[start : start + _BLOCK], None) for start in range(0, len(items), _BLOCK))
    label = f"{where}: events"
    rows = chain.from_iterable(_EVENTS.rows(block, label, context, start) for start, block, _ in blocks)
    bulk.insert("events", _EVENTS.columns, rows, expected=expected)


def _repeated(members: Members, where: str) -> CapsuleLoadError | None:
    """The first id a capsule repeats where the sandbox keeps ids once (an event id or an
    idempotency key in the run, a plan step's id, a linked agent, a mission object's id),
    named with both places; None when it repeats none."""
    for key, value in members():
        lists: list[tuple[str, Any, tuple[str, ...]]] = []
        if key == "mission" and type(value) is dict:
            for kind, id_field in OBJECT_KINDS.items():
                name = kind.replace("-", "_")
                lists.append((f"mission.{name}", value.get(name), (id_field,)))
        elif key == "plan":
            lists.append(("plan", value, ("step_id",)))
        elif key == "agents":
            lists.append(("agents", value, ("telnyx_agent_id",)))
        elif key == "events":
            lists.append(("events", value, ("event_id", "idempotency_key")))
        for name, items, fields in lists:
            blocks = items.blocks(_BLOCK) if isinstance(items, Items) else [(0, items or [], None)]
            seen: dict[tuple[str, Any], int] = {}
            for start, block, _ in blocks:
                for index, item in enumerate(block, start):
                    for field in fields:
                        found = item.get(field) if type(item) is dict else None
                        if found is None:
                            continue
                        first = seen.setdefault((field, found), index)
                        if first != index:
                            return CapsuleLoadError(
                                f"{where}: {name}[{index}].{field}: {_shown(found)} is {name}[{first}]'s too "
                                f"(one {field} per {'mission' if '.' in name else 'run'}); nothing was loaded"
                            )
    return None


def load_capsule(store: Store, data: dict[str, Any], *, where: str = "capsule") -> tuple[str, str]:
    """Insert one capsule's mission (unless the store has it), run, plan, events and agents,
    all or nothing; returns (mission_id, run_id)."""

    def members() -> Iterator[tuple[str, Any]]:
        if not isinstance(data, dict):
            _check(data, where)  # raises
        yield from data.items()

    return _load(store, [(where, members)])[0]


def capsule_files(paths: Iterable[str | Path]) -> list[Path]:
    """The capsule files of ``paths``: a file stands for itself, a folder for its capsules."""
    files: list[Path] = []
    for path in paths:
        if Path(path).is_dir():
            try:
                found = folder_capsules(path)
            except CapsuleError as error:
                raise CapsuleLoadError(f"{path}: {error}") from None
            if not found:
                raise CapsuleLoadError(f"{path}: the folder holds no run capsule (*.json)")
            files += found
        else:
            files.append(Path(path))
    return files


def load_capsules(store: Store, paths: Iterable[str | Path]) -> list[tuple[str, str]]:
    """:func:`load_capsule` of each capsule file (a folder: each capsule it holds, see
    :func:`capsule_files`), in one transaction (every capsule or none); returns their
    (mission_id, run_id). Each file is read as a stream when its turn comes: its events are
    parsed, checked and inserted a block at a time, so that neither a capsule's text nor
    its parsed events are ever held whole."""
    files = capsule_files(paths)
    return _load(store, [(str(path), _reader(path)) for path in files])


def _reader(path: Path) -> Members:
    def members() -> Iterator[tuple[str, Any]]:
        stream = ObjectStream(path)
        if not stream.is_object():
            _check(stream.whole(), str(path))  # raises: a capsule is an object
        yield from stream.members("events")

    return members


def _load(store: Store, capsules: list[tuple[str, Members]]) -> list[tuple[str, str]]:
    loaded: list[tuple[str, str]] = []
    try:
        with collection_paused(), store.bulk_insert() as bulk:
            for where, members in capsules:
                try:
                    loaded.append(_insert(store, bulk, members, where))
                except sqlite3.IntegrityError as error:
                    try:
                        repeated = _repeated(members, where)
                    except (OSError, JSONStreamError, RecursionError):
                        repeated = None
                    raise repeated or error from None
                except (OSError, JSONStreamError, RecursionError) as error:
                    raise CapsuleLoadError(f"{where}: cannot read the capsule: {error}") from None
                except (TypeError, ValueError, AttributeError, KeyError, OverflowError) as error:
                    if isinstance(error, CapsuleError):
                        raise
                    raise CapsuleLoadError(f"{where}: not a capsule the sandbox can load: {error}") from None
    except sqlite3.Error as error:
        names = ", ".join(where for where, _ in capsules)
        raise CapsuleLoadError(f"{names}: cannot be loaded ({error}); nothing was loaded") from None
    return loaded
