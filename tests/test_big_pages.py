"""A run page stays a few megabytes however many events the run has (issue 22).

On main ``to_html`` of a 10^6-event run peaked at 8.3 GB: its Gantt drew every event,
in every replay frame. Above ``GANTT_EVENTS`` the page's Gantt draws a sample (every
error event, the others evenly spaced) without replay, and says so.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import missionlab
from missionlab.figures.share import _page_gantt

RUN_ID = "87d2d4c4-596a-4adc-b985-4e7befd16fd9"
MISSION_ID = "182bd5e5-6e1a-4fe4-a799-aa6d9a6ab26e"
START = datetime(2026, 1, 1, tzinfo=UTC)


def capsule(events: int, every_error: int) -> dict[str, Any]:
    """A capsule of one finished run with two steps and ``events`` events, one in
    ``every_error`` of them an error."""

    def at(seconds: float) -> str:
        return (START + timedelta(seconds=seconds)).isoformat().replace("+00:00", "Z")

    steps = [
        {"step_id": f"s{n}", "run_id": RUN_ID, "sequence": n, "description": f"Step {n}",
         "status": "completed", "started_at": at(n * 500), "completed_at": at(n * 500 + 499)}
        for n in (0, 1)
    ]  # fmt: skip
    return {
        "format": "missionlab-run-capsule",
        "version": 1,
        "mission": {"mission_id": MISSION_ID, "name": "big", "execution_mode": "external",
                    "created_at": at(0), "updated_at": at(0)},
        "run": {"run_id": RUN_ID, "mission_id": MISSION_ID, "status": "succeeded", "started_at": at(0),
                "updated_at": at(1000), "finished_at": at(1000)},
        "plan": steps,
        "events": [
            {"event_id": f"e{i}", "run_id": RUN_ID, "type": "error" if i % every_error == 0 else "tool_call",
             "summary": f"call {i}", "timestamp": at(i * 999 / events), "step_id": f"s{i * 2 // events}"}
            for i in range(events)
        ],
        "agents": [],
    }  # fmt: skip


def drawn(figure: Any) -> dict[str, int]:
    """Event markers per type in a Gantt figure."""
    return {t.name: len(t.x) for t in figure.data if t.type == "scattergl"}


def test_a_big_run_draws_a_sample_with_every_error_and_says_so() -> None:
    trace = missionlab.open_run(capsule(25_000, every_error=500))
    figure, note = _page_gantt(trace, True)
    counts = drawn(figure)
    assert counts["error"] == 50  # 25,000 / 500: every error kept
    # evenly spaced: 19,950 places left for 24,950 others, so every 2nd of them
    assert counts["tool_call"] == 12_475
    assert "25,000 events" in note and figure.frames == ()  # no replay frames
    page = trace.to_html()
    plotly_js = len(missionlab.figures.share.plotly_js())
    assert len(page) - plotly_js < 3_000_000  # the figure of 20,000 markers and the 2,000-row table
    # the capsule of 25,000 events (about 7 MB) is not embedded; the page says how to save it
    assert 'id="missionlab-capsule"' not in page
    assert "not embedded: the run has 25,000 events" in page and "trace.save(path)" in page


def test_a_run_under_the_bound_draws_every_event_with_its_replay() -> None:
    trace = missionlab.open_run(capsule(300, every_error=100))
    figure, note = _page_gantt(trace, True)
    assert drawn(figure) == {"error": 3, "tool_call": 297} and note == ""
    assert len(figure.frames) > 0
    page = trace.to_html()
    assert page.count('id="missionlab-capsule"') == 1 and "not embedded" not in page
