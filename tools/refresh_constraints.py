"""Refresh constraints.txt: the exact versions the whole suite last passed with.

    python tools/refresh_constraints.py          # newest releases; write the file only if green
    python tools/refresh_constraints.py --keep   # keep the temporary environment for a look

It builds a fresh virtual environment, installs missionlab with every extra at the
newest versions the package's own ranges allow, runs what CI runs (the test suite,
ruff, mypy and the docs build), and only when all of that passes writes ``pip freeze``
of that environment to ``constraints.txt`` and moves the pre-commit hooks' pins
(``.pre-commit-config.yaml``) to the same versions. The README's test command, ``.ci/run`` and
Binder install through that file, so an upstream release changes nothing until
this script has run the suite with it.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CONSTRAINTS = ROOT / "constraints.txt"
PRE_COMMIT = ROOT / ".pre-commit-config.yaml"


def run(command: list[str], **kwargs: object) -> None:
    print("+", " ".join(command), flush=True)
    subprocess.run(command, check=True, cwd=ROOT, **kwargs)  # type: ignore[call-overload]


def extras() -> list[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return sorted(project.get("optional-dependencies", {}))


def pin_pre_commit_hooks(pins: list[str]) -> None:
    """Give every ``"NAME==VERSION"`` in the pre-commit config the version just frozen."""
    versions = {re.sub(r"[-_.]+", "-", pin.split("==")[0]).lower(): pin for pin in pins if "==" in pin}

    def repin(match: re.Match[str]) -> str:
        pin = versions.get(re.sub(r"[-_.]+", "-", match[1]).lower())
        return f'"{pin}"' if pin else match[0]

    PRE_COMMIT.write_text(re.sub(r'"([A-Za-z0-9_.-]+)==[^"]+"', repin, PRE_COMMIT.read_text()))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", action="store_true", help="keep the temporary environment")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="missionlab-constraints-"))
    venv = work / "venv"
    python = str(venv / "bin" / "python")
    try:
        run([sys.executable, "-m", "venv", str(venv)])
        run([python, "-m", "pip", "install", "--quiet", "--upgrade", "pip"])
        run([python, "-m", "pip", "install", "--quiet", "--upgrade", "-e", f".[{','.join(extras())}]"])
        env = {**os.environ, "PATH": f"{venv / 'bin'}{os.pathsep}{os.environ['PATH']}"}
        env.pop("TELNYX_API_KEY", None)
        try:
            run([python, "-m", "pytest", "-q", "-p", "no:cacheprovider"], env=env)
            run([python, "-m", "ruff", "check", "src", "tests", "tools", "bench"], env=env)
            run([python, "-m", "ruff", "format", "--check", "src", "tests", "tools", "bench"], env=env)
            run([python, "-m", "mypy"], env=env)
            run([python, "-m", "sphinx", "-n", "-W", "-q", "-b", "html", "docs", str(work / "docs")], env=env)
        except subprocess.CalledProcessError:
            print(
                "\nThe suite failed with the newest releases: constraints.txt is unchanged.", file=sys.stderr
            )
            return 1
        frozen = subprocess.run(
            [python, "-m", "pip", "freeze", "--exclude-editable"], check=True, capture_output=True, text=True
        ).stdout
        pins = sorted(
            (line for line in frozen.splitlines() if line and not line.startswith("#")), key=str.lower
        )
        header = [
            "# The exact versions the whole test suite, ruff and mypy last passed with.",
            "# Written by tools/refresh_constraints.py; do not edit by hand.",
            f"# {dt.date.today().isoformat()}, Python {platform.python_version()}, "
            f"{platform.machine()}, extras: {', '.join(extras())}",
        ]
        CONSTRAINTS.write_text("\n".join(header + pins) + "\n")
        pin_pre_commit_hooks(pins)
        print(f"\nWrote {len(pins)} pins to {CONSTRAINTS.relative_to(ROOT)}.")
        return 0
    finally:
        if args.keep:
            print(f"The environment is kept in {venv}")
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
