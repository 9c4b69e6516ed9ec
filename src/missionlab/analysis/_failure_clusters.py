"""Failure clusters: the failed runs of a fleet, grouped by their error signature
(:func:`missionlab.failures` is :func:`cluster_failures` with explanations one call away).

``failures(source, since=...)`` reads the failed runs that started in ``[since, until)``,
gives each its signature (:mod:`._signature`: the mission, the step the failure started
in, the tool that failed there, the error text with ids, numbers, quotes and timestamps
masked) and groups runs of equal signatures. Each cluster has its runs' ids, first and
last seen (when its runs failed), whether it is new (first seen within ``new_within`` of
the window's end) or recurring, and an example run, the latest, whose explanation is one
call away (``result.explain(cluster)``, of :mod:`.failures`). ``result.over_time("D")`` counts each cluster's
runs per period. ``explain(trace, fleet=...)`` says which cluster a failed run belongs to.

``source`` is a :class:`missionlab.History` (DuckDB finds the failing step, tool and error
of each failed run with a flat plan and plain tool calls, ``_history/_query.py``; the other
failed runs are read here, by :func:`run_signatures`), :func:`missionlab.fetch_frames` output
fetched with ``steps=True``, or a list of run traces: the same signatures from each. The
error texts are masked in bulk (:func:`._signature.normalize_many`).
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pandas as pd

from ..client.errors import InvalidArgumentError
from ..frames._columns import TEXT, python_values
from ..frames._fleet import is_history
from ..frames._runlike import RunLike, field, is_runlike
from ..types import EventType, RunStatus
from ._attempts import tool_calls
from ._evidence import utc
from ._signature import (
    Signature,
    failure_origin,
    final_failures,
    missing,
    normalize_many,
    signature_parts,
    subtree,
)
from .engine import at_moment

__all__ = ["CLUSTER_COLUMNS", "RUN_COLUMNS", "FailureClusters", "cluster_failures", "read_run"]

#: The columns of :attr:`Failures.clusters`, one row per cluster, the largest first.
CLUSTER_COLUMNS = [
    "cluster",
    "mission_id",
    "step_id",
    "tool",
    "signature",
    "runs",
    "first_seen",
    "last_seen",
    "new",
    "example_run_id",
    "example_error",
    "run_ids",
]
#: The columns of :attr:`Failures.runs`, one row per failed run, the latest first.
RUN_COLUMNS = ["run_id", "mission_id", "failed_at", "cluster", "step_id", "tool", "signature", "error"]
#: What a failed run's signature is made of (:func:`run_signatures`, and the history's SQL).
PART_COLUMNS = ("run_id", "mission_id", "started_at", "finished_at", "updated_at", "step_id", "tool", "error")
_EVENT_TYPES = (EventType.ERROR.value, EventType.TOOL_CALL.value, EventType.TOOL_RESULT.value)


@dataclass(frozen=True)
class FailedRuns:
    """What failure clustering reads: failed runs (``run_id``, ``mission_id``, ``started_at``,
    ``finished_at``, ``updated_at``, ``error``), their steps (``run_id``, ``step_id``,
    ``parent_step_id``, ``status``, ``completed_at``, in plan order) and their error and
    tool events (``run_id``, ``event_id``, ``type``, ``step_id``, ``timestamp``, ``summary``,
    ``payload``)."""

    runs: pd.DataFrame
    steps: pd.DataFrame
    events: pd.DataFrame


@dataclass(frozen=True)
class StoredRun:
    """A run read back from a fleet source, enough to explain it (:class:`RunLike`)."""

    run: Any
    mission: Any
    steps_frame: pd.DataFrame
    events_frame: pd.DataFrame


def run_signatures(data: FailedRuns) -> pd.DataFrame:
    """What the signature of each run of ``data.runs`` is made of, in its order (see
    :mod:`._signature`): the run's ``run_id``, ``mission_id``, ``started_at``, ``finished_at``,
    ``updated_at``, and its failing ``step_id``, failed ``tool`` and raw ``error`` text."""
    steps: dict[Any, list[tuple[Any, Any, Any, Any]]] = {}
    for run, step, up, status, done in zip(
        python_values(data.steps["run_id"], None),
        python_values(data.steps["step_id"], None),
        python_values(data.steps["parent_step_id"], None),
        python_values(data.steps["status"].astype(str), None),
        data.steps["completed_at"].tolist(),
        strict=True,
    ):
        steps.setdefault(run, []).append((step, up, status, done))
    # a run's events of one moment in the order of their ids, as the history's SQL reads them
    events = data.events.sort_values(["run_id", "timestamp", "event_id"], kind="stable")
    is_error = (events["type"].astype(str) == EventType.ERROR).to_numpy(dtype=bool)
    errors: dict[Any, list[tuple[Any, Any]]] = {}
    for run, step, summary in zip(
        events["run_id"].to_numpy(dtype=object)[is_error],
        events["step_id"].to_numpy(dtype=object)[is_error],
        events["summary"].to_numpy(dtype=object)[is_error],
        strict=True,
    ):
        errors.setdefault(run, []).append((step, summary))
    calls = tool_calls(events, arguments=False, by_run=True)
    calls = calls[final_failures(calls).to_numpy(dtype=bool)]
    failed: dict[Any, list[tuple[Any, Any, Any]]] = {}
    for run, step, tool, outcome in zip(
        python_values(calls["run_id"], None),
        python_values(calls["step_id"], None),
        python_values(calls["tool"], None),
        python_values(calls["outcome"], None),
        strict=True,
    ):
        failed.setdefault(run, []).append((step, tool, outcome))
    found = []
    for run, error in zip(data.runs["run_id"], data.runs["error"], strict=True):
        rows = steps.get(run, [])
        origin = failure_origin(rows)
        if origin is None:
            found.append(signature_parts(None, [], error, []))
            continue
        mine = subtree(((s, up) for s, up, _, _ in rows), origin)
        found.append(
            signature_parts(
                origin,
                [summary for step, summary in errors.get(run, []) if step in mine],
                error,
                [(tool, outcome) for step, tool, outcome in failed.get(run, []) if step in mine],
            )
        )
    frame = data.runs[list(PART_COLUMNS[:5])].reset_index(drop=True)
    for column, values in zip(
        PART_COLUMNS[5:], zip(*found, strict=True) if found else ([], [], []), strict=True
    ):
        frame[column] = pd.Series(list(values), dtype=object)
    return frame


class FailureClusters:
    """Failure clusters of a fleet (see the module's docstring): :attr:`clusters` (one row
    per cluster, the largest first) and :attr:`runs` (one row per failed run)."""

    def __init__(
        self,
        runs: pd.DataFrame,
        clusters: pd.DataFrame,
        *,
        source: Any,
        window: tuple[Any, Any],
        new_within: timedelta,
    ) -> None:
        self.runs = runs
        self.clusters = clusters
        self.source = source
        self.window = window
        self.new_within = new_within

    def __len__(self) -> int:
        return len(self.clusters)

    def cluster(self, cluster: str | int) -> pd.Series:
        """A cluster's row, by its id or its position (0: the largest)."""
        if isinstance(cluster, int) and not isinstance(cluster, bool):
            if not -len(self.clusters) <= cluster < len(self.clusters):
                raise InvalidArgumentError(
                    "cluster", f"there are {len(self.clusters)} clusters, not {cluster + 1}"
                )
            return self.clusters.iloc[cluster]
        rows = self.clusters[self.clusters["cluster"] == str(cluster)]
        if rows.empty:
            raise InvalidArgumentError(
                "cluster", f"no cluster {str(cluster)[:40]!r}: see .clusters for their ids"
            )
        return rows.iloc[0]

    def cluster_of(self, sig: Signature) -> pd.Series | None:
        """The row of the cluster with this signature, or None."""
        rows = self.clusters[self.clusters["cluster"] == sig.cluster_id]
        return None if rows.empty else rows.iloc[0]

    def over_time(self, freq: str = "D") -> pd.DataFrame:
        """Failed runs per period (rows) and cluster (columns, the largest first)."""
        order = list(self.clusters["cluster"].astype(object))
        if self.runs.empty:
            return pd.DataFrame(columns=pd.Index(order, name="cluster"), dtype="int64")
        grouper = pd.Grouper(key="failed_at", freq=freq)
        runs = self.runs.assign(cluster=self.runs["cluster"].astype(object))
        table = runs.groupby([grouper, "cluster"]).size().unstack("cluster", fill_value=0)
        table = table.reindex(columns=order, fill_value=0).astype("int64")
        table.index.name = "period"
        table.columns = pd.Index(order, name="cluster")
        return table

    def example(self, cluster: str | int = 0) -> RunLike:
        """The cluster's example run (its latest), with its steps and events, from the source."""
        return read_run(self.source, str(self.cluster(cluster)["example_run_id"]))

    def __repr__(self) -> str:
        return f"<Failures {len(self.runs):,} failed runs in {len(self.clusters):,} clusters>"

    def _repr_html_(self) -> str:
        head = self.clusters[
            ["cluster", "step_id", "tool", "signature", "runs", "first_seen", "last_seen", "new"]
        ]
        return f"<div><p><b>{html.escape(repr(self))}</b></p>{head.head(20).to_html(escape=True)}</div>"


