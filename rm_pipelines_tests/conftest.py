"""Shared fixtures: a real sandbox server over a socket, SQLite and PostgreSQL warehouses."""

from __future__ import annotations

import os
import shutil
import textwrap
import uuid
from contextlib import contextmanager
from datetime import date
from pathlib import Path

import pytest

os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")

SANDBOX_UNITS = 60
SANDBOX_SEED = 11
# The day the shared sandbox portfolio's history runs up to: pinned, so what the tests see never depends on the
# day they run (`pytest --clock-offset-days 365` runs the suite a year ahead to prove it).
SANDBOX_AS_OF = date(2026, 11, 16)
PG_ADMIN_URL = os.environ.get("RM_PIPELINES_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
DEMO_USER, DEMO_PASSWORD = "demo", "demo-password"
PARTNER_TOKEN = "sandbox-partner-token"


@pytest.fixture(scope="session")
def sandbox_state(tmp_path_factory) -> Path:
    """A generated sandbox portfolio on disk, made once per session; copy it before mutating."""
    from rm_pipelines.sandbox import SandboxStore

    path = tmp_path_factory.mktemp("sandbox") / "portfolio.sqlite"
    SandboxStore.open(path, units=SANDBOX_UNITS, seed=SANDBOX_SEED, as_of=SANDBOX_AS_OF).close()
    return path


@pytest.fixture
def sandbox(sandbox_state, tmp_path):
    """A running sandbox server on a private copy of the portfolio (tests may mutate it freely)."""
    from rm_pipelines.sandbox import SandboxConfig, SandboxServer, SandboxStore

    state = tmp_path / "portfolio.sqlite"
    shutil.copy(sandbox_state, state)
    store = SandboxStore.open(state, units=SANDBOX_UNITS, seed=SANDBOX_SEED, as_of=SANDBOX_AS_OF)
    server = SandboxServer(store, config=SandboxConfig(rate_limit_per_minute=None), host="127.0.0.1", port=0)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def registry_file(sandbox, tmp_path, monkeypatch) -> Path:
    """An org registry pointing at the running sandbox, with credentials in env vars."""
    monkeypatch.setenv("TEST_RM_USER", DEMO_USER)
    monkeypatch.setenv("TEST_RM_PASSWORD", DEMO_PASSWORD)
    path = tmp_path / "organizations.yaml"
    path.write_text(textwrap.dedent(f"""
        organizations:
          - id: acme
            name: Acme Residential
            rentmanager:
              base_url: {sandbox.url}
              auth: {{mode: user, username_env: TEST_RM_USER, password_env: TEST_RM_PASSWORD}}
              requests_per_minute: null
              max_attempts: 4
            locations: [{{id: 1, timezone: America/New_York}}]
    """))
    return path


@pytest.fixture
def sqlite_url(tmp_path) -> str:
    return f"sqlite:///{tmp_path / 'warehouse' / 'estatecore.sqlite'}"


@pytest.fixture
def warehouse(sqlite_url):
    """A migrated SQLite warehouse at `sqlite_url`."""
    from rm_pipelines.warehouse.db import create_warehouse_engine
    from rm_pipelines.warehouse.raw import ensure_schema

    engine = create_warehouse_engine(sqlite_url)
    ensure_schema(engine)
    yield engine
    engine.dispose()


@contextmanager
def fresh_pg_database():
    """A fresh PostgreSQL database on the real server (its URL), dropped afterwards."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    name = f"rm_test_{uuid.uuid4().hex[:10]}"
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # noqa: BLE001 — say plainly what is missing
        pytest.fail(f"PostgreSQL at {make_url(PG_ADMIN_URL).render_as_string(hide_password=True)} is needed: {exc}")
    url = make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    try:
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def pg_url():
    """A fresh PostgreSQL database on the real server, dropped afterwards."""
    with fresh_pg_database() as url:
        yield url
