"""How right explain() and compare() are on the labelled scenario corpus (tests/data/scenarios).

    python bench/explain_accuracy.py

Prints top-1 accuracy of explain (kind and step of the first finding, or no finding above
info where the label says so), precision and recall per finding kind (a finding of a kind
counts as right on a run whose label has that kind on top or does not forbid it; a label's
top kind missing is a miss), false findings (warning or error severity) per clean run of the
corpus fleet (each judged against the other fleet runs as its baseline), and compare's first
divergence with the automatic baseline (the most typical fleet run).

Then the demo fleet (``Sandbox(demo=True)``, read over HTTP like any API): each run's
``metadata["demo"]["planted"]`` says what the demo did to it on purpose. On the unremarkable
runs (nothing planted) it counts warning/error findings per run (target: at most 1 per 20);
on the runs made slow on purpose, whether a ``slow_step`` finding (or the silence inside the
step, told instead) names the planted step;
on the runs made to fail, whether the top finding is the planted step's failure. Each run is
judged against the mission's other succeeded runs as its baseline, an hour after it ended.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pandas as pd

import missionlab
from missionlab.analysis.compare import compare
from missionlab.analysis.explain import explain
from missionlab.sandbox import Sandbox
from missionlab.trace import load_run

SLOWNESS = {"slow_step", "silent_gap"}  # a silence inside a slow step is told instead of it
CORPUS = Path(__file__).resolve().parent.parent / "tests" / "data" / "scenarios"


def main() -> None:
    expected = json.loads((CORPUS / "expected.json").read_text(encoding="utf-8"))
    fleet = [missionlab.open_run(CORPUS / name) for name in expected["fleet"]]
    history = pd.concat([run.steps_frame for run in fleet], ignore_index=True)
    right_top = right_compare = 0
    found_kinds: Counter[str] = Counter()
    true_kinds: Counter[str] = Counter()
    wanted_kinds: Counter[str] = Counter()
    for label in expected["runs"]:
        trace = missionlab.open_run(CORPUS / label["file"])
        explanation = explain(trace, baseline=history, now=pd.Timestamp(label["now"]))
        top = (explanation[0].kind, explanation[0].step_id) if len(explanation) else None
        want = None if label["top"] is None else (label["top"]["kind"], label["top"]["step"])
        right_top += top == want
        kinds = {finding.kind for finding in explanation}
        for kind in kinds:
            found_kinds[kind] += 1
            true_kinds[kind] += kind not in label["absent"] and (want is not None or kind == "inconsistency")
        if want is not None:
            wanted_kinds[want[0]] += 1
        d = compare(trace, among=fleet).divergence
        got = None if d is None else (d.kind, d.step_id)
        label_d = label["divergence"]
        right_compare += got == (None if label_d is None else (label_d["kind"], label_d["step"]))
    false_findings = 0
    for run in fleet:
        others = history[history["run_id"] != str(run.run.run_id)]
        now = pd.Timestamp(str(run.run.finished_at)) + pd.Timedelta(hours=1)
        false_findings += len(explain(run, baseline=others, now=now))
    labelled = len(expected["runs"])
    print(f"corpus: {labelled} labelled runs, {len(fleet)} clean fleet runs")
    print(f"{'measure':44s} {'value':>10s}")
    print(f"{'explain top-1 (kind and step)':44s} {right_top:>5d}/{labelled:<4d}")
    print(f"{'compare first divergence (automatic baseline)':44s} {right_compare:>5d}/{labelled:<4d}")
    per_run = false_findings / len(fleet)
    print(f"{'warning/error findings per clean run':44s} {per_run:>10.3f}")
    print()
    print(f"{'kind':16s} {'found':>6s} {'precision':>10s} {'recall':>8s}")
    for kind in sorted(set(found_kinds) | set(wanted_kinds)):
        precision = true_kinds[kind] / found_kinds[kind] if found_kinds[kind] else float("nan")
        recall = min(1.0, true_kinds[kind] / wanted_kinds[kind]) if wanted_kinds[kind] else float("nan")
        print(f"{kind:16s} {found_kinds[kind]:>6d} {precision:>10.2f} {recall:>8.2f}")
    print()
    demo_fleet()


def demo_fleet() -> None:
    """Findings on the demo's unremarkable runs, and on the runs it made slow or failing."""
    with Sandbox(demo=True) as sandbox:
        client = sandbox.client()
        traces = []
        for mission in client.missions.list(page_size=100).data:
            for run in client.missions.runs.list(mission.mission_id, page_size=100).fetch_all():
                planted = (run.metadata or {}).get("demo", {}).get("planted")
                if planted is not None:  # the live run has no label
                    traces.append((load_run(client, mission.mission_id, run.run_id), list(planted)))
    history: dict[str, list[pd.DataFrame]] = {}
    for trace, _ in traces:
        if trace.run.status == "succeeded":
            history.setdefault(str(trace.run.mission_id), []).append(trace.steps_frame)
    steps = {mission: pd.concat(frames, ignore_index=True) for mission, frames in history.items()}
    clean = clean_findings = slow_runs = slow_found = failed_runs = failed_top = 0
    noisy: Counter[str] = Counter()
    for trace, planted in traces:
        run_id = str(trace.run.run_id)
        ended = trace.events_frame["timestamp"].max() if len(trace.events) else trace.run.started_at
        now = pd.Timestamp(str(ended)) + pd.Timedelta(hours=1)
        mission_steps = steps[str(trace.run.mission_id)]
        others = mission_steps[mission_steps["run_id"] != run_id]
        explanation = explain(trace, baseline=others, now=now)
        if not planted:
            clean += 1
            clean_findings += len(explanation)
            noisy.update(finding.kind for finding in explanation)
        for mark in planted:
            kind, _, step = mark.partition(":")
            if kind == "slow":
                slow_runs += 1
                slow_found += any(f.kind in SLOWNESS and f.step_id == step for f in explanation)
            elif kind == "failed":
                failed_runs += 1
                failed_top += len(explanation) > 0 and explanation[0].step_id == step
    print(f"demo fleet: {len(traces)} runs, {clean} unremarkable (nothing planted)")
    print(f"{'measure':44s} {'value':>10s}")
    print(f"{'warning/error findings per unremarkable run':44s} {clean_findings / clean:>10.3f}")
    print(f"{'planted slow steps told (slow or silent)':44s} {slow_found:>5d}/{slow_runs:<4d}")
    print(f"{'planted failures on top (step)':44s} {failed_top:>5d}/{failed_runs:<4d}")
    for kind, count in sorted(noisy.items()):
        print(f"  on unremarkable runs: {kind} x{count}")


if __name__ == "__main__":
    main()
