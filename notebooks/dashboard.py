# %% [markdown]
# # Missions explorer

# %%
# NBVAL_IGNORE_OUTPUT
import missionlab

missionlab.browse()
