# %% [markdown]
# # missionlab quickstart
#
# missionlab is a Jupyter toolkit for the Telnyx AI Missions API: browse missions, start and steer runs, and see a run's plan as a Gantt timeline, without leaving the notebook.

# %% [markdown]
# With `TELNYX_API_KEY` set, `connect()` talks to the hosted API; without it it starts a local **sandbox** with deterministic demo data, so this notebook runs anywhere, offline.

# %%
# NBVAL_IGNORE_OUTPUT
import missionlab

client = missionlab.connect()

# %% [markdown]
# ## The explorer
#
# Select a mission to see its details and runs, start a run from the form, and steer it (pause, resume, cancel) from its run panel.

# %%
# NBVAL_IGNORE_OUTPUT
explorer = missionlab.browse(client)
explorer

# %% [markdown]
# ## Runs as a DataFrame
#
# Every list converts to a tidy pandas DataFrame: fixed columns, real dtypes, durations in seconds.

# %%
failed = client.missions.runs.list_runs(status="failed", page_size=5)
failed.to_frame()[["run_id", "status", "started_at", "duration_s", "error"]]

# %% [markdown]
# ## Start a run and watch it
#
# The sandbox executes *managed* missions like the hosted service: it writes a plan, moves the steps along and logs events. The Gantt below fills in live, in place, while the cell waits for the run. (While a cell runs, the kernel does nothing else: the explorer above answers again when it ends. A `RunPanel` refreshes in the background instead, see notebook 04.)

# %%
missions = {m.name: m for m in client.missions.list().data}
travel = missions["Travel booking assistant"]
run = client.missions.runs.create(travel.mission_id, input={"to": "Lisbon"}).data
print(run.status)

# %%
# NBVAL_IGNORE_OUTPUT
import time
from missionlab.figures.timeline import LiveGantt

trace = missionlab.load_run(client, travel.mission_id, run.run_id)
live = LiveGantt(trace)
display(live)
while trace.run.status in ("pending", "running"):
    time.sleep(1)
    trace = missionlab.load_run(client, travel.mission_id, run.run_id)
    live.update(trace)
print(trace.run.status, len(trace.steps), "steps", len(trace.events), "events")

# %% [markdown]
# A finished run shows itself as a status card and its Gantt:

# %%
# NBVAL_IGNORE_OUTPUT
trace
