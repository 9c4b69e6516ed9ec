"""Fleet views (issue 25): tool_stats, failure clusters, explain's cluster line and
History.find, on a seeded fleet with planted error families and known tool latencies,
served by a sandbox and read three ways (a synced history, fetch_frames, run traces)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import missionlab
from missionlab import History, InvalidArgumentError
from missionlab.analysis._signature import normalize
from missionlab.sandbox import Sandbox

from .fleet_seed import ANCHOR, FAMILIES, Fleet, seed_fleet

TOKEN = "fleet-token"


@pytest.fixture(scope="module")
def fleet() -> Fleet:
    return seed_fleet(120, seed=7)


@pytest.fixture(scope="module")
def served(fleet: Fleet) -> Iterator[Sandbox]:
    with Sandbox(token=TOKEN) as sb:
        assert sb.store is not None
        fleet.load(sb.store)
        yield sb


@pytest.fixture(scope="module")
def sources(served: Sandbox, fleet: Fleet, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The same fleet as a synced history, as fetch_frames output and as run traces."""
    client = served.client()
    history = missionlab.history(client, tmp_path_factory.mktemp("fleet") / "h")
    history.sync(progress=False)
    frames = missionlab.fetch_frames(client, steps=True, progress=False)
    traces = [missionlab.load_run(client, r["mission_id"], r["run_id"]) for r in fleet.runs]
    return {"history": History(history.path), "frames": frames, "traces": traces}


SOURCES = ["history", "frames", "traces"]


@pytest.mark.parametrize("kind", SOURCES)
def test_tool_latency_percentiles_errors_and_tokens_are_the_planted_ones(
    sources: dict[str, Any], fleet: Fleet, kind: str
) -> None:
    stats = missionlab.tool_stats(sources[kind]).set_index("tool")
    assert sorted(stats.index) == sorted(fleet.latencies)
    for tool, latencies in fleet.latencies.items():
        row = stats.loc[tool]
        assert row["calls"] == len(latencies)
        assert row["errors"] == fleet.failed_calls[tool]
        assert row["error_rate"] == pytest.approx(fleet.failed_calls[tool] / len(latencies))
        for q in (50, 95, 99):
            assert row[f"p{q}_s"] == pytest.approx(np.percentile(latencies, q), abs=1e-9)
        assert row["tokens"] == fleet.tokens[tool]
        assert row["cost_usd"] == pytest.approx(fleet.tokens[tool] / 1e5)
        runs = {
            e["run_id"] for e in fleet.events if e["type"] == "tool_call" and e["payload"]["tool"] == tool
        }
        assert row["runs"] == len(runs)
        assert row["tokens_per_run"] == pytest.approx(fleet.tokens[tool] / len(runs))


def test_the_three_sources_give_the_same_statistics(sources: dict[str, Any]) -> None:
    since, until = ANCHOR - timedelta(days=6), ANCHOR - timedelta(days=2)
    for by, freq in (("tool", None), ("model", None), (["mission", "tool"], "D"), ("model", "12h")):
        answers = [
            missionlab.tool_stats(sources[kind], by=by, freq=freq, since=since, until=until)
            for kind in SOURCES
        ]
        assert len(answers[0]) > 1
        for other in answers[1:]:
            pd.testing.assert_frame_equal(answers[0], other)


def test_windows_split_the_calls_and_models_count_theirs(sources: dict[str, Any], fleet: Fleet) -> None:
    history = sources["history"]
    daily = missionlab.tool_stats(history, freq="D")
    total = missionlab.tool_stats(history).set_index("tool")
    assert daily.groupby("tool")["calls"].sum().to_dict() == total["calls"].to_dict()
    assert daily["period"].dt.floor("D").eq(daily["period"]).all()
    planted = Counter(e["payload"]["model"] for e in fleet.events if e["type"] == "tool_call")
    by_model = missionlab.tool_stats(history, by="model").set_index("model")["calls"].to_dict()
    assert by_model == dict(planted)
    cut = ANCHOR - timedelta(days=5)
    inside = sum(1 for e in fleet.events if e["type"] == "tool_call" and pd.Timestamp(e["timestamp"]) >= cut)
    assert missionlab.tool_stats(history, since=cut)["calls"].sum() == inside