# -- reading the sources -------------------------------------------------------------------


def _runs_rows(runs: Iterable[Any]) -> pd.DataFrame:
    rows = [
        {
            "run_id": str(field(run, "run_id")),
            "mission_id": field(run, "mission_id"),
            "status": str(field(run, "status")),
            "started_at": utc(field(run, "started_at")),
            "finished_at": utc(field(run, "finished_at")),
            "updated_at": utc(field(run, "updated_at")),
            "error": field(run, "error"),
        }
        for run in runs
    ]
    frame = pd.DataFrame(
        rows, columns=["run_id", "mission_id", "status", "started_at", "finished_at", "updated_at", "error"]
    )
    for column in ("started_at", "finished_at", "updated_at"):
        frame[column] = pd.to_datetime(frame[column], utc=True)
    return frame


def _failed_runs(source: Any, since: Any, until: Any, mission: Any) -> FailedRuns:
    if isinstance(source, pd.DataFrame):
        raise InvalidArgumentError(
            "source",
            "failures() needs runs with their steps and events: a History, "
            "fetch_frames(client, steps=True) or a list of runs",
        )
    frames_runs, steps, events = getattr(source, "runs", None), getattr(source, "steps", None), None
    if isinstance(frames_runs, pd.DataFrame):  # FetchedFrames
        if not isinstance(steps, pd.DataFrame):
            raise InvalidArgumentError(
                "source", "fetch the frames with their plans: fetch_frames(client, steps=True)"
            )
        runs = frames_runs
        events = source.events
    elif isinstance(source, Iterable) and not isinstance(source, str | bytes):
        traces = list(source)
        bad = [t for t in traces if not is_runlike(t)]
        if bad:
            raise InvalidArgumentError(
                "source", f"a list of runs was expected, not one holding a {type(bad[0]).__name__}"
            )
        runs = _runs_rows(t.run for t in traces)
        if traces:
            steps = pd.concat([t.steps_frame for t in traces], ignore_index=True)
            events = pd.concat([t.events_frame for t in traces], ignore_index=True)
        else:
            steps = pd.DataFrame(columns=["run_id", "step_id", "parent_step_id", "status", "completed_at"])
            events = pd.DataFrame(
                columns=["run_id", "event_id", "type", "step_id", "timestamp", "summary", "payload"]
            )
    else:
        raise InvalidArgumentError(
            "source",
            "a missionlab.History, fetch_frames(client, steps=True) or a list of runs, "
            f"not a {type(source).__name__}",
        )
    keep = (runs["status"].astype(str) == RunStatus.FAILED).to_numpy(dtype=bool)
    begin, end = utc(since), utc(until)
    if begin is not None:
        keep = keep & (runs["started_at"] >= begin).to_numpy(dtype=bool)
    if end is not None:
        keep = keep & (runs["started_at"] < end).to_numpy(dtype=bool)
    if mission is not None:
        wanted = [mission] if isinstance(mission, str) else list(mission)
        keep = keep & runs["mission_id"].astype(object).isin(wanted).to_numpy(dtype=bool)
    runs = runs[keep]
    ids = set(runs["run_id"].astype(object))
    steps = steps[steps["run_id"].astype(object).isin(ids).to_numpy(dtype=bool)]
    events = events[
        (events["run_id"].astype(object).isin(ids) & events["type"].astype(str).isin(_EVENT_TYPES)).to_numpy(
            dtype=bool
        )
    ]
    return FailedRuns(runs, steps, events)


