"""The cyclic garbage collector paused while big JSON is parsed or gathered: a capsule, a
list's pages (``fetch_all``), blocks of items held as text."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["collection_paused"]


@contextmanager
def collection_paused() -> Iterator[None]:
    """The cyclic garbage collector paused while a capsule (or its events held as text, see
    ``ItemList.of_json_blocks``) is parsed, or ``fetch_all`` gathers a list's pages: a big
    one parses into millions of new containers and no cycles, and the collector's passes
    over them took a third of the parse."""
    paused = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if paused:
            gc.enable()
