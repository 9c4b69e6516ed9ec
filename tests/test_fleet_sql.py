"""The history's SQL reading of tool calls (_history/_query.py) against the Python reading
(analysis/_attempts.py) on runs of every shape: tool_stats from a synced history and from the
same runs' frames must be equal, on runs the SQL pairs itself (request ids, re-calls, errors
while waiting, results that say they failed in each way) and on the odd runs it hands to the
Python reading (no request id, a request id given twice, a result before its call, a tool named
by the summary only), and on runs whose calls of one tool were made together (FAN_OUTS)."""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pandas as pd
import pytest

import missionlab
from missionlab import History
from missionlab.sandbox import Sandbox

TOKEN = "fleet-sql-token"
START = datetime(2026, 11, 1, tzinfo=UTC)
TOOLS = ["search", "charge", "mail"]
# what a result's payload adds to say its call failed (or not), as the Python reading reads it
VERDICTS: list[dict[str, Any]] = [
    {"ok": True},
    {"ok": True},
    {"ok": False},
    {"status": 503},
    {"status": 200},
    {"status": 404.0},  # a float status: not an HTTP status for the Python reading
    {"status": "500"},
    {"error": ""},
    {"error": "boom"},
    {"error": 0},
    {"error": 2.5},
    {"error": []},
    {"error": ["x"]},
    {"error": {}},
    {"error": {"message": "m"}},
    {"message": None},
    {"message": "timed out"},
    {"error": False},
    {"error": True},
    {"result": {"isError": True}},
    {"result": {"isError": False}},
    {"result": [1]},
]
# usage as payloads carry it, read as the roll-ups read it: only a number (not a bool, not a
# string) counts, only a non-empty string names a model, usage is read at one path only
USAGES: list[Any] = [
    {},
    {"model": "m1", "usage": {"total_tokens": 7}, "cost_usd": 0.25},
    {"model": "m2", "usage": {"total_tokens": 12.5}},
    {"usage": {"total_tokens": 30}, "cost_usd": 1},  # no model
    {"model": "", "usage": {"total_tokens": 3}},
    {"model": None, "cost_usd": 0.5},
    {"model": 5, "usage": {"total_tokens": 4}},
    {"model": ["m1"], "cost_usd": 2},
    {"model": {"name": "m1"}},
    {"model": 'm"q\\é', "usage": {"total_tokens": 2}},  # a name with escapes
    {"model": "m1", "usage": {"total_tokens": "12"}, "cost_usd": "0.5"},  # strings for numbers
    {"model": "m1", "usage": {"total_tokens": True}, "cost_usd": False},
    {"model": "m2", "usage": {"total_tokens": {"value": 9}}},  # nested deeper than read
    {"model": "m2", "usage": {"prompt": {"total_tokens": 9}}, "tokens": {"usage": 1}},
    {"model": "m2", "usage": [{"total_tokens": 9}]},
    {"model": "m1", "usage": "total_tokens"},
    {"model": "m1", "usage": {"total_tokens": None}, "cost_usd": None},
    {"model": "m1", "usage": {"total_tokens": -4}, "cost_usd": -0.0},
    {"model": "m1", "usage": {"total_tokens": 1e3}, "cost_usd": 2.5e-7},
    {"model": "m2", "usage": {"total_tokens": 2**64 + 1}, "cost_usd": 10**30},  # beyond 64 bits
    {"model": "m2", "usage": {"total_tokens": 10**400}, "cost_usd": -(10**400)},  # beyond a float
    {"note": 'says "model" and "usage" and "cost_usd" in a string'},
]
# payloads of a model's own event (the client refuses payloads that are not objects, so none
# reaches a history or frames fetched from the API), some only mentioning usage in a string
OTHER_PAYLOADS: list[Any] = [
    {"text": '"model": "m1"'},
    {"text": '{"model": "m1", "cost_usd": 1}'},
    {"model": "m1", "cost_usd": 0.5},
    {"model": "m2", "usage": {"total_tokens": 40}},
]


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _run(
    rng: random.Random, mission_id: str, odd: bool
) -> tuple[dict[str, Any], list[dict[str, Any]], list[dict[str, Any]]]:
    run_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
    shapes = random.Random(run_id)  # the usage shapes drawn apart: the runs stay as they were
    t = START + timedelta(seconds=rng.uniform(0, 20 * 86400))
    events: list[dict[str, Any]] = []

    def add(kind: str, step: str | None, payload: Any, summary: str = "", same_time: bool = False) -> None:
        nonlocal t
        if not same_time:
            t += timedelta(milliseconds=rng.randint(1, 3000))
        events.append(
            {
                "event_id": f"{run_id}-{len(events):03d}",
                "run_id": run_id,
                "mission_id": mission_id,
                "type": kind,
                "timestamp": _stamp(t),
                "step_id": step,
                "agent_id": "a",
                "summary": summary,
                "payload": payload,
            }
        )

    steps = [f"s{i}" for i in range(rng.randint(1, 3))] + ([None] if rng.random() < 0.2 else [])
    waiting: list[tuple[str | None, str, str, dict[str, Any]]] = []
    for _ in range(rng.randint(1, 8)):
        step, tool = rng.choice(steps), rng.choice(TOOLS)
        action = rng.random()
        if action < 0.45 or not waiting:
            request = f"r{rng.getrandbits(24):06x}"
            usage: dict[str, Any] = {}
            if rng.random() < 0.5:
                usage = {"model": rng.choice(["m1", "m2", ""]), "usage": {"total_tokens": rng.randint(1, 99)}}
            if rng.random() < 0.3:
                usage["cost_usd"] = rng.choice([0.25, 1, True, "3"])
            if shapes.random() < 0.3:
                usage = dict(shapes.choice(USAGES))
            payload = {"tool": tool, "request_id": request, **usage}
            add("tool_call", step, payload, f"Calling {tool}", same_time=rng.random() < 0.05)
            waiting.append((step, tool, request, usage))
        elif action < 0.8:
            step, tool, request, usage = waiting.pop(rng.randrange(len(waiting)))
            extra = {"usage": {"total_tokens": rng.randint(1, 50)}} if rng.random() < 0.3 else {}
            if shapes.random() < 0.2:
                extra = dict(shapes.choice(USAGES))
            add("tool_result", step, {"tool": tool, "request_id": request, **rng.choice(VERDICTS), **extra})
        elif action < 0.9:
            add("error", rng.choice(steps), {"message": "step error"}, "Something failed")
        else:  # a model's own call, outside any tool call
            mine = {"model": rng.choice(["m1", "m2"]), "cost_usd": 0.5}
            if shapes.random() < 0.6:
                mine = shapes.choice([*USAGES, *OTHER_PAYLOADS])
            add("message", step, mine, "thinking")
    if odd:  # one shape the SQL leaves to the Python reading
        shape = rng.randrange(4)
        step = steps[0]
        if shape == 0:
            add("tool_call", step, {"tool": "search"}, "Calling search")
        elif shape == 1:
            add("tool_call", step, {"tool": "mail", "request_id": "twice"})
            add("tool_call", step, {"tool": "mail", "request_id": "twice"})
            add("tool_result", step, {"tool": "mail", "request_id": "twice", "ok": True})
        elif shape == 2:
            add("tool_result", step, {"tool": "mail", "request_id": "early", "ok": False})
            add("tool_call", step, {"tool": "mail", "request_id": "early"})
        else:
            add("tool_call", step, None, "Calling flights.search (page 2)")
            add("tool_result", step, {"ok": True}, "flights.search returned")
    failed = rng.random() < 0.5
    run = {
        "run_id": run_id,
        "mission_id": mission_id,
        "status": "failed" if failed else "succeeded",
        "started_at": events[0]["timestamp"],
        "updated_at": events[-1]["timestamp"],
        "finished_at": events[-1]["timestamp"],
        "error": rng.choice([None, f"Run failed at {rng.randint(1, 99)}:00 for 'x{rng.randint(1, 9)}'"])
        if failed
        else None,
    }
    plan = []
    nested = odd and rng.random() < 0.5  # a step inside another: the Python reading's
    for n, step in enumerate(s for s in steps if s is not None):
        status = rng.choice(["failed", "failed", "completed"]) if failed else "completed"
        done = (
            None if rng.random() < 0.2 else _stamp(START + timedelta(days=20, seconds=rng.choice([5, 5, 9])))
        )
        plan.append(
            {
                "run_id": run_id,
                "step_id": step,
                "sequence": n + 1,
                "description": step,
                "status": status,
                "parent_step_id": "s0" if nested and step != "s0" else None,
                "started_at": events[0]["timestamp"],
                "completed_at": done,
            }
        )
    return run, events, plan


