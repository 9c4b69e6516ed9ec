"""``fetch_all()``'s answer: every item of a list, as models made when first used.

A list fetched whole is often only turned into a DataFrame. Building a pydantic model per
item costs about four times what parsing the JSON does, so :class:`ItemList` keeps the
items as the JSON objects the server sent and validates them into models a block at a
time, when an item of the block is first read (by index, iteration, ``in``, ``==`` ...).
``to_frame()`` (and :func:`missionlab.to_frame`) reads the JSON objects of the blocks not
yet validated and the models of the others, which give the same frame.

It is a sequence with the list's operations: indexing and slices, ``len``, iteration,
``in``, ``index``, ``count``, ``==`` with a list, ``+``, and the mutating ones (``append``,
``sort``, ``del`` ...), which first make every model. An item the API document does not
allow raises :class:`~missionlab.APIError` when its block is first read, as a page
would have when it was fetched; an unknown status warns then.

A block may also be held as the JSON text of its items (:meth:`ItemList.of_json_blocks`,
which ``open_run`` uses for a capsule's events), parsed whenever it is read until its
models are made.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable, Iterable, Iterator, MutableSequence
from functools import cache
from typing import Any, Generic, SupportsIndex, TypeVar, overload

import orjson
from pydantic import BaseModel, TypeAdapter, ValidationError

from .._wire.collector import collection_paused
from ..errors import APIError
from ._display import frame_of

__all__ = ["BLOCK", "ItemList"]

T = TypeVar("T", bound=BaseModel)

BLOCK = 1000  # items validated at a time (the largest page)


@cache
def _adapter(item: type[BaseModel]) -> TypeAdapter[list[Any]]:
    return TypeAdapter(list[item])  # type: ignore[valid-type]


class ItemList(MutableSequence[T], Generic[T]):
    """Every item of a list, once, in the server's order: models of ``item``, each block of
    ``BLOCK`` (1,000) items validated when one of them is first read."""

    __slots__ = ("_blocks", "_item", "_len", "_lock", "_models", "_operation")

    def __init__(self, item: type[T], raw: list[Any], operation: str) -> None:
        self._item = item
        self._operation = operation
        self._len = len(raw)
        # per block: the JSON objects until validated, then None (the models are in _models)
        # a block not validated yet may be held as the JSON text of its array (see of_json_blocks)
        self._blocks: list[list[Any] | str | None] = [raw[i : i + BLOCK] for i in range(0, len(raw), BLOCK)]
        self._models: list[list[T] | None] = [None] * len(self._blocks)
        self._lock = threading.Lock()

    @classmethod
    def of_json_blocks(
        cls, item: type[T], blocks: list[list[Any] | str], length: int, operation: str
    ) -> ItemList[T]:
        """The ``length`` items of ``blocks`` (each of ``BLOCK`` items but the last): a list of
        JSON objects, or the JSON text of that list (any valid JSON: a capsule's own text, or
        ``json.dumps``'s, with its ``NaN``), parsed each time the block is read until its
        models are made. Text takes a fraction of the memory
        of the parsed objects (``open_run`` holds a big capsule's events so)."""
        items: ItemList[T] = cls(item, [], operation)
        items._len = length
        items._blocks = list(blocks)
        items._models = [None] * len(items._blocks)
        return items

    # -- making models -------------------------------------------------------------------------

    def _block(self, number: int) -> list[T]:
        models = self._models[number]
        if models is not None:
            return models
        with self._lock:
            models = self._models[number]
            if models is None:
                raw = _parsed(self._blocks[number])
                try:
                    models = _adapter(self._item).validate_python(raw)
                except ValidationError as exc:
                    raise APIError(
                        f"{self._operation}: an item of the list is not what the API documents: "
                        f"{str(exc)[:1000]}",
                        operation=self._operation,
                    ) from None
                self._models[number] = models
                self._blocks[number] = None  # the models replace the JSON objects
        return models

    def _all(self) -> list[T]:
        return [model for number in range(len(self._blocks)) for model in self._block(number)]

    def _become(self, models: list[T]) -> None:
        """Hold ``models`` (a changed list) from now on, as validated blocks."""
        self._len = len(models)
        self._models = [models[i : i + BLOCK] for i in range(0, len(models), BLOCK)]
        self._blocks = [None] * len(self._models)

    def _changed(self, change: Callable[[list[T]], Any]) -> Any:
        models = self._all()
        result = change(models)
        self._become(models)
        return result

    # -- reading -------------------------------------------------------------------------------

    def __len__(self) -> int:
        return self._len

    @overload
    def __getitem__(self, index: int) -> T: ...
    @overload
    def __getitem__(self, index: slice) -> list[T]: ...
    def __getitem__(self, index: int | slice) -> T | list[T]:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(self._len))]
        position = int(index)
        if position < 0:
            position += self._len
        if not 0 <= position < self._len:
            raise IndexError("list index out of range")
        return self._block(position // BLOCK)[position % BLOCK]

    def __iter__(self) -> Iterator[T]:
        for number in range(len(self._blocks)):
            yield from self._block(number)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, ItemList | list):
            return self._all() == list(other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]  # mutable, like a list

    def __add__(self, other: Iterable[T]) -> list[T]:
        if not isinstance(other, ItemList | list):
            return NotImplemented
        return [*self, *other]

    def __radd__(self, other: Iterable[T]) -> list[T]:
        if not isinstance(other, list):
            return NotImplemented
        return [*other, *self]

    def __repr__(self) -> str:
        return repr(self._all())

    def copy(self) -> list[T]:
        """The models, as a plain list."""
        return self._all()

    def to_frame(self, **kwargs: Any) -> Any:
        """The items as a pandas DataFrame (see :func:`missionlab.to_frame`), read from the
        JSON objects wherever no model has been made."""
        return frame_of(self, **kwargs)

    @property
    def model(self) -> type[T]:
        """The model class of the items."""
        return self._item

    def frame_items(self) -> list[Any]:
        """Each item as its model when made, else as its JSON object (what frames read)."""
        out: list[Any] = []
        with collection_paused():  # blocks held as text: new objects by the million, no cycles
            for block in self.frame_blocks():
                out.extend(block)
        return out

    def frame_blocks(self) -> Iterator[list[Any]]:
        """:meth:`frame_items` a block at a time (a block held as text is parsed when reached:
        pause the garbage collector around the loop, as :meth:`frame_items` does)."""
        for number, raw in enumerate(self._blocks):
            yield _parsed(raw) if raw is not None else self._models[number] or []

    # -- changing (every model is made first) ----------------------------------------------------

    @overload
    def __setitem__(self, index: int, value: T) -> None: ...
    @overload
    def __setitem__(self, index: slice, value: Iterable[T]) -> None: ...
    def __setitem__(self, index: int | slice, value: Any) -> None:
        def change(models: list[T]) -> None:
            models[index] = value

        self._changed(change)

    def __delitem__(self, index: int | slice) -> None:
        def change(models: list[T]) -> None:
            del models[index]

        self._changed(change)

    def insert(self, index: SupportsIndex, value: T) -> None:
        self._changed(lambda models: models.insert(index, value))

    def append(self, value: T) -> None:
        self._changed(lambda models: models.append(value))

    def extend(self, values: Iterable[T]) -> None:
        added = list(values)  # first: ``values`` may be this list
        self._changed(lambda models: models.extend(added))

    def __iadd__(self, values: Iterable[T]) -> ItemList[T]:
        self.extend(values)
        return self

    def pop(self, index: int = -1) -> T:
        """Remove and return the item at ``index`` (the last by default), as ``list.pop``."""
        popped: T = self._changed(lambda models: models.pop(index))
        return popped

    def remove(self, value: T) -> None:
        """Remove the first item equal to ``value``, as ``list.remove``."""
        self._changed(lambda models: models.remove(value))

    def reverse(self) -> None:
        """Reverse the items in place, as ``list.reverse``."""
        self._changed(lambda models: models.reverse())

    def clear(self) -> None:
        """Remove every item, as ``list.clear``."""
        self._become([])

    def sort(self, *, key: Callable[[T], Any] | None = None, reverse: bool = False) -> None:
        """Sort the items in place, as ``list.sort``."""
        self._changed(lambda models: models.sort(key=key, reverse=reverse))  # type: ignore[arg-type]

    def __reduce__(self) -> tuple[Any, ...]:
        return _made, (self._item, self._all(), self._operation)


def _parsed(block: list[Any] | str | None) -> list[Any]:
    """A block's JSON objects (parsed when held as text)."""
    assert block is not None
    if isinstance(block, str):
        if _LONG_DIGITS.search(block) is None:  # orjson makes floats of integers past 64 bits
            try:
                parsed: list[Any] = orjson.loads(block)  # three times faster
                return parsed
            except orjson.JSONDecodeError:  # Infinity and NaN, which json.dumps writes
                pass
        parsed = json.loads(block)
        return parsed
    return block


_LONG_DIGITS = re.compile(r"\d{19}")  # a number that may not fit in 64 bits (or a string's digits)


def _made(item: type[T], models: list[T], operation: str) -> ItemList[T]:
    """An item list of models already made (what a pickled one comes back as)."""
    items: ItemList[T] = ItemList(item, [], operation)
    items._become(models)
    return items
