"""Run capsules: one run in one versioned JSON file, to share, archive, open offline or re-host.

A capsule holds the run, its mission, its plan, its events and its linked agents, each as
the API's wire JSON, so that capsules of the hosted API and of the sandbox are the same::

    {"format": "missionlab-run-capsule", "version": 1, "saved_at": "...",
     "source": {"base_url": "https://api.telnyx.com/v2", "missionlab": "0.1.0"},
     "mission": {...}, "run": {...}, "plan": [...], "events": [...], "agents": [...]}

``trace.save("run.json")`` writes one (never the API key: ``source`` names the server only,
the one it was first saved from for a trace opened from a capsule);
``missionlab.open_run("run.json")`` gives back a :class:`~missionlab.RunTrace` that every view accepts,
with no network; ``missionlab sandbox serve --load run.json`` serves it again under the same
ids, to this client and to the official SDK alike.

A capsule of a run still active when it was saved stands at its ``saved_at``
(``trace.as_of``): what was then open (the running steps' durations, the Gantt's line, named
"saved", what ``explain()`` and ``diagnose()`` say) is measured to that moment, not to when it
is opened, unless a view is given ``now=``; saved again, the trace keeps that ``saved_at``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from itertools import chain
from pathlib import Path
from typing import Any

import orjson
from pydantic import TypeAdapter, ValidationError

from .._wire.capsule import check_capsule, check_versioned
from .._wire.collector import collection_paused
from .._wire.json_stream import Items, JSONStreamError, ObjectStream
from ..client._items import BLOCK, ItemList
from ..client.models import Event, Mission, PlanStep, Run, TelnyxAgent
from ..errors import CapsuleError
from ..frames._runlike import RunLike
from ..types import ACTIVE_RUN_STATUSES, CAPSULE_FORMAT, CAPSULE_VERSION

__all__ = [
    "CAPSULE_FORMAT",
    "CAPSULE_VERSION",
    "CapsuleError",
    "capsule",
    "read_capsule",
    "save_run",
    "trace_parts",
]


def _wire(item: Any) -> Any:
    """An API object as wire JSON (models dumped with their extra fields; dicts as they are)."""
    if item is None:
        return None
    dump = getattr(item, "model_dump", None)
    if callable(dump):
        return dump(mode="json", exclude_none=True)
    return item


def _base_url(client: Any) -> str | None:
    url = getattr(client, "base_url", None)
    return None if url is None else str(url)


def capsule(trace: RunLike, *, source: dict[str, Any] | None = None) -> dict[str, Any]:
    """``trace`` as a capsule dict (see the module's docstring)."""
    from .._version import __version__

    if not hasattr(trace, "steps") or not hasattr(trace, "events"):
        raise TypeError("capsule() needs a RunTrace (its plan steps and events as objects)")
    client = getattr(trace, "client", None)
    saved_from = getattr(trace, "capsule_source", None) or {}  # a trace opened from a capsule
    base_url = _base_url(client) if client is not None else saved_from.get("base_url")
    origin = {"base_url": base_url, "missionlab": __version__}
    return {
        "format": CAPSULE_FORMAT,
        "version": CAPSULE_VERSION,
        # a trace opened from a capsule of an active run keeps the moment it stands at
        "saved_at": (getattr(trace, "as_of", None) or datetime.now(UTC)).isoformat().replace("+00:00", "Z"),
        "source": {**origin, **(source or {})},
        "mission": _wire(trace.mission),
        "run": _wire(trace.run),
        "plan": [_wire(step) for step in getattr(trace, "steps")],  # noqa: B009
        "events": [_wire(event) for event in getattr(trace, "events")],  # noqa: B009
        "agents": [_wire(agent) for agent in getattr(trace, "agents", [])],
    }


def save_run(trace: RunLike, path: str | Path, *, source: dict[str, Any] | None = None) -> Path:
    """Write ``trace`` as a capsule file at ``path``; returns the path."""
    target = Path(path)
    data = capsule(trace, source=source)
    try:
        text = orjson.dumps(data, option=orjson.OPT_INDENT_2)
    except orjson.JSONEncodeError:  # an integer beyond 64 bits or a lone surrogate, which JSON holds
        text = json.dumps(data, indent=2).encode()  # ASCII: a lone surrogate escaped, as it came
    target.write_bytes(text)
    return target


def read_capsule(source: str | Path | bytes | dict[str, Any]) -> dict[str, Any]:
    """A capsule's dict, from a path, JSON bytes or a dict, checked for its format and version."""
    if isinstance(source, dict):
        return check_capsule(source)
    with _reading():
        stream = ObjectStream(source)
        data = dict(stream.members()) if stream.is_object() else stream.whole()
    return check_capsule(data)


@contextmanager
def _reading() -> Iterator[None]:
    """A capsule's text that is not JSON (or not one object, or repeats a key) refused as a
    :class:`CapsuleError`."""
    try:
        yield
    except (JSONStreamError, RecursionError) as error:
        said = "" if getattr(error, "is_json", False) else " (not JSON)"
        raise CapsuleError(f"not a run capsule{said}: {error}") from None


def trace_parts(source: str | Path | bytes | dict[str, Any]) -> dict[str, Any]:
    """A capsule's run, plan, events, mission and agents as models, its ``source``, and its
    ``saved_at`` as a UTC datetime when its run was still active (else None): the arguments of
    a :class:`~missionlab.RunTrace` (see :func:`missionlab.open_run`).

    The events come as an :class:`~missionlab.client._items.ItemList`: each is checked
    against the :class:`~missionlab.client.models.Event` model here, a block at a time (a bad
    one raises :class:`CapsuleError` naming it), and kept as its JSON object, a model being
    made when it is read (the frames read the JSON objects). Ten times faster than a model per
    event, and a fraction of the memory (``bench/capsule_load.py --page``).

    A file (or bytes) is read as a stream (``missionlab._wire.json_stream``): its events
    are parsed a block at a time, checked, and each block kept as its JSON text, so that the
    whole capsule is never held parsed, nor its text whole."""
    with collection_paused():
        data, held = (check_capsule(source), None) if isinstance(source, dict) else _streamed(source)
        mission = data.get("mission")
        run = _validated(Run, data["run"], "run")
        steps = [_validated(PlanStep, step, f"plan[{n}]") for n, step in enumerate(_listed(data, "plan"))]
        if isinstance(held, CapsuleError):
            raise held
        events = held if held is not None else _events(_listed(data, "events"))
        return {
            "run": run,
            "steps": steps,
            "events": events,
            "mission": _validated(Mission, mission, "mission") if isinstance(mission, dict) else None,
            "agents": [
                _validated(TelnyxAgent, agent, f"agents[{n}]")
                for n, agent in enumerate(_listed(data, "agents"))
            ],
            "source": dict(data.get("source") or {}),
            "saved_at": _saved_at(data.get("saved_at")) if _active(run) else None,
        }


def _active(run: Run) -> bool:
    """Whether ``run`` was still active (pending, running or paused, not finished) when saved."""
    return run.status in ACTIVE_RUN_STATUSES and run.finished_at is None


def _saved_at(value: Any) -> datetime | None:
    """A capsule's ``saved_at`` as a UTC datetime (None when absent); a value that is not an
    ISO 8601 time refused, naming it."""
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except (TypeError, ValueError):
        raise CapsuleError(
            f"not a run capsule this missionlab reads: saved_at: not a time: {value!r:.60}"
        ) from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _streamed(source: str | Path | bytes) -> tuple[dict[str, Any], ItemList[Event] | CapsuleError | None]:
    """The capsule of ``source`` checked, all but its events, and its events checked and held
    as text (or the first problem with them, raised after any problem the rest has first, in
    the order a whole capsule is checked: JSON, format and version, run, plan, events)."""
    head: dict[str, Any] = {}
    events: ItemList[Event] | CapsuleError | None = None
    with _reading():
        stream = ObjectStream(source)
        if not stream.is_object():
            check_capsule(stream.whole())  # raises: a capsule is an object
        for key, value in stream.members("events"):
            if not isinstance(value, Items):
                head[key] = value
            elif "format" in head and "version" in head:  # a file that is no capsule: no need to read on
                check_versioned(head, "run capsule", CAPSULE_FORMAT, CAPSULE_VERSION, CapsuleError)
                events = _held_events(value)
            else:
                events = _held_events(value)
    return check_capsule(head), events  # events None: not an array (see _listed)


def _held_events(items: Items) -> ItemList[Event] | CapsuleError:
    """The events of a capsule's stream, checked a block at a time and each block held as its
    JSON text; the problem with the first bad one instead, if any.

    The text is the file's own for each block when the file is not indented (as
    ``json.dumps`` writes it). An indented file (as ``trace.save`` writes it) has its blocks
    written again compact (its own text takes half as much again): its events are then parsed
    about 5,000 at a time in one call (see ``Items.blocks``), as their text is not needed."""
    blocks: list[list[Any] | str] = []
    count = 0
    exact = items.blocks(BLOCK, text=True)
    first = next(exact, None)
    if first is None:
        return ItemList.of_json_blocks(Event, blocks, 0, "open_run")
    if first[2] is not None and "\n" not in first[2]:
        for start, block, text in chain([first], exact):
            try:
                _EVENTS.validate_python(block)
            except ValidationError as error:
                return _refused(error, "events", start)
            blocks.append(text or _BLOCK_TEXT(block))
            count += len(block)
        return ItemList.of_json_blocks(Event, blocks, count, "open_run")
    exact.close()
    taken: list[Any] = first[1]
    for _, more, _ in chain(items.blocks(_GUESSED, exact=False), [(0, [], None)]):
        taken += more
        while len(taken) >= BLOCK or (taken and not more):
            block, taken = taken[:BLOCK], taken[BLOCK:]
            try:
                _EVENTS.validate_python(block)
            except ValidationError as error:
                return _refused(error, "events", count)
            blocks.append(_BLOCK_TEXT(block))
            count += len(block)
    return ItemList.of_json_blocks(Event, blocks, count, "open_run")


def _listed(data: dict[str, Any], key: str) -> list[Any]:
    items = data.get(key) or []
    if not isinstance(items, list):
        raise CapsuleError(
            f"not a run capsule this missionlab reads: {key}: not a list: {type(items).__name__}"
        )
    return items


def _refused(error: ValidationError, where: str, offset: int = 0) -> CapsuleError:
    """The first problem pydantic found, named where it is in the capsule (``events[41].timestamp``)."""
    first = error.errors()[0]
    loc = list(first["loc"])
    if offset or (loc and isinstance(loc[0], int) and where == "events"):
        where = f"{where}[{offset + int(loc.pop(0))}]"
    place = ".".join([where, *(str(part) for part in loc)])
    return CapsuleError(f"not a run capsule this missionlab reads: {place}: {first['msg']}")


def _validated(model: type[Any], item: Any, where: str) -> Any:
    try:
        return model.model_validate(item)
    except ValidationError as error:
        raise _refused(error, where) from None


def _events(raw: list[Any]) -> ItemList[Event]:
    """The events of a capsule given as a dict, checked a block at a time."""
    for start in range(0, len(raw), BLOCK):
        try:
            _EVENTS.validate_python(raw[start : start + BLOCK])
        except ValidationError as error:
            raise _refused(error, "events", start) from None
    return ItemList(Event, raw, "open_run")


# json.dumps's text reads back as exactly what it was given (floats that overflowed to inf,
# integers past 64 bits and lone surrogates included, where orjson's would not)
_BLOCK_TEXT = json.JSONEncoder(separators=(",", ":")).encode
_EVENTS = TypeAdapter(list[Event])
_GUESSED = 5 * BLOCK  # an indented file's events parsed about so many at a time (see _held_events)
