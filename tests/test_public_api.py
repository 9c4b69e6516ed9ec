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

import httpx

import missionlab

ROOT = Path(__file__).parents[1]
# The names of the public submodules that the documentation and users reach as attributes.
PUBLIC_SUBMODULES = (
    "analysis",
    "client",
    "figures",
    "frames",
    "limits",
    "sandbox",
    "trace",
    "types",
    "widgets",
)
# Paths of earlier releases and where each module lives now (src/missionlab/_moved.py).
OLD_PATHS = {
    "charts": "missionlab.figures.charts",
    "models": "missionlab.client.models",
    "recorder": "missionlab.client.recorder",
    "resources": "missionlab.client.resources",
    "resources.runs": "missionlab.client.resources.runs",
    "timeline": "missionlab.figures.timeline",
    "explain": "missionlab.analysis.explain",
}


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


def test_old_module_paths_give_the_module_at_its_new_path_and_warn_once() -> None:
    # Each old path three ways (attribute, import statement, from-import), in a fresh interpreter.
    for old, new in OLD_PATHS.items():
        parent, _, leaf = old.rpartition(".")
        imported = f"from missionlab.{parent or old} import {leaf if parent else '__doc__'}"
        script = (
            "import importlib, json, warnings\n"
            "warnings.simplefilter('always')\n"
            "with warnings.catch_warnings(record=True) as caught:\n"
            "    import missionlab\n"
            f"    import missionlab.{old} as by_statement\n"
            f"    {imported} as x\n"
            f"    again = importlib.import_module('missionlab.{old}')\n"
            "print(json.dumps([by_statement.__name__, again.__name__,\n"
            "    [str(w.message) for w in caught if w.category is FutureWarning]]))\n"
        )
        command = [sys.executable, "-c", script]
        out = subprocess.run(command, capture_output=True, text=True, check=True, cwd=ROOT)
        by_statement, again, warned = json.loads(out.stdout)
        assert (by_statement, again) == (new, new)
        head = old.partition(".")[0]
        assert warned == [f"missionlab.{head} moved to {OLD_PATHS.get(head, new)}; import it from there"]


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


def test_import_alone_loads_no_client_dependencies() -> None:
    """Issue 12: ``import missionlab`` loads httpx, pydantic and the models when first used.
    Issue 20: and patches no other library's modules (httpx's CLI is httpx's own business)."""
    code = (
        "import sys, missionlab\n"
        "loaded = {m for m in sys.modules if '.' not in m}\n"
        "print(','.join(sorted(loaded & {'httpx', 'httpcore', 'pydantic', 'asyncio', 'pandas'})))\n"
        "missionlab.Client(api_key='k', base_url='http://127.0.0.1:9/v2')\n"
        "loaded = {m.split('.')[0] for m in sys.modules}\n"
        "print(','.join(sorted(loaded & {'asyncio'})))\n"
        "import httpx._main\n"
        "print(httpx._main.__spec__ is not None and httpx._main.__file__.endswith('_main.py'))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split("\n")[:3] == ["", "", "True"]


def test_a_loopback_client_builds_no_ssl_context() -> None:
    """Issue 12: every client built an SSL context (~20 ms), even for http:// URLs."""
    code = (
        "import ssl\n"
        "made = []\n"
        "real = ssl.create_default_context\n"
        "def counting(*args, **kwargs):\n"
        "    made.append(1)\n"
        "    return real(*args, **kwargs)\n"
        "ssl.create_default_context = counting\n"
        "import missionlab\n"
        "missionlab.Client(base_url='http://127.0.0.1:9/v2')\n"
        "missionlab.AsyncClient(base_url='http://127.0.0.1:9/v2')\n"
        "print(len(made))\n"
        "missionlab.Client(api_key='k', base_url='https://api.telnyx.com/v2')\n"
        "print(len(made))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["0", "1"]


def test_the_client_keeps_no_cookies() -> None:
    """The API sets none; httpx's jar took a lock on every answer, serialising fetch_all's threads."""
    sent: list[str | None] = []

    def server(request: httpx.Request) -> httpx.Response:
        sent.append(request.headers.get("cookie"))
        return httpx.Response(
            200, json={"data": [], "meta": None}, headers={"set-cookie": "session=abc; Path=/"}
        )

    client = missionlab.Client(base_url="http://mock/v2", transport=httpx.MockTransport(server))
    client.missions.list()
    client.missions.list()
    assert sent == [None, None] and len(client._http.cookies) == 0


def test_frames_are_made_through_the_registered_converter(client: missionlab.Client) -> None:
    """The client layer imports no pandas: ``to_frame`` goes through ``missionlab/__init__``'s hook."""
    page = client.missions.list(page_size=3)
    frame = page.to_frame()
    assert list(frame["mission_id"]) == [m.mission_id for m in page.data]
    assert page.data[0].to_frame()["mission_id"].iloc[0] == page.data[0].mission_id
