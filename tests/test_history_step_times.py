"""The history's steps carry the times ``fetch_frames(steps=True)`` gives: a plan that gives a
step no times (the published API does not promise them) has them read from the step events,
by the same rule, also when the events arrive in a later sync, after a sync that stopped
before it could read them, and in a history an earlier missionlab made."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pytest

import missionlab
from missionlab import History, history
from missionlab._history import _sync
from missionlab._history._state import read_state
from missionlab.frames import STEP_COLUMNS, step_stats
from missionlab.sandbox import Sandbox

from .crafted import T0, at, craft, event, step

MISSION = "11111111-1111-4111-8111-111111111111"
DONE, MIXED, OPEN = (f"00000000-0000-4000-8000-00000000000{n}" for n in (1, 2, 3))
# Every column but the durations (a running step's is measured to now) and the metadata.
COMPARED = [c for c in STEP_COLUMNS if c not in ("duration", "duration_s", "metadata")]


def capsule(folder: Path, name: str, trace: Any, keep: dict[str, set[str]]) -> Path:
    """``trace`` saved as a capsule whose plan keeps only the times named in ``keep`` (step id
    -> {"started_at", "completed_at"}): the others are left to the step events."""
    path = folder / f"{name}.json"
    trace.save(path)
    data = json.loads(path.read_text())
    for entry in data["plan"]:
        for field in ("started_at", "completed_at"):
            if field not in keep.get(entry["step_id"], set()):
                entry.pop(field, None)
    for entry in data["events"]:  # ids unique across the runs
        entry["event_id"] = f"{name}-{entry['event_id']}"
    path.write_text(json.dumps(data))
    return path


def runs(folder: Path) -> list[Path]:
    done = craft(
        [
            step("plan", 1, 3, sequence=1),
            step("search", 4, 10, sequence=2),
            step("book", 11, 14, sequence=3),
        ],
        run_id=DONE,
        mission_id=MISSION,
    )
    mixed = craft(
        [
            step("a", 1, 5, sequence=1),
            step("b", 6, 9, sequence=2),
            step("c", 10, 16, "failed", sequence=3),
            step("d", None, None, sequence=4),
            step("e", None, None, "pending", sequence=5),
        ],
        [
            event(1, "step_started", "a"),
            event(5, "step_completed", "a"),
            event(6, "step_started", "b"),
            event(9, "step_completed", "b"),
            event(10, "step_started", "c"),
            event(11, "step_started", "c"),  # started again: the first start counts
            event(15, "step_failed", "c"),
            event(16, "step_completed", "c"),  # the last end counts
        ],
        status="failed",
        start=0,
        end=17,
        run_id=MIXED,
        mission_id=MISSION,
        with_step_events=False,
    )
    running = craft(
        [step("s1", 1, None, "in_progress", sequence=1), step("s2", None, None, sequence=2)],
        [event(1, "step_started", "s1")],
        status="running",
        start=0,
        run_id=OPEN,
        mission_id=MISSION,
        with_step_events=False,
    )
    return [
        capsule(folder, "done", done, {}),
        capsule(folder, "mixed", mixed, {"a": {"started_at"}, "b": {"completed_at"}}),
        capsule(folder, "open", running, {}),
    ]


@pytest.fixture
def client(tmp_path: Path) -> Iterator[missionlab.Client]:
    with Sandbox(load=runs(tmp_path), token="step-times-token") as sb, sb.client() as api:
        yield api


@pytest.fixture
def synced(client: missionlab.Client, tmp_path: Path) -> History:
    """A history of the three runs, after its first sync."""
    h = history(client, tmp_path / "h")
    h.sync(progress=False)
    return h


def by_key(steps: pd.DataFrame) -> pd.DataFrame:
    return steps.sort_values(["run_id", "step_id"]).reset_index(drop=True)[COMPARED]


def assert_as_fetched(h: History, client: missionlab.Client) -> pd.DataFrame:
    """``h.steps()`` is what fetch_frames(steps=True) gives, and every outside reader of the
    table sees the same times, one row per step; returns the steps."""
    fetched = missionlab.fetch_frames(client, steps=True, progress=False).steps
    assert fetched is not None
    ours = by_key(h.steps())
    pd.testing.assert_frame_equal(ours, by_key(fetched))
    from deltalake import DeltaTable

    table = DeltaTable(str(h.path / "steps")).to_pyarrow_table().to_pandas()
    table = table.sort_values(["run_id", "step_id"]).reset_index(drop=True)
    assert not table.duplicated(["run_id", "step_id"]).any()
    for column in ("run_id", "step_id", "started_at", "completed_at"):
        assert table[column].tolist() == ours[column].tolist(), column
    stored = ["-" if pd.isna(v) else v for v in table["times_from"]]
    assert stored == ["-" if pd.isna(v) else v for v in ours["times_from"]]
    return ours


def times(steps: pd.DataFrame, run_id: str) -> dict[str, tuple[Any, Any, Any]]:
    """Each step of the run: (started_at, completed_at, times_from), None where missing."""
    rows = steps[steps["run_id"] == run_id]
    columns = ["started_at", "completed_at", "times_from"]
    values = rows[columns].astype(object).where(rows[columns].notna(), None)
    return dict(zip(rows["step_id"], map(tuple, values.itertuples(index=False)), strict=True))


def test_steps_get_their_times_from_step_events_as_fetch_frames_reads_them(
    client: missionlab.Client, synced: History
) -> None:
    h = synced
    steps = assert_as_fetched(h, client)
    assert times(steps, DONE) == {
        "plan": (at(1), at(3), "events"),
        "search": (at(4), at(10), "events"),
        "book": (at(11), at(14), "events"),
    }
    assert times(steps, MIXED) == {
        "a": (at(1), at(5), "end from events"),
        "b": (at(6), at(9), "start from events"),
        "c": (at(10), at(16), "events"),
        "d": (None, None, None),
        "e": (None, None, None),
    }
    assert times(steps, OPEN) == {"s1": (at(1), None, "events"), "s2": (None, None, None)}
    # Filters and statistics over the times read from the events.
    assert len(h.steps(since=T0)) == 7
    assert set(h.steps(since=at(4), until=at(10.5))["step_id"]) == {"search", "b", "c"}
    stats = h.step_stats().set_index("step_id")
    assert stats.loc["search", "median_s"] == 6.0 and stats.loc["c", "max_s"] == 6.0
    theirs = step_stats(h.steps()).set_index("step_id")
    pd.testing.assert_series_equal(
        stats["median_s"].sort_index(), theirs["median_s"].sort_index(), check_names=False
    )


def log_s2(client: missionlab.Client) -> tuple[Any, Any]:
    """The open run's second step starts and completes (its events only: the plan gives no
    times); returns the two events' times as the server stamped them."""
    log = client.missions.runs.events.log
    started = log(OPEN, mission_id=MISSION, type="step_started", summary="s2", step_id="s2").data
    ended = log(OPEN, mission_id=MISSION, type="step_completed", summary="s2", step_id="s2").data
    return pd.Timestamp(started.timestamp), pd.Timestamp(ended.timestamp)


