"""Labels on runs (issue 25): kept in the run's metadata on the server, read back by another
client, in frames, in a synced history, and filtered in the explorer's runs list."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import missionlab
from missionlab import InvalidArgumentError, fetch_frames, history, load_run, to_frame
from missionlab._wire.labels import LabelMetadataError
from missionlab.sandbox import Sandbox
from missionlab.widgets import Explorer, RunsPanel

from .test_widget_code import run_snippet, shown_code


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    with Sandbox() as sb:
        yield sb


def make_run(
    client: missionlab.Client, mission_id: str, n: int, metadata: dict[str, Any] | None = None
) -> str:
    """A finished run with a two-step plan and a few events."""
    runs = client.missions.runs
    run_id = runs.create(mission_id, input={"n": n}, metadata=metadata).data.run_id
    steps = [
        {"step_id": "a", "description": "look up", "sequence": 1},
        {"step_id": "b", "description": "refund", "sequence": 2},
    ]
    runs.plan.create(run_id, mission_id=mission_id, steps=steps)
    for step in ("a", "b"):
        runs.plan.update_step(step, run_id=run_id, mission_id=mission_id, status="in_progress")
        runs.events.log(run_id, mission_id=mission_id, type="tool_call", summary=f"call {step}", step_id=step)
        runs.plan.update_step(step, run_id=run_id, mission_id=mission_id, status="completed")
    runs.update(run_id, mission_id=mission_id, status="failed" if n % 2 else "succeeded")
    return run_id


@pytest.fixture(scope="module")
def fleet(sandbox: Sandbox) -> tuple[str, list[str]]:
    """A mission of its own and four finished runs (the first with metadata of its own)."""
    with sandbox.client() as client:
        mission_id = client.missions.create(name="refunds").data.mission_id
        run_ids = [make_run(client, mission_id, n, {"team": "billing"} if n == 0 else None) for n in range(4)]
    return mission_id, run_ids


def test_a_label_is_kept_on_the_server_and_read_back_by_another_client(
    sandbox: Sandbox, fleet: tuple[str, list[str]]
) -> None:
    mission_id, run_ids = fleet
    with sandbox.client() as client, sandbox.client() as other:  # mine and a teammate's
        trace = load_run(client, mission_id, run_ids[0])
        assert trace.labels == []
        assert trace.label("wrong-refund", note="refunded twice") == ["wrong-refund"]
        assert trace.label("slow") == ["wrong-refund", "slow"]
        run = other.missions.runs.retrieve(run_ids[0], mission_id=mission_id).data
        assert run.metadata is not None and run.metadata["team"] == "billing"  # the run's own metadata kept
        entries = run.metadata["missionlab"]["labels"]
        assert [(e["label"], e.get("note")) for e in entries] == [
            ("wrong-refund", "refunded twice"),
            ("slow", None),
        ]
        assert load_run(other, mission_id, run_ids[0]).labels == ["wrong-refund", "slow"]
        # The teammate adds one; the first trace, loaded before, adds another: both are kept.
        load_run(other, mission_id, run_ids[0]).label("checked")
        assert trace.label("escalated") == ["wrong-refund", "slow", "checked", "escalated"]
        assert trace.unlabel("slow") == ["wrong-refund", "checked", "escalated"]
        assert trace.unlabel("checked") == ["wrong-refund", "escalated"]
        assert trace.unlabel("escalated") == ["wrong-refund"]
        assert load_run(other, mission_id, run_ids[0]).labels == ["wrong-refund"]
        assert "wrong-refund" in trace._card_html()


def test_labelling_is_idempotent_and_a_new_note_replaces_the_old(
    sandbox: Sandbox, fleet: tuple[str, list[str]]
) -> None:
    mission_id, run_ids = fleet
    with sandbox.client() as client:
        trace = load_run(client, mission_id, run_ids[1])
        trace.label("flaky", note="first note")
        before = client.missions.runs.retrieve(run_ids[1], mission_id=mission_id).data
        assert trace.label("flaky") == ["flaky"]  # no note: the label as it stands
        assert trace.label("flaky", note="first note") == ["flaky"]
        after = client.missions.runs.retrieve(run_ids[1], mission_id=mission_id).data
        assert after.updated_at == before.updated_at  # nothing was sent
        trace.label("flaky", note="second note")
        metadata = client.missions.runs.retrieve(run_ids[1], mission_id=mission_id).data.metadata
        assert metadata is not None
        entries = metadata["missionlab"]["labels"]
        assert [(e["label"], e["note"]) for e in entries] == [("flaky", "second note")]
        assert trace.unlabel("never-there") == ["flaky"]
        trace.unlabel("flaky")
        assert client.missions.runs.retrieve(run_ids[1], mission_id=mission_id).data.metadata == {
            "missionlab": {"labels": []}
        }


@pytest.mark.parametrize(
    ("label", "problem"),
    [
        ("", "cannot be empty"),
        ("wrong refund", "' ' is not allowed"),
        ("-leading", "'-' is not allowed"),
        ("x" * 65, "at most 64 characters, this one has 65"),
        ("café", "'é' is not allowed"),
        ("a,b", "',' is not allowed"),
        ("<b>", "'<' is not allowed"),
        (7, "expected a string, got int"),
        (None, "expected a string, got NoneType"),
    ],
)
def test_a_bad_label_is_refused_before_anything_is_sent(
    sandbox: Sandbox, fleet: tuple[str, list[str]], label: Any, problem: str
) -> None:
    mission_id, run_ids = fleet
    with sandbox.client() as client:
        trace = load_run(client, mission_id, run_ids[2])
        before = client.missions.runs.retrieve(run_ids[2], mission_id=mission_id).data
        with pytest.raises(InvalidArgumentError, match="invalid argument `label`") as caught:
            trace.label(label)
        assert problem in str(caught.value)
        with pytest.raises(InvalidArgumentError, match="invalid argument `label`"):
            trace.unlabel(label)
        after = client.missions.runs.retrieve(run_ids[2], mission_id=mission_id).data
        assert after.updated_at == before.updated_at and after.metadata == before.metadata


def test_a_bad_note_and_a_trace_without_a_client_are_refused(
    sandbox: Sandbox, fleet: tuple[str, list[str]], tmp_path: Path
) -> None:
    mission_id, run_ids = fleet
    with sandbox.client() as client:
        trace = load_run(client, mission_id, run_ids[2])
        with pytest.raises(InvalidArgumentError, match="invalid argument `note`: a note has at most 1000"):
            trace.label("ok", note="n" * 1001)
        with pytest.raises(
            InvalidArgumentError, match="invalid argument `note`: expected a string, got dict"
        ):
            trace.label("ok", note={"a": 1})  # type: ignore[arg-type]
        opened = missionlab.open_run(trace.save(tmp_path / "run.json"))
        with pytest.raises(InvalidArgumentError, match="opened from a capsule"):
            opened.label("ok")
        assert opened.label("from-capsule", client=client) == ["from-capsule"]
        assert load_run(client, mission_id, run_ids[2]).labels == ["from-capsule"]
        assert opened.unlabel("from-capsule", client=client) == []


def test_other_data_under_the_labels_key_is_never_overwritten(sandbox: Sandbox) -> None:
    with sandbox.client() as client:
        mission_id = client.missions.create(name="theirs").data.mission_id
        run_id = make_run(client, mission_id, 1, {"missionlab": "a value of theirs"})
        trace = load_run(client, mission_id, run_id)
        assert trace.labels == []  # read tolerantly
        with pytest.raises(LabelMetadataError, match="not overwritten"):
            trace.label("mine")
        assert isinstance(LabelMetadataError("x"), missionlab.MissionlabError)
        run = client.missions.runs.retrieve(run_id, mission_id=mission_id).data
        assert run.metadata == {"missionlab": "a value of theirs"}


def labelled_runs(sandbox: Sandbox) -> tuple[str, dict[str, list[str]]]:
    """A mission with five runs, three of them labelled: the labels each run carries."""
    with sandbox.client() as client:
        mission_id = client.missions.create(name="labelled fleet").data.mission_id
        run_ids = [make_run(client, mission_id, n) for n in range(5)]
        expected: dict[str, list[str]] = {run_id: [] for run_id in run_ids}
        for run_id, labels in zip(
            run_ids, [["wrong-refund"], [], ["wrong-refund", "slow"], ["slow"], []], strict=True
        ):
            trace = load_run(client, mission_id, run_id)
            for label in labels:
                trace.label(label)
            expected[run_id] = labels
    return mission_id, expected


def test_labels_are_a_column_of_the_runs_frames(sandbox: Sandbox) -> None:
    mission_id, expected = labelled_runs(sandbox)
    with sandbox.client() as client:
        fetched = fetch_frames(client, mission_id=mission_id, events=False).runs
        assert dict(zip(fetched["run_id"], fetched["labels"].tolist(), strict=True)) == expected
        framed = to_frame(client.missions.runs.list(mission_id, page_size=100))
        assert dict(zip(framed["run_id"], framed["labels"].tolist(), strict=True)) == expected
        wrong = fetched[fetched["labels"].map(lambda labels: "wrong-refund" in labels)]
        assert set(wrong["run_id"]) == {r for r, labels in expected.items() if "wrong-refund" in labels}
        trace = load_run(client, mission_id, next(iter(expected)))
        assert trace.run_frame["labels"].tolist() == [expected[trace.run.run_id]]


def test_labels_are_a_column_of_a_synced_history(sandbox: Sandbox, tmp_path: Path) -> None:
    mission_id, expected = labelled_runs(sandbox)
    with sandbox.client() as client:
        h = history(client, tmp_path / "h")
        h.sync(progress=False)
        runs = h.runs(mission=mission_id)
        assert dict(zip(runs["run_id"], runs["labels"].tolist(), strict=True)) == expected
        slow = h.sql(
            f"SELECT run_id FROM runs WHERE mission_id = '{mission_id}' AND list_contains(labels, 'slow')"
        )
        assert set(slow["run_id"]) == {r for r, labels in expected.items() if "slow" in labels}
        # A label added to a finished run after the sync: a full sync reads every run again.
        unlabelled = next(r for r, labels in expected.items() if not labels)
        load_run(client, mission_id, unlabelled).label("late")
        h.sync(full=True, progress=False)
        runs = h.runs(mission=mission_id)
        assert dict(zip(runs["run_id"], runs["labels"].tolist(), strict=True)) == {
            **expected,
            unlabelled: ["late"],
        }


def test_the_runs_list_filters_by_label(sandbox: Sandbox) -> None:
    mission_id, expected = labelled_runs(sandbox)
    wanted = [r for r, labels in expected.items() if "wrong-refund" in labels]
    with sandbox.client() as client:
        panel = RunsPanel(client, mission_id, page_size=1)
        try:
            assert len(panel.runs) == 1 and panel.pager.total_pages == 5
            newest = panel.runs[0].run_id  # the last one made, unlabelled: no labels column
            assert expected[newest] == [] and "labels" not in panel.frame()
            panel.label.value = "wrong-refund"
            assert panel.notice.text == ""
            shown = [panel.runs[0].run_id]
            assert panel.pager.total_pages == len(wanted) == 2
            panel.pager.next_button.click()
            shown.append(panel.runs[0].run_id)
            snippet = run_snippet(shown_code(panel), client)  # "Show code" gives the page on screen
            assert snippet["run_id"].tolist() == [shown[1]]
            assert sorted(shown) == sorted(wanted)
            assert panel.frame()["labels"].tolist() == [", ".join(expected[shown[1]])]
            panel.label.value = "slow"
            panel.status.value = "failed"  # with the server's status filter
            failed = {
                r.run_id for r in client.missions.runs.list(mission_id, status="failed", page_size=100).data
            }
            slow_and_failed = [r for r, labels in expected.items() if "slow" in labels and r in failed]
            assert len(slow_and_failed) == 1 and [r.run_id for r in panel.runs] == slow_and_failed
            assert panel.pager.total_pages == 1
            panel.status.value = ""
            panel.label.value = "no such label"
            assert "invalid argument `label`" in panel.notice.text and panel.runs == []
            panel.label.value = "nobody-has-it"
            assert panel.runs == [] and panel.notice.text == ""
            panel.label.value = ""
            assert len(panel.runs) == 1 and panel.pager.total_pages == 5
        finally:
            panel.close()


def test_the_explorer_shows_only_the_labelled_runs(sandbox: Sandbox) -> None:
    mission_id, expected = labelled_runs(sandbox)
    with sandbox.client() as client:
        explorer = Explorer(client)
        try:
            explorer.missions.select(client.missions.retrieve(mission_id).data)
            assert len(explorer.runs.runs) == 5
            explorer.runs.label.value = "slow"
            assert {r.run_id for r in explorer.runs.runs} == {
                r for r, labels in expected.items() if "slow" in labels
            }
            html = explorer.runs.snapshot_html()
            assert "slow" in html and "wrong-refund" in html
        finally:
            explorer.close()
