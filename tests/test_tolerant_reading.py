"""Tolerant reading (issue 9): every answer the published document allows parses.

Hosted-shaped answers come from ``tests/data/hosted`` through ``httpx.MockTransport``:
they are exactly what the sandbox cannot produce (unknown statuses, free-form
answers, non-UUID ids, nesting deeper than any parser's default limit).
"""

from __future__ import annotations

import html
import json
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pandas as pd
import pytest

import missionlab
from missionlab import RunStatus, UnknownValueWarning
from missionlab.client import models
from missionlab.client._display import short_text
from missionlab.client._json import loads, short_json
from missionlab.sandbox import Sandbox

from .conftest import unique

HOSTED = Path(__file__).parent / "data" / "hosted"
MISSION_ID = "5f0c7a52-8f6e-4c1e-9d2b-3a1f0e6b7c11"
RUN_ID = "9b2d4e61-0a7c-4f3e-8c5d-1e2f3a4b5c6d"


def hosted(name: str) -> Any:
    return json.loads((HOSTED / name).read_text())


def serving(
    answer: Callable[[httpx.Request], httpx.Response],
) -> tuple[missionlab.Client, list[httpx.Request]]:
    """A client of a mock hosted API, and the list of requests it received."""
    requests: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        requests.append(request)
        return answer(request)

    client = missionlab.Client(
        api_key="k", base_url="https://api.telnyx.com/v2", transport=httpx.MockTransport(handler)
    )
    return client, requests


def json_answer(body: Any, status: int = 200) -> Callable[[httpx.Request], httpx.Response]:
    return lambda request: httpx.Response(status, content=json.dumps(body).encode())


def nested(depth: int) -> dict[str, Any]:
    """An object ``depth`` containers deep: {"level": {"level": ... {"leaf": true}}}."""
    value: dict[str, Any] = {"leaf": True}
    for _ in range(depth - 1):
        value = {"level": value}
    return value


def deep_json(depth: int) -> str:
    """JSON text of :func:`nested` built without recursion (json.dumps can't go this deep)."""
    return '{"level": ' * (depth - 1) + '{"leaf": true}' + "}" * (depth - 1)


def depth_of(value: Any) -> int:
    depth = 0
    while isinstance(value, dict):
        depth += 1
        value = value.get("level", value.get("leaf"))
    return depth


# -- unknown enum values ------------------------------------------------------------------------


def test_a_page_with_a_queued_run_parses_and_warns_once() -> None:
    models._warned.discard(("RunStatus", "queued"))
    client, _ = serving(json_answer(hosted("runs_page.json")))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        page = client.missions.runs.list_runs()
        again = client.missions.runs.list_runs()
    assert [run.status for run in page.data] == ["queued", "running", "failed"]
    queued = page.data[0]
    assert type(queued.status) is str and queued.status == "queued"
    assert page.data[1].status is RunStatus.RUNNING  # known values stay enum members
    assert queued.model_extra == {"cost_usd": 0.42, "priority": 3, "labels": ["vip"]}  # unknown fields kept
    assert again.data[0].status == "queued"
    unknown = [w for w in caught if issubclass(w.category, UnknownValueWarning)]
    assert len(unknown) == 1 and "'queued'" in str(unknown[0].message)
    assert "queued" in page._repr_html_() and "status='queued'" in repr(queued)
    assert queued.model_dump(mode="json")["status"] == "queued"


def test_unknown_step_status_and_event_type_are_kept(recwarn: pytest.WarningsRecorder) -> None:
    plan, events = hosted("plan.json"), hosted("events.json")
    client, _ = serving(
        lambda request: httpx.Response(200, json=plan if request.url.path.endswith("/plan") else events)
    )
    steps = client.missions.runs.plan.retrieve(RUN_ID, mission_id=MISSION_ID).data
    listed = client.missions.runs.events.list(RUN_ID, mission_id=MISSION_ID).fetch_all(progress=False)
    assert "blocked" in [str(step.status) for step in steps]
    assert [str(event.type) for event in listed] == [event["type"] for event in events["data"]]
    assert "llm_call" in {event.type for event in listed}


def test_filters_accept_any_non_empty_string() -> None:
    client, requests = serving(json_answer({"data": [], "meta": None}))
    client.missions.runs.list_runs(status="queued")
    client.missions.runs.list(MISSION_ID, status=RunStatus.PAUSED)
    client.missions.list_events(type="llm_call")
    client.missions.runs.events.list(RUN_ID, mission_id=MISSION_ID, type="custom_kind", step_id="a/b")
    sent = [dict(request.url.params) for request in requests]
    assert sent == [
        {"status": "queued"},
        {"status": "paused"},
        {"type": "llm_call"},
        {"type": "custom_kind", "step_id": "a/b"},
    ]
    with pytest.raises(missionlab.InvalidArgumentError, match="`status`"):
        client.missions.runs.list_runs(status="")


