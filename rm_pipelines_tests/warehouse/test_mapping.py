"""Mappings: the default mapping is data and valid; org overrides (inline or a YAML file) change loaded values;
invalid overrides fail at load naming org, entity and key."""

from __future__ import annotations

import textwrap

import pytest

from rm_pipelines.orgs import load_registry
from rm_pipelines.warehouse import ops
from rm_pipelines.warehouse import tables as T
from rm_pipelines.warehouse import transforms as TR
from rm_pipelines.flows.load import load_all, load_table
from rm_pipelines.quality.models import known_fields
from rm_pipelines.warehouse.mapping import MappingError, default_mapping, mapping_for, validate_org_mappings
from rm_pipelines.warehouse.read import read_frame
from rm_pipelines_tests.warehouse import rawdata
from rm_pipelines_tests.warehouse.conftest import make_org


def test_default_mapping_is_data_and_compiles():
    for spec in T.TABLES:
        m = default_mapping(spec.name)
        for rule in m.rules:
            assert rule.transform in TR.REGISTRY
            assert TR.REGISTRY[rule.transform].output in TR.ACCEPTS[rule.kind], (spec.name, rule)
        assert {u.target for u in m.udf_rules} == {c.name for c in spec.udf_columns}
    validate_org_mappings(make_org(), known_fields)
    units = default_mapping("units")
    rule = units.rule("bedrooms")
    assert (rule.field, rule.transform, rule.required) == ("Bedrooms", "int", False)
    assert units.udf_by_name()["BIN"].target == "bin"
    assert {u.name for u in default_mapping("household_members").udf_rules} >= {"Employment Income", "Student Status"}


OVERRIDES = {
    "properties": {"fields": {"name": {"transform": "upper"}}},
    "residents": {"fields": {"first_name": {"transform": "upper"},
                             "custom.account_number": {"field": "TenantDisplayID", "transform": "text"},
                             "comment": None}},
    "units": {"rename": {"Name": "UnitNumber"}},
    "udfs": {"Unit": {"Tax Credit BIN": "bin"}},
}


def test_mapping_override_changes_the_loaded_values(engine, portfolio):
    for u in portfolio["Units"]:
        u["UnitNumber"] = f"#{u['Name']}"
    for v in portfolio["UserDefinedValues"]:
        if v["Name"] == "BIN":
            v["Name"] = "Tax Credit BIN"
    rawdata.land(engine, "acme", portfolio)
    tables = ["properties", "unit_types", "units", "residents", "udf_values"]
    plain = make_org("acme")
    load_all(engine, org=plain, run_id="default", tables=tables)
    props = read_frame(engine, "properties", "acme")
    assert not props.name.str.isupper().all()
    assert read_frame(engine, "units", "acme").bin.isna().all()  # "Tax Credit BIN" means nothing by default

    custom = make_org("acme", mappings=OVERRIDES)
    reports = load_all(engine, org=custom, run_id="override", tables=tables)  # mapping changed → every row re-mapped
    props = read_frame(engine, "properties", "acme")
    assert props.name.str.isupper().all()
    assert reports["properties"].updated == len(props)
    residents = read_frame(engine, "residents", "acme").set_index("rm_id")
    t0 = portfolio["Tenants"][0]
    assert residents.loc[t0["TenantID"], "first_name"] == t0["FirstName"].upper()
    assert residents.comment.isna().all()
    import orjson

    assert orjson.loads(residents.loc[t0["TenantID"], "custom"]) == {"account_number": str(t0["TenantDisplayID"])}
    units = read_frame(engine, "units", "acme").set_index("rm_id")
    u0 = portfolio["Units"][0]
    assert units.loc[u0["UnitID"], "name"] == f"#{u0['Name']}"
    bins = {v["ParentID"]: v["Value"] for v in portfolio["UserDefinedValues"] if v["Name"] == "Tax Credit BIN" and v["Value"]}
    assert bins and all(units.loc[k, "bin"] == v.upper() for k, v in bins.items())
    audit = ops.audit_rows(engine, "acme", "properties", run_id="override")
    assert audit and all(a["action"] == "update" and "name" in a["changed"] for a in audit)
    # lineage follows the override
    assert mapping_for(custom, "units", known_fields).lineage()["name"] == ["Units.UnitNumber"]
    assert mapping_for(custom, "units", known_fields).lineage()["bin"] == ["UDF Unit 'Tax Credit BIN'"]
    # and the same mapping loaded again changes nothing
    again = load_all(engine, org=custom, run_id="again", tables=tables)
    assert all(r.updated == r.inserted == 0 for r in again.values())


def test_mapping_file_referenced_from_the_registry(tmp_path, monkeypatch, engine, portfolio):
    (tmp_path / "acme-mappings.yaml").write_text(textwrap.dedent("""
        mappings:
          properties:
            fields:
              manager_name: {transform: upper, default: "UNKNOWN MANAGER"}
    """))
    registry = tmp_path / "organizations.yaml"
    registry.write_text(textwrap.dedent("""
        organizations:
          - id: acme
            name: Acme
            rentmanager: {base_url: "https://example.invalid", auth: {mode: partner, partner_token_env: X}}
            locations: [{id: 1, timezone: America/Chicago}]
            mappings: acme-mappings.yaml
    """))
    monkeypatch.setenv("RM_PIPELINES_ORGS", str(registry))
    org = load_registry(registry).get("acme")
    portfolio["Properties"][0]["ManagerName"] = None
    rawdata.land(engine, "acme", portfolio)
    load_table(engine, org=org, table="properties", run_id="r")
    names = read_frame(engine, "properties", "acme").set_index("rm_id").manager_name
    assert names.loc[portfolio["Properties"][0]["PropertyID"]] == "UNKNOWN MANAGER"
    assert names.loc[portfolio["Properties"][1]["PropertyID"]] == portfolio["Properties"][1]["ManagerName"].upper()


