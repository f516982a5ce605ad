"""Dagster: definitions load; the extraction materializes per org partition; the registry sensor."""

from __future__ import annotations

import dagster as dg
from sqlalchemy import text

from rm_pipelines.definitions import defs as load_defs
from rm_pipelines.defs.assets import rentmanager_extract
from rm_pipelines.defs.partitions import org_partitions
from rm_pipelines.defs.resources import RentManagerResource, WarehouseResource
from rm_pipelines.defs.sensors import org_registry_sensor
from rm_pipelines.reports.catalog import KINDS as REPORT_KINDS
from rm_pipelines.rentmanager.catalog import ENTITIES
from rm_pipelines.warehouse.db import create_warehouse_engine
from rm_pipelines_tests.conftest import SANDBOX_AS_OF


def test_definitions_load_with_an_asset_per_catalog_entity():
    defs = load_defs()
    dg.Definitions.validate_loadable(defs)
    keys = defs.resolve_all_asset_keys()
    assert {dg.AssetKey(e.asset_path) for e in ENTITIES} <= set(keys)
    assert defs.resolve_job_def("rentmanager_sync") is not None
    assert {s.name for s in defs.schedules} == {"demo_incremental_sync", "demo_full_sync", "demo_keyscan_sync",
                                                "monthly_reports_schedule", "annual_reports_schedule"}
    assert {k.path[-1] for k in keys if k.path[0] == "compliance"} == {
        "household_certifications", "unit_status", "program_status", "violations", "status"}
    assert {k.path[-1] for k in keys if k.path[0] == "reports"} == {k.kind for k in REPORT_KINDS}
    assert defs.resolve_sensor_def("org_registry_sensor") is not None
    assert defs.resolve_sensor_def("form_8823_on_findings_change") is not None
    # sync schedules read their cron in the org's time zone (the report schedules serve every org: UTC)
    assert {s.execution_timezone for s in defs.schedules if s.name.endswith("_sync")} == {"America/New_York"}
    # the EstateCore tables sit in a few domain groups, so the lineage reads at a glance
    graph = defs.resolve_asset_graph()
    groups = {graph.get(k).group_name for k in keys if k.path[0] == "estatecore"}
    assert groups == {"portfolio", "residents_and_leases", "ledger", "maintenance_and_vendors", "owners",
                      "associations_and_commercial"}
    job_keys = defs.resolve_job_def("rentmanager_sync").asset_layer.selected_asset_keys
    assert {k for k in keys if k.path[0] in ("rentmanager", "estatecore", "compliance")} <= set(job_keys)


def _materialize(instance, registry_file, sqlite_url, selection=None, mode="incremental"):
    return dg.materialize(
        [rentmanager_extract],
        instance=instance,
        partition_key="acme",
        selection=selection,
        resources={
            "rentmanager": RentManagerResource(orgs_file=str(registry_file)),
            "warehouse": WarehouseResource(database_url=sqlite_url),
        },
        run_config={"ops": {"rentmanager_extract": {"config": {"mode": mode}}}},
        raise_on_error=False,
    )


def test_materialize_every_entity_for_an_org_partition(registry_file, sqlite_url, sandbox):
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions("org", ["acme"])
        result = _materialize(instance, registry_file, sqlite_url)
        assert result.success
        mats = {m.asset_key.path[-1]: m for m in result.asset_materializations_for_node("rentmanager_extract")}
        assert set(mats) == {e.name for e in ENTITIES}
        tenants = mats["tenants"].metadata
        assert tenants["dagster/row_count"].value == sandbox.store.count("Tenants") > 0
        assert tenants["requests"].value >= 1 and tenants["mode"].value == "full"
        assert "[REDACTED]" not in str(tenants) and "demo-password" not in str(result.all_events)
        # the materialization is recorded against the org partition
        assert instance.get_materialized_partitions(dg.AssetKey(["rentmanager", "tenants"])) == {"acme"}
        # an incremental run reads a few rows, and the asset still says how many rows the org holds
        again = _materialize(instance, registry_file, sqlite_url)
        charges = {m.asset_key.path[-1]: m for m in again.asset_materializations_for_node("rentmanager_extract")}[
            "charges"].metadata
        assert charges["rows_this_run"].value < charges["dagster/row_count"].value == sandbox.store.count("Charges")


