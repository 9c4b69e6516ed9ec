"""A run as the findings engine's checks see it: its steps and events (time-ordered), its
status, start, end and "now", and what several checks ask of it (the step a failure started
in, the tool calls, a step's ancestors)."""

from __future__ import annotations

from functools import cached_property
from typing import Any

import pandas as pd

from ..frames import retimed
from ..frames._run_end import run_end
from ..frames._runlike import RunLike, field
from ..types import EventType, RunStatus, StepStatus
from ._attempts import Ended, tool_calls
from ._evidence import step_name, utc
from ._signature import Signature, failure_origin, final_failures, signature, subtree

__all__ = ["RunView"]


class RunView:
    """A run's steps and events (time-ordered), its status, start, end and ``now``.

    Everything is measured at ``now``: a step still running has run for ``now`` minus its
    start (``duration_s``; ``working_s`` less the run's pauses), an active run ends at
    ``now``; a step left open in a run that has ended is measured to the run's ``end``. No
    check reads the clock itself.
    """

    def __init__(self, trace: RunLike, now: pd.Timestamp) -> None:
        self.run = trace.run
        self.mission = trace.mission
        self.status = str(field(trace.run, "status"))
        self.events = trace.events_frame.sort_values("timestamp", kind="stable")
        self.steps = retimed(trace.steps_frame, now, events=self.events, runs=[trace.run])
        self.now = now
        starts = [utc(field(trace.run, "started_at")), self.steps["started_at"].min()]
        if len(self.events):
            starts.append(self.events["timestamp"].iat[0])
        self.start = min((s for s in starts if s is not None and not pd.isna(s)), default=now)
        self.end = run_end(trace.run) or now
        self.parent = dict(zip(self.steps["step_id"], self.steps["parent_step_id"], strict=True))

    def name(self, step_id: Any) -> str:
        return step_name(self.steps, step_id)

    def ancestors(self, step_id: Any) -> list[Any]:
        chain, seen = [], {step_id}
        parent = self.parent.get(step_id)
        while isinstance(parent, str) and parent not in seen:
            chain.append(parent)
            seen.add(parent)
            parent = self.parent.get(parent)
        return chain

    def subtree(self, step_id: Any) -> set[Any]:
        return {s for s in self.steps["step_id"] if s == step_id or step_id in self.ancestors(s)}

    def step(self, step_id: Any) -> pd.Series:
        return self.steps.loc[self.steps["step_id"] == step_id].iloc[0]

    def ids(self, events: pd.DataFrame) -> tuple[str, ...]:
        return tuple(str(e) for e in events["event_id"])

    @cached_property
    def failure_origin(self) -> Any:
        """The failed step the failure started in: a failed step with no failed descendant,
        the earliest to end, not counting failures recovered from (inside a step that
        completed: ``_signature.failure_origin``; None when no other step failed)."""
        steps = self.steps
        return failure_origin(
            zip(
                steps["step_id"],
                steps["parent_step_id"],
                steps["status"],
                steps["completed_at"],
                strict=True,
            )
        )

    @cached_property
    def signature(self) -> Signature | None:
        """The failed run's error signature (:class:`missionlab.analysis.failures.Signature`); None
        unless it failed."""
        if self.status != RunStatus.FAILED:
            return None
        origin = self.failure_origin
        mine = subtree(zip(self.steps["step_id"], self.steps["parent_step_id"], strict=True), origin)
        inside = self.events["step_id"].isin(mine)
        errors = self.events.loc[inside & (self.events["type"] == EventType.ERROR), "summary"]
        calls = self.tool_calls
        failed = calls[calls["step_id"].isin(mine) & final_failures(calls)]
        return signature(
            field(self.mission, "mission_id") or field(self.run, "mission_id"),
            origin,
            list(errors) if origin is not None else [],
            field(self.run, "error"),
            list(zip(failed["tool"], failed["outcome"], strict=True)) if origin is not None else [],
        )

    @cached_property
    def tool_calls(self) -> pd.DataFrame:
        """The run's tool calls with their results (``missionlab.analysis._attempts.tool_calls``):
        a call given up for another is still waiting while its step is open."""
        return tool_calls(self.events, ended=Ended.of(self.run, self.steps))

    @cached_property
    def waiting_steps(self) -> set[Any]:
        """The steps in progress with a tool call still waiting for its answer (no result, not
        failed)."""
        calls = self.tool_calls
        waiting = calls[calls["ended_at"].isna().to_numpy(dtype=bool) & ~calls["failed"].to_numpy(dtype=bool)]
        open_ = set(self.steps.loc[self.steps["status"] == StepStatus.IN_PROGRESS, "step_id"])
        return {step for step in waiting["step_id"] if step in open_}
