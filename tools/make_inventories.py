"""Write the intersphinx inventories of docs/_inventories, so that the docs build links offline.

    python tools/make_inventories.py           # rewrite docs/_inventories/*.inv from the table below
    python tools/make_inventories.py --check   # exit 1 if those files are not what this script makes
    python tools/make_inventories.py --verify python=/usr/share/doc/python3.11/html/objects.inv
                                               # compare the table with a project's published inventory

The site links the names its signatures and docstrings use (``pandas.DataFrame``,
``httpx.Client``, ``typing.Any``, ...) to the documentation of the projects that define them
(intersphinx). Intersphinx normally downloads each project's ``objects.inv`` while building;
CI and the developers' machines reach no documentation site, so docs/conf.py points intersphinx
at the files this script writes: one small inventory per project, holding the names the site
refers to, each with the address of its entry in that project's published documentation.

Where the addresses come from:

- Python and pandas: copied from the projects' own inventories, as Debian ships them with their
  HTML documentation (``python3.11-doc``: /usr/share/doc/python3.11/html/objects.inv;
  ``python-pandas-doc``: /usr/share/doc/python-pandas-doc/html/objects.inv). ``--verify`` checks
  the table against such a file, entry by entry.
- plotly, OpenTelemetry, pyarrow (Sphinx sites): the page and anchor Sphinx gives each object,
  as published on the project's site.
- httpx, ipywidgets, pydantic, FastAPI, deltalake (MkDocs sites, or Sphinx sites without API
  entries for these names): the page, and heading anchor, that documents the name on the
  project's site.

A name the site starts to use is added to the table (the build, run with ``-n``, names it), then
this script is run again; ``tests/test_docs.py`` checks that the files match the table.
"""

from __future__ import annotations

import argparse
import posixpath
import sys
import zlib
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TARGET = ROOT / "docs" / "_inventories"


@dataclass(frozen=True)
class Project:
    """One project's inventory: its name and version as intersphinx shows them, its documentation's
    address (in docs/conf.py's intersphinx_mapping), and its entries (name, role, address relative
    to ``url``; ``$`` at the end stands for the name, as in Sphinx's own inventories)."""

    title: str
    version: str
    url: str
    entries: tuple[tuple[str, str, str], ...]


def library(page: str, *names: str, role: str = "py:class") -> tuple[tuple[str, str, str], ...]:
    return tuple((name, role, f"library/{page}.html#$") for name in names)


