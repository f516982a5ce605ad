"""An evaluated sandbox org in a real warehouse (SQLite and PostgreSQL), and its reports rendered once.

The org is the sandbox portfolio with the planted findings (docs/planted-findings.md), landed and loaded
like a sync, evaluated on two pinned dates of one month (so the portfolio trend has two points)."""

from __future__ import annotations

import contextlib
import datetime as dt
import textwrap
from pathlib import Path

import pytest

from rm_pipelines_tests.conftest import fresh_pg_database
from rm_pipelines_tests.warehouse.conftest import TEST_KEY, make_org

NOW = dt.datetime(2026, 11, 20, 14, 3, 22)
FIRST = NOW.date()
SECOND = FIRST + dt.timedelta(days=7)
MONTH, YEAR = "2026-11", "2026"
ORG, ORG_NAME = "acme", "Acme Residential"


def write_registry(tmp_path: Path, monkeypatch, timezone: str) -> Path:
    """The report org in a registry the Dagster resources read (no Rent Manager call is made)."""
    path = tmp_path / "organizations.yaml"
    path.write_text(textwrap.dedent(f"""
        organizations:
          - id: {ORG}
            name: {ORG_NAME}
            rentmanager: {{base_url: "https://example.invalid", auth: {{mode: partner, partner_token_env: X}}}}
            locations: [{{id: 1, timezone: {timezone}}}]
    """))
    monkeypatch.setenv("RM_PIPELINES_ORGS", str(path))
    return path


@pytest.fixture(scope="session")
def planted_portfolio():
    from rm_pipelines.sandbox.portfolio import generate_portfolio

    return generate_portfolio(60, 3, NOW)


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def evaluated(request, tmp_path_factory, planted_portfolio):
    """(engine, data dir): the planted org loaded and evaluated on FIRST and SECOND."""
    from rm_pipelines.flows.evaluate import evaluate_org
    from rm_pipelines.orgs import ComplianceConfig
    from rm_pipelines.warehouse.db import create_warehouse_engine
    from rm_pipelines.flows.load import load_all
    from rm_pipelines.warehouse.raw import ensure_schema
    from rm_pipelines_tests.warehouse import rawdata

    tmp = tmp_path_factory.mktemp(f"reports-{request.param}")
    with pytest.MonkeyPatch.context() as mp, contextlib.ExitStack() as databases:
        mp.setenv("ESTATECORE_ENCRYPTION_KEYS", TEST_KEY)
        mp.setenv("RM_PIPELINES_DATA_DIR", str(tmp / "data"))
        if request.param == "sqlite":
            url = f"sqlite:///{tmp / 'warehouse' / 'estatecore.sqlite'}"
        else:
            url = databases.enter_context(fresh_pg_database())
        engine = create_warehouse_engine(url)
        ensure_schema(engine)
        org = make_org(ORG).model_copy(update={"compliance": ComplianceConfig(backfill_earliest_limits=True)})
        rawdata.land(engine, ORG, planted_portfolio)
        load_all(engine, org=org, run_id="load")
        evaluate_org(engine, org, as_of=FIRST, run_id="run-first")
        evaluate_org(engine, org, as_of=SECOND, run_id="run-second")
        try:
            yield engine, tmp
        finally:
            engine.dispose()


@pytest.fixture(scope="module")
def rendered(evaluated):
    """Every PDF report kind rendered once for the month and the year: {kind: RenderResult}."""
    from rm_pipelines.flows.render import render
    from rm_pipelines.reports.catalog import KINDS

    engine, tmp = evaluated
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("ESTATECORE_ENCRYPTION_KEYS", TEST_KEY)
        out = {}
        for spec in KINDS:
            period = MONTH if spec.cadence == "monthly" else YEAR
            out[spec.kind] = render(engine, ORG, ORG_NAME, spec.kind, period, run_id="test-render",
                                    reports_dir=tmp / "reports")
    return out


@pytest.fixture(autouse=True)
def _key(monkeypatch):
    monkeypatch.setenv("ESTATECORE_ENCRYPTION_KEYS", TEST_KEY)


def pdf_files(rendered) -> list[Path]:
    return [f.path for r in rendered.values() for f in r.files if f.media_type == "application/pdf"]
