"""The plans of many runs: one request per run (the API has no list of plans), made
``MAX_CONCURRENT_REQUESTS`` at a time. Every view that needs many runs' plans (frames, the
baselines, the comparison, the history) fetches them here."""

from __future__ import annotations

from collections.abc import Iterable, Sized
from typing import TYPE_CHECKING, Literal

from ..errors import NotFoundError
from ._concurrent import bounded_map
from ._progress import progress_bar

if TYPE_CHECKING:
    from ._client import Client
    from .models import PlanStep

__all__ = ["fetch_plans"]


def fetch_plans(
    client: Client,
    runs: Iterable[tuple[str, str]],
    *,
    missing: Literal["raise", "empty"] = "raise",
    progress: bool | None = False,
) -> list[list[PlanStep]]:
    """The plan steps of each ``(run_id, mission_id)`` of ``runs``, in that order, each plan in
    plan order.

    ``missing="empty"`` gives an empty plan for a run whose plan the server does not find (a
    run listed, then deleted) instead of raising :class:`~missionlab.NotFoundError`.
    ``progress``: a "Plans" bar, as for pages (None: after half a second; default: none).
    """
    api = client.missions.runs.plan

    def plan(run: tuple[str, str]) -> list[PlanStep]:
        run_id, mission_id = run
        try:
            return list(api.retrieve(run_id, mission_id=mission_id).data)
        except NotFoundError:
            if missing == "raise":
                raise
            return []

    total = len(runs) if isinstance(runs, Sized) else None
    with progress_bar(total, desc="Plans", unit="plan", progress=progress) as bar:
        return bounded_map(plan, runs, progress=bar, name="missionlab-plans")
