"""One run as one HTML page: self-contained, every server string escaped; in headless
Chromium with no network it shows the Gantt, replays to the middle with the slider, and
no payload of the injection corpus runs."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest

from missionlab.figures.share import CSP
from missionlab.trace import RunTrace, open_run

from .crafted import T0, craft, event, step
from .injection import PAYLOADS, markup_of

CHROMIUM = "/usr/bin/chromium"


def evil_run() -> RunTrace:
    """A failed run whose every server string is a payload of the corpus."""
    p = PAYLOADS
    steps = [
        step("parse", 1, 20, sequence=1, description=p[0]),
        step(p[1], 21, 60, sequence=2, description=p[2], metadata={"note": p[3]}),
        step("book", 61, 90, "failed", sequence=3, description=p[4]),
        step("mail", None, 91, "skipped", sequence=4, description=p[5]),
    ]
    events = [
        event(2 + 4 * n, "message", "parse" if n < 4 else "book", payload, {"text": payload}, agent=payload)
        for n, payload in enumerate(p)
    ]
    events += [
        event(30, "tool_call", p[1], p[6], {"tool": p[7], "request_id": "r1"}),
        event(35, "tool_result", p[1], p[8], {"tool": p[7], "request_id": "r1", "ok": False, "status": 500}),
        event(40, "tool_call", p[1], p[9], {"tool": p[7], "request_id": "r2"}),
        event(89, "error", "book", p[10], {"error": p[11]}),
    ]
    return craft(steps, events, status="failed", mission_name=p[12], error=p[13], run_id="run-evil")


def test_the_page_is_self_contained_and_escapes_every_server_string(tmp_path: Path) -> None:
    trace = evil_run()
    page = trace.to_html(tmp_path / "run.html")
    assert (tmp_path / "run.html").read_text(encoding="utf-8") == page
    head, body = page.split("</head>", 1)
    assert f'content="{CSP}"' in head and "connect-src" not in CSP and "default-src 'none'" in CSP
    assert "<script src" not in page and "<link" not in page  # plotly.js is inlined
    assert head.count("<script>") == 1 and len(head) > 1_000_000
    for payload in PAYLOADS:
        assert markup_of(body, payload) == [], payload
    for section in (
        "<h2>Explanation</h2>",
        "<h2>Timeline</h2>",
        "<h2>Diagnosis</h2>",
        f"<h2>Events ({len(trace.events)})</h2>",
    ):
        assert section in body
    assert "missionlab-gantt" in body and '"sliders"' in body  # the Gantt, with its replay


def test_the_rich_display_needs_no_cdn() -> None:
    rendered = evil_run()._repr_html_()
    assert "<script src" not in rendered and "require.config" not in rendered
    assert "Plotly.newPlot" in rendered and "missionlab-explain" in rendered


@pytest.mark.slow
@pytest.mark.browser
def test_the_page_in_chromium_offline_replays_and_runs_no_payload(tmp_path: Path) -> None:
    import playwright.sync_api as playwright_api

    path = tmp_path / "run.html"
    evil_run().to_html(path)
    dialogs: list[str] = []
    requests: list[str] = []
    with playwright_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])
        context = browser.new_context(offline=True, viewport={"width": 1300, "height": 900})
        context.route(
            "**/*",
            lambda route: route.continue_() if route.request.url.startswith("file:") else route.abort(),
        )
        page = context.new_page()

        def on_dialog(dialog: playwright_api.Dialog) -> None:
            dialogs.append(dialog.message)
            dialog.dismiss()

        page.on("dialog", on_dialog)
        page.on("request", lambda request: requests.append(request.url))
        page.goto(path.as_uri())
        bars = "#missionlab-gantt .barlayer .point path"
        page.wait_for_function(f"document.querySelectorAll('{bars}').length >= 3")
        full = page.evaluate(_BAR_TOTAL)
        bar = page.locator(bars).nth(1).bounding_box()
        assert bar is not None
        page.mouse.move(bar["x"] + bar["width"] / 2, bar["y"] + bar["height"] / 2)  # server strings' hover
        page.wait_for_selector("#missionlab-gantt .hoverlayer .hovertext")
        rail = page.locator("#missionlab-gantt .slider-rail-touch-rect").first
        rail.scroll_into_view_if_needed()
        box = rail.bounding_box()
        assert box is not None
        page.mouse.click(box["x"] + box["width"] * 0.5, box["y"] + box["height"] / 2)
        page.wait_for_function("document.getElementById('missionlab-gantt').layout.sliders[0].active < 29")
        page.wait_for_timeout(500)
        active = page.evaluate("document.getElementById('missionlab-gantt').layout.sliders[0].active")
        middle = page.evaluate(_BAR_TOTAL)
        label = page.evaluate(_SLIDER_VALUE)
        injected = page.evaluate(_INJECTED)
        page.screenshot(path=str(tmp_path / "replayed.png"), full_page=True)
        browser.close()
    assert 10 <= active <= 19 and label.startswith("replay: +")
    assert 0 < middle < full  # bars cut at the middle moment
    assert dialogs == [] and injected == []
    assert all(url.startswith(("file:", "data:", "about:")) for url in requests), requests


_SLIDER_VALUE = """() => Array.from(document.querySelectorAll('#missionlab-gantt .slider-container text'))
  .map(t => t.textContent).find(t => t.startsWith('replay:'))"""
_BAR_TOTAL = """() => {
  const gd = document.getElementById('missionlab-gantt');
  return gd._fullData.filter(t => String(t.meta).startsWith('bar:'))
    // a bar not started yet at the moment shown is not drawn (its length is missing)
    .reduce((sum, t) => sum + Array.from(t.x).filter(Number.isFinite).reduce((a, b) => a + b, 0), 0);
}"""
# Elements a payload would have made, or attributes it would have set.
_INJECTED = """() => {
  const found = [];
  for (const el of document.querySelectorAll('*')) {
    for (const a of el.attributes) {
      const bad = a.name.startsWith('on') || a.name === 'data-commandlinker-command';
      if (bad) found.push(el.tagName + ' ' + a.name);
      const url = ['href', 'src', 'action', 'formaction', 'xlink:href', 'data'].includes(a.name);
      if (url && /^\\s*javascript:/i.test(a.value)) found.push(el.tagName + ' ' + a.name + '=javascript:');
    }
  }
  // (plotly's own mode bar buttons aside: a payload's button carries data-commandlinker-command)
  const tags = ['iframe', 'object', 'embed', 'img', 'video', 'details', 'math', 'input', 'svg[onload]',
                'meta[http-equiv=refresh]', 'body style'];
  for (const tag of tags) {
    document.querySelectorAll(tag).forEach(el => found.push(tag));
  }
  return found;
}"""


def test_the_event_table_cites_event_ids_and_full_timestamps() -> None:
    trace = craft(
        [step("parse", 1, 5, sequence=1)],
        [event(2.25, "message", "parse", "noted", {"k": 1}, event_id="ev-cited")],
        with_step_events=False,
    )
    page = trace.to_html()
    events = page.split("<h2>Events (1)</h2>", 1)[1]
    assert events.startswith("<table><thead><tr><th>event_id</th><th>timestamp</th>")
    # 2.25 s after 10:00 on 2026-11-01 (the crafted clock), to the millisecond, with its zone
    assert T0 + timedelta(seconds=2.25) == trace.events[0].timestamp
    assert "<td>ev-cited</td><td>2026-11-01T10:00:02.250+00:00</td><td>message</td>" in events


def test_the_capsule_is_embedded_safely_and_downloadable(tmp_path: Path) -> None:
    trace = evil_run()
    page = trace.to_html()
    match = re.search(r'<script type="application/json" id="missionlab-capsule">(.*?)</script>', page, re.S)
    assert match is not None
    text = match.group(1)
    assert "<" not in text and ">" not in text and "&" not in text  # no way out of the element
    (tmp_path / "back.capsule.json").write_text(text, encoding="utf-8")
    back = open_run(tmp_path / "back.capsule.json")
    assert [e.event_id for e in back.events] == [e.event_id for e in trace.events]
    assert [e.summary for e in back.events] == [e.summary for e in trace.events]  # payloads intact
    assert 'id="missionlab-capsule-download" download="run-run-evil.capsule.json"' in page


@pytest.mark.slow
@pytest.mark.browser
def test_the_page_fits_a_1024_px_window_and_gives_its_capsule_back(tmp_path: Path) -> None:
    import playwright.sync_api as playwright_api

    trace = evil_run()
    path = tmp_path / "run.html"
    trace.to_html(path)
    with playwright_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])
        context = browser.new_context(
            offline=True, viewport={"width": 1024, "height": 800}, accept_downloads=True
        )
        page = context.new_page()
        page.goto(path.as_uri())
        page.wait_for_selector("#missionlab-gantt .main-svg")
        widths = page.evaluate("[document.documentElement.scrollWidth, document.documentElement.clientWidth]")
        with page.expect_download() as download_info:
            page.click("#missionlab-capsule-download")
        saved = tmp_path / download_info.value.suggested_filename
        download_info.value.save_as(saved)
        browser.close()
    assert widths[0] <= widths[1] <= 1024, widths  # no horizontal scrolling
    assert saved.name == "run-run-evil.capsule.json"
    assert [e.event_id for e in open_run(saved).events] == [e.event_id for e in trace.events]
