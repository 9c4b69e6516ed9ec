"""Draw the package's layers from its imports: docs/architecture.svg.

    python tools/draw_layers.py          # rewrite docs/architecture.svg (needs graphviz's `dot`)
    python tools/draw_layers.py --dot    # print the Graphviz source only

A room is a folder of src/missionlab/ (client, frames, ...) or a module at its root (trace,
cli, errors, ...); an arrow from one room to another stands for the imports between their
modules (type-only and lazy imports included, as grimp finds them), labelled with their
number. Rooms stand on the floors declared for import-linter in pyproject.toml
([tool.importlinter], the layers contract), top to bottom. The package's ``__init__`` (the
public face, lazy names) and ``_moved`` (old import paths) stand outside the layers and are
left out of the drawing.

The SVG carries the SHA-256 of its Graphviz source; tests/test_architecture.py rebuilds the
source from the code and checks that hash, so a drawing that no longer matches the imports
fails the tests.
"""

from __future__ import annotations

import argparse
import functools
import hashlib
import subprocess
import tomllib
from collections import Counter
from pathlib import Path

import grimp

ROOT = Path(__file__).parents[1]
SVG = ROOT / "docs" / "architecture.svg"
PACKAGE = "missionlab"
OUTSIDE_THE_LAYERS = ("missionlab", "missionlab._moved")
BOTTOM = "vocabulary"
HASH_MARK = "<!-- missionlab layers source sha256: {} -->"


@functools.cache
def declared_floors() -> list[list[str]]:
    """The layers contract's floors, top first, each a list of room names."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    contracts = config["tool"]["importlinter"]["contracts"]
    layers = next(c for c in contracts if c["type"] == "layers")["layers"]
    return [[name.strip() for name in floor.split("|")] for floor in layers]


def room_of(module: str) -> str | None:
    """The folder or root module ``module`` belongs to (the bottom floor's modules: that floor's
    one box); None for the rooms outside the layers."""
    if module in OUTSIDE_THE_LAYERS:
        return None
    room = module.split(".")[1]
    return BOTTOM if room in declared_floors()[-1] else room


@functools.cache
def import_graph() -> grimp.ImportGraph:
    return grimp.build_graph(PACKAGE)


def room_imports() -> Counter[tuple[str, str]]:
    """(importing room, imported room) -> how many module-to-module imports join them."""
    graph = import_graph()
    arrows: Counter[tuple[str, str]] = Counter()
    for module in graph.modules:
        source = room_of(module)
        if source is None or not module.startswith(PACKAGE):
            continue
        for imported in graph.find_modules_directly_imported_by(module):
            target = room_of(imported) if imported.startswith(f"{PACKAGE}.") or imported == PACKAGE else None
            if target is not None and target != source:
                arrows[source, target] += 1
    return arrows


def room_sizes() -> Counter[str]:
    """How many modules each room holds."""
    graph = import_graph()
    return Counter(room for m in graph.modules if m.startswith(PACKAGE) and (room := room_of(m)))


def dot_source() -> str:
    """The Graphviz source of the drawing: one row per declared floor, one box per room."""
    floors = declared_floors()
    sizes = room_sizes()
    lines = [
        "digraph layers {",
        '  graph [rankdir=TB, nodesep=0.35, ranksep=0.45, fontname="Helvetica", fontsize=11];',
        '  node [shape=box, style="rounded,filled", fillcolor="#eef3fb", color="#4a6fa5",'
        ' fontname="Helvetica", fontsize=12];',
        '  edge [color="#7a869a", fontname="Helvetica", fontsize=9, fontcolor="#5a6474", arrowsize=0.6];',
    ]
    for number, floor in enumerate(floors):
        if floor is floors[-1]:
            label = " · ".join(f"{room}.py" for room in floor)
            lines.append(
                f'  subgraph floor{number} {{ rank=same; "{BOTTOM}" [label="{label}", fillcolor=white]; }}'
            )
            continue
        names = []
        for room in floor:
            count = sizes.get(room, 0)
            folder = count > 1 or (ROOT / "src" / PACKAGE / room).is_dir()
            label = f"{room}/\\n{count} modules" if folder else f"{room}.py"
            names.append(f'"{room}" [label="{label}"{"" if folder else ", fillcolor=white"}];')
        lines.append(f"  subgraph floor{number} {{ rank=same; {' '.join(names)} }}")
    for number in range(len(floors) - 1):  # keep the floors in their declared order
        below = BOTTOM if number + 1 == len(floors) - 1 else floors[number + 1][0]
        lines.append(f'  "{floors[number][0]}" -> "{below}" [style=invis, weight=10];')
    for (source, target), count in sorted(room_imports().items()):
        lines.append(f'  "{source}" -> "{target}" [label="{count}"];')
    lines.append("}")
    return "\n".join(lines) + "\n"


def source_hash(source: str) -> str:
    return hashlib.sha256(source.encode()).hexdigest()


def draw(source: str) -> str:
    """The SVG of ``source``, marked with the source's hash."""
    svg = subprocess.run(["dot", "-Tsvg"], input=source, capture_output=True, text=True, check=True).stdout
    head, _, rest = svg.partition("<svg")
    return f"{head}{HASH_MARK.format(source_hash(source))}\n<svg{rest}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dot", action="store_true", help="print the Graphviz source and stop")
    source = dot_source()
    if parser.parse_args().dot:
        print(source, end="")
        return
    SVG.write_text(draw(source), encoding="utf-8")
    print(f"wrote {SVG}")


if __name__ == "__main__":
    main()
