"""The soak's reads: retrieves and lists, each checked against what the worker was told.

A read that lists an item twice, misses an acknowledged one, or shows another
status than the last one acknowledged is a *bad read* (see :meth:`Worker.anomaly`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from _soak_worker import Run, Worker

OBJECTS = {  # kind: (resource, create, get, update, delete, list)
    "tools": ("tools", "create_tool", "get_tool", "update_tool", "delete_tool", "list_tools"),
    "knowledge-bases": (
        "knowledge_bases",
        "create_knowledge_base",
        "get_knowledge_base",
        "update_knowledge_base",
        "delete_knowledge_base",
        "list_knowledge_bases",
    ),
    "mcp-servers": (
        "mcp_servers",
        "create_mcp_server",
        "get_mcp_server",
        "update_mcp_server",
        "delete_mcp_server",
        "list_mcp_servers",
    ),
}


class ReadingWorker(Worker):
    """The read operations of the soak, and the object API they share with the writes."""

    def retrieve_mission(self) -> None:
        if (mission := self._mission()) is not None:
            self.call("retrieve mission", lambda op: self.client.missions.retrieve(mission.mission_id))

    def retrieve_run(self, run: Run | None = None) -> None:
        if run is None and (run := self._run()) is None:
            return
        got, _, op = self.call(
            "retrieve run",
            lambda op: self.client.missions.runs.retrieve(run.run_id, mission_id=run.mission_id),
        )
        if got is None:
            return
        if run.status is not None and got.data.status != run.status:
            self.anomaly(f"retrieve run ({op}): status {got.data.status}, expected {run.status}")
        run.status = got.data.status

    def list_own_runs(self) -> None:
        """Walk a mission's runs 3 at a time: every acknowledged run, each once."""
        if (mission := self._mission()) is None:
            return
        listed, _, op = self.call(
            "list runs (pages of 3)",
            lambda op: [r.run_id for r in self.client.missions.runs.list(mission.mission_id, page_size=3)],
        )
        if listed is not None:
            self._check_listing(op, "runs", listed, [r.run_id for r in mission.runs])

    def get_step(self) -> None:
        if (run := self._run(lambda r: bool(r.steps))) is not None:
            step_id = self.rng.choice(sorted(run.steps))
            self.call(
                "get step",
                lambda op: self.client.missions.runs.plan.get_step_details(
                    step_id, mission_id=run.mission_id, run_id=run.run_id
                ),
            )

    def retrieve_plan(self) -> None:
        if (run := self._run()) is None:
            return
        plan, _, op = self.call(
            "retrieve plan",
            lambda op: self.client.missions.runs.plan.retrieve(run.run_id, mission_id=run.mission_id),
        )
        if plan is not None:
            self._check_listing(op, "plan steps", [s.step_id for s in plan.data], list(run.steps))

    def get_event(self) -> None:
        if (run := self._run(lambda r: bool(r.events))) is not None:
            event_id = run.events[self.rng.choice(sorted(run.events))]
            self.call(
                "get event",
                lambda op: self.client.missions.runs.events.get_event_details(
                    event_id, mission_id=run.mission_id, run_id=run.run_id
                ),
            )

    def list_run_events(self) -> None:
        if (run := self._run()) is None:
            return
        listed, _, op = self.call(
            "fetch_all run events",
            lambda op: [
                e.event_id
                for e in self.client.missions.runs.events.list(
                    run.run_id, mission_id=run.mission_id, extra_headers=self.header(op)
                ).fetch_all(progress=False)
            ],
        )
        if listed is not None:
            self._check_listing(op, "run events", listed, list(run.events.values()))

    def list_agents(self) -> None:
        if (run := self._run()) is None:
            return
        listed, _, op = self.call(
            "list agents",
            lambda op: self.client.missions.runs.telnyx_agents.list(run.run_id, mission_id=run.mission_id),
        )
        if listed is not None:
            ids = [a.telnyx_agent_id for a in listed.data]
            self._check_listing(op, "agents", ids, [a for a, on in run.linked.items() if on])
            if unlinked := {a for a, on in run.linked.items() if on is False} & set(ids):
                self.anomaly(f"list agents ({op}): unlinked {sorted(unlinked)} listed")

    def _objects_api(self, kind: str, method: int) -> Any:
        names = OBJECTS[kind]
        return getattr(getattr(self.client.missions, names[0]), names[method])

    def get_object(self) -> None:
        if (owned := self._object()) is not None:
            mission, obj = owned
            self.call(
                f"get {obj.kind}",
                lambda op: self._objects_api(obj.kind, 2)(obj.object_id, mission_id=mission.mission_id),
            )

    def list_objects(self) -> None:
        if (mission := self._mission()) is None:
            return
        kind = self.rng.choice(sorted(OBJECTS))
        id_field = OBJECTS[kind][2].removeprefix("get_") + "_id"
        listed, _, op = self.call(
            f"list {kind}",
            lambda op: [o[id_field] for o in self._objects_api(kind, 5)(mission.mission_id)["data"]],
        )
        if listed is not None:
            known = [o.object_id for o in mission.objects if o.kind == kind]
            self._check_listing(op, kind, listed, known)

    def list_page(self) -> None:
        lists = [
            lambda op: self.client.missions.list(page_size=20),
            lambda op: self.client.missions.runs.list_runs(status="running", page_size=20),
            lambda op: self.client.missions.list_events(type="message", page_size=20),
        ]
        self.call("list a page", self.rng.choice(lists))

    def fetch_all_shared(self) -> None:
        """Every mission, run or event of every worker: each item must come once."""
        lists: list[tuple[str, Callable[[str], Any], str]] = [
            ("missions", lambda op: self.client.missions.list(extra_headers=self.header(op)), "mission_id"),
            ("runs", lambda op: self.client.missions.runs.list_runs(extra_headers=self.header(op)), "run_id"),
            (
                "events",
                lambda op: self.client.missions.list_events(extra_headers=self.header(op)),
                "event_id",
            ),
        ]
        what, first_page, id_field = self.rng.choice(lists)
        listed, _, op = self.call(
            f"fetch_all {what}",
            lambda op: [getattr(item, id_field) for item in first_page(op).fetch_all(progress=False)],
        )
        if listed is not None:
            self._check_listing(op, f"all {what} (fetch_all)", listed, [])