def test_subset_materializes_only_the_selection(registry_file, sqlite_url, sandbox):
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions("org", ["acme"])
        result = _materialize(instance, registry_file, sqlite_url, selection=["rentmanager/units", "rentmanager/payment_allocations"])
        assert result.success
        names = {m.asset_key.path[-1] for m in result.asset_materializations_for_node("rentmanager_extract")}
        assert names == {"units", "payment_allocations"}
        engine = create_warehouse_engine(sqlite_url)
        with engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM rm_raw.payment_allocations")).scalar_one() > 0
            assert conn.execute(text("SELECT count(*) FROM rm_raw.payments")).scalar_one() == 0


def test_failure_fails_the_step_naming_org_entity_and_page(registry_file, sqlite_url, sandbox):
    sandbox.faults.malformed_page = ("Tenants", 1)
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions("org", ["acme"])
        result = _materialize(instance, registry_file, sqlite_url, selection=["rentmanager/tenants", "rentmanager/units"])
        assert not result.success
        failure = next(e for e in result.all_events if e.is_step_failure)
        message = str(failure.event_specific_data.error.message) + str(failure.event_specific_data.user_failure_data)
        assert "org 'acme'" in message and "entity 'tenants'" in message and "page 1" in message
        names = {m.asset_key.path[-1] for m in result.asset_materializations_for_node("rentmanager_extract")}
        assert names == {"units"}  # the stream that succeeded is still recorded


def test_registry_sensor_keeps_partitions_equal_to_the_registry(registry_file):
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions("org", ["gone-org"])
        context = dg.build_sensor_context(instance=instance, resources={"rentmanager": RentManagerResource(orgs_file=str(registry_file))})
        result = org_registry_sensor(context)
        requests = result.dynamic_partitions_requests
        added = [r for r in requests if isinstance(r, dg.AddDynamicPartitionsRequest)]
        deleted = [r for r in requests if isinstance(r, dg.DeleteDynamicPartitionsRequest)]
        assert added[0].partition_keys == ["acme"] and deleted[0].partition_keys == ["gone-org"]
        instance.add_dynamic_partitions(org_partitions.name, ["acme"])
        instance.delete_dynamic_partition(org_partitions.name, "gone-org")
        assert isinstance(org_registry_sensor(context), dg.SkipReason)


def _materialize_all(instance, registry_file, sqlite_url, selection=None):
    from rm_pipelines.defs.estatecore import estatecore_load

    return dg.materialize(
        [rentmanager_extract, estatecore_load],
        instance=instance,
        partition_key="acme",
        selection=selection,
        resources={
            "rentmanager": RentManagerResource(orgs_file=str(registry_file)),
            "warehouse": WarehouseResource(database_url=sqlite_url),
        },
        raise_on_error=False,
    )


def test_extraction_then_estatecore_tables_with_checks(registry_file, sqlite_url, sandbox):
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions("org", ["acme"])
        result = _materialize_all(instance, registry_file, sqlite_url)
        assert result.success
        mats = {tuple(m.asset_key.path): m.metadata for m in result.get_asset_materialization_events_for_node("estatecore_load")} \
            if hasattr(result, "get_asset_materialization_events_for_node") else \
            {tuple(m.asset_key.path): m.metadata for m in result.asset_materializations_for_node("estatecore_load")}
        units = mats[("estatecore", "units")]
        assert units["dagster/row_count"].value == sandbox.store.count("Units")
        assert units["quality_score"].value == 1.0
        assert "preview" in units and "|" in units["preview"].value
        checks = {(e.asset_key.path[-1], e.check_name): e for e in result.get_asset_check_evaluations()}
        assert checks[("units", "quarantine")].passed
        assert checks[("units", "expectations")].passed
        assert checks[("leases", "expectations")].passed


