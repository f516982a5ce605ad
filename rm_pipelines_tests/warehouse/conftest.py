"""Warehouse test fixtures: a test encryption key, orgs, the sandbox portfolio, SQLite and PostgreSQL engines."""

from __future__ import annotations

import copy
from typing import Any

import pytest

TEST_KEY = "ef-2L2MdqMF7KEpuvXl-wpFWb_cisRX6xnMrxpgQi8k="
PORTFOLIO_UNITS, PORTFOLIO_SEED = 80, 5


@pytest.fixture(autouse=True)
def _keys_and_data_dir(monkeypatch, tmp_path):
    monkeypatch.setenv("ESTATECORE_ENCRYPTION_KEYS", TEST_KEY)
    monkeypatch.setenv("RM_PIPELINES_DATA_DIR", str(tmp_path / "data"))


def make_org(org_id: str = "acme", mappings: Any = None, tz: str = "America/New_York"):
    from rm_pipelines.orgs import Org

    data = {
        "id": org_id, "name": org_id.title(),
        "rentmanager": {"base_url": "https://example.invalid", "auth": {"mode": "partner", "partner_token_env": "X"}},
        "locations": [{"id": 1, "timezone": tz}],
    }
    if mappings is not None:
        data["mappings"] = mappings
    return Org.model_validate(data)


@pytest.fixture
def org():
    return make_org()


@pytest.fixture(scope="session")
def _portfolio_master():
    from rm_pipelines_tests.warehouse.rawdata import portfolio

    return portfolio(PORTFOLIO_UNITS, PORTFOLIO_SEED)


@pytest.fixture
def portfolio(_portfolio_master):
    """A private copy of the generated portfolio (tests mutate it)."""
    return copy.deepcopy(_portfolio_master)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def engine(request, tmp_path):
    """A migrated warehouse on SQLite or on the real PostgreSQL server."""
    yield from warehouse_engine(request, tmp_path, request.param)


def warehouse_engine(request, tmp_path, dialect: str):
    """A migrated warehouse (`dialect` sqlite or postgres), disposed of when the test ends."""
    from rm_pipelines.warehouse.db import create_warehouse_engine
    from rm_pipelines.warehouse.raw import ensure_schema

    if dialect == "sqlite":
        url = f"sqlite:///{tmp_path / 'warehouse' / 'estatecore.sqlite'}"
    else:
        url = request.getfixturevalue("pg_url")
    eng = create_warehouse_engine(url)
    ensure_schema(eng)
    yield eng
    eng.dispose()
