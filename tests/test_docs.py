"""Every public name has its entry in the API reference (docs/reference/*.rst, autodoc).

The reference names each object in an ``.. autoclass::`` (``autofunction``, ``autodata``, ...)
directive; ``sphinx-build -W`` fails when one cannot be imported. This test fails when a public
name has no directive: add one to the page of its module.
"""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import missionlab

REFERENCE = Path(__file__).parents[1] / "docs" / "reference"
# The modules whose public names (their __all__) the reference documents, besides missionlab's.
DOCUMENTED_MODULES = (
    "missionlab.figures.charts",
    "missionlab.figures.grid",
    "missionlab.analysis.diagnosis",
    "missionlab.frames",
    "missionlab.client.models",
    "missionlab.client.recorder",
    "missionlab.client.resources",
    "missionlab.sandbox",
    "missionlab.figures.timeline",
    "missionlab.trace",
    "missionlab.types",
    "missionlab.widgets",
)
DIRECTIVE = re.compile(r"^\.\. auto(?:class|function|data|exception|attribute|method)::\s+(\S+)", re.M)


def documented_names(pages: list[str]) -> list[str]:
    return [name for page in pages for name in DIRECTIVE.findall(page)]


def resolve(dotted: str) -> object:
    """The object a dotted name names: the longest importable module, then attributes."""
    parts = dotted.split(".")
    for split in range(len(parts) - 1, 0, -1):
        try:
            value: object = importlib.import_module(".".join(parts[:split]))
        except ModuleNotFoundError:
            continue
        for attribute in parts[split:]:
            value = getattr(value, attribute)
        return value
    raise LookupError(dotted)


def public_names() -> list[str]:
    names = [f"missionlab.{name}" for name in missionlab.__all__]
    for module in DOCUMENTED_MODULES:
        names += [f"{module}.{name}" for name in importlib.import_module(module).__all__]
    return names


def undocumented(pages: list[str]) -> list[str]:
    """The public names whose object no directive of ``pages`` documents, under any of its names."""
    documented = {id(resolve(name)) for name in documented_names(pages)}
    return [name for name in public_names() if id(resolve(name)) not in documented]


def reference_pages() -> list[str]:
    return [path.read_text(encoding="utf-8") for path in sorted(REFERENCE.glob("*.rst"))]


def test_every_public_name_is_in_the_reference() -> None:
    pages = reference_pages()
    assert len(documented_names(pages)) > 80, "too few autodoc directives found"
    assert undocumented(pages) == []


def test_every_directive_names_a_public_object() -> None:
    public = {id(resolve(name)) for name in public_names()}
    private = [name for name in documented_names(reference_pages()) if id(resolve(name)) not in public]
    assert private == []


def test_a_name_left_out_is_reported() -> None:
    pages = [
        DIRECTIVE.sub(lambda m: "" if m[1].endswith(".step_stats") else m[0], p) for p in reference_pages()
    ]
    assert undocumented(pages) == ["missionlab.frames.step_stats"]
