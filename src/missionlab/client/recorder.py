"""Record your own agent's work as a run, for missions whose ``execution_mode`` is ``external``.

>>> with RunRecorder(client, mission_id, input={"city": "Paris"}) as rec:
...     rec.plan([("search", "Search flights"), ("book", "Book the best one")])
...     with rec.step("search"):
...         rec.event("tool_call", "flights.search", payload={"to": "CDG"})
...     with rec.step("book"):
...         ...
...     rec.succeed("Booked AF1234")

Entering starts a run and marks it running. Each ``step`` block marks its step
in_progress, then completed, or failed (with an ``error`` event) if the block
raises. Leaving the ``with`` block always finishes the run: succeeded, or failed
with the exception's text, or cancelled on KeyboardInterrupt; steps never
reached are marked skipped, steps left open failed.

Recording never gets in the way of your own code: a step update or an event
(yours or the recorder's) that cannot be delivered (after the client's own
retries) is kept in ``rec.undelivered``, announced by one :class:`RecorderWarning`
per recorder, and delivered again when the run finishes (events keep their
``idempotency_key``, so none is logged twice); your exception always propagates
as it was (a run that could not be finished is noted on it). Only when your code
succeeded and the run could not be finished does :class:`RecorderError` say
which run is left open.

Starting the run is idempotent: the recorder tags the run's metadata with a key of
its own (``missionlab_recorder_key``) and, when the answer to the create call is
lost, looks for a run carrying that key before asking again, so a lost answer
never leaves a second, orphaned run.
"""

from __future__ import annotations

import atexit
import logging
import traceback
import uuid
import warnings
import weakref
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from ..errors import APIConnectionError, APIError, MissionlabError
from ..types import EventType, RunStatus, StepStatus
from ._client import Client
from .models import Event, PlanStep, Run

__all__ = ["RecorderError", "RecorderWarning", "RunRecorder"]

log = logging.getLogger("missionlab.client.recorder")

MAX_ERROR_TEXT = 1000
RECORDER_KEY = "missionlab_recorder_key"  # in the run's metadata: finds a run whose creation answer was lost

_open_recorders: weakref.WeakSet[RunRecorder] = weakref.WeakSet()


class RecorderError(MissionlabError):
    """The recorder could not record something it must (e.g. finishing the run)."""


class RecorderWarning(UserWarning):
    """Something the recorder could not deliver yet; it tries again when the run finishes.

    Issued once per recorder; every failure is in ``rec.undelivered`` and the log.
    """


def _text(text: str, limit: int) -> str:
    """``text`` shortened, with anything JSON can't carry (lone surrogates) replaced."""
    text = text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _exception_text(exc: BaseException) -> str:
    return _text(f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__, MAX_ERROR_TEXT)


StepSpec = tuple[str, str] | dict[str, Any]