def test_step_events_that_arrive_in_a_later_sync_give_their_steps_times(
    client: missionlab.Client, synced: History
) -> None:
    h = synced
    begun, ended = log_s2(client)
    report = h.sync(progress=False)
    assert not report.first and report.new_events == 2
    steps = assert_as_fetched(h, client)
    assert times(steps, OPEN)["s2"] == (begun, ended, "events")
    assert times(steps, OPEN)["s1"] == (at(1), None, "events")


def test_a_sync_after_one_that_stopped_reads_the_step_times_it_left(
    client: missionlab.Client, synced: History, monkeypatch: pytest.MonkeyPatch
) -> None:
    class Stopped(Exception):
        pass

    def stop(self: Any) -> None:
        raise Stopped

    h = synced
    begun, ended = log_s2(client)
    with monkeypatch.context() as patch:  # stops once the events are committed
        patch.setattr(_sync.Syncer, "_retime_steps", stop)
        with pytest.raises(Stopped):
            h.sync(progress=False)
    assert times(h.steps(), OPEN)["s2"] == (None, None, None)  # the events are stored
    assert len(h.events(run=OPEN)) == 3
    # The state says so (the next sync reads every run's step times again, also when the
    # step events are too old for its walk down the events to bring them back).
    assert read_state(h._tables)["step_times_pending"] is True
    h.sync(progress=False)
    assert read_state(h._tables)["step_times_pending"] is False
    steps = assert_as_fetched(h, client)
    assert times(steps, OPEN)["s2"] == (begun, ended, "events")


def test_a_history_made_before_step_times_were_kept_gets_them_at_its_next_sync(
    client: missionlab.Client, synced: History
) -> None:
    from deltalake import DeltaTable, write_deltalake

    h = synced
    # The steps table as an earlier missionlab wrote it: the plans' times, no times_from.
    old = DeltaTable(str(h.path / "steps")).to_pyarrow_table()
    source = old["times_from"].to_pylist()
    for name, kinds in (
        ("started_at", {"events", "start from events"}),
        ("completed_at", {"events", "end from events"}),
    ):
        drop = pa.array([kind in kinds for kind in source])
        kept = pc.if_else(drop, pa.scalar(None, old[name].type), old[name])
        old = old.set_column(old.schema.get_field_index(name), name, kept)
    old = old.drop_columns(["times_from"])
    write_deltalake(
        str(h.path / "steps"), old, mode="overwrite", schema_mode="overwrite", partition_by=["run_day"]
    )
    before = History(h.path).steps()  # readable as it is, with the plans' times only
    assert before["started_at"].notna().sum() == 1  # step a's, which its plan gives
    assert times(before, MIXED)["a"] == (at(1), None, "plan")
    h.sync(progress=False)
    assert "times_from" in pa.schema(DeltaTable(str(h.path / "steps")).schema()).names
    steps = assert_as_fetched(h, client)
    assert times(steps, DONE)["search"] == (at(4), at(10), "events")