# Failed runs of one step whose failure is blamed on a failed http.get call or not, by when
# each call was made against when its tool's failures were known (events as (second, kind,
# request id, status)): a failed call is retried only by a call made at or after its failure
# (at once, when it was given up for the next call), never by calls made together with it.
# Each run ends with an error event; the tool expected in its signature (None: every failed
# call was retried).
FAN_OUTS: dict[str, tuple[list[tuple[Any, ...]], str | None]] = {
    "made together, one fails": (
        [
            (1, "call", "q0"),
            (1, "call", "q1"),
            (1, "call", "q2"),
            (2, "result", "q0", 500),
            (3, "result", "q1", 200),
            (4, "result", "q2", 200),
        ],
        "http.get",
    ),
    "a call made after the failure": (
        [
            (1, "call", "q0"),
            (1, "call", "q1"),
            (2, "result", "q0", 500),
            (3, "call", "q2"),
            (4, "result", "q1", 200),
            (5, "result", "q2", 200),
        ],
        None,
    ),
    "a sibling fails after that call was made": (
        [
            (1, "call", "q0"),
            (1, "call", "q1"),
            (2, "result", "q0", 500),
            (3, "call", "q2"),
            (4, "result", "q1", 500),
            (5, "result", "q2", 200),
        ],
        "http.get",
    ),
    "a call made at the moment of the failure": (
        [(1, "call", "q0"), (2, "call", "q1"), (2, "result", "q0", 500), (3, "result", "q1", 200)],
        None,
    ),
    "an error, then a call": (
        [(1, "call", "q0"), (2, "error"), (3, "call", "q1"), (4, "result", "q1", 200)],
        None,
    ),
    "given up for the next call": ([(1, "call", "q0"), (2, "call", "q1"), (3, "result", "q1", 200)], None),
}


