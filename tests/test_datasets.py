"""Datasets (issue 25): runs saved as capsules plus an index, reopened with open_run and
open_dataset, served again with ``serve --load DIR``; written all at once and only inside
their folder; an index naming a file outside it is refused."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import missionlab
from missionlab import DatasetError, cli, dataset, fetch_frames, load_run, open_dataset, open_run
from missionlab.sandbox import Sandbox, Store
from missionlab.sandbox.capsules import CapsuleLoadError, load_capsules
from missionlab.trace import RunTrace


@pytest.fixture(scope="module")
def source() -> Iterator[missionlab.Client]:
    with Sandbox(demo=True, speed=100_000) as sb, sb.client() as client:
        yield client


@pytest.fixture(scope="module")
def traces(source: missionlab.Client) -> list[RunTrace]:
    """Two failed runs and a succeeded one of the demo, the first labelled."""
    runs = source.missions.runs.list_runs(page_size=1000).fetch_all(progress=False)
    failed = [r for r in runs if r.status == "failed"][:2]
    succeeded = [r for r in runs if r.status == "succeeded"][:1]
    picked = [load_run(source, r.mission_id, r.run_id) for r in [*failed, *succeeded]]
    picked[0].label("wrong-refund", note="refunded twice")
    assert all(t.events and t.steps for t in picked)
    return picked


def wire(items: list[Any]) -> list[dict[str, Any]]:
    return [item.model_dump(mode="json") for item in items]


def same_run(opened: RunTrace, original: RunTrace) -> None:
    """Every step and event equal, and the run and its mission."""
    assert wire(opened.steps) == wire(original.steps)
    assert wire(opened.events) == wire(original.events)
    assert opened.run.model_dump(mode="json") == original.run.model_dump(mode="json")
    assert opened.mission is not None and original.mission is not None
    assert opened.mission.mission_id == original.mission.mission_id


def test_a_dataset_round_trips_through_open_dataset_and_open_run(
    traces: list[RunTrace], tmp_path: Path
) -> None:
    saved = dataset(traces, tmp_path / "ds")
    assert len(saved) == 3 and saved.run_ids == [t.run.run_id for t in traces]
    index = json.loads((tmp_path / "ds" / "dataset.json").read_text())
    assert index["format"] == "missionlab-dataset" and index["version"] == 1 and index["capsule_version"] == 1
    assert [
        (e["run_id"], e["mission_id"], e["mission"], e["status"], e["labels"]) for e in index["runs"]
    ] == [
        (t.run.run_id, t.run.mission_id, t.mission.name if t.mission else None, str(t.run.status), t.labels)
        for t in traces
    ]
    assert index["runs"][0]["labels"] == ["wrong-refund"]
    assert sorted(p.name for p in (tmp_path / "ds").iterdir()) == sorted(
        ["dataset.json", *(e["file"] for e in index["runs"])]
    )  # nothing else left behind
    reopened = open_dataset(tmp_path / "ds")
    for original, opened, file in zip(traces, reopened, reopened.files, strict=True):
        same_run(opened, original)
        same_run(open_run(file), original)
    same_run(reopened[traces[1].run.run_id], traces[1])
    assert reopened.frame()["labels"].tolist() == [t.labels for t in traces]
    assert repr(reopened) == f"<Dataset {tmp_path / 'ds'}: 3 runs>"


def test_a_dataset_of_runs_a_client_loads(
    source: missionlab.Client, traces: list[RunTrace], tmp_path: Path
) -> None:
    frame = fetch_frames(source, events=False).runs
    wanted = frame[frame["run_id"].isin([t.run.run_id for t in traces])]
    saved = dataset(wanted, tmp_path / "from-frame", client=source)
    assert saved.run_ids == wanted["run_id"].tolist()
    by_id = {t.run.run_id: t for t in traces}
    for opened in saved:
        same_run(opened, by_id[opened.run.run_id])
    with pytest.raises(TypeError, match="pass client="):
        dataset(wanted, tmp_path / "no-client")
    assert not (tmp_path / "no-client").exists()


def test_a_dataset_is_served_again_by_serve_load_dir(traces: list[RunTrace], tmp_path: Path) -> None:
    dataset(traces, tmp_path / "ds")
    with Sandbox(load=[tmp_path / "ds"]) as served, served.client() as client:
        for original in traces:
            again = load_run(client, original.run.mission_id, original.run.run_id)
            same_run(again, original)
            assert again.labels == original.labels


def test_a_folder_of_capsules_without_an_index_is_served_too(traces: list[RunTrace], tmp_path: Path) -> None:
    folder = tmp_path / "loose"
    folder.mkdir()
    for n, trace in enumerate(traces):
        trace.save(folder / f"run{n}.json")
    (folder / "notes.txt").write_text("not a capsule")
    store = Store(tmp_path / "s.db")
    try:
        assert load_capsules(store, [folder]) == [(t.run.mission_id, t.run.run_id) for t in traces]
    finally:
        store.close()


def test_a_dataset_refuses_a_folder_with_files_and_leaves_it_alone(
    traces: list[RunTrace], tmp_path: Path
) -> None:
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "keep.txt").write_text("mine")
    with pytest.raises(DatasetError, match="not empty"):
        dataset(traces, tmp_path / "busy")
    assert [p.name for p in (tmp_path / "busy").iterdir()] == ["keep.txt"]
    (tmp_path / "file").write_text("x")
    with pytest.raises(DatasetError, match="is a file"):
        dataset(traces, tmp_path / "file")


def test_a_failed_save_leaves_no_dataset(traces: list[RunTrace], tmp_path: Path) -> None:
    broken = RunTrace(run=traces[1].run, steps=traces[1].steps, events=[*traces[1].events, object()])  # type: ignore[list-item]
    sentinel = tmp_path / "sentinel.json"
    sentinel.write_text("keep me")
    with pytest.raises(TypeError):
        dataset([traces[0], broken, traces[2]], tmp_path / "new")
    assert not (tmp_path / "new").exists()
    (tmp_path / "empty").mkdir()
    with pytest.raises(TypeError):
        dataset([traces[0], broken], tmp_path / "empty")
    assert list((tmp_path / "empty").iterdir()) == []  # no capsule, no index, no hidden folder
    assert sentinel.read_text() == "keep me"


def test_run_ids_from_a_server_never_make_a_path_out_of_the_folder(
    traces: list[RunTrace], tmp_path: Path
) -> None:
    """Ids are plain strings on reads: an id such as ``../../sentinel`` names no file."""
    sentinel = tmp_path / "sentinel.json"
    sentinel.write_text("keep me")
    hostile = []
    for n, run_id in enumerate(["../sentinel", "/etc/passwd", "..", "a/b\\c", "x" * 300]):
        capsule = json.loads(traces[n % 3].save(tmp_path / f"c{n}.json").read_text())
        capsule["run"]["run_id"] = run_id
        hostile.append(open_run(capsule))
    saved = dataset(hostile, tmp_path / "ds")
    assert sentinel.read_text() == "keep me"
    assert all(file.parent == (tmp_path / "ds").resolve() for file in saved.files)
    assert [t.run.run_id for t in saved] == ["../sentinel", "/etc/passwd", "..", "a/b\\c", "x" * 300]


HOSTILE_FILES = {
    "parent": "../outside.json",
    "absolute": "{outside}",
    "subfolder": "sub/inner.json",
    "backslash": "..\\outside.json",
    "dots": "..",
    "not json": "outside.txt",
    "the index": "dataset.json",
    "not a string": 7,
    "link out": "link.json",
}


@pytest.mark.parametrize("how", list(HOSTILE_FILES))
def test_an_index_naming_a_file_outside_its_folder_is_refused(
    traces: list[RunTrace], tmp_path: Path, how: str, capsys: pytest.CaptureFixture[str]
) -> None:
    outside = traces[2].save(tmp_path / "outside.json")  # a valid capsule: were it read, it would load
    before = outside.read_bytes()
    folder = tmp_path / "ds"
    dataset(traces[:2], folder)
    (folder / "sub").mkdir()
    traces[2].save(folder / "sub" / "inner.json")
    os.symlink(outside, folder / "link.json")
    index = json.loads((folder / "dataset.json").read_text())
    name = HOSTILE_FILES[how]
    index["runs"][1]["file"] = name.format(outside=outside) if isinstance(name, str) else name
    (folder / "dataset.json").write_text(json.dumps(index))
    with pytest.raises(DatasetError, match="dataset index, run 1"):
        open_dataset(folder)
    db = tmp_path / "s.db"
    assert cli.main(["sandbox", "serve", "--db", str(db), "--load", str(folder)]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("missionlab: ") and "dataset index, run 1" in err
    store = Store(db)
    try:
        assert store.count("runs") == 0  # nothing loaded, the outside capsule least of all
    finally:
        store.close()
    assert outside.read_bytes() == before


@pytest.mark.parametrize(
    ("index", "problem"),
    [
        ("{", "cannot read the dataset index"),
        ([], "not a dataset index"),
        ({"format": "missionlab-dataset", "version": 2, "runs": []}, "reads versions up to 1"),
        ({"format": "missionlab-dataset", "version": "1", "runs": []}, "not a version number"),
        ({"format": "missionlab-dataset", "version": 1, "runs": {}}, "must be a list of objects"),
    ],
)
def test_a_bad_index_is_one_clear_error(tmp_path: Path, index: Any, problem: str) -> None:
    (tmp_path / "dataset.json").write_text(index if isinstance(index, str) else json.dumps(index))
    with pytest.raises(DatasetError, match=problem):
        open_dataset(tmp_path)
    store = Store(":memory:")
    with pytest.raises(CapsuleLoadError, match=problem):
        load_capsules(store, [tmp_path])
    store.close()


def test_a_folder_without_capsules_is_refused(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match=r"no dataset\.json"):
        open_dataset(tmp_path)
    store = Store(":memory:")
    with pytest.raises(CapsuleLoadError, match="holds no run capsule"):
        load_capsules(store, [tmp_path])
    store.close()