@pytest.mark.parametrize(
    ("overrides", "entity", "key", "message"),
    [
        ({"units": {"fields": {"bedrooms": {"field": "BedroomCount"}}}}, "units", "mappings.units.fields.bedrooms.field",
         "unknown Rent Manager field 'BedroomCount'"),
        ({"units": {"fields": {"name": {"transform": "shout"}}}}, "units", "mappings.units.fields.name.transform",
         "unknown transform 'shout'"),
        ({"charges": {"fields": {"amount": {"transform": "cents"}}}}, "charges", "mappings.charges.fields.amount.transform",
         "type clash: transform 'cents' returns int but column 'amount' is money"),
        ({"units": {"fields": {"bedrooms": {"transform": "title_case"}}}}, "units",
         "mappings.units.fields.bedrooms.transform", "type clash"),
        ({"units": {"fields": {"bedrooms": {"default": "many"}}}}, "units", "mappings.units.fields.bedrooms.default",
         "type clash: default 'many' is not a valid int"),
        ({"units": {"fields": {"floor": {"field": "FloorID"}}}}, "units", "mappings.units.fields.floor",
         "unknown column of 'units'"),
        ({"units": {"fields": {"name": None}}}, "units", "mappings.units.fields.name", "required column"),
        ({"residents": {"fields": {"comment": {"field": "FederalTaxID"}}}}, "tenants",
         "mappings.residents.fields.comment.field", "sensitive"),
        ({"household_members": {"fields": {"comment": {"field": "DateOfBirth"}}}}, "contacts",
         "mappings.household_members.fields.comment.field", "would be stored in clear"),
        ({"apartments": {}}, "apartments", "mappings.apartments", "unknown EstateCore table"),
        ({"udfs": {"Unit": {"Tax BIN": "building_code"}}}, "unit_udfs", "mappings.udfs.Unit.Tax BIN.target",
         "unknown typed attribute 'building_code'"),
        ({"udfs": {"Tenant": {"Income": {"target": "certified_annual_income", "transform": "upper"}}}}, "tenant_udfs",
         "mappings.udfs.Tenant.Income.transform", "type clash"),
        ({"udfs": {"Lease": {"X": "bin"}}}, "udfs", "mappings.udfs.Lease", "unknown UDF parent type"),
    ],
)
def test_invalid_mapping_fails_at_load_naming_org_entity_and_key(overrides, entity, key, message):
    org = make_org("acme", mappings=overrides)
    with pytest.raises(MappingError) as err:
        validate_org_mappings(org, known_fields)
    text = str(err.value)
    assert "org 'acme'" in text and f"entity '{entity}'" in text and f"key '{key}'" in text and message in text, text


def test_invalid_mapping_stops_the_load(engine, portfolio):
    rawdata.land(engine, "acme", portfolio, entities=["properties"])
    org = make_org("acme", mappings={"properties": {"fields": {"name": {"transform": "nope"}}}})
    with pytest.raises(MappingError, match="org 'acme', entity 'properties'"):
        load_table(engine, org=org, table="properties", run_id="r")


def test_transforms_are_vectorised_and_exact():
    import pandas as pd

    ctx = TR.Ctx(__import__("zoneinfo").ZoneInfo("America/New_York"))
    s = pd.Series(["(316) 555-0142", "1-316-555-0143 ext 12", "12", None], dtype=object)
    out, failed = TR.REGISTRY["normalize_phone"].fn(s, ctx)
    assert out.tolist() == ["+13165550142", "+13165550143 x12", None, None] and failed.tolist() == [False, False, True, False]
    out, _ = TR.REGISTRY["normalize_university_name"].fn(pd.Series(["UNIV. OF ILLINOIS", "the Wichita St. Univ"]), ctx)
    assert out.tolist() == ["University of Illinois", "Wichita State University"]
    out, _ = TR.REGISTRY["title_case"].fn(pd.Series(["mcdonald o'neil", "HOUSE OF THE RISING SUN"]), ctx)
    assert out.tolist() == ["McDonald O'Neil", "House of the Rising Sun"]
    out, failed = TR.REGISTRY["cents"].fn(pd.Series([12.34, "1,250.10", 0.1 + 0.2, "x"]), ctx)
    assert out.tolist()[:3] == [1234, 125010, 30] and failed.tolist() == [False, False, False, True]
    money, _ = TR.coerce_to_kind(pd.Series([0.1 + 0.2, 41250.0, "85.00"], dtype=object), "money", ctx)
    assert money.tolist() == [30, 4125000, 8500]  # exact cents, no float drift
    out, _ = TR.REGISTRY["local_datetime"].fn(pd.Series(["2026-07-01T08:00:00", "2026-01-15T08:00:00.1234567"]), ctx)
    assert out.tolist() == ["2026-07-01 12:00:00.000000", "2026-01-15 13:00:00.123456"]
    out, _ = TR.REGISTRY["yes_no"].fn(pd.Series(["Yes", "No", "", None]), ctx)
    assert out.tolist()[:2] == [True, False] and out.isna().tolist()[2:] == [True, True]
    out, _ = TR.REGISTRY["ssn_last4"].fn(pd.Series(["***-**-1234", "987654321"]), ctx)
    assert out.tolist() == ["1234", "4321"]
