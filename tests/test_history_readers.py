"""Outside readers of the history's Delta tables, read the way docs/history.md shows,
after several syncs with changed runs: DuckDB over the tables' Arrow datasets, Dask
(dask-deltatable, and the tables' live file lists), pyarrow, and a fleet query on a
dask.distributed cluster of two worker processes. Each sees exactly what
``.runs()``, ``.steps()`` and ``.events()`` return."""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import missionlab
from missionlab import History, history
from missionlab.sandbox import Sandbox

from .conftest import unique

TOKEN = "history-readers-token"
COLUMNS = {
    "runs": ["run_id", "mission_id", "status", "started_at", "updated_at", "finished_at", "error"],
    "steps": ["run_id", "step_id", "status", "sequence", "started_at", "completed_at", "times_from"],
    "events": ["event_id", "run_id", "type", "summary", "timestamp", "step_id"],
}


def rows(frame: pd.DataFrame, table: str) -> list[tuple[Any, ...]]:
    """The rows of ``frame`` on the API columns of ``table``, as comparable plain values, sorted."""

    def plain(value: Any) -> Any:
        if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NaT:
            return None
        if isinstance(value, pd.Timestamp | pd.Timedelta) or hasattr(value, "isoformat"):
            return pd.Timestamp(value).tz_convert("UTC").isoformat()
        return str(value)

    columns = COLUMNS[table]
    data = frame[columns].astype(object).where(frame[columns].notna(), None)
    return sorted(tuple(plain(v) for v in row) for row in data.itertuples(index=False))


def ours(h: History) -> dict[str, list[tuple[Any, ...]]]:
    return {
        "runs": rows(h.runs(), "runs"),
        "steps": rows(h.steps(), "steps"),
        "events": rows(h.events(), "events"),
    }


@pytest.fixture(scope="module")
def changed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[History]:
    """A history synced four times, with runs started, moved on and finished in between."""
    with Sandbox(demo=False, token=TOKEN) as sb, sb.client() as api:
        h = history(api, tmp_path_factory.mktemp("readers") / "h")
        mission = api.missions.create(name=unique("readers")).data
        other = api.missions.create(name=unique("readers-2")).data
        runs = api.missions.runs
        made = []
        for n in range(12):
            m = (mission if n % 2 else other).mission_id
            run = runs.create(m, input={"n": n}).data
            steps = [{"step_id": f"s{k}", "description": f"Step {k}", "sequence": k} for k in range(1, 4)]
            runs.plan.create(run.run_id, mission_id=m, steps=steps)
            runs.update(run.run_id, mission_id=m, status="running")
            runs.plan.update_step("s1", mission_id=m, run_id=run.run_id, status="in_progress")
            runs.events.log(run.run_id, mission_id=m, type="tool_call", summary=f"call {n}", step_id="s1")
            made.append((m, run.run_id))
        h.sync(progress=False)
        for m, run_id in made[::2]:  # steps finish, events arrive
            runs.plan.update_step("s1", mission_id=m, run_id=run_id, status="completed")
            runs.plan.update_step("s2", mission_id=m, run_id=run_id, status="in_progress")
            runs.events.log(run_id, mission_id=m, type="tool_result", summary="ok", step_id="s1")
        h.sync(progress=False)
        for n, (m, run_id) in enumerate(made):  # every run ends
            for step in ("s1", "s2", "s3"):
                status = "failed" if n % 3 == 0 and step == "s3" else "completed"
                runs.plan.update_step(step, mission_id=m, run_id=run_id, status="in_progress")
                runs.plan.update_step(step, mission_id=m, run_id=run_id, status=status)
            runs.update(run_id, mission_id=m, status="failed" if n % 3 == 0 else "succeeded", error=None)
        h.sync(progress=False)
        runs.create(mission.mission_id)  # one more new run
        h.sync(progress=False)
        yield History(h.path)


def test_the_scenario_leaves_superseded_files_on_disk(changed: History) -> None:
    """Otherwise the readers below would agree with a reader that globs the folder."""
    for table in ("runs", "steps"):
        on_disk = list((changed.path / table).rglob("*.parquet"))
        assert len(on_disk) > len(changed.files(table)), table
    assert len(changed.syncs) == 4


