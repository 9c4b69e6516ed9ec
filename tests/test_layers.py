"""The import graph of src/missionlab: no cycle, and no import from a layer to one above it.

Every module is parsed with ``ast``. An import counts as an arrow when it runs: at module
level or inside a function (a lazy import is still an arrow, as DESIGN.md says). So does a
module named in a string for a dynamic import: an argument of ``import_module(...)`` or a
value of a dict literal (``__init__``'s table of lazy names), not a logger's name. Imports
under ``if TYPE_CHECKING:`` don't count: they never run.

The layers are those of DESIGN.md and notes/interfaces.md, bottom to top: the client layer,
the data layer (frames, figures, diagnosis, traces), the widgets. The sandbox's core stands
apart and shares only the wire vocabulary (``missionlab.types``). Glue modules (the package
root, ``connect``, the CLI, the sandbox's runner and its package) join them and may import
anything; of the layers, only the widgets may call one of them (``browse()`` connects).
"""

from __future__ import annotations

import ast
import shutil
from collections.abc import Iterable, Iterator
from pathlib import Path

SOURCE = Path(__file__).parents[1] / "src" / "missionlab"

# Each module's layer, by the longest matching prefix of its name below missionlab. Modules
# that teammates' branches add are listed already (a prefix that matches nothing is harmless).
LAYERS = {
    "client": (
        "_async_client",
        "_call",
        "_client",
        "_deadline",
        "_display",
        "_exceptions",
        "_json",
        "_pagination",
        "_retry",
        "_transport",
        "_validate",
        "_version",
        "limits",
        "models",
        "recorder",
        "resources",
        "types",
    ),
    "data": (
        "_align",
        "_attempts",
        "_baseline",
        "_columns",
        "_drift",
        "_evidence",
        "_fetch_frames",
        "_history",
        "_figure",
        "_findings",
        "_fleet",
        "_gantt",
        "_gantt_layout",
        "_gantt_marks",
        "_jsontext",
        "_live_gantt",
        "_new_events",
        "_open_run",
        "_runlike",
        "_steps",
        "_trace_views",
        "capsule",
        "charts",
        "compare",
        "counts",
        "diagnosis",
        "explain",
        "find",
        "frames",
        "replay",
        "rollup",
        "share",
        "timeline",
        "trace",
    ),
    "widgets": ("widgets",),
    "sandbox": ("sandbox",),
}
# Glue, by exact name ("" is the package root): joins the layers and may import anything.
GLUE = ("", "_connect", "cli", "sandbox", "sandbox.server")
# What each layer may import, besides itself.
MAY_IMPORT = {
    "client": set[str](),
    "data": {"client"},
    "widgets": {"client", "data"},
    "sandbox": set[str](),
    "glue": {"client", "data", "widgets", "sandbox"},
}
# Single modules a layer may import although their layer is out of its reach.
MAY_ALSO_IMPORT = {
    "sandbox": {"missionlab.types", "missionlab.limits", "missionlab._version"},  # the wire vocabulary
    "widgets": {"missionlab._connect"},  # browse() without a client connects as connect() does
}


def module_name(path: Path, root: Path, package: str) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join([package, *parts])


def parse_package(root: Path, package: str = "missionlab") -> dict[str, tuple[ast.Module, bool]]:
    """``{module name: (syntax tree, is a package)}`` for every module under ``root``."""
    return {
        module_name(path, root, package): (
            ast.parse(path.read_text(encoding="utf-8")),
            path.stem == "__init__",
        )
        for path in sorted(root.rglob("*.py"))
    }


def is_type_checking(test: ast.expr) -> bool:
    name = test.attr if isinstance(test, ast.Attribute) else getattr(test, "id", None)
    return name == "TYPE_CHECKING"


def runtime_nodes(node: ast.AST) -> Iterator[ast.AST]:
    """Every node below ``node``, except the bodies of ``if TYPE_CHECKING:`` blocks."""
    for child in ast.iter_child_nodes(node):
        if isinstance(child, ast.If) and is_type_checking(child.test):
            for other in child.orelse:
                yield other
                yield from runtime_nodes(other)
            continue
        yield child
        yield from runtime_nodes(child)


def call_name(call: ast.Call) -> str | None:
    func = call.func
    return func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)


def strings(nodes: Iterable[ast.expr | None]) -> set[str]:
    return {node.value for node in nodes if isinstance(node, ast.Constant) and isinstance(node.value, str)}


def imported_modules(name: str, tree: ast.Module, is_package: bool, known: set[str]) -> set[str]:
    """The known modules that module ``name`` imports when it runs, lazy imports included."""
    package = name if is_package else name.rpartition(".")[0]
    targets: set[str] = set()
    for node in runtime_nodes(tree):
        if isinstance(node, ast.Import):
            targets.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                source = ".".join([*base, node.module] if node.module else base)
            else:
                source = node.module or ""
            for alias in node.names:
                submodule = f"{source}.{alias.name}"
                targets.add(submodule if submodule in known else source)
        elif isinstance(node, ast.Call) and str(call_name(node)).endswith(("import_module", "__import__")):
            targets.update(strings(node.args[:1]))
        elif isinstance(node, ast.Dict):
            targets.update(strings(node.values))
    return {target for target in targets if target in known and target != name}


