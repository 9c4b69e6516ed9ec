"""A run trace: a run with its plan and every event, as objects and as frames.

``load_run(client, mission_id, run_id)`` fetches the run, its mission, its plan and
all its events concurrently; ``trace.refresh(client)`` brings a watched trace up to date
with at most three requests, fetching only the events it does not hold yet. A trace
draws its Gantt (``.gantt()``), lists what looks wrong (``.diagnose()``), says why it
ended as it did (``.explain()``), and shows itself in a notebook as a status card, its
explanation and the Gantt. Its other views each delegate to their module: ``compare``,
``find`` and ``events_between``, ``rollup`` and ``step_table``, ``save`` (a capsule) and
``to_html`` (the shareable page). ``label`` and ``unlabel`` keep labels in the run's metadata
on the server (``trace.labels`` reads them). The trace remembers the client that loaded it
(``trace.client``), which ``explain`` and ``compare`` use for the mission's history when no
baseline is given. ``open_run(path)`` opens a capsule as a trace, with no network.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from ._wire.labels import labels_of
from .analysis.capsule import save_run, trace_parts
from .client._concurrent import bounded_map
from .client._display import badge, html_fields
from .client._new_events import every_event
from .client.models import Event, Mission, PlanStep, Run
from .errors import APIError, CapsuleError, InvalidArgumentError
from .frames._runlike import RunLike
from .types import ACTIVE_RUN_STATUSES, EventType, StepStatus

if TYPE_CHECKING:
    import pandas as pd
    import plotly.graph_objects as go

    from .analysis.compare import Comparison
    from .analysis.explain import Explanation
    from .client._client import Client
    from .client._items import ItemList

__all__ = ["RunTrace", "load_run", "open_run"]

_ANSWERS = "_answers"  # refresh: the run and the plan, each with the answer it was made of
_KEPT_STEPS = "_kept_steps"  # refresh: the steps frame, still right but for its running steps' durations
_STEPS_VERSION = "_steps_version"  # counts the steps frames built afresh (see RunTrace.steps_version)
# the events a steps frame reads its times from (frames.steps_frame)
_STEP_MARKS = frozenset({EventType.STEP_STARTED, EventType.STEP_COMPLETED, EventType.STEP_FAILED})


@dataclass
class RunTrace:
    """A run, its plan steps and its events (and its mission, when known).

    ``client``: the client that loaded it (None for a trace opened from a capsule), used by
    ``explain()`` and ``compare()`` to fetch the mission's history.
    """

    run: Run
    steps: list[PlanStep]
    events: list[Event]
    mission: Mission | None = None
    agents: list[Any] = field(default_factory=list)
    client: Any = field(default=None, repr=False, compare=False)

    @cached_property
    def steps_frame(self) -> pd.DataFrame:
        from .frames import retimed, steps_frame

        kept = self.__dict__.pop(_KEPT_STEPS, None)  # a refresh found the same steps
        if kept is not None:
            return retimed(kept, events=self.events_frame, runs=[self.run])
        self.__dict__[_STEPS_VERSION] = self.steps_version + 1
        return steps_frame(self.steps, events=self.events_frame, runs=[self.run], now=self.as_of)

    @property
    def steps_version(self) -> int:
        """Bumped each time ``steps_frame`` is built afresh (the plan changed, or step events
        arrived): two steps frames read at the same version differ only in their running
        steps' durations (measured to the moment each was read)."""
        return int(self.__dict__.get(_STEPS_VERSION, 0))

    @cached_property
    def events_frame(self) -> pd.DataFrame:
        from .frames import events_frame

        return events_frame(self.events)

    @cached_property
    def run_frame(self) -> pd.DataFrame:
        from .frames import runs_frame

        return runs_frame([self.run], now=self.as_of)

    @classmethod
    def load(cls, client: Client, mission_id: str, run_id: str, **kwargs: Any) -> RunTrace:
        """A run fetched with :func:`load_run`."""
        return load_run(client, mission_id, run_id, **kwargs)

    @property
    def capsule_source(self) -> dict[str, Any] | None:
        """Where a trace opened from a capsule was saved from (None for a trace loaded from a server)."""
        source: dict[str, Any] | None = self.__dict__.get("capsule_source")
        return source

    @property
    def as_of(self) -> datetime | None:
        """The moment this trace is a record of, to which its frames, ``explain()``,
        ``diagnose()`` and ``gantt()`` measure what was still open when no ``now=`` is given:
        for a trace opened from a capsule of a run active when saved, the capsule's
        ``saved_at``; None otherwise (measured to the clock's time), and after a ``refresh``."""
        moment: datetime | None = self.__dict__.get("as_of")
        return moment

    @property
    def title(self) -> str:
        name = self.mission.name if self.mission else "run"
        return f"{name} · run {self.run.run_id[:8]} · {self.run.status}"

    def refresh(self, client: Client) -> list[Event]:
        """Bring this trace up to date in place; return the events it did not hold before.

        Three requests when fewer than a page of events are new, made concurrently: the
        run, its plan, and the page of events that starts at the first one not held (a
        run's events come oldest first), so that only new events are transferred. When
        events were inserted among those held (an older timestamp), all are read again.
        The run and the plan are made into models only when their answers changed (the
        same objects are kept otherwise). ``events_frame`` is extended with the new rows,
        not rebuilt; ``steps_frame``, when next read, is rebuilt if the plan changed or step
        events arrived, else only its running steps are measured again; ``run_frame`` is
        rebuilt from a changed run when next read. The mission and linked agents are not fetched
        again (``load_run`` does that). When the run is first seen ended, its plan and events
        are read once more, after it: read beside it, they may be older than its end.
        """
        from .client._new_events import new_events, reread

        mission_id, run_id = self.run.mission_id, self.run.run_id
        seen: dict[str, tuple[Any, bytes]] = self.__dict__.get(_ANSWERS, {})

        def last(what: str, held: Any) -> bytes | None:  # the answer ``held`` was made of
            model, body = seen.get(what, (None, b""))
            return body if model is held else None

        def read_run() -> Any:
            return reread(client, "run", mission_id, run_id, last("run", self.run))

        def read_plan() -> Any:
            return reread(client, "plan", mission_id, run_id, last("plan", self.steps))

        def read_events() -> Any:
            return new_events(client, mission_id, run_id, self.events)

        if self.__dict__.pop("as_of", None) is not None:  # live from now on: measured to the clock
            self.__dict__.pop("run_frame", None)
        was_active = is_active(self.run)
        run, plan, fetched = bounded_map(
            _called,
            [read_run, read_plan, read_events],
            name="missionlab-refresh",
        )
        if was_active and run.data is not None and not is_active(run.data):
            # The run ended while the three were read: the plan and events, read beside it, may
            # be older than its end; read after it, they hold everything up to the end.
            plan, fetched = bounded_map(_called, [read_plan, read_events], name="missionlab-refresh")
        if run.data is not None:
            self.run = run.data
            self.__dict__.pop("run_frame", None)
        if plan.data is not None:
            self.steps = plan.data
        self.__dict__[_ANSWERS] = {"run": (self.run, run.body), "plan": (self.steps, plan.body)}
        if fetched.reloaded:
            held = {event.event_id for event in self.events}
            added = [event for event in fetched.events if event.event_id not in held]
            self.events = fetched.events
            self.__dict__.pop("events_frame", None)
        else:
            added = fetched.events
            self.events = [*self.events, *added]
            if added and "events_frame" in self.__dict__:
                from .frames import appended, events_frame

                self.__dict__["events_frame"] = appended(self.__dict__["events_frame"], events_frame(added))
        step_times = fetched.reloaded or any(event.type in _STEP_MARKS for event in added)
        built = self.__dict__.pop("steps_frame", None)
        if plan.data is not None or step_times:
            self.__dict__.pop(_KEPT_STEPS, None)
        elif built is not None:  # the same steps: only running ones are measured again, when read
            self.__dict__[_KEPT_STEPS] = built
        return added

    @property
    def labels(self) -> list[str]:
        """The run's labels (from its metadata, as last read), in the order they were added."""
        return labels_of(self.run.metadata)

    def label(self, label: str, *, note: str | None = None, client: Client | None = None) -> list[str]:
        """Label this run on the server (kept in its metadata, so a team shares it); returns its
        labels. Idempotent: a label it carries already (with that note) changes nothing.
        ``label``: 1 to 64 letters, digits and ``- _ . : /``; ``note``: optional text.
        ``client``: for a trace opened from a capsule (default: the one that loaded it).
        See :mod:`missionlab.client.labels`."""
        from .client.labels import label_run

        run = label_run(self._label_client(client), self.run.mission_id, self.run.run_id, label, note=note)
        self._set_run(run)
        return self.labels

    def unlabel(self, label: str, *, client: Client | None = None) -> list[str]:
        """Remove ``label`` from this run on the server (nothing happens if it does not carry
        it); returns its labels."""
        from .client.labels import unlabel_run

        run = unlabel_run(self._label_client(client), self.run.mission_id, self.run.run_id, label)
        self._set_run(run)
        return self.labels

    def _label_client(self, client: Client | None) -> Client:
        chosen = client if client is not None else self.client
        if chosen is None:
            raise InvalidArgumentError(
                "client",
                "this trace was opened from a capsule: pass the client of the server that holds the run",
            )
        return chosen

    def _set_run(self, run: Run) -> None:
        self.run = run
        self.__dict__.pop("run_frame", None)

    def gantt(self, **kwargs: Any) -> go.Figure:
        """This run's plan as a Gantt timeline (see :func:`missionlab.gantt`)."""
        from .figures.timeline import gantt

        return gantt(self, **kwargs)

    def diagnose(self, **kwargs: Any) -> pd.DataFrame:
        """What looks wrong with this run (see :func:`missionlab.diagnose`)."""
        from .analysis.diagnosis import diagnose

        return diagnose(self, **kwargs)

    def explain(self, baseline: Any = None, **kwargs: Any) -> Explanation:
        """Why this run ended (or stands) as it does (see :func:`missionlab.analysis.explain.explain`).

        Without ``baseline``, the client that loaded the trace fetches the mission's recent
        succeeded runs once (kept on the trace); ``baseline=False`` compares with nothing.
        """
        from .analysis._baseline import BASELINE_KEY, baseline_steps
        from .analysis.explain import explain

        if baseline is None and self.client is not None:
            if BASELINE_KEY not in self.__dict__:
                try:
                    self.__dict__[BASELINE_KEY] = baseline_steps(self, self.client)
                except APIError as error:  # explained without a baseline (not asked for again)
                    warnings.warn(
                        f"explain: no baseline from the mission's earlier runs ({error})", stacklevel=2
                    )
                    self.__dict__[BASELINE_KEY] = None
            baseline = self.__dict__[BASELINE_KEY]
        return explain(self, baseline=baseline, **kwargs)

    def compare(self, *others: RunLike, client: Any = None, **kwargs: Any) -> Comparison:
        """This run against ``others``, or against the most similar succeeded run of its
        mission (see :func:`missionlab.analysis.compare.compare`)."""
        from .analysis.compare import compare

        return compare(self, list(others) or None, client=client or self.client, **kwargs)

    def find(self, text: str | None = None, **filters: Any) -> pd.DataFrame:
        """Events matching ``text`` and ``filters`` (see :func:`missionlab.analysis.find.find`)."""
        from .analysis.find import find

        return find(self, text, **filters)

    def search(self, text: str, **filters: Any) -> pd.DataFrame:
        """An alias of :meth:`find`, kept for earlier code: it warns (``FutureWarning``) and
        gives what ``find(text, **filters)`` gives."""
        warnings.warn("RunTrace.search is RunTrace.find: call find()", FutureWarning, stacklevel=2)
        return self.find(text, **filters)

    def events_between(self, start: Any, end: Any) -> pd.DataFrame:
        """Events stamped in ``[start, end]`` (datetimes, ISO strings or seconds since the start)."""
        from .analysis.find import events_between

        return events_between(self, start, end)

    def rollup(self, path: str = "payload.usage.total_tokens") -> pd.DataFrame:
        """A payload number summed per step, per parent step and per run
        (see :mod:`missionlab.analysis.rollup`)."""
        from .analysis.rollup import rollup

        return rollup(self, path)

    def step_table(self, *paths: str) -> pd.DataFrame:
        """The steps with their status and times, and each roll-up path's total as a column."""
        from .analysis.rollup import step_table

        return step_table(self, list(paths))

    def save(self, path: str | Path) -> Path:
        """Write this run as a capsule file (see :func:`missionlab.analysis.capsule.save_run`)."""
        return save_run(self, path)

    def to_html(self, path: str | Path | None = None, **kwargs: Any) -> str:
        """This run as one self-contained HTML page; written to ``path`` when given
        (see :func:`missionlab.figures.share.run_page`).

        Bounded whatever the run's size: above ``max_events`` events (20,000 by default) the
        Gantt draws a sample of that many without replay, and the capsule, explanation and
        diagnosis are left out, each with a note saying how to get them (``trace.explain()``,
        ``trace.diagnose()``, ``trace.save(path)``): the page then takes a few megabytes, and
        building it a few hundred megabytes beyond the trace (a 10^6-event run once took 8.3 GB).
        Give a larger ``max_events`` to have everything, at a cost that grows with the run."""
        from .figures.share import run_page

        page = run_page(self, **kwargs)
        if path is not None:
            Path(path).write_text(page, encoding="utf-8")
        return page

    def __repr__(self) -> str:
        return f"<RunTrace {self.title}: {len(self.steps)} steps, {len(self.events)} events>"

    def _card_html(self) -> str:
        run = self.run
        rows = [
            ("mission", self.mission.name if self.mission else run.mission_id),
            ("run", run.run_id),
            ("started", run.started_at),
            ("finished", run.finished_at),
            ("steps", f"{len(self.steps)} ({sum(s.status == 'completed' for s in self.steps)} completed)"),
            ("events", len(self.events)),
            ("result", run.result_summary),
            ("error", run.error),
            ("labels", ", ".join(self.labels) or None),
        ]
        return f"<div>{badge(run.status)}{html_fields(rows, 500)}</div>"

    def _ipython_display_(self) -> None:
        from IPython.display import HTML, display

        from .figures._notebook import display_figure
        from .figures.share import display_parts

        head, figure = display_parts(self)  # bounded as to_html is
        display(HTML(head))
        display_figure(figure)  # drawn in a saved and an exported notebook too

    def _repr_html_(self) -> str:
        """The card, explanation and Gantt, bounded as :meth:`to_html` is."""
        from .figures.share import run_fragment

        return run_fragment(self)  # the Gantt drawn by the page's plotly.js (not inlined)


