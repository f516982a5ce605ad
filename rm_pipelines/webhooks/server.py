"""Running the webhook receiver on uvicorn, in a background thread (tests, benchmarks) or in the foreground
(`rm-pipelines webhooks serve`). The access log is off: request paths carry the tokens."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterable
from types import TracebackType

import uvicorn
from sqlalchemy import Engine

from ..orgs import Registry, RegistryError
from .app import DEFAULT_MAX_BODY_BYTES, ReceiverOrg, close_app, create_app


class ReceiverServer:
    """The receiver app served on host:port (port 0: a free one, known once bound)."""

    def __init__(self, engine: Engine, orgs: Iterable[ReceiverOrg], *, host: str = "127.0.0.1", port: int = 0,
                 max_body_bytes: int = DEFAULT_MAX_BODY_BYTES) -> None:
        self.orgs = {o.org_id: o for o in orgs}
        self.app = create_app(engine, self.orgs.values(), max_body_bytes=max_body_bytes)
        self.host, self.port = host, port
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._sock: socket.socket | None = None

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def url_for(self, org_id: str) -> str:
        """The delivery URL of an org (it holds the org's token: keep it out of logs)."""
        return f"{self.url}/rentmanager/{org_id}/{self.orgs[org_id].token}"

    def bind(self) -> int:
        """Claim the listening socket now (so `url` is final before serving); returns the port."""
        if self._sock is None:
            self._sock = self._bind()
        return self.port

    def _bind(self) -> socket.socket:
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.host, self.port))
        sock.listen(2048)
        self.port = sock.getsockname()[1]
        return sock

    def _uvicorn(self) -> uvicorn.Server:
        config = uvicorn.Config(self.app, loop="uvloop", http="httptools", access_log=False, log_level="warning",
                                lifespan="off", timeout_keep_alive=30, server_header=False)
        return uvicorn.Server(config)

    def start(self, timeout: float = 30.0) -> ReceiverServer:
        """Serve in a background thread; returns once connections are accepted."""
        if self._thread is not None:
            return self
        self.bind()
        self._server = self._uvicorn()
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": [self._sock]},
                                        name=f"webhooks-{self.port}", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("webhook receiver failed to start")
            time.sleep(0.01)
        return self

    def serve_forever(self) -> None:
        """Serve in this thread until Ctrl-C."""
        self.bind()
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
        close_app(self.app)
        if self._sock is not None:
            self._sock.close()
            self._sock = None
        self._server = None

    def __enter__(self) -> ReceiverServer:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()


def receiver_orgs(registry: Registry) -> tuple[list[ReceiverOrg], list[str]]:
    """The orgs of the registry whose webhooks can be received, and why each other one cannot (a missing or
    short token variable is named; the token itself never is)."""
    orgs, problems = [], []
    for org in registry.organizations:
        if org.webhooks is None:
            continue
        try:
            token = org.webhooks.token()
        except RegistryError as exc:
            problems.append(f"org {org.id!r}: {exc}")
            continue
        orgs.append(ReceiverOrg(org.id, token, org.corporate_id, frozenset(loc.id for loc in org.locations)))
    return orgs, problems
