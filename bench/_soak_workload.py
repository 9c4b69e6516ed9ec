"""The soak's workload: the mixed operations a :class:`SoakWorker` picks from, weighted.

Missions, runs and their moves, plans and steps, events with and without
idempotency keys, linked agents, tools, knowledge bases and MCP servers, and
reads: retrieves, pages, and ``fetch_all`` of the lists every worker writes to.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from _soak_ledger import CERTAIN
from _soak_worker import Mission, MissionObject, Run, Worker

import missionlab

EVENT_TYPES = ("step_started", "step_completed", "step_failed", "tool_call", "tool_result",
               "message", "error", "custom")
STEP_STATUSES = ("pending", "in_progress", "completed", "skipped", "failed")
AGENTS = ("agent-a", "agent-b", "agent-c")
OBJECTS = {  # kind: (resource, create, get, update, delete, list)
    "tools": ("tools", "create_tool", "get_tool", "update_tool", "delete_tool", "list_tools"),
    "knowledge-bases": ("knowledge_bases", "create_knowledge_base", "get_knowledge_base",
                        "update_knowledge_base", "delete_knowledge_base", "list_knowledge_bases"),
    "mcp-servers": ("mcp_servers", "create_mcp_server", "get_mcp_server", "update_mcp_server",
                    "delete_mcp_server", "list_mcp_servers"),
}
# (from status): [(weight, action, to status)]; "update" is a PATCH of the status.
RUN_MOVES = {
    "pending": [(5, "update", "running"), (1, "cancel_run", "cancelled")],
    "running": [(3, "pause_run", "paused"), (1, "update", "succeeded"), (1, "update", "failed"),
                (1, "cancel_run", "cancelled")],
    "paused": [(3, "resume_run", "running"), (1, "cancel_run", "cancelled")],
}
MAX_RUNS_PER_MISSION = 12
# Method names of SoakWorker, and how often each is picked.
OPERATIONS: dict[str, float] = {
    "create_mission": 3, "update_mission": 3, "delete_mission": 1, "retrieve_mission": 2,
    "create_run": 6, "change_run_status": 8, "retrieve_run": 3, "list_own_runs": 2,
    "create_plan": 3, "add_steps": 3, "update_step": 9, "get_step": 2, "retrieve_plan": 2,
    "log_keyed_event": 10, "log_event": 6, "get_event": 2, "list_run_events": 2,
    "link_agent": 3, "unlink_agent": 2, "list_agents": 1,
    "create_object": 4, "update_object": 3, "delete_object": 2, "get_object": 2,
    "list_objects": 1, "list_page": 2, "fetch_all_shared": 0.5,
}


class SoakWorker(Worker):
    """A worker running the soak's mix of operations."""

    operations = OPERATIONS

    # -- missions -------------------------------------------------------------------------

    def create_mission(self) -> None:
        created, effect, op = self.call("create mission", lambda op: self.client.missions.create(
            name=op, description=op, execution_mode="external", metadata={"soak": True}))
        record = self.record("mission", op, op, effect, None,
                             created and created.data.mission_id, description=op)
        if created is not None:
            self.missions.append(Mission(record, created.data.mission_id))

    def update_mission(self) -> None:
        if (mission := self._mission()) is None:
            return self.create_mission()
        _, effect, op = self.call("update mission", lambda op: self.client.missions.update_mission(
            mission.mission_id, description=op))
        mission.record.write("description", op, effect, op)

    def delete_mission(self) -> None:
        if len(self.missions) < 3 or (mission := self._mission()) is None:
            return self.create_mission()
        _, effect, _ = self.call("delete mission", lambda op: self.client.missions.delete_mission(
            mission.mission_id))
        mission.record.delete(effect)
        if effect != "none":
            self.missions.remove(mission)

    def retrieve_mission(self) -> None:
        if (mission := self._mission()) is not None:
            self.call("retrieve mission", lambda op: self.client.missions.retrieve(
                mission.mission_id))

    # -- runs -----------------------------------------------------------------------------

    def create_run(self) -> None:
        missions = [m for m in self.missions if len(m.runs) < MAX_RUNS_PER_MISSION]
        if not missions:
            return self.create_mission()
        mission = self.rng.choice(missions)
        created, effect, op = self.call("create run", lambda op: self.client.missions.runs.create(
            mission.mission_id, input={"op": op}, metadata={"soak": op}))
        record = self.record("run", op, op, effect, mission.record,
                             created and created.data.run_id, status="pending")
        if created is not None:
            mission.runs.append(Run(record, created.data.run_id, mission.mission_id))

    def change_run_status(self) -> None:
        run = self._run(lambda r: r.status in RUN_MOVES or r.status is None)
        if run is None:
            return self.create_run()
        if run.status is None:
            return self.retrieve_run(run)
        moves = RUN_MOVES[run.status]
        _, action, target = self.rng.choices(moves, [w for w, _, _ in moves])[0]
        runs = self.client.missions.runs
        if action == "update":
            def move(op: str) -> Any:
                return runs.update(run.run_id, mission_id=run.mission_id, status=target)
        else:
            def move(op: str) -> Any:
                return getattr(runs, action)(run.run_id, mission_id=run.mission_id)
        _, effect, op = self.call(f"run {action}", move)
        run.record.write("status", target, effect, op)
        run.record.status_changes.append(effect)
        if effect != "none":
            run.status = target if effect in CERTAIN else None

    def retrieve_run(self, run: Run | None = None) -> None:
        if run is None and (run := self._run()) is None:
            return
        got, _, op = self.call("retrieve run", lambda op: self.client.missions.runs.retrieve(
            run.run_id, mission_id=run.mission_id))
        if got is None:
            return
        if run.status is not None and got.data.status != run.status:
            self.anomaly(f"retrieve run ({op}): status {got.data.status}, expected {run.status}")
        run.status = got.data.status

    def list_own_runs(self) -> None:
        """Walk a mission's runs 3 at a time: every acknowledged run, each once."""
        if (mission := self._mission()) is None:
            return
        listed, _, op = self.call("list runs (pages of 3)", lambda op: [
            r.run_id for r in self.client.missions.runs.list(mission.mission_id, page_size=3)])
        if listed is not None:
            self._check_listing(op, "runs", listed, [r.run_id for r in mission.runs])

    # -- plans ----------------------------------------------------------------------------

    def create_plan(self) -> None:
        run = self._run(lambda r: r.has_plan is False)
        if run is None:
            return self.add_steps()
        self._add_steps(run, self.rng.randint(2, 4), initial=True)

    def add_steps(self) -> None:
        if (run := self._run()) is not None:
            self._add_steps(run, self.rng.randint(1, 2), initial=False)

    def _add_steps(self, run: Run, count: int, *, initial: bool) -> None:
        ids = [f"s{run.next_step + i}" for i in range(count)]
        run.next_step += count
        steps = [{"step_id": s, "description": f"step {s}", "sequence": run.next_step + i}
                 for i, s in enumerate(ids)]
        plan = self.client.missions.runs.plan
        method = plan.create if initial else plan.add_steps_to_plan
        _, effect, op = self.call("create plan" if initial else "add steps", lambda op: method(
            run.run_id, mission_id=run.mission_id, steps=steps))
        for step_id in ids:
            record = self.record("step", f"{run.run_id}/{step_id}", op, effect, run.record,
                                 state=("pending", None))
            if effect in CERTAIN:  # the steps exist: their ids are the worker's own
                run.steps[step_id] = record
        if effect != "none":
            run.has_plan = True if effect in CERTAIN else run.has_plan or None

    def update_step(self) -> None:
        if (run := self._run(lambda r: bool(r.steps))) is None:
            return self.create_plan()
        step_id = self.rng.choice(sorted(run.steps))
        status = self.rng.choice(STEP_STATUSES)
        _, effect, op = self.call("update step", lambda op: self.client.missions.runs.plan
                                  .update_step(step_id, mission_id=run.mission_id,
                                               run_id=run.run_id, status=status,
                                               metadata={"op": op}))
        run.steps[step_id].write("state", (status, op), effect, op)

    def get_step(self) -> None:
        if (run := self._run(lambda r: bool(r.steps))) is not None:
            step_id = self.rng.choice(sorted(run.steps))
            self.call("get step", lambda op: self.client.missions.runs.plan.get_step_details(
                step_id, mission_id=run.mission_id, run_id=run.run_id))

    def retrieve_plan(self) -> None:
        if (run := self._run()) is None:
            return
        plan, _, op = self.call("retrieve plan", lambda op: self.client.missions.runs.plan
                                .retrieve(run.run_id, mission_id=run.mission_id))
        if plan is not None:
            self._check_listing(op, "plan steps", [s.step_id for s in plan.data], list(run.steps))

    # -- events ---------------------------------------------------------------------------

    def log_event(self, *, keyed: bool = False) -> None:
        if (run := self._run()) is None:
            return self.create_run()
        events = self.client.missions.runs.events
        kind = self.rng.choice(EVENT_TYPES)
        step_id = self.rng.choice(sorted(run.steps)) if run.steps and self.rng.random() < 0.5 \
            else None

        def log(op: str) -> Any:
            fields: dict[str, Any] = {"type": kind, "summary": op, "step_id": step_id,
                                      "payload": {"worker": self.index}}
            if not keyed:
                return events.log(run.run_id, mission_id=run.mission_id, **fields)
            try:
                return events.log(run.run_id, mission_id=run.mission_id,
                                  idempotency_key=f"key-{op}", **fields)
            except missionlab.APIError:  # the caller retries once, with the same key
                return events.log(run.run_id, mission_id=run.mission_id,
                                  idempotency_key=f"key-{op}", **fields)

        logged, effect, op = self.call("log event" + (" with key" if keyed else ""), log)
        record = self.record("event", op, op, effect, run.record, logged and logged.data.event_id)
        record.key = f"key-{op}" if keyed else None
        if logged is not None:
            run.events[op] = logged.data.event_id

    def log_keyed_event(self) -> None:
        self.log_event(keyed=True)

    def get_event(self) -> None:
        if (run := self._run(lambda r: bool(r.events))) is not None:
            event_id = run.events[self.rng.choice(sorted(run.events))]
            self.call("get event", lambda op: self.client.missions.runs.events.get_event_details(
                event_id, mission_id=run.mission_id, run_id=run.run_id))

    def list_run_events(self) -> None:
        if (run := self._run()) is None:
            return
        listed, _, op = self.call("fetch_all run events", lambda op: [
            e.event_id for e in self.client.missions.runs.events.list(
                run.run_id, mission_id=run.mission_id, extra_headers=self.header(op)).fetch_all(
                    progress=False)])
        if listed is not None:
            self._check_listing(op, "run events", listed, list(run.events.values()))

    # -- linked agents --------------------------------------------------------------------

    def link_agent(self, *, link: bool = True) -> None:
        if (run := self._run()) is None:
            return self.create_run()
        agents_to_unlink = [a for a, on in run.linked.items() if on is not False]
        if not link and not agents_to_unlink:
            return self.link_agent()
        agent = self.rng.choice(sorted(agents_to_unlink) if not link else AGENTS)
        agents = self.client.missions.runs.telnyx_agents
        if link:
            def change(op: str) -> Any:
                return agents.link(run.run_id, mission_id=run.mission_id, telnyx_agent_id=agent)
        else:
            def change(op: str) -> Any:
                return agents.unlink(agent, mission_id=run.mission_id, run_id=run.run_id)
        known = run.linked.get(agent, False)
        _, effect, op = self.call("link agent" if link else "unlink agent", change,
                                  expect_ok=link or known is True)
        run.record.initial.setdefault(f"agent:{agent}", False)
        run.record.write(f"agent:{agent}", link, effect, op)
        if effect != "none":
            run.linked[agent] = link if effect in CERTAIN else None

    def unlink_agent(self) -> None:
        self.link_agent(link=False)

    def list_agents(self) -> None:
        if (run := self._run()) is None:
            return
        listed, _, op = self.call("list agents", lambda op: self.client.missions.runs
                                  .telnyx_agents.list(run.run_id, mission_id=run.mission_id))
        if listed is not None:
            ids = [a.telnyx_agent_id for a in listed.data]
            self._check_listing(op, "agents", ids, [a for a, on in run.linked.items() if on])
            if unlinked := {a for a, on in run.linked.items() if on is False} & set(ids):
                self.anomaly(f"list agents ({op}): unlinked {sorted(unlinked)} listed")

    # -- tools, knowledge bases, MCP servers ----------------------------------------------

    def _objects_api(self, kind: str, method: int) -> Any:
        names = OBJECTS[kind]
        return getattr(getattr(self.client.missions, names[0]), names[method])

    def create_object(self) -> None:
        if (mission := self._mission()) is None:
            return self.create_mission()
        kind = self.rng.choice(sorted(OBJECTS))
        created, effect, op = self.call(f"create {kind}", lambda op: self._objects_api(kind, 1)(
            mission.mission_id, body={"name": op}))
        object_id = created and created.data[OBJECTS[kind][2].removeprefix("get_") + "_id"]
        record = self.record("object", op, op, effect, mission.record, object_id, rev=None)
        if object_id is not None:
            mission.objects.append(MissionObject(record, kind, object_id))

    def update_object(self) -> None:
        if (owned := self._object()) is None:
            return self.create_object()
        mission, obj = owned
        _, effect, op = self.call(f"update {obj.kind}", lambda op: self._objects_api(obj.kind, 3)(
            obj.object_id, mission_id=mission.mission_id, body={"name": obj.record.tag, "rev": op}))
        obj.record.write("rev", op, effect, op)

    def delete_object(self) -> None:
        if (owned := self._object()) is None:
            return self.create_object()
        mission, obj = owned
        _, effect, _ = self.call(f"delete {obj.kind}", lambda op: self._objects_api(obj.kind, 4)(
            obj.object_id, mission_id=mission.mission_id))
        obj.record.delete(effect)
        if effect != "none":
            mission.objects.remove(obj)

    def get_object(self) -> None:
        if (owned := self._object()) is not None:
            mission, obj = owned
            self.call(f"get {obj.kind}", lambda op: self._objects_api(obj.kind, 2)(
                obj.object_id, mission_id=mission.mission_id))

    def list_objects(self) -> None:
        if (mission := self._mission()) is None:
            return
        kind = self.rng.choice(sorted(OBJECTS))
        id_field = OBJECTS[kind][2].removeprefix("get_") + "_id"
        listed, _, op = self.call(f"list {kind}", lambda op: [
            o[id_field] for o in self._objects_api(kind, 5)(mission.mission_id).data])
        if listed is not None:
            known = [o.object_id for o in mission.objects if o.kind == kind]
            self._check_listing(op, kind, listed, known)

    # -- shared lists ---------------------------------------------------------------------

    def list_page(self) -> None:
        lists = [lambda op: self.client.missions.list(page_size=20),
                 lambda op: self.client.missions.runs.list_runs(status="running", page_size=20),
                 lambda op: self.client.missions.list_events(type="message", page_size=20)]
        self.call("list a page", self.rng.choice(lists))

    def fetch_all_shared(self) -> None:
        """Every mission, run or event of every worker: each item must come once."""
        lists: list[tuple[str, Callable[[str], Any], str]] = [
            ("missions", lambda op: self.client.missions.list(extra_headers=self.header(op)), "mission_id"),
            ("runs", lambda op: self.client.missions.runs.list_runs(extra_headers=self.header(op)), "run_id"),
            ("events", lambda op: self.client.missions.list_events(extra_headers=self.header(op)),
             "event_id")]
        what, first_page, id_field = self.rng.choice(lists)
        listed, _, op = self.call(f"fetch_all {what}", lambda op: [
            getattr(item, id_field) for item in first_page(op).fetch_all(progress=False)])
        if listed is not None:
            self._check_listing(op, f"all {what} (fetch_all)", listed, [])