def read_run(source: Any, run_id: str) -> RunLike:
    """One run of a fleet source, with its steps and events."""
    if is_history(source):
        run: RunLike = source._stored_run(run_id)
        return run
    if isinstance(source, FailureClusters):
        return read_run(source.source, run_id)
    frames_runs = getattr(source, "runs", None)
    if isinstance(frames_runs, pd.DataFrame):
        rows = frames_runs[frames_runs["run_id"].astype(object) == run_id]
        steps = getattr(source, "steps", None)
        if not isinstance(steps, pd.DataFrame):
            raise InvalidArgumentError(
                "source", "fetch the frames with their plans: fetch_frames(client, steps=True)"
            )
        if rows.empty:
            raise InvalidArgumentError("run_id", f"no run {run_id[:40]!r} in these frames")
        return StoredRun(
            rows.iloc[0].to_dict(),
            None,
            steps[steps["run_id"].astype(object) == run_id].reset_index(drop=True),
            source.events[source.events["run_id"].astype(object) == run_id].reset_index(drop=True),
        )
    for trace in source:
        if str(field(trace.run, "run_id")) == run_id:
            return trace  # type: ignore[no-any-return]
    raise InvalidArgumentError("run_id", f"no run {run_id[:40]!r} in this fleet")


# -- clustering ----------------------------------------------------------------------------


