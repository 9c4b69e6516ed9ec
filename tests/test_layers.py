"""The layers of docs/architecture.md hold: import-linter checks the contracts declared in
pyproject.toml (``[tool.importlinter]``), as CI does with ``lint-imports``.

The contracts count every import statement: at module level, inside a function (a lazy
import is still an arrow) and under ``if TYPE_CHECKING:`` (a type-only cycle is still a
cycle). The second test shows that they catch each kind on a copy of the package.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).parents[1]
SOURCE = ROOT / "src" / "missionlab"


def lint_imports(cwd: Path, pythonpath: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(pythonpath)} if pythonpath else None
    command = [sys.executable, "-m", "importlinter.cli", "--no-cache"]
    if shutil.which("lint-imports"):
        command = ["lint-imports", "--no-cache"]
    return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, check=False)


def test_the_layer_contracts_are_kept() -> None:
    result = lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout, result.stdout


def test_the_contracts_catch_a_lazy_upward_import_and_a_type_only_cycle(tmp_path: Path) -> None:
    copy = tmp_path / "src" / "missionlab"
    shutil.copytree(SOURCE, copy, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    with (copy / "client" / "models.py").open("a") as models:  # the client reaching the widgets
        models.write("\n\ndef _injected() -> None:\n    import missionlab.widgets.explorer  # noqa\n")
    with (copy / "frames" / "_jsontext.py").open("a") as text:  # _columns imports _jsontext already
        text.write("\nfrom typing import TYPE_CHECKING\n\nif TYPE_CHECKING:\n    from . import _columns\n")

    result = lint_imports(tmp_path, pythonpath=tmp_path / "src")

    assert result.returncode != 0
    assert "missionlab.client.models -> missionlab.widgets.explorer" in result.stdout, result.stdout
    assert "missionlab.client is not allowed to import missionlab.widgets" in result.stdout
    assert "No cycles are allowed in missionlab.frames" in result.stdout
    assert "._jsontext -> ._columns" in result.stdout or "._columns -> ._jsontext" in result.stdout