def _fan_out_run(
    run_id: str, mission_id: str, start: datetime, shape: list[tuple[Any, ...]]
) -> tuple[dict[str, Any], list[dict[str, Any]], list[dict[str, Any]]]:
    """A failed run of one step ``fetch`` whose events are ``shape`` (see FAN_OUTS)."""
    events = []
    for n, (second, kind, *rest) in enumerate([*shape, (9, "error")]):
        payload: dict[str, Any] = {"message": "step error"}
        if kind != "error":
            payload = {"tool": "http.get", "request_id": rest[0], **({"status": rest[1]} if rest[1:] else {})}
        events.append(
            {
                "event_id": f"{run_id}-{n:03d}",
                "run_id": run_id,
                "mission_id": mission_id,
                "type": {"call": "tool_call", "result": "tool_result"}.get(kind, kind),
                "timestamp": _stamp(start + timedelta(seconds=second)),
                "step_id": "fetch",
                "agent_id": "a",
                "summary": "could not fetch every page" if kind == "error" else f"http.get {rest[0]}",
                "payload": payload,
            }
        )
    run = {
        "run_id": run_id,
        "mission_id": mission_id,
        "status": "failed",
        "started_at": _stamp(start),
        "updated_at": _stamp(start + timedelta(seconds=10)),
        "finished_at": _stamp(start + timedelta(seconds=10)),
        "error": None,
    }
    plan = {
        "run_id": run_id,
        "step_id": "fetch",
        "sequence": 1,
        "description": "fetch",
        "status": "failed",
        "parent_step_id": None,
        "started_at": _stamp(start),
        "completed_at": _stamp(start + timedelta(seconds=9)),
    }
    return run, events, [plan]


