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

Later syncs size the pages of the newest-first lists by how much each list grew.

Work is committed in batches, so an interrupted sync keeps what it finished; the next
one redoes the rest, and nothing is stored twice (rows are keyed by id).
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from ..types import TERMINAL_RUN_STATUSES
from ._common import PAGE, SyncReport, page_size_for, utc, wire
from ._dataset import MARKS, Dataset, HistoryFormatError
from ._schema import day_of, to_table

if TYPE_CHECKING:
    from ..client._client import Client

PLAN_BATCH = 500
EVENT_BATCH_PAGES = 25
EVENTS_SLACK = pd.Timedelta(minutes=10)  # events may be stamped a little before they are listed
WORKERS = 8
TERMINAL = frozenset(str(s) for s in TERMINAL_RUN_STATUSES)


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
            synced_from = self.manifest["base_url"]
            if synced_from not in (None, self.client.base_url):
                raise HistoryFormatError(
                    f"{self.dataset.path} holds the history of {synced_from}, not of "
                    f"{self.client.base_url}: sync it from the same API, or use another folder"
                )
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
        """A progress bar to use in a ``with`` block (tqdm's, disabled when ``progress`` is False)."""
        from tqdm.auto import tqdm

        return tqdm(
            total=total,
            desc=what,
            unit=" " + what.split()[-1],
            delay=0 if self.progress else 0.5,
            disable=self.progress is False,
        )

    # -- missions and runs ---------------------------------------------------------------------

    def _sync_missions(self) -> None:
        missions = [wire(m) for m in self.client.missions.list(page_size=PAGE).fetch_all(progress=False)]
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
                wire(r)
                for r in self.client.missions.runs.list_runs(page_size=PAGE).fetch_all(progress=self.progress)
            ]
            self.report.requests += max(1, -(-len(fetched) // PAGE))
            self.manifest["state"].setdefault("totals", {})["runs"] = len(fetched)
        else:
            fetched = self._recent_and_active_runs()
        changed = []
        for run in {r["run_id"]: r for r in fetched}.values():
            known = self.runs.get(run["run_id"])
            if known is None:
                self.report.new_runs += 1
            elif utc(known["updated_at"]) == utc(run["updated_at"]):
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
        newest = max((utc(r["started_at"]) for r in self.runs.values()), default=None)
        self.manifest["state"]["runs_frontier"] = None if newest is None else newest.isoformat()
        self._commit()
        return [r["run_id"] for r in changed]

    def _recent_and_active_runs(self) -> list[dict[str, Any]]:
        runs_api = self.client.missions.runs
        frontier = utc(self.manifest["state"]["runs_frontier"])
        fetched = [
            run
            for rows in self._newest_first("runs", runs_api.list_runs, "started_at", frontier)
            for run in rows
        ]
        active_before = {run_id for run_id, run in self.runs.items() if str(run["status"]) not in TERMINAL}
        statuses = {"pending", "running", "paused"} | {
            str(self.runs[run_id]["status"]) for run_id in active_before
        }
        for status in sorted(statuses):
            page = runs_api.list_runs(status=status, page_size=PAGE)
            rows = [wire(r) for r in page.fetch_all(progress=False)]
            self.report.requests += max(1, -(-len(rows) // PAGE))
            fetched += rows
        seen = {r["run_id"] for r in fetched}
        gone = [run_id for run_id in active_before if run_id not in seen]

        def retrieve(run_id: str) -> dict[str, Any]:
            mission_id = self.runs[run_id]["mission_id"]
            return wire(runs_api.retrieve(run_id, mission_id=mission_id).data)

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
        pages = self._newest_first("events", self.client.missions.list_events, "timestamp", stop_before)
        for pages_read, rows in enumerate(pages, start=1):
            batch += rows
            if pages_read % EVENT_BATCH_PAGES == 0:
                yield batch
                batch = []
        if batch:
            yield batch

    def _newest_first(
        self, what: str, list_call: Callable[..., Any], time_field: str, stop_before: pd.Timestamp | None
    ) -> Iterator[list[dict[str, Any]]]:
        """Pages (as wire dicts) of a newest-first list, down to the first item older than
        ``stop_before`` (everything when None); items may repeat (callers key them by id).

        An incremental pass first asks for one item, whose page says how many items the list
        holds now; the difference from the last sync's count sizes the pages, so that what is
        new usually arrives in one page of about its own size."""
        totals = self.manifest["state"].setdefault("totals", {})

        def reached(rows: list[dict[str, Any]]) -> bool:
            return not rows or (
                stop_before is not None and min(utc(r[time_field]) for r in rows) < stop_before
            )

        size = PAGE
        if stop_before is not None:
            probe = list_call(page_size=1)
            self.report.requests += 1
            total = probe.meta.total_results if probe.meta else None
            rows = [wire(item) for item in probe.data]
            yield rows
            if total is not None:
                size = page_size_for(total - totals.get(what, 0))
                totals[what] = total
            if reached(rows):
                return
        for page in list_call(page_size=size).iter_pages():
            self.report.requests += 1
            if stop_before is None and page.meta is not None and page.page_number == 1:
                totals[what] = page.meta.total_results
            rows = [wire(item) for item in page.data]
            yield rows
            if reached(rows):
                return

    def _sync_events(self, *, full: bool) -> None:
        state = self.manifest["state"]
        frontier = (
            None
            if full or state["events_frontier"] is None
            else (utc(state["events_frontier"]) - EVENTS_SLACK)
        )
        newest: pd.Timestamp | None = None
        unplaced: list[pd.Timestamp] = []
        with self._bar(None, "events") as bar:
            for batch in self._event_pages(frontier):
                if batch:
                    top = max(utc(e["timestamp"]) for e in batch)
                    newest = top if newest is None else max(newest, top)
                placed = [e for e in batch if e.get("run_id") in self.runs]
                unplaced += [utc(e["timestamp"]) for e in batch if e.get("run_id") not in self.runs]
                self.report.new_events += self._store_events(placed)
                self._commit()
                bar.update(len(batch))
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
            return [wire(e) for e in page.fetch_all(progress=False)]

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
            if done.get(run_id) != utc(run["updated_at"]).isoformat()
        ]
        # Batches of runs that share partitions: each commit rewrites few folders.
        todo.sort(key=lambda run_id: (self.runs[run_id]["mission_id"], self.runs[run_id]["day"]))
        plan_api = self.client.missions.runs.plan

        def plan(run_id: str) -> list[dict[str, Any]]:
            steps = plan_api.retrieve(run_id, mission_id=self.runs[run_id]["mission_id"]).data
            return [wire(s) for s in steps]

        with self._bar(len(todo), "plans") as bar:
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
                bar.update(len(batch))

    def _mark(self, run_ids: list[str]) -> None:
        runs = [self.runs[r] for r in run_ids]
        table = pa.table(
            {
                "run_id": run_ids,
                "mission_id": [r["mission_id"] for r in runs],
                "plan_for": [utc(r["updated_at"]).isoformat() for r in runs],
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
