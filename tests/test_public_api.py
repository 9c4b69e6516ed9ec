"""The public surface: what __all__ lists exists, and importing stays light."""

from __future__ import annotations

import subprocess
import sys

import missionlab


def test_all_names_exist() -> None:
    for name in missionlab.__all__:
        assert getattr(missionlab, name) is not None, name
    assert sorted(dir(missionlab)) == sorted(missionlab.__all__)


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
