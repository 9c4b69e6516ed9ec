# %% [markdown]
# # Fleet analytics
#
# One failed run leads to questions about the fleet. This notebook follows a fleet owner through them, from a local history of the organization's runs: which runs failed lately, which tool got slow, what a run costs, which failures recur and which are new, where else an error shows up; then it labels a few failed runs, saves them as a dataset and reads the labels back.

# %% [markdown]
# With `TELNYX_API_KEY` set, `connect()` talks to the hosted API; without it it starts a local **sandbox** with deterministic demo data, so this notebook runs anywhere, offline.

# %%
# NBVAL_IGNORE_OUTPUT
import os
import tempfile
from datetime import timedelta

import missionlab
from missionlab import frames
from missionlab.figures import charts

client = missionlab.connect()

# %% [markdown]
# ## A local history
#
# `missionlab.history(client, folder)` keeps the organization's missions, runs, plan steps and events in a folder, as Delta Lake tables (Parquet files and a transaction log) that DuckDB, Dask, Polars and Spark read too. Its first `sync()` fetches everything (pages of 1,000, eight at a time, with a progress bar); later ones fetch only what changed. With the hosted API, keep the folder: tomorrow's sync is incremental. The sandbox starts afresh each time, so its history goes to a temporary folder. (For a one-off look without a folder, `missionlab.fetch_frames(client)` fetches the same runs and events as in-memory frames.)

# %%
# NBVAL_IGNORE_OUTPUT
folder = "missions-history" if os.environ.get("TELNYX_API_KEY") else tempfile.mkdtemp(prefix="missions-history-")
fleet = missionlab.history(client, folder)
print(fleet.sync())
fleet

# %% [markdown]
# Queries read the tables, not the API. The questions below look at the runs that started before the demo's anchor date, November 28 (`until=`), and mostly at November (`since=`), so their answers do not move while the sandbox plays live runs.

# %%
since, until = "2026-11-01", "2026-11-28"
fleet.runs(since=since, until=until).status.value_counts().sort_index()

# %% [markdown]
# Week by week (`frames.outcomes_over_time` takes the history itself, with the same filters):

# %%
frames.outcomes_over_time(fleet, freq="W", since=since, until=until)

# %% [markdown]
# ## Which runs failed lately
#
# `missionlab.grid` puts a mission's last runs side by side, Airflow-style: one column per run (oldest at the left), one row per plan step, each cell the step's status, deeper the longer it took against the same step in the other runs; a number counts its failed tool-call attempts, a star or an arrow marks plan drift. The hover names the run. (Its last runs include those the sandbox is playing now, so this figure changes from one session to the next.)

# %%
# NBVAL_IGNORE_OUTPUT
travel = "Travel booking assistant"
missionlab.grid(fleet, mission=travel, last=20)

# %% [markdown]
# The travel mission's failures of the last week before the anchor, from the runs table:

# %%
failed = fleet.runs(mission=travel, since="2026-11-21", until=until, status="failed")
failed[["started_at", "duration_s", "error"]].sort_values("started_at").round({"duration_s": 1})

# %% [markdown]
# Which steps fail most, and how long each takes, over the month (`frames.step_stats`, computed by DuckDB over the steps table):

# %%
stats = frames.step_stats(fleet, mission=travel, since=since, until=until)
stats.sort_values("failure_rate", ascending=False)[["step_id", "description", "runs", "failure_rate", "median_s", "p95_s"]].head(4).round(3)

# %% [markdown]
# ## Which tool got slow
#
# `missionlab.tool_stats` reads every tool call of the window: calls, error rate, latency percentiles, tokens and cost, per tool (or `by="model"`, `by="mission"`). The slowest tools at the 95th percentile:

# %%
tools = missionlab.tool_stats(fleet, since=since, until=until)
tools.sort_values("p95_s", ascending=False)[["tool", "calls", "error_rate", "p50_s", "p95_s", "p99_s"]].head(4).round(2)

# %% [markdown]
# `flights.search`, a tool of the travel mission, stands out. Per seven days (`freq="7D"`: periods as pandas floors them, from a Thursday), its latency grew at the end of the month:

# %%
weekly = missionlab.tool_stats(fleet, since=since, until=until, freq="7D")
weekly[weekly.tool == "flights.search"][["period", "calls", "errors", "p50_s", "p95_s"]].round({"p50_s": 1, "p95_s": 1})

# %% [markdown]
# Day by day over the last ten days, for the travel mission's tools: p50 (thin), p95 (thick) and p99 (dotted), on a log axis. The chart takes the filters of `tool_stats`.

# %%
# NBVAL_IGNORE_OUTPUT
recent = "2026-11-18"
charts.tool_latency_chart(fleet, since=recent, until=until, mission=travel)

# %% [markdown]
# ## What a run costs
#
# Tokens and cost come from the events' payloads (`payload.usage.total_tokens`, `payload.cost_usd`). Per mission, with the missions' names:

# %%
names = fleet.missions().set_index("mission_id")["name"]
per_mission = missionlab.tool_stats(fleet, by="mission", since=since, until=until)
per_mission.assign(mission=per_mission.mission_id.map(names)).set_index("mission").sort_index()[
    ["runs", "calls", "tokens_per_run", "cost_per_run", "cost_usd"]
].round(3)

