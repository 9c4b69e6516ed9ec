"""Load benchmark of the sandbox on loopback: requests/s and latency at 32 connections.

Starts ``missionlab sandbox serve`` in its own process, prepares a mission with
runs and a run with a 100-step plan, then drives each scenario for a fixed time
from a small keep-alive HTTP/1.1 client written on asyncio streams (so that the
load generator costs little CPU next to the server on 2 cores).

    python bench/sandbox_load.py [--seconds 5] [--connections 32] [--json FILE]

Targets: >= 2,000 req/s for a get, >= 1,000 for a list or plan, >= 500 for
event logging, p99 < 50 ms for reads, 0 errors. Only 127.0.0.1 is ever used.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import httpx

HOST = "127.0.0.1"
TOKEN = "bench"
TARGETS = {
    "get a run": 2000,
    "list runs (page of 100)": 1000,
    "get a 100-step plan": 1000,
    "log an event": 500,
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def prepare(base: str) -> dict[str, str]:
    with httpx.Client(base_url=base, timeout=30, headers={"Authorization": f"Bearer {TOKEN}"}) as http:
        mission = http.post("/ai/missions", json={"name": "bench"}).json()["data"]["mission_id"]
        runs = [http.post(f"/ai/missions/{mission}/runs").json()["data"]["run_id"] for _ in range(150)]
        run = runs[0]
        steps = [{"step_id": f"s{i}", "description": f"Step {i}", "sequence": i} for i in range(100)]
        http.post(f"/ai/missions/{mission}/runs/{run}/plan", json={"steps": steps})
    return {"mission": mission, "run": run}


async def connection(
    path_for: Callable[[int], tuple[str, str, bytes]],
    deadline: float,
    port: int,
    latencies: list[float],
    errors: list[str],
) -> None:
    reader, writer = await asyncio.open_connection(HOST, port)
    n = 0
    try:
        while time.perf_counter() < deadline:
            method, path, body = path_for(n)
            n += 1
            head = (
                f"{method} {path} HTTP/1.1\r\nHost: {HOST}\r\nAuthorization: Bearer {TOKEN}\r\n"
                f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
            )
            started = time.perf_counter()
            writer.write(head.encode() + body)
            status_line = await reader.readline()
            length = 0
            while (line := await reader.readline()) not in (b"\r\n", b""):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":")[1])
            await reader.readexactly(length)
            latencies.append(time.perf_counter() - started)
            status = int(status_line.split()[1])
            if status >= 400:
                errors.append(str(status))
    except (OSError, asyncio.IncompleteReadError) as exc:
        errors.append(type(exc).__name__)
    finally:
        writer.close()


async def scenario(
    port: int, path_for: Callable[[int], tuple[str, str, bytes]], seconds: float, connections: int
) -> tuple[float, list[float], list[str]]:
    latencies: list[float] = []
    errors: list[str] = []
    warmup_deadline = time.perf_counter() + 0.5
    await asyncio.gather(*(connection(path_for, warmup_deadline, port, [], []) for _ in range(connections)))
    started = time.perf_counter()
    await asyncio.gather(
        *(connection(path_for, started + seconds, port, latencies, errors) for _ in range(connections))
    )
    return time.perf_counter() - started, latencies, errors


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--json", help="also write the results to this JSON file")
    args = parser.parse_args()
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "missionlab.cli", "sandbox", "serve", "--port", str(port), "--token", TOKEN],
        stdout=subprocess.DEVNULL,
    )
    base = f"http://{HOST}:{port}/v2"
    try:
        for _ in range(300):
            try:
                httpx.get(f"http://{HOST}:{port}/healthz")
                break
            except httpx.TransportError:
                time.sleep(0.1)
        ids = prepare(base)
        run_path = f"/v2/ai/missions/{ids['mission']}/runs/{ids['run']}"
        event = json.dumps({"type": "message", "summary": "bench event"}).encode()
        scenarios = {
            "get a run": lambda n: ("GET", run_path, b""),
            "list runs (page of 100)": lambda n: (
                "GET",
                f"/v2/ai/missions/{ids['mission']}/runs?page%5Bsize%5D=100",
                b"",
            ),
            "get a 100-step plan": lambda n: ("GET", f"{run_path}/plan", b""),
            "log an event": lambda n: ("POST", f"{run_path}/events", event),
        }
        print(
            f"sandbox load, {args.connections} connections, {args.seconds:g} s per scenario, "
            f"server: 1 uvicorn process on {HOST}"
        )
        print(f"{'scenario':<26}{'req/s':>9}{'target':>9}{'p50 ms':>9}{'p99 ms':>9}{'errors':>8}")
        all_met = True
        rows = []
        for name, path_for in scenarios.items():
            elapsed, latencies, errors = asyncio.run(scenario(port, path_for, args.seconds, args.connections))
            rate = len(latencies) / elapsed
            cuts = statistics.quantiles(latencies, n=100)
            p50, p99 = cuts[49] * 1000, cuts[98] * 1000
            met = rate >= TARGETS[name] and not errors and (name == "log an event" or p99 < 50)
            all_met &= met
            rows.append(
                [
                    name,
                    round(rate),
                    TARGETS[name],
                    round(p50, 1),
                    round(p99, 1),
                    len(errors),
                    "met" if met else "missed",
                ]
            )
            print(
                f"{name:<26}{rate:>9.0f}{TARGETS[name]:>9}{p50:>9.1f}{p99:>9.1f}"
                f"{len(errors):>8}  {'ok' if met else 'BELOW TARGET'}"
            )
        print("all targets met" if all_met else "some targets missed")
        if args.json:
            table = {
                "title": "requests per second and latency",
                "columns": ["scenario", "req/s", "target", "p50 ms", "p99 ms", "errors", "target met"],
                "rows": rows,
            }
            note = (
                f"{args.connections} connections, {args.seconds:g} s a scenario, 1 uvicorn process on {HOST}"
            )
            Path(args.json).write_text(
                json.dumps(
                    {
                        "script": "sandbox_load",
                        "title": "Sandbox load on loopback",
                        "args": {"seconds": args.seconds, "connections": args.connections},
                        "notes": [note],
                        "tables": [table],
                        "figures": {"all_met": all_met},
                    },
                    indent=1,
                )
            )
        return 0
    finally:
        server.terminate()
        server.wait(10)


if __name__ == "__main__":
    sys.exit(main())
