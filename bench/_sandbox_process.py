"""``missionlab sandbox serve`` in a child process on 127.0.0.1, which can be stopped or killed."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import IO

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
        self._may_move = port is None  # a port of our choosing, until a server has used it
        self.process: subprocess.Popen[bytes] | None = None
        self._stderr: IO[bytes] | None = None  # the running server's stderr, for error messages

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}/v2"

    def start(self, timeout: float = 30) -> SandboxProcess:
        """Start serving; returns once the server answers. A first start that exits at once
        (another process took the free port meanwhile) is tried again on a new port, twice at
        most; restarts keep their port, which clients already hold."""
        for _ in range(3):
            outcome = self._launch(timeout)
            if outcome == "serving":
                self._may_move = False
                return self
            if outcome == "timed out" or not self._may_move:
                break
            self.port = free_port()
        errors = self._stderr.read().decode(errors="replace")[-2000:] if self._stderr else ""
        raise RuntimeError(f"the sandbox did not start on {HOST}:{self.port}\n{errors}".rstrip())

    def _launch(self, timeout: float) -> str:
        """Start the server once: "serving", "exited" (early) or "timed out"."""
        if self._stderr is not None:
            self._stderr.close()
        self._stderr = tempfile.TemporaryFile()  # noqa: SIM115 (open while the server runs)
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
                # one argument, so a token starting with "-" is not read as an option
                f"--token={self.token}",
            ],
            stdout=subprocess.DEVNULL,
            stderr=self._stderr,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                break
            try:
                httpx.get(f"http://{HOST}:{self.port}/healthz", timeout=1)
                return "serving"
            except httpx.TransportError:
                time.sleep(0.05)
        outcome = "exited" if self.process.poll() is not None else "timed out"
        self.kill()
        self._stderr.seek(0)
        return outcome

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
