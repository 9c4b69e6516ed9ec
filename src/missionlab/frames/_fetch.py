"""The organization's runs, events and plan steps of many runs, fetched as DataFrames.

``fetch_frames(client)`` is the fast way to them: a first page of one item sizes each list,
then every page is fetched at the largest page size, concurrently (the exact walk of
``iter_dicts``), and each page's plain JSON dicts are read into columns as the page
arrives, then let go (no model per item); each column is typed once the list is read.
Plans, which come one run at a time, are fetched concurrently.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

import pandas as pd

from .._wire.fields import EVENT, RUN
from ..client._plans import fetch_plans
from . import _EVENT_FIELDS, _RUN_FIELDS, EVENT_COLUMNS, RUN_COLUMNS, events_frame, runs_frame, steps_frame
from ._columns import ColumnBuffer

if TYPE_CHECKING:
    from ..client._client import Client

__all__ = ["FetchedFrames", "fetch_frames"]

PROBE = 1  # the size of each list's first page
# Nested fields kept as JSON text while the pages arrive (a run's metadata stays an object
# until its labels are read from it).
_RUN_TEXTS = [name for name in RUN.json_names if name in RUN_COLUMNS and name != "metadata"]
_EVENT_TEXTS = [name for name in EVENT.json_names if name in EVENT_COLUMNS]


@dataclass(frozen=True)
class FetchedFrames:
    """Runs, events and (when asked for) plan steps, as the frames of :mod:`missionlab.frames`."""

    runs: pd.DataFrame
    events: pd.DataFrame
    steps: pd.DataFrame | None = None

    def __repr__(self) -> str:
        steps = "" if self.steps is None else f", {len(self.steps):,} steps"
        return f"<FetchedFrames {len(self.runs):,} runs, {len(self.events):,} events{steps}>"


def fetch_frames(
    client: Client,
    *,
    mission_id: str | None = None,
    events: bool = True,
    steps: bool = False,
    progress: bool | None = None,
    now: datetime | None = None,
) -> FetchedFrames:
    """Every run of the organization (or of ``mission_id``) with their events, as frames.

    - ``runs``: newest first, as the API lists them (:func:`~missionlab.frames.runs_frame`);
    - ``events``: every event of those runs, newest first (the organization's event list,
      kept to the mission's runs when ``mission_id`` is given); ``events=False`` skips them;
    - ``steps``: with ``steps=True``, every run's plan (one request per run, 8 at a time),
      in the order of ``runs``, each plan in plan order, step times completed from the
      step events when the plan lacks them.

    ``progress``: None shows progress bars only when fetching takes more than half a
    second, True always, False never. ``now``: what runs and steps still open are
    measured to (default: the current time).
    """
    runs_api = client.missions.runs
    # Each list starts with a page of one item: its meta sizes the list, no model is made for
    # a page read again as JSON, and every page of 1,000 is then fetched concurrently.
    first = (
        runs_api.list(mission_id, page_size=PROBE)
        if mission_id is not None
        else runs_api.list_runs(page_size=PROBE)
    )
    runs = runs_frame(_gathered(first, _RUN_FIELDS, _RUN_TEXTS, progress), now=now)
    events_df = events_frame([])
    if events:
        every_event = client.missions.list_events(page_size=PROBE)
        events_df = events_frame(_gathered(every_event, _EVENT_FIELDS, _EVENT_TEXTS, progress))
        if mission_id is not None:
            events_df = events_df[events_df["run_id"].isin(runs["run_id"])].reset_index(drop=True)
    steps_df = _plans(client, runs, events_df if events else None, progress, now) if steps else None
    return FetchedFrames(runs, events_df, steps_df)


def _gathered(page: Any, fields: Iterable[str], texts: Iterable[str], progress: bool | None) -> ColumnBuffer:
    """The ``fields`` of every item of a list, once (the exact walk of ``iter_dicts``), each
    page's JSON dicts read into columns as it arrives and then let go, the nested ``texts``
    as their JSON text: neither every item's dict nor a model per item is ever kept. The
    columns are typed once the list is read (typing each page's columns as well would make
    many small arrays to join). Reading the pages' dicts into columns in the page threads
    instead, right after parsing, measured the same in CPU time."""
    gathered = ColumnBuffer(fields, texts)
    for chunk in page.iter_dicts(progress=progress):
        gathered.add(chunk)
    return gathered


def _plans(
    client: Client,
    runs: pd.DataFrame,
    events: pd.DataFrame | None,
    progress: bool | None,
    now: datetime | None,
) -> pd.DataFrame:
    pairs = list(zip(runs["run_id"], runs["mission_id"], strict=True))
    plans = fetch_plans(client, pairs, progress=progress)
    return steps_frame([step for plan in plans for step in plan], events=events, runs=runs, now=now)
