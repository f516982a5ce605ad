"""Fixtures for the sandbox tests: one generated portfolio per session, private copies for tests that write,
and real servers on real sockets (tests talk to them with plain httpx)."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from rm_pipelines.sandbox import SandboxConfig, SandboxServer, SandboxStore

from rm_pipelines_tests.conftest import SANDBOX_AS_OF as AS_OF

UNITS, SEED = 60, 11
USER, PASSWORD = "demo", "demo-password"
PARTNER = "sandbox-partner-token"


@pytest.fixture(scope="session")
def sb_state(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The generated 60-unit portfolio, made once per session. Never mutate it: copy it (see sb_store_copy)."""
    path = tmp_path_factory.mktemp("sandbox-state") / "portfolio.sqlite"
    SandboxStore.open(path, UNITS, SEED, as_of=AS_OF).close()
    return path


@pytest.fixture(scope="session")
def sb_shared_store(sb_state: Path) -> SandboxStore:
    """A read-only store shared by the tests that only read."""
    return SandboxStore.open(sb_state, UNITS, SEED, as_of=AS_OF)


@pytest.fixture
def sb_store_copy(sb_state: Path, tmp_path: Path) -> SandboxStore:
    """A private, writable copy of the session portfolio."""
    path = tmp_path / "portfolio.sqlite"
    shutil.copy(sb_state, path)
    store = SandboxStore.open(path, UNITS, SEED, as_of=AS_OF)
    yield store
    store.close()


@pytest.fixture
def make_server() -> Iterator[Callable[..., SandboxServer]]:
    """Start servers on free ports; all are stopped at teardown."""
    started: list[SandboxServer] = []

    def make(store: SandboxStore, **config: object) -> SandboxServer:
        cfg = SandboxConfig(**{"rate_limit_per_minute": None, **config})  # type: ignore[arg-type]
        srv = SandboxServer(store, cfg).start()
        started.append(srv)
        return srv

    yield make
    for srv in started:
        srv.stop()


@pytest.fixture
def ro_server(sb_shared_store: SandboxStore, make_server: Callable[..., SandboxServer]) -> SandboxServer:
    """A server over the shared read-only portfolio."""
    return make_server(sb_shared_store)


@pytest.fixture
def rw_server(sb_store_copy: SandboxStore, make_server: Callable[..., SandboxServer]) -> SandboxServer:
    """A server over a private copy (tests may write)."""
    return make_server(sb_store_copy)


def login(client: httpx.Client, username: str = USER, password: str = PASSWORD) -> str:
    resp = client.post("/Authentication/AuthorizeUser", json={"Username": username, "Password": password})
    assert resp.status_code == 200, resp.text
    token = resp.json()
    assert isinstance(token, str)
    return token


@pytest.fixture
def client(ro_server: SandboxServer) -> Iterator[httpx.Client]:
    """An authenticated httpx client on the read-only server."""
    with httpx.Client(base_url=ro_server.url, timeout=30) as c:
        c.headers["X-RM12Api-ApiToken"] = login(c)
        yield c


@pytest.fixture
def rw_client(rw_server: SandboxServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=rw_server.url, timeout=30) as c:
        c.headers["X-RM12Api-ApiToken"] = login(c)
        yield c
