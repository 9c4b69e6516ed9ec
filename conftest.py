"""Settings for the whole test run, notebooks included (their kernels inherit them)."""

import os

# The notebooks render plotly figures one way everywhere (see notes on nbval).
os.environ["PLOTLY_RENDERER"] = "plotly_mimetype"
# Notebooks and tests run against the sandbox, never against the hosted API.
os.environ.pop("TELNYX_API_KEY", None)
os.environ.pop("TELNYX_BASE_URL", None)
