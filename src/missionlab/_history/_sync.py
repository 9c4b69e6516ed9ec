"""Syncing the history with the API: only what changed since the last sync.

What a sync fetches:

- missions: all of them (one request per 1,000);
- runs: on the first sync every run, page after page (eight pages asked for at a time, as
  the plans need them), in batches whose plans are fetched eight at a time while the batch
  is still being listed; later only
  the newest pages down to the newest run seen before (new runs), the runs that are
  active now (lists by status), the runs that were active at the last sync but
  are not any more (one request each), and the runs stored as ended in the last day
  while a step was in progress whose plan (one request each) changed since;
- plans: the plan of each new or changed run (one request each: the only request
  made per run);
- events: the organization's events, newest first, down to the newest event seen
  before (less a few minutes of slack), de-duplicated by run and id; after an incremental
  sync, one small request per new or changed run checks that its number of events
  matches, and a run whose count differs is re-read in full;
- step times: the steps of the runs whose plans or step events the sync stored get the
  times their plan lacks from their step events (see ``_step_times``; every run's, after
  a sync that did not finish, a repair, or in a table made before ``times_from``).

Later syncs size the pages of the newest-first lists by how much each list grew.

Requests run eight at a time (missionlab's one policy: ``client._concurrent.bounded_map``,
and ``client._plans.fetch_plans`` for plans); answers are read as the client's models,
field by field, never dumped to dicts. Writes are large batches (5,000 runs with their
plans, 100 pages of events), each one Delta commit keyed by the rows' ids, made in a writer
thread while the next batch is fetched (the events while the last runs are committed): a run's
plan steps are committed before the run itself, so a stored run always has the plan
of the version stored, and a sync that is interrupted keeps every batch it
committed. The next sync lists again (cheap), fetches only the plans it lacks, and
carries an interrupted events walk on from where it stopped.
"""

from __future__ import annotations

import copy
import itertools
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import date, datetime
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self, TypeVar

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds

from ..client._concurrent import bounded_map
from ..client._plans import fetch_plans
from ..client._progress import progress_bar
from ..client.errors import NotFoundError
from ..frames._columns import field_reader
from ..frames._jsontext import json_text
from ..types import TERMINAL_RUN_STATUSES
from ._common import PAGE, SyncReport, get, instant, page_size_for, python_values, utc
from ._errors import HistoryFormatError
from ._schema import PARTITION, TIME, TIMES_FROM, day_of, to_table
from ._state import SyncState, read_state
from ._step_times import MARKS, lacking_times, may_change, planned, retimed
from ._tables import REPAIR_HINT, Tables, check_folder

if TYPE_CHECKING:
    from ..client._client import Client

WORKERS = 8  # pages fetched at a time (bounded_map's limit)
PLAN_BATCH = 5_000  # runs (with their plans) per commit: an interruption loses at most one
EVENT_BATCH_PAGES = 100  # pages of events per commit
RECOUNT_BATCH = 100  # runs whose events are read again per commit
UNSETTLED_FOR = pd.Timedelta(days=1)  # how long an ended run with a step in progress is checked
RETIME_BATCH = 50_000  # steps whose times are read again from their events per commit (about)
EVENTS_SLACK = pd.Timedelta(minutes=10)  # events may be stamped a little before they are listed
TERMINAL = frozenset(str(s) for s in TERMINAL_RUN_STATUSES)
ACTIVE = ("pending", "running", "paused")

PENDING = "step_times_pending"  # the state's key: step times may be left to fill in

T = TypeVar("T")


def _chunks(items: Iterable[T], size: int) -> Iterator[list[T]]:
    """``items`` in lists of ``size`` (the last one shorter), read lazily."""
    iterator = iter(items)
    while chunk := list(itertools.islice(iterator, size)):
        yield chunk


class _Writer:
    """Commits one batch at a time in its own thread, while the sync fetches the next one.

    A batch is submitted once the previous one is committed (its error, if any, is raised
    then); leaving the ``with`` block waits for the last one, also when the sync stops
    with an error, so that what was fetched before is committed."""

    def __init__(self) -> None:
        self.pool = ThreadPoolExecutor(1, "missionlab-history-writer")
        self.pending: Future[None] | None = None

    def submit(self, commit: Callable[[], None]) -> None:
        self.wait()
        self.pending = self.pool.submit(commit)

    def wait(self) -> None:
        pending, self.pending = self.pending, None
        if pending is not None:
            pending.result()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        try:
            if error is None:
                self.wait()
            elif self.pending is not None:  # the sync's own error is the one to raise
                self.pending.exception()
        finally:
            self.pool.shutdown(wait=True)


