"""The live run simulator: plays each managed run's script as (scaled) time passes.

A run's clock advances ``speed`` simulated seconds per real second while the run
is pending or running, and stands still while it is paused. When the run is
cancelled, finished by a PATCH, or deleted, its simulation ends. Progress is
saved in the store, so a sandbox restarted on the same file picks its
simulations up where they were.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from .errors import SandboxError
from .playback import apply_action
from .script import Action, Script, build_script
from .store import Store, stamp

log = logging.getLogger("missionlab.sandbox")

TICK_SECONDS = 0.05


@dataclass
class _LiveRun:
    mission_id: str
    run_id: str
    seed: int
    script: Script
    elapsed: float = 0.0  # simulated seconds since the run was created
    cursor: int = 0  # index of the next action
    last_wall: float = 0.0


def run_seed(base_seed: int, run_id: str) -> int:
    return base_seed * 1_000_003 + int(run_id.replace("-", "")[:8], 16)


class Simulator:
    """Plays managed runs' scripts against ``store``."""

    def __init__(self, store: Store, *, speed: float = 1.0, seed: int = 0) -> None:
        if speed <= 0:
            raise ValueError("speed must be > 0")
        self.store = store
        self.speed = speed
        self.seed = seed
        self._live: dict[str, _LiveRun] = {}

    def start(
        self,
        mission: dict[str, Any],
        run: dict[str, Any],
        *,
        elapsed: float = 0.0,
        cursor: int = 0,
        seed: int | None = None,
    ) -> None:
        """Begin simulating ``run`` of ``mission``."""
        run_id = run["run_id"]
        seed = run_seed(self.seed, run_id) if seed is None else seed
        script = build_script(run_id, mission.get("metadata"), seed)
        self._live[run_id] = _LiveRun(
            mission["mission_id"], run_id, seed, script, elapsed, cursor, time.monotonic()
        )
        self.store.save_simulation(run_id, seed, elapsed, cursor)

    def resume_saved(self) -> None:
        """Pick up the simulations saved in the store (after a restart)."""
        for run_id, seed, elapsed, cursor in self.store.simulations():
            mission = self.store.mission_of_run(run_id)
            if mission is None:
                self.store.end_simulation(run_id)
                continue
            self.start(mission, {"run_id": run_id}, elapsed=elapsed, cursor=cursor, seed=seed)

    def run_in_background(self) -> asyncio.Task[None]:
        return asyncio.get_running_loop().create_task(self._loop(), name="missionlab-simulator")

    async def _loop(self) -> None:
        while True:
            try:
                self.tick()
            except Exception:  # keep simulating the other runs whatever one of them does
                log.exception("simulator tick failed")
            await asyncio.sleep(TICK_SECONDS)

    def tick(self) -> None:
        """Advance every live run to the present."""
        wall = time.monotonic()
        for live in list(self._live.values()):
            status = self.store.run_status(live.run_id)
            if status is None or status in ("succeeded", "failed", "cancelled"):
                self._end(live)
                continue
            if status != "paused":
                live.elapsed += (wall - live.last_wall) * self.speed
            live.last_wall = wall
            if status == "paused":
                continue
            applied = False
            now = datetime.now(UTC)
            while live.cursor < len(live.script.actions):
                action = live.script.actions[live.cursor]
                if action.at > live.elapsed:
                    break
                at = now - timedelta(seconds=(live.elapsed - action.at) / self.speed)
                live.cursor += 1
                applied = True
                if not self._apply(live, action, stamp(at)):
                    break
            if live.cursor >= len(live.script.actions):
                self._end(live)
            elif applied:
                self.store.save_simulation(live.run_id, live.seed, live.elapsed, live.cursor)

    def _end(self, live: _LiveRun) -> None:
        self._live.pop(live.run_id, None)
        with contextlib.suppress(SandboxError):
            self.store.end_simulation(live.run_id)

    def _apply(self, live: _LiveRun, action: Action, at: str) -> bool:
        """Apply one action; False when the run changed under us and the script must stop."""
        try:
            return apply_action(
                _StoreRun(self.store, live.mission_id, live.run_id),
                action,
                at,
                run_id=live.run_id,
                speed=self.speed,
            )
        except SandboxError as exc:  # deleted, or changed by a user: stop simulating it
            log.info("simulation of run %s stopped: %s", live.run_id, exc.detail)
            self._end(live)
            return False


class _StoreRun:
    """A live run in the store, as the target of its script (see :mod:`.playback`)."""

    def __init__(self, store: Store, mission_id: str, run_id: str) -> None:
        self.store, self.mission_id, self.run_id = store, mission_id, run_id

    def set_run_status(self, status: str, at: str) -> None:
        self.store.update_run(self.mission_id, self.run_id, {"status": status}, at=at)

    def add_plan(self, steps: list[dict[str, Any]]) -> None:
        self.store.add_steps(self.mission_id, self.run_id, steps, initial=True)

    def set_step_status(self, step_id: str, status: str, at: str) -> None:
        self.store.update_step(self.mission_id, self.run_id, step_id, {"status": status}, at=at)

    def log_event(self, event: dict[str, Any]) -> None:
        self.store.record_event(self.mission_id, event)

    def skip_open_steps(self, at: str) -> None:
        self.store.skip_open_steps(self.run_id, at)

    def finish(self, fields: dict[str, Any], at: str) -> bool:
        if self.store.run_status(self.run_id) != "running":
            return False
        self.store.update_run(self.mission_id, self.run_id, fields, at=at)
        return True
