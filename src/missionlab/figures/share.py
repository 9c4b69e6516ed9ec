"""One run as one self-contained HTML page, to share or archive: its status card, explanation,
Gantt with replay, diagnosis and events.

``run_page(trace)`` (``trace.to_html("run.html")``) inlines plotly.js from the installed
plotly package: the page needs no network, and its Content-Security-Policy forbids any
request. Every string that came from the server is escaped (and plotly's figure JSON
escapes ``<``, ``>`` and ``/``), so a payload can show as text but never run.

A page is bounded whatever the run's size: above ``max_events`` events (``GANTT_EVENTS``,
20,000, by default) its Gantt draws a sample of that many (every error event, the others
evenly spaced) without replay, the run's capsule is not embedded, and the explanation and
diagnosis (whose cost grows with the events) are left out; each place says so and how to
get the whole (``trace.explain()``, ``trace.diagnose()``, ``trace.save(path)``). The page
then takes a few megabytes (plotly.js, the sampled Gantt, ``EVENT_ROWS`` events listed)
and a few hundred megabytes of memory beyond the trace and its frames (measured by
``bench/capsule_load.py``), where a 10^6-event run once took 8.3 GB.
"""

from __future__ import annotations

import html
from datetime import UTC, datetime
from typing import Any

import pandas as pd

from ..client._display import short_text
from ..frames._runlike import RunLike, field

__all__ = [
    "EVENT_ROWS",
    "GANTT_EVENTS",
    "display_parts",
    "explanation_html",
    "plotly_js",
    "run_fragment",
    "run_page",
    "whole_run_note",
]

EVENT_ROWS = 2000  # events listed on a page
# A page's bound (``max_events`` by default): above it the Gantt draws a sample of that many
# events (every error event, the others evenly spaced) without replay, and the capsule, the
# explanation and the diagnosis are left out, so that a run of 10^6 events makes a page of a
# few megabytes instead of using gigabytes.
GANTT_EVENTS = 20_000
_KEPT_TYPES = ("error", "step_failed")
# Inline scripts and styles only (plotly's WebGL traces compile their shaders with eval).
CSP = (
    "default-src 'none'; script-src 'unsafe-inline' 'unsafe-eval'; style-src 'unsafe-inline'; "
    "img-src data:; font-src data:"
)
STYLE = """
body { font-family: system-ui, sans-serif; margin: 1.5em; color: #222; background: #fff; }
@media (prefers-color-scheme: dark) { body { color: #ddd; background: #1e1e1e; } }
table { border-collapse: collapse; font-size: 0.85em; }
td, th { padding: 0.2em 0.6em; border-bottom: 1px solid rgba(127, 127, 127, 0.3);
         text-align: left; vertical-align: top; }
h2 { margin-top: 1.5em; font-size: 1.15em; }
footer { margin-top: 2em; font-size: 0.8em; opacity: 0.7; }
table { max-width: 100%; }
td { overflow-wrap: anywhere; }
.js-plotly-plot, .plot-container { max-width: 100%; }
"""
EVENT_COLUMNS = ["event_id", "timestamp", "type", "step_id", "agent_id", "summary", "payload"]


def plotly_js() -> str:
    """The installed plotly package's plotly.js, safe inside a ``<script>`` element."""
    from plotly.offline import get_plotlyjs

    return get_plotlyjs().replace("</script", "<\\/script")


def explanation_html(trace: RunLike, **kwargs: Any) -> str:
    """The run's explanation as an escaped HTML section (no baseline fetched: the one the
    trace already holds, if any)."""
    from ..analysis._baseline import BASELINE_KEY
    from ..analysis.explain import explain

    baseline = kwargs.pop("baseline", None)
    if baseline is None:
        baseline = getattr(trace, "__dict__", {}).get(BASELINE_KEY)
    return explain(trace, baseline=baseline, **kwargs).to_html()


def _table(frame: pd.DataFrame, columns: list[str], limit: int) -> str:
    head = "".join(f"<th>{html.escape(c)}</th>" for c in columns)
    body = []
    for row in frame[columns].head(limit).itertuples(index=False):
        cells = "".join(f"<td>{html.escape(short_text(_plain(v), 300))}</td>" for v in row)
        body.append(f"<tr>{cells}</tr>")
    more = f"<p><small>… and {len(frame) - limit} more</small></p>" if len(frame) > limit else ""
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>{more}"


