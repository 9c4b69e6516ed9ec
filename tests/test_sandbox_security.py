"""Local security, as Jupyter does it: a token by default, only loopback Host names, no requests
from web pages of other origins (DNS rebinding, cross-site POSTs)."""

from __future__ import annotations

import re
import subprocess
import sys
import threading
import time
from collections.abc import Iterator

import httpx
import pytest

import missionlab
import missionlab.cli
from missionlab.sandbox import Sandbox

from .test_sandbox_faults_and_durability import free_port


@pytest.fixture(scope="module")
def open_sandbox() -> Iterator[Sandbox]:
    """A sandbox that accepts any token: the Host and Origin checks must hold on their own."""
    with Sandbox(no_token=True, allowed_hosts=["sandbox.internal"]) as sb:
        yield sb


def _refused(answer: httpx.Response, words: str) -> None:
    assert answer.status_code == 403, answer.text
    error = answer.json()["errors"][0]
    assert error["code"] == "forbidden" and words in error["detail"]


def test_a_sandbox_makes_up_a_token_and_its_client_uses_it() -> None:
    with Sandbox() as first, Sandbox() as second:
        assert first.token and second.token and first.token != second.token
        assert len(first.token) >= 32
        assert first.client().missions.list().data == []
        assert httpx.get(first.url + "/ai/missions").status_code == 401
        wrong = {"Authorization": f"Bearer {second.token}"}
        assert httpx.get(first.url + "/ai/missions", headers=wrong).status_code == 401
        assert first.token not in repr(first)


def test_connect_gives_its_demo_sandbox_a_random_token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TELNYX_API_KEY", raising=False)
    monkeypatch.delenv("TELNYX_BASE_URL", raising=False)
    client = missionlab.connect(quiet=True)
    assert client.missions.list().data
    sandbox = missionlab._connect.demo_sandbox()
    assert sandbox.token and sandbox.token not in ("sandbox", "")
    assert httpx.get(sandbox.url + "/ai/missions", headers={"Authorization": "Bearer x"}).status_code == 401


@pytest.mark.parametrize("host", ["evil.example", "evil.example:8000", "127.0.0.1.evil.example", "0.0.0.0"])
def test_other_host_names_are_refused(open_sandbox: Sandbox, host: str) -> None:
    answer = httpx.get(open_sandbox.url + "/ai/missions", headers={"Host": host})
    _refused(answer, "is not allowed")
    assert httpx.get(open_sandbox.url + "/healthz", headers={"Host": host}).status_code == 403


@pytest.mark.parametrize(
    "host", ["127.0.0.1", "127.0.0.1:8000", "localhost", "LOCALHOST:1", "[::1]:8000", "sandbox.internal:80"]
)
def test_loopback_and_allowed_host_names_are_answered(open_sandbox: Sandbox, host: str) -> None:
    assert httpx.get(open_sandbox.url + "/ai/missions", headers={"Host": host}).status_code == 200


@pytest.mark.parametrize("origin", ["http://evil.example", "https://evil.example:8000", "null"])
def test_requests_from_other_origins_are_refused(open_sandbox: Sandbox, origin: str) -> None:
    assert open_sandbox.store is not None
    before = open_sandbox.store.count("missions")
    http = httpx.Client(base_url=open_sandbox.url, headers={"Origin": origin})
    _refused(http.get("/ai/missions"), "Cross-origin")
    _refused(http.post("/ai/missions", json={"name": "from a web page"}), "Cross-origin")
    assert open_sandbox.store.count("missions") == before


@pytest.mark.parametrize("origin", ["http://localhost:8888", "http://127.0.0.1:3000", "http://[::1]:8888"])
def test_loopback_origins_are_answered(open_sandbox: Sandbox, origin: str) -> None:
    assert httpx.get(open_sandbox.url + "/ai/missions", headers={"Origin": origin}).status_code == 200


@pytest.mark.parametrize(
    "content_type", ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data"]
)
def test_simple_cross_site_posts_are_refused_even_without_an_origin(
    open_sandbox: Sandbox, content_type: str
) -> None:
    """What an HTML form or a no-cors fetch sends: no CORS preflight, so no browser check."""
    http = httpx.Client(base_url=open_sandbox.url)
    mission = http.post("/ai/missions", json={"name": "victim"}).json()["data"]
    run = http.post(f"/ai/missions/{mission['mission_id']}/runs").json()["data"]
    cancel = f"/ai/missions/{mission['mission_id']}/runs/{run['run_id']}/cancel"
    _refused(http.post(cancel, headers={"Content-Type": content_type}), "Content-Type")
    body = b'{"name": "forged"}'
    _refused(
        http.post("/ai/missions", content=body, headers={"Content-Type": content_type}), "application/json"
    )
    assert http.get(f"/ai/missions/{mission['mission_id']}/runs/{run['run_id']}").json()["data"][
        "status"
    ] == ("pending")
    assert http.post(cancel).status_code == 200  # a bodyless POST of a program: no Origin, no type
    http.delete(f"/ai/missions/{mission['mission_id']}")


def _start_cli(*options: str) -> tuple[subprocess.Popen[str], list[str]]:
    """Start ``missionlab sandbox serve`` on a free port; the process and what it printed."""
    port = free_port()
    command = [sys.executable, "-m", "missionlab.cli", "sandbox", "serve", "--port", str(port), *options]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(process.stdout or ()), daemon=True)
    reader.start()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1)
        except httpx.TransportError:
            time.sleep(0.1)
            continue
        while len(lines) < 5 and time.monotonic() < deadline:  # printed before serving: in the pipe
            time.sleep(0.05)
        return process, lines
    process.kill()
    raise AssertionError("the sandbox did not start")


def test_serve_makes_up_a_token_and_prints_lines_ready_to_paste() -> None:
    process, lines = _start_cli()
    try:
        base_url = re.search(r"export TELNYX_BASE_URL=(\S+)", "".join(lines))
        key = re.search(r"export TELNYX_API_KEY=(\S+)", "".join(lines))
        assert base_url and key and len(key[1]) >= 32
        client = missionlab.Client(api_key=key[1], base_url=base_url[1])
        assert client.missions.list().data == []
        assert httpx.get(base_url[1] + "/ai/missions").status_code == 401
    finally:
        process.terminate()
        process.wait(10)


def test_serve_no_token_warns() -> None:
    process, lines = _start_cli("--no-token")
    try:
        assert "TELNYX_API_KEY=any-key" in "".join(lines)
        port = re.search(r"127\.0\.0\.1:(\d+)", lines[0])
        assert port
        anything = {"Authorization": "Bearer anything"}
        assert httpx.get(f"http://127.0.0.1:{port[1]}/v2/ai/missions", headers=anything).status_code == 200
    finally:
        process.terminate()
        process.wait(10)
    assert process.stderr is not None and "WARNING: --no-token" in process.stderr.read()


def test_serve_refuses_a_token_and_no_token_together() -> None:
    assert missionlab.cli.main(["sandbox", "serve", "--token", "t", "--no-token"]) == 2
