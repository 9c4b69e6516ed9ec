"""Syncing the history with the API: only what changed since the last sync.

What a sync fetches:

- missions: all of them (one request per 1,000);
- runs: on the first sync every run; later only the newest pages down to the newest
  run seen before (new runs), the runs that are active now (lists by status), and the
  runs that were active at the last sync but are not any more (one request each);
- events: the organization's events, newest first, down to the newest event seen
  before (less a few minutes of slack), de-duplicated by id; for each new or changed
  run, one small request checks that its number of events matches, and a run whose
  count differs is re-read in full;
- plans: the plan of each new or changed run (one request each).

Work is committed in batches, so an interrupted sync keeps what it finished; the next
one redoes the rest, and nothing is stored twice (rows are keyed by id).
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from ..types import TERMINAL_RUN_STATUSES
from ._dataset import MARKS, Dataset
from ._schema import day_of, to_table

if TYPE_CHECKING:
    from .._client import Client

PAGE = 1000
PROBE = 100  # the first page of an incremental pass: usually all that is new
PLAN_BATCH = 500
EVENT_BATCH_PAGES = 25
EVENTS_SLACK = pd.Timedelta(minutes=10)  # events may be stamped a little before they are listed
WORKERS = 8
TERMINAL = frozenset(str(s) for s in TERMINAL_RUN_STATUSES)


@dataclass
class SyncReport:
    """What one sync did."""

    first: bool = False
    missions: int = 0
    new_runs: int = 0
    changed_runs: int = 0
    new_events: int = 0
    plans: int = 0
    runs_recounted: int = 0
    requests: int = 0
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        kind = "first sync" if self.first else "sync"
        return (
            f"{kind}: {self.new_runs} new and {self.changed_runs} changed runs, "
            f"{self.new_events} new events, {self.plans} plans, {self.requests} requests "
            f"in {self.seconds:.1f} s"
        )


def _wire(item: Any) -> dict[str, Any]:
    """An API object as its JSON dict (models are dumped; dicts pass)."""
    if isinstance(item, dict):
        return item
    dumped: dict[str, Any] = item.model_dump(mode="json", exclude_none=True)
    return dumped


def _time(value: Any) -> pd.Timestamp:
    return (
        pd.Timestamp(value).tz_convert("UTC") if pd.Timestamp(value).tzinfo else pd.Timestamp(value, tz="UTC")
    )


class Syncer:
    """One sync of ``dataset`` from ``client``."""

    def __init__(self, dataset: Dataset, client: Client, *, progress: bool | None) -> None:
        self.dataset = dataset
        self.client = client
        self.progress = progress
        self.report = SyncReport()
        self.synced_at = pd.Timestamp.now(tz="UTC")
        self.manifest: dict[str, Any] = {}
        self.runs: dict[str, dict[str, Any]] = {}  # run_id -> mission_id, day, status, updated_at

    # -- the whole sync ------------------------------------------------------------------------

    def run(self, *, full: bool = False, verify: bool = False) -> SyncReport:
        started = time.perf_counter()
        with self.dataset.sync_lock():
            self.dataset.reload()
            self.dataset.remove_orphans()
            self.manifest = copy.deepcopy(self.dataset.manifest)
            self.manifest["base_url"] = self.client.base_url
            state = self.manifest["state"]
            self.report.first = full or state["runs_frontier"] is None
            self._sync_missions()
            changed = self._sync_runs()
            self._sync_events(full=self.report.first)
            self._check_event_counts(changed, everything=verify)
            self._sync_plans()
            self._log(time.perf_counter() - started)
        self.report.seconds = time.perf_counter() - started
        return self.report

    def _commit(self) -> None:
        self.dataset.commit(self.manifest)
        self.manifest = copy.deepcopy(self.dataset.manifest)

    def _bar(self, total: int | None, what: str) -> Any:
        if self.progress is False:
            return None
        from tqdm.auto import tqdm

        return tqdm(total=total, desc=what, unit=" " + what.split()[-1], delay=0 if self.progress else 0.5)

    # -- missions and runs ---------------------------------------------------------------------

    def _sync_missions(self) -> None:
        missions = [_wire(m) for m in self.client.missions.list(page_size=PAGE).fetch_all(progress=False)]
        self.report.requests += max(1, -(-len(missions) // PAGE))
        self.report.missions = len(missions)
        table = to_table("missions", missions, synced_at=self.synced_at)
        self.dataset.stage(self.manifest, "missions", table, replace=True)

    def _known_runs(self) -> None:
        table = self.dataset.read(
            "runs", columns=["run_id", "mission_id", "status", "updated_at", "started_at"]
        )
        for row in table.to_pylist():
            self.runs[row["run_id"]] = {**row, "day": day_of(row["started_at"])}

    def _sync_runs(self) -> list[str]:
        """New and changed runs stored; returns their ids."""
        self._known_runs()
        if self.report.first:
            fetched = [
                _wire(r)
                for r in self.client.missions.runs.list_runs(page_size=PAGE).fetch_all(progress=self.progress)
            ]
            self.report.requests += max(1, -(-len(fetched) // PAGE))
        else:
            fetched = self._recent_and_active_runs()
        changed = []
        for run in {r["run_id"]: r for r in fetched}.values():
            known = self.runs.get(run["run_id"])
            if known is None:
                self.report.new_runs += 1
            elif _time(known["updated_at"]) == _time(run["updated_at"]):
                continue
            else:
                self.report.changed_runs += 1
            changed.append(run)
        if changed:
            days = [day_of(r["started_at"]) for r in changed]
            table = to_table("runs", changed, synced_at=self.synced_at)
            self.dataset.stage(self.manifest, "runs", table, replace=True, days=days)
            for run, day in zip(changed, days, strict=True):
                self.runs[run["run_id"]] = {**run, "day": day}
        newest = max((_time(r["started_at"]) for r in self.runs.values()), default=None)
        self.manifest["state"]["runs_frontier"] = None if newest is None else newest.isoformat()
        self._commit()
        return [r["run_id"] for r in changed]

    def _recent_and_active_runs(self) -> list[dict[str, Any]]:
        runs_api = self.client.missions.runs
        frontier = _time(self.manifest["state"]["runs_frontier"])
        fetched = [
            run for rows in self._newest_first(runs_api.list_runs, "started_at", frontier) for run in rows
        ]
        active_before = {run_id for run_id, run in self.runs.items() if str(run["status"]) not in TERMINAL}
        statuses = {"pending", "running", "paused"} | {
            str(self.runs[run_id]["status"]) for run_id in active_before
        }
        for status in sorted(statuses):
            page = runs_api.list_runs(status=status, page_size=PAGE)
            rows = [_wire(r) for r in page.fetch_all(progress=False)]
            self.report.requests += max(1, -(-len(rows) // PAGE))
            fetched += rows
        seen = {r["run_id"] for r in fetched}
        gone = [run_id for run_id in active_before if run_id not in seen]

        def retrieve(run_id: str) -> dict[str, Any]:
            mission_id = self.runs[run_id]["mission_id"]
            return _wire(runs_api.retrieve(run_id, mission_id=mission_id).data)

        fetched += self._parallel(retrieve, gone)
        return fetched

    def _parallel(self, work: Callable[[Any], Any], items: list[Any]) -> list[Any]:
        self.report.requests += len(items)
        if not items:
            return []
        with ThreadPoolExecutor(WORKERS, "missionlab-history") as pool:
            return list(pool.map(work, items))

    # -- events --------------------------------------------------------------------------------

    def _event_pages(self, stop_before: pd.Timestamp | None) -> Iterator[list[dict[str, Any]]]:
        """Batches of the organization's events, newest first, down to ``stop_before``."""
        batch: list[dict[str, Any]] = []
        pages = self._newest_first(self.client.missions.list_events, "timestamp", stop_before)
        for pages_read, rows in enumerate(pages, start=1):
            batch += rows
            if pages_read % EVENT_BATCH_PAGES == 0:
                yield batch
                batch = []
        if batch:
            yield batch

    def _newest_first(
        self, list_call: Callable[..., Any], time_field: str, stop_before: pd.Timestamp | None
    ) -> Iterator[list[dict[str, Any]]]:
        """Pages (as wire dicts) of a newest-first list, down to the first item older than
        ``stop_before`` (everything when None). An incremental pass first reads a small page,
        which usually holds all that is new; items may repeat once (callers key them by id)."""

        def reached(rows: list[dict[str, Any]]) -> bool:
            return not rows or (
                stop_before is not None and min(_time(r[time_field]) for r in rows) < stop_before
            )

        if stop_before is not None:
            probe = [_wire(item) for item in list_call(page_size=PROBE).data]
            self.report.requests += 1
            yield probe
            if reached(probe):
                return
        for page in list_call(page_size=PAGE).iter_pages():
            self.report.requests += 1
            rows = [_wire(item) for item in page.data]
            yield rows
            if reached(rows):
                return

    def _sync_events(self, *, full: bool) -> None:
        state = self.manifest["state"]
        frontier = (
            None
            if full or state["events_frontier"] is None
            else (_time(state["events_frontier"]) - EVENTS_SLACK)
        )
        newest: pd.Timestamp | None = None
        unplaced: list[pd.Timestamp] = []
        bar = self._bar(None, "events")
        try:
            for batch in self._event_pages(frontier):
                if batch:
                    top = max(_time(e["timestamp"]) for e in batch)
                    newest = top if newest is None else max(newest, top)
                placed = [e for e in batch if e.get("run_id") in self.runs]
                unplaced += [_time(e["timestamp"]) for e in batch if e.get("run_id") not in self.runs]
                self.report.new_events += self._store_events(placed)
                self._commit()
                if bar is not None:
                    bar.update(len(batch))
        finally:
            if bar is not None:
                bar.close()
        if unplaced:  # events of runs newer than the runs we listed: read them next time
            newest = min(unplaced) - pd.Timedelta(microseconds=1)
            self.report.notes.append(
                f"{len(unplaced)} events of runs not listed yet: they are read by the next sync"
            )
        if newest is not None:
            self.manifest["state"]["events_frontier"] = newest.isoformat()
        self._commit()

    def _store_events(self, events: Iterable[dict[str, Any]]) -> int:
        unique = list({e["event_id"]: e for e in events}.values())
        if not unique:
            return 0
        owners = [self.runs[e["run_id"]] for e in unique]
        table = to_table(
            "events",
            unique,
            synced_at=self.synced_at,
            extra={"mission_id": [o["mission_id"] for o in owners]},
        )
        return self.dataset.stage(
            self.manifest, "events", table, replace=False, days=[o["day"] for o in owners]
        )

    def _stored_event_counts(self, run_ids: list[str]) -> dict[str, int]:
        missions = sorted({self.runs[r]["mission_id"] for r in run_ids})
        days = sorted({self.runs[r]["day"] for r in run_ids})
        table = self.dataset.read("events", missions=missions, days=(days[0], days[-1]), columns=["run_id"])
        mine = table.filter(pc.is_in(table["run_id"], value_set=pa.array(run_ids)))
        counts = mine.group_by("run_id").aggregate([("run_id", "count")])
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
        totals = self._parallel(total, run_ids)
        short = [r for r, n in zip(run_ids, totals, strict=True) if stored.get(r, 0) < n]

        def all_events(run_id: str) -> list[dict[str, Any]]:
            page = events_api.list(run_id, mission_id=self.runs[run_id]["mission_id"], page_size=PAGE)
            return [_wire(e) for e in page.fetch_all(progress=False)]

        for events in self._parallel(all_events, short):
            self.report.new_events += self._store_events(events)
        self.report.runs_recounted = len(short)
        if short:
            self._commit()

    # -- plans ---------------------------------------------------------------------------------

    def _sync_plans(self) -> None:
        marks = self.dataset.read("_marks", columns=["run_id", "plan_for"]).to_pylist()
        done = {m["run_id"]: m["plan_for"] for m in marks}
        todo = [
            run_id
            for run_id, run in self.runs.items()
            if done.get(run_id) != _time(run["updated_at"]).isoformat()
        ]
        # Batches of runs that share partitions: each commit rewrites few folders.
        todo.sort(key=lambda run_id: (self.runs[run_id]["mission_id"], self.runs[run_id]["day"]))
        plan_api = self.client.missions.runs.plan
        bar = self._bar(len(todo), "plans")

        def plan(run_id: str) -> list[dict[str, Any]]:
            steps = plan_api.retrieve(run_id, mission_id=self.runs[run_id]["mission_id"]).data
            return [_wire(s) for s in steps]

        try:
            for start in range(0, len(todo), PLAN_BATCH):
                batch = todo[start : start + PLAN_BATCH]
                plans = self._parallel(plan, batch)
                steps = [s for steps in plans for s in steps]
                owners = [self.runs[s["run_id"]] for s in steps]
                table = to_table(
                    "steps",
                    steps,
                    synced_at=self.synced_at,
                    extra={"mission_id": [o["mission_id"] for o in owners]},
                )
                self.dataset.stage(
                    self.manifest, "steps", table, replace=True, days=[o["day"] for o in owners]
                )
                self._mark(batch)
                self.report.plans += len(batch)
                self._commit()
                if bar is not None:
                    bar.update(len(batch))
        finally:
            if bar is not None:
                bar.close()

    def _mark(self, run_ids: list[str]) -> None:
        runs = [self.runs[r] for r in run_ids]
        table = pa.table(
            {
                "run_id": run_ids,
                "mission_id": [r["mission_id"] for r in runs],
                "plan_for": [_time(r["updated_at"]).isoformat() for r in runs],
            },
            schema=MARKS,
        )
        self.dataset.stage(self.manifest, "_marks", table, replace=True, days=[r["day"] for r in runs])

    def _log(self, seconds: float) -> None:
        entry = {
            "at": self.synced_at.isoformat(),
            "first": self.report.first,
            "new_runs": self.report.new_runs,
            "changed_runs": self.report.changed_runs,
            "new_events": self.report.new_events,
            "plans": self.report.plans,
            "requests": self.report.requests,
            "seconds": round(seconds, 3),
        }
        self.manifest["syncs"] = [*self.manifest["syncs"], entry][-100:]
        self._commit()