def _plain(value: Any) -> Any:
    if value is None or value is pd.NA or (isinstance(value, float) and value != value):
        return None
    if isinstance(value, pd.Timestamp):  # in full: the events' own times, to cite and sort by
        return None if pd.isna(value) else value.isoformat(timespec="milliseconds")
    return value


def whole_run_note(events: int, max_events: int, left_out: str, how: str) -> str:
    """The note a bounded page (or fragment) shows where it leaves ``left_out`` out."""
    return (
        f"<p><small>{left_out}: the run has {events:,} events, above this page's bound of "
        f"{max_events:,} (<code>max_events</code>). {how}</small></p>"
    )


_ANALYSES = (
    "Get them in a notebook with <code>trace.explain()</code> and <code>trace.diagnose()</code> "
    "(or give <code>to_html</code> a larger <code>max_events</code>)."
)


def _sections(trace: RunLike, explanation: str, figure_html: str, max_events: int) -> str:
    from ..analysis.diagnosis import diagnose

    card = _card(trace)
    count = len(trace.events_frame)
    if count > max_events:
        diagnosis = whole_run_note(count, max_events, "The diagnosis is left out", _ANALYSES)
    else:
        findings = diagnose(trace)
        diagnosis = (
            _table(findings, ["severity", "check", "step_id", "message"], 200)
            if len(findings)
            else "<p>Nothing inconsistent.</p>"
        )
    events = _events_table(trace)
    return (
        f"{card}<h2>Explanation</h2>{explanation}<h2>Timeline</h2>{figure_html}"
        f"<h2>Diagnosis</h2>{diagnosis}<h2>Events ({len(trace.events_frame)})</h2>{events}"
    )


def _events_table(trace: RunLike) -> str:
    """The events, each with its id (what the explanation cites) and its full timestamp."""
    return _table(trace.events_frame, EVENT_COLUMNS, EVENT_ROWS)


CAPSULE_ID = "missionlab-capsule"
# Builds the download link from the embedded capsule (no network: a blob of the page's own text).
_DOWNLOAD_SCRIPT = """
(function () {
  var text = document.getElementById("missionlab-capsule").textContent;
  var link = document.getElementById("missionlab-capsule-download");
  link.href = URL.createObjectURL(new Blob([text], {type: "application/json"}));
})();
"""


def capsule_json(trace: RunLike) -> str | None:
    """The run's capsule as JSON safe inside a ``<script type="application/json">`` element
    (``<``, ``>`` and ``&`` as JSON escapes, so no ``</script>`` or ``<!--`` can appear), or
    None for a run-like that holds no plan steps and events as objects."""
    import json

    from ..analysis.capsule import capsule

    try:
        data = capsule(trace)
    except TypeError:
        return None
    text = json.dumps(data, ensure_ascii=False, default=str, separators=(",", ":"))
    return text.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e")


def _capsule_section(trace: RunLike, max_events: int = GANTT_EVENTS) -> str:
    """The capsule embedded in the page, with a link that downloads it (open it again with
    ``missionlab.open_run``); above ``max_events`` events a note saying how to save it
    instead, so that a big run's page stays a few megabytes."""
    events = len(trace.events_frame)
    if events > max_events:
        return whole_run_note(
            events,
            max_events,
            "The run's capsule is not embedded",
            "Save it with <code>trace.save(path)</code> and open it with "
            "<code>missionlab.open_run(path)</code>, or serve it with "
            "<code>missionlab sandbox serve --load path</code>.",
        )
    text = capsule_json(trace)
    if text is None:
        return ""
    name = html.escape(f"run-{str(field(trace.run, 'run_id'))[:8]}.capsule.json")
    return (
        f'<script type="application/json" id="{CAPSULE_ID}">{text}</script>'
        f'<p><a id="{CAPSULE_ID}-download" download="{name}">Download this run as a capsule</a> '
        "(open it with <code>missionlab.open_run(path)</code>).</p>"
        f"<script>{_DOWNLOAD_SCRIPT}</script>"
    )


def _card(trace: RunLike) -> str:
    render = getattr(trace, "_card_html", None)
    return str(render()) if callable(render) else ""


