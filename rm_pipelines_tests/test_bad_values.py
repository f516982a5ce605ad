"""One bad value never stops a sync or a load, and never silently wipes a value — each case served by the sandbox
over a real socket, synced into rm_raw and loaded into EstateCore, on SQLite and on PostgreSQL."""

from __future__ import annotations

import orjson
import pytest
from sqlalchemy import text

from rm_pipelines.defs.resources import RentManagerResource
from rm_pipelines.flows.extract import OrgSync
from rm_pipelines.flows.load import load_all
from rm_pipelines.orgs import load_registry
from rm_pipelines.rentmanager.catalog import ENTITIES
from rm_pipelines.warehouse import ops
from rm_pipelines.warehouse import tables as T
from rm_pipelines.warehouse.db import create_warehouse_engine
from rm_pipelines.warehouse.raw import ensure_schema

ALL = [e.name for e in ENTITIES]
PORTFOLIO = ["properties", "unit_types", "units", "tenants", "contacts", "leases", "property_udfs", "unit_udfs",
             "tenant_udfs", "contact_udfs"]
PORTFOLIO_TABLES = ["properties", "unit_types", "units", "residents", "household_members", "leases", "udf_values"]
TEST_KEY = "ef-2L2MdqMF7KEpuvXl-wpFWb_cisRX6xnMrxpgQi8k="


@pytest.fixture(autouse=True)
def _keys_and_data_dir(monkeypatch, tmp_path):
    monkeypatch.setenv("ESTATECORE_ENCRYPTION_KEYS", TEST_KEY)
    monkeypatch.setenv("RM_PIPELINES_DATA_DIR", str(tmp_path / "data"))


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def url(request, sqlite_url):
    return sqlite_url if request.param == "sqlite" else request.getfixturevalue("pg_url")


class Warehouse:
    """Syncs the sandbox org into one warehouse and loads it, the way a run does (flows, no Dagster)."""

    def __init__(self, registry_file, url):
        self.registry_file = registry_file
        self.engine = create_warehouse_engine(url)
        ensure_schema(self.engine)
        self.runs = 0

    def org(self, **rentmanager):
        org = load_registry(self.registry_file).get("acme")
        if rentmanager:
            org = org.model_copy(update={"rentmanager": org.rentmanager.model_copy(update=rentmanager)})
        return org

    def sync(self, entities=ALL, mode="incremental", **rentmanager):
        self.runs += 1
        resource = RentManagerResource(orgs_file=str(self.registry_file))
        return OrgSync(self.org(**rentmanager), self.engine, resource.open_client,
                       run_id=f"run-{self.runs}").run(entities, mode=mode)

    def load(self, tables=None, mode="incremental"):
        return load_all(self.engine, org=self.org(), run_id=f"run-{self.runs}", mode=mode, tables=tables)

    def rows(self, sql, **params):
        with self.engine.connect() as conn:
            return [tuple(r) for r in conn.execute(text(sql), params).all()]

    def table(self, name):
        return name if self.engine.dialect.name == "sqlite" else f"estatecore.{name}"

    def keys(self, table):
        return {k for (k,) in self.rows(f"SELECT rm_id FROM {self.table(table)} WHERE org_id = 'acme' "
                                        f"AND deleted_at IS NULL")}

    def raw_keys(self, entity):
        return {k for (k,) in self.rows(f"SELECT rm_id FROM rm_raw.{entity} WHERE org_id = 'acme' "
                                        f"AND deleted_at IS NULL")}

    def quarantine(self, entity, *, open_only=True):
        return [q for q in ops.open_quarantine(self.engine, "acme") if q["entity"] == entity] if open_only else \
            self.rows("SELECT rm_key, resolved_at FROM ops.quarantine WHERE entity = :e", e=entity)


@pytest.fixture
def wh(registry_file, url):
    warehouse = Warehouse(registry_file, url)
    yield warehouse
    warehouse.engine.dispose()


# ---------------------------------------------------------------------------------------------------- landing