def test_duckdb_over_the_arrow_datasets_sees_what_the_history_returns(changed: History) -> None:
    import duckdb
    from deltalake import DeltaTable

    have = ours(changed)
    for table in ("runs", "steps", "events"):
        dataset = DeltaTable(str(changed.path / table)).to_pyarrow_dataset()  # noqa: F841 (read by DuckDB)
        relation = duckdb.sql("SELECT * FROM dataset")
        assert relation is not None
        frame = relation.df()
        assert rows(frame, table) == have[table], table
    assert len(have["runs"]) == 13 and len(have["steps"]) == 36


@pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::FutureWarning")
def test_dask_reads_what_the_history_returns(changed: History) -> None:
    import dask.dataframe as dd
    import dask_deltatable

    have = ours(changed)
    for table in ("runs", "steps", "events"):
        delta = dask_deltatable.read_deltalake(str(changed.path / table)).compute()
        assert rows(delta, table) == have[table], table
        listed = dd.read_parquet(changed.files(table)).compute()  # the table's live file list
        assert rows(listed, table) == have[table], table


def test_pyarrow_reads_what_the_history_returns(changed: History) -> None:
    from deltalake import DeltaTable

    have = ours(changed)
    for table in ("runs", "steps", "events"):
        frame = DeltaTable(str(changed.path / table)).to_pyarrow_table().to_pandas()
        assert rows(frame, table) == have[table], table


def test_an_older_version_reads_what_that_sync_stored(changed: History) -> None:
    first = History(changed.path, version=1)
    assert len(first.runs()) == 12 and set(first.runs()["status"].astype(str)) == {"running"}
    assert (first.steps()["status"].astype(str) != "completed").all()
    third = History(changed.path, as_of=changed.syncs["at"].iloc[2])
    assert len(third.runs()) == 12 and set(third.runs()["status"].astype(str)) == {"failed", "succeeded"}
    with pytest.raises(missionlab.InvalidArgumentError, match="versions 1 to 4"):
        History(changed.path, version=5)
    with pytest.raises(missionlab.InvalidArgumentError, match="no sync of this history had finished"):
        History(changed.path, as_of="2000-01-01")


def p50_p95_with_dask_on_two_worker_processes(path: Path) -> pd.DataFrame:
    import dask_deltatable
    from distributed import Client, LocalCluster

    with (
        LocalCluster(  # type: ignore[no-untyped-call]
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        Client(cluster) as client,  # type: ignore[no-untyped-call]
    ):
        assert len(client.scheduler_info()["workers"]) == 2
        steps = dask_deltatable.read_deltalake(str(path / "steps"))
        done = steps[steps["status"].isin(["completed", "failed"]) & steps["completed_at"].notnull()]
        done = done.assign(seconds=(done["completed_at"] - done["started_at"]).dt.total_seconds())
        grouped = done.groupby(["mission_id", "step_id"])["seconds"]
        result = grouped.apply(
            lambda s: pd.Series({"p50": s.quantile(0.5), "p95": s.quantile(0.95)}),
            meta=("seconds", "float64"),
        ).compute()
    frame: pd.DataFrame = result.unstack().reset_index()
    return frame


def test_a_fleet_query_on_a_two_process_dask_cluster_equals_sql(changed: History) -> None:
    theirs = p50_p95_with_dask_on_two_worker_processes(changed.path)
    mine = changed.sql(
        """
        SELECT mission_id, step_id,
               quantile_cont(epoch_us(completed_at) - epoch_us(started_at), 0.5) / 1e6 AS p50,
               quantile_cont(epoch_us(completed_at) - epoch_us(started_at), 0.95) / 1e6 AS p95
        FROM steps WHERE status IN ('completed', 'failed') AND completed_at IS NOT NULL
        GROUP BY ALL
        """
    )
    key = ["mission_id", "step_id"]
    theirs = theirs.sort_values(key).reset_index(drop=True)
    mine = mine.sort_values(key).reset_index(drop=True)
    assert len(mine) == 6  # two missions x three steps
    assert theirs[key].astype(str).values.tolist() == mine[key].astype(str).values.tolist()
    for column in ("p50", "p95"):
        assert theirs[column].tolist() == pytest.approx(mine[column].tolist(), rel=1e-9)
