"""Atomic, strict capsule loads (issue 22): a capsule is served whole or not at all, every
refused capsule is a one-line error from ``serve --load``, ``open_run`` raises CapsuleError,
and versions are validated."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

import missionlab
from missionlab import cli
from missionlab.errors import CapsuleError
from missionlab.sandbox import Sandbox, Store
from missionlab.sandbox.capsules import CapsuleLoadError, load_capsules
from missionlab.trace import load_run


@pytest.fixture(scope="module")
def good(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """A demo run with its plan and events, as a capsule's JSON."""
    folder = tmp_path_factory.mktemp("capsules")
    with Sandbox(demo=True, speed=50) as sandbox:
        client = sandbox.client()
        run = next(r for r in client.missions.runs.list_runs(page_size=100).data if r.status == "succeeded")
        path = load_run(client, run.mission_id, run.run_id).save(folder / "good.json")
    data: dict[str, Any] = json.loads(path.read_text())
    assert len(data["events"]) > 3 and data["plan"]
    return data


def write(folder: Path, name: str, data: Any) -> Path:
    path = folder / name
    path.write_text(json.dumps(data))
    return path


def counts(db: Path, run_id: str) -> tuple[int, int, int]:
    store = Store(db)
    try:
        runs = store._all("SELECT count(*) FROM runs WHERE run_id=?", (run_id,))[0][0]
        events = store._all(
            "SELECT count(*) FROM events JOIN runs USING (run_key) WHERE run_id=?", (run_id,)
        )[0][0]
        steps = store._all("SELECT count(*) FROM steps WHERE run_id=?", (run_id,))[0][0]
        return runs, events, steps
    finally:
        store.close()


def broken_late(good: dict[str, Any]) -> dict[str, Any]:
    """The good capsule with its last event's id repeated: it fails at the very end."""
    bad = copy.deepcopy(good)
    bad["events"][-1]["event_id"] = bad["events"][0]["event_id"]
    return bad


def test_a_bad_capsule_leaves_nothing_and_the_good_one_then_loads_whole(
    good: dict[str, Any], tmp_path: Path
) -> None:
    """Issue 22: the bad capsule committed its run and part of its events; the good one was
    then skipped as "already loaded" and the run served with 0 of its events for good."""
    db = tmp_path / "s.db"
    run_id = good["run"]["run_id"]
    store = Store(db)
    with pytest.raises(CapsuleLoadError, match="nothing was loaded"):
        load_capsules(store, [write(tmp_path, "bad.json", broken_late(good))])
    store.close()
    assert counts(db, run_id) == (0, 0, 0)
    store = Store(db)
    load_capsules(store, [write(tmp_path, "good.json", good)])
    store.close()
    assert counts(db, run_id) == (1, len(good["events"]), len(good["plan"]))


def test_one_load_is_one_transaction(good: dict[str, Any], tmp_path: Path) -> None:
    other = copy.deepcopy(good)
    other["run"]["run_id"] = "9d0c5f3c-0000-4000-8000-000000000001"
    for event in other["events"]:
        event["event_id"] += "-other"
    store = Store(tmp_path / "s.db")
    paths = [write(tmp_path, "ok.json", other), write(tmp_path, "bad.json", broken_late(good))]
    with pytest.raises(CapsuleLoadError):
        load_capsules(store, paths)
    assert store.count("runs") == 0 and store.count("events") == 0 and store.count("missions") == 0
    store.close()


BAD_CAPSULES: dict[str, Any] = {
    "not json": "{",
    "a list": "[]",
    "version string": {"version": "1"},
    "version negative": {"version": -5},
    "version true": {"version": True},
    "version zero": {"version": 0},
    "events not a list": {"events": 7},
    "an event not an object": {"events": [1]},
    "bad timestamp": {"run": {"started_at": "yesterday"}},
    "run of another mission": {"run": {"mission_id": "someone-else"}},
    "no mission": {"mission": None},
    "deep": "[" * 100_000 + "]" * 100_000,
}


def bad_capsule(good: dict[str, Any], how: Any) -> Any:
    if isinstance(how, str):
        return how
    data = copy.deepcopy(good)
    for key, value in how.items():
        if isinstance(value, dict) and isinstance(data.get(key), dict):
            data[key].update(value)
        else:
            data[key] = value
    return json.dumps(data)


@pytest.mark.parametrize("name", list(BAD_CAPSULES))
def test_serve_load_refuses_each_bad_capsule_in_one_line(
    good: dict[str, Any], tmp_path: Path, name: str, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "bad.json"
    path.write_text(bad_capsule(good, BAD_CAPSULES[name]))
    db = tmp_path / "s.db"
    assert cli.main(["sandbox", "serve", "--db", str(db), "--load", str(path)]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("missionlab: ") and "Traceback" not in err
    assert str(path) in err
    assert counts(db, good["run"]["run_id"]) == (0, 0, 0)


@pytest.mark.parametrize("version", ["1", -5, True, 0, None, 1.0])
def test_open_run_refuses_versions_that_are_not_version_numbers(good: dict[str, Any], version: Any) -> None:
    with pytest.raises(CapsuleError, match="not a version number"):
        missionlab.open_run({**good, "version": version})


@pytest.mark.parametrize(
    "change",
    [
        {"run": {"run_id": None}},
        {"events": [{"event_id": "e"}]},
        {"plan": 5},
        {"run": {"started_at": "yesterday"}},
    ],
)
def test_open_run_raises_capsule_error_not_validation_error(good: dict[str, Any], change: Any) -> None:
    with pytest.raises(CapsuleError) as caught:
        missionlab.open_run(json.loads(bad_capsule(good, change)))
    assert type(caught.value) is CapsuleError
    assert caught.value.__cause__ is None  # no pydantic chain to read through
    assert missionlab.open_run(good).run.run_id == good["run"]["run_id"]
