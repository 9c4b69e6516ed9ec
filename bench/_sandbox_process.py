"""``missionlab sandbox serve`` in a child process on 127.0.0.1, which can be stopped or killed."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

HOST = "127.0.0.1"


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


class SandboxProcess:
    """The sandbox CLI serving ``db`` with a required ``token``, on a fixed port across restarts."""

    def __init__(self, db: str | Path, token: str, port: int | None = None) -> None:
        self.db = str(db)
        self.token = token
        self.port = port or free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}/v2"

    def start(self, timeout: float = 30) -> SandboxProcess:
        """Start serving; returns once the server answers."""
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "missionlab.cli",
                "sandbox",
                "serve",
                "--host",
                HOST,
                "--port",
                str(self.port),
                "--db",
                self.db,
                "--token",
                self.token,
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                break
            try:
                httpx.get(f"http://{HOST}:{self.port}/healthz", timeout=1)
                return self
            except httpx.TransportError:
                time.sleep(0.05)
        self.kill()
        raise RuntimeError(f"the sandbox did not start on {HOST}:{self.port}")

    def kill(self) -> None:
        """SIGKILL: the process gets no chance to flush or close anything."""
        if self.process is not None and self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGKILL)
            self.process.wait(10)
        self.process = None

    def stop(self) -> None:
        """A clean stop (SIGTERM), which closes the database."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.kill()
        self.process = None

    def __enter__(self) -> SandboxProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