def _title(trace: RunLike) -> str:
    mission = trace.mission
    name = field(mission, "name") if mission is not None else None
    return f"{name or 'Run'} · run {str(field(trace.run, 'run_id'))[:8]} · {field(trace.run, 'status')}"


def run_page(
    trace: RunLike, *, replay: int | bool = True, baseline: Any = None, max_events: int = GANTT_EVENTS
) -> str:
    """The run as a whole HTML page (see the module's docstring).

    ``replay``: a slider replaying the Gantt (a number: how many moments); ``baseline``:
    what :func:`missionlab.analysis.explain.explain` compares step durations with;
    ``max_events``: the page's bound (above it: a sampled Gantt, no capsule, explanation or
    diagnosis, each with a note saying how to get them).
    """
    from .._version import __version__

    figure, note = _page_gantt(trace, replay, max_events)
    figure_html = note + figure.to_html(
        full_html=False, include_plotlyjs=False, div_id="missionlab-gantt", auto_play=False
    )
    explanation = _bounded_explanation(trace, max_events, baseline=baseline)
    saved = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    return (
        "<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
        f"<title>{html.escape(_title(trace))}</title><style>{STYLE}</style>"
        f"<script>{plotly_js()}</script></head><body>"
        f"<h1>{html.escape(_title(trace))}</h1>{_sections(trace, explanation, figure_html, max_events)}"
        f"{_capsule_section(trace, max_events)}"
        f"<footer>Saved by missionlab {html.escape(__version__)} on {saved}.</footer></body></html>\n"
    )


def _bounded_explanation(trace: RunLike, max_events: int, **kwargs: Any) -> str:
    """:func:`explanation_html`, or above ``max_events`` events a note saying how to get it."""
    count = len(trace.events_frame)
    if count > max_events:
        return whole_run_note(count, max_events, "The explanation is left out", _ANALYSES)
    return explanation_html(trace, **kwargs)


def _page_gantt(trace: RunLike, replay: int | bool, max_events: int = GANTT_EVENTS) -> tuple[Any, str]:
    """The page's Gantt, and a note when it draws a sample of the events (above ``max_events``)."""
    from .timeline import gantt

    events = trace.events_frame
    if len(events) <= max_events:
        return gantt(trace, replay=replay), ""
    kept = _sample(events, max_events)
    note = (
        f"<p><small>The timeline draws {len(kept):,} of the run's {len(events):,} events "
        f"(every error, the others evenly spaced) and has no replay: a page draws at most "
        f"{max_events:,} (<code>max_events</code>).</small></p>"
    )
    return gantt(trace, kept, replay=False), note


def _sample(events: pd.DataFrame, limit: int) -> pd.DataFrame:
    """At most ``limit`` events: the error events first (as many as fit), the rest evenly spaced."""
    is_kept = events["type"].astype(str).isin(_KEPT_TYPES)
    errors = events[is_kept].iloc[:limit]
    others = events[~is_kept]
    room = limit - len(errors)
    if room <= 0 or others.empty:
        sampled = others.iloc[:0]
    else:
        every = -(-len(others) // room)  # ceiling division: at most ``room`` rows
        sampled = others.iloc[::every]
    return pd.concat([errors, sampled]).sort_index(kind="stable")


def run_fragment(trace: RunLike, *, max_events: int = GANTT_EVENTS) -> str:
    """The run's card, explanation and Gantt as an HTML fragment (what ``RunTrace._repr_html_``
    gives): the Gantt is drawn by the plotly.js of the page or notebook around it (displaying
    a trace puts plotly.js in the notebook once, see ``missionlab.figures._notebook``), so
    it needs no CDN and does not carry plotly.js each time. Bounded as a page is (see the
    module's docstring): above ``max_events`` events, a sampled Gantt and no explanation."""
    from ._notebook import figure_html

    head, figure = display_parts(trace, max_events=max_events)
    return head + figure_html(figure)


def display_parts(trace: RunLike, *, max_events: int = GANTT_EVENTS) -> tuple[str, Any]:
    """What a trace shows in a notebook: its card and explanation as HTML (above
    ``max_events`` events a note instead of the explanation, and one saying the Gantt is a
    sample), and its Gantt figure (above ``max_events``, of a sample of that many events)."""
    figure, note = _page_gantt(trace, False, max_events)
    return _card(trace) + _bounded_explanation(trace, max_events) + note, figure