class RunRecorder:
    """A context manager that records a run of ``mission_id`` as your code executes it."""

    def __init__(
        self,
        client: Client,
        mission_id: str,
        *,
        input: dict[str, Any] | None = None,
        metadata: dict[str, Any] | None = None,
        agent_id: str | None = None,
    ) -> None:
        self.client = client
        self.mission_id = mission_id
        self.input = input
        self.metadata = metadata
        self.agent_id = agent_id
        self.run: Run | None = None
        self.steps: dict[str, PlanStep] = {}
        self._wanted: dict[str, StepStatus] = {}  # each step's status as the code left it
        self._stack: list[str] = []
        self._outcome: tuple[RunStatus, dict[str, Any]] | None = None
        self._reported: set[int] = set()  # ids of exceptions already logged by a step
        self.undelivered: list[dict[str, Any]] = []  # events not delivered yet, with their keys
        self._warned = False

    @property
    def run_id(self) -> str:
        if self.run is None:
            raise RecorderError("the run has not started: use the recorder in a `with` block")
        return self.run.run_id

    @property
    def _runs(self) -> Any:
        return self.client.missions.runs

    # -- lifecycle --------------------------------------------------------------------------

    def _create_run(self) -> Run:
        """Create the run once, even when an answer is lost after the server created it."""
        key = uuid.uuid4().hex
        metadata = {**(self.metadata or {}), RECORDER_KEY: key}
        attempts = self.client.max_retries + 1
        for attempt in range(1, attempts + 1):
            try:
                run: Run = self._runs.create(self.mission_id, input=self.input, metadata=metadata).data
                return run
            except APIConnectionError:
                if attempt == attempts:
                    raise
            try:
                found = self._run_with_key(key)
            except APIError:
                found = None
            if found is not None:
                return found
        raise AssertionError("unreachable")  # pragma: no cover

    def _run_with_key(self, key: str) -> Run | None:
        """The newest pending run of the mission whose metadata carries ``key``, if any."""
        page = self._runs.list(self.mission_id, status=RunStatus.PENDING, page_size=100)
        for run in page.data:
            if isinstance(run.metadata, dict) and run.metadata.get(RECORDER_KEY) == key:
                found: Run = run
                return found
        return None

    def __enter__(self) -> RunRecorder:
        run = self._create_run()
        self.run = run
        _open_recorders.add(self)
        try:
            self.run = self._runs.update(
                run.run_id, mission_id=self.mission_id, status=RunStatus.RUNNING
            ).data
        except MissionlabError:
            self._finish_quietly(RunStatus.FAILED, {"error": "The recorder could not mark the run running"})
            raise
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: Any) -> None:
        if self.run is None:
            return
        if exc is None:
            status, fields = self._outcome or (RunStatus.SUCCEEDED, {})
        elif isinstance(exc, KeyboardInterrupt):
            status, fields = RunStatus.CANCELLED, {"error": "Interrupted (KeyboardInterrupt)"}
        else:
            status, fields = RunStatus.FAILED, {"error": _exception_text(exc)}
        if exc is not None and id(exc) not in self._reported:
            self._log_quietly(
                EventType.ERROR,
                _exception_text(exc),
                None,
                {
                    "exception": type(exc).__name__,
                    "traceback": _text("".join(traceback.format_exception(exc))[-4000:], 4000),
                },
            )
        if exc is None:
            self._finish(status, fields)
        elif not self._finish_quietly(status, fields):
            exc.add_note(f"missionlab: run {self.run_id} could not be marked {status} (see the log)")

    def _finish(self, status: RunStatus, fields: dict[str, Any]) -> None:
        """Close the steps left open, deliver pending events, then set the run's final status."""
        self._close_steps()
        self._redeliver()
        try:
            self.run = self._runs.update(
                self.run_id, mission_id=self.mission_id, status=status, **fields
            ).data
        except MissionlabError as err:
            raise RecorderError(
                f"run {self.run_id} of mission {self.mission_id} could not be marked {status} "
                f"and may still show as running: {err}"
            ) from err
        _open_recorders.discard(self)

    def _finish_quietly(self, status: RunStatus, fields: dict[str, Any]) -> bool:
        """:meth:`_finish`, logging instead of raising; whether it worked."""
        try:
            self._finish(status, fields)
        except RecorderError as err:
            log.warning("%s", err)
            return False
        return True

    def _close_steps(self) -> None:
        """Deliver every step's last wanted status; skip steps never reached, fail steps left open."""
        for step_id, step in list(self.steps.items()):
            wanted = self._wanted.get(step_id)
            if wanted is None:
                wanted = StepStatus.SKIPPED if step.status == StepStatus.PENDING else None
            if wanted == StepStatus.IN_PROGRESS or (wanted is None and step.status == StepStatus.IN_PROGRESS):
                wanted = StepStatus.FAILED
            if wanted is not None and step.status != wanted:
                self._set_step_quietly(step_id, wanted)

    def succeed(self, summary: str | None = None, payload: dict[str, Any] | None = None) -> None:
        """Finish as succeeded (when the block ends) with this summary and payload."""
        self._outcome = (RunStatus.SUCCEEDED, {"result_summary": summary, "result_payload": payload})

    def fail(self, error: str, payload: dict[str, Any] | None = None) -> None:
        """Finish as failed (when the block ends) with this error."""
        self._outcome = (RunStatus.FAILED, {"error": error, "result_payload": payload})

    # -- plan and steps ---------------------------------------------------------------------

    def plan(self, steps: Sequence[StepSpec]) -> list[PlanStep]:
        """Declare steps, as ``(step_id, description)`` pairs or dicts of CreatePlanStep."""
        specs: list[dict[str, Any]] = []
        for spec in steps:
            item: dict[str, Any] = (
                dict(spec) if isinstance(spec, dict) else {"step_id": spec[0], "description": spec[1]}
            )
            item.setdefault("sequence", len(self.steps) + len(specs) + 1)
            specs.append(item)
        plan_api = self._runs.plan
        create = plan_api.create if not self.steps else plan_api.add_steps_to_plan
        created: list[PlanStep] = create(self.run_id, mission_id=self.mission_id, steps=specs).data
        self.steps.update({s.step_id: s for s in created})
        return created

    def _set_step(self, step_id: str, status: StepStatus) -> PlanStep:
        step: PlanStep = self._runs.plan.update_step(
            step_id, mission_id=self.mission_id, run_id=self.run_id, status=status
        ).data
        self.steps[step_id] = step
        return step

    def _set_step_quietly(self, step_id: str, status: StepStatus) -> None:
        """Set a step's status, or log why not (it is delivered again when the run finishes)."""
        self._wanted[step_id] = status
        try:
            self._set_step(step_id, status)
        except MissionlabError as err:
            self._warn_once(f"could not mark step {step_id} of run {self.run_id} {status}: {err}")

    @contextmanager
    def step(
        self, step_id: str, description: str | None = None, *, metadata: dict[str, Any] | None = None
    ) -> Iterator[PlanStep]:
        """Mark a step in_progress for the block, then completed, or failed if it raises.

        A step not declared yet is added to the plan, as a child of the enclosing step.
        """
        if step_id not in self.steps:
            spec: dict[str, Any] = {"step_id": step_id, "description": description or step_id}
            if self._stack:
                spec["parent_step_id"] = self._stack[-1]
            if metadata:
                spec["metadata"] = metadata
            self.plan([spec])
        self._set_step_quietly(step_id, StepStatus.IN_PROGRESS)
        label = self.steps[step_id].description
        self._log_quietly(EventType.STEP_STARTED, f"Started: {label}", step_id)
        self._stack.append(step_id)
        try:
            yield self.steps[step_id]
        except BaseException as exc:
            self._set_step_quietly(step_id, StepStatus.FAILED)
            if id(exc) not in self._reported:  # one error event, where it was raised: not again
                self._reported.add(id(exc))  # in each enclosing step it passes through
                self._log_quietly(
                    EventType.ERROR, _exception_text(exc), step_id, {"exception": type(exc).__name__}
                )
            self._log_quietly(EventType.STEP_FAILED, f"Failed: {label}", step_id)
            raise
        else:
            self._set_step_quietly(step_id, StepStatus.COMPLETED)
            self._log_quietly(EventType.STEP_COMPLETED, f"Completed: {label}", step_id)
        finally:
            self._stack.pop()

    # -- events -----------------------------------------------------------------------------

    def event(
        self,
        type: EventType | str,
        summary: str,
        *,
        payload: dict[str, Any] | None = None,
        step_id: str | None = None,
        agent_id: str | None = None,
        idempotency_key: str | None = None,
    ) -> Event | None:
        """Log an event, against the current step unless ``step_id`` says otherwise.

        Returns the event, or None when the server could not be reached or refused it
        for a reason of its own: the event is then kept in ``undelivered`` (with its
        ``idempotency_key``, generated when not given) and sent again when the run
        finishes. Arguments the API forbids raise :class:`~missionlab.InvalidArgumentError`.
        """
        fields: dict[str, Any] = {
            "type": type,
            "summary": summary,
            "step_id": step_id or (self._stack[-1] if self._stack else None),
            "agent_id": agent_id or self.agent_id,
            "payload": payload,
            "idempotency_key": idempotency_key or uuid.uuid4().hex,
        }
        return self._deliver(fields)

    def _deliver(self, fields: dict[str, Any]) -> Event | None:
        try:
            event: Event = self._runs.events.log(self.run_id, mission_id=self.mission_id, **fields).data
        except APIError as err:
            self._undeliverable(fields, err)
            return None
        return event

    def _undeliverable(self, fields: dict[str, Any], err: APIError) -> None:
        self.undelivered.append(fields)
        self._warn_once(f"could not log a {fields['type']} event for run {self.run_id}: {err}")

    def _warn_once(self, message: str) -> None:
        """Log ``message``; the first time, also warn (the recorder retries when the run finishes)."""
        log.warning("%s", message)
        if not self._warned:
            self._warned = True
            warnings.warn(
                message + " (the recorder tries again when the run finishes)", RecorderWarning, stacklevel=5
            )

    def _redeliver(self) -> None:
        """Send the undelivered events again, in order, with their original keys."""
        pending, self.undelivered = self.undelivered, []
        for fields in pending:
            self._deliver(fields)

    def _log_quietly(
        self, type: EventType, summary: str, step_id: str | None, payload: dict[str, Any] | None = None
    ) -> None:
        """Log a bookkeeping event; failing to do so must not hide the user's own error."""
        try:
            self.event(type, summary, payload=payload, step_id=step_id)
        except MissionlabError as err:
            log.warning("could not log %s event for run %s: %s", type, self.run_id, err)

    def __repr__(self) -> str:
        state = str(self.run.status) if self.run else "not started"
        return f"<RunRecorder mission={self.mission_id} run={getattr(self.run, 'run_id', None)} {state}>"


@atexit.register
def _finish_open_runs() -> None:
    """A run left open when the interpreter exits is marked failed, not left running."""
    for recorder in list(_open_recorders):
        try:
            recorder._finish(RunStatus.FAILED, {"error": "The recording process exited"})
        except Exception:
            log.warning("could not finish run %s at exit", recorder.run.run_id if recorder.run else "?")
