"""The API reference covers every public module and every public name; the docs build links offline.

A public module is one whose dotted path has no part starting with ``_``; its public names are
its ``__all__``. The reference (docs/reference/*.rst, and the ``{eval-rst}`` blocks of the
Markdown pages) must hold an ``.. automodule::`` for each public module, and document each
public name: with an ``.. autoclass::`` (``autofunction``, ``autodata``, ...) directive naming
it (under any of its names), or, for a class or function defined in that module, through the
module's ``.. automodule::`` with ``:members:``. ``sphinx-build -n -W`` (CI) fails when a
directive names nothing or a signature names something undocumented; these tests fail when
something public has no entry at all.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import re
import subprocess
import sys
import warnings
from pathlib import Path

import missionlab

ROOT = Path(__file__).parents[1]
DOCS = ROOT / "docs"
# autodoc's directives, and ``py:data`` for a type alias (autodoc would print the alias's expansion)
AUTO = r"auto(?:class|function|data|exception|attribute|method)"
DIRECTIVE = re.compile(rf"^\.\. (?:{AUTO}|py:data)::\s+(\S+)", re.M)
AUTOMODULE = re.compile(r"^\.\. automodule::\s+(\S+)\n((?:[ \t]+:[^\n]*\n)*)", re.M)


def public_modules() -> list[str]:
    """Every importable module of missionlab whose path has no private part, found by walking
    the package (not listed by hand)."""
    found = ["missionlab"]
    for info in pkgutil.walk_packages(missionlab.__path__, prefix="missionlab."):
        if not any(part.startswith("_") for part in info.name.split(".")):
            found.append(info.name)
    return sorted(found)


def module(name: str) -> object:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # the moved paths warn once
        return importlib.import_module(name)


def resolve(dotted: str) -> object:
    """The object a dotted name names: the longest importable module, then attributes."""
    parts = dotted.split(".")
    for split in range(len(parts), 0, -1):
        try:
            value: object = module(".".join(parts[:split]))
        except ModuleNotFoundError:
            continue
        for attribute in parts[split:]:
            value = getattr(value, attribute)
        return value
    raise LookupError(dotted)


def reference_pages() -> list[str]:
    """The reference pages, and the Markdown pages (whose ``{eval-rst}`` blocks hold directives)."""
    pages = sorted((DOCS / "reference").glob("*.rst")) + sorted(DOCS.glob("*.md"))
    return [path.read_text(encoding="utf-8") for path in pages]


def documented_names(pages: list[str]) -> list[str]:
    """The names the directives document (a ``py:data`` directive's ``:module:`` option included)."""
    names = []
    for page in pages:
        for match in DIRECTIVE.finditer(page):
            module_option = re.match(r"(?:[ \t]+:[^\n]*\n)*?[ \t]+:module:\s+(\S+)", page[match.end() + 1 :])
            names.append(f"{module_option[1]}.{match[1]}" if module_option else match[1])
    return names


def automodules(pages: list[str]) -> dict[str, set[str]]:
    """Each module with an ``automodule`` directive, and the names it documents: those its
    ``:members:`` option lists, or with a bare ``:members:`` the classes and functions of its
    ``__all__`` that it defines (autodoc leaves out the rest); none without ``:members:``."""
    found: dict[str, set[str]] = {}
    for page in pages:
        for name, options in AUTOMODULE.findall(page):
            members = re.search(r"^\s+:members:(.*)$", options, re.M)
            names: set[str] = set()
            if members and members[1].strip():
                names = {f"{name}.{member.strip()}" for member in members[1].split(",")}
            elif members:
                listed = [f"{name}.{member}" for member in getattr(module(name), "__all__", ())]
                names = {member for member in listed if defined_in(resolve(member), name)}
            found.setdefault(name, set()).update(names)
    return found


def defined_in(value: object, name: str) -> bool:
    """Whether ``value`` is a class or function defined in module ``name``."""
    return (inspect.isclass(value) or inspect.isfunction(value)) and value.__module__ == name


def public_names() -> list[str]:
    names = []
    for name in public_modules():
        names += [f"{name}.{member}" for member in getattr(module(name), "__all__", ())]
    return names


def undocumented(pages: list[str]) -> list[str]:
    """The public names whose object no directive of ``pages`` documents, under any of its names."""
    names = documented_names(pages) + [name for names in automodules(pages).values() for name in names]
    documented = {id(resolve(name)) for name in names}
    return [name for name in public_names() if id(resolve(name)) not in documented]


def test_the_modules_are_found_by_walking_the_package() -> None:
    """The same list, read from the source files' paths instead of the package's imports."""
    src = ROOT / "src"
    from_files = set()
    for path in (src / "missionlab").rglob("*.py"):
        parts = path.relative_to(src).with_suffix("").parts
        parts = parts[:-1] if parts[-1] == "__init__" else parts
        if not any(part.startswith("_") for part in parts):
            from_files.add(".".join(parts))
    assert public_modules() == sorted(from_files)
    assert "missionlab.sandbox.store.events" in from_files  # two levels down


def test_every_public_module_is_in_the_reference() -> None:
    documented = automodules(reference_pages())
    assert [name for name in public_modules() if name not in documented] == []


def test_every_public_name_is_in_the_reference() -> None:
    pages = reference_pages()
    assert len(documented_names(pages)) > 80, "too few autodoc directives found"
    assert undocumented(pages) == []


def test_every_directive_names_a_public_object() -> None:
    public = {id(resolve(name)) for name in public_names()}
    pages = reference_pages()
    names = documented_names(pages) + [name for names in automodules(pages).values() for name in names]
    private = [name for name in names if id(resolve(name)) not in public]
    assert private == []
    stray = [name for name in automodules(pages) if name not in public_modules()]
    assert stray == []


def test_a_name_left_out_is_reported() -> None:
    pages = [
        DIRECTIVE.sub(lambda m: "" if m[1].endswith(".step_stats") else m[0], p) for p in reference_pages()
    ]
    assert undocumented(pages) == ["missionlab.frames.step_stats"]


def test_a_module_left_out_is_reported() -> None:
    pages = [
        re.sub(r"^\.\. automodule:: missionlab\.sandbox\.guard\n", "", p, flags=re.M)
        for p in reference_pages()
    ]
    documented = automodules(pages)
    assert [name for name in public_modules() if name not in documented] == ["missionlab.sandbox.guard"]


def test_a_member_documented_only_through_automodule_members_counts() -> None:
    """``missionlab.analysis.find.find`` has no directive of its own: its module's
    ``automodule`` with ``:members:`` documents it, and without ``:members:`` nothing does."""
    pages = reference_pages()
    assert "missionlab.analysis.find.find" not in documented_names(pages)
    assert "missionlab.analysis.find.find" not in undocumented(pages)
    bare = [
        p.replace(
            ".. automodule:: missionlab.analysis.find\n   :members:\n",
            ".. automodule:: missionlab.analysis.find\n",
        )
        for p in pages
    ]
    assert "missionlab.analysis.find.find" in undocumented(bare)


def test_the_inventories_match_their_table() -> None:
    """docs/_inventories holds what tools/make_inventories.py writes, and intersphinx reads them."""
    run = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "make_inventories.py"), "--check"],
        capture_output=True,
        text=True,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    from sphinx.util.inventory import InventoryFile

    with (DOCS / "_inventories" / "pandas.inv").open("rb") as file:
        inventory = InventoryFile.load(file, "https://pandas.pydata.org/docs/", lambda base, uri: base + uri)
    data = getattr(inventory, "data", inventory)
    assert data["py:class"]["pandas.DataFrame"].uri == (
        "https://pandas.pydata.org/docs/reference/api/pandas.DataFrame.html#pandas.DataFrame"
    )


def test_the_docs_build_reads_local_inventories_only() -> None:
    """Every intersphinx inventory of docs/conf.py is a file of docs/_inventories, none a URL."""
    namespace: dict[str, object] = {"__file__": str(DOCS / "conf.py")}
    path = list(sys.path)
    try:
        exec(
            compile((DOCS / "conf.py").read_text(encoding="utf-8"), str(DOCS / "conf.py"), "exec"), namespace
        )
    finally:
        sys.path[:] = path
    mapping = namespace["intersphinx_mapping"]
    assert isinstance(mapping, dict) and {"python", "pandas", "plotly", "httpx", "ipywidgets"} <= set(mapping)
    for url, location in mapping.values():
        assert url.startswith("https://")
        assert Path(location).parent == DOCS / "_inventories" and Path(location).is_file()
