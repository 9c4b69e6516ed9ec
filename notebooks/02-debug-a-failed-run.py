# %% [markdown]
# # Debug a failed run
#
# Find failed runs, ask one why it failed, compare it with the most similar successful run, read its Gantt (failed attempts, plan drift, the critical path) and events, and share it as one file that opens offline.

# %% [markdown]
# With `TELNYX_API_KEY` set, `connect()` talks to the hosted API; without it it starts a local **sandbox** with deterministic demo data, so this notebook runs anywhere, offline.

# %%
# NBVAL_IGNORE_OUTPUT
from datetime import timedelta
from pathlib import Path
from tempfile import mkdtemp

import missionlab
from missionlab import frames
from missionlab.figures import charts

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
# `load_run` fetches the run, its plan and all its events at once. We take the oldest failure in the list (the newest could be a run still playing as you read):

# %%
bad = missionlab.load_run(client, travel.mission_id, failed.run_id.iloc[-1])
print(bad)

# %% [markdown]
# ## Why it failed
#
# `explain()` says it in a few ranked sentences, each with its evidence (step, event ids, times): the step that failed and the error chain that led there, the steps skipped because of it, and steps that took unusually long compared with this mission's earlier runs (fetched once by the client that loaded the trace; a step is slow against its usual duration, the earlier runs where it was slow itself left out). Only findings of warning or error severity are told: on a healthy run it says "Nothing stands out". `now=` fixes the moment the run is judged at (a finished run reads the same at any moment).
#
# Here the flight search was called and got no answer for 30 s: the call failed, and the step with it.

# %%
why = bad.explain(now=bad.run.updated_at)
print(why)

# %% [markdown]
# ## The first divergence from a run that worked
#
# `compare()` with no argument picks the most *typical* succeeded run of the same mission as the baseline (the plan shape most runs have, step durations closest to their medians: never an outlier) and says why it chose it. It aligns the two runs by step and tool call, leaves out the payload keys that differ on every run (token usage, cost, ids, timestamps, at any depth; listed in the answer; an argument equal to the run's own input is compared as the input field it came from) and ranks what differs by what explains the outcome: status first, then tools, then timing, then payloads.

# %%
comparison = bad.compare()
print(comparison)

# %% [markdown]
# Steer it when you know better: `baseline=` a run of your choice, `ignore=[...]` more payload keys. Every divergence, ranked:

# %%
for divergence in comparison.ranked[0][:3]:
    print(divergence.kind, divergence.step_id, "-", divergence.text)

# %%
# NBVAL_IGNORE_OUTPUT
charts.compare_runs(comparison)

# %% [markdown]
# ## The Gantt
#
# Failed attempts inside a step are hatched segments of its bar, steps added after the run started or run out of plan order are marked at the left, and `critical_path=True` outlines the chain of steps that decided the run's length. Hover over a bar or a marker for details.

# %%
# NBVAL_IGNORE_OUTPUT
bad.gantt(critical_path=True)

# %% [markdown]
# The events around the failure, from the step that failed, and a text search over every event's summary and payload:

# %%
events = bad.events_frame
failed_step = bad.steps_frame.loc[bad.steps_frame.status == "failed", "step_id"].iloc[0]
print("failed step:", failed_step)
events.loc[events.step_id == failed_step, ["timestamp", "type", "summary"]]

# %%
bad.find("error")[["timestamp", "type", "step_id", "summary"]]

# %% [markdown]
# ## Diagnosis
#
# `diagnose` looks for inconsistencies: steps left open, events that disagree with a step's status, silent steps, missing results. It does not say why a run failed (`explain()` above does): the simulated failure's record is consistent, so it finds nothing.

# %%
bad.diagnose()

# %% [markdown]
# A run left *running* by an external agent that went away is another story:

# %%
stuck_summary = next(r for r in client.missions.runs.list_runs(status="running", page_size=100).data
                     if r.started_at.year == 2026 and r.started_at.month == 11 and r.started_at.day < 28)
stuck = missionlab.load_run(client, stuck_summary.mission_id, stuck_summary.run_id)
stuck.diagnose(now=stuck.run.updated_at + timedelta(hours=1))[["severity", "check", "step_id"]]

# %% [markdown]
# ## Compare with a run of your choice
#
# With runs given, `compare_runs` draws them aligned at their start; the step that differs stands out (failed steps have a red outline):

# %%
good_id = runs_df.loc[runs_df.status == "succeeded", "run_id"].iloc[0]
good = missionlab.load_run(client, travel.mission_id, good_id)
both = good.steps_frame.merge(bad.steps_frame, on="step_id", suffixes=("_ok", "_failed"))
both[both.status_ok != both.status_failed][["step_id", "status_ok", "status_failed"]]

# %%
# NBVAL_IGNORE_OUTPUT
charts.compare_runs([good, bad])

# %% [markdown]
# ## Keep it, replay it, share it
#
# `save()` writes the run as one capsule file (run, mission, plan, events, agents; never the API key). `missionlab.open_run` gives it back offline, and every view accepts it; `missionlab sandbox serve --load run.json` serves it to any client, the official SDK included.

# %%
folder = Path(mkdtemp())
capsule = bad.save(folder / "run.json")
again = missionlab.open_run(capsule)
print(again.run.run_id == bad.run.run_id, len(again.events) == len(bad.events))

# %% [markdown]
# `replay=True` adds a slider with play/pause that replays the run with no kernel: it survives saving the notebook and exporting it. `to_html` writes a self-contained page (plotly.js inlined, no network) with the status card, the explanation, the Gantt with its replay, the events and the diagnosis.

# %%
# NBVAL_IGNORE_OUTPUT
again.gantt(replay=True)

# %%
page = again.to_html(folder / "run.html")
print(f"{len(page) / 2**20:.1f} MiB, self-contained:", "<script src" not in page)
