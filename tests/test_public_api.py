"""The public surface: ``vars(missionlab)`` holds what ``__all__`` lists and nothing else public.

As httpx's test does, this reads the module's namespace, not ``dir()`` (which returns
``__all__`` and so could never disagree with it). Each check runs in a fresh interpreter,
since other tests import submodules, which binds them as attributes of the package.
"""

from __future__ import annotations

import json
import subprocess
import sys
import types
from pathlib import Path

import missionlab

ROOT = Path(__file__).parents[1]
# The names of the public submodules that the documentation and users reach as attributes.
PUBLIC_SUBMODULES = ("charts", "frames", "models", "recorder", "sandbox", "timeline", "types", "widgets")


# Dunder names that are part of the public surface (every other name starting with _ is private).
PUBLIC_DUNDERS = {"__version__"}


def public_names(module: types.ModuleType, *, submodules: bool = False) -> set[str]:
    """The public names bound in a module; its own submodules (bound by imports) only if asked."""
    return {
        name
        for name, value in vars(module).items()
        if (not name.startswith("_") or name in PUBLIC_DUNDERS)
        and (
            submodules
            or not (isinstance(value, types.ModuleType) and value.__name__ == f"{module.__name__}.{name}")
        )
    }


def in_fresh_interpreter(expression: str, setup: str = "") -> object:
    """The JSON value of ``expression`` in a new interpreter that has just imported missionlab."""
    script = (
        "import json, missionlab\n"
        "from tests.test_public_api import public_names\n"
        f"{setup}\n"
        f"print(json.dumps({expression}))\n"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True, cwd=ROOT)
    return json.loads(out.stdout)


def test_fresh_import_binds_exactly_the_eager_public_names() -> None:
    # Every public name counts here, submodules too: `import missionlab` binds none of them.
    bound = in_fresh_interpreter("sorted(public_names(missionlab, submodules=True))")
    assert bound == sorted(set(missionlab.__all__) - set(missionlab._LAZY))


def test_lazy_names_resolve_and_leak_nothing_else() -> None:
    # Loading the lazy names imports more submodules, which Python binds on the package.
    bound = in_fresh_interpreter(
        "sorted(public_names(missionlab))",
        setup="for name in missionlab.__all__:\n    assert getattr(missionlab, name) is not None, name",
    )
    assert bound == sorted(missionlab.__all__)


def test_all_is_sorted_and_lazy_names_are_listed() -> None:
    assert missionlab.__all__ == sorted(missionlab.__all__)
    assert set(missionlab._LAZY) <= set(missionlab.__all__)
    assert "__version__" in missionlab.__all__


def test_public_submodules_stay_reachable_as_attributes() -> None:
    names = in_fresh_interpreter(f"[getattr(missionlab, n).__name__ for n in {PUBLIC_SUBMODULES!r}]")
    assert names == [f"missionlab.{n}" for n in PUBLIC_SUBMODULES]


def test_the_check_finds_a_leaked_helper() -> None:
    module = types.ModuleType("fake")
    module.__dict__.update(
        Client=object,
        importlib=types,
        sub=types.ModuleType("fake.sub"),
        _private=1,
        __version__="1",
        other=types.ModuleType("elsewhere"),
    )
    assert public_names(module) == {"Client", "importlib", "other", "__version__"}
    assert public_names(module, submodules=True) == {"Client", "importlib", "other", "sub", "__version__"}


def test_import_and_client_do_not_import_heavy_dependencies() -> None:
    code = (
        "import sys, missionlab\n"
        "missionlab.Client(api_key='k')\n"
        "missionlab.AsyncClient(api_key='k')\n"
        "heavy = {'pandas', 'plotly', 'ipywidgets', 'fastapi', 'uvicorn', 'starlette', 'tqdm'}\n"
        "loaded = sorted(heavy & {m.split('.')[0] for m in sys.modules})\n"
        "print(','.join(loaded))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_console_script_help() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "missionlab.cli", "sandbox", "serve", "--help"],
        capture_output=True,
        text=True,
        check=True,
    )
    for flag in ("--port", "--db", "--demo", "--token", "--speed"):
        assert flag in out.stdout