def test_bad_rows_over_threshold_fail_the_quarantine_check_without_stopping_the_run(registry_file, sqlite_url,
                                                                                    sandbox):
    units = sandbox.store.records("Units")
    broken = [{**u, "Bedrooms": -3} for u in units[: max(len(units) // 10, 5)]]
    sandbox.store.upsert("Units", broken)
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions("org", ["acme"])
        result = _materialize_all(instance, registry_file, sqlite_url,
                                  selection=["rentmanager/units", "rentmanager/properties", "rentmanager/unit_types",
                                             "estatecore/properties", "estatecore/unit_types", "estatecore/units"])
        assert result.success  # not blocking: compliance reports the touched properties undetermined instead
        checks = {(e.asset_key.path[-1], e.check_name): e for e in result.get_asset_check_evaluations()}
        failed = checks[("units", "quarantine")]
        assert not failed.passed and failed.severity == dg.AssetCheckSeverity.ERROR
        assert failed.metadata["quarantined_open"].value == len(broken)
        engine = create_warehouse_engine(sqlite_url)
        with engine.connect() as conn:
            reasons = conn.execute(text("SELECT reasons FROM ops.quarantine WHERE entity = 'units'")).scalars().all()
            loaded = conn.execute(text("SELECT count(*) FROM units WHERE org_id = 'acme'")).scalar_one()
        assert len(reasons) == len(broken) and all("Bedrooms" in r or "bedrooms" in r for r in reasons)
        assert loaded == len(units) - len(broken)  # the good rows still loaded


def defs_status_metadata() -> dict:
    from rm_pipelines.defs.compliance import compliance_evaluation

    return compliance_evaluation.specs_by_key[dg.AssetKey(["compliance", "status"])].metadata


def test_sync_job_evaluates_compliance_with_checks_and_keeps_the_ledger(registry_file, sqlite_url, sandbox):
    from collections import Counter

    from rm_pipelines.defs.compliance import compliance_evaluation
    from rm_pipelines.defs.estatecore import estatecore_load
    from rm_pipelines.sandbox.portfolio import PLANTED_FINDINGS
    from rm_pipelines.warehouse import compliance_store

    registry_file.write_text(registry_file.read_text() + "    compliance: {backfill_earliest_limits: true}\n")
    resources = {"rentmanager": RentManagerResource(orgs_file=str(registry_file)),
                 "warehouse": WarehouseResource(database_url=sqlite_url)}
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions("org", ["acme"])
        # evaluated on the sandbox's as-of day: the planted findings are defined relative to it
        config = {"ops": {"compliance_evaluation": {"config": {"as_of": SANDBOX_AS_OF.isoformat()}}}}
        runs = [dg.materialize([rentmanager_extract, estatecore_load, compliance_evaluation], instance=instance,
                               partition_key="acme", resources=resources, run_config=config, raise_on_error=False)
                for _ in range(2)]
        assert all(r.success for r in runs)
        mats = {m.asset_key.path[-1]: m.metadata for m in runs[0].asset_materializations_for_node("compliance_evaluation")}
        assert set(mats) == {"household_certifications", "unit_status", "program_status", "violations", "status"}
        status = mats["status"]
        assert status["compliant"].value is False and "NOT in compliance" in status["answer"].value
        assert "| lihtc | NO |" in status["programs"].value
        # the page answers first, in Rent Manager's names, per program: compliant / not compliant / undetermined
        assert list(status)[0] == "summary" and status["status"].value == "not compliant"
        summary = status["summary"].value
        assert summary.startswith("### NOT in compliance — ") and status["answer"].value in summary
        assert "| LIHTC | NO |" in summary and "| HOME | undetermined |" in summary  # no HOME rents bundled
        assert "Harbor Point Apartments (HARBOR) unit 10" in summary and "acme:1:" not in summary
        assert "acme:1:" not in status["programs"].value
        section8 = [c.strip() for c in next(line for line in summary.splitlines()
                                            if line.startswith("| Section 8 |")).split("|")[1:-1]]
        assert int(section8[3]) > 0 and int(section8[4]) > 0  # the voucher households' units and households
        assert "dagster/column_schema" not in defs_status_metadata()
        assert mats["violations"]["new_this_run"].value == mats["violations"]["open"].value == len(PLANTED_FINDINGS)
        assert "11g" in mats["violations"]["open_by_8823_line"].value
        unit_rows = mats["unit_status"]["dagster/row_count"].value
        assert 0 < unit_rows < sandbox.store.count("Units")  # the units of program properties, not market-rate ones
        assert "****" in mats["household_certifications"]["preview"].value  # household amounts masked
        checks = {e.check_name: e for e in runs[0].get_asset_check_evaluations()}
        assert checks["lihtc_designations"].passed and checks["restricted_units_certified"].passed
        limits = checks["limits_available"]  # the bundled sample tables have no HOME rents
        assert not limits.passed and limits.severity == dg.AssetCheckSeverity.WARN
        again = {m.asset_key.path[-1]: m.metadata for m in runs[1].asset_materializations_for_node("compliance_evaluation")}
        assert again["violations"]["new_this_run"].value == 0
        assert instance.get_materialized_partitions(dg.AssetKey(["compliance", "status"])) == {"acme"}
    engine = create_warehouse_engine(sqlite_url)
    ledger = Counter((f["code"], f["property_code"], f["unit_name"]) for f in compliance_store.read_findings(engine, "acme"))
    assert ledger == Counter((f["code"], f["property"], f["unit"]) for f in PLANTED_FINDINGS)
    assert len(compliance_store.read_snapshot(engine, "unit_status", "acme")) == unit_rows
    engine.dispose()