def cluster_failures(
    source: Any,
    *,
    since: Any = None,
    until: Any = None,
    mission: str | Sequence[str] | None = None,
    new_within: timedelta = timedelta(hours=24),
    now: Any = None,
    kind: type[FailureClusters] = FailureClusters,
) -> FailureClusters:
    """The failed runs that started in ``[since, until)`` grouped by error signature (see the
    module's docstring). A cluster is ``new`` when first seen within ``new_within`` of the
    window's end (``until``, else ``now``: the clock's time unless given)."""
    if is_history(source):  # DuckDB reads the signatures' parts; the odd runs' in Python
        parts, odd = source._failure_parts(since=since, until=until, mission=mission)
        runs = pd.concat([parts, run_signatures(FailedRuns(*odd))], ignore_index=True)
    else:
        runs = run_signatures(_failed_runs(source, since, until, mission))
    for column in ("started_at", "finished_at", "updated_at"):
        runs[column] = pd.to_datetime(runs[column], utc=True)
    failed_at = runs["finished_at"].fillna(runs["updated_at"]).fillna(runs["started_at"])
    parts = pd.DataFrame(
        {
            column: pd.Series(
                [None if missing(value) else str(value) for value in runs[column]],
                dtype=object,
            )
            for column in ("mission_id", "step_id", "tool")
        }
    )
    errors = ["" if missing(value) else str(value) for value in runs["error"]]
    texts = pd.Series(errors, dtype=object).unique().tolist()  # each text masked once
    masked = dict(zip(texts, normalize_many(texts), strict=True))
    parts["signature"] = [masked[text] for text in errors]
    keys = parts.drop_duplicates()
    named = {
        key: Signature(mission, step, tool, text, "").cluster_id
        for key in keys.itertuples(index=False, name=None)
        for mission, step, tool, text in [key]
    }
    table = pd.DataFrame(
        {
            "run_id": runs["run_id"].astype(object).to_numpy(),
            "mission_id": parts["mission_id"],
            "failed_at": pd.to_datetime(failed_at.to_numpy(), utc=True),
            "cluster": [named[key] for key in parts.itertuples(index=False, name=None)],
            "step_id": parts["step_id"],
            "tool": parts["tool"],
            "signature": parts["signature"],
            "error": errors,
        }
    )
    table = table.sort_values(["failed_at", "run_id"], ascending=[False, True], ignore_index=True)
    for column in ("run_id", "mission_id", "cluster", "step_id", "tool", "signature", "error"):
        table[column] = table[column].astype(TEXT)
    end = utc(until) or at_moment(now)
    clusters = _clusters(table, end - new_within)
    return kind(table, clusters, source=source, window=(utc(since), utc(until)), new_within=new_within)


def _clusters(runs: pd.DataFrame, new_after: pd.Timestamp) -> pd.DataFrame:
    rows = []
    for cluster, group in runs.groupby("cluster", sort=False, observed=True):  # runs: latest first
        first = group["failed_at"].min()
        latest = group.iloc[0]
        rows.append(
            {
                "cluster": cluster,
                "mission_id": latest["mission_id"],
                "step_id": latest["step_id"],
                "tool": latest["tool"],
                "signature": latest["signature"],
                "runs": len(group),
                "first_seen": first,
                "last_seen": group["failed_at"].max(),
                "new": bool(first >= new_after),
                "example_run_id": latest["run_id"],
                "example_error": latest["error"],
                "run_ids": list(group["run_id"].astype(object)),
            }
        )
    frame = pd.DataFrame(rows, columns=CLUSTER_COLUMNS)
    frame = frame.sort_values(
        ["runs", "last_seen", "cluster"], ascending=[False, False, True], ignore_index=True
    )
    for column in (
        "cluster",
        "mission_id",
        "step_id",
        "tool",
        "signature",
        "example_run_id",
        "example_error",
    ):
        frame[column] = frame[column].astype(TEXT)
    for column in ("first_seen", "last_seen"):
        frame[column] = pd.to_datetime(frame[column], utc=True)
    frame["runs"] = frame["runs"].astype("int64")
    frame["new"] = frame["new"].astype(bool)
    return frame
