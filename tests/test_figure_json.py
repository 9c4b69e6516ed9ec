"""A missionlab figure's dict is ready for plotly's JSON writer to take whole
(figures/_json_ready.py), and writes the JSON that plotly's own cleaning writes."""

from __future__ import annotations

import enum
from contextlib import nullcontext
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio
import pytest

import missionlab
from missionlab.figures._json_ready import json_ready
from missionlab.figures._notebook import NotebookFigure

CORPUS = sorted(
    p for p in (Path(__file__).parent / "data" / "scenarios").glob("*.json") if p.stem != "expected"
)
NOW = pd.Timestamp("2026-12-01T00:00:00Z")
ORJSON_OPTIONS = orjson.OPT_NON_STR_KEYS | orjson.OPT_SERIALIZE_NUMPY


def plotly_json(figure: go.Figure, engine: str = "orjson") -> str:
    """The figure's JSON as plotly writes its own dict (``go.Figure.to_dict``, then cleaned)."""
    return str(pio.json.to_json_plotly(go.Figure.to_dict(figure), engine=engine))


# Warnings are errors here: a step added mid-run once filled its times across units, which
# pandas warns will raise in a future version. But for ResourceWarning, ignored as Python
# ignores it: an earlier test's unclosed socket collected during this one is not its warning.
@pytest.mark.filterwarnings("error", "ignore::ResourceWarning")
@pytest.mark.parametrize("path", CORPUS[::3], ids=lambda p: p.stem)
def test_a_gantt_writes_what_plotly_writes_and_orjson_takes_it_whole(path: Path) -> None:
    trace = missionlab.open_run(path)
    for figure in (
        trace.gantt(now=NOW),
        trace.gantt(now=NOW, critical_path=True, rollup="payload.tokens", replay=5, theme=None),
    ):
        assert figure.to_json() == plotly_json(figure)
        assert pio.to_json(figure, engine="json") == plotly_json(figure, "json")
        ready = figure.to_dict()
        orjson.dumps(ready, option=ORJSON_OPTIONS)  # no value left for plotly to clean
        strings = [t["customdata"] for t in ready["data"] if "customdata" in t]
        assert strings and all(isinstance(values, list) for values in strings)
        assert isinstance(figure.data[0].customdata, np.ndarray)  # the figure itself keeps its arrays


class Kind(enum.Enum):
    A = "a"


def crafted(**layout_meta: object) -> NotebookFigure:
    figure = NotebookFigure(
        {
            "data": [
                {
                    "type": "scatter",
                    "x": np.array(["2026-01-01T00:00:00", "2026-01-01T00:00:01.5"]),
                    "y": np.array([1, 2], dtype="int64"),
                    "text": np.array(["a&lt;b", "ünï · —"]),
                    "customdata": np.array([["x", "y"], ["z", "w"]]),
                }
            ],
            "layout": {"title": {"text": "t"}},
        }
    )
    figure.layout.meta = layout_meta
    return figure


@pytest.mark.parametrize(
    "meta",
    [
        {"when": pd.Timestamp("2026-01-02T03:04:05.123456")},
        {"when": pd.Timestamp("2026-01-02T03:04:05", tz="UTC"), "at": datetime(2026, 1, 2, tzinfo=UTC)},
        {"n": np.int64(7), "f": np.float32(0.1), "g": np.float64(0.3), "b": np.bool_(True)},
        {"missing": pd.NaT, "na": pd.NA, "nan": float("nan"), "none": None},
        {"pair": ("a", 1), "nested": [{"k": np.int64(2)}], "kind": Kind.A},
        # what orjson would write otherwise than plotly's cleaning: left for the cleaning
        {"stamp": np.datetime64("2026-01-01T00:00:00", "us")},
        {"stamps": np.array(["2026-01-01", "NaT"], dtype="datetime64[ms]")},
        {"mixed": np.array(["a", 1, None], dtype=object)},
        {"nanos": pd.Timestamp("2026-01-02T03:04:05.123456789")},
        {"amount": Decimal("1.25")},
    ],
    ids=[
        "timestamp",
        "aware",
        "numpy-scalars",
        "missing",
        "containers",
        "datetime64",
        "datetime64-array",
        "mixed-objects",
        "nanoseconds",
        "decimal",
    ],
)
def test_every_kind_of_value_writes_what_plotly_writes(meta: dict[str, object]) -> None:
    figure = crafted(**meta)
    dropped = "nanos" in meta  # plotly's cleaning drops them, with a warning
    with pytest.warns(UserWarning) if dropped else nullcontext():
        expected = plotly_json(figure)
    with pytest.warns(UserWarning) if dropped else nullcontext():
        assert figure.to_json() == expected


def test_an_unknown_value_leaves_the_whole_dict_to_plotly() -> None:
    def figure(meta: object) -> dict[str, Any]:
        return {"data": [{"text": np.array(["a", "b"], dtype=object)}], "layout": {"meta": meta}}

    stamps = np.array(["2026-01-01", "2026-01-02"], dtype="datetime64[ms]")
    left = json_ready(figure({"s": stamps}))
    assert isinstance(left["data"][0]["text"], np.ndarray)  # not turned: nothing is
    assert json_ready(figure({"s": "2026-01-01"}))["data"][0]["text"] == ["a", "b"]


def test_a_figures_dict_shares_nothing_with_the_figure() -> None:
    """What ``to_dict`` returns is the caller's: emptying every container in it leaves the
    figure and its JSON as they were."""
    figure = missionlab.open_run(CORPUS[0]).gantt(now=NOW, replay=3)
    before = plotly_json(figure)

    def empty(value: object) -> None:
        if isinstance(value, dict | list):
            for child in list(value.values()) if isinstance(value, dict) else value:
                empty(child)
            value.clear()

    empty(figure.to_dict())
    assert plotly_json(figure) == before
    assert figure.to_json() == before