# -- free-form answers and plain-string ids ------------------------------------------------------

CLONE = {"mission_id": "6a1b2c3d-0000-4000-8000-00000000abcd", "name": "Copy", "execution_mode": "external"}
CLONE.update(created_at="2026-11-20T10:00:00Z", updated_at="2026-11-20T10:00:00Z")


@pytest.mark.parametrize(
    "answer,status,expected_id",
    [({}, 201, None), (CLONE, 201, CLONE["mission_id"]), ({"data": CLONE}, 201, CLONE["mission_id"])],
    ids=["empty", "unwrapped", "wrapped"],
)
def test_clone_returns_the_answer_as_sent(answer: Any, status: int, expected_id: str | None) -> None:
    client, requests = serving(json_answer(answer, status))
    result = client.missions.clone_mission("mission_id")  # the document: a plain string id
    assert result == answer
    clone = models.mission_in(result)
    assert (clone.mission_id if clone else None) == expected_id
    assert requests[0].url.path == "/v2/ai/missions/mission_id/clone"
    assert requests[0].content == b""  # the document describes no request body


def test_clone_answer_may_be_any_json() -> None:
    client, _ = serving(json_answer([1, "two"], 201))
    assert client.missions.clone_mission(MISSION_ID) == [1, "two"]
    client, _ = serving(lambda request: httpx.Response(201))
    assert client.missions.clone_mission(MISSION_ID) is None


def test_tools_knowledge_bases_and_mcp_servers_take_plain_ids_and_return_json() -> None:
    answers = iter([{"items": ["anything"]}, {"id": "tool_81"}, [], {"ok": True}, {}])
    client, requests = serving(lambda request: httpx.Response(200, json=next(answers)))
    missions = client.missions
    assert missions.tools.list_tools("hosted-mission-1") == {"items": ["anything"]}
    assert missions.tools.get_tool("tool_81", mission_id="hosted-mission-1") == {"id": "tool_81"}
    assert missions.knowledge_bases.list_knowledge_bases("m-2") == []
    assert missions.mcp_servers.update_mcp_server("srv?x", mission_id="m-3", body={"url": "u"}) == {
        "ok": True
    }
    assert missions.mcp_servers.create_mcp_server("m-3") == {}
    paths = [request.url.raw_path.decode() for request in requests]
    assert paths == [
        "/v2/ai/missions/hosted-mission-1/tools",
        "/v2/ai/missions/hosted-mission-1/tools/tool_81",
        "/v2/ai/missions/m-2/knowledge-bases",
        "/v2/ai/missions/m-3/mcp-servers/srv%3Fx",  # encoded: a '?' in an id stays in the path
        "/v2/ai/missions/m-3/mcp-servers",
    ]
    assert requests[3].content == b'{"url":"u"}' and requests[4].content == b""


@pytest.mark.parametrize("bad", ["", "a/b", ".", ".."])
def test_plain_ids_still_cannot_change_the_path(bad: str) -> None:
    client, requests = serving(json_answer({}))
    with pytest.raises(missionlab.InvalidArgumentError):
        client.missions.tools.delete_tool(bad, mission_id="m")  # '..' would DELETE the mission
    with pytest.raises(missionlab.InvalidArgumentError, match="`mission_id`"):
        client.missions.clone_mission(bad)
    assert requests == []


def test_operations_without_a_documented_body_send_none(sandbox: Sandbox) -> None:
    sent: list[httpx.Request] = []
    http = httpx.Client(event_hooks={"request": [sent.append]})
    client = missionlab.Client(api_key=sandbox.token, base_url=sandbox.url, http_client=http)
    mission = client.missions.create(name=unique("bodyless")).data
    run = client.missions.runs.create(mission.mission_id).data
    client.missions.runs.update(run.run_id, mission_id=mission.mission_id, status="running")
    sent.clear()
    client.missions.runs.pause_run(run.run_id, mission_id=mission.mission_id)
    client.missions.runs.resume_run(run.run_id, mission_id=mission.mission_id)
    client.missions.runs.cancel_run(run.run_id, mission_id=mission.mission_id)
    clone = models.mission_in(client.missions.clone_mission(mission.mission_id))
    assert clone is not None and clone.name.endswith("(copy)")
    assert [(r.method, r.content, "content-type" in r.headers) for r in sent] == [("POST", b"", False)] * 4


# -- any nesting depth ----------------------------------------------------------------------------