@pytest.mark.parametrize("kind", SOURCES)
def test_failure_clusters_are_the_planted_families(sources: dict[str, Any], fleet: Fleet, kind: str) -> None:
    found = missionlab.failures(sources[kind], now=ANCHOR)
    assert len(found.runs) == len(fleet.family)
    families = {name for name, *_ in FAMILIES}
    # precision: no cluster mixes two families; recall: each family is one cluster
    of_cluster = {row.cluster: {fleet.family[r] for r in row.run_ids} for row in found.clusters.itertuples()}
    assert all(len(names) == 1 for names in of_cluster.values())
    assert sorted(next(iter(names)) for names in of_cluster.values()) == sorted(families)
    sizes = {next(iter(of_cluster[row.cluster])): row.runs for row in found.clusters.itertuples()}
    assert sizes == dict(Counter(fleet.family.values()))
    # where each family fails, and with which tool
    where = {
        next(iter(of_cluster[r.cluster])): (r.step_id, None if pd.isna(r.tool) else r.tool)
        for r in found.clusters.itertuples()
    }
    assert where == {
        "declined": ("charge", "payments.charge"),
        "gateway-timeout": ("charge", "payments.charge"),
        "no-passport": ("search", "flights.search"),
        "currency": ("charge", None),
    }
    failed_at = {r["run_id"]: pd.Timestamp(r["finished_at"]) for r in fleet.runs}
    for row in found.clusters.itertuples():
        times = [failed_at[r] for r in row.run_ids]
        assert (row.first_seen, row.last_seen) == (min(times), max(times))
        assert row.example_run_id == max(row.run_ids, key=lambda r: (failed_at[r], r))
        assert not row.new  # every family was first seen days before ANCHOR
    daily = found.over_time("D")
    assert daily.sum().to_dict() == found.clusters.set_index("cluster")["runs"].to_dict()


def test_the_sources_agree_on_clusters(sources: dict[str, Any]) -> None:
    since = ANCHOR - timedelta(days=4)
    answers = [missionlab.failures(sources[kind], since=since, now=ANCHOR) for kind in SOURCES]
    for other in answers[1:]:
        pd.testing.assert_frame_equal(answers[0].clusters, other.clusters)
        pd.testing.assert_frame_equal(answers[0].runs, other.runs)


def test_a_cluster_is_new_when_first_seen_late_in_the_window(sources: dict[str, Any], fleet: Fleet) -> None:
    found = missionlab.failures(sources["history"], now=ANCHOR)
    latest = found.clusters["first_seen"].max()  # the cluster seen first the latest
    recent = missionlab.failures(sources["history"], now=ANCHOR, new_within=ANCHOR - latest)
    assert recent.clusters.loc[recent.clusters["new"], "first_seen"].tolist() == [latest]
    assert recent.clusters["first_seen"].lt(latest).sum() == len(found) - 1
    assert (
        missionlab.failures(sources["history"], now=ANCHOR, new_within=timedelta(days=30))
        .clusters["new"]
        .all()
    )


def test_explain_names_the_cluster_of_a_failed_run_and_nothing_on_a_healthy_one(
    sources: dict[str, Any], fleet: Fleet
) -> None:
    found = missionlab.failures(sources["history"], now=ANCHOR)
    traces = {str(t.run.run_id): t for t in sources["traces"]}
    sizes = Counter(fleet.family.values())
    for row in found.clusters.itertuples():
        family = fleet.family[row.example_run_id]
        for fleet_given in (found, sources["history"]):
            told = traces[row.example_run_id].explain(baseline=False, fleet=fleet_given, now=ANCHOR)
            line = told.of_kind("failure_cluster")
            assert len(line) == 1
            first = row.first_seen
            assert f"cluster {row.cluster}" in line[0].text
            assert (
                f"seen {sizes[family]} times since {first:%b} {first.day}, new in the last 24 h: no."
                in line[0].text
            )
        assert (
            found.explain(row.cluster, now=ANCHOR, baseline=False).of_kind("failure_cluster")[0].text
            == line[0].text
        )
    healthy = [t for t in sources["traces"] if str(t.run.status) == "succeeded"]
    assert healthy
    for trace in healthy[:10]:
        assert trace.explain(baseline=False, fleet=found, now=ANCHOR).of_kind("failure_cluster") == []


def test_a_failure_no_other_run_shares_is_told_as_new(sources: dict[str, Any], fleet: Fleet) -> None:
    declined = [t for t in sources["traces"] if fleet.family.get(str(t.run.run_id)) == "declined"]
    others = [t for t in sources["traces"] if fleet.family.get(str(t.run.run_id)) != "declined"]
    found = missionlab.failures(others, now=ANCHOR)
    line = declined[0].explain(baseline=False, fleet=found, now=ANCHOR).of_kind("failure_cluster")
    assert len(line) == 1
    assert line[0].text.endswith(
        f"matches none of the {len(found.runs)} failed runs of the fleet: it is new."
    )


@pytest.mark.parametrize(
    ("query", "filters"),
    [
        ('suspected "fraud"', {}),
        ("FRAUD", {}),
        ("declined", {"type": "error"}),
        ("req_", {"type": ["tool_call", "tool_result"]}),
        ("o'brien", {}),
        (None, {"type": "step_failed"}),
        ("failed", {"step": "charge"}),
    ],
)
def test_history_find_equals_run_trace_find_over_every_run(
    sources: dict[str, Any], query: str | None, filters: dict[str, Any]
) -> None:
    hits = sources["history"].find(query, **filters)
    expected = pd.concat([t.find(query, **filters) for t in sources["traces"]], ignore_index=True)
    assert len(expected) > 0
    assert sorted(hits["event_id"]) == sorted(expected["event_id"])
    assert set(hits["run_id"]) == set(expected["run_id"])
    assert hits["timestamp"].is_monotonic_increasing


