"""Typed DataFrame columns built straight from API items, one column at a time.

Items are plain JSON dicts (``fetch_all(as_dicts=True)``, ``json.loads``), our models or
the official SDK's: a field is read with ``dict.get`` or ``getattr``, never through a
per-row ``model_dump``. Each column is then converted in one vectorised step: Arrow-backed
strings, ``datetime64[us, UTC]`` timestamps (ISO strings parsed by Arrow, datetimes by
pandas), categoricals holding the documented values first and any unknown ones after,
nested objects as compact JSON text.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from itertools import repeat
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
from pydantic import TypeAdapter, ValidationError

from .._wire.collector import collection_paused
from ..client._items import ItemList
from ..client.models import Timestamp
from ..errors import APIError
from ._jsontext import json_texts

__all__ = [
    "TEXT",
    "TIME",
    "ColumnBuffer",
    "JsonTexts",
    "category",
    "field_reader",
    "integers",
    "items_of",
    "nested",
    "python_values",
    "reader_of",
    "text",
    "times",
    "utc_times",
]

TEXT = pd.StringDtype("pyarrow")
TIME = pd.DatetimeTZDtype("us", "UTC")
_ARROW_TIME = pa.timestamp("us", "UTC")


def items_of(source: Any) -> list[Any]:
    """The items of a page, an envelope (``.data``), ``fetch_all()``'s item list (its JSON
    objects where no model has been made), an iterable, or one item, as a list."""
    if isinstance(source, ItemList):
        return source.frame_items()
    data = getattr(source, "data", None)
    if data is not None and not isinstance(source, Mapping):
        source = data
    if isinstance(source, Mapping) or hasattr(type(source), "model_fields"):
        return [source]
    if isinstance(source, list):
        return source
    if isinstance(source, Iterable) and not isinstance(source, str | bytes):
        return list(source)
    return [source]


def field_reader(items: Sequence[Any]) -> Callable[[str], list[Any]]:
    """A function giving every item's value of a field (None where it is missing)."""
    kinds = {type(item) for item in items}
    if kinds <= {dict}:
        return lambda name: list(map(dict.get, items, repeat(name)))
    if kinds and all(_model_fields(kind) for kind in kinds):  # pydantic models: fields in __dict__
        namespaces = [item.__dict__ for item in items]
        declared = set.intersection(*(_model_fields(kind) for kind in kinds))
        return lambda name: (
            list(map(dict.get, namespaces, repeat(name)))
            if name in declared
            else [getattr(item, name, None) for item in items]
        )
    if kinds <= {dict} | {kind for kind in kinds if _model_fields(kind)}:  # JSON dicts and models
        namespaces = [item if type(item) is dict else item.__dict__ for item in items]
        declared = set.intersection(*(_model_fields(kind) for kind in kinds if kind is not dict))
        return lambda name: (
            list(map(dict.get, namespaces, repeat(name)))
            if name in declared
            else [item.get(name) if type(item) is dict else getattr(item, name, None) for item in items]
        )
    if not any(issubclass(kind, Mapping) for kind in kinds):
        for kind in kinds:
            if not hasattr(kind, "__dict__") or kind in (str, bytes, int, float, bool):
                raise TypeError(f"cannot make a row of {kind.__name__}")
        return lambda name: [getattr(item, name, None) for item in items]
    return lambda name: [
        item.get(name) if isinstance(item, Mapping) else getattr(item, name, None) for item in items
    ]


class JsonTexts(list[str | None]):
    """Nested values already rendered as JSON text (by :class:`ColumnBuffer`), which
    :func:`nested` types as they are."""


class ColumnBuffer:
    """The values of some fields, gathered from items a chunk at a time and read back as
    :func:`field_reader` reads them. A chunk (a page) is read while it is fresh in memory,
    so that its items can be let go at once: reading every item's fields after the whole
    list has arrived costs about twice as much (each item has left the CPU's caches by
    then). The fields named in ``texts`` (nested objects) are kept as their JSON text
    (:class:`JsonTexts`), so that no nested object is kept either."""

    __slots__ = ("_columns", "_texts")

    def __init__(self, names: Iterable[str], texts: Iterable[str] = ()) -> None:
        self._texts = frozenset(texts)
        self._columns: dict[str, list[Any]] = {
            name: JsonTexts() if name in self._texts else [] for name in names
        }

    def add(self, items: Sequence[Any]) -> None:
        """Gather the fields of ``items`` (JSON dicts, models ...: as :func:`field_reader`)."""
        read = field_reader(items)
        for name, column in self._columns.items():
            column.extend(json_texts(read(name)) if name in self._texts else read(name))

    def __len__(self) -> int:
        return len(next(iter(self._columns.values()), []))

    def __contains__(self, name: object) -> bool:
        return name in self._columns

    def __call__(self, name: str) -> list[Any]:
        """Every gathered item's value of ``name`` (a field given when the buffer was made)."""
        return self._columns[name]


def reader_of(source: Any) -> Callable[[str], list[Any]]:
    """A :func:`field_reader` of ``source``'s items (:func:`items_of`); a
    :class:`ColumnBuffer` reads its own values; ``fetch_all()``'s item list is read a block
    at a time (:func:`_blockwise`)."""
    if isinstance(source, ColumnBuffer):
        return source
    if isinstance(source, ItemList):
        return _blockwise(source)
    return field_reader(items_of(source))


