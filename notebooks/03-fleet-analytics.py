# %% [markdown]
# # Fleet analytics
#
# Across hundreds of runs: outcomes over time, the slowest and most failing steps, and step duration distributions.

# %% [markdown]
# With `TELNYX_API_KEY` set, `connect()` talks to the hosted API; without it it starts a local **sandbox** with deterministic demo data, so this notebook runs anywhere, offline.

# %%
# NBVAL_IGNORE_OUTPUT
import missionlab
from missionlab import charts, frames

client = missionlab.connect()

# %% [markdown]
# ## Fetch everything
#
# `fetch_frames()` fetches every run and every event of the organization as DataFrames: pages of 1,000 fetched concurrently and read straight into typed columns; a progress bar appears when it takes more than a moment. History only: runs started before the demo's anchor date, so the numbers below do not move while the sandbox plays live runs.

# %%
# NBVAL_IGNORE_OUTPUT
org = missionlab.fetch_frames(client, progress=True)
org

# %%
runs_df = org.runs
history = runs_df[runs_df.started_at < "2026-11-28"]
history.status.value_counts().sort_index()

# %% [markdown]
# ## Outcomes over time

# %%
weekly = frames.outcomes_over_time(history, freq="W")
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
# One mission's history with the plan of each of its runs (`steps=True`: the plans are fetched 8 at a time), as one frame of steps:

# %%
missions = {m.name: m for m in client.missions.list().data}
travel = missions["Travel booking assistant"]
travel_history = missionlab.fetch_frames(client, mission_id=travel.mission_id, steps=True, progress=False)
travel_runs = history[history.mission_id == travel.mission_id]
steps = travel_history.steps[travel_history.steps.run_id.isin(travel_runs.run_id)]
stats = frames.step_stats(steps)
stats.round(2)

# %%
stats.sort_values("failure_rate", ascending=False).head(3)[["step_id", "failure_rate", "finished"]].round(3)

# %%
# NBVAL_IGNORE_OUTPUT
charts.step_durations(steps)

# %% [markdown]
# ## The runs themselves
#
# One bar per run, as long as the run took, colored by its outcome:

# %%
# NBVAL_IGNORE_OUTPUT
charts.runs_chart(travel_runs, title="Travel booking runs")
