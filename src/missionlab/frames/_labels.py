"""The runs frame's ``labels`` column: each run's labels, read from its metadata."""

from __future__ import annotations

from typing import Any

import pandas as pd
import pyarrow as pa

from .._wire.labels import LABELS_KEY, labels_of

__all__ = ["LABELS", "run_labels"]

LABELS = pd.ArrowDtype(pa.list_(pa.string()))
"""The column's type: an Arrow list of strings per run (empty for a run without labels)."""


def run_labels(metadata: list[Any]) -> pd.api.extensions.ExtensionArray:
    """The labels of runs whose metadata values are ``metadata`` (dicts, or anything: tolerant)."""
    none: list[str] = []  # (most runs: metadata without labels, read without a call)
    labels = [
        none if m is None or (type(m) is dict and LABELS_KEY not in m) else labels_of(m) for m in metadata
    ]
    return pd.array(pa.array(labels, pa.list_(pa.string())), dtype=LABELS)