PROJECTS: dict[str, Project] = {
    "python": Project(
        "Python",
        "3",
        "https://docs.python.org/3/",
        (
            *library("stdtypes", "str", "bytes", "bytearray", "dict", "list", "tuple", "set", "frozenset"),
            *library("stdtypes", "range", "memoryview"),
            *library("functions", "int", "float", "bool", "object", "type", "complex", "slice"),
            *library("constants", "None", "Ellipsis", "NotImplemented", role="py:data"),
            *library(
                "exceptions",
                "BaseException",
                "Exception",
                "ValueError",
                "TypeError",
                "KeyError",
                "IndexError",
                "LookupError",
                "RuntimeError",
                "OSError",
                "TimeoutError",
                "ConnectionError",
                "StopIteration",
                "NotImplementedError",
                "AttributeError",
                "Warning",
                "UserWarning",
                "DeprecationWarning",
                "RuntimeWarning",
                role="py:exception",
            ),
            *library(
                "typing",
                "typing.Any",
                "typing.Unpack",
                "typing.Self",
                "typing.Literal",
                "typing.Annotated",
                "typing.Optional",
                "typing.Union",
                "typing.Callable",
                "typing.ClassVar",
                "typing.Final",
                "typing.TYPE_CHECKING",
                "typing.NoReturn",
                "typing.Never",
                "typing.TypeAlias",
                role="py:data",
            ),
            *library(
                "typing",
                "typing.Generic",
                "typing.Protocol",
                "typing.TypedDict",
                "typing.TypeVar",
                "typing.NamedTuple",
                "typing.ParamSpec",
                "typing.IO",
            ),
            ("typing.overload", "py:function", "library/typing.html#$"),
            *library(
                "collections.abc",
                *(
                    f"collections.abc.{name}"
                    for name in (
                        "Sequence",
                        "MutableSequence",
                        "Iterable",
                        "Iterator",
                        "AsyncIterator",
                        "AsyncIterable",
                        "Mapping",
                        "MutableMapping",
                        "Callable",
                        "Awaitable",
                        "Coroutine",
                        "Generator",
                        "AsyncGenerator",
                        "Set",
                        "Collection",
                        "Hashable",
                        "Sized",
                        "Container",
                    )
                ),
            ),
            *library("pathlib", "pathlib.Path", "pathlib.PurePath"),
            *library("os", "os.PathLike"),
            *library(
                "datetime", "datetime.datetime", "datetime.date", "datetime.timedelta", "datetime.timezone"
            ),
            *library("datetime", "datetime.tzinfo"),
            *library("enum", "enum.Enum", "enum.StrEnum", "enum.IntEnum"),
            *library(
                "concurrent.futures",
                "concurrent.futures.Executor",
                "concurrent.futures.ThreadPoolExecutor",
                "concurrent.futures.Future",
            ),
            *library("threading", "threading.Event", "threading.Thread", "threading.Lock"),
            *library("logging", "logging.Logger"),
            *library("sqlite3", "sqlite3.Connection", "sqlite3.Cursor"),
            *library("uuid", "uuid.UUID"),
            *library("json", "json.JSONDecodeError", role="py:exception"),
            *library("asyncio-eventloop", "asyncio.AbstractEventLoop"),
            *library("asyncio-task", "asyncio.Task"),
            *library(
                "contextlib", "contextlib.AbstractContextManager", "contextlib.AbstractAsyncContextManager"
            ),
            *library("io", "io.IOBase"),
            *library("decimal", "decimal.Decimal"),
            *(
                (module, "py:module", f"library/{module}.html#module-{module}")
                for module in ("collections.abc", "datetime", "enum", "pathlib", "typing")
            ),
        ),
    ),
    "pandas": Project(
        "pandas",
        "stable",
        "https://pandas.pydata.org/docs/",
        (
            *(
                (f"pandas.{name}", "py:class", f"reference/api/pandas.{name}.html#$")
                for name in (
                    "DataFrame",
                    "Series",
                    "Index",
                    "DatetimeIndex",
                    "Timestamp",
                    "Timedelta",
                    "Categorical",
                    "CategoricalDtype",
                )
            ),
            ("pandas.concat", "py:function", "reference/api/pandas.concat.html#$"),
            ("pandas", "py:module", "index.html#module-pandas"),
        ),
    ),
    "plotly": Project(
        "plotly",
        "stable",
        "https://plotly.com/python-api-reference/",
        (
            ("plotly.graph_objects.Figure", "py:class", "generated/plotly.graph_objects.Figure.html#$"),
            ("plotly.graph_objects", "py:module", "plotly.graph_objects.html"),
        ),
    ),
    "httpx": Project(
        "HTTPX",
        "stable",
        "https://www.python-httpx.org/",
        (
            ("httpx.Client", "py:class", "api/#client"),
            ("httpx.AsyncClient", "py:class", "api/#asyncclient"),
            ("httpx.Response", "py:class", "api/#response"),
            ("httpx.Request", "py:class", "api/#request"),
            ("httpx.URL", "py:class", "api/#url"),
            ("httpx.Headers", "py:class", "api/#headers"),
            ("httpx.Timeout", "py:class", "advanced/timeouts/"),
            ("httpx.BaseTransport", "py:class", "advanced/transports/"),
            ("httpx.AsyncBaseTransport", "py:class", "advanced/transports/"),
            ("httpx.MockTransport", "py:class", "advanced/transports/"),
        ),
    ),
    "ipywidgets": Project(
        "Jupyter Widgets",
        "stable",
        "https://ipywidgets.readthedocs.io/en/stable/",
        (
            ("ipywidgets.Box", "py:class", "examples/Widget%20List.html#box"),
            ("ipywidgets.HBox", "py:class", "examples/Widget%20List.html#hbox"),
            ("ipywidgets.VBox", "py:class", "examples/Widget%20List.html#vbox"),
            ("ipywidgets.Output", "py:class", "examples/Output%20Widget.html"),
        ),
    ),
    "opentelemetry": Project(
        "OpenTelemetry Python",
        "stable",
        "https://opentelemetry-python.readthedocs.io/en/stable/",
        (
            ("opentelemetry.sdk.trace.ReadableSpan", "py:class", "sdk/trace.html#$"),
            ("opentelemetry.sdk.trace.SpanProcessor", "py:class", "sdk/trace.html#$"),
            ("opentelemetry.sdk.trace.TracerProvider", "py:class", "sdk/trace.html#$"),
            ("opentelemetry.sdk.trace.export.SpanExporter", "py:class", "sdk/trace.export.html#$"),
            ("opentelemetry.sdk.trace.export.SpanExportResult", "py:class", "sdk/trace.export.html#$"),
            ("opentelemetry.sdk.resources.Resource", "py:class", "sdk/resources.html#$"),
        ),
    ),
    "pydantic": Project(
        "Pydantic",
        "latest",
        "https://docs.pydantic.dev/latest/",
        (
            ("pydantic.BaseModel", "py:class", "api/base_model/#$"),
            ("pydantic.functional_validators.AfterValidator", "py:class", "api/functional_validators/#$"),
        ),
    ),
    "pyarrow": Project(
        "Apache Arrow",
        "stable",
        "https://arrow.apache.org/docs/",
        (
            ("pyarrow.Table", "py:class", "python/generated/pyarrow.Table.html#$"),
            ("pyarrow.dataset.Dataset", "py:class", "python/generated/pyarrow.dataset.Dataset.html#$"),
        ),
    ),
    "fastapi": Project(
        "FastAPI",
        "latest",
        "https://fastapi.tiangolo.com/",
        (
            ("fastapi.FastAPI", "py:class", "reference/fastapi/#$"),
            ("fastapi.APIRouter", "py:class", "reference/apirouter/#$"),
        ),
    ),
    "deltalake": Project(
        "delta-rs",
        "latest",
        "https://delta-io.github.io/delta-rs/",
        (("deltalake.DeltaTable", "py:class", "api/delta_table/#$"),),
    ),
}


