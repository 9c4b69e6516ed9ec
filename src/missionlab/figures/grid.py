"""The grid: a mission's last runs side by side, one column per run (oldest at the left), one
row per plan step, Airflow-style.

Each cell is the step's status in that run, in the Gantt's colors (one palette), deeper the
longer the step took compared with the same step in the other runs shown (a log scale from
the row's shortest to its longest; a failure is always at full strength); a number in the
cell counts the step's failed tool-call attempts (``missionlab.analysis._attempts``); a
star marks a step added after the run started and an arrow one run out of plan order
(``missionlab.analysis._drift``, the Gantt's signs). The top row is the run itself.
Steps are aligned by step id: a step a run's plan does not have is an empty cell in that
run's column, never a shift of the others. The hover names the run (``run_id``); in the
explorer's Grid tab a click on a cell opens its run in the run panel.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from ..analysis._attempts import tool_calls
from ..analysis._drift import plans_drift
from ..client._concurrent import bounded_map
from ..client._plans import fetch_plans
from ..errors import InvalidArgumentError
from ..frames import events_frame, runs_frame, steps_frame
from ..frames._durations import duration_text
from ..frames._fleet import is_history
from ..frames._runlike import field, is_runlike
from ..limits import MAX_PAGE_SIZE
from ..types import EventType
from ._figure import (
    MAX_LABEL,
    RUN_COLORS,
    STEP_COLORS,
    UNKNOWN_COLOR,
    Theme,
    _base_layout_dict,
    _figure,
    _html,
    _label,
    _themed,
)
from ._gantt import MARKER_OUTLINE
from ._gantt_marks import DRIFT_STYLE

__all__ = ["CELLS", "CELL_COLUMNS", "GridData", "failed_attempts", "grid", "grid_data", "grid_figure"]

CELL_COLUMNS = [
    "run_id",
    "step_id",
    "description",
    "depth",
    "status",
    "duration_s",
    "failed_attempts",
    "drift",
    "drift_reason",
]
FAILED = "failed"  # a step's and a run's status alike: drawn at full strength, whatever it lasted
RUN_ROW = "run"  # the label of the top row: the run itself
#: The ``meta`` of the cells' trace (the heatmap): what a clicked point of a cell names.
CELLS = "grid:cells"
LAST = 50  # runs shown by default
FAINTEST = 0.55  # opacity of the shortest duration of a row; the longest is opaque
ROW_PX = 20  # height of a row
TOP_PX, BOTTOM_PX = 60, 200  # margins: the title above; the run times, axis title and legend below
LEGEND_PX = 115  # from the plot's bottom edge to the legend's top (rotated times, axis title)
SHADED, FULL = 0.9, 0.95  # a cell's value in its status's band: shaded up to 0.9, 0.95 at full strength
_CALL_TYPES = [EventType.TOOL_CALL, EventType.TOOL_RESULT, EventType.ERROR]
_CALL_READ = ["event_id", "run_id", "type", "step_id", "timestamp", "summary", "payload"]


@dataclass(frozen=True)
class GridData:
    """What the grid shows: ``runs`` (oldest first, as :func:`~missionlab.frames.runs_frame`),
    ``steps`` (the row order: step ids, plan order, aligned across runs) and ``cells`` (one
    row per step of a run's plan, ``CELL_COLUMNS``)."""

    runs: pd.DataFrame
    steps: list[str]
    cells: pd.DataFrame
    mission: str | None = None  # the mission's name, when known

    def statuses(self) -> pd.DataFrame:
        """Step (rows) by run id (columns): each cell's status, missing where the run's plan
        has no such step."""
        table = self.cells.pivot(index="step_id", columns="run_id", values="status")
        return table.reindex(index=self.steps, columns=list(self.runs["run_id"])).astype(object)


def grid(
    source: Any,
    *,
    mission: str | None = None,
    last: int = LAST,
    title: str | None = None,
    theme: Theme = "neutral",
) -> go.Figure:
    """A mission's last ``last`` runs by plan step (see the module's docstring).

    ``source``: a client (the mission's newest runs are fetched, with their plans and events,
    a few requests at a time), a :class:`missionlab.History`, or traces (run traces, loaded
    capsules). ``mission``: its id or name (needed with a client or a history; with traces it
    keeps that mission's runs). ``theme=None`` keeps plotly's template.
    """
    return grid_figure(grid_data(source, mission=mission, last=last), title=title, theme=theme)


def grid_data(source: Any, *, mission: str | None = None, last: int = LAST) -> GridData:
    """The data :func:`grid` draws (same arguments)."""
    if isinstance(last, bool) or not isinstance(last, int) or last < 1:
        raise InvalidArgumentError(
            "last", f"the number of runs to show must be a whole number >= 1, not {last!r}"
        )
    if is_history(source):
        name, parts = mission, _from_history(source, _mission(mission), last)
    elif callable(getattr(getattr(source, "missions", None), "list", None)):
        name, mission_id = _mission_of(source, _mission(mission))
        parts = _from_client(source, mission_id, last)
    elif isinstance(source, Sequence) and not isinstance(source, str | bytes):
        name, parts = _from_traces(list(source), mission, last)
    else:
        raise InvalidArgumentError(
            "source",
            f"a grid is drawn from a client, a missionlab.History or a list of run traces, "
            f"not a {type(source).__name__}",
        )
    return _grid_data(*parts, name)


def _mission(mission: Any) -> str:
    if not isinstance(mission, str) or not mission.strip():
        raise InvalidArgumentError("mission", f"the mission's id or name is needed here, not {mission!r}")
    return mission


Parts = tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]
"""What a source gives: its runs frame, the steps of every run (one steps frame, whose
``run_id`` says whose each step is) and the tool calls, results and errors of every run (one
events frame)."""