def load_run(client: Client, mission_id: str, run_id: str, *, progress: bool | None = False) -> RunTrace:
    """Fetch a run, its mission, its plan, its linked agents and all its events, concurrently.

    A run read as ended while its plan still has a step in progress is read as the run may
    have ended while the five were read: its plan and events are read once more, after it."""
    runs = client.missions.runs

    def read_plan() -> list[PlanStep]:
        return runs.plan.retrieve(run_id, mission_id=mission_id).data

    def read_events() -> ItemList[Event]:
        return every_event(client, mission_id, run_id, progress=progress)

    run, mission, steps, agents, events = bounded_map(
        _called,
        [
            lambda: runs.retrieve(run_id, mission_id=mission_id).data,
            lambda: client.missions.retrieve(mission_id).data,
            read_plan,
            lambda: runs.telnyx_agents.list(run_id, mission_id=mission_id).data,
            read_events,
        ],
        name="missionlab-load",
    )
    if not is_active(run) and any(step.status == StepStatus.IN_PROGRESS for step in steps):
        # Read beside the run, the plan and events may be older than its end. An ended run
        # that really left a step in progress costs these two requests and is shown as it is.
        steps, events = bounded_map(_called, [read_plan, read_events], name="missionlab-load")
    return RunTrace(run=run, steps=steps, events=events, mission=mission, agents=agents, client=client)


