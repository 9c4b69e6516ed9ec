"""One line to get a client: the hosted API when a key is set, else a local demo sandbox."""

from __future__ import annotations

import os
import threading
from typing import Any

from .client._client import Client

_lock = threading.Lock()
_demo_sandbox: Any = None

DEMO_SPEED = 10.0


def connect(*, demo_speed: float = DEMO_SPEED, quiet: bool = False, **client_options: Any) -> Client:
    """A :class:`Client` for the hosted API if ``TELNYX_API_KEY`` is set; otherwise a client
    of a demo sandbox started in the background (one per process, reused).

    Says in one line which one it is.
    """
    if os.environ.get("TELNYX_API_KEY"):
        client = Client(**client_options)
        if not quiet:
            print(f"missionlab: connected to {client.base_url} (key from TELNYX_API_KEY)")
        return client
    sandbox = demo_sandbox(speed=demo_speed)
    if not quiet:
        print(
            f"missionlab: TELNYX_API_KEY is not set, using a local demo sandbox at "
            f"{sandbox.url} (managed runs play at {sandbox.speed:g}x speed)"
        )
    return sandbox.client(**client_options)  # type: ignore[no-any-return]


def demo_sandbox(speed: float = DEMO_SPEED) -> Any:
    """The process's demo sandbox, started on first use."""
    global _demo_sandbox
    with _lock:
        if _demo_sandbox is None or not _demo_sandbox.running:
            from .sandbox import Sandbox

            _demo_sandbox = Sandbox(demo=True, speed=speed).start()
        return _demo_sandbox
