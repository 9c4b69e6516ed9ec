"""Fault injection, and data that survives restarts and a killed server process."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

import missionlab
from missionlab.sandbox import Faults, Sandbox


def test_injected_5xx_are_retried_by_the_client() -> None:
    faults = {"seed": 3, "rules": [{"route": "GET /ai/missions", "error_rate": 0.5}]}
    with Sandbox(faults=faults) as sb:
        raw = [httpx.get(sb.url + "/ai/missions").status_code for _ in range(40)]
        assert raw.count(503) > 5 and raw.count(200) > 5
        client = sb.client(max_retries=8)
        for _ in range(10):
            assert client.missions.list().data == []


def test_faults_are_seeded() -> None:
    def statuses() -> list[int]:
        with Sandbox(faults={"seed": 11, "rules": [{"error_rate": 0.3}]}) as sb:
            return [httpx.get(sb.url + "/ai/missions").status_code for _ in range(30)]

    assert statuses() == statuses()


def test_rate_limit_with_retry_after(monkeypatch: pytest.MonkeyPatch) -> None:
    with Sandbox(faults={"rules": [{"rate_limit_rate": 1.0, "retry_after": 2}]}) as sb:
        response = httpx.get(sb.url + "/ai/missions")
        assert response.status_code == 429
        assert response.headers["retry-after"] == "2"
        assert response.headers["retry-after-ms"] == "2000"
        slept: list[float] = []
        monkeypatch.setattr(time, "sleep", slept.append)
        with pytest.raises(missionlab.RateLimitError):
            sb.client(max_retries=2).missions.list()
        assert slept == [2.0, 2.0]


def test_latency_and_per_route_rules() -> None:
    rules = {"rules": [{"route": "GET /ai/missions/runs", "latency": 1.0}, {"route": "*", "latency": 0}]}
    with Sandbox(faults=rules) as sb, httpx.Client(base_url=sb.url) as http:
        http.get("/ai/missions")  # warm: the first request pays for the connection and imports

        def seconds(path: str) -> float:
            started = time.perf_counter()
            http.get(path)
            return time.perf_counter() - started

        fast, slow = seconds("/ai/missions"), seconds("/ai/missions/runs")
        # The matching route waits its second; the other none (compared, not timed absolutely,
        # so that a busy machine cannot fail the test).
        assert slow >= 1.0 and slow - fast >= 0.9


def test_dropped_connections() -> None:
    with Sandbox(faults={"rules": [{"drop_rate": 1.0}]}) as sb:
        with pytest.raises(httpx.RemoteProtocolError):
            httpx.get(sb.url + "/ai/missions")
        client = sb.client(max_retries=0)
        with pytest.raises(missionlab.APIConnectionError):
            client.missions.list()
        with pytest.raises(missionlab.APIConnectionError) as err:
            client.missions.create(name="x")
        assert "may have acted" in str(err.value)


def test_faults_change_at_run_time() -> None:
    with Sandbox() as sb:
        assert httpx.get(sb.url + "/ai/missions").status_code == 200
        sb.set_faults({"rules": [{"error_rate": 1.0, "error_status": 502}]})
        assert httpx.get(sb.url + "/ai/missions").status_code == 502
        base = sb.url.removesuffix("/v2")
        answer = httpx.put(base + "/_sandbox/faults", json={"rules": []})
        assert answer.status_code == 200 and answer.json()["rules"] == []
        assert httpx.get(sb.url + "/ai/missions").status_code == 200
        bad = httpx.put(base + "/_sandbox/faults", json={"rules": [{"error_rate": 7}]})
        assert bad.status_code == 422 and "error_rate" in bad.text


def test_fault_rules_are_validated() -> None:
    with pytest.raises(ValueError, match="unknown fault setting"):
        Faults.from_dict({"rules": [{"eror_rate": 0.1}]})
    with pytest.raises(ValueError, match="5xx"):
        Faults.from_dict({"rules": [{"error_status": 404}]})


def test_file_database_survives_restart(tmp_path: Path) -> None:
    db = tmp_path / "data.db"
    with Sandbox(db=db) as sb:
        mission_id = sb.client().missions.create(name="kept").data.mission_id
    with Sandbox(db=db) as sb:
        assert sb.client().missions.retrieve(mission_id).data.name == "kept"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def serve(db: Path, port: int) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(
        [sys.executable, "-m", "missionlab.cli", "sandbox", "serve", "--db", str(db), "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1)
            return process
        except httpx.TransportError:
            time.sleep(0.1)
    process.kill()
    raise AssertionError("sandbox did not start")


def test_acknowledged_writes_survive_a_killed_server(tmp_path: Path) -> None:
    db, port = tmp_path / "killed.db", free_port()
    process = serve(db, port)
    client = missionlab.Client(base_url=f"http://127.0.0.1:{port}/v2")
    mission_id = client.missions.create(name="acknowledged").data.mission_id
    run_id = client.missions.runs.create(mission_id).data.run_id
    client.missions.runs.events.log(run_id, mission_id=mission_id, type="message", summary="last write")
    os.kill(process.pid, signal.SIGKILL)
    process.wait(10)
    process = serve(db, port)
    try:
        events = client.missions.runs.events.list(run_id, mission_id=mission_id).data
        assert [e.summary for e in events] == ["last write"]
    finally:
        process.terminate()
        process.wait(10)