def inventory(project: Project) -> bytes:
    """The project's inventory, in Sphinx's format (version 2: a header, then zlib lines)."""
    header = (
        "# Sphinx inventory version 2\n"
        f"# Project: {project.title}\n"
        f"# Version: {project.version}\n"
        "# The remainder of this file is compressed using zlib.\n"
    )
    names = [name for name, _, _ in project.entries]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise ValueError(f"{project.title}: names listed twice: {duplicates}")
    lines = "".join(f"{name} {role} 1 {uri} -\n" for name, role, uri in sorted(project.entries))
    return header.encode() + zlib.compress(lines.encode(), 9)


def expanded(uri: str, name: str) -> str:
    return uri[:-1] + name if uri.endswith("$") else uri


def verify(key: str, path: Path) -> list[str]:
    """How the table's entries for ``key`` differ from a published inventory at ``path``."""
    from sphinx.util.inventory import InventoryFile

    with path.open("rb") as file:
        published = InventoryFile.load(file, "", posixpath.join)
    data = getattr(published, "data", published)
    problems = []
    for name, role, uri in PROJECTS[key].entries:
        item = data.get(role, {}).get(name)
        if item is None:
            problems.append(f"{name} ({role}): not in {path}")
        elif item.uri.lstrip("/") != expanded(uri, name):
            problems.append(f"{name} ({role}): {expanded(uri, name)} here, {item.uri.lstrip('/')} there")
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if docs/_inventories is out of date")
    parser.add_argument("--verify", metavar="PROJECT=PATH", action="append", default=[])
    args = parser.parse_args(argv)
    if args.verify:
        status = 0
        for item in args.verify:
            key, _, path = item.partition("=")
            problems = verify(key, Path(path))
            print(f"{key}: {len(PROJECTS[key].entries)} entries, {len(problems)} differences")
            for problem in problems:
                print(f"  {problem}")
            status |= bool(problems)
        return status
    stale = []
    for key, project in PROJECTS.items():
        path = TARGET / f"{key}.inv"
        content = inventory(project)
        if args.check:
            if not path.exists() or path.read_bytes() != content:
                stale.append(path.relative_to(ROOT).as_posix())
        else:
            TARGET.mkdir(parents=True, exist_ok=True)
            path.write_bytes(content)
    if args.check and stale:
        print("out of date (run python tools/make_inventories.py):", *stale, sep="\n  ")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
