"""Dagster: the four products materialise per org partition from a loaded warehouse, with metadata that answers
each asset's question and checks that say where a figure cannot be trusted."""

from __future__ import annotations

import datetime as dt
import textwrap

import dagster as dg

from rm_pipelines.sandbox.portfolio import generate_portfolio

TEST_KEY = "ef-2L2MdqMF7KEpuvXl-wpFWb_cisRX6xnMrxpgQi8k="


def test_specialties_job_materialises_every_product(tmp_path, monkeypatch, sqlite_url):
    from rm_pipelines.defs.resources import RentManagerResource, WarehouseResource
    from rm_pipelines.defs.specialties import (
        asset_management_evaluation,
        commercial_evaluation,
        hoa_evaluation,
        student_housing_evaluation,
    )
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
    registry = tmp_path / "organizations.yaml"
    registry.write_text(textwrap.dedent("""
        organizations:
          - id: acme
            name: Acme
            rentmanager: {base_url: "https://example.invalid", auth: {mode: partner, partner_token_env: X}}
            locations: [{id: 1, timezone: America/Chicago}]
    """))
    resources = {"rentmanager": RentManagerResource(orgs_file=str(registry)),
                 "warehouse": WarehouseResource(database_url=sqlite_url)}
    assets = [student_housing_evaluation, commercial_evaluation, hoa_evaluation, asset_management_evaluation]
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions("org", ["acme"])
        result = dg.materialize(assets, instance=instance, partition_key="acme", resources=resources,
                                run_config={"ops": {f"{a.op.name}": {"config": {"as_of": "2026-11-16"}}
                                                    for a in assets}}, raise_on_error=False)
        assert result.success
        mats = {tuple(m.asset_key.path): m.metadata for m in result.get_asset_materialization_events()
                for m in [m.event_specific_data.materialization]}
        assert {k[0] for k in mats} == {"student_housing", "commercial", "hoa", "asset_management"}
        cam = mats[("commercial", "cam_reconciliation")]
        assert cam["year"].value == 2025 and "Blue Heron Books" in cam["statements"].value
        assert cam["invoices_cents"].value > 0
        hoa = mats[("hoa", "delinquency")]
        assert "91-120" in hoa["aging"].value and "Brooks, Nathan" in hoa["accounts"].value
        assert "levy fine per schedule" in mats[("hoa", "violations")]["next_steps"].value
        assert mats[("student_housing", "guarantors")]["insufficient"].value >= 1
        assert "University of Kansas" in mats[("student_housing", "applications")]["universities"].value
        assert 0 < mats[("asset_management", "monthly_performance")]["physical_occupancy_pct"].value <= 100
        checks = {e.check_name: e for e in result.get_asset_check_evaluations()}
        assert checks["cam_pools_have_a_denominator"].passed and checks["beds_have_lease_terms"].passed
        assert checks["hoa_rule_pack_known"].passed
        assert instance.get_materialized_partitions(dg.AssetKey(["hoa", "delinquency"])) == {"acme"}


def test_definitions_include_the_specialties_job():
    from rm_pipelines.definitions import defs

    d = defs()
    keys = {tuple(k.path) for k in d.resolve_all_asset_keys()}
    assert ("commercial", "cam_reconciliation") in keys and ("student_housing", "roommates") in keys
    assert d.resolve_job_def("specialties") is not None