def _calls_only(events: pd.DataFrame) -> pd.DataFrame:
    return events.loc[events["type"].isin(_CALL_TYPES).to_numpy(dtype=bool), _CALL_READ]


def _from_history(history: Any, mission: str, last: int) -> Parts:
    runs = history.runs(mission=mission).head(last)
    ids = [str(run) for run in runs["run_id"]]
    if not ids:
        return runs, steps_frame([]), events_frame([])
    steps = history.steps(mission=mission, run=ids)
    events = history.events(mission=mission, run=ids, type=[str(kind) for kind in _CALL_TYPES])
    return runs, steps, events


def _mission_of(client: Any, mission: str) -> tuple[str, str]:
    """The name and id of the mission named or numbered ``mission``."""
    missions = client.missions.list(page_size=MAX_PAGE_SIZE).fetch_all()
    for candidate in missions:
        if mission in (str(candidate.mission_id), candidate.name):
            return str(candidate.name), str(candidate.mission_id)
    raise InvalidArgumentError("mission", f"{mission!r} is neither the name nor the id of a mission")


def _from_client(client: Any, mission_id: str, last: int) -> Parts:
    page = client.missions.runs.list(mission_id, page_size=min(last, MAX_PAGE_SIZE))
    listed: list[Any] = []
    for each in page.iter_pages():
        listed.extend(each.data)
        if len(listed) >= last:
            break
    listed = listed[:last]
    pairs = [(str(run.run_id), str(run.mission_id)) for run in listed]
    plans = fetch_plans(client, pairs, missing="empty")
    api = client.missions.runs.events
    per_run = bounded_map(
        lambda pair: api.list(pair[0], mission_id=pair[1], page_size=MAX_PAGE_SIZE).fetch_all(as_dicts=True),
        pairs,
        name="missionlab-grid",
    )
    events = events_frame([event for run_events in per_run for event in run_events])
    steps = steps_frame([step for plan in plans for step in plan], events=events, runs=listed)
    return runs_frame(listed), steps, _calls_only(events)


def _from_traces(traces: list[Any], mission: str | None, last: int) -> tuple[str | None, Parts]:
    strays = [type(t).__name__ for t in traces if not is_runlike(t)]
    if strays:
        raise InvalidArgumentError("source", f"not a run trace: a {strays[0]}")
    if mission is not None:
        traces = [
            t
            for t in traces
            if mission in (field(t.run, "mission_id"), field(t.mission, "name") if t.mission else None)
        ]
    missions = {str(field(t.run, "mission_id")) for t in traces}
    if len(missions) > 1:
        raise InvalidArgumentError(
            "mission", f"these traces are runs of {len(missions)} missions: pass mission= to choose one"
        )
    name = next((str(field(t.mission, "name")) for t in traces if t.mission is not None), mission)
    runs = runs_frame([t.run for t in traces])
    keep = sorted(runs.sort_values("started_at", ascending=False, kind="stable").index[:last])
    chosen = [traces[i] for i in keep]
    if not chosen:
        return name, (runs.iloc[:0], steps_frame([]), events_frame([]))
    # one frame of each kind for every run (whole frames: concatenated faster than a choice
    # of columns of each), then only the events read
    plans = [t.steps_frame for t in chosen]
    steps = pd.concat(plans, ignore_index=True)
    owners = [str(field(t.run, "run_id")) for t in chosen]  # a step's run is its trace's
    steps["run_id"] = np.repeat(np.array(owners, dtype=object), [len(plan) for plan in plans])
    events = pd.concat([t.events_frame for t in chosen], ignore_index=True)
    return name, (runs.loc[keep].reset_index(drop=True), steps, _calls_only(events))