def test_keys_beyond_64_bits_are_quarantined_and_the_sync_goes_on(wh, sandbox):
    units = sandbox.store.records("Units")
    far, orphan = 2**63 + 7, units[3]
    sandbox.store.upsert("Units", [{**units[5], "UnitID": far, "Name": "far"},  # a key no BIGINT holds
                                   {**orphan, "PropertyID": 2**63}])            # a parent key no BIGINT holds
    report = wh.sync(PORTFOLIO)
    assert report.ok, report.errors
    assert report.entities["units"].quarantined == 2
    assert wh.raw_keys("units") == {u["UnitID"] for u in units} - {orphan["UnitID"]}
    rejected = {q["rm_key"]: q for q in wh.quarantine("units")}
    assert set(rejected) == {str(far), str(orphan["UnitID"])}
    assert rejected[str(far)]["reasons"] == [f"key UnitID {far} does not fit a 64-bit integer"]
    assert rejected[str(orphan["UnitID"])]["reasons"] == [f"parent key PropertyID {2**63} does not fit a 64-bit integer"]
    assert all(q["stage"] == "extract" and q["table_name"] == "units" for q in rejected.values())
    assert rejected[str(far)]["raw"]["Name"] == "far"  # the row as received
    # the load goes on with every other row; the table's quality counts the rows that never arrived
    loads = wh.load(PORTFOLIO_TABLES)
    assert wh.keys("units") == {u["UnitID"] for u in units} - {orphan["UnitID"]}
    assert loads["units"].quarantined_open == 2 and not loads["units"].check_passed
    # the next sync does not store the same rejections again
    assert wh.sync(PORTFOLIO).ok
    assert len(wh.quarantine("units")) == 2
    # fixed in Rent Manager (the parent key corrected, the far record deleted): a complete sync resolves both
    sandbox.store.upsert("Units", [orphan])
    sandbox.store.delete("Units", [far])
    assert wh.sync(PORTFOLIO, mode="full").ok
    assert wh.quarantine("units") == []
    assert orphan["UnitID"] in wh.raw_keys("units")
    assert wh.load(PORTFOLIO_TABLES)["units"].quarantined_open == 0


def test_a_key_twice_in_one_page_with_different_contents_lands_neither_version(wh, sandbox):
    sandbox.faults.duplicate_row = ("Units", 1)
    page = sandbox.store.records("Units")[:20]
    twice, hidden = page[0]["UnitID"], page[-1]["UnitID"]  # page 1 answers `twice` twice, `hidden` not at all
    report = wh.sync(PORTFOLIO, page_size=20)
    assert report.ok, report.errors
    assert report.entities["units"].quarantined == 2
    everything = {u["UnitID"] for u in sandbox.store.records("Units")}
    assert wh.raw_keys("units") == everything - {twice, hidden}  # neither version of `twice` was chosen
    versions = wh.quarantine("units")
    assert [q["rm_key"] for q in versions] == [str(twice)] * 2
    assert versions[0]["raw"]["UpdateDate"] != versions[1]["raw"]["UpdateDate"]
    assert versions[0]["reasons"] == [(f"duplicate key UnitID {twice} in one page: 2 different versions; none "
                                       "landed (the stored version, if any, is kept)")]
    # a clean complete sync lands the record and closes its quarantine
    sandbox.faults.duplicate_row = None
    assert wh.sync(PORTFOLIO, mode="full", page_size=20).ok
    assert wh.raw_keys("units") == everything and wh.quarantine("units") == []


# ---------------------------------------------------------------------------------------------------- loading


def test_a_nul_character_is_removed_by_rule_and_every_table_loads(wh, sandbox, tmp_path):
    from rm_pipelines.flows.evaluate import evaluate_org
    from rm_pipelines_tests.conftest import SANDBOX_AS_OF

    unit = sandbox.store.records("Units")[7]
    sandbox.store.upsert("Units", [{**unit, "Name": "12\u0000B"}])
    assert wh.sync().ok
    # rm_raw keeps the record as sent: JSON escapes the character, which PostgreSQL text would refuse raw
    ((payload,),) = wh.rows("SELECT payload FROM rm_raw.units WHERE org_id = 'acme' AND rm_id = :k", k=unit["UnitID"])
    assert "12\\u0000B" in payload and orjson.loads(payload)["Name"] == "12\u0000B"
    loads = wh.load()
    assert set(loads) == {t.name for t in T.TABLES}  # every table loaded, on both databases
    assert loads["units"].nul_removed == {"Name": 1} and loads["units"].quarantined == 0
    assert wh.rows(f"SELECT name FROM {wh.table('units')} WHERE rm_id = :k", k=unit["UnitID"]) == [("12B",)]
    assert wh.keys("units") == {u["UnitID"] for u in sandbox.store.records("Units")}
    leases = {le["LeaseID"] for le in sandbox.store.records("Leases") if le["UnitID"] == unit["UnitID"]}
    assert leases and leases <= wh.keys("leases")  # the unit's leases load with it
    evaluation = evaluate_org(wh.engine, wh.org(), as_of=SANDBOX_AS_OF, run_id="eval-1", data_dir=tmp_path / "data")
    assert evaluation.result.units  # compliance runs on the loaded tables
    # later runs are not stuck on the row
    assert wh.sync().ok and wh.load()["units"].quarantined == 0


