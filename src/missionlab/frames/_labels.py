"""The runs frame's ``labels`` column: each run's labels, read from its metadata."""

from __future__ import annotations

from typing import Any

import pandas as pd
import pyarrow as pa

from .._wire.labels import labels_of

__all__ = ["LABELS", "run_labels"]

LABELS = pd.ArrowDtype(pa.list_(pa.string()))
"""The column's type: an Arrow list of strings per run (empty for a run without labels)."""


def run_labels(metadata: list[Any]) -> pd.api.extensions.ExtensionArray:
    """The labels of runs whose metadata values are ``metadata`` (dicts, or anything: tolerant)."""
    return pd.array(pa.array([labels_of(m) for m in metadata], pa.list_(pa.string())), dtype=LABELS)
