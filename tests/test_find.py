"""Finding events in a run: text, agent, step, type and time window; a window from a range
selected on the Gantt."""

from __future__ import annotations

import warnings
from datetime import timedelta

import pandas as pd
import plotly.graph_objects as go
import pytest

from missionlab.analysis.find import on_time_window, window_from_relayout
from missionlab.trace import RunTrace

from .crafted import T0, at, craft, event, step


def trace() -> RunTrace:
    return craft(
        [step("a", 1, 10, sequence=1), step("b", 11, 30, sequence=2)],
        [
            event(
                2, "tool_call", "a", "Calling payments.charge", {"card": "4242", "amount": 120}, agent="alice"
            ),
            event(5, "tool_result", "a", "Card DECLINED", {"code": "do_not_honor"}, agent="alice"),
            event(12, "message", "b", "Retrying with the backup card", agent="bob"),
            event(20, "tool_call", "b", "Calling payments.charge", {"card": "1111"}, agent="bob"),
            event(25, "message", None, "The run is still going", agent="bob"),
        ],
        with_step_events=False,
    )


def summaries(frame: pd.DataFrame) -> list[str]:
    return frame["summary"].tolist()


def test_text_search_in_summaries_and_payloads() -> None:
    run = trace()
    assert summaries(run.find("declined")) == ["Card DECLINED"]  # case-insensitive
    assert summaries(run.find("declined", case=True)) == []
    assert summaries(run.find("4242")) == ["Calling payments.charge"]  # a payload value
    assert summaries(run.find("do_not_honor")) == ["Card DECLINED"]
    assert summaries(run.find('"card"')) == ["Calling payments.charge", "Calling payments.charge"]  # a key
    assert summaries(run.find("[backup")) == []  # plain text, not a pattern
    assert list(run.find().columns) == list(run.events_frame.columns)


def test_search_is_find_under_an_older_name_and_says_so() -> None:
    run = trace()
    with pytest.warns(FutureWarning, match=r"RunTrace.search is RunTrace.find: call find\(\)") as caught:
        found = run.search("payments", agent="bob")
    assert len(caught) == 1
    assert summaries(found) == ["Calling payments.charge"]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert summaries(run.find("payments", agent="bob")) == ["Calling payments.charge"]


def test_filters_by_agent_step_type_and_window() -> None:
    run = trace()
    assert summaries(run.find(agent="alice")) == ["Calling payments.charge", "Card DECLINED"]
    assert len(run.find(agent=["alice", "bob"])) == 5
    assert summaries(run.find("payments", agent="bob")) == ["Calling payments.charge"]
    assert summaries(run.find(step="b", type="message")) == ["Retrying with the backup card"]
    assert len(run.find(type=["tool_call", "tool_result"])) == 3
    between = run.events_between(at(5), at(20))
    assert summaries(between) == ["Card DECLINED", "Retrying with the backup card", "Calling payments.charge"]
    assert (
        summaries(run.events_between("2026-11-01 10:00:05", "2026-11-01T10:00:12Z")) == summaries(between)[:2]
    )
    assert summaries(run.events_between(10, 21)) == summaries(between)[1:]  # seconds since the start
    assert summaries(run.find(start=T0 + timedelta(seconds=21))) == ["The run is still going"]


def test_window_from_a_relayout_or_a_figure_widget_range() -> None:
    first, last = pd.Timestamp(at(5)), pd.Timestamp(at(20))
    naive = [str(first.tz_localize(None)), str(last.tz_localize(None))]
    assert window_from_relayout({"xaxis.range[0]": naive[0], "xaxis.range[1]": naive[1]}) == (first, last)
    assert window_from_relayout({"xaxis.range": naive[::-1]}) == (first, last)
    assert window_from_relayout(tuple(naive)) == (first, last)
    assert window_from_relayout({"xaxis.autorange": True}) is None
    assert window_from_relayout({"yaxis.range[0]": 1}) is None
    assert window_from_relayout(None) is None
    run = trace()
    widget = go.FigureWidget(run.gantt())
    seen: list[tuple[pd.Timestamp, pd.Timestamp] | None] = []
    on_time_window(widget, seen.append)
    widget.layout.xaxis.range = naive  # what a range selected in the browser does
    assert seen == [(first, last)]
    (window,) = seen
    assert window is not None
    assert summaries(run.events_between(*window)) == [
        "Card DECLINED",
        "Retrying with the backup card",
        "Calling payments.charge",
    ]
