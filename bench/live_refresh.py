"""The refresh cycle of a watched run: requests, client CPU and events moved per cycle.

    python bench/live_refresh.py [--steps 200] [--events 2000] [--new 10] [--cycles 10] [--idle 5]

A running run with a plan of 200 steps and 2,000 events is served by a sandbox in its
own process. Each cycle, another client logs 10 new events, then the watcher refreshes
once; the last 5 cycles refresh with nothing new (idle refreshes). For every cycle: the
requests the refresh made and what they carried (counted by a transport wrapped around
httpx's, which only counts), the events transferred, the CPU time of this process
(``time.process_time``, so the sandbox does not count), and whether the watcher saw
exactly the new events. The idle refresh's CPU is the median of the idle cycles; the
bytes sent to the browser when idle are their sum (the target: 0).

Watchers measured: ``RunTrace.refresh(client)`` when missionlab has it (the incremental
logic in the trace layer), and the run panel (``RunPanel.refresh``, headless) on its
timeline tab and on its events tab, whose updates are also measured: the bytes every
widget sends to the browser per cycle, against the whole figure's.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

import _harness as h
import httpx


class CountingTransport(httpx.BaseTransport):
    """httpx's transport, counting requests, bytes received and event objects in them."""

    def __init__(self) -> None:
        self._inner = httpx.HTTPTransport()
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        self.requests, self.bytes, self.events = 0, 0, 0
        self.paths: list[str] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self._inner.handle_request(request)
        body = response.read()
        with self._lock:
            self.requests += 1
            self.bytes += len(body)
            self.events += body.count(b'"event_id":')
            self.paths.append(request.url.path.rsplit("/", 1)[-1])
        return response

    def close(self) -> None:
        self._inner.close()


class FrontEndMessages:
    """The bytes widgets send to the browser: every comm message of the widgets made after
    ``install()`` (state updates, outputs), as JSON plus binary buffers, as a kernel sends them."""

    def __init__(self) -> None:
        self.bytes = 0

    def install(self) -> None:
        import comm
        from comm.base_comm import BaseComm

        recorder = self

        class CountingComm(BaseComm):
            def publish_msg(
                self, msg_type: str, data: Any = None, metadata: Any = None, buffers: Any = None, **keys: Any
            ) -> None:
                recorder.bytes += len(json.dumps(data, default=str)) + sum(
                    memoryview(b).nbytes for b in buffers or ()
                )

        comm.create_comm = lambda *args, **kwargs: CountingComm(*args, **kwargs)

    def take_bytes(self) -> int:
        """The bytes sent since the last call."""
        sent, self.bytes = self.bytes, 0
        return sent


