"""Rules about the code itself, not its behaviour."""

from __future__ import annotations

from pathlib import Path

SOURCE = Path(__file__).parents[1] / "src" / "missionlab"
MAX_LINES = 400  # a module should read in one sitting


def test_no_module_is_longer_than_400_lines() -> None:
    modules = sorted(SOURCE.rglob("*.py"))
    assert len(modules) > 40, f"too few modules under {SOURCE}"
    lines = {
        path.relative_to(SOURCE).as_posix(): len(path.read_text(encoding="utf-8").splitlines())
        for path in modules
    }
    too_long = {name: count for name, count in lines.items() if count > MAX_LINES}
    assert not too_long, f"over {MAX_LINES} lines, split by resource or concern: {too_long}"
