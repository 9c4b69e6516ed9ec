"""A real Arize Phoenix for the OpenTelemetry bridge's integration test and the docs' picture.

Phoenix lives in its own virtual environment (its dependencies would move the pinned test set):
``.ci/run`` makes it and names its executable in ``MISSIONLAB_PHOENIX``; without that variable
the ``phoenix`` on ``PATH`` is used. :func:`running_phoenix` starts ``phoenix serve`` on free
loopback ports with a temporary working directory and stops it afterwards; :func:`spans`
reads a project's spans back through Phoenix's REST API.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ENV_VAR = "MISSIONLAB_PHOENIX"
START_TIMEOUT = 180.0  # seconds; Phoenix answers /healthz after about 12 s on an idle machine


def executable() -> str | None:
    """The ``phoenix`` executable to run, or None when there is none."""
    named = os.environ.get(ENV_VAR)
    if named:
        return named if Path(named).is_file() and os.access(named, os.X_OK) else None
    return shutil.which("phoenix")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class Phoenix:
    url: str  # e.g. http://127.0.0.1:6006
    log: Path

    @property
    def traces_endpoint(self) -> str:
        return f"{self.url}/v1/traces"


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/healthz", timeout=2) as answer:
            return bool(answer.status == 200)
    except (urllib.error.URLError, OSError):
        return False


@contextmanager
def running_phoenix(workdir: Path, command: str | None = None) -> Iterator[Phoenix]:
    """``phoenix serve`` on loopback with ``workdir`` as its working directory, until the block ends."""
    command = command or executable()
    if command is None:
        raise FileNotFoundError(f"no phoenix executable (set {ENV_VAR} or put phoenix on PATH)")
    port, grpc = free_port(), free_port()
    env = {
        **os.environ,
        "PHOENIX_PORT": str(port),
        "PHOENIX_GRPC_PORT": str(grpc),
        "PHOENIX_HOST": "127.0.0.1",
        "PHOENIX_WORKING_DIR": str(workdir / "phoenix"),
        "PHOENIX_TELEMETRY_ENABLED": "false",
        "DO_NOT_TRACK": "1",
    }
    log = workdir / "phoenix.log"
    url = f"http://127.0.0.1:{port}"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [command, "serve"], env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
        try:
            deadline = time.monotonic() + START_TIMEOUT
            while not _healthy(url):
                if process.poll() is not None:
                    raise RuntimeError(f"phoenix exited with {process.returncode}: {log.read_text()[-2000:]}")
                if time.monotonic() > deadline:
                    raise RuntimeError(
                        f"phoenix did not answer in {START_TIMEOUT:.0f} s: {log.read_text()[-2000:]}"
                    )
                time.sleep(0.5)
            yield Phoenix(url, log)
        finally:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)  # its own session: phoenix and its workers
                try:
                    process.wait(30)
                except subprocess.TimeoutExpired:
                    os.killpg(process.pid, signal.SIGKILL)
                    process.wait(30)


def spans(phoenix: Phoenix, project: str, trace_id: str | None = None) -> list[dict[str, Any]]:
    """Every span of ``project`` (of one trace when given), read page by page through Phoenix's REST API."""
    out: list[dict[str, Any]] = []
    cursor: str | None = None
    while True:
        query = (
            f"limit=1000{f'&trace_id={trace_id}' if trace_id else ''}{f'&cursor={cursor}' if cursor else ''}"
        )
        with urllib.request.urlopen(
            f"{phoenix.url}/v1/projects/{project}/spans?{query}", timeout=60
        ) as answer:
            page = json.load(answer)
        out.extend(page["data"])
        cursor = page.get("next_cursor")
        if not cursor:
            return out


def wait_until_stored(
    phoenix: Phoenix, project: str, trace_id: str, count: int, timeout: float = 900
) -> None:
    """Wait until Phoenix has stored ``count`` spans of a trace (it stores what it receives a
    batch at a time, about a hundred spans a second on a busy machine)."""
    deadline = time.monotonic() + timeout
    while len(_spans_if_any(phoenix, project, trace_id)) < count:
        if time.monotonic() > deadline:
            raise AssertionError(
                f"Phoenix stored fewer than {count} spans of trace {trace_id} in {timeout:.0f} s"
            )
        time.sleep(1)


def _spans_if_any(phoenix: Phoenix, project: str, trace_id: str) -> list[dict[str, Any]]:
    """:func:`spans`, none while Phoenix has not made the project yet (404)."""
    try:
        return spans(phoenix, project, trace_id)
    except urllib.error.HTTPError as error:
        if error.code == 404:
            return []
        raise
