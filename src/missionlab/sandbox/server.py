"""Running the sandbox: in a background thread from Python, or in the foreground from the CLI."""

from __future__ import annotations

import secrets
import sys
import threading
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import uvicorn

from ..client._async_client import AsyncClient
from ..client._client import Client
from .app import API_PREFIX, create_app
from .faults import Faults
from .store import Store

WILDCARD_HOSTS = frozenset({"0.0.0.0", "::", ""})


def new_token(token: str | None, *, no_token: bool) -> str | None:
    """The token a sandbox requires: ``token``, a new random one, or None with ``no_token``."""
    if no_token and token:
        raise ValueError("give a token or no_token=True, not both")
    # hex, so the token printed can be given back as ``--token TOKEN`` (never starts with "-")
    return None if no_token else (token or secrets.token_hex(24))


def answered_hosts(host: str, allowed_hosts: Iterable[str]) -> tuple[str, ...]:
    """The Host names to accept besides the loopback ones: the bound address, if it is one."""
    bound = () if host in WILDCARD_HOSTS else (host,)
    return (*bound, *allowed_hosts)


def open_store(db: str | Path, *, demo: bool, seed: int, load: Sequence[str | Path] = ()) -> Store:
    """The store at ``db``; with ``demo``, demo history is seeded into it when it is empty;
    the run capsules in ``load`` are added to it (see :mod:`.capsules`)."""
    store = Store(db)
    if demo and store.count("missions") == 0:
        from .demo import seed_demo

        seed_demo(store, seed=seed)
    if load:
        from .capsules import load_capsules

        try:
            load_capsules(store, load)
        except BaseException:
            store.close()
            raise
    return store


class Sandbox:
    """A local Missions API in a background thread, on a free port of 127.0.0.1.

    >>> with Sandbox(demo=True) as sandbox:
    ...     client = sandbox.client()
    ...     page = client.missions.list()

    ``db``: a file to keep the data in (it survives restarts), or ``":memory:"``.
    ``demo``: seed realistic demo history into an empty database.
    ``token``: the token requests must carry (``Authorization: Bearer <token>``); by default
    a random one, which :attr:`token` gives and :meth:`client` uses. ``no_token=True``
    accepts any token, as sandboxes did before 0.2.
    ``allowed_hosts``: Host names to answer besides 127.0.0.1, localhost and [::1]; requests
    naming another host, or sent from a web page of another origin, are refused (403).
    ``speed``: simulated seconds per real second for managed runs.
    ``faults``: fault rules (a :class:`Faults` or its dict form), changeable with
    :meth:`set_faults` while running.
    ``load``: run capsule files to serve (see :mod:`missionlab.sandbox.capsules`).
    """

    def __init__(
        self,
        *,
        db: str | Path = ":memory:",
        demo: bool = False,
        token: str | None = None,
        speed: float = 1.0,
        seed: int = 0,
        faults: Faults | dict[str, Any] | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        no_token: bool = False,
        allowed_hosts: Iterable[str] = (),
        load: Sequence[str | Path] = (),
    ) -> None:
        self.db = str(db)
        self.load = list(load)
        self.demo = demo
        self._token = new_token(token, no_token=no_token)
        self.allowed_hosts = answered_hosts(host, allowed_hosts)
        self.speed = speed
        self.seed = seed
        self.faults = faults if isinstance(faults, Faults) else Faults.from_dict(faults or {})
        self.host = host
        self.port = port
        self.store: Store | None = None
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """The base URL to give a client, e.g. ``http://127.0.0.1:PORT/v2``."""
        if self._server is None:
            raise RuntimeError("the sandbox is not running: call start() first")
        return f"http://{self.host}:{self.port}{API_PREFIX}"

    @property
    def token(self) -> str | None:
        """The token requests must carry (None: any token is accepted)."""
        return self._token

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self, timeout: float = 30.0) -> Sandbox:
        """Start serving; returns once the server accepts connections."""
        if self.running:
            return self
        self.store = open_store(self.db, demo=self.demo, seed=self.seed, load=self.load)
        app = create_app(
            self.store,
            token=self._token,
            speed=self.speed,
            seed=self.seed,
            faults=self.faults,
            allowed_hosts=self.allowed_hosts,
        )
        config = uvicorn.Config(
            app,
            host=self.host,
            port=self.port,
            log_level="warning",
            access_log=False,
            lifespan="on",
            timeout_graceful_shutdown=2,
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, name="missionlab-sandbox", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"the sandbox did not start on {self.host}:{self.port}")
            time.sleep(0.01)
        self.port = self._server.servers[0].sockets[0].getsockname()[1]
        return self

    def stop(self, timeout: float = 10.0) -> None:
        """Stop serving and close the database."""
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout)
        self._thread = None
        if self.store is not None:
            self.store.close()
            self.store = None

    def client(self, **kwargs: Any) -> Client:
        """A :class:`missionlab.Client` for this sandbox."""
        return Client(api_key=self._token or "sandbox", base_url=self.url, **kwargs)

    def async_client(self, **kwargs: Any) -> AsyncClient:
        """A :class:`missionlab.AsyncClient` for this sandbox."""
        return AsyncClient(api_key=self._token or "sandbox", base_url=self.url, **kwargs)

    def set_faults(self, faults: Faults | dict[str, Any]) -> None:
        """Change the fault rules while the sandbox runs."""
        self.faults.update(faults.to_dict() if isinstance(faults, Faults) else faults)

    def __enter__(self) -> Sandbox:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        where = self.url if self.running else "stopped"
        return f"<Sandbox {where} db={self.db!r}>"


def serve(
    *,
    host: str = "127.0.0.1",
    port: int = 8000,
    db: str = ":memory:",
    demo: bool = False,
    token: str | None = None,
    no_token: bool = False,
    allowed_hosts: Iterable[str] = (),
    speed: float = 1.0,
    seed: int = 0,
    faults: dict[str, Any] | None = None,
    load: Sequence[str | Path] = (),
) -> None:
    """Serve the sandbox in the foreground until interrupted; print how to use it.

    ``load``: run capsules to serve as well."""
    token = new_token(token, no_token=no_token)
    store = open_store(db, demo=demo, seed=seed, load=load)
    app = create_app(
        store,
        token=token,
        speed=speed,
        seed=seed,
        faults=Faults.from_dict(faults or {}),
        allowed_hosts=answered_hosts(host, allowed_hosts),
    )
    print(ready_message(host, port, db, token), flush=True)
    if token is None:
        print(
            "missionlab: WARNING: --no-token: any program on this machine can read and change this "
            "sandbox's data (web pages are still refused by the Host and Origin checks)",
            file=sys.stderr,
            flush=True,
        )
    try:
        uvicorn.run(app, host=host, port=port, log_level="warning", access_log=False)
    finally:
        store.close()


def ready_message(host: str, port: int, db: str, token: str | None) -> str:
    """What ``missionlab sandbox serve`` prints: the URL, and lines to paste into a shell."""
    name = "127.0.0.1" if host in WILDCARD_HOSTS else (f"[{host}]" if ":" in host else host)
    base = f"http://{name}:{port}"
    return "\n".join(
        [
            f"missionlab sandbox: {base}{API_PREFIX}  (db: {db}; Ctrl-C stops)",
            "Use it from a shell, a notebook (missionlab.Client()) or the official SDK:",
            f"    export TELNYX_BASE_URL={base}{API_PREFIX}",
            f"    export TELNYX_API_KEY={token or 'any-key'}",
            f"Interactive docs: {base}/docs"
            + (" (Authorize with the TELNYX_API_KEY above)" if token else ""),
        ]
    )