@pytest.mark.parametrize("depth", [250, 5000])
def test_deep_payloads_in_an_events_page(depth: int) -> None:
    page = (
        '{"data": [{"event_id": "e1", "run_id": "r", "type": "custom", "summary": "deep", '
        f'"timestamp": "2026-11-20T10:00:00Z", "payload": {deep_json(depth)}}}, '
        '{"event_id": "e2", "run_id": "r", "type": "message", "summary": "shallow", '
        '"timestamp": "2026-11-20T10:00:01Z"}], '
        '"meta": {"page_number": 1, "page_size": 50, "total_pages": 1, "total_results": 2}}'
    )
    client, _ = serving(lambda request: httpx.Response(200, content=page.encode()))
    listed = client.missions.runs.events.list(RUN_ID, mission_id=MISSION_ID)
    assert [event.summary for event in listed.data] == ["deep", "shallow"]
    assert depth_of(listed.data[0].payload) == depth
    assert len(client.missions.list_events().fetch_all(progress=False)) == 2
    dicts = client.missions.list_events().fetch_all(progress=False, as_dicts=True)
    assert depth_of(dicts[0]["payload"]) == depth
    shown = listed._repr_html_()
    assert "shallow" in shown and html.escape('{"level": {"level":') in shown and len(shown) < 20_000
    assert "deep" in repr(listed.data[0])


@pytest.mark.parametrize("depth", [250, 5000])
def test_deep_metadata_in_missions(depth: int) -> None:
    mission = hosted("mission.json")["data"]
    body = json.dumps({"data": [{**mission, "metadata": "DEEP"}], "meta": None})
    body = body.replace('"DEEP"', deep_json(depth))
    client, _ = serving(lambda request: httpx.Response(200, content=body.encode()))
    found = client.missions.list().data[0]
    assert found.name == "Hosted support triage" and depth_of(found.metadata) == depth
    card = found._repr_html_()
    assert "Hosted support triage" in card and "…" in card and len(card) < 10_000
    assert short_text(found.metadata, 40).startswith('{"level": {"level"')


def test_a_deep_error_body_is_still_a_readable_error() -> None:
    body = '{"errors": [{"detail": ' + deep_json(3000) + ', "source": {"pointer": "/name"}}]}'
    client, _ = serving(lambda request: httpx.Response(422, content=body.encode()))
    with pytest.raises(missionlab.UnprocessableEntityError) as err:
        client.missions.retrieve(MISSION_ID)
    assert err.value.fields == ["name"] and "name: {" in str(err.value) and len(str(err.value)) < 2000


def test_json_helpers_handle_any_depth() -> None:
    text = deep_json(20_000)
    assert depth_of(loads(text.encode())) == 20_000
    assert loads(b'{"a": [1, 2.5, "\\u00e9", true, null]}') == {"a": [1, 2.5, "é", True, None]}
    assert loads(b'"\\udfff"') == "\udfff".encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    with pytest.raises(ValueError):
        loads(b'{"a": NaN}')
    with pytest.raises(ValueError):
        loads(b"[" * 2000 + b"]" * 1999)
    assert short_json(nested(3), 100) == '{"level": {"level": {"leaf": true}}}'
    assert short_json(loads(text.encode()), 30) == '{"level": {"level": {"level":…'
    assert short_json(list(range(10**6)), 12) == "[0, 1, 2, 3…"
    assert len(short_json(loads(text.encode()), 10_000)) <= 10_000


def test_a_lone_surrogate_in_a_payload_frames_as_json_that_reads_back() -> None:
    """A capsule read by the standard library's parser keeps a lone surrogate escape
    ("\\udfff") as one character, which UTF-8 can't hold: the frame's text escapes it again."""
    event = models.Event.model_validate(
        json.loads(
            '{"event_id": "e1", "run_id": "r1", "type": "custom", "summary": "s",'
            ' "timestamp": "2026-12-01T00:00:00Z", "payload": {"note": "x\\udfffy", "n": [1, "\\u00e9"]}}'
        )
    )
    frame = missionlab.frames.events_frame([event])
    text = frame["payload"].iloc[0]
    assert json.loads(text) == {"note": "x\udfffy", "n": [1, "é"]}


def test_amounts_beyond_a_float_are_no_amount_in_rollups_and_tool_stats() -> None:
    """A usage of hundreds of digits (or 1e400) is read as none, not as an OverflowError or inf:
    the run's total is the sum of the other events' amounts."""
    from missionlab.analysis.rollup import payload_numbers

    events = pd.DataFrame(
        {
            "payload": [
                '{"usage": {"total_tokens": ' + "9" * 400 + "}}",
                '{"usage": {"total_tokens": 5}}',
                '{"usage": {"total_tokens": true}}',
                '{"usage": {"total_tokens": 7.5}}',
                None,
            ]
        }
    )
    numbers = payload_numbers(events, "payload.usage.total_tokens")
    assert numbers.isna().tolist() == [True, False, True, False, True]
    assert numbers.sum() == 12.5
