"""The development tools agree with each other: pre-commit's pins are constraints.txt's."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

ROOT = Path(__file__).parents[1]


def normalized(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def constraint_pins(text: str) -> dict[str, str]:
    pins = (line.split("==", 1) for line in text.splitlines() if "==" in line and not line.startswith("#"))
    return {normalized(name): version.strip() for name, version in pins}


def hook_pins(config: str) -> dict[str, str]:
    """``{package: version}`` of every ``NAME==VERSION`` in the hooks' additional_dependencies."""
    pins: dict[str, str] = {}
    for repo in yaml.safe_load(config)["repos"]:
        for hook in repo["hooks"]:
            for requirement in hook.get("additional_dependencies", []):
                name, _, version = requirement.partition("==")
                assert version, f"hook {hook['id']}: pin {requirement!r} to constraints.txt's version"
                pins[normalized(name)] = version
    return pins


def mismatches(config: str, constraints: str) -> dict[str, tuple[str, str | None]]:
    pinned = constraint_pins(constraints)
    return {
        name: (version, pinned.get(name))
        for name, version in hook_pins(config).items()
        if pinned.get(name) != version
    }


def test_pre_commit_hooks_use_the_constrained_versions() -> None:
    config = (ROOT / ".pre-commit-config.yaml").read_text()
    assert hook_pins(config), "no pinned hook found"
    assert mismatches(config, (ROOT / "constraints.txt").read_text()) == {}


def test_a_hook_pinned_elsewhere_is_found() -> None:
    config = "repos:\n- repo: local\n  hooks:\n  - id: ruff\n    additional_dependencies: ['ruff==0.0.1']\n"
    assert mismatches(config, "ruff==0.17.6\n") == {"ruff": ("0.0.1", "0.17.6")}
