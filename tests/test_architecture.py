"""docs/architecture.svg matches the code, and the house it draws has the shape the design asks:
rooms on the floors declared for import-linter, arrows only downward (so no circle), at most
12 floors, at most 12 modules at the package's root.

The drawing is made by tools/draw_layers.py; regenerate it with ``python tools/draw_layers.py``
(graphviz's ``dot``) when this test says it is stale.
"""

from __future__ import annotations

import importlib.util
import sys
from collections import Counter
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).parents[1]


def draw_layers() -> ModuleType:
    spec = importlib.util.spec_from_file_location("draw_layers", ROOT / "tools" / "draw_layers.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("draw_layers", module)
    spec.loader.exec_module(module)
    return module


def floor_numbers(floors: list[list[str]], bottom: str) -> dict[str, int]:
    """room -> its floor, counted from the top (the bottom floor is one room, ``bottom``)."""
    numbers = {room: n for n, floor in enumerate(floors[:-1]) for room in floor}
    return numbers | {bottom: len(floors) - 1}


def arrows_not_down(arrows: Counter[tuple[str, str]], floors: dict[str, int]) -> list[tuple[str, str]]:
    """The arrows that climb or stay on their floor (rooms of one floor are independent)."""
    return sorted(arrow for arrow in arrows if floors[arrow[0]] >= floors[arrow[1]])


def longest_path(arrows: Counter[tuple[str, str]]) -> int:
    """The number of rooms on the longest chain of arrows (the arrows form no circle)."""
    below: dict[str, set[str]] = {}
    for source, target in arrows:
        below.setdefault(source, set()).add(target)
    memo: dict[str, int] = {}

    def depth(room: str) -> int:
        if room not in memo:
            memo[room] = 1 + max((depth(r) for r in below.get(room, ())), default=0)
        return memo[room]

    return max(depth(room) for room in {r for arrow in arrows for r in arrow})


def test_the_committed_drawing_matches_the_imports() -> None:
    tool = draw_layers()
    svg = (ROOT / "docs" / "architecture.svg").read_text(encoding="utf-8")
    mark = tool.HASH_MARK.format(tool.source_hash(tool.dot_source()))
    assert mark in svg, "docs/architecture.svg is stale: run python tools/draw_layers.py"


def test_every_arrow_goes_down_a_floor() -> None:
    tool = draw_layers()
    arrows = tool.room_imports()
    floors = floor_numbers(tool.declared_floors(), tool.BOTTOM)
    assert set(floors) >= {room for arrow in arrows for room in arrow}, "a room is on no declared floor"
    assert arrows_not_down(arrows, floors) == []


def test_a_climbing_arrow_is_found() -> None:
    floors = {"widgets": 0, "figures": 1, "client": 2}
    arrows = Counter({("widgets", "client"): 3, ("client", "figures"): 1, ("figures", "figures"): 1})
    assert arrows_not_down(arrows, floors) == [("client", "figures"), ("figures", "figures")]


def test_at_most_twelve_floors() -> None:
    tool = draw_layers()
    assert len(tool.declared_floors()) <= 12
    assert longest_path(tool.room_imports()) <= 12
    assert longest_path(Counter({("a", "b"): 1, ("b", "c"): 1, ("a", "c"): 1, ("d", "c"): 1})) == 3


def test_the_root_holds_the_public_face_only() -> None:
    modules = sorted(p.name for p in (ROOT / "src" / "missionlab").glob("*.py"))
    assert len(modules) <= 12, modules
