"""The labelled scenario corpus (tests/data/scenarios, written by tools/make_scenarios.py):
each labelled run's top finding, the findings it must not have, and compare's first
divergence with the automatic baseline; no warning or error finding on a normal run."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import missionlab
from missionlab.analysis.compare import compare
from missionlab.analysis.explain import explain
from missionlab.trace import RunTrace

HERE = Path(__file__).parent / "data" / "scenarios"
EXPECTED = json.loads((HERE / "expected.json").read_text(encoding="utf-8"))
LABELS = {label["name"]: label for label in EXPECTED["runs"]}


@pytest.fixture(scope="module")
def fleet() -> list[RunTrace]:
    return [missionlab.open_run(HERE / name) for name in EXPECTED["fleet"]]


@pytest.fixture(scope="module")
def history(fleet: list[RunTrace]) -> pd.DataFrame:
    return pd.concat([run.steps_frame for run in fleet], ignore_index=True)


def test_the_corpus_is_what_its_generator_writes() -> None:
    import subprocess
    import sys

    tool = Path(__file__).parent.parent / "tools" / "make_scenarios.py"
    done = subprocess.run([sys.executable, str(tool), "--check"], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert len(LABELS) >= 30 and len(EXPECTED["fleet"]) >= 20
    assert sum(path.stat().st_size for path in HERE.iterdir()) < 4_000_000


@pytest.mark.parametrize("name", sorted(LABELS))
def test_explain_tells_the_labelled_cause_first(name: str, history: pd.DataFrame) -> None:
    label: dict[str, Any] = LABELS[name]
    trace = missionlab.open_run(HERE / label["file"])
    explanation = explain(trace, baseline=history, now=pd.Timestamp(label["now"]))
    top = (explanation[0].kind, explanation[0].step_id) if len(explanation) else None
    expected = None if label["top"] is None else (label["top"]["kind"], label["top"]["step"])
    assert top == expected, str(explanation)
    told = {finding.kind for finding in explanation} | {finding.check for finding in explanation}
    assert not told & set(label["absent"]), str(explanation)


@pytest.mark.parametrize("name", sorted(LABELS))
def test_compare_finds_the_labelled_divergence(name: str, fleet: list[RunTrace]) -> None:
    label: dict[str, Any] = LABELS[name]
    trace = missionlab.open_run(HERE / label["file"])
    comparison = compare(trace, among=fleet)
    d = comparison.divergence
    got = None if d is None else (d.kind, d.step_id)
    expected = (
        None if label["divergence"] is None else (label["divergence"]["kind"], label["divergence"]["step"])
    )
    assert got == expected, str(comparison)
    assert comparison.baseline.run.status == "succeeded"
    assert "usage" in comparison.ignored and "cost_usd" in comparison.ignored


def test_a_normal_run_gets_no_warning_or_error(fleet: list[RunTrace], history: pd.DataFrame) -> None:
    flagged = {}
    for run in fleet:
        others = history[history["run_id"] != str(run.run.run_id)]
        assert run.run.finished_at is not None and run.run.metadata is not None
        found = explain(run, baseline=others, now=pd.Timestamp(run.run.finished_at) + pd.Timedelta(hours=1))
        if len(found):
            flagged[run.run.metadata["scenario"]] = str(found)
    assert flagged == {}


def test_the_typical_baseline_is_never_an_outlier(fleet: list[RunTrace]) -> None:
    slow = missionlab.open_run(HERE / "slow-search.json")
    skipped = missionlab.open_run(HERE / "skipped-compare.json")
    comparison = compare(missionlab.open_run(HERE / "fail-after-retries.json"), among=[*fleet, slow, skipped])
    assert comparison.baseline.run.run_id not in {slow.run.run_id, skipped.run.run_id}
    assert comparison.reason.startswith("the most typical of 26 succeeded runs")
