# %% [markdown]
# # Fleet analytics
#
# Across hundreds of runs: outcomes over time, the slowest and most failing steps, and step duration distributions, from a local history of the organization's runs.

# %% [markdown]
# With `TELNYX_API_KEY` set, `connect()` talks to the hosted API; without it it starts a local **sandbox** with deterministic demo data, so this notebook runs anywhere, offline.

# %%
# NBVAL_IGNORE_OUTPUT
import os
import tempfile

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
# A second sync reads only what changed since the first: here, what the sandbox's live run did in the meantime.

# %%
# NBVAL_IGNORE_OUTPUT
print(fleet.sync())

# %% [markdown]
# Queries read the tables, not the API. History only: runs started before the demo's anchor date, so the numbers below do not move while the sandbox plays live runs.

# %%
until = "2026-11-28"
history = fleet.runs(until=until)
history.status.value_counts().sort_index()

# %% [markdown]
# ## Outcomes over time
#
# The fleet views of `missionlab.frames` and `missionlab.figures.charts` take the history itself, with filters (`mission`, `since`, `until`), as well as frames:

# %%
weekly = frames.outcomes_over_time(fleet, freq="W", until=until)
weekly

# %%
# NBVAL_IGNORE_OUTPUT
import plotly.express as px

long = weekly.reset_index().melt(id_vars="period", var_name="status", value_name="runs")
px.bar(long, x="period", y="runs", color="status", color_discrete_map=charts.RUN_COLORS,
       title="Runs per week by outcome")

# %% [markdown]
# ## The slowest and most failing steps
#
# Per-step statistics of one mission, computed by DuckDB over the steps table (the steps never all sit in memory):

# %%
missions = fleet.missions().set_index("name")
travel = missions.loc["Travel booking assistant", "mission_id"]
stats = frames.step_stats(fleet, mission=travel, until=until)
stats.drop(columns="mission_id").round(2)

# %%
stats.sort_values("failure_rate", ascending=False).head(3)[["step_id", "failure_rate", "finished"]].round(3)

# %%
# NBVAL_IGNORE_OUTPUT
charts.step_durations(fleet, mission=travel, until=until)

# %% [markdown]
# Any question the views don't answer is one SQL query away (`runs`, `steps`, `events` and `missions` are tables):

# %%
fleet.sql("""
    SELECT type, count(*) AS events, count(DISTINCT run_id) AS runs
    FROM events WHERE timestamp < TIMESTAMPTZ '2026-11-28 00:00:00+00'
    GROUP BY type ORDER BY events DESC, type
""")

# %% [markdown]
# ## The runs themselves
#
# One bar per run, as long as the run took, colored by its outcome:

# %%
# NBVAL_IGNORE_OUTPUT
charts.runs_chart(fleet, mission=travel, until=until, title="Travel booking runs")

# %% [markdown]
# Each finished sync is a version of the history: `missionlab.History(folder, version=1)` reads the history as the first sync left it.

# %%
# NBVAL_IGNORE_OUTPUT
fleet.syncs[["at", "new_runs", "new_events", "plans", "requests"]]

# %%
first = missionlab.History(folder, version=1)
first.runs(until=until).status.value_counts().sort_index()

# %% [markdown]
# Other tools read the same tables through their log, not by globbing the folder (replaced files stay on disk for a week): DuckDB over `deltalake.DeltaTable(folder + "/events").to_pyarrow_dataset()`, Dask with `dask_deltatable.read_deltalake(...)`, Polars with `pl.read_delta(...)`, Spark with delta-spark. See the history's documentation for the tables, their columns, time travel and repair.