# %% [markdown]
# Tokens and cost per day of the same ten days, stacked by mission:

# %%
# NBVAL_IGNORE_OUTPUT
charts.cost_chart(fleet, since=recent, until=until)

# %% [markdown]
# ## Which failures recur, which are new
#
# `missionlab.failures` groups the window's failed runs by an error signature: the failing step, the tool, and the error's text with ids, numbers, quotes and times masked. A cluster is `new` when first seen within `new_within` of the window's end (24 h by default; a week here). Cluster ids are short hashes that depend on the mission's id, so they differ from one sandbox to the next: pick clusters by position.

# %%
found = missionlab.failures(fleet, since=since, until=until, new_within=timedelta(days=7))
found.clusters[["step_id", "tool", "signature", "runs", "first_seen", "last_seen", "new"]].head(9)

# %% [markdown]
# The new ones: failures the month had not seen before its last week. Here one, the data warehouse check's familiar "row count dropped" error, but at a step (`validate-29`) where it had not failed before: the failing step is part of the signature.

# %%
found.clusters[found.clusters.new][["step_id", "signature", "runs", "first_seen"]]

# %% [markdown]
# The four largest, week by week (`over_time` counts each cluster's runs per period):

# %%
top = found.clusters.head(4)
found.over_time("W")[top.cluster].set_axis(top.signature.str.split(":").str[0], axis=1)

# %% [markdown]
# `explain(1)` reads the example run of the second cluster (the travel mission's expired fares) back from the history and explains it, with the cluster it belongs to (its ids differ from one sandbox to the next):

# %%
# NBVAL_IGNORE_OUTPUT
print(found.explain(1))

# %% [markdown]
# A run loaded from the API says the same: `explain(fleet=found)` adds the cluster line to its explanation.

# %%
# NBVAL_IGNORE_OUTPUT
fare = found.clusters.iloc[1]
trace = missionlab.load_run(client, fare.mission_id, fare.example_run_id)
print(trace.explain(fleet=found, now=trace.run.updated_at))

# %% [markdown]
# ## Search across runs
#
# `history.find` looks for text in every run's events, by the same rules as `trace.find`: case-insensitive, in the summary or the payload. Which errors say "declined", in which step:

# %%
declined = fleet.find("declined", type="error", until=until)
print(declined.run_id.nunique(), "runs")
declined[["timestamp", "step_id", "summary"]].head()

# %% [markdown]
# A value with quotes is matched as written:

# %%
fleet.find("'currency'", type="error", until=until)[["timestamp", "step_id", "summary"]]

# %% [markdown]
# ## Labels and a dataset of failures
#
# `trace.label(name, note=...)` stores a label in the run's metadata on the server, so the team sees it too. Label the three oldest runs of the expired-fare cluster:

# %%
fare_runs = found.runs[found.runs.cluster == fare.cluster].sort_values("failed_at").head(3)
traces = [missionlab.load_run(client, fare.mission_id, run_id) for run_id in fare_runs.run_id]
for each in traces:
    print(each.label("fare-expired", note="the fare expired before booking"))

# %% [markdown]
# `missionlab.dataset(traces, path)` saves them as run capsules with an index, for regression replays and evaluations (`missionlab sandbox serve --load DIR` serves them); `open_dataset` reads them back.

# %%
# NBVAL_IGNORE_OUTPUT
saved = missionlab.dataset(traces, os.path.join(tempfile.mkdtemp(prefix="fare-expired-"), "dataset"))
saved

# %%
saved.frame()[["mission", "status", "labels"]]

# %%
for each in missionlab.open_dataset(saved.path):
    print(each.run.status, each.labels, each.run.started_at)

# %% [markdown]
# ## Labels in the history
#
# An incremental sync re-reads new and active runs. The API lists runs by start time with no filter on when they changed, so a label put on a run that had already finished is read by `sync(relist_runs=True)`: it lists every run again (not their events) and stores those whose metadata or `updated_at` changed, with their plans. The `labels` column of the runs table then has them, for frames and SQL alike:

# %%
# NBVAL_IGNORE_OUTPUT
print(fleet.sync(relist_runs=True))

# %%
fleet.sql("""
    SELECT started_at, status, labels FROM runs
    WHERE list_contains(labels, 'fare-expired') ORDER BY started_at
""")

# %% [markdown]
# Each finished sync is a version of the history: `missionlab.History(folder, version=1)` reads it as the first sync left it, before the labels.

# %%
first = missionlab.History(folder, version=1)
first.sql("SELECT count(*) AS labelled FROM runs WHERE len(labels) > 0")

# %% [markdown]
# Any question the views don't answer is one SQL query away (`runs`, `steps`, `events` and `missions` are tables). Other tools read the same tables through their log, not by globbing the folder (replaced files stay on disk for a week): DuckDB over `deltalake.DeltaTable(folder + "/events").to_pyarrow_dataset()`, Dask with `dask_deltatable.read_deltalake(...)`, Polars with `pl.read_delta(...)`, Spark with delta-spark. See the docs on the history, on the fleet questions and on labels and datasets for the columns and rules.
