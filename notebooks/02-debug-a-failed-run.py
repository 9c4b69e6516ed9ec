# %% [markdown]
# # Debug a failed run
#
# Find failed runs, read one's Gantt and events around the failure, run the diagnosis, and compare it with a successful run of the same mission.

# %% [markdown]
# With `TELNYX_API_KEY` set, `connect()` talks to the hosted API; without it it starts a local **sandbox** with deterministic demo data, so this notebook runs anywhere, offline.

# %%
# NBVAL_IGNORE_OUTPUT
import missionlab
from missionlab import charts, frames

client = missionlab.connect()

# %% [markdown]
# ## Failed runs
#
# The travel mission's failures, newest first:

# %%
missions = {m.name: m for m in client.missions.list().data}
travel = missions["Travel booking assistant"]
runs = client.missions.runs.list(travel.mission_id, page_size=1000).fetch_all()
runs_df = frames.runs_frame(runs)
failed = runs_df[runs_df.status == "failed"]
print(len(runs_df), "runs,", len(failed), "failed")
failed[["run_id", "started_at", "duration_s", "error"]].head()

# %% [markdown]
# ## One failed run
#
# `load_run` fetches the run, its plan and all its events at once. Its Gantt shows where the time went and where it broke: hover over a bar or a marker for details.

# %%
bad = missionlab.load_run(client, travel.mission_id, failed.run_id.iloc[0])
print(bad)

# %%
# NBVAL_IGNORE_OUTPUT
bad.gantt()

# %% [markdown]
# The events around the failure, from the step that failed:

# %%
events = bad.events_frame
failed_step = bad.steps_frame.loc[bad.steps_frame.status == "failed", "step_id"].iloc[0]
print("failed step:", failed_step)
events.loc[events.step_id == failed_step, ["timestamp", "type", "summary"]]

# %% [markdown]
# ## Diagnosis
#
# `diagnose` looks for inconsistencies: steps left open, events that disagree with a step's status, silent steps, missing results. The simulated failure is clean: the run failed honestly, and recorded why.

# %%
bad.diagnose()

# %% [markdown]
# A run left *running* by an external agent that went away is another story:

# %%
stuck_summary = next(r for r in client.missions.runs.list_runs(status="running", page_size=100).data
                     if r.started_at.year == 2026 and r.started_at.month == 11 and r.started_at.day < 28)
stuck = missionlab.load_run(client, stuck_summary.mission_id, stuck_summary.run_id)
stuck.diagnose(now=stuck.run.updated_at + __import__("datetime").timedelta(hours=1))[["severity", "check", "step_id"]]

# %% [markdown]
# ## Compare with a successful run
#
# Aligned at their start, the step that differs stands out (failed steps have a red outline):

# %%
good_id = runs_df.loc[runs_df.status == "succeeded", "run_id"].iloc[0]
good = missionlab.load_run(client, travel.mission_id, good_id)
both = good.steps_frame.merge(bad.steps_frame, on="step_id", suffixes=("_ok", "_failed"))
both[both.status_ok != both.status_failed][["step_id", "status_ok", "status_failed"]]

# %%
# NBVAL_IGNORE_OUTPUT
charts.compare_runs([good, bad])