def cycles(
    refresh: Callable[[], int],
    log_new: Callable[[int], None],
    counter: CountingTransport,
    new: int,
    count: int,
    front_end: FrontEndMessages | None,
    idle: int = 1,
) -> list[list[Any]]:
    """``count`` cycles with ``new`` new events each, then ``idle`` with nothing new."""
    rows = []
    for cycle in range(count + idle):
        posted = new if cycle < count else 0
        log_new(posted)
        if front_end is not None:
            front_end.take_bytes()
        counter.reset()
        cpu, wall = time.process_time(), time.perf_counter()
        seen = refresh()
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        rows.append(
            [
                cycle + 1,
                posted,
                counter.requests,
                counter.events,
                counter.bytes / 1024,
                cpu * 1000,
                wall * 1000,
                seen,
                front_end.take_bytes() if front_end is not None else float("nan"),
            ]
        )
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--new", type=int, default=10, help="new events per cycle (default 10)")
    parser.add_argument("--cycles", type=int, default=10)
    parser.add_argument("--idle", type=int, default=5, help="refreshes with nothing new, after (default 5)")
    parser.add_argument("--json", help="also write the results to this JSON file")
    args = parser.parse_args()
    from missionlab import Client, RunTrace, load_run
    from missionlab.widgets.run_panel import RunPanel

    report = h.Report(
        "live_refresh",
        f"Live refresh of a watched run: {args.steps} steps, "
        f"{args.events:,} events, {args.new} new per cycle",
        {
            "steps": args.steps,
            "events": args.events,
            "new": args.new,
            "cycles": args.cycles,
            "idle": args.idle,
        },
    )
    columns = [
        "cycle",
        "new",
        "requests",
        "events moved",
        "KiB in",
        "CPU ms",
        "wall ms",
        "new seen",
        "bytes to browser",
    ]
    seed = lambda store: h.seed_run(store, steps=args.steps, events=args.events, status="running")  # noqa: E731
    with h.sandbox(seed) as (server, ids):
        mission_id, run_id = ids["mission_id"], ids["run_id"]
        poster = httpx.Client(base_url=server.base, headers=server.headers, timeout=30)
        url = f"/ai/missions/{mission_id}/runs/{run_id}/events"
        step = f"s{int(args.steps * 0.6)}"
        logged = [0]

        def log_new(n: int) -> None:
            for _ in range(n):
                logged[0] += 1
                poster.post(
                    url,
                    json={
                        "type": "tool_call",
                        "summary": f"new event {logged[0]}",
                        "step_id": step,
                        "payload": {"n": logged[0]},
                    },
                ).raise_for_status()

        counter = CountingTransport()
        client = Client(api_key=h.TOKEN, base_url=server.base, transport=counter)
        measured: dict[str, list[list[Any]]] = {}
        if hasattr(RunTrace, "refresh"):
            trace = [load_run(client, mission_id, run_id)]

            def refresh_trace() -> int:
                before = len(trace[0].events)
                result = getattr(trace[0], "refresh")(client)  # noqa: B009  (not in every version)
                if isinstance(result, RunTrace):
                    trace[0] = result
                return len(trace[0].events) - before

            measured["RunTrace.refresh(client)"] = cycles(
                refresh_trace, log_new, counter, args.new, args.cycles, None, args.idle
            )
        front_end = FrontEndMessages()
        front_end.install()
        panel = RunPanel(client, mission_id, run_id, refresh_interval=1e6)  # no background ticks

        def refresh_panel() -> int:
            before = len(panel.events)
            panel.refresh()
            return len(panel.events) - before

        for tab, name in ((0, "RunPanel.refresh(), timeline tab"), (1, "RunPanel.refresh(), events tab")):
            panel.tabs.selected_index = tab
            measured[name] = cycles(
                refresh_panel, log_new, counter, args.new, args.cycles, front_end, args.idle
            )
        whole_figure = len(panel.timeline.figure.to_json()) if panel.timeline.figure else float("nan")
        panel.close()
        client.close()
        poster.close()

    primary = "RunTrace.refresh(client)" if "RunTrace.refresh(client)" in measured else "RunPanel.refresh()"
    report.note(
        f"measured: {', '.join(measured)}; the targets are checked on {primary}"
        + ("" if primary.startswith("RunTrace") else " (missionlab has no RunTrace.refresh yet)")
        + "; the panel updates the tab on screen only (the Gantt changed in place: the new events'"
        " markers and what else changed; the event list as its newest matching lines) and sends"
        " nothing when nothing changed"
    )
    for name, rows in measured.items():
        report.table(f"{name}, per cycle", columns, rows)
    for name, rows in measured.items():
        busy, idle = rows[: args.cycles], rows[args.cycles :]
        idle_bytes = sum(r[8] for r in idle)  # nan for a watcher with no widgets
        summary = {
            "requests": statistics.median(r[2] for r in busy),
            "requests_nothing_new": max(r[2] for r in idle),
            "events_moved_median": statistics.median(r[3] for r in busy),
            "events_moved_max": max(r[3] for r in busy),
            "events_moved_nothing_new": max(r[3] for r in idle),
            "cpu_ms": statistics.median(r[5] for r in busy),
            "cpu_ms_nothing_new": statistics.median(r[5] for r in idle),
            "idle_cycles": len(idle),
            "all_new_seen": all(r[7] == r[1] for r in rows),
            "front_end_kib_per_cycle": statistics.median(r[8] for r in busy) / 1024,
            "front_end_bytes_nothing_new": idle_bytes,
            "front_end_kib_nothing_new": idle_bytes / 1024,
        }
        report.figure(name, summary)
    report.figure("whole_figure_kib", whole_figure / 1024)
    table = []
    for name in measured:
        s = report.data["figures"][name]
        table.append(
            [
                name,
                s["requests"],
                s["cpu_ms"],
                s["cpu_ms_nothing_new"],
                s["events_moved_median"],
                s["events_moved_max"],
                s["events_moved_nothing_new"],
                "yes" if s["all_new_seen"] else "NO",
                s["front_end_kib_per_cycle"],
                s["front_end_bytes_nothing_new"],
            ]
        )
    report.table(
        f"medians of the {args.cycles} cycles with {args.new} new events, and of the {args.idle} "
        f"idle refreshes (nothing new; their bytes to the browser summed) (whole figure: "
        f"{whole_figure / 1024:.0f} KiB)",
        [
            "watcher",
            "requests",
            "CPU ms",
            "idle refresh CPU ms",
            "events moved",
            "max moved",
            "moved, nothing new",
            "saw every new event",
            "KiB to browser",
            "bytes to browser, nothing new",
        ],
        table,
    )
    for name in measured:
        s = report.data["figures"][name]
        sent = s["front_end_bytes_nothing_new"]
        report.note(
            f"idle refresh, {name}: {s['cpu_ms_nothing_new']:.2f} ms CPU (median of {s['idle_cycles']}), "
            f"{s['requests_nothing_new']:g} requests, {s['events_moved_nothing_new']:g} events moved"
            + ("" if sent != sent else f", {sent:g} bytes to the browser")
        )
    report.figure("primary", primary)
    report.save(args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
