"""Settings for the whole test run, notebooks included (their kernels inherit them)."""

import os

import pytest

# The notebooks render plotly figures one way everywhere (see notes on nbval).
os.environ["PLOTLY_RENDERER"] = "plotly_mimetype"
# Notebooks and tests run against the sandbox, never against the hosted API.
os.environ.pop("TELNYX_API_KEY", None)
os.environ.pop("TELNYX_BASE_URL", None)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Each notebook cell that nbval runs is a test; the notebooks take a while: mark them slow."""
    for item in items:
        if item.path.suffix == ".ipynb":
            item.add_marker(pytest.mark.slow)