def test_numbers_beyond_a_columns_range_are_quarantined_the_same_on_every_database(wh, sandbox):
    units = sandbox.store.records("Units")
    sandbox.store.upsert("Units", [{**units[1], "SortOrder": 2**40},     # an INTEGER column holds 32 bits
                                   {**units[2], "Bedrooms": 2**63},      # beyond 64 bits once typed
                                   {**units[4], "SortOrder": -(2**63)}])
    assert wh.sync(PORTFOLIO).ok
    report = wh.load(PORTFOLIO_TABLES)["units"]
    reasons = {q["rm_key"]: q["reasons"] for q in wh.quarantine("units")}
    assert set(reasons) == {str(units[i]["UnitID"]) for i in (1, 2, 4)}
    assert reasons[str(units[1]["UnitID"])] == [f"sort_order: transform int failed on SortOrder (got {2**40})"]
    assert reasons[str(units[2]["UnitID"])] == [f"Bedrooms: type Int64 (got {2**63})"]
    assert report.quarantined == 3
    assert wh.keys("units") == {u["UnitID"] for u in units} - {units[i]["UnitID"] for i in (1, 2, 4)}


# ---------------------------------------------------------------------------------------------------- UDF values


def _resident(wh, tenant_id):
    from rm_pipelines.warehouse.read import read_frame

    frame = read_frame(wh.engine, "residents", "acme", decrypt=True).set_index("rm_id")
    return frame.loc[tenant_id, ["certified_annual_income", "certification_effective_date"]].tolist()


def test_a_udf_value_its_attribute_cannot_take_is_quarantined_and_the_attribute_keeps_its_value(wh, sandbox):
    from decimal import Decimal

    udvs = [u for u in sandbox.store.records("UserDefinedValues") if u["ParentType"] == "Tenant" and u["Value"]]
    income = next(u for u in udvs if u["Name"] == "Certified Annual Income")
    effective = next(u for u in udvs if u["Name"] == "Certification Effective Date" and u["ParentID"] == income["ParentID"])
    other = next(u for u in udvs if u["Name"] == "Certified Annual Income" and u["ParentID"] != income["ParentID"])
    assert wh.sync(PORTFOLIO).ok
    wh.load(PORTFOLIO_TABLES)
    before, other_before = _resident(wh, income["ParentID"]), _resident(wh, other["ParentID"])
    assert before[0] == Decimal(income["Value"]) and str(before[1]) == effective["Value"]

    sandbox.store.upsert("UserDefinedValues", [{**income, "Value": "lots"}, {**effective, "Value": "31/31/2026"},
                                               {**other, "Value": "-99,999"}])
    assert wh.sync(PORTFOLIO, udf_refresh="every_run").ok  # UDF values read on every run, not nightly
    loads = wh.load(PORTFOLIO_TABLES)
    assert loads["udf_values"].quarantined == 3
    reasons = {q["rm_key"]: q["reasons"] for q in wh.quarantine("tenant_udfs")}
    assert reasons == {
        str(income["UserDefinedValueID"]): [("UDF 'Certified Annual Income' → certified_annual_income: not a money "
                                             "amount (got ****)")],
        str(effective["UserDefinedValueID"]): [("UDF 'Certification Effective Date' → "
                                                "certification_effective_date: not a date (got '31/31/2026')")],
        str(other["UserDefinedValueID"]): [("UDF 'Certified Annual Income' → certified_annual_income: implausible, "
                                            "below 0 (got ****)")],
    }
    assert all(q["table_name"] == "udf_values" and q["stage"] == "map" for q in wh.quarantine("tenant_udfs"))
    # the certification is still there: the attributes keep their last valid values, nothing audited as changed
    assert _resident(wh, income["ParentID"]) == before and _resident(wh, other["ParentID"]) == other_before
    assert not loads["udf_values"].typed_attribute_updates
    assert not [a for a in ops.audit_rows(wh.engine, "acme", "residents", run_id=f"run-{wh.runs}")]

    # a valid value arrives: it loads, its quarantine closes, the attribute follows (audited)
    sandbox.store.upsert("UserDefinedValues", [{**income, "Value": "41,250.00"}])
    assert wh.sync(PORTFOLIO, udf_refresh="every_run").ok
    assert wh.load(PORTFOLIO_TABLES)["udf_values"].typed_attribute_updates == {"residents": 1}
    assert _resident(wh, income["ParentID"]) == [Decimal("41250.00"), before[1]]
    assert {q["rm_key"] for q in wh.quarantine("tenant_udfs")} == {str(effective["UserDefinedValueID"]),
                                                                    str(other["UserDefinedValueID"])}
    (audit,) = ops.audit_rows(wh.engine, "acme", "residents", run_id=f"run-{wh.runs}")
    assert audit["changed"] == {"certified_annual_income": ["****", "****"]}


