"""`rm-pipelines student|commercial|hoa|assets …` prints the views of a loaded warehouse."""

from __future__ import annotations

import datetime as dt

from rm_pipelines.cli import main
from rm_pipelines.sandbox.portfolio import generate_portfolio

TEST_KEY = "ef-2L2MdqMF7KEpuvXl-wpFWb_cisRX6xnMrxpgQi8k="


def test_cli_prints_each_products_views(tmp_path, monkeypatch, capsys, sqlite_url):
    from rm_pipelines.flows.load import load_all
    from rm_pipelines.warehouse.db import create_warehouse_engine
    from rm_pipelines.warehouse.raw import ensure_schema
    from rm_pipelines_tests.warehouse import rawdata
    from rm_pipelines_tests.warehouse.conftest import make_org

    monkeypatch.setenv("ESTATECORE_ENCRYPTION_KEYS", TEST_KEY)
    monkeypatch.setenv("RM_PIPELINES_DATA_DIR", str(tmp_path / "data"))
    engine = create_warehouse_engine(sqlite_url)
    ensure_schema(engine)
    rawdata.land(engine, "acme", generate_portfolio(60, 11, dt.datetime(2026, 11, 16, 9, 0)))
    load_all(engine, org=make_org("acme"), run_id="load")
    engine.dispose()
    common = ["--org", "acme", "--url", sqlite_url]
    assert main(["hoa", "delinquency", *common]) == 1  # nothing stored yet
    assert "run the `specialties` job, or add --refresh" in capsys.readouterr().err
    assert main(["hoa", "delinquency", *common, "--refresh", "--as-of", "2026-11-16", "--property", "SANDPIPER"]) == 0
    out = capsys.readouterr().out
    assert "as of 2026-11-16: 5 row(s)" in out and "Brooks, Nathan" in out and "$1,800.00" in out
    assert "board lien vote" in out
    assert main(["hoa", "violations", *common, "--property", "sandpiper"]) == 0  # stored: no refresh needed
    assert "levy fine per schedule" in capsys.readouterr().out
    assert main(["commercial", "cam", *common, "--refresh", "--as-of", "2026-11-16", "--property", "CEDARPT"]) == 0
    out = capsys.readouterr().out
    assert "Blue Heron Books" in out and "$17,254.20" in out and "-$31,564.43" in out
    assert main(["student", "guarantors", *common, "--refresh", "--as-of", "2026-11-16"]) == 0
    assert "insufficient" in capsys.readouterr().out
    assert main(["assets", "performance", *common, "--refresh", "--as-of", "2026-11-16"]) == 0
    out = capsys.readouterr().out
    assert "Portfolio" in out and "2026-11-01" in out and "owner:" not in out