@pytest.fixture(scope="module")
def sources(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    rng = random.Random(2512)
    missions = [str(uuid.UUID(int=rng.getrandbits(128), version=4)) for _ in range(2)]
    runs, events, steps = [], [], []
    for i in range(160):
        run, evs, plan = _run(rng, missions[i % 2], odd=i % 5 == 0)
        runs.append(run)
        events += evs
        steps += plan
    fan_outs = {}
    for n, (name, (shape, _)) in enumerate(FAN_OUTS.items()):
        run_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        run, evs, plan = _fan_out_run(run_id, missions[0], START + timedelta(days=2, hours=n), shape)
        runs.append(run)
        events += evs
        steps += plan
        fan_outs[name] = run_id
    with Sandbox(token=TOKEN) as sb:
        assert sb.store is not None
        created = _stamp(START - timedelta(days=1))
        sb.store.bulk_load_all(
            [
                (
                    "missions",
                    [
                        {
                            "mission_id": m,
                            "name": f"M{n}",
                            "execution_mode": "external",
                            "created_at": created,
                            "updated_at": created,
                        }
                        for n, m in enumerate(missions)
                    ],
                ),
                ("runs", runs),
                ("steps", steps),
                ("events", events),
            ]
        )
        client = sb.client()
        path = tmp_path_factory.mktemp("fleet-sql") / "h"
        missionlab.history(client, path).sync(progress=False)
        frames = missionlab.fetch_frames(client, steps=True, progress=False)
        yield {"history": History(path), "frames": frames, "events": events, "fan_outs": fan_outs}


@pytest.mark.parametrize(
    ("by", "freq", "window"),
    [
        ("tool", None, None),
        ("model", None, None),
        (["mission", "tool"], "D", None),
        ("tool", "6h", (START + timedelta(days=3), START + timedelta(days=11))),
        (["mission", "model"], None, (START + timedelta(days=5), None)),
    ],
)
def test_the_sql_reading_equals_the_python_reading(
    sources: dict[str, Any], by: Any, freq: str | None, window: Any
) -> None:
    since, until = window or (None, None)
    sql = missionlab.tool_stats(sources["history"], by=by, freq=freq, since=since, until=until)
    python = missionlab.tool_stats(sources["frames"], by=by, freq=freq, since=since, until=until)
    assert len(sql) > 1
    pd.testing.assert_frame_equal(sql, python, rtol=1e-12)


def test_calls_failed_as_the_python_reading_says(sources: dict[str, Any]) -> None:
    """The counts the statistics rest on, checked call by call against the Python reading."""
    from missionlab.analysis.tool_stats import fleet_calls

    calls = fleet_calls(sources["frames"])
    stats = missionlab.tool_stats(sources["history"]).set_index("tool")
    for tool, group in calls[calls["tool"].isin(TOOLS)].groupby("tool"):
        assert stats.loc[tool, "calls"] == len(group)
        assert stats.loc[tool, "errors"] == int(group["failed"].sum())
        assert stats.loc[tool, "errors"] not in (0, len(group))  # both kinds are there


def test_the_seed_holds_the_odd_shapes(sources: dict[str, Any]) -> None:
    """The odd shapes are there: runs the SQL leaves to the Python reading exist in the seed."""
    events = sources["events"]
    assert any(e["payload"] is None and e["type"] == "tool_call" for e in events)
    assert any((e["payload"] or {}).get("request_id") == "early" for e in events)
    assert any((e["payload"] or {}).get("status") == 404.0 for e in events)
    payloads = [e["payload"] for e in events if isinstance(e["payload"], dict)]
    for shape in [*USAGES, *OTHER_PAYLOADS]:  # each usage shape, on its own or in a tool payload
        assert any(all(p.get(k, ...) == v for k, v in shape.items()) for p in payloads), shape


@pytest.mark.parametrize("window", [None, (START + timedelta(days=4), START + timedelta(days=15))])
def test_failure_signatures_from_sql_equal_the_python_reading(sources: dict[str, Any], window: Any) -> None:
    since, until = window or (None, None)
    now = START + timedelta(days=30)
    sql = missionlab.failures(sources["history"], since=since, until=until, now=now)
    python = missionlab.failures(sources["frames"], since=since, until=until, now=now)
    assert len(sql.runs) > 10 and len(sql) > 3
    pd.testing.assert_frame_equal(sql.runs, python.runs)
    pd.testing.assert_frame_equal(sql.clusters, python.clusters)
    if window is not None:
        return
    # every way a signature is made is there: by an error event, by the run's error, by a
    # failed call's outcome, outside any step, with and without a tool
    assert sql.runs["tool"].notna().any() and sql.runs["tool"].isna().any()
    assert sql.runs["step_id"].isna().any()
    assert sql.runs["error"].str.startswith("status").any()
    assert sql.runs["error"].str.startswith("Run failed").any()
    assert sql.runs["error"].eq("Something failed").any()


def test_calls_made_together_are_not_retries_in_either_reading(sources: dict[str, Any]) -> None:
    """The tool a failed step is blamed on, by the SQL reading and the Python reading, in runs
    whose calls of one tool were made together or after a failure (FAN_OUTS)."""
    now = START + timedelta(days=30)
    for source in ("history", "frames"):
        runs = missionlab.failures(sources[source], now=now).runs.set_index("run_id")
        told = {name: runs.loc[run_id, "tool"] for name, run_id in sources["fan_outs"].items()}
        expected = {name: tool for name, (_, tool) in FAN_OUTS.items()}
        assert {k: None if pd.isna(v) else v for k, v in told.items()} == expected, source


def test_bulk_masking_equals_masking_each_text() -> None:
    """normalize_many (RE2 for ASCII texts, one Python pass over the others) against normalize
    (Python's re, text by text) on texts made of what the masks look at, quotes above all."""
    from missionlab.analysis._signature import normalize, normalize_many

    rng = random.Random(25)
    pieces = [*"ab Z9_-'\"`\n\t:.,$%+T0123456789x\x0b\x1c", "2026-11-20T10:00:00Z", "10:00:00.5", "ORD-1042"]
    pieces += ["3f2a9c1e-1111-4222-8333-444455556666", "it's", " 'q' ", "''", "-1,5", "a1-", "_x9"]
    others = ["é", "€", "\u201c", "\u201d", "\u2018", "\u2019", "\u00a0", "\x1e", "\x03", "\u0663"]
    checked = 0
    for trial in range(1500):
        alphabet = pieces + (others if trial % 3 == 0 else [])
        texts: list[Any] = [
            "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 20))) for _ in range(rng.randint(1, 8))
        ]
        texts += [None, float("nan"), pd.NA] if trial % 50 == 0 else []
        assert normalize_many(texts) == [normalize(text) for text in texts], texts
        checked += len(texts)
    assert checked > 5000
    assert normalize_many(["Refund of $41.50 for order ORD-1042 declined: 'card expired'", "It's"]) == [
        "Refund of <n> for order <id> declined: <str>",
        "It's",
    ]


def test_a_mission_filter_reads_alike(sources: dict[str, Any]) -> None:
    mission = str(sources["frames"].runs["mission_id"].iat[0])
    now = START + timedelta(days=30)
    sql = missionlab.tool_stats(sources["history"], by=["mission", "tool"], mission=mission)
    python = missionlab.tool_stats(sources["frames"], by=["mission", "tool"], mission=mission)
    assert list(sql["mission_id"].unique()) == [mission]
    pd.testing.assert_frame_equal(sql, python, rtol=1e-12)
    found = missionlab.failures(sources["history"], mission=mission, now=now)
    pd.testing.assert_frame_equal(
        found.runs, missionlab.failures(sources["frames"], mission=mission, now=now).runs
    )
    assert set(found.runs["mission_id"]) == {mission}
