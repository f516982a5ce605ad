"""Fixtures for the webhook tests: a migrated warehouse on SQLite and on PostgreSQL, and a receiver on a real
socket for one org."""

from __future__ import annotations

import pytest

TOKEN = "tok-" + "a1B2c3D4e5F6g7H8i9J0k1L2m3"
CORPORATE_ID = "acme-corp"


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def warehouse_url(request, tmp_path):
    """Each test runs on SQLite and on the real PostgreSQL server."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'warehouse' / 'estatecore.sqlite'}"
    return request.getfixturevalue("pg_url")


@pytest.fixture
def engine(warehouse_url):
    from rm_pipelines.warehouse.db import create_warehouse_engine
    from rm_pipelines.warehouse.migrate import upgrade
    from rm_pipelines.webhooks.app import durable

    eng = durable(create_warehouse_engine(warehouse_url))
    upgrade(eng)
    yield eng
    eng.dispose()


@pytest.fixture
def receiver(engine):
    from rm_pipelines.webhooks.app import ReceiverOrg
    from rm_pipelines.webhooks.server import ReceiverServer

    server = ReceiverServer(engine, [ReceiverOrg("acme", TOKEN, CORPORATE_ID, frozenset({1, 2}))],
                            max_body_bytes=2048)
    server.start()
    yield server
    server.stop()
