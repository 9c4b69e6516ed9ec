"""Tool calls read in one feed give what reading the same events in parts (one by one, or
split anywhere) gives, on every scenario capsule and on crafted edge cases: what a call waits
for, its id and its tool's last call carry over from one feed to the next."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from missionlab import frames, open_run
from missionlab.analysis._attempts import CallLog, tool_calls

from .crafted import craft, event, step

CAPSULES = sorted(
    p for p in (Path(__file__).parent / "data" / "scenarios").glob("*.json") if p.name != "expected.json"
)


def _events(path: Path) -> pd.DataFrame | None:
    try:
        trace = open_run(path)
    except Exception:  # not a run capsule (a fleet's, a broken one kept for its error)
        return None
    return trace.events_frame.sort_values("timestamp", kind="stable", na_position="last", ignore_index=True)


def _one_by_one(events: pd.DataFrame, size: int = 1) -> CallLog:
    """The log of ``events`` fed ``size`` at a time: after the first part, every event is
    read on its own (the incremental way)."""
    log = CallLog(arguments=True)
    for start in range(0, len(events), size):
        log.feed(events.iloc[start : start + size])
    return log


@pytest.mark.parametrize("path", CAPSULES, ids=lambda p: p.stem)
def test_one_feed_equals_reading_one_by_one(path: Path) -> None:
    events = _events(path)
    if events is None:
        pytest.skip(f"{path.name} is not a run capsule")
    size = 1 if len(events) <= 400 else 25  # the largest capsules: 25 events a feed
    slow = _one_by_one(events, size)
    pd.testing.assert_frame_equal(tool_calls(events), slow.frame())
    whole = CallLog(arguments=True)
    whole.feed(events)
    pd.testing.assert_frame_equal(whole.failed(), slow.failed())
    half = CallLog(arguments=True)  # a feed that stops anywhere, then the rest
    half.feed(events.iloc[: len(events) // 2])
    half.feed(events.iloc[len(events) // 2 :])
    pd.testing.assert_frame_equal(half.frame(), slow.frame())
    pd.testing.assert_frame_equal(half.failed(), slow.failed())


def test_fleet_read_by_run_equals_each_run_read_alone() -> None:
    runs = [e for e in (_events(p) for p in CAPSULES if p.name.startswith("fleet-")) if e is not None]
    assert len(runs) > 3
    fleet = frames.concat(runs)
    alone = [tool_calls(e).assign(run_id=e["run_id"].iloc[0]) for e in runs]
    expected = pd.concat(alone, ignore_index=True).sort_values("run_id", kind="stable", ignore_index=True)
    got = tool_calls(fleet, by_run=True)
    pd.testing.assert_frame_equal(
        got, expected[got.columns].astype(got.dtypes.to_dict()), check_categorical=False
    )


def test_crafted_calls_read_in_parts() -> None:
    calls = [
        event(1, "tool_result", "a", "t returned", {"ok": True}),  # before any call: read as nothing
        event(2, "tool_call", "a", "Calling t", {"tool": "t", "request_id": "1"}),
        event(3, "tool_result", "a", "x answered", {"request_id": "1", "ok": True}),
        event(4, "tool_call", "a", "Calling t (page 2)"),  # named by its summary only
        event(5, "tool_result", "a", "other answered", {"status": 502}),  # names no tool: the open call
        event(6, "tool_call", "b", "x", {"tool": "u", "request_id": "2"}),
        event(7, "tool_result", "b", "x", {"tool": "u", "request_id": "9", "ok": True}),  # another id
        event(8, "tool_call", "c", "x", {"tool": "v", "request_id": "3"}),  # open when the part ends
        event(9, "tool_call", "d", "x", {"tool": "w"}),
        event(10, "tool_result", "d", "x", {"tool": "z", "ok": True}),  # names another tool: not its answer
        event(11, "error", "c", "v timed out"),
        # a late answer, its own: the call did not fail, whatever came while it waited
        event(12, "tool_result", "c", "x", {"tool": "v", "request_id": "3", "ok": True}),
    ]
    events = craft([step(s, 0, 30, sequence=i) for i, s in enumerate("abcd")], calls, with_step_events=False)
    frame = events.events_frame
    expected = pd.DataFrame(
        {
            "step_id": ["a", "a", "b", "c", "d"],
            "tool": ["t", "t", "u", "v", "w"],
            "result_id": [
                frame["event_id"].iloc[2],
                frame["event_id"].iloc[4],
                frame["event_id"].iloc[6],
                frame["event_id"].iloc[11],
                None,
            ],
            "failed": [False, True, False, False, False],
            "outcome": ["ok", "status 502", "ok", "ok", ""],
            "attempt": [1, 1, 1, 1, 1],
        }
    )
    for cut in (len(frame), 8, 9, 1):  # at once; the first part ending with c's call open; ...
        log = CallLog(arguments=False)
        log.feed(frame.iloc[:cut])
        log.feed(frame.iloc[cut:])
        got = log.frame()
        assert got["step_id"].tolist() == expected["step_id"].tolist(), cut
        assert got["tool"].tolist() == expected["tool"].tolist(), cut
        assert got["result_id"].tolist() == expected["result_id"].tolist(), cut
        assert got["failed"].tolist() == expected["failed"].tolist(), cut
        assert got["outcome"].tolist() == expected["outcome"].tolist(), cut
        assert got["attempt"].tolist() == expected["attempt"].tolist(), cut
        assert got["ended_at"].notna().tolist() == [True, True, True, True, False], cut
        pd.testing.assert_frame_equal(got, _one_by_one(frame).frame().assign(arguments=None))
