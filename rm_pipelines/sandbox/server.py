"""Running the sandbox app: uvicorn (httptools + uvloop, no access log) in a background thread or in the foreground."""

from __future__ import annotations

import logging
import secrets
import socket
import threading
import time
from types import TracebackType

import uvicorn

from .admin import ADMIN_HEADER
from .asgi import create_app
from .config import SandboxConfig, Stats
from .faults import Faults
from .store import SandboxStore
from .webhooks import WebhookDispatcher


class _HideDroppedConnections(logging.Filter):
    """A dropped-connection fault is uvicorn's "returned without completing response": expected, not news."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "without completing response" not in record.getMessage()


_filter = _HideDroppedConnections()
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


def new_admin_token() -> str:
    """A fresh admin token, safe to pass as a command-line value (hex: never starts with "-", which argparse would
    read as an option)."""
    return secrets.token_hex(16)


class SandboxServer:
    """A Rent Manager look-alike HTTP server over a SandboxStore.

    with SandboxServer(store) as srv:      # start() returns once the port accepts connections
        httpx.get(srv.url + "/Locations", headers=...)
        srv.faults.status_429_next = 5     # faults, config and stats are live
    """

    def __init__(self, store: SandboxStore, config: SandboxConfig | None = None, host: str = "127.0.0.1",
                 port: int = 0) -> None:
        self.store = store
        self.config = config or SandboxConfig()
        if self.config.admin_token is None:
            if host not in LOOPBACK_HOSTS:
                raise ValueError(f"serving the sandbox on {host} needs an admin token of your own (--admin-token or "
                                 "RM_SANDBOX_ADMIN_TOKEN): its /_sandbox/ routes change data, faults and webhooks")
            self.config.admin_token = new_admin_token()  # printed by `sandbox serve`
        elif len(self.config.admin_token) < 16:
            raise ValueError("the sandbox admin token must have at least 16 characters")
        if store.timezone != self.config.location_timezone:
            store.set_timezone(self.config.location_timezone)
        self.faults = Faults(seed=self.config.fault_seed)
        self.stats = Stats()
        self.host = host
        self.port = port
        self.app = create_app(store, self.config, self.faults, self.stats)
        self.webhooks = WebhookDispatcher(self.config, self.stats, store)
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._sock: socket.socket | None = None

    @property
    def admin_headers(self) -> dict[str, str]:
        """Headers that open the /_sandbox/ admin routes of this server."""
        return {ADMIN_HEADER: self.config.admin_token or ""}

    @property
    def api(self):  # the SandboxApi behind the app (token store, rate limiter)
        return self.app.state.api

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def _uvicorn(self) -> uvicorn.Server:
        logging.getLogger("uvicorn.error").addFilter(_filter)
        cfg = uvicorn.Config(self.app, loop="uvloop", http="httptools", access_log=False, log_level="warning",
                             lifespan="off", timeout_keep_alive=30, server_header=False)
        return uvicorn.Server(cfg)

    def bind(self) -> int:
        """Claim the listening socket now (so .url is final before serving); returns the port."""
        if self._sock is None:
            self._sock = self._bind()
        return self.port

    def _bind(self) -> socket.socket:
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.host, self.port))
        sock.listen(2048)
        sock.set_inheritable(True)
        self.port = sock.getsockname()[1]
        return sock

    def start(self, timeout: float = 30.0) -> SandboxServer:
        """Serve in a background thread; returns once the server accepts connections."""
        if self._thread is not None:
            return self
        self.store.add_listener(self.webhooks)
        self.bind()
        self._server = self._uvicorn()
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": [self._sock]},
                                        name=f"sandbox-{self.port}", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("sandbox server failed to start")
            time.sleep(0.01)
        with socket.create_connection((self.host, self.port), timeout=5):
            pass
        return self

    def serve_forever(self) -> None:
        """Serve in the calling thread until Ctrl-C (uvicorn handles the signals)."""
        self.store.add_listener(self.webhooks)
        self.bind()
        assert self._sock is not None
        self._server = self._uvicorn()
        try:
            self._server.run(sockets=[self._sock])
        finally:
            self._cleanup()

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None
        self._cleanup()

    def _cleanup(self) -> None:
        self.store.remove_listener(self.webhooks)
        self.webhooks.stop()
        if self._sock is not None:
            self._sock.close()
            self._sock = None
        self._server = None

    def __enter__(self) -> SandboxServer:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()
