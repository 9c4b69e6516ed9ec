"""Each object's fields are described once (``missionlab._wire.fields``): the description agrees
with the published document, and what is not derived from it (the client's models, the
sandbox's SQL schema and request enums) is checked against it here, as are the derived parts
a user sees (the sandbox's answers, the frames' columns)."""

from __future__ import annotations

import sqlite3
import typing
from contextlib import closing
from pathlib import Path
from typing import Any

import httpx
import pandas as pd
import pytest
from pydantic import BaseModel

from missionlab import frames
from missionlab._wire.fields import EVENT, MISSION, OBJECTS, PLAN_STEP, RUN, TELNYX_AGENT, Field, WireObject
from missionlab.client import models
from missionlab.sandbox import Sandbox, Store, schemas

from . import contract

MODELS: dict[str, type[BaseModel]] = {
    "Mission": models.Mission,
    "Run": models.Run,
    "PlanStep": models.PlanStep,
    "Event": models.Event,
    "TelnyxAgent": models.TelnyxAgent,
}
TABLES = {
    "Mission": "missions",
    "Run": "runs",
    "PlanStep": "steps",
    "Event": "events",
    "TelnyxAgent": "agents",
}
SANDBOX_ONLY_COLUMNS = {"runs": {"run_key"}, "events": {"run_key"}}  # the integer key events refer to runs by
# Fields a table holds through its run key, not as columns of its own (schema version 4): the
# events' run id is read from the run its key names.
THROUGH_RUN_KEY = {"events": {"run_id": ("INTEGER", True)}}

by_name = pytest.mark.parametrize("wire", OBJECTS, ids=[wire.name for wire in OBJECTS])


def published(schema: str) -> dict[str, Any]:
    found: dict[str, Any] = contract.facts()["components"]["schemas"][schema]
    return found


@by_name
def test_the_description_is_the_published_document(wire: WireObject) -> None:
    document = published(wire.schema)
    assert set(wire.names) >= set(document["properties"])  # a field not published yet may be added
    assert {f.name for f in wire.fields if f.required} == set(document["required"])
    for field in wire.fields:
        prop = document["properties"].get(field.name)
        if prop is None:
            continue
        if "$ref" in prop:
            enum = published(prop["$ref"].rsplit("/", 1)[1])
            assert field.enum is not None and [m.value for m in field.enum] == enum["enum"], field.name
            prop = enum
        else:
            assert field.enum is None, field.name
        assert (field.json_type, field.format) == (prop["type"], prop.get("format")), field.name
    assert set(wire.key) <= {f.name for f in wire.fields if f.required}


def _json_types(prop: dict[str, Any], defs: dict[str, Any]) -> set[tuple[str, str | None]]:
    """The (type, format) pairs a JSON schema property allows (following refs and anyOf)."""
    if "$ref" in prop:
        return _json_types(defs[prop["$ref"].rsplit("/", 1)[1]], defs)
    if "anyOf" in prop:
        return set().union(*(_json_types(option, defs) for option in prop["anyOf"]))
    return {(prop.get("type", "any"), prop.get("format"))}


@by_name
def test_the_clients_model_spells_out_the_description(wire: WireObject) -> None:
    model = MODELS[wire.name]
    assert set(model.model_fields) == set(wire.names)
    assert model._key_fields == wire.key  # type: ignore[attr-defined]
    schema = model.model_json_schema()
    for field in wire.fields:
        assert model.model_fields[field.name].is_required() == field.required, field.name
        allowed = _json_types(schema["properties"][field.name], schema.get("$defs", {}))
        expected = (field.json_type, None if field.format == "uuid" else field.format)  # ids read as text
        assert expected in allowed, (field.name, allowed)
        assert (("null", None) in allowed) == (not field.required), field.name


@by_name
def test_the_sandbox_tables_have_a_column_per_field(wire: WireObject, tmp_path: Path) -> None:
    path = tmp_path / "sandbox.db"
    Store(path).close()
    table = TABLES[wire.name]
    with closing(sqlite3.connect(path)) as db:
        # (type, NOT NULL); a one-column TEXT PRIMARY KEY counts as NOT NULL (the store always sets it)
        columns = {
            name: (sql_type, bool(not_null or key))
            for _, name, sql_type, not_null, _, key in db.execute(f"PRAGMA table_info({table})")
        }
    through_key = THROUGH_RUN_KEY.get(table, {})
    assert set(columns) - SANDBOX_ONLY_COLUMNS.get(table, set()) | set(through_key) == set(wire.names)
    for name, run_key in through_key.items():
        assert columns["run_key"] == run_key, name  # the key the field is read through, always set
    for field in wire.fields:
        if field.name in through_key:
            continue
        sql_type = "INTEGER" if field.json_type == "integer" else "TEXT"
        assert columns[field.name] == (sql_type, field.required), field.name


