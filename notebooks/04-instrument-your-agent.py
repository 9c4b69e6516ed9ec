# %% [markdown]
# # Instrument your own agent
#
# When your code *is* the agent (an `external` mission), `RunRecorder` records what it does as a run: the plan, each step, tool calls, and the outcome. Here a toy travel agent books a trip; its payment call fails once and is retried.

# %% [markdown]
# With `TELNYX_API_KEY` set, `connect()` talks to the hosted API; without it it starts a local **sandbox** with deterministic demo data, so this notebook runs anywhere, offline.

# %%
# NBVAL_IGNORE_OUTPUT
import missionlab

client = missionlab.connect()
mission = client.missions.create(name="My toy travel agent", execution_mode="external").data

# %% [markdown]
# The toy agent: plain Python functions, slow enough to watch.

# %%
import random
import time

random.seed(4)


def search_flights(to):
    time.sleep(1.5)
    return [{"flight": f"AF{random.randint(100, 999)}", "to": to, "price": random.randint(80, 400)} for _ in range(3)]


attempts = {"pay": 0}


def pay(amount):
    attempts["pay"] += 1
    time.sleep(1)
    if attempts["pay"] == 1:
        raise ConnectionError("payment gateway timed out")
    return {"charged": amount}


# %% [markdown]
# Run it under the recorder. A run panel next to it refreshes itself every second while the run is active.

# %%
# NBVAL_IGNORE_OUTPUT
from missionlab import RunRecorder
from missionlab.widgets import RunPanel

with RunRecorder(client, mission.mission_id, input={"to": "Lisbon"}, agent_id="toy-agent") as rec:
    panel = RunPanel(client, mission.mission_id, rec.run_id, refresh_interval=1)
    display(panel)
    rec.plan([("search", "Search flights"), ("choose", "Choose the cheapest"), ("pay", "Pay")])
    with rec.step("search"):
        rec.event("tool_call", "flights.search", payload={"to": "Lisbon"})
        flights = search_flights("Lisbon")
        rec.event("tool_result", f"{len(flights)} flights", payload={"flights": flights})
    with rec.step("choose"):
        best = min(flights, key=lambda f: f["price"])
        time.sleep(0.5)
    with rec.step("pay"):
        for attempt in (1, 2, 3):
            rec.event("tool_call", f"payments.charge (attempt {attempt})")
            try:
                receipt = pay(best["price"])
                break
            except ConnectionError as exc:
                rec.event("error", f"attempt {attempt} failed: {exc}")
        rec.event("tool_result", "charged", payload=receipt)
    rec.succeed(f"Booked {best['flight']}", {"flight": best, "receipt": receipt})

# %% [markdown]
# The recorded run, read back:

# %%
trace = missionlab.load_run(client, mission.mission_id, rec.run_id)
print(trace.run.status, "-", trace.run.result_summary)
trace.steps_frame[["step_id", "status", "depth"]]

# %%
trace.events_frame[["type", "step_id", "summary"]]

# %%
trace.diagnose()

# %% [markdown]
# If the code raises, the step and the run are marked failed with the exception's text, and steps never reached are marked skipped: a run is never left *running*.

# %%
try:
    with RunRecorder(client, mission.mission_id) as rec:
        rec.plan([("a", "Work"), ("b", "Never reached")])
        with rec.step("a"):
            raise ValueError("no flights to Atlantis")
except ValueError:
    pass
failed = missionlab.load_run(client, mission.mission_id, rec.run_id)
print(failed.run.status, "-", failed.run.error)
failed.steps_frame[["step_id", "status"]]