def failed_attempts(events: pd.DataFrame) -> pd.Series:
    """Failed tool calls per (run id, step id), of the events of many runs (read run by run,
    as ``analysis._attempts.tool_calls`` reads one run's)."""
    calls = tool_calls(events, arguments=False, by_run=True)
    failed = calls.loc[calls["failed"].to_numpy(dtype=bool) & calls["step_id"].notna().to_numpy(dtype=bool)]
    counts = failed.groupby([failed["run_id"].astype(str), failed["step_id"].astype(str)], sort=False).size()
    return counts.rename_axis(["run_id", "step_id"]).astype("int64")


def _texts(values: pd.Series) -> np.ndarray[Any, Any]:
    """Text values as an object array, None where missing."""
    return values.astype(object).where(values.notna(), None).to_numpy()


def _grid_data(runs: pd.DataFrame, steps: pd.DataFrame, calls: pd.DataFrame, mission: str | None) -> GridData:
    """Cells of ``runs`` (oldest first) and the steps' row order, in one pass over every
    run's steps (column operations; no loop over runs or cells)."""
    runs = runs.sort_values("started_at", kind="stable", na_position="first").reset_index(drop=True)
    if runs["run_id"].duplicated().any():
        raise InvalidArgumentError(
            "source", "the same run is given twice: each run is one column of the grid"
        )
    run_ids = runs["run_id"].astype(str).to_numpy(dtype=object)
    owner = steps["run_id"].astype(str).to_numpy(dtype=object)
    column = pd.Index(run_ids).get_indexer(owner)  # -1: a step of a run not shown
    ids = steps["step_id"].astype(str).to_numpy(dtype=object)
    # a run's cells in its plan's order, a step listed twice in a plan taken once (its last)
    last = ~pd.DataFrame({"run": column, "step": ids}).duplicated(keep="last").to_numpy(dtype=bool)
    rows = np.flatnonzero(last & (column >= 0))
    rows = rows[np.argsort(column[rows], kind="stable")]
    plan = steps.iloc[rows]
    column, ids = column[rows], ids[rows]
    drift = plans_drift(plan, column)
    owners = run_ids[column]
    failed = failed_attempts(calls)
    counts = failed.reindex(pd.MultiIndex.from_arrays([owners, ids]), fill_value=0)
    cells = pd.DataFrame(
        {
            "run_id": owners,
            "step_id": ids,
            "description": plan["description"].to_numpy(dtype=object, na_value=""),
            "depth": plan["depth"].to_numpy(dtype="int64"),
            "status": plan["status"].astype(str).to_numpy(dtype=object),
            "duration_s": plan["duration_s"].to_numpy(dtype="float64", na_value=np.nan),
            "failed_attempts": counts.to_numpy(dtype="int64"),
            "drift": _texts(drift["drift"]),
            "drift_reason": _texts(drift["reason"]),
        }
    )
    if cells.empty:
        cells = pd.DataFrame(
            {name: np.array([], dtype="float64" if name == "duration_s" else object) for name in CELL_COLUMNS}
        )
    starts = np.flatnonzero(np.diff(column, prepend=-1, append=len(run_ids)))
    order = [part.tolist() for part in np.split(ids, starts[1:-1])]  # each run's steps
    return GridData(runs, _aligned(order), cells, mission)


def _aligned(plans: list[list[str]]) -> list[str]:
    """Every step id once, in plan order: the newest plan's order, each step of an older plan
    that the newer ones lack placed right after the step it follows in its own plan."""
    order: list[str] = []
    placed: set[str] = set()
    for plan in reversed(plans):
        after = -1  # position in ``order`` of the last step of this plan already placed
        for step_id in plan:
            if step_id in placed:
                after = order.index(step_id)
                continue
            order.insert(after + 1, step_id)
            placed.add(step_id)
            after += 1
    return order


