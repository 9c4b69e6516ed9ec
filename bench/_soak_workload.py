"""The soak's workload: the mixed operations a :class:`SoakWorker` picks from, weighted.

The writes are here: missions, runs and their moves, plans and steps, events
with and without idempotency keys, linked agents, tools, knowledge bases and
MCP servers. The reads (retrieves, pages, ``fetch_all`` of the lists every worker
writes to) are in ``_soak_reads``.
"""

from __future__ import annotations

from typing import Any

from _soak_ledger import CERTAIN
from _soak_reads import OBJECTS, ReadingWorker
from _soak_worker import Mission, MissionObject, Run

import missionlab
from missionlab.types import EventType, StepStatus

# What a caller may log or set (status_change events are the server's own), in the order of
# missionlab.types, which the seeded choices depend on.
EVENT_TYPES = tuple(str(kind) for kind in EventType if kind != EventType.STATUS_CHANGE)
STEP_STATUSES = tuple(str(status) for status in StepStatus)
AGENTS = ("agent-a", "agent-b", "agent-c")
# (from status): [(weight, action, to status)]; "update" is a PATCH of the status.
RUN_MOVES = {
    "pending": [(5, "update", "running"), (1, "cancel_run", "cancelled")],
    "running": [
        (3, "pause_run", "paused"),
        (1, "update", "succeeded"),
        (1, "update", "failed"),
        (1, "cancel_run", "cancelled"),
    ],
    "paused": [(3, "resume_run", "running"), (1, "cancel_run", "cancelled")],
}
MAX_RUNS_PER_MISSION = 12
# Method names of SoakWorker, and how often each is picked.
OPERATIONS: dict[str, float] = {
    "create_mission": 3,
    "update_mission": 3,
    "delete_mission": 1,
    "retrieve_mission": 2,
    "create_run": 6,
    "change_run_status": 8,
    "retrieve_run": 3,
    "list_own_runs": 2,
    "create_plan": 3,
    "add_steps": 3,
    "update_step": 9,
    "get_step": 2,
    "retrieve_plan": 2,
    "log_keyed_event": 10,
    "log_event": 6,
    "get_event": 2,
    "list_run_events": 2,
    "link_agent": 3,
    "unlink_agent": 2,
    "list_agents": 1,
    "create_object": 4,
    "update_object": 3,
    "delete_object": 2,
    "get_object": 2,
    "list_objects": 1,
    "list_page": 2,
    "fetch_all_shared": 0.5,
}


