"""Every data-layer view over hosted-shaped answers (tests/data/hosted, written by hand from
the published document): no status_change events, steps without times, events without a
step, statuses and event types missionlab does not know, a 250-deep payload."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from missionlab import frames

HOSTED = Path(__file__).parent / "data" / "hosted"
NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
RUN_ID = "9b2d4e61-0a7c-4f3e-8c5d-1e2f3a4b5c6d"


def answer(name: str) -> Any:
    return json.loads((HOSTED / name).read_text())["data"]


def deep(levels: int) -> dict[str, Any]:
    root: dict[str, Any] = {}
    node = root
    for _ in range(levels):
        node["next"] = {}
        node = node["next"]
    node["end"] = "<b>bottom</b>"
    return root


@pytest.fixture
def events() -> pd.DataFrame:
    return frames.events_frame(answer("events.json"))


def test_runs_frame_keeps_an_unknown_status_after_the_documented_ones() -> None:
    runs = frames.runs_frame(answer("runs_page.json"), now=NOW)
    assert list(runs.columns) == frames.RUN_COLUMNS
    assert list(runs["status"].cat.categories) == [*frames.RUN_STATUS.categories, "queued"]
    assert runs["status"].astype(str).tolist() == ["queued", "running", "failed"]
    queued, running, failed = (runs.iloc[i] for i in range(3))
    assert not queued["is_running"] and pd.isna(queued["duration_s"])  # not known to be running
    assert running["is_running"] and running["duration_s"] == 2.5 * 3600
    assert failed["duration_s"] == 250.0 and not failed["is_running"]
    assert json.loads(queued["input"]) == {"ticket": "T-4411"}
    counts = frames.outcomes_over_time(runs)
    assert list(counts.columns)[-1] == "queued" and counts["queued"].sum() == 1


def test_events_frame_keeps_an_unknown_type_and_events_without_a_step(events: pd.DataFrame) -> None:
    assert list(events.columns) == frames.EVENT_COLUMNS
    assert list(events["type"].cat.categories) == [*frames.EVENT_TYPE.categories, "llm_call"]
    assert events["type"].astype(str).tolist().count("llm_call") == 1
    assert events["event_id"].tolist() == [f"evt_{i:04d}" for i in range(1, 17)]
    assert events["step_id"].isna().sum() == 2 and events["agent_id"].isna().sum() == 1
    assert json.loads(events.set_index("event_id").loc["evt_0011", "payload"])["status"] == 502


def test_steps_frame_takes_missing_times_from_step_events(events: pd.DataFrame) -> None:
    steps = frames.steps_frame(answer("plan.json"), events=events, now=NOW)
    assert list(steps.columns) == frames.STEP_COLUMNS
    by_id = steps.set_index("step_id")
    assert by_id["times_from"].astype(object).where(by_id["times_from"].notna(), None).to_dict() == {
        "classify": "plan",
        "account": "events",
        "search": "events",
        "search.index": None,
        "draft": None,
        "escalate": None,
    }
    assert by_id.loc["account", "started_at"] == pd.Timestamp("2026-11-20T09:00:25Z")
    assert by_id.loc["account", "completed_at"] == pd.Timestamp("2026-11-20T09:01:12Z")
    assert by_id.loc["search", "duration_s"] == 156.0  # 09:01:15 to its step_failed at 09:03:51
    assert list(steps["status"].cat.categories) == [*frames.STEP_STATUS.categories, "blocked"]
    assert by_id.loc["search.index", "depth"] == 1 and by_id.loc["search.index", "status"] == "blocked"
    without_events = frames.steps_frame(answer("plan.json"), now=NOW).set_index("step_id")
    assert pd.isna(without_events.loc["account", "started_at"])
    assert without_events.loc["classify", "times_from"] == "plan"


def test_deep_payloads_are_text_at_any_depth() -> None:
    for levels in (250, 5000):
        event = {**answer("events.json")[0], "payload": deep(levels)}
        text = frames.events_frame([event])["payload"].iloc[0]
        assert text.count('{"next":') == levels
        assert text.endswith('"end":"<b>bottom</b>"' + "}" * (levels + 1))
        flat = frames.events_frame([event], flatten=True).columns
        # the first 16 levels become columns; text nested deeper than a parser reads stays text
        expected = {"payload" + ".next" * 17} if levels == 250 else set()
        assert set(flat) - set(frames.EVENT_COLUMNS) == expected
