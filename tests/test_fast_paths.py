"""The column-wise fast paths of the data layer give what the per-value ones gave."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import numpy as np
import pandas as pd

from missionlab.analysis._attempts import CallLog, tool_calls
from missionlab.analysis._drift import plan_drift
from missionlab.frames._columns import TIME, times
from missionlab.frames._jsontext import json_object, json_objects, json_text

from .crafted import craft, event, step


def test_json_objects_equal_json_object_of_each_text() -> None:
    deep = "[" * 2000 + "]" * 2000
    texts: list[Any] = [
        '{"a": 1, "b": [1, 2]}',
        None,
        pd.NA,
        "[1, 2]",
        '"text"',
        '{"deep": ' + deep + "}",
        '{"s": "\\ud800"}',  # a lone surrogate escape: orjson refuses it
    ]
    # compared as text: == on 2,000 nested lists would recurse too deep
    assert [json_text(o) for o in json_objects(texts)] == [json_text(json_object(t)) for t in texts]
    exact = ['{"big": 123456789012345678901234567890}', '{"n": 1}']  # beyond 64 bits: kept exact
    assert json_objects(exact) == [json_object(text) for text in exact]
    assert json_objects(exact)[0]["big"] == 123456789012345678901234567890


def test_times_of_datetimes_equal_pandas_reading() -> None:
    aware = [datetime(2026, 1, 1, tzinfo=UTC) + timedelta(microseconds=1234567 * i) for i in range(50)]
    cases: list[list[Any]] = [
        [*aware, None],
        [datetime(2026, 1, 1, 1, 2, 3, 456789)],  # naive: read as UTC
        [datetime(2026, 1, 1, 1, 2, 3, tzinfo=timezone(timedelta(hours=5)))],
        [pd.Timestamp("2026-01-01 00:00:00.123456789", tz="UTC")],
        [datetime(2026, 1, 1, tzinfo=UTC), "2026-01-02T00:00:00Z"],  # mixed: Arrow refuses, pandas reads
    ]
    for values in cases:
        expected = pd.to_datetime(pd.Series(values, dtype=object), utc=True, format="ISO8601")
        assert list(times(values)) == list(expected.astype(TIME))


def test_tool_calls_without_arguments_differ_only_there() -> None:
    trace = craft(
        [step("a", 0, 30, sequence=1)],
        [
            event(1, "tool_call", "a", "x", {"tool": "t", "q": 1, "request_id": "1"}),
            event(2, "tool_result", "a", "x", {"tool": "t", "request_id": "1", "ok": False}),
            event(3, "tool_call", "a", "x", {"tool": "t", "q": 2}),
            event(4, "tool_call", "a", "x", {"tool": "t", "q": 3}),
        ],
    )
    full = tool_calls(trace.events_frame)
    bare = tool_calls(trace.events_frame, arguments=False)
    assert full["arguments"].tolist() == [{"tool": "t", "q": 1}, {"tool": "t", "q": 2}, {"tool": "t", "q": 3}]
    assert bare["arguments"].isna().all()
    pd.testing.assert_frame_equal(full.drop(columns="arguments"), bare.drop(columns="arguments"))
    assert full["attempt"].tolist() == [1, 2, 3] and full["called_at"].dtype == TIME


def _late_by_definition(steps: pd.DataFrame, drift: pd.Series) -> set[str]:
    """Reordered steps, straight from the definition: a started step not added, and a sibling
    after it in plan order (sequence, then frame order; unnumbered last) that started earlier."""
    rows = steps.assign(
        parent_key=steps["parent_step_id"].astype(object).fillna(""), position=range(len(steps))
    )
    rows = rows[rows["started_at"].notna() & (drift.fillna("").to_numpy(dtype=object) != "added")]
    key = {r.step_id: (np.isnan(s), 0.0 if np.isnan(s) else s, r.position) for r, s in _numbered(rows)}
    late = set()
    for one in rows.itertuples():
        for other in rows.itertuples():
            after = key[other.step_id] > key[one.step_id]
            if one.parent_key == other.parent_key and after and other.started_at < one.started_at:
                late.add(one.step_id)
    return late


def _numbered(rows: pd.DataFrame) -> list[tuple[Any, float]]:
    numbers = rows["sequence"].to_numpy(dtype="float64", na_value=np.nan)
    return list(zip(rows.itertuples(), numbers, strict=True))


def test_reordered_steps_follow_their_definition() -> None:
    rng = np.random.default_rng(7)
    steps = []
    for n in range(1, 41):
        start = float(rng.integers(0, 400))
        parent = [None, "s1", "s2"][int(rng.integers(0, 3))] if n > 2 else None
        steps.append(step(f"s{n}", start, start + 5, sequence=n if n % 9 else 1, parent=parent))
    frame = craft(steps).steps_frame
    drift = plan_drift(frame)
    reordered = set(frame.loc[drift["drift"] == "reordered", "step_id"])
    assert reordered and reordered == _late_by_definition(frame, drift["drift"])


def test_failed_calls_fed_in_parts_are_those_read_at_once() -> None:
    """CallLog.failed() is kept between feeds until a failed call is added or changes: each
    part's answer equals that of every event so far read at once."""
    calls = [
        event(1, "tool_call", "a", "x", {"tool": "t", "request_id": "1"}),
        event(2, "tool_result", "a", "x", {"tool": "t", "request_id": "1", "ok": True}),
        event(3, "tool_call", "a", "x", {"tool": "u", "request_id": "2"}),
        event(4, "tool_call", "a", "x", {"tool": "v"}),
        event(5, "error", "a", "v timed out"),  # fails the open calls of the step: u and v
        event(6, "tool_call", "a", "x", {"tool": "u", "request_id": "3"}),  # u called again
        event(7, "tool_result", "a", "x", {"tool": "u", "request_id": "2", "status": 503}),
        event(8, "tool_call", "a", "x", {"tool": "w"}),
    ]
    events = craft([step("a", 0, 30, sequence=1)], calls, with_step_events=False).events_frame
    log = CallLog(arguments=False)
    failed_counts = []
    for cut in range(1, len(events) + 1):
        log.feed(events.iloc[cut - 1 : cut])
        at_once = CallLog(arguments=False)
        at_once.feed(events.iloc[:cut])
        pd.testing.assert_frame_equal(log.failed(), at_once.failed())
        failed_counts.append(len(log.failed()))
    assert failed_counts == [0, 0, 0, 0, 2, 2, 2, 2]
    final = log.failed()
    # u's own answer came late (7), after the error had failed it: its outcome is the answer's
    assert final["tool"].tolist() == ["u", "v"]
    assert final["outcome"].tolist() == ["status 503", "v timed out"]
    assert final["called_again"].notna().tolist() == [True, False]  # u was called again at 6