class SoakWorker(ReadingWorker):
    """A worker running the soak's mix of operations: these writes, and the reads it inherits."""

    operations = OPERATIONS

    # -- missions -----------------------------------------------------------------------------

    def create_mission(self) -> None:
        created, effect, op = self.call(
            "create mission",
            lambda op: self.client.missions.create(
                name=op, description=op, execution_mode="external", metadata={"soak": True}
            ),
        )
        record = self.record(
            "mission", op, op, effect, None, created and created.data.mission_id, description=op
        )
        if created is not None:
            self.missions.append(Mission(record, created.data.mission_id))

    def update_mission(self) -> None:
        if (mission := self._mission()) is None:
            return self.create_mission()
        _, effect, op = self.call(
            "update mission",
            lambda op: self.client.missions.update_mission(mission.mission_id, description=op),
        )
        mission.record.write("description", op, effect, op)

    def delete_mission(self) -> None:
        if len(self.missions) < 3 or (mission := self._mission()) is None:
            return self.create_mission()
        _, effect, _ = self.call(
            "delete mission", lambda op: self.client.missions.delete_mission(mission.mission_id)
        )
        mission.record.delete(effect)
        if effect != "none":
            self.missions.remove(mission)

    # -- runs ---------------------------------------------------------------------------------

    def create_run(self) -> None:
        missions = [m for m in self.missions if len(m.runs) < MAX_RUNS_PER_MISSION]
        if not missions:
            return self.create_mission()
        mission = self.rng.choice(missions)
        created, effect, op = self.call(
            "create run",
            lambda op: self.client.missions.runs.create(
                mission.mission_id, input={"op": op}, metadata={"soak": op}
            ),
        )
        record = self.record(
            "run", op, op, effect, mission.record, created and created.data.run_id, status="pending"
        )
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

    # -- plans --------------------------------------------------------------------------------

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
        steps = [
            {"step_id": s, "description": f"step {s}", "sequence": run.next_step + i}
            for i, s in enumerate(ids)
        ]
        plan = self.client.missions.runs.plan
        method = plan.create if initial else plan.add_steps_to_plan
        _, effect, op = self.call(
            "create plan" if initial else "add steps",
            lambda op: method(run.run_id, mission_id=run.mission_id, steps=steps),
        )
        for step_id in ids:
            record = self.record(
                "step", f"{run.run_id}/{step_id}", op, effect, run.record, state=("pending", None)
            )
            if effect in CERTAIN:  # the steps exist: their ids are the worker's own
                run.steps[step_id] = record
        if effect != "none":
            run.has_plan = True if effect in CERTAIN else run.has_plan or None

    def update_step(self) -> None:
        if (run := self._run(lambda r: bool(r.steps))) is None:
            return self.create_plan()
        step_id = self.rng.choice(sorted(run.steps))
        status = self.rng.choice(STEP_STATUSES)
        _, effect, op = self.call(
            "update step",
            lambda op: self.client.missions.runs.plan.update_step(
                step_id, mission_id=run.mission_id, run_id=run.run_id, status=status, metadata={"op": op}
            ),
        )
        run.steps[step_id].write("state", (status, op), effect, op)

    # -- events -------------------------------------------------------------------------------

    def log_event(self, *, keyed: bool = False) -> None:
        if (run := self._run()) is None:
            return self.create_run()
        events = self.client.missions.runs.events
        kind = self.rng.choice(EVENT_TYPES)
        step_id = self.rng.choice(sorted(run.steps)) if run.steps and self.rng.random() < 0.5 else None

        def log(op: str) -> Any:
            fields: dict[str, Any] = {
                "type": kind,
                "summary": op,
                "step_id": step_id,
                "payload": {"worker": self.index},
            }
            if not keyed:
                return events.log(run.run_id, mission_id=run.mission_id, **fields)
            try:
                return events.log(
                    run.run_id, mission_id=run.mission_id, idempotency_key=f"key-{op}", **fields
                )
            except missionlab.APIError:  # the caller retries once, with the same key
                return events.log(
                    run.run_id, mission_id=run.mission_id, idempotency_key=f"key-{op}", **fields
                )

        logged, effect, op = self.call("log event" + (" with key" if keyed else ""), log)
        record = self.record("event", op, op, effect, run.record, logged and logged.data.event_id)
        record.key = f"key-{op}" if keyed else None
        if logged is not None:
            run.events[op] = logged.data.event_id

    def log_keyed_event(self) -> None:
        self.log_event(keyed=True)

    # -- linked agents ------------------------------------------------------------------------

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
        _, effect, op = self.call(
            "link agent" if link else "unlink agent", change, expect_ok=link or known is True
        )
        run.record.initial.setdefault(f"agent:{agent}", False)
        run.record.write(f"agent:{agent}", link, effect, op)
        if effect != "none":
            run.linked[agent] = link if effect in CERTAIN else None

    def unlink_agent(self) -> None:
        self.link_agent(link=False)

    # -- tools, knowledge bases, MCP servers --------------------------------------------------

    def create_object(self) -> None:
        if (mission := self._mission()) is None:
            return self.create_mission()
        kind = self.rng.choice(sorted(OBJECTS))
        created, effect, op = self.call(
            f"create {kind}", lambda op: self._objects_api(kind, 1)(mission.mission_id, body={"name": op})
        )
        # Mission objects come back as the JSON the server sent (the document says any JSON):
        # the sandbox wraps the object in "data".
        object_id = created and created["data"][OBJECTS[kind][2].removeprefix("get_") + "_id"]
        record = self.record("object", op, op, effect, mission.record, object_id, rev=None)
        if object_id is not None:
            mission.objects.append(MissionObject(record, kind, object_id))

    def update_object(self) -> None:
        if (owned := self._object()) is None:
            return self.create_object()
        mission, obj = owned
        _, effect, op = self.call(
            f"update {obj.kind}",
            lambda op: self._objects_api(obj.kind, 3)(
                obj.object_id, mission_id=mission.mission_id, body={"name": obj.record.tag, "rev": op}
            ),
        )
        obj.record.write("rev", op, effect, op)

    def delete_object(self) -> None:
        if (owned := self._object()) is None:
            return self.create_object()
        mission, obj = owned
        _, effect, _ = self.call(
            f"delete {obj.kind}",
            lambda op: self._objects_api(obj.kind, 4)(obj.object_id, mission_id=mission.mission_id),
        )
        obj.record.delete(effect)
        if effect != "none":
            mission.objects.remove(obj)