def import_graph(root: Path, package: str = "missionlab") -> dict[str, set[str]]:
    modules = parse_package(root, package)
    known = set(modules)
    return {
        name: imported_modules(name, tree, is_package, known) for name, (tree, is_package) in modules.items()
    }


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph.get(node, ())):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return sorted(found)


def mutual_imports(graph: dict[str, set[str]]) -> list[str]:
    """The pairs of modules that import each other (the shortest cycles, named for the reader)."""
    return [
        f"{a} <-> {b}" for a in sorted(graph) for b in sorted(graph[a]) if a < b and a in graph.get(b, ())
    ]


def layer_of(module: str, package: str = "missionlab") -> str | None:
    relative = module.removeprefix(package).removeprefix(".")
    if relative in GLUE:
        return "glue"
    best: tuple[int, str] | None = None
    for layer, prefixes in LAYERS.items():
        for prefix in prefixes:
            matches = relative == prefix or (prefix and relative.startswith(prefix + "."))
            if matches and (best is None or len(prefix) > best[0]):
                best = (len(prefix), layer)
    return best[1] if best else None


def upward_imports(graph: dict[str, set[str]], package: str = "missionlab") -> list[str]:
    """``"importer -> imported"`` for every import that a layer may not make."""
    found = []
    for source, targets in sorted(graph.items()):
        source_layer = layer_of(source, package)
        for target in sorted(targets):
            target_layer = layer_of(target, package)
            if source_layer is None or target_layer is None or target_layer == source_layer:
                continue
            allowed = MAY_IMPORT[source_layer]
            also = {name.replace("missionlab", package, 1) for name in MAY_ALSO_IMPORT.get(source_layer, ())}
            if target_layer not in allowed and target not in also:
                found.append(f"{source} ({source_layer}) -> {target} ({target_layer})")
    return found


def test_every_module_has_a_layer() -> None:
    graph = import_graph(SOURCE)
    assert len(graph) > 40, f"too few modules found under {SOURCE}"
    unclassified = sorted(name for name in graph if layer_of(name) is None)
    assert not unclassified, f"give these modules a layer in LAYERS of {__file__}: {unclassified}"


def test_no_import_cycle_and_no_upward_import() -> None:
    graph = import_graph(SOURCE)
    found = {"cycles": cycles(graph), "pairs": mutual_imports(graph), "upward": upward_imports(graph)}
    assert found == {"cycles": [], "pairs": [], "upward": []}


def test_the_detector_finds_an_injected_cycle_and_upward_import(tmp_path: Path) -> None:
    root = tmp_path / "missionlab"
    shutil.copytree(SOURCE, root, ignore=shutil.ignore_patterns("__pycache__"))
    before = import_graph(root)
    assert "missionlab.charts" not in before["missionlab.frames"]
    assert "missionlab.widgets" not in before["missionlab.models"]

    with (root / "frames.py").open("a") as frames:  # frames <- charts already: a lazy arrow back
        frames.write("\n\ndef _injected() -> None:\n    from . import charts  # noqa\n")
    with (root / "models.py").open("a") as models:  # the client layer reaching the widgets
        models.write("\n\ndef _injected() -> None:\n    import missionlab.widgets.explorer  # noqa\n")
    with (root / "_call.py").open("a") as call:  # never runs: no arrow
        call.write("\nif TYPE_CHECKING:\n    from .widgets import browse  # noqa\n")
    after = import_graph(root)

    assert any({"missionlab.charts", "missionlab.frames"} <= set(cycle) for cycle in cycles(after))
    assert "missionlab.charts <-> missionlab.frames" in mutual_imports(after)
    assert not any({"missionlab.charts", "missionlab.frames"} <= set(cycle) for cycle in cycles(before))
    injected = "missionlab.models (client) -> missionlab.widgets.explorer (widgets)"
    assert injected in upward_imports(after)
    assert injected not in upward_imports(before)
    assert after["missionlab._call"] == before["missionlab._call"]


def test_imports_are_resolved_as_python_resolves_them() -> None:
    graph = import_graph(SOURCE)
    # relative imports of a submodule by name, from a package and from a module in one
    assert "missionlab.sandbox.schemas" in graph["missionlab.sandbox.routes.missions"]
    assert "missionlab._validate" in graph["missionlab.resources.runs"]
    assert "missionlab.sandbox.server" in graph["missionlab.sandbox"]
    # a lazy import inside a function counts; the root's lazy names count through their strings
    assert "missionlab.sandbox" in graph["missionlab._connect"]
    assert "missionlab.widgets" in graph["missionlab"]