def test_the_sandbox_request_enums_are_the_described_ones() -> None:
    assert typing.get_args(schemas.ExecutionMode) == tuple(
        m.value for m in MISSION["execution_mode"].enum or ()
    )
    assert typing.get_args(schemas.RunStatus) == tuple(m.value for m in RUN["status"].enum or ())
    assert typing.get_args(schemas.StepStatus) == tuple(m.value for m in PLAN_STEP["status"].enum or ())
    assert typing.get_args(schemas.EventType) == tuple(m.value for m in EVENT["type"].enum or ())


def test_the_sandbox_answers_every_field_in_wire_order() -> None:
    """Every object with every field set, as the sandbox sends it over HTTP."""
    with Sandbox() as sandbox:
        http = httpx.Client(base_url=sandbox.url, headers={"Authorization": f"Bearer {sandbox.token}"})
        mission = http.post(
            "/ai/missions",
            json={"name": "n", "description": "d", "instructions": "i", "model": "m", "metadata": {"a": 1}},
        ).json()["data"]
        base = f"/ai/missions/{mission['mission_id']}"
        run = http.post(f"{base}/runs", json={"input": {"q": 1}, "metadata": {"b": 2}}).json()["data"]
        runs = f"{base}/runs/{run['run_id']}"
        plan = {"steps": [{"step_id": "p", "description": "parent", "sequence": 1}]}
        http.post(f"{runs}/plan", json=plan)
        child = {"step_id": "c", "description": "child", "sequence": 2, "parent_step_id": "p", "metadata": {}}
        http.post(f"{runs}/plan/steps", json={"steps": [child]})
        http.patch(f"{runs}/plan/steps/c", json={"status": "in_progress"})
        step = http.patch(f"{runs}/plan/steps/c", json={"status": "completed"}).json()["data"]
        event = {"type": "tool_call", "summary": "s", "step_id": "c", "agent_id": "a", "idempotency_key": "k"}
        event = http.post(f"{runs}/events", json={**event, "payload": {"x": 1}}).json()["data"]
        agent = http.post(f"{runs}/telnyx-agents", json={"telnyx_agent_id": "agent-1"}).json()["data"]
        done = {"status": "failed", "result_summary": "r", "result_payload": {}, "error": "e"}
        run = http.patch(runs, json=done).json()["data"]
        answers = {"Mission": mission, "Run": run, "PlanStep": step, "Event": event, "TelnyxAgent": agent}
    for wire in OBJECTS:  # (a field the server sets and no request can, is missing until set)
        answer = list(answers[wire.name])
        assert answer == [name for name in wire.names if name in answer], wire.name
        assert set(answer) >= {field.name for field in wire.fields if field.required}, wire.name
    assert len(answers["Run"]) == 11 and len(answers["PlanStep"]) == 9  # every field set above is there


def _dtype(field: Field) -> Any:
    if field.enum is not None:
        return pd.CategoricalDtype([m.value for m in field.enum], ordered=True)
    if field.json_type == "integer":
        return pd.Int64Dtype()
    if field.format == "date-time":
        return pd.DatetimeTZDtype("us", "UTC")
    return pd.StringDtype("pyarrow")  # text, and objects as JSON text


@pytest.mark.parametrize(
    ("wire", "frame"),
    [
        (MISSION, frames.missions_frame),
        (RUN, frames.runs_frame),
        (PLAN_STEP, frames.steps_frame),
        (EVENT, frames.events_frame),
        (TELNYX_AGENT, frames.agents_frame),
    ],
    ids=[wire.name for wire in OBJECTS],
)
def test_every_field_is_a_typed_frame_column(wire: WireObject, frame: Any) -> None:
    empty = frame([])
    for field in wire.fields:
        assert empty[field.name].dtype == _dtype(field), field.name