def _blockwise(items: ItemList[Any]) -> Callable[[str], list[Any]]:
    """A reader of every field of ``items``' model, gathered a block (1,000 items) at a time
    into a :class:`ColumnBuffer`: each item is fetched into the CPU's caches once, not once
    per field (a quarter less CPU for a frame of a 50,000-event list); any other name is read
    item by item."""
    gathered = ColumnBuffer(items.model.model_fields)
    with collection_paused():  # blocks held as text are parsed here
        for block in items.frame_blocks():
            gathered.add(block)

    def read(name: str) -> list[Any]:
        return gathered(name) if name in gathered else field_reader(items.frame_items())(name)

    return read


def _model_fields(kind: type) -> set[str]:
    """The fields a pydantic model class keeps in each instance's ``__dict__`` (none for
    anything else)."""
    fields = getattr(kind, "__pydantic_fields__", None)
    return set(fields) if isinstance(fields, dict) else set()


def python_values(column: pd.Series, missing: Any = pd.NA) -> list[Any]:
    """A column's values as a Python list (``missing`` where absent), without a per-value
    Arrow step (iterating an Arrow-backed column is slow)."""
    values: list[Any] = column.to_numpy(dtype=object, na_value=missing).tolist()
    return values


def text(values: list[Any]) -> pd.api.extensions.ExtensionArray:
    """Arrow-backed strings (missing values stay missing)."""
    try:
        array = pa.array(values, pa.string())
    except (pa.ArrowInvalid, pa.ArrowTypeError):  # not all strings: an odd server value
        array = pa.array([None if v is None else str(v) for v in values], pa.string())
    return pd.array(array, dtype=TEXT)


def times(values: list[Any]) -> pd.api.extensions.ExtensionArray:
    """Timezone-aware UTC timestamps (microseconds) from ISO strings or datetimes."""
    first = next((v for v in values if v is not None), None)
    try:
        if isinstance(first, str):
            parsed = pa.array(values, pa.string()).cast(_ARROW_TIME)
            return pd.array(parsed.to_pandas(), dtype=TIME)
        if isinstance(first, datetime):  # models' datetimes: Arrow converts them (naive ones as UTC)
            return pd.array(pa.array(values, _ARROW_TIME).to_pandas(), dtype=TIME)
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
        pass  # naive, nanosecond or otherwise unusual: pandas reads every ISO 8601 form
    try:
        parsed = pd.to_datetime(pd.Series(values, dtype=object), utc=True, format="ISO8601")
    except ValueError:  # what the models read and pandas does not, e.g. RFC 3339's lower-case "z"
        parsed = pd.to_datetime(pd.Series(_as_models_read(values), dtype=object), utc=True)
    return parsed.astype(TIME).array


def _as_models_read(values: list[Any]) -> list[datetime | None]:
    """``values`` read as the models read a timestamp; :class:`~missionlab.APIError` naming the
    first one they refuse."""
    adapter = TypeAdapter(Timestamp)
    read: list[datetime | None] = []
    for value in values:
        try:
            read.append(None if value is None else adapter.validate_python(value))
        except ValidationError:
            raise APIError(f"a timestamp that is not one the API documents: {value!r}") from None
    return read


def utc_times(values: np.ndarray[Any, Any]) -> pd.api.extensions.ExtensionArray:
    """Naive UTC ``datetime64`` values as timezone-aware UTC timestamps."""
    return pd.DatetimeIndex(values.astype("datetime64[us]"), tz="UTC").array


def category(values: list[Any], known: Sequence[str]) -> pd.Categorical:
    """An ordered categorical of ``values``: the documented ``known`` values first, then any
    unknown ones (sorted), so that a new status is kept, not lost. Enum members count as
    their value."""
    try:
        encoded = pa.array(values, pa.string()).dictionary_encode()
    except (pa.ArrowInvalid, pa.ArrowTypeError):  # not all text: an odd server value, or an enum
        return _category_of_values(values, known)
    seen: list[str] = encoded.dictionary.to_pylist()
    dtype = pd.CategoricalDtype([*known, *sorted(set(seen).difference(known))], ordered=True)
    code = {c: i for i, c in enumerate(dtype.categories)}
    recode = np.array([*(code[v] for v in seen), -1], np.int16)  # the last: missing values
    indices = encoded.indices.fill_null(len(seen)).to_numpy(zero_copy_only=False)
    return pd.Categorical.from_codes(recode[indices], dtype=dtype)


def _category_of_values(values: list[Any], known: Sequence[str]) -> pd.Categorical:
    """:func:`category` of values that are not all text."""
    values = _hashable(values)
    distinct = {v for v in set(values) if v is not None}
    unknown = sorted({str(v) for v in distinct}.difference(known))
    dtype = pd.CategoricalDtype([*known, *unknown], ordered=True)
    code = {c: i for i, c in enumerate(dtype.categories)}
    lookup: dict[Any, int] = {v: code[str(v)] for v in distinct}
    lookup[None] = -1
    codes = np.fromiter(map(lookup.__getitem__, values), np.int16, len(values))
    return pd.Categorical.from_codes(codes, dtype=dtype)


def integers(values: list[Any]) -> pd.api.extensions.ExtensionArray:
    """Nullable integers."""
    return pd.array(values, dtype="Int64")


def nested(values: list[Any]) -> pd.api.extensions.ExtensionArray:
    """Nested JSON objects (``payload``, ``metadata``, ``input``) as compact JSON text
    (:class:`JsonTexts` are that text already)."""
    return text(values if isinstance(values, JsonTexts) else json_texts(values))


def _hashable(values: list[Any]) -> list[Any]:
    try:
        set(values)
    except TypeError:  # a list or dict where a string was expected
        return [None if v is None else str(v) for v in values]
    return values