def _bounds(items: Sequence[Any], name: str) -> tuple[datetime, datetime]:
    """The earliest and the latest time in field ``name`` of ``items`` (a non-empty list), read
    by Arrow at once, or time by time where Arrow does not read the form (nanoseconds, ...)."""
    values = field_reader(items)(name)
    if None not in values:
        try:
            given = pa.string() if isinstance(values[0], str) else TIME
            stamps = pc.min_max(pa.array(values, given).cast(TIME))
            return instant(stamps["min"].as_py()), instant(stamps["max"].as_py())
        except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
            pass
    times = [instant(value) for value in values]
    return min(times), max(times)


def _earliest(items: Sequence[Any], name: str) -> datetime:
    return _bounds(items, name)[0]


def _latest(items: Sequence[Any], name: str) -> datetime:
    return _bounds(items, name)[1]


class Syncer:
    """One sync of the tables in ``tables`` from ``client``."""

    def __init__(self, tables: Tables, client: Client, *, progress: bool | None) -> None:
        self.tables = tables
        self.client = client
        self.progress = progress
        self.report = SyncReport()
        self.synced_at = pd.Timestamp.now(tz="UTC")
        self.owner = SyncState(tables)
        self.state: dict[str, Any] = {}
        self.runs: dict[str, dict[str, Any]] = {}  # run_id -> mission_id, status, updated_at, day
        self.metadata: dict[str, str | None] = {}  # run_id -> stored metadata (JSON text), to relist
        self.retime_all = False  # whether every run's step times are read again from its events
        self.retime: set[str] = set()  # the runs whose plans or step events this sync stored
        self.writer = _Writer()

    # -- the whole sync ------------------------------------------------------------------------

    def run(self, *, full: bool = False, verify: bool = False, relist_runs: bool = False) -> SyncReport:
        started = time.perf_counter()
        check_folder(self.tables.path)
        self._check_versions()
        self.tables.check_removed_files()
        # Set until this sync has filled in the step times of what it stored: a sync that
        # finds it set follows one that stopped before that (interrupted, or taken over).
        self.state = self.owner.claim(self.client.base_url, mark=PENDING)
        unfinished = bool(self.state[PENDING])
        self.state[PENDING] = True
        recheck = full or bool(self.state["recheck"])
        self.report.first = recheck or self.state["runs_frontier"] is None
        # Which runs' step times are read again from their events: those whose plans this
        # sync stores without some times, or whose step events it stores; all after a sync
        # that did not finish, a repair, or in a table made before ``times_from``.
        self.retime_all = recheck or unfinished or self._steps_without_times_from()
        with self.writer:
            self._sync_missions()
            changed = self._sync_runs(recheck=recheck, relist=relist_runs)
            self._sync_events()
            self._check_event_counts(changed, everything=verify)
            self._retime_steps()
        self.state["recheck"] = False
        self.state[PENDING] = False
        self.report.seconds = time.perf_counter() - started
        self._log()
        self.owner.release(self.state)
        self.tables.vacuum()
        return self.report

    def _check_versions(self) -> None:
        """Refuse tables older than the last sync left them (log entries lost)."""
        log = read_state(self.tables)["log"]
        for name, version in (log[-1]["versions"] if log else {}).items():
            now = self.tables.version(name)
            if version is not None and (now is None or now < version):
                raise HistoryFormatError(
                    f"the {name!r} table of {self.tables.path} is at version {now}, older than the "
                    f"{version} the last sync left: its log lost entries. {REPAIR_HINT}"
                )

    def _steps_without_times_from(self) -> bool:
        delta = self.tables.open("steps")
        return delta is not None and TIMES_FROM not in pa.schema(delta.schema()).names

    def _save(self) -> None:
        self.writer.wait()
        self.owner.save(self.state)

    def _commit(self, write: Callable[[], None]) -> None:
        """Commit ``write`` and then the state as it is now, in the writer's thread."""
        state = copy.deepcopy(self.state)

        def commit() -> None:
            write()
            self.owner.save(state)

        self.writer.submit(commit)

    # -- paging --------------------------------------------------------------------------------

    def _pages(
        self,
        list_call: Callable[..., Any],
        *,
        start: int = 1,
        size: int = PAGE,
        ahead: int = WORKERS,
        limit: int = WORKERS,
    ) -> Iterator[Any]:
        """Pages of a list from page ``start`` on, in order: ``ahead`` pages asked for in one
        round, ``limit`` of them in flight at a time; pages past the first page's count when
        the list grew meanwhile.

        The first page says how many pages there are at the size the server served. In a
        newest-first list that grows, page m of T items starts T - m * size items above its
        oldest end: pages taken in order whose totals never decrease can only repeat items
        (dropped by id later), but a page answered before the one ahead of it (a smaller
        total) leaves the items between the two answers' totals on neither. From such a
        page on, the list is read one page after the other."""
        first = list_call(page_number=start, page_size=size)
        self.report.requests += 1
        yield first
        meta = first.meta
        if meta is None:  # no page count: walk until an empty page
            page = first
            while page.data:
                page = list_call(page_number=page.page_number + 1, page_size=size)
                self.report.requests += 1
                yield page
            return
        served = meta.page_size or size
        last = -(-meta.total_results // served) if served else start
        skipped = (start - 1) * size  # items before page ``start``, at the size asked
        after = skipped // served + 2  # the page after the first, at the size served
        numbers = range(after, last + 1) if served else range(0)
        total = meta.total_results  # as the last page taken says
        gap: int | None = None  # the first page answered before the one ahead of it

        def fetch(number: int) -> Any:
            return list_call(page_number=number, page_size=served)

        # Rounds end at multiples of ``ahead`` (pages 2-8, 9-16, ...), where batches end.
        for _, numbered in itertools.groupby(numbers, key=lambda number: (number - 1) // ahead):
            chunk = list(numbered)
            pages = bounded_map(fetch, chunk, limit=min(limit, ahead), name="missionlab-history-pages")
            self.report.requests += len(pages)
            for number, page in zip(chunk, pages, strict=True):
                if page.meta is not None and page.meta.total_results < total:
                    gap = number
                    break
                total = page.meta.total_results if page.meta is not None else total
                yield page
            if gap is not None:
                break
        number = gap if gap is not None else max(after, last + 1)
        while served and (number - 1) * served < total:
            page = fetch(number)
            self.report.requests += 1
            yield page
            if not page.data:
                return
            total = page.meta.total_results if page.meta is not None else total
            number += 1

    def _newest_first(
        self,
        what: str,
        list_call: Callable[..., Any],
        time_field: str,
        stop_before: pd.Timestamp | None,
        *,
        start: int = 1,
        batch: int = WORKERS,
    ) -> Iterator[list[Any]]:
        """Pages (their items) of a newest-first list from page ``start``, down to the first
        item older than ``stop_before`` (everything when None); items may repeat. A whole
        walk asks for ``batch`` pages per round (eight in flight).

        An incremental pass from the top first asks for one item, whose page says how many
        items the list holds now; the difference from the last sync's count sizes the pages,
        so that what is new usually arrives in one page of about its own size."""
        totals = self.state.setdefault("totals", {})

        def reached(rows: list[Any]) -> bool:
            return not rows or (stop_before is not None and _earliest(rows, time_field) < stop_before)

        if stop_before is None and start == 1:  # the whole list: the client's paging core
            yield from self._whole_list(what, list_call)
            return
        size = PAGE
        if stop_before is not None and start == 1:
            probe = list_call(page_size=1)
            self.report.requests += 1
            total = probe.meta.total_results if probe.meta else None
            rows = list(probe.data)
            yield rows
            if total is not None:
                size = page_size_for(total - totals.get(what, 0))
                totals[what] = total
            if reached(rows):
                return
        # A walk down to a known point is usually short: one page at a time, none wasted.
        ahead = batch if stop_before is None else 1
        for page in self._pages(list_call, start=start, size=size, ahead=ahead):
            rows = list(page.data)
            yield rows
            if reached(rows):
                return

    def _whole_list(self, what: str, list_call: Callable[..., Any]) -> Iterator[list[dict[str, Any]]]:
        """Every item of a list once, a page at a time as the server sent it (JSON dicts), read
        by the client's paging core (``iter_dicts``: orjson, no models, eight pages in flight,
        an exact walk); the first page's ``total_results`` is kept to size later syncs' pages.

        ``report.requests`` counts the first page and each page that brought items."""
        first = list_call(page_size=PAGE)
        self.report.requests += 1
        if first.meta is not None:
            self.state.setdefault("totals", {})[what] = first.meta.total_results
        for number, rows in enumerate(first.iter_dicts(progress=False)):
            if number or first.page_number != 1 or not first.data:
                self.report.requests += 1
            yield rows

    # -- missions and runs ---------------------------------------------------------------------

    def _sync_missions(self) -> None:
        missions = self.client.missions.list(page_size=PAGE).fetch_all(progress=False)
        self.report.requests += max(1, -(-len(missions) // PAGE))
        self.report.missions = len(missions)
        stored = self.tables.read("missions", columns=["mission_id", "updated_at"]).to_pylist()
        known = {row["mission_id"]: row["updated_at"] for row in stored}
        changed = [m for m in missions if known.get(m.mission_id) != instant(m.updated_at)]
        table = to_table("missions", changed, synced_at=self.synced_at)
        self.tables.upsert("missions", table, replace=True)

    def _known_runs(self, *, metadata: bool = False) -> None:
        """What the history holds of each run (with ``metadata``, its metadata's JSON text too)."""
        columns = ["run_id", "mission_id", "status", "updated_at", "started_at", PARTITION]
        table = self.tables.read("runs", columns=[*columns, "metadata"] if metadata else columns)
        values = [python_values(table.column(name)) for name in columns]
        for row in zip(*values, strict=True):
            self.runs[row[0]] = dict(zip(columns, row, strict=True))
        if metadata:
            self.metadata = dict(zip(values[0], table.column("metadata").to_pylist(), strict=True))

    def _runs_without_steps(self) -> set[str]:
        with_steps = set(self.tables.read("steps", columns=["run_id"]).column("run_id").unique().to_pylist())
        return set(self.runs) - with_steps

    def _sync_runs(self, *, recheck: bool, relist: bool = False) -> list[str]:
        """New and changed runs stored with their plans; returns their ids.

        ``relist``: every run is listed, as by a first sync, and one whose ``updated_at`` or
        metadata (labels) differs from what is stored is stored again."""
        self._known_runs(metadata=relist)
        # After a repair (or with full=True) a run whose steps were lost gets its plan again.
        lacking = self._runs_without_steps() if recheck else set()
        whole = self.report.first or relist
        # A run stored as ended while a step was in progress, whose plan has changed since.
        unsettled = [] if self.report.first else self._unsettled_runs()
        lacking.update(unsettled)
        listing = self._all_runs() if whole else iter(self._recent_and_active_runs(unsettled))
        seen: set[str] = set()

        def relabelled(run_id: str, run: Any) -> bool:
            """Whether the run's metadata differs from the stored one's (with ``relist``)."""
            if not relist or run_id not in self.metadata:
                return False
            metadata = get(run, "metadata")
            return self.metadata[run_id] != (None if metadata is None else json_text(metadata))

        def todo() -> Iterator[Any]:
            for run in listing:
                run_id = get(run, "run_id")
                if run_id in seen:
                    continue
                seen.add(run_id)
                known = self.runs.get(run_id)
                updated = instant(get(run, "updated_at"))
                if (
                    known is None
                    or known["updated_at"] != updated
                    or run_id in lacking
                    or relabelled(run_id, run)
                ):
                    yield run

        changed: list[str] = []
        waiting = todo()
        while True:
            # Plans are asked for as the listing streams in: the runs of a batch are listed
            # page by page while the plans of the runs listed before are being fetched.
            runs: list[Any] = []

            def pairs() -> Iterator[tuple[str, str]]:
                for run in itertools.islice(waiting, PLAN_BATCH):
                    runs.append(run)  # noqa: B023 (read before the next batch starts)
                    yield get(run, "run_id"), get(run, "mission_id")

            # A run deleted since it was listed has no plan: it is stored without steps.
            plans = fetch_plans(self.client, pairs(), missing="empty", progress=self.progress)
            if not runs:
                break
            changed += self._store_runs(list(zip(runs, plans, strict=True)))
        newest = max((r["started_at"] for r in self.runs.values()), default=None)
        self.state["runs_frontier"] = None if newest is None else newest.isoformat()
        # Saved by the writer after the last batch: the events are fetched meanwhile.
        self._commit(lambda: None)
        return changed

    def _store_runs(self, batch: list[tuple[Any, list[Any]]]) -> list[str]:
        """Commit the plans, then the runs (so that a stored run always has its plan)."""
        if not batch:
            return []
        self.report.requests += len(batch)
        self.report.plans += len(batch)
        runs = [run for run, _ in batch]
        days = [day_of(get(run, "started_at")) for run in runs]
        steps: list[Any] = []
        owners: list[tuple[str, date]] = []
        for (run, plan), day in zip(batch, days, strict=True):
            steps += plan
            owners += [(get(run, "mission_id"), day)] * len(plan)
        for run, day in zip(runs, days, strict=True):
            run_id = get(run, "run_id")
            if run_id in self.runs:
                self.report.changed_runs += 1
            else:
                self.report.new_runs += 1
            self.runs[run_id] = {
                "run_id": run_id,
                "mission_id": get(run, "mission_id"),
                "status": str(get(run, "status")),
                "updated_at": instant(get(run, "updated_at")),
                "started_at": instant(get(run, "started_at")),
                PARTITION: day,
            }

        if not self.retime_all:
            self.retime.update(lacking_times(steps))

        def write() -> None:
            extra: dict[str, list[Any]] = {
                "mission_id": [o[0] for o in owners],
                PARTITION: [o[1] for o in owners],
            }
            steps_table = planned(to_table("steps", steps, synced_at=self.synced_at, extra=extra))
            self.tables.upsert("steps", steps_table, replace=True)
            runs_table = to_table("runs", runs, synced_at=self.synced_at)
            self.tables.upsert("runs", runs_table, replace=True, newer="updated_at")

        self._commit(write)
        return [get(run, "run_id") for run in runs]

    def _all_runs(self) -> Iterator[Any]:
        """Every run, page after page (the first sync, or a full one)."""
        for rows in self._whole_list("runs", self.client.missions.runs.list_runs):
            yield from rows

    def _unsettled_runs(self) -> list[str]:
        """Runs stored as ended in the last day while a step of their plan was in progress
        (an agent may close its last step just after the run), whose plan the server now
        gives with other steps or statuses: one plan request per such run and sync."""
        since = self.synced_at - UNSETTLED_FOR
        ended = [
            run_id
            for run_id, run in self.runs.items()
            if run["status"] in TERMINAL and run["updated_at"] is not None and run["updated_at"] >= since
        ]
        if not ended:
            return []
        days = pa.array(sorted({self.runs[r][PARTITION] for r in ended}), pa.date32())
        where = ds.field(PARTITION).isin(days) & ds.field("run_id").isin(pa.array(ended, pa.string()))
        stored = self.tables.read("steps", filter=where, columns=["run_id", "step_id", "status"])
        open_runs = sorted(
            set(stored.filter(pc.equal(stored["status"], "in_progress"))["run_id"].to_pylist())
        )
        if not open_runs:
            return []
        held: dict[str, set[tuple[str, str]]] = {run_id: set() for run_id in open_runs}
        for run_id, step_id, status in zip(
            *(stored[c].to_pylist() for c in stored.column_names), strict=True
        ):
            if run_id in held:
                held[run_id].add((step_id, status))
        plans = fetch_plans(
            self.client, [(r, self.runs[r]["mission_id"]) for r in open_runs], missing="empty"
        )
        self.report.requests += len(open_runs)
        return [
            run_id
            for run_id, plan in zip(open_runs, plans, strict=True)
            # An empty plan: the run was deleted (it stays in the history, as it was).
            if plan and {(get(s, "step_id"), str(get(s, "status"))) for s in plan} != held[run_id]
        ]

    def _recent_and_active_runs(self, unsettled: list[str]) -> list[Any]:
        runs_api = self.client.missions.runs
        frontier = utc(self.state["runs_frontier"])
        fetched = [
            run
            for rows in self._newest_first("runs", runs_api.list_runs, "started_at", frontier)
            for run in rows
        ]
        active_before = {run_id for run_id, run in self.runs.items() if str(run["status"]) not in TERMINAL}
        statuses = set(ACTIVE) | {str(self.runs[run_id]["status"]) for run_id in active_before}
        for status in sorted(statuses):
            rows = runs_api.list_runs(status=status, page_size=PAGE).fetch_all(progress=False)
            self.report.requests += max(1, -(-len(rows) // PAGE))
            fetched += rows
        seen = {r.run_id for r in fetched}
        gone = [run_id for run_id in [*active_before, *unsettled] if run_id not in seen]

        def retrieve(run_id: str) -> Any:
            try:
                return runs_api.retrieve(run_id, mission_id=self.runs[run_id]["mission_id"]).data
            except NotFoundError:  # deleted on the server: it stays in the history as it was
                return None

        self.report.requests += len(gone)
        fetched += [run for run in bounded_map(retrieve, gone, name="missionlab-history-runs") if run]
        return fetched

    # -- events --------------------------------------------------------------------------------

    def _sync_events(self) -> None:
        """The organization's events, newest first, down to what earlier syncs stored.

        A walk down the list records how far it got after each commit; a sync that finds
        a walk unfinished reads what is new above it, then carries it on from where it
        stopped (the list grew at the top meanwhile, which moves the page it stopped at)."""
        state = self.state
        frontier = None if self.report.first else state["events_frontier"]
        walk = state["events_walk"]
        if walk is None:
            stop = None if frontier is None else utc(frontier) - EVENTS_SLACK
            walk = {"top": None, "down_to": None, "stop": None if stop is None else stop.isoformat()}
            walk.update({"covered": 0, "total": None, "unplaced": None})
            top = self._walk(walk, start=1)
        else:
            top, unplaced = self._walk_above(utc(walk["top"]) - EVENTS_SLACK)
            if unplaced is not None:
                walk["unplaced"] = min(unplaced, walk["unplaced"] or unplaced)
            self._walk(walk, start=self._resume_page(walk))
            top = top or walk["top"]
        newest = top or state["events_frontier"]
        if walk["unplaced"] is not None:  # events of runs not listed yet: read them next time
            newest = (utc(walk["unplaced"]) - pd.Timedelta(microseconds=1)).isoformat()
            self.report.notes.append("events of runs not listed yet: they are read by the next sync")
        state["events_frontier"] = newest
        state["events_walk"] = None
        self._save()

    def _walk(self, walk: dict[str, Any], *, start: int) -> str | None:
        """Walk the events list from page ``start`` down to ``walk["stop"]``, committing in
        batches and recording progress in ``walk``; returns the newest event's time."""
        stop = None if walk["stop"] is None else utc(walk["stop"])
        batch: list[Any] = []
        pages = 0
        with progress_bar(None, desc="Events", unit="event", progress=self.progress) as bar:
            for rows in self._newest_first(
                "events",
                self.client.missions.list_events,
                "timestamp",
                stop,
                start=start,
                batch=EVENT_BATCH_PAGES,
            ):
                if walk["total"] is None:
                    walk["total"] = self.state.get("totals", {}).get("events")
                if rows and walk["top"] is None:
                    walk["top"] = _latest(rows, "timestamp").isoformat()
                batch += rows
                pages += 1
                bar.update(len(rows))
                if pages % EVENT_BATCH_PAGES == 0:
                    self._commit_walk(walk, batch)
                    batch = []
            self._commit_walk(walk, batch)
        top: str | None = walk["top"]
        return top

    def _commit_walk(self, walk: dict[str, Any], events: list[Any]) -> None:
        if not events:
            return
        placed, unplaced = self._place(events)
        if unplaced is not None:
            walk["unplaced"] = min(unplaced, walk["unplaced"] or unplaced)
        oldest = _earliest(events, "timestamp").isoformat()
        walk["down_to"] = oldest if walk["down_to"] is None else min(walk["down_to"], oldest)
        walk["covered"] += len(events)
        self.state["events_walk"] = copy.deepcopy(walk)
        self._commit(lambda: self._write_events(placed))

    def _walk_above(self, stop: pd.Timestamp) -> tuple[str | None, str | None]:
        """The events newer than ``stop`` (what arrived above an unfinished walk)."""
        top: str | None = None
        unplaced: str | None = None
        batch = [
            e
            for rows in self._newest_first("events", self.client.missions.list_events, "timestamp", stop)
            for e in rows
        ]
        if batch:
            top = _latest(batch, "timestamp").isoformat()
            unplaced = self._store_events(batch)
        return top, unplaced

    def _resume_page(self, walk: dict[str, Any]) -> int:
        """The page of 1,000 where an unfinished walk carries on: after what it covered and
        what was added above since, one page earlier for overlap; stepped back further until
        that page reaches into what was covered (items deleted meanwhile move pages up)."""
        meta = self.client.missions.list_events(page_size=1).meta
        self.report.requests += 1
        grown = 0 if meta is None or walk["total"] is None else max(0, meta.total_results - walk["total"])
        page = max(1, int(walk["covered"] + grown) // PAGE)
        down_to = utc(walk["down_to"]) if walk["down_to"] else None
        while page > 1 and down_to is not None:
            rows = self.client.missions.list_events(page_number=page, page_size=PAGE).data
            self.report.requests += 1
            if rows and _latest(rows, "timestamp") >= down_to:
                break
            page -= 1
        return page

    def _place(self, events: Iterable[Any]) -> tuple[list[Any], str | None]:
        """The events of known runs (each once), and the time of the oldest event whose run
        is not known yet, if any."""
        items = events if isinstance(events, list) else list(events)
        read = field_reader(items)
        runs = read("run_id")
        # An event is identified within its run: two runs may each have an ``ev-001``.
        keys = zip(runs, read("event_id"), strict=True)
        unique = dict(zip(keys, zip(items, runs, strict=True), strict=True))
        known = self.runs
        placed = [event for event, run_id in unique.values() if run_id in known]
        if not self.retime_all and placed:
            kinds = field_reader(placed)("type")
            marked = field_reader(placed)("run_id")
            self.retime.update(run for run, kind in zip(marked, kinds, strict=True) if str(kind) in MARKS)
        unplaced = [event for event, run_id in unique.values() if run_id not in known]
        return placed, _earliest(unplaced, "timestamp").isoformat() if unplaced else None

    def _write_events(self, events: list[Any]) -> None:
        """Store events of known runs (those stored already are left as they are)."""
        if not events:
            return
        owners = list(map(self.runs.__getitem__, field_reader(events)("run_id")))
        table = to_table(
            "events",
            events,
            synced_at=self.synced_at,
            extra={
                "mission_id": [o["mission_id"] for o in owners],
                PARTITION: [o[PARTITION] for o in owners],
            },
        )
        self.report.new_events += self.tables.upsert("events", table, replace=False)

    def _store_events(self, events: Iterable[Any]) -> str | None:
        """Store the events of known runs (each once) now; returns the time of the oldest event
        whose run is not known yet, if any."""
        self.writer.wait()
        placed, unplaced = self._place(events)
        self._write_events(placed)
        return unplaced

    def _stored_event_counts(self, run_ids: list[str]) -> dict[str, int]:
        days = sorted({self.runs[r][PARTITION] for r in run_ids})
        wanted = pa.array(run_ids, pa.string())
        where = ds.field(PARTITION).isin(pa.array(days, pa.date32())) & ds.field("run_id").isin(wanted)
        table = self.tables.read("events", filter=where, columns=["run_id"])
        counts = table.group_by("run_id").aggregate([("run_id", "count")])
        return dict(zip(counts["run_id"].to_pylist(), counts["run_id_count"].to_pylist(), strict=True))

    def _check_event_counts(self, changed: list[str], *, everything: bool) -> None:
        """Re-read in full the events of any new/changed run whose count doesn't match."""
        run_ids = list(self.runs) if everything else changed
        if not run_ids or (self.report.first and not everything):
            return
        events_api = self.client.missions.runs.events

        def total(run_id: str) -> int:
            page = events_api.list(run_id, mission_id=self.runs[run_id]["mission_id"], page_size=1)
            return page.meta.total_results if page.meta else len(page.data)

        stored = self._stored_event_counts(run_ids)
        self.report.requests += len(run_ids)
        totals = bounded_map(total, run_ids, name="missionlab-history-counts")
        short = [r for r, n in zip(run_ids, totals, strict=True) if stored.get(r, 0) < n]

        def all_events(run_id: str) -> list[dict[str, Any]]:
            page = events_api.list(run_id, mission_id=self.runs[run_id]["mission_id"], page_size=PAGE)
            return page.fetch_all(progress=False, as_dicts=True)

        self.report.requests += len(short)
        for runs in _chunks(short, RECOUNT_BATCH):
            fetched = bounded_map(all_events, runs, name="missionlab-history-events")
            self._store_events(event for events in fetched for event in events)
        self.report.runs_recounted = len(short)

    def _retime_steps(self) -> None:
        """Fill in the step times of the runs this sync stored (of every run, with
        ``retime_all``) from the step events the history holds of them (see _step_times),
        a few days' partitions at a time."""
        self.writer.wait()
        where = may_change()
        if not self.retime_all:
            if not self.retime:
                return
            runs = sorted(self.retime)
            days = sorted({self.runs[r][PARTITION] for r in runs})
            where &= ds.field(PARTITION).isin(pa.array(days, pa.date32()))
            where &= ds.field("run_id").isin(pa.array(runs, pa.string()))
        # Only the columns the rule reads; whole rows are read for the steps that change.
        columns = ["run_id", "step_id", "status", "started_at", "completed_at", TIMES_FROM, PARTITION]
        found = self.tables.read("steps", filter=where, columns=columns)
        counts = found.group_by(PARTITION).aggregate([(PARTITION, "count")]).sort_by(PARTITION)
        group: list[date] = []
        size = 0
        for day, count in zip(
            python_values(counts[PARTITION]), counts[f"{PARTITION}_count"].to_pylist(), strict=True
        ):
            group.append(day)
            size += count
            if size >= RETIME_BATCH:
                self._retime_days(found, group)
                group, size = [], 0
        if group:
            self._retime_days(found, group)

    def _retime_days(self, found: pa.Table, days: list[date]) -> None:
        days_of = pa.array(days, pa.date32())
        steps = found.filter(pc.is_in(found[PARTITION], value_set=days_of))
        events = self.tables.read(
            "events",
            filter=ds.field(PARTITION).isin(days_of)
            & ds.field("run_id").isin(pc.unique(steps["run_id"]))
            & ds.field("type").isin(pa.array(MARKS, pa.string())),
            columns=["run_id", "step_id", "type", "timestamp"],
        )
        changed = retimed(steps, events)
        if not changed.num_rows:
            return
        where = ds.field(PARTITION).isin(pc.unique(changed[PARTITION]))
        where &= ds.field("run_id").isin(pc.unique(changed["run_id"]))
        rows = self.tables.read("steps", filter=where)
        new = {
            (run, step): (start, end, source)
            for run, step, start, end, source in zip(
                *(
                    python_values(changed[c])
                    for c in ("run_id", "step_id", "started_at", "completed_at", TIMES_FROM)
                ),
                strict=True,
            )
        }
        keys = list(zip(rows["run_id"].to_pylist(), rows["step_id"].to_pylist(), strict=True))
        rows = rows.filter(pa.array([key in new for key in keys]))
        values = [new[key] for key in keys if key in new]
        for index, name in enumerate(("started_at", "completed_at", TIMES_FROM)):
            column = pa.array([v[index] for v in values], rows.schema.field(name).type)
            rows = rows.set_column(rows.schema.get_field_index(name), name, column)
        stamp = pa.repeat(pa.scalar(self.synced_at.to_pydatetime(), TIME), rows.num_rows)
        rows = rows.set_column(rows.schema.get_field_index("synced_at"), "synced_at", stamp)
        self.tables.upsert("steps", rows, replace=True)

    def _log(self) -> None:
        entry = {
            "at": pd.Timestamp.now(tz="UTC").isoformat(),
            "started": self.synced_at.isoformat(),
            "first": self.report.first,
            "new_runs": self.report.new_runs,
            "changed_runs": self.report.changed_runs,
            "new_events": self.report.new_events,
            "plans": self.report.plans,
            "requests": self.report.requests,
            "seconds": round(self.report.seconds, 3),
            "versions": self.tables.versions(),
        }
        self.state["log"] = [*self.state["log"], entry]
