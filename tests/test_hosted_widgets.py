"""The explorer's run panel and runs list on hosted-shaped answers (tests/data/hosted).

These answers carry what the sandbox never sends (a `queued` run, a `blocked` step, an
`llm_call` event, steps timed only by their events, no `status_change` events), so the
server here is a mock transport that answers with the fixture files, as the hosted API may.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

import missionlab
from missionlab.widgets import RunPanel, RunsPanel

# the client warns once per unknown value it keeps (tested in test_tolerant_reading)
pytestmark = pytest.mark.filterwarnings("ignore::missionlab.UnknownValueWarning")

HOSTED = Path(__file__).parent / "data" / "hosted"
RUN = json.loads((HOSTED / "run.json").read_text())["data"]
MISSION_ID, RUN_ID = RUN["mission_id"], RUN["run_id"]

ROUTES = {
    rf"/ai/missions/{MISSION_ID}": "mission.json",
    rf"/ai/missions/{MISSION_ID}/runs": "runs_page.json",
    rf"/ai/missions/{MISSION_ID}/runs/{RUN_ID}": "run.json",
    rf"/ai/missions/{MISSION_ID}/runs/{RUN_ID}/plan": "plan.json",
    rf"/ai/missions/{MISSION_ID}/runs/{RUN_ID}/events": "events.json",
    rf"/ai/missions/{MISSION_ID}/runs/{RUN_ID}/telnyx-agents": "agents.json",
}


def answer(request: httpx.Request) -> httpx.Response:
    path = request.url.path.removeprefix("/v2")
    for pattern, name in ROUTES.items():
        if request.method == "GET" and re.fullmatch(pattern, path):
            return httpx.Response(200, content=(HOSTED / name).read_bytes())
    body = {"errors": [{"code": "not_found", "title": "Not Found", "detail": f"no fixture for {path}"}]}
    return httpx.Response(404, json=body)


@pytest.fixture
def hosted() -> Iterator[missionlab.Client]:
    transport = httpx.MockTransport(answer)
    with missionlab.Client(api_key="KEY", base_url="https://api.hosted.invalid/v2", transport=transport) as c:
        yield c


def legend(figure: Any) -> set[str]:
    return {str(trace.name) for trace in figure.data if trace.showlegend is not False}


def test_the_run_panel_shows_a_hosted_run(hosted: missionlab.Client) -> None:
    panel = RunPanel(hosted, MISSION_ID, RUN_ID, refresh_interval=60)
    try:
        assert panel.notice.text == ""  # nothing failed
        assert panel.run is not None and panel.run.status == "failed"
        assert not panel.refreshing  # a finished run is not watched
        figure = panel.timeline.figure
        assert figure is not None
        names = legend(figure)
        assert "blocked" in names and "llm_call" in names  # unknown values under their own names
        bars = [t for t in figure.data if t.type == "bar"]
        assert sum(len(t.x) for t in bars) >= 5  # steps timed from their events are drawn
        hovers = " ".join(
            str(t.hovertemplate) + str([] if t.customdata is None else list(t.customdata)) for t in bars
        )
        assert "from events" in hovers or "from its events" in hovers
        panel.tabs.selected_index = 1  # the events (built when shown)
        options = [str(label) for label, _ in panel.event_log.event_list.options]
        assert len(options) == 16 and any("llm_call" in label for label in options)
        # the fixtures hold no other run's plan (404): the baseline leaves those runs out
        panel.tabs.selected_index = 3  # the explanation of the failure
        panel.refresh()
        assert panel.diagnosis.explanation.value and panel.diagnosis.notice.text == ""
    finally:
        panel.close()


def test_the_runs_list_keeps_an_unknown_status(hosted: missionlab.Client) -> None:
    runs = RunsPanel(hosted, refresh_interval=60)
    runs.show_mission(MISSION_ID)
    try:
        shown = runs.frame()["status"].astype(str).tolist()  # an old running run reads "running · stale"
        assert [status.split(" ")[0] for status in shown] == ["queued", "running", "failed"]
    finally:
        runs.close()
