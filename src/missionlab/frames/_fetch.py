"""The organization's runs, events and plan steps of many runs, fetched as DataFrames.

``fetch_frames(client)`` is the fast way to them: a first page of one item sizes each list,
then every page is fetched at the largest page size, concurrently, and read as plain JSON
dicts straight into typed columns (no model per item); plans, which come one run at a
time, are fetched concurrently.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import TYPE_CHECKING, Any

import pandas as pd

from ..client._plans import fetch_plans
from . import concat, events_frame, runs_frame, steps_frame

if TYPE_CHECKING:
    from ..client._client import Client

__all__ = ["FetchedFrames", "fetch_frames"]

CHUNK = 50_000  # items turned into a frame at a time
PROBE = 1  # the size of each list's first page


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
    runs = _framed(_all_items(first, progress), partial(runs_frame, now=now))
    events_df = events_frame([])
    if events:
        every_event = client.missions.list_events(page_size=PROBE)
        events_df = _framed(_all_items(every_event, progress), events_frame)
        if mission_id is not None:
            events_df = events_df[events_df["run_id"].isin(runs["run_id"])].reset_index(drop=True)
    steps_df = _plans(client, runs, events_df if events else None, progress, now) if steps else None
    return FetchedFrames(runs, events_df, steps_df)


def _all_items(page: Any, progress: bool | None) -> list[dict[str, Any]]:
    """Every item of a list, once, as the JSON dicts the server sent (no model per item)."""
    items: list[dict[str, Any]] = page.fetch_all(progress=progress, as_dicts=True)
    return items


def _framed(items: list[Any], build: Callable[[list[Any]], pd.DataFrame]) -> pd.DataFrame:
    """``build(items)``, a chunk at a time from the end, each chunk's items let go once in
    the frame: the items and the whole frame are never in memory together. (Framing while
    the pages are fetched, from ``iter_dicts``, measured slower: the framing and the page
    threads contend for the interpreter.)"""
    parts = []
    while len(items) > CHUNK:
        parts.append(build(items[-CHUNK:]))
        del items[-CHUNK:]
    parts.append(build(items))
    items.clear()
    return parts[0] if len(parts) == 1 else concat(parts[::-1])


def _plans(
    client: Client,
    runs: pd.DataFrame,
    events: pd.DataFrame | None,
    progress: bool | None,
    now: datetime | None,
) -> pd.DataFrame:
    pairs = list(zip(runs["run_id"], runs["mission_id"], strict=True))
    plans = fetch_plans(client, pairs, progress=progress)
    return steps_frame([step for plan in plans for step in plan], events=events, now=now)