def _shades(values: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    """Per row, each duration's place between the row's shortest (0) and longest (1) on a
    log scale; 1 where there is no duration, or a single one."""
    if not values.size:
        return np.ones(values.shape)
    with np.errstate(divide="ignore", invalid="ignore"):
        logs = np.log(np.where(values > 0, values, np.nan))
        low = np.nanmin(np.where(np.isnan(logs), np.inf, logs), axis=1, keepdims=True)
        high = np.nanmax(np.where(np.isnan(logs), -np.inf, logs), axis=1, keepdims=True)
        span = high - low
        shade = np.where(np.isfinite(span) & (span > 0), (logs - low) / span, 1.0)
    return np.where(np.isnan(shade), 1.0, np.clip(shade, 0.0, 1.0))


def _rgba(color: str, alpha: float) -> str:
    red, green, blue = (int(color[i : i + 2], 16) for i in (1, 3, 5))
    return f"rgba({red}, {green}, {blue}, {alpha:g})"


def _palette(statuses: list[str]) -> tuple[list[str], dict[str, str]]:
    """Every status a cell may have, each with its color: steps', then runs', then unknowns."""
    colors = {**RUN_COLORS, **STEP_COLORS}
    known = list(dict.fromkeys([*STEP_COLORS, *RUN_COLORS]))
    names = known + [s for s in dict.fromkeys(statuses) if s not in colors]
    return names, {name: colors.get(name, UNKNOWN_COLOR) for name in names}


def _colorscale(names: list[str], colors: dict[str, str]) -> list[list[Any]]:
    """One band per status: from faint (shortest) to opaque (longest), then opaque to the
    band's end (where full-strength cells sit: :data:`FULL`)."""
    count = len(names)
    scale: list[list[Any]] = []
    for index, name in enumerate(names):
        scale.append([index / count, _rgba(colors[name], FAINTEST)])
        scale.append([(index + SHADED) / count, _rgba(colors[name], 1.0)])
        scale.append([(index + 0.99) / count, _rgba(colors[name], 1.0)])
    scale[-1][0] = 1.0
    return scale


def _run_labels(runs: pd.DataFrame) -> list[str]:
    starts = pd.to_datetime(runs["started_at"], utc=True)
    return ["not started" if pd.isna(moment) else moment.strftime("%m-%d %H:%M") for moment in starts]


def grid_figure(data: GridData, *, title: str | None = None, theme: Theme = "neutral") -> go.Figure:
    """The grid of ``data`` (see :func:`grid`)."""
    runs, cells = data.runs, data.cells
    run_ids = [str(r) for r in runs["run_id"]]
    rows = [RUN_ROW, *data.steps]
    row_of = {step: index + 1 for index, step in enumerate(data.steps)}
    column_of = {run: index for index, run in enumerate(run_ids)}
    shape = (len(rows), len(run_ids))
    status = np.full(shape, "", dtype=object)
    seconds = np.full(shape, np.nan)
    attempts = np.zeros(shape, dtype="int64")
    drift = np.full(shape, "", dtype=object)
    reasons = np.full(shape, "", dtype=object)
    descriptions = {RUN_ROW: "the run"}
    depths = {RUN_ROW: 0}
    status[0] = runs["status"].astype(str).to_numpy()
    seconds[0] = runs["duration_s"].to_numpy(dtype="float64", na_value=np.nan)
    if len(cells):
        r = cells["step_id"].map(row_of).to_numpy(dtype="int64")
        c = cells["run_id"].map(column_of).to_numpy(dtype="int64")
        status[r, c] = cells["status"].to_numpy()
        seconds[r, c] = cells["duration_s"].to_numpy(dtype="float64")
        attempts[r, c] = cells["failed_attempts"].to_numpy()
        drift[r, c] = cells["drift"].fillna("").to_numpy()
        reasons[r, c] = cells["drift_reason"].fillna("").to_numpy()
        newest = cells.drop_duplicates("step_id", keep="last")
        descriptions.update(zip(newest["step_id"], newest["description"], strict=True))
        depths.update(zip(newest["step_id"], newest["depth"].tolist(), strict=True))
    present = status != ""
    names, colors = _palette(sorted({str(s) for s in status[present]}))
    code = {name: index for index, name in enumerate(names)}
    z = np.full(shape, np.nan)
    z[present] = [code[s] for s in status[present]]
    offsets = np.where(status == FAILED, FULL, _shades(seconds) * SHADED)  # a failure never fades
    z[present] += offsets[present]
    labels = _run_labels(runs)
    escaped_rows = [_html(descriptions[step]) for step in rows]
    customdata = np.empty((*shape, 7), dtype=object)
    customdata[..., 0] = np.array(run_ids, dtype=object)[None, :]
    customdata[..., 1] = np.array(labels, dtype=object)[None, :]
    customdata[..., 2] = np.array(runs["status"].astype(str).to_numpy(), dtype=object)[None, :]
    customdata[..., 3] = np.array(escaped_rows, dtype=object)[:, None]
    customdata[..., 4] = np.where(present, status, "not in this run's plan")
    customdata[..., 5] = customdata[..., 6] = ""
    timed = ~np.isnan(seconds)  # the one duration formatter, on the cells that have a duration
    customdata[..., 5][timed] = [duration_text(value) for value in seconds[timed].tolist()]
    retried = attempts > 0
    customdata[..., 6][retried] = [
        f"<br>{count} failed attempt{'s' if count > 1 else ''}" for count in attempts[retried].tolist()
    ]
    drift_text = np.where(drift != "", "<br>" + drift.astype(str) + ": " + reasons.astype(str), "")
    customdata[..., 6] = customdata[..., 6] + np.asarray(drift_text, dtype=object)
    heatmap = {
        "type": "heatmap",
        "meta": CELLS,
        "name": "steps",
        "z": z,
        "x": np.arange(len(run_ids)),
        "y": np.arange(len(rows)),
        "zmin": 0,
        "zmax": len(names),
        "colorscale": _colorscale(names, colors),
        "showscale": False,
        "xgap": 1,
        "ygap": 1,
        "hoverongaps": True,
        "customdata": customdata,
        "text": np.where(attempts > 0, attempts.astype(str), ""),
        "texttemplate": "%{text}",
        "textfont": {"size": 10},
        "hovertemplate": (
            "run %{customdata[0]}<br>started %{customdata[1]} · %{customdata[2]}"
            "<br><b>%{customdata[3]}</b><br>%{customdata[4]} %{customdata[5]}%{customdata[6]}<extra></extra>"
        ),
    }
    traces: list[dict[str, Any]] = [heatmap]
    shown: dict[str, list[str]] = {}  # color -> the statuses drawn in it (steps' and runs' share)
    for name in names:
        if (status == name).any():
            shown.setdefault(colors[name], []).append(name)
    traces += [
        {
            "type": "scatter",
            "meta": "legend:" + " / ".join(same),
            "name": _html(" / ".join(same)),
            "mode": "markers",
            "x": [None],
            "y": [None],
            "marker": {"symbol": "square", "size": 11, "color": color},
            "hoverinfo": "skip",
        }
        for color, same in shown.items()
    ]
    for kind, (name, symbol, color) in DRIFT_STYLE.items():
        r, c = np.nonzero(drift == kind)
        if not len(r):
            continue
        traces.append(
            {
                "type": "scatter",
                "meta": f"drift:{kind}",
                "name": name,
                "mode": "markers",
                "x": c - 0.28,
                "y": r - 0.22,
                "marker": {
                    "symbol": symbol,
                    "size": 7,
                    "color": color,
                    "line": {"width": 1, "color": MARKER_OUTLINE},
                },
                "customdata": customdata[r, c],
                "hovertemplate": heatmap["hovertemplate"],
            }
        )
    step_labels = [f"<b>{_html(RUN_ROW)}</b>"] + [
        _label(descriptions[step], depths[step], MAX_LABEL) for step in data.steps
    ]
    every = max(1, math.ceil(len(run_ids) / 12))
    ticks = list(range(len(run_ids) - 1, -1, -every))[::-1]
    named = f"{data.mission} · " if data.mission else ""
    plot_px = max(ROW_PX * len(rows), 120)
    layout = _base_layout_dict(
        title or f"{named}last {len(run_ids)} runs by plan step",
        top=TOP_PX,
        # below the plot, under the run times and the axis title: above, it would run into
        # the title on a narrow screen, where it takes several lines
        legend={"orientation": "h", "x": 0, "xanchor": "left", "y": -LEGEND_PX / plot_px, "yanchor": "top"},
        height=plot_px + TOP_PX + BOTTOM_PX,
        meta={"runs": run_ids, "steps": rows},
        hovermode="closest",
        xaxis={
            "title": {"text": "runs, oldest to newest (started, UTC)"},
            "tickmode": "array",
            "tickvals": ticks,
            "ticktext": [labels[i] for i in ticks],
            "tickangle": -45,
            "range": [-0.5, max(len(run_ids), 1) - 0.5],
            "showgrid": False,
            "zeroline": False,
        },
        yaxis={
            "tickmode": "array",
            "tickvals": list(range(len(rows))),
            "ticktext": step_labels,
            "range": [len(rows) - 0.5, -0.5],
            "automargin": True,
            "showgrid": False,
            "zeroline": False,
        },
    )
    layout["margin"]["b"] = BOTTOM_PX
    return _figure({"data": traces, "layout": _themed(layout, theme)})