def test_history_find_by_tool_and_window(sources: dict[str, Any], fleet: Fleet) -> None:
    since = ANCHOR - timedelta(days=3)
    hits = sources["history"].find(tool="flights.search", since=since)
    expected = {
        e["event_id"]
        for e in fleet.events
        if (e["payload"] or {}).get("tool") == "flights.search" and pd.Timestamp(e["timestamp"]) >= since
    }
    assert set(hits["event_id"]) == expected
    assert len(expected) > 0


def test_run_trace_find_matches_values_with_quotes(sources: dict[str, Any]) -> None:
    trace = next(
        t for t in sources["traces"] if 'suspected \\"fraud\\"' in "".join(t.events_frame["payload"].dropna())
    )
    hits = trace.find('suspected "fraud"', type="tool_result")
    assert len(hits) == 1 and '\\"fraud\\"' in hits["payload"].iat[0]


def test_signatures_mask_ids_numbers_quotes_and_times() -> None:
    assert normalize("Refund of $41.50 for order ORD-1042 declined: 'card expired'") == (
        "Refund of <n> for order <id> declined: <str>"
    )
    assert normalize("Gateway timed out after 3000 ms (request req_00ab12cd34 at 2026-11-20T10:00:00Z)") == (
        "Gateway timed out after <n> ms (request <id> at <time>)"
    )
    assert normalize('User 3f2a9c1e-1111-4222-8333-444455556666 has no passport for "O\'Brien"') == (
        "User <id> has no passport for <str>"
    )
    assert normalize("It's the user's card") == "It's the user's card"
    assert normalize(None) == ""


def test_bad_arguments_are_clear_errors(sources: dict[str, Any]) -> None:
    with pytest.raises(InvalidArgumentError, match="group by one of tool, model, mission"):
        missionlab.tool_stats(sources["frames"], by="agent")
    with pytest.raises(InvalidArgumentError, match="not a fixed frequency"):
        missionlab.tool_stats(sources["frames"], freq="M")
    with pytest.raises(InvalidArgumentError, match="not a str"):
        missionlab.failures("runs.csv")
    with pytest.raises(InvalidArgumentError, match="steps=True"):
        missionlab.failures(missionlab.FetchedFrames(sources["frames"].runs, sources["frames"].events))
    with pytest.raises(InvalidArgumentError, match="no cluster"):
        missionlab.failures(sources["history"], now=ANCHOR).cluster("nope")


def test_an_empty_window_gives_empty_answers(sources: dict[str, Any], tmp_path: Path) -> None:
    later = ANCHOR + timedelta(days=30)
    for kind in SOURCES:
        assert missionlab.tool_stats(sources[kind], since=later).empty
        found = missionlab.failures(sources[kind], since=later, now=later)
        assert found.clusters.empty and found.runs.empty
    assert sources["history"].find("declined", since=later).empty


def test_the_fleet_figures_draw_the_statistics(sources: dict[str, Any], fleet: Fleet) -> None:
    from missionlab.figures import charts

    history = sources["history"]
    daily = missionlab.tool_stats(history, freq="D")
    latency = charts.tool_latency_chart(history)
    for tool, part in daily.groupby("tool", observed=True):
        drawn = {t.name: t for t in latency.data if t.legendgroup == tool}
        assert list(drawn) == [f"{tool} p50", f"{tool} p95", f"{tool} p99"]
        assert list(drawn[f"{tool} p95"].y) == part["p95_s"].tolist()
    assert latency.layout.yaxis.type == "log"
    cost = charts.cost_chart(history)
    per_day = missionlab.tool_stats(history, by="mission", freq="D")
    tokens, dollars = (t for t in cost.data)
    assert tokens.name == "Seeded travel fleet"  # missions by name, from the history
    assert list(tokens.y) == per_day["tokens"].tolist()
    assert list(dollars.y) == per_day["cost_usd"].tolist()
    assert sum(tokens.y) == sum(fleet.tokens.values())
    assert sum(dollars.y) == pytest.approx(sum(fleet.tokens.values()) / 1e5)


@pytest.mark.parametrize("kind", SOURCES)
def test_a_clusters_example_run_is_read_back_whole(sources: dict[str, Any], fleet: Fleet, kind: str) -> None:
    found = missionlab.failures(sources[kind], now=ANCHOR)
    run_id = str(found.clusters["example_run_id"].iat[0])
    example = found.example(0)
    assert str(example.run["run_id"] if isinstance(example.run, dict) else example.run.run_id) == run_id
    assert sorted(example.events_frame["event_id"]) == sorted(
        e["event_id"] for e in fleet.events if e["run_id"] == run_id
    )
    assert list(example.steps_frame["step_id"]) == ["plan", "search", "charge", "reply"]
    told = found.explain(0, now=ANCHOR, baseline=False)
    assert told.of_kind("failed_step")[0].step_id == found.clusters["step_id"].iat[0]
