"""Properties whose rows wait in quarantine: placed by the rows as received, evaluated as far as their data goes,
never compliant, their findings never corrected by the data they lack."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from rm_pipelines.compliance.inputs import property_id
from rm_pipelines.compliance.quarantine import incomplete_properties

from .test_portfolio_e2e import AS_OF, ORG, evaluate


def _q(entity: str, key: int, raw: dict, reason: str = "X: failed", table: str | None = None) -> dict:
    return {"org_id": "o", "location_id": 1, "entity": entity, "rm_key": str(key), "raw": raw,
            "reasons": [f"{reason} (got 5)"], "table_name": table or entity}


TABLES = {
    "units": [{"org_id": "o", "location_id": 1, "rm_id": 10, "property_rm_id": 1}],
    "residents": [{"org_id": "o", "location_id": 1, "rm_id": 20, "property_rm_id": None}],
    "household_members": [{"org_id": "o", "location_id": 1, "rm_id": 30, "resident_rm_id": 20}],
    "leases": [{"org_id": "o", "location_id": 1, "rm_id": 40, "resident_rm_id": 20, "unit_rm_id": 10,
                "property_rm_id": None}],
    "recurring_charges": [{"org_id": "o", "location_id": 1, "rm_id": 50, "charge_type_rm_id": 7,
                           "property_rm_id": None, "unit_rm_id": 10, "resident_rm_id": None}],
}


def test_each_quarantined_row_is_placed_on_its_property():
    quarantined = [
        _q("properties", 2, {"PropertyID": 2, "Name": None}, "Name: not_nullable"),
        _q("units", 11, {"UnitID": 11, "PropertyID": 2}, "PropertyID: parent_present(properties)"),
        _q("leases", 41, {"LeaseID": 41, "UnitID": 11, "TenantID": 20}),  # its unit is quarantined too
        _q("contact_udfs", 60, {"ParentID": 30, "ParentType": "Contact"}, "UDF 'Employment Income' → x",
           "udf_values"),                                                # member → resident → lease → unit → 1
        _q("charge_types", 7, {"ChargeTypeID": 7}),                      # used by a unit of property 1
        _q("charge_types", 8, {"ChargeTypeID": 8}),                      # used by nobody: no property
        _q("leases", 42, {"LeaseID": 42, "UnitID": 999}),                # a unit nobody knows
        _q("units", 10, {"UnitID": 10, "PropertyID": 2**63}),            # moved to a property no key holds
    ]
    found, unplaced = incomplete_properties(quarantined, TABLES, property_id)
    assert set(found) == {"o:1:P1", "o:1:P2", f"o:1:P{2**63}"}  # a moved unit touches where it was stored too
    assert found["o:1:P2"].startswith("data incomplete, compliance undetermined: Rent Manager rows of this property "
                                      "wait in quarantine — 1 leases row (X: failed); 1 properties row (Name: "
                                      "not_nullable); 1 units row (PropertyID: parent_present(properties))")
    assert "1 charge_types row" in found["o:1:P1"] and "1 udf_values row (UDF 'Employment Income' → x)" in found["o:1:P1"]
    assert "1 units row (X: failed)" in found["o:1:P1"]
    assert "(got" not in found["o:1:P1"]  # values never travel into the issue
    assert [q["rm_key"] for q in unplaced] == ["8", "42"]


def test_an_incomplete_property_is_never_compliant_and_keeps_its_open_findings():
    first = evaluate()
    assert {f.property_id for f in first.findings if f.status == "open"} >= {"A", "B", "C"}
    later = date(2027, 10, 1)

    def without_property_b_units(props, units, households, rents):  # B's units did not load
        gone = {u.unit_id for u in units if u.property_id == "B"}
        return props, [u for u in units if u.unit_id not in gone], \
            [h for h in households if h.unit_id not in gone], [r for r in rents if r.unit_id not in gone]

    plain = evaluate(as_of=later, previous=first.findings, mutate=without_property_b_units)
    b_plain = [f for f in plain.findings if f.property_id == "B"]
    assert b_plain and all(f.status == "corrected" for f in b_plain)  # what missing rows would do unchecked

    why = "data incomplete: 3 units rows wait in quarantine"
    marked = _evaluate_incomplete(later, first.findings, without_property_b_units, {"B": why, "GONE": "own row"})
    b_marked = [f for f in marked.findings if f.property_id == "B"]
    assert [f.status for f in b_marked] == ["open"] * len(b_plain)
    assert [replace(f, status="open") for f in b_marked] == [f for f in first.findings if f.property_id == "B"]
    issues = {(i.entity, i.entity_id): i.message for i in marked.data_issues}
    assert issues[("property", "B")] == why and issues[("property", "GONE")] == "own row"
    overall = {o.program: o for o in marked.overall if o.org_id == ORG}
    plain_all = next(o for o in plain.overall if o.org_id == ORG and o.program == "all")
    assert overall["all"].status == "not compliant"
    assert overall["all"].undetermined_properties > plain_all.undetermined_properties  # B, and GONE's own row
    # findings elsewhere still correct as usual
    assert {f.key for f in marked.findings if f.property_id != "B"} == {f.key for f in plain.findings
                                                                          if f.property_id != "B"}


def test_no_open_finding_but_an_incomplete_property_answers_undetermined():
    from rm_pipelines.compliance.limits_store import bundled_library
    from rm_pipelines.compliance.model import Building, ComplianceSettings, ProgramElection, Property
    from rm_pipelines.compliance.portfolio import evaluate_portfolio

    from .factories import BOSTON, adult, cert, household, lihtc, rent, unit
    as_of, month = date(2026, 11, 16), date(2026, 11, 1)  # inside the bundled FY2026 limits' year
    d = Property(ORG, "D", "Clean Court", BOSTON, programs=(ProgramElection("lihtc", set_aside="40-60"),),
                 buildings=(Building("D1", "D", bin="MA-26-00901", placed_in_service=date(2026, 4, 1)),))
    u = unit("D1-101", "D", "D1", 1, lihtc(60), ua=80)
    h = household("HD1", u, date(2026, 10, 1), cert("HD1-MI", "move-in", date(2026, 10, 1), adult("HD1-1", 40000)))

    def run(incomplete=None):
        return evaluate_portfolio([d], [u], [h], as_of, bundled_library(), ComplianceSettings(),
                                  rent_facts=[rent(u, month, 1500)], incomplete=incomplete)

    assert all(o.status == "compliant" for o in run().overall)
    # another property's own row is in quarantine: nothing found, and still no "in compliance"
    all_row = next(o for o in run({"o:1:P77": "its own row waits in quarantine"}).overall if o.program == "all")
    assert (all_row.status, all_row.compliant, all_row.open_findings, all_row.undetermined_properties) == \
        ("undetermined", False, 0, 1)
    assert all_row.answer.startswith("UNDETERMINED: no open findings, but missing data leaves 1 property")
    marked = run({"D": "a unit row waits"})
    lihtc_row = next(o for o in marked.overall if o.program == "lihtc")
    assert (lihtc_row.status, lihtc_row.undetermined_properties, lihtc_row.undetermined_units) == ("undetermined", 1, 1)
    assert [(i.entity, i.entity_id, i.message, i.property_name) for i in marked.data_issues] == [
        ("property", "D", "a unit row waits", "Clean Court")]


def _evaluate_incomplete(as_of, previous, mutate, incomplete):
    from rm_pipelines.compliance.limits_store import bundled_library
    from rm_pipelines.compliance.model import ComplianceSettings
    from rm_pipelines.compliance.portfolio import evaluate_portfolio

    from .test_portfolio_e2e import build_portfolio

    props, units, households, rents = mutate(*build_portfolio())
    return evaluate_portfolio(props, units, households, as_of, bundled_library(), ComplianceSettings(),
                              rent_facts=rents, previous_findings=previous, incomplete=incomplete)
