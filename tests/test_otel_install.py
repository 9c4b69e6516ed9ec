"""The OpenTelemetry bridge is an extra: only missionlab.otel imports the OpenTelemetry SDK (an
import-linter contract in pyproject.toml), and the rest of missionlab works without it."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from tests.test_layers import ROOT, SOURCE, lint_imports


def test_nothing_outside_otel_imports_opentelemetry_even_lazily(tmp_path: Path) -> None:
    copy = tmp_path / "src" / "missionlab"
    shutil.copytree(SOURCE, copy, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    with (copy / "analysis" / "rollup.py").open("a") as rollup:  # a lazy import in a lower layer
        rollup.write("\n\ndef _injected() -> None:\n    import opentelemetry.trace  # noqa\n")
    with (copy / "widgets" / "tables.py").open("a") as tables:  # the layer above reaching otel
        tables.write("\n\ndef _injected() -> None:\n    import missionlab.otel  # noqa\n")

    result = lint_imports(tmp_path, pythonpath=tmp_path / "src")

    assert result.returncode != 0
    assert "missionlab.analysis is not allowed to import opentelemetry" in result.stdout, result.stdout
    assert "missionlab.widgets is not allowed to import missionlab.otel" in result.stdout, result.stdout


def test_missionlab_works_with_opentelemetry_missing() -> None:
    """Without the otel extra's packages (the SDK, the OTLP exporter, OpenInference's
    conventions: their import refused), missionlab, a client, frames and the sandbox still
    import; missionlab.otel says which extra to install. (The OpenTelemetry API itself comes
    with FastAPI, which the sandbox needs.)"""
    code = (
        "import sys\n"
        "class Refuse:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.startswith(('opentelemetry.sdk', 'opentelemetry.exporter', 'openinference')):\n"
        "            raise ImportError(f'No module named {name!r}', name=name)\n"
        "sys.meta_path.insert(0, Refuse())\n"
        "import missionlab, missionlab.frames, missionlab.sandbox, missionlab.analysis.explain\n"
        "missionlab.Client(api_key='k')\n"
        "try:\n"
        "    import missionlab.otel\n"
        "except ImportError as error:\n"
        "    print(error)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert 'pip install "missionlab[otel]"' in out.stdout, out.stdout + out.stderr