def is_active(run: Run) -> bool:
    """Whether ``run`` may still change: pending, running or paused, and not finished."""
    return run.status in ACTIVE_RUN_STATUSES and run.finished_at is None


def _called(fetch: Callable[[], Any]) -> Any:
    return fetch()


def open_run(source: str | Path | bytes | dict[str, Any]) -> RunTrace:
    """The :class:`~missionlab.RunTrace` a capsule file (or its bytes or dict) holds, with no
    network: ``trace.client`` is None and ``trace.capsule_source`` says where it was saved from.
    Raises :class:`~missionlab.errors.CapsuleError` for a file that is not a capsule, or a
    capsule whose objects are not the API's (the first problem named). ``trace.events`` is a
    list-like :class:`~missionlab.client._items.ItemList`, as ``load_run``'s: every event is
    checked when the file is opened, and made a model when read. A capsule of a run still
    active when it was saved is measured to its ``saved_at`` (``trace.as_of``): the durations of
    the steps then running, ``explain()``, ``diagnose()`` and the Gantt's "saved" line, unless
    given ``now=``."""
    try:
        parts = trace_parts(source)
    except CapsuleError:
        raise
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "its object"
        raise CapsuleError(f"not a run capsule this missionlab reads: {where}: {first['msg']}") from None
    except (TypeError, AttributeError, ValueError) as error:
        raise CapsuleError(f"not a run capsule this missionlab reads: {error}") from None
    source_info = parts.pop("source")
    saved_at = parts.pop("saved_at")
    trace = RunTrace(**parts)
    trace.__dict__["capsule_source"] = source_info
    if saved_at is not None:  # a run active when saved: what was still open is measured to then
        trace.__dict__["as_of"] = saved_at
    return trace