# ---------------------------------------------------------------------------------------------------- compliance


def _sync_job(registry_file, url):
    import dagster as dg

    from rm_pipelines.defs.assets import rentmanager_extract
    from rm_pipelines.defs.compliance import compliance_evaluation
    from rm_pipelines.defs.estatecore import estatecore_load
    from rm_pipelines.defs.resources import WarehouseResource
    from rm_pipelines_tests.conftest import SANDBOX_AS_OF

    resources = {"rentmanager": RentManagerResource(orgs_file=str(registry_file)),
                 "warehouse": WarehouseResource(database_url=url)}
    config = {"ops": {"compliance_evaluation": {"config": {"as_of": SANDBOX_AS_OF.isoformat()}}}}

    def run(instance):
        result = dg.materialize([rentmanager_extract, estatecore_load, compliance_evaluation], instance=instance,
                                partition_key="acme", resources=resources, run_config=config, raise_on_error=False)
        checks = {(e.asset_key.path[-1], e.check_name): e for e in result.get_asset_check_evaluations()}
        status = {m.asset_key.path[-1]: m.metadata for m in result.asset_materializations_for_node(
            "compliance_evaluation")}.get("status")
        return result, checks, status

    return run


def test_a_property_whose_row_is_quarantined_is_undetermined_and_the_others_are_evaluated(registry_file, url,
                                                                                            sandbox):
    from collections import Counter

    import dagster as dg

    from rm_pipelines.sandbox.portfolio import PLANTED_FINDINGS
    from rm_pipelines.warehouse import compliance_store

    registry_file.write_text(registry_file.read_text() + "    compliance: {backfill_earliest_limits: true}\n")
    harbor = next(p for p in sandbox.store.records("Properties") if p["ShortName"] == "HARBOR")
    sandbox.store.upsert("Properties", [{**harbor, "Name": None}])  # 1 of 16 rows: over the 1 % threshold
    run = _sync_job(registry_file, url)
    engine = create_warehouse_engine(url)
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions("org", ["acme"])
        result, checks, status = run(instance)
        assert result.success  # the failed quality check no longer stops the run …
        failed = checks[("properties", "quarantine")]
        assert not failed.passed and failed.severity == dg.AssetCheckSeverity.ERROR
        # … compliance is evaluated for every property the quarantine does not touch
        assert status is not None and status["properties_incomplete"].value == 1
        ledger = Counter((f["code"], f["property_code"]) for f in compliance_store.read_findings(engine, "acme"))
        assert ledger == Counter((f["code"], f["property"]) for f in PLANTED_FINDINGS if f["property"] != "HARBOR")
        issues = {i["entity_id"]: i["message"] for i in compliance_store.read_snapshot(engine, "data_issues", "acme")
                  if i["entity"] == "property"}
        harbor_units = sum(1 for u in sandbox.store.records("Units") if u["PropertyID"] == harbor["PropertyID"])
        why = issues.pop(f"acme:1:P{harbor['PropertyID']}")
        assert issues == {}  # no other property is touched
        assert why.startswith("data incomplete, compliance undetermined: Rent Manager rows of this property wait in "
                              "quarantine — ")
        assert "1 properties row (Name: not_nullable)" in why
        assert f"{harbor_units} units rows (PropertyID: parent_present(properties))" in why

        # fixed in Rent Manager: the next run loads the property and what waited for it, and evaluates it
        sandbox.store.upsert("Properties", [harbor])
        result, checks, status = run(instance)
        assert result.success and checks[("properties", "quarantine")].passed
        assert status["properties_incomplete"].value == 0
    ledger = Counter((f["code"], f["property_code"]) for f in compliance_store.read_findings(engine, "acme"))
    assert ledger == Counter((f["code"], f["property"]) for f in PLANTED_FINDINGS)
    assert [q for q in ops.open_quarantine(engine, "acme")] == []
    engine.dispose()
