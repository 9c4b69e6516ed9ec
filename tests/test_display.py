"""Objects show themselves well in a notebook, and escape every server string in HTML."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

import missionlab
from missionlab.trace import RunTrace

EVIL = "<img src=x onerror=alert(1)>"
PAYLOADS = [
    EVIL,
    "<script>alert(1)</script>",
    '<a href="javascript:alert(1)">x</a>',
    "</script><script>alert(2)</script>",
]
T0 = datetime(2026, 11, 1, tzinfo=UTC)


def objects(text: str) -> list[Any]:
    return [
        missionlab.Mission(
            mission_id="m",
            name=text,
            description=text,
            execution_mode="managed",
            created_at=T0,
            updated_at=T0,
            metadata={"k": text},
        ),
        missionlab.Run(
            run_id="r",
            mission_id="m",
            status="failed",
            started_at=T0,
            updated_at=T0,
            error=text,
            result_summary=text,
            input={"q": text},
        ),
        missionlab.PlanStep(step_id=text, run_id="r", sequence=1, description=text, status="failed"),
        missionlab.Event(
            event_id="e",
            run_id="r",
            type="error",
            summary=text,
            timestamp=T0,
            agent_id=text,
            payload={"x": text},
        ),
    ]


@pytest.mark.parametrize("payload", PAYLOADS)
def test_html_escapes_server_strings(payload: str) -> None:
    for obj in objects(payload):
        rendered = obj._repr_html_()
        assert "<img" not in rendered and "<script" not in rendered
        assert "</script" not in rendered and "<a href" not in rendered
        assert "&lt;" in rendered


def test_pages_and_traces_escape(client: missionlab.Client) -> None:
    mission = client.missions.create(name=EVIL, description=EVIL).data
    page = client.missions.list(page_size=5)
    assert "<img" not in page._repr_html_() and "&lt;img" in page._repr_html_()
    run = client.missions.runs.create(mission.mission_id, input={"x": EVIL}).data
    trace = missionlab.load_run(client, mission.mission_id, run.run_id)
    card = trace._card_html()
    assert "<img" not in card and "&lt;img" in card
    client.missions.delete_mission(mission.mission_id)


def test_short_text_reprs() -> None:
    mission, run, step, event = objects("Name")
    assert repr(mission) == "Mission(mission_id='m', name='Name', execution_mode='managed')"
    assert repr(run) == "Run(run_id='r', status='failed', started_at='2026-11-01T00:00:00+00:00')"
    assert repr(step) == "PlanStep(step_id='Name', sequence=1, status='failed')"
    assert repr(event) == "Event(type='error', summary='Name')"
    trace = RunTrace(run, [step], [event], mission)
    assert repr(trace) == "<RunTrace Name · run r · failed: 1 steps, 1 events>"


def test_run_html_shows_badge_times_and_error() -> None:
    run = objects("it broke")[1]
    rendered = run._repr_html_()
    assert "failed" in rendered and "#D55E00" in rendered
    assert "2026-11-01 00:00:00" in rendered and "it broke" in rendered


def test_page_repr(client: missionlab.Client) -> None:
    page = client.missions.runs.list_runs(page_size=3)
    assert repr(page).startswith("<SyncPage[Run] 3 items, page 1/")
