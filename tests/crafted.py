"""Runs crafted event by event, for tests that need one exact situation (a retry loop, a step
added mid-run, a silent gap...), as :class:`missionlab.RunTrace` objects made of real models.

Times are seconds after :data:`T0`. ``step(...)`` and ``event(...)`` return wire dicts.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, overload

import missionlab
from missionlab.trace import RunTrace

T0 = datetime(2026, 11, 1, 10, 0, tzinfo=UTC)


@overload
def at(seconds: float) -> datetime: ...
@overload
def at(seconds: None) -> None: ...
@overload
def at(seconds: float | None) -> datetime | None: ...


def at(seconds: float | None) -> datetime | None:
    return None if seconds is None else T0 + timedelta(seconds=seconds)


def step(
    step_id: str,
    start: float | None,
    end: float | None,
    status: str = "completed",
    *,
    sequence: int,
    parent: str | None = None,
    description: str | None = None,
    metadata: dict[str, Any] | None = None,
) -> dict[str, Any]:
    return {
        "step_id": step_id,
        "sequence": sequence,
        "description": description or step_id.title(),
        "status": status,
        "started_at": at(start),
        "completed_at": at(end),
        "parent_step_id": parent,
        "metadata": metadata,
    }


def event(
    seconds: float,
    kind: str,
    step_id: str | None = None,
    summary: str | None = None,
    payload: dict[str, Any] | None = None,
    *,
    agent: str = "agent-1",
    event_id: str | None = None,
) -> dict[str, Any]:
    return {
        "event_id": event_id,
        "timestamp": at(seconds),
        "type": kind,
        "step_id": step_id,
        "summary": summary or f"{kind} {step_id or ''}".strip(),
        "payload": payload,
        "agent_id": agent,
    }


def step_events(steps: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """step_started/step_completed/step_failed events for each step's times."""
    out = []
    for s in steps:
        if s["started_at"] is not None:
            out.append(event((s["started_at"] - T0).total_seconds(), "step_started", s["step_id"]))
        if s["completed_at"] is not None and s["status"] in ("completed", "failed"):
            kind = "step_completed" if s["status"] == "completed" else "step_failed"
            out.append(event((s["completed_at"] - T0).total_seconds(), kind, s["step_id"]))
    return out


def craft(
    steps: list[dict[str, Any]],
    events: Sequence[dict[str, Any]] = (),
    *,
    status: str = "succeeded",
    start: float = 0,
    end: float | None = None,
    run_id: str = "run-crafted",
    mission_id: str = "mission-crafted",
    mission_name: str = "Crafted mission",
    error: str | None = None,
    with_step_events: bool = True,
    updated: float | None = None,
) -> RunTrace:
    """A trace of a run made of ``steps`` and ``events`` (plus each step's own events)."""
    if end is None and status in ("succeeded", "failed", "cancelled"):
        ends = [s["completed_at"] for s in steps if s["completed_at"] is not None]
        end = (max(ends) - T0).total_seconds() + 0.5 if ends else start + 1
    all_events = [*events, *(step_events(steps) if with_step_events else [])]
    all_events.sort(key=lambda e: e["timestamp"])
    counter = itertools.count(1)
    models = [
        missionlab.Event(**{**e, "event_id": e["event_id"] or f"ev-{next(counter):03d}"}, run_id=run_id)
        for e in all_events
    ]
    last = max([end or start, *[(e["timestamp"] - T0).total_seconds() for e in all_events]])
    run = missionlab.Run(
        run_id=run_id,
        mission_id=mission_id,
        status=status,
        started_at=at(start),
        finished_at=at(end),
        updated_at=at(updated if updated is not None else last),
        error=error,
    )
    mission = missionlab.Mission(
        mission_id=mission_id,
        name=mission_name,
        execution_mode="external",
        created_at=T0 - timedelta(days=1),
        updated_at=T0 - timedelta(days=1),
    )
    plan = [missionlab.PlanStep(**s, run_id=run_id) for s in steps]
    return RunTrace(run=run, steps=plan, events=models, mission=mission)


def linear(
    durations: dict[str, float], *, status: str = "succeeded", run_id: str = "run-crafted"
) -> RunTrace:
    """A run of steps one after another, each lasting the given seconds."""
    steps, t = [], 1.0
    for sequence, (step_id, seconds) in enumerate(durations.items(), start=1):
        steps.append(step(step_id, t, t + seconds, sequence=sequence))
        t += seconds + 1
    return craft(steps, status=status, run_id=run_id)


def running_step(
    client: missionlab.Client, mission_name: str, step_id: str, description: str
) -> tuple[str, str]:
    """(mission id, run id) of a new external mission's run, running, whose one-step plan has
    ``step_id`` in progress: what a test then logs events into through the API."""
    mission = client.missions.create(name=mission_name, execution_mode="external").data.mission_id
    run = client.missions.runs.create(mission).data.run_id
    client.missions.runs.update(run, mission_id=mission, status="running")
    client.missions.runs.plan.create(
        run, mission_id=mission, steps=[{"step_id": step_id, "description": description, "sequence": 1}]
    )
    client.missions.runs.plan.update_step(step_id, mission_id=mission, run_id=run, status="in_progress")
    return mission, run
