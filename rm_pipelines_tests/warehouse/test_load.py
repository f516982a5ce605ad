"""rm_raw → EstateCore loads on SQLite and PostgreSQL: completeness, idempotency, incremental updates with audit,
soft deletes and revival, quarantine, UDF typed attributes in both load orders, org isolation. On SQLite every test
runs twice: writing in the loading process, and with every source written by a writer process (the path of large
loads, `warehouse.sqlite_writer`)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from rm_pipelines.warehouse import ops
from rm_pipelines.warehouse import tables as T
from rm_pipelines.flows import load as load_flow
from rm_pipelines.flows.load import load_all, load_table
from rm_pipelines.warehouse.read import read_frame
from rm_pipelines_tests.warehouse import rawdata
from rm_pipelines_tests.warehouse.conftest import make_org, warehouse_engine
from rm_pipelines_tests.warehouse.helpers import execute, live, one, rows, scalar, tn

ENTITY_TABLES = [t.name for t in T.TABLES if t.kind == "entity" and len(t.sources) == 1 and not t.source_filter]


@pytest.fixture(params=["sqlite", "sqlite-writer-process", pytest.param("postgres", marks=pytest.mark.postgres)])
def engine(request, tmp_path, monkeypatch):
    """The warehouse engines of the other tests, plus SQLite whose loads hand every non-empty source's writes to a
    writer process."""
    if request.param == "sqlite-writer-process":
        monkeypatch.setattr(load_flow, "WRITER_PROCESS_ROWS", 1)
    yield from warehouse_engine(request, tmp_path, request.param.split("-")[0])


def _raw_live(engine, entity: str, org_id: str = "acme") -> int:
    return scalar(engine, f"SELECT count(*) FROM rm_raw.{entity} WHERE org_id = :o AND deleted_at IS NULL", o=org_id)


def test_first_load_is_complete_and_a_second_run_changes_nothing(engine, org, portfolio):
    rawdata.land(engine, "acme", portfolio)
    first = load_all(engine, org=org, run_id="run-1")
    for name in ENTITY_TABLES:
        r = first[name]
        raw = _raw_live(engine, T.get(name).sources[0])
        # every raw row is loaded or quarantined — nothing silently dropped
        assert r.inserted + r.quarantined == raw, name
        assert live(engine, name) == r.inserted == r.rows_in_table, name
        assert r.updated == r.soft_deleted == 0
    contacts = portfolio["Contacts"]
    tenant_contacts = sum(1 for c in contacts if c["ParentType"] == "Tenant")
    hm = first["household_members"]
    assert hm.inserted + hm.quarantined == tenant_contacts and hm.skipped == len(contacts) - tenant_contacts
    assert first["udf_values"].inserted == len(portfolio["UserDefinedValues"])
    assert first["buildings"].inserted == len({u["Value"] for u in portfolio["UserDefinedValues"]
                                               if u["Name"] == "BIN" and u["Value"]})
    audits_1 = len(ops.audit_rows(engine, "acme", run_id="run-1"))
    assert audits_1 == sum(r.inserted for r in first.values()) + sum(
        n for r in first.values() for n in r.typed_attribute_updates.values())
    # one `insert` entry per stored row, naming its key (UDF values: `<parent type>/<key>`), at the load's time
    inserts = [(a["table_name"], a["rm_key"], a["location_id"], a["changed"])
               for a in ops.audit_rows(engine, "acme", run_id="run-1") if a["action"] == "insert"]
    assert len(inserts) == len(set(inserts)) == sum(r.inserted for r in first.values())
    assert {(loc, changed) for _, _, loc, changed in inserts} == {(1, None)}
    for name in [*ENTITY_TABLES, "udf_values"]:
        key = "parent_type || '/' || rm_id" if name == "udf_values" else "rm_id"
        stored = {str(k) for (k,) in rows(engine, f"SELECT {key} FROM {tn(engine, name)} WHERE org_id = 'acme'")}
        assert {k for t, k, _, _ in inserts if t == name} == stored, name

    for mode in ("incremental", "full"):
        again = load_all(engine, org=org, run_id=f"run-2-{mode}", mode=mode)
        for name, r in again.items():
            assert (r.inserted, r.updated, r.soft_deleted, r.revived) == (0, 0, 0, 0), (mode, name)
            assert not r.typed_attribute_updates, (mode, name)
        assert ops.audit_rows(engine, "acme", run_id=f"run-2-{mode}") == []
        assert again["units"].unchanged == live(engine, "units")


def test_values_are_typed_exact_and_utc(engine, org, portfolio):
    rawdata.land(engine, "acme", portfolio)
    load_all(engine, org=org, run_id="run-1", tables=["properties", "unit_types", "units", "residents", "charge_types",
                                                     "charges", "leases"])
    charge = portfolio["Charges"][0]
    df = read_frame(engine, "charges", "acme")
    row = df[df.rm_id == charge["ChargeID"]].iloc[0]
    assert row.amount == Decimal(str(charge["Amount"])).quantize(Decimal("0.01"))
    assert isinstance(row.amount, Decimal)
    assert row.transaction_date.isoformat() == charge["TransactionDate"][:10]
    # CreateDate is local (America/New_York) wall-clock time; stored as UTC
    from datetime import datetime
    from zoneinfo import ZoneInfo

    local = datetime.fromisoformat(charge["CreateDate"][:26]).replace(tzinfo=ZoneInfo("America/New_York"))
    assert abs(row.rm_created_at - local) < __import__("datetime").timedelta(microseconds=1)
    assert row.rm_created_at.utcoffset().total_seconds() == 0
    # UDF typed attributes resolved from stored UDF values (units load before udf_values here: none yet)
    assert read_frame(engine, "units", "acme")["bin"].isna().all()


def test_incremental_change_updates_exactly_the_changed_rows_with_audit(engine, org, portfolio):
    rawdata.land(engine, "acme", portfolio)
    load_all(engine, org=org, run_id="run-1")
    units = portfolio["Units"][:3]
    for u in units:
        u["Bedrooms"] = (u["Bedrooms"] or 0) + 1
        u["UpdateDate"] = "2026-11-01T11:00:00"
    charge = portfolio["Charges"][5]
    old_amount = charge["Amount"]
    charge["Amount"] = round(old_amount + 10.25, 2)
    landed = rawdata.land(engine, "acme", portfolio, run_id="land-2")
    assert landed["units"].updated == 3 and landed["charges"].updated == 1

    reports = load_all(engine, org=org, run_id="run-2")
    assert reports["units"].updated == 3 and reports["units"].inserted == 0
    assert reports["charges"].updated == 1
    for name, r in reports.items():
        if name not in ("units", "charges"):
            assert r.updated == r.inserted == 0, name
    audit = ops.audit_rows(engine, "acme", run_id="run-2")
    by_table = {}
    for a in audit:
        by_table.setdefault(a["table_name"], []).append(a)
    assert set(by_table) == {"units", "charges"}
    assert sorted(a["rm_key"] for a in by_table["units"]) == sorted(str(u["UnitID"]) for u in units)
    for a in by_table["units"]:
        assert a["action"] == "update" and "bedrooms" in a["changed"]
        old, new = a["changed"]["bedrooms"]
        assert new == old + 1
    (c,) = by_table["charges"]
    assert c["changed"]["amount"] == [f"{old_amount:.2f}", f"{charge['Amount']:.2f}"]
    assert one(engine, "units", units[0]["UnitID"], "bedrooms") == units[0]["Bedrooms"]


def test_deleted_record_is_soft_deleted_and_revived_when_it_returns(engine, org, portfolio):
    rawdata.land(engine, "acme", portfolio)
    load_all(engine, org=org, run_id="run-1")
    lease = portfolio["Leases"][0]
    charge = portfolio["Charges"][0]
    portfolio["Leases"].remove(lease)
    portfolio["Charges"].remove(charge)
    rawdata.land(engine, "acme", portfolio, run_id="land-2")  # full sync: keys that vanished are flagged
    reports = load_all(engine, org=org, run_id="run-2")
    assert reports["leases"].soft_deleted == 1 and reports["charges"].soft_deleted == 1
    assert one(engine, "leases", lease["LeaseID"], "deleted_at") is not None
    assert live(engine, "leases") == len(portfolio["Leases"])
    audit = ops.audit_rows(engine, "acme", run_id="run-2")
    assert sorted((a["table_name"], a["rm_key"], a["action"]) for a in audit) == sorted(
        [("leases", str(lease["LeaseID"]), "delete"), ("charges", str(charge["ChargeID"]), "delete")])
    # a second load does not delete again
    assert load_table(engine, org=org, table="leases", run_id="run-3").soft_deleted == 0

    portfolio["Leases"].insert(0, lease)
    portfolio["Charges"].insert(0, charge)
    rawdata.land(engine, "acme", portfolio, run_id="land-3")
    reports = load_all(engine, org=org, run_id="run-4")
    assert reports["leases"].revived == 1 and reports["charges"].revived == 1
    assert one(engine, "leases", lease["LeaseID"], "deleted_at") is None
    actions = {(a["table_name"], a["action"]) for a in ops.audit_rows(engine, "acme", run_id="run-4")}
    assert actions == {("leases", "revive"), ("charges", "revive")}


def test_full_load_soft_deletes_rows_whose_raw_row_vanished(engine, org, portfolio):
    rawdata.land(engine, "acme", portfolio)
    load_table(engine, org=org, table="vendors", run_id="run-1")
    vendor = portfolio["Vendors"][-1]
    execute(engine, "DELETE FROM rm_raw.vendors WHERE org_id = 'acme' AND rm_id = :k", k=vendor["VendorID"])
    assert load_table(engine, org=org, table="vendors", run_id="run-2", mode="incremental").soft_deleted == 0
    assert load_table(engine, org=org, table="vendors", run_id="run-3", mode="full").soft_deleted == 1


def test_bad_rows_are_quarantined_with_every_reason_and_the_rest_loads(engine, org, portfolio):
    bad = portfolio["Units"][:4]
    bad[0]["Bedrooms"] = -2                      # range
    bad[1]["PropertyID"] = 999_999               # parent presence
    bad[2]["Name"] = None                        # nullability
    bad[2]["Bathrooms"] = "two"                  # type — same row: both reasons
    bad[3]["UnitID"] = bad[3]["UnitID"]          # stays good
    rawdata.land(engine, "acme", portfolio)
    load_table(engine, org=org, table="properties", run_id="run-1")
    load_table(engine, org=org, table="unit_types", run_id="run-1")
    report = load_table(engine, org=org, table="units", run_id="run-1", quarantine_threshold=0.5)
    assert report.quarantined == 3
    assert report.inserted == len(portfolio["Units"]) - 3 == live(engine, "units")
    assert report.check_passed is False and report.check_severity == "WARN"
    q = {row["rm_key"]: row for row in ops.open_quarantine(engine, "acme", "units")}
    assert set(q) == {str(u["UnitID"]) for u in bad[:3]}
    assert any("Bedrooms" in r and "greater_than_or_equal_to" in r for r in q[str(bad[0]["UnitID"])]["reasons"])
    assert any("parent_present(properties)" in r for r in q[str(bad[1]["UnitID"])]["reasons"])
    reasons2 = q[str(bad[2]["UnitID"])]["reasons"]
    assert any(r.startswith("Name: not_nullable") for r in reasons2)
    assert any(r.startswith("Bathrooms: type float64") for r in reasons2)
    assert q[str(bad[0]["UnitID"])]["raw"]["Bedrooms"] == -2  # the raw row as received
    assert q[str(bad[0]["UnitID"])]["stage"] == "validate"
    # default threshold 1 %: 3 of ~80 units is an ERROR (blocking)
    again = load_table(engine, org=org, table="units", run_id="run-2")
    assert again.check_severity == "ERROR" and again.quarantined_share > 0.01
    assert len(ops.open_quarantine(engine, "acme", "units")) == 3  # still failing, not duplicated

    # fixing the data in Rent Manager resolves the quarantine entry on the next incremental load
    bad[0]["Bedrooms"] = 1
    rawdata.land(engine, "acme", portfolio, run_id="land-2")
    fixed = load_table(engine, org=org, table="units", run_id="run-3")
    assert fixed.inserted == 1
    assert {row["rm_key"] for row in ops.open_quarantine(engine, "acme", "units")} == {
        str(bad[1]["UnitID"]), str(bad[2]["UnitID"])}


def test_rows_waiting_for_a_parent_load_once_the_parent_arrives(engine, org, portfolio):
    rawdata.land(engine, "acme", portfolio)
    # units before properties: every unit waits in quarantine for its property
    early = load_table(engine, org=org, table="units", run_id="run-1", quarantine_threshold=1.0)
    assert early.inserted == 0 and early.quarantined == len(portfolio["Units"])
    load_table(engine, org=org, table="properties", run_id="run-2")
    load_table(engine, org=org, table="unit_types", run_id="run-2")
    later = load_table(engine, org=org, table="units", run_id="run-3")  # incremental: retries the quarantine
    assert later.inserted == len(portfolio["Units"]) and later.quarantined == 0
    assert ops.open_quarantine(engine, "acme", "units") == []
    assert later.quality_score == 1.0


def test_udf_typed_attributes_in_either_load_order(engine, org, portfolio):
    rawdata.land(engine, "acme", portfolio)
    parents = ["properties", "unit_types", "units", "residents", "household_members"]
    # order A: UDF values first (parents missing), then parents read the stored values
    load_table(engine, org=org, table="udf_values", run_id="a-1")
    load_all(engine, org=org, run_id="a-2", tables=parents)
    units_a = read_frame(engine, "units", "acme").set_index("rm_id")[["bin", "ami_designation", "utility_allowance",
                                                                      "unit_programs"]]
    props_a = read_frame(engine, "properties", "acme").set_index("rm_id")[["lihtc_election", "placed_in_service"]]
    assert units_a["bin"].notna().any() and units_a["ami_designation"].notna().any()
    residents_a = read_frame(engine, "residents", "acme", decrypt=True).set_index("rm_id")
    move_in = next(u for u in portfolio["UserDefinedValues"] if u["Name"] == "Move-In Household Size" and u["Value"])
    assert residents_a.loc[move_in["ParentID"], "move_in_household_size"] == int(move_in["Value"])
    income = next(u for u in portfolio["UserDefinedValues"] if u["Name"] == "Move-In Certified Income" and u["Value"])
    assert residents_a.loc[income["ParentID"], "move_in_certified_income"] == Decimal(income["Value"]).quantize(
        Decimal("0.01"))

    # order B, in another org: parents first, then UDF values update them
    org_b = make_org("beta")
    rawdata.land(engine, "beta", portfolio)
    load_all(engine, org=org_b, run_id="b-1", tables=parents)
    assert read_frame(engine, "units", "beta")["bin"].isna().all()
    rep = load_table(engine, org=org_b, table="udf_values", run_id="b-2")
    assert rep.typed_attribute_updates["units"] > 0
    units_b = read_frame(engine, "units", "beta").set_index("rm_id")[units_a.columns]
    props_b = read_frame(engine, "properties", "beta").set_index("rm_id")[props_a.columns]
    assert units_a.fillna("-").equals(units_b.fillna("-"))
    assert props_a.fillna("-").equals(props_b.fillna("-"))

    # expected values straight from the portfolio
    bins = {u["ParentID"]: u["Value"] for u in portfolio["UserDefinedValues"]
            if u["ParentType"] == "Unit" and u["Name"] == "BIN" and u["Value"]}
    uid, bin_ = next(iter(bins.items()))
    assert units_a.loc[uid, "bin"] == bin_.upper()
    ua = next(u for u in portfolio["UserDefinedValues"] if u["Name"] == "Utility Allowance" and u["Value"])
    assert units_a.loc[ua["ParentID"], "utility_allowance"] == Decimal(ua["Value"]).quantize(Decimal("0.01"))

    # a changed UDF value updates the typed attribute, with an audit entry on the parent table
    udv = next(u for u in portfolio["UserDefinedValues"] if u["Name"] == "BIN" and u["ParentID"] == uid)
    udv["Value"] = "ZZ-99-00001"
    rawdata.land(engine, "beta", portfolio, run_id="land-2")
    rep = load_table(engine, org=org_b, table="udf_values", run_id="b-3")
    assert rep.updated == 1 and rep.typed_attribute_updates == {"units": 1}
    assert one(engine, "units", uid, "bin", "beta") == "ZZ-99-00001"
    audit = [a for a in ops.audit_rows(engine, "beta", run_id="b-3") if a["table_name"] == "units"]
    assert audit[0]["changed"]["bin"] == [bin_.upper(), "ZZ-99-00001"]
    # and the derived buildings follow
    load_table(engine, org=org_b, table="buildings", run_id="b-4")
    assert scalar(engine, f"SELECT count(*) FROM {tn(engine, 'buildings')} WHERE org_id='beta' AND bin='ZZ-99-00001' "
                          f"AND deleted_at IS NULL") == 1


def test_orgs_with_colliding_rent_manager_ids_never_see_each_other(engine, portfolio):
    acme, beta = make_org("acme"), make_org("beta")
    rawdata.land(engine, "acme", portfolio)
    other = __import__("copy").deepcopy(portfolio)
    for t in other["Tenants"]:
        t["Name"], t["LastName"] = "Beta, " + t["FirstName"], "Beta"
    other["Leases"].pop(0)
    rawdata.land(engine, "beta", other)
    tables = ["properties", "unit_types", "units", "residents", "leases"]
    load_all(engine, org=acme, run_id="a", tables=tables)
    load_all(engine, org=beta, run_id="b", tables=tables)
    a = read_frame(engine, "residents", "acme")
    b = read_frame(engine, "residents", "beta")
    assert set(a.rm_id) == set(b.rm_id)  # same Rent Manager IDs …
    assert not a.last_name.eq("Beta").any() and b.last_name.eq("Beta").all()  # … different rows
    assert live(engine, "leases", "acme") == live(engine, "leases", "beta") + 1
    # a change and a delete in one org leave the other untouched
    other["Tenants"][0]["Name"] = "Changed, Only-Beta"
    rawdata.land(engine, "beta", other, run_id="land-b2")
    load_all(engine, org=beta, run_id="b2", tables=tables)
    assert one(engine, "residents", other["Tenants"][0]["TenantID"], "name", "acme") != "Changed, Only-Beta"
    assert ops.audit_rows(engine, "acme", run_id="b2") == []
    # foreign keys include the org: a beta lease can only reference beta units
    fks = rows(engine, f"SELECT l.org_id, u.org_id FROM {tn(engine, 'leases')} l JOIN {tn(engine, 'units')} u "
                       f"ON u.org_id = l.org_id AND u.location_id = l.location_id AND u.rm_id = l.unit_rm_id")
    assert all(x == y for x, y in fks) and len(fks) == live(engine, "leases", "acme") + live(engine, "leases", "beta")


def test_report_carries_preview_schema_lineage_and_score(engine, org, portfolio):
    rawdata.land(engine, "acme", portfolio)
    reports = load_all(engine, org=org, run_id="run-1", tables=["properties", "residents", "household_members"])
    hm = reports["household_members"]
    assert hm.preview and all(v in (None, "****") for row in hm.preview for k, v in row.items()
                              if k in ("date_of_birth", "ssn_last4", "annual_income"))
    assert "| rm_id |" in hm.preview_markdown or "| location_id | rm_id |" in hm.preview_markdown
    cols = {c["name"]: c for c in hm.column_schema}
    assert cols["date_of_birth"]["sensitive"] and cols["date_of_birth"]["type"].startswith("ENCRYPTED")
    assert hm.lineage["date_of_birth"] == ["Contacts.DateOfBirth"]
    assert hm.lineage["employment_income"] == ["UDF Contact 'Employment Income'"]
    from rm_pipelines.quality.models import known_fields
    from rm_pipelines.warehouse.mapping import mapping_for

    deps = mapping_for(org, "household_members", known_fields).lineage_deps()
    assert deps["employment_income"] == [(["rentmanager", "contact_udfs"], "UserDefinedValues[Name='Employment Income'].Value")]
    assert deps["date_of_birth"] == [(["rentmanager", "contacts"], "DateOfBirth")]
    assert mapping_for(org, "payment_allocations", known_fields).lineage_deps()["amount"] == [(["rentmanager", "payment_allocations"], "Amount")]
    assert mapping_for(org, "payment_allocations", known_fields).lineage()["amount"] == ["Payments.Allocations[].Amount"]
    md = hm.as_metadata()
    assert md["dagster/row_count"] == hm.rows_in_table and 0.99 <= md["quality_score"] <= 1.0
    scores = ops.latest_dq_scores(engine, "acme")
    assert scores[("household_members", "load")] == pytest.approx(hm.quality_score)


@pytest.mark.postgres
def test_postgres_bulk_load_validates_foreign_keys_once_and_restores_them(pg_url, org, portfolio, monkeypatch):
    import rm_pipelines.flows.load as load_mod
    from rm_pipelines.warehouse.db import create_warehouse_engine
    from rm_pipelines.warehouse.raw import ensure_schema

    engine = create_warehouse_engine(pg_url)
    ensure_schema(engine)
    monkeypatch.setattr(load_mod, "BULK_FK_ROWS", 10)
    rawdata.land(engine, "acme", portfolio)

    def fks(table):
        return rows(engine, "SELECT conname, convalidated FROM pg_constraint WHERE conrelid = CAST(:t AS regclass) "
                            "AND contype = 'f' ORDER BY conname", t=f"estatecore.{table}")

    expected = fks("leases")
    assert len(expected) == 3 and all(v for _, v in expected)
    load_all(engine, org=org, run_id="r1", tables=["properties", "unit_types", "units", "residents"])
    seen = {}
    original = load_mod._Loader._load_source

    def spy(self, source):  # noqa: ANN001, ANN202
        seen[self.spec.name] = fks(self.spec.name)  # during the bulk load the constraints are gone
        return original(self, source)

    monkeypatch.setattr(load_mod._Loader, "_load_source", spy)
    report = load_table(engine, org=org, table="leases", run_id="r2")
    assert seen["leases"] == [] and report.inserted == len(portfolio["Leases"])
    assert fks("leases") == expected  # re-created and validated

    # an interrupted bulk load leaves no table without its foreign keys
    def boom(self, source):  # noqa: ANN001, ANN202
        raise RuntimeError("killed mid-load")

    monkeypatch.setattr(load_mod._Loader, "_load_source", boom)
    with pytest.raises(load_mod.LoadError, match="killed mid-load"):
        load_table(engine, org=org, table="lease_terms", run_id="r3")
    assert len(fks("lease_terms")) == 1 and all(v for _, v in fks("lease_terms"))
    engine.dispose()
