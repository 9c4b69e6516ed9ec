"""bench/run_all.py rewrites the top of docs/benchmarks.md and keeps the sections below its marker."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))

import run_all

ROOT = Path(__file__).resolve().parents[1]


def test_the_report_keeps_everything_below_the_marker(tmp_path: Path) -> None:
    kept = "\n## Fleet questions (by hand)\n\n| a | b |\n|---|---|\n| 1 | 2 |\n"
    report = tmp_path / "benchmarks.md"
    report.write_text("# Benchmarks\n\nold generated table\n\n" + run_all.KEPT + kept)

    assert run_all.kept_sections(report) == run_all.KEPT + kept


def test_a_report_without_the_marker_or_missing_keeps_nothing(tmp_path: Path) -> None:
    report = tmp_path / "benchmarks.md"
    assert run_all.kept_sections(report) == ""
    report.write_text("# Benchmarks\n\nall generated\n")
    assert run_all.kept_sections(report) == ""


def test_the_committed_report_has_the_marker_once() -> None:
    text = (ROOT / "docs" / "benchmarks.md").read_text()
    assert text.count(run_all.KEPT) == 1
    # the hand-made sections that no run of run_all.py writes sit below it
    below = text.partition(run_all.KEPT)[2]
    for heading in ("## Fleet questions", "## Big run capsules", "## explain and compare"):
        assert heading in below
