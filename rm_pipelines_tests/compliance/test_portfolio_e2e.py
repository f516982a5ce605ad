"""End to end: a small synthetic portfolio with exactly the sandbox's planted problems plus clean units.

Limits: the bundled FY2026 Boston MTSP table (effective 2026-05-01; compliance-rules.md §15). Every date is
on or after 2026-05-01 so that every certification has limits. Boston 60 % limits: 1p 72,000, 2p 82,320,
3p 92,580. Max gross rents at 60 %: studio 1,800, 1BR 1,929, 2BR 2,314.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest

from rm_pipelines.compliance.limits_store import bundled_library
from rm_pipelines.compliance.model import (
    Building,
    ComplianceSettings,
    ProgramElection,
    Property,
)
from rm_pipelines.compliance.portfolio import evaluate_portfolio

from .factories import BOSTON, adult, cert, household, lihtc, rent, unit

AS_OF = date(2027, 9, 15)
MONTH = date(2027, 9, 1)
ORG = "org-1"


def build_portfolio():
    props, units, households, rents = [], [], [], []

    # --- Property A: 40-60, two buildings. Building A1 carries four planted unit problems. -------------
    a = Property(ORG, "A", "Harbor Point", BOSTON,
                 programs=(ProgramElection("lihtc", set_aside="40-60"),),
                 buildings=(Building("A1", "A", bin="MA-26-00101", placed_in_service=date(2026, 4, 1)),
                            Building("A2", "A", bin="MA-26-00102", placed_in_service=date(2026, 4, 1))))
    props.append(a)

    # A1-101 (2BR): qualified at move-in; over 140 % at the 2027 recertification (130,000 > 115,248).
    u101 = unit("A1-101", "A", "A1", 2, lihtc(60), ua=100)
    households.append(household("HA1", u101, date(2026, 6, 1),
        cert("HA1-MI", "move-in", date(2026, 6, 1), adult("HA1-1", 35000), adult("HA1-2", 25000, "S")),
        cert("HA1-AR", "annual", date(2027, 6, 1), adult("HA1-1", 80000), adult("HA1-2", 50000, "S"))))
    rents.append(rent(u101, MONTH, 1800))
    # A1-102 (1BR, market unit = comparable or smaller): rented after the hold to a household over 60 %.
    u102 = unit("A1-102", "A", "A1", 1)
    households.append(household("HA2", u102, date(2027, 7, 1),
        cert("HA2-MI", "move-in", date(2027, 7, 1), adult("HA2-1", 95000))))
    # A1-103, A1-104: clean.
    u103 = unit("A1-103", "A", "A1", 1, lihtc(60), ua=80)
    households.append(household("HA3", u103, date(2026, 10, 1),
        cert("HA3-MI", "move-in", date(2026, 10, 1), adult("HA3-1", "3500", frequency="monthly"))))
    rents.append(rent(u103, MONTH, 1500))
    u104 = unit("A1-104", "A", "A1", 2, lihtc(60), ua=100)
    households.append(household("HA4", u104, date(2026, 10, 1),
        cert("HA4-MI", "move-in", date(2026, 10, 1), adult("HA4-1", 55000), adult("HA4-2", 0, "S"),
             adult("HA4-3", 0, "C", born=date(2015, 5, 5)))))
    rents.append(rent(u104, MONTH, 2100, fees=14))  # 2100 + 100 + 14 = 2214 ≤ 2314
    # A1-105 (studio): gross rent $1 over once the UA is added: 1,725 + 76 = 1,801 > 1,800.
    u105 = unit("A1-105", "A", "A1", 0, lihtc(60), ua=76)
    households.append(household("HA5", u105, date(2026, 10, 1),
        cert("HA5-MI", "move-in", date(2026, 10, 1), adult("HA5-1", 30000))))
    rents.append(rent(u105, MONTH, 1725, assistance_payment=Decimal(400)))  # subsidy never counts
    # A1-106: annual recertification due 2027-06-01, none done: overdue.
    u106 = unit("A1-106", "A", "A1", 2, lihtc(60), ua=100)
    households.append(household("HA6", u106, date(2026, 6, 1),
        cert("HA6-MI", "move-in", date(2026, 6, 1), adult("HA6-1", 50000), adult("HA6-2", 0, "S"))))
    rents.append(rent(u106, MONTH, 2000))
    # A1-107: all full-time students, no exception.
    u107 = unit("A1-107", "A", "A1", 1, lihtc(60), ua=80)
    households.append(household("HA7", u107, date(2026, 10, 1),
        cert("HA7-MI", "move-in", date(2026, 10, 1), adult("HA7-1", 12000, student=True),
             adult("HA7-2", 8000, "A", student=True))))
    rents.append(rent(u107, MONTH, 1400))
    units += [u101, u102, u103, u104, u105, u106, u107]
    # Building A2: three clean units (one with a student household that has an exception).
    for i, (br, income, student_exc) in enumerate([(1, 40000, None), (2, 60000, None), (1, 15000, "tanf")], start=1):
        u = unit(f"A2-20{i}", "A", "A2", br, lihtc(60), ua=90)
        members = [adult(f"HA2{i}-1", income, student=student_exc is not None, exception=student_exc)]
        households.append(household(f"HA2{i}", u, date(2026, 11, 1), cert(f"HA2{i}-MI", "move-in", date(2026, 11, 1), *members)))
        rents.append(rent(u, MONTH, 1200))
        units.append(u)

    # --- Property B: 40-60, 10 units, only 3 qualifying low-income units: one short of ceil(40 %) = 4. --
    b = Property(ORG, "B", "Elm Court", BOSTON, programs=(ProgramElection("lihtc", set_aside="40-60"),),
                 buildings=(Building("B1", "B", bin="MA-26-00201", placed_in_service=date(2026, 5, 1)),))
    props.append(b)
    for i in range(1, 11):
        is_li = i <= 3
        u = unit(f"B1-{i:02d}", "B", "B1", 1, *((lihtc(60),) if is_li else ()), ua=80)
        units.append(u)
        if is_li:
            households.append(household(f"HB{i}", u, date(2026, 10, 1),
                cert(f"HB{i}-MI", "move-in", date(2026, 10, 1), adult(f"HB{i}-1", 45000))))
            households.append(household(f"HB{i}-old", u, date(2026, 5, 10), move_out=date(2026, 9, 30)))
            rents.append(rent(u, MONTH, 1500))
        elif i <= 8:
            households.append(household(f"HB{i}", u, date(2026, 10, 1)))  # market tenants, no certification

    # --- Property C: income averaging; six 80 % and four 40 % designations average 64 %. --------------
    c = Property(ORG, "C", "Maple Commons", BOSTON, programs=(ProgramElection("lihtc", set_aside="income-averaging"),),
                 buildings=(Building("C1", "C", bin="MA-26-00301", placed_in_service=date(2026, 5, 1)),))
    props.append(c)
    for i in range(1, 11):
        designation = 80 if i <= 6 else 40
        u = unit(f"C1-{i:02d}", "C", "C1", 1, lihtc(designation), ua=80)
        units.append(u)
        households.append(household(f"HC{i}", u, date(2026, 10, 1),
            cert(f"HC{i}-MI", "move-in", date(2026, 10, 1), adult(f"HC{i}-1", 45000))))
        rents.append(rent(u, MONTH, 1100))
    return props, units, households, rents


def evaluate(as_of=AS_OF, previous=(), mutate=None):
    props, units, households, rents = build_portfolio()
    if mutate:
        props, units, households, rents = mutate(props, units, households, rents)
    return evaluate_portfolio(props, units, households, as_of, bundled_library(), ComplianceSettings(),
                              rent_facts=rents, previous_findings=previous)


EXPECTED = {
    ("NEXT_AVAILABLE_UNIT_VIOLATION", "11i", "A", "A1-101"),
    ("GROSS_RENT_OVER_LIMIT", "11g", "A", "A1-105"),
    ("RECERT_OVERDUE", "11b", "A", "A1-106"),
    ("FULL_TIME_STUDENT_HOUSEHOLD", "11l", "A", "A1-107"),
    ("SET_ASIDE_NOT_MET", "11f", "B", None),
    ("IA_AVERAGE_ABOVE_60", "11f", "C", None),
}


def test_planted_problems_are_found_exactly():
    result = evaluate()
    found = {(f.code, f.form_8823_line, f.property_id, f.unit_id) for f in result.findings}
    assert found == EXPECTED
    assert len(result.findings) == len(EXPECTED)
    assert result.data_issues == []
    for f in result.findings:
        assert f.status == "open"
        assert f.detected_on == AS_OF
        assert f.correction_deadline == date(2027, 12, 14)  # 90 days
        assert f.corrected_on is None


def test_finding_details():
    result = evaluate()
    by_code = {f.code: f for f in result.findings}
    naur = by_code["NEXT_AVAILABLE_UNIT_VIOLATION"]
    assert naur.household_id == "HA1" and naur.occurred_on == date(2027, 7, 1) and "A1-102" in naur.detail
    assert naur.bin == "MA-26-00101" and naur.building_id == "A1"
    assert "1801" in by_code["GROSS_RENT_OVER_LIMIT"].detail and "1800" in by_code["GROSS_RENT_OVER_LIMIT"].detail
    assert by_code["RECERT_OVERDUE"].occurred_on == date(2027, 6, 2)
    assert "3 of 10" in by_code["SET_ASIDE_NOT_MET"].detail and "4 required" in by_code["SET_ASIDE_NOT_MET"].detail
    assert "64.00" in by_code["IA_AVERAGE_ABOVE_60"].detail


def test_unit_status_rows():
    result = evaluate()
    units = {u.unit_id: u for u in result.units}
    u105 = units["A1-105"]
    assert (u105.max_gross_rent, u105.gross_rent, u105.rent_compliant) == (Decimal(1800), Decimal(1801), False)
    assert u105.subsidy == Decimal(400) and u105.low_income_unit is False
    u101 = units["A1-101"]
    assert u101.over_income is True and u101.over_income_threshold == Decimal("115248")
    assert u101.low_income_unit is False  # lost under the next available unit rule
    assert u101.max_gross_rent == Decimal(2314) and u101.household_size == 2
    assert units["A1-104"].gross_rent == Decimal(2214) and units["A1-104"].rent_compliant is True
    assert units["A1-104"].pct_ami == Decimal("35.65")  # 55,000 / 77,150 × 50, rounded up
    assert units["A1-107"].student_status == "all-students-no-exception"
    assert units["A2-203"].student_status == "exception:tanf" and units["A2-203"].low_income_unit is True
    assert units["A1-106"].low_income_unit is True  # an overdue recertification does not remove status
    assert units["A1-102"].programs == "" and units["A1-102"].max_gross_rent is None
    assert units["C1-01"].max_gross_rent == Decimal(2572) and units["C1-07"].max_gross_rent == Decimal(1286)
    assert units["B1-09"].occupied is False and units["B1-01"].low_income_unit is True


def test_program_and_household_rows():
    result = evaluate()
    prop_rows = {(p.property_id, p.building_id): p for p in result.programs}
    a = prop_rows[("A", None)]
    assert (a.residential_units, a.qualifying_units, a.required_units, a.test_met) == (10, 6, 4, True)
    assert prop_rows[("B", None)].test_met is False and prop_rows[("B", None)].qualifying_units == 3
    c = prop_rows[("C", None)]
    assert c.ia_average == Decimal("64.00") and c.ia_qualified_group_units == 8
    assert c.ia_qualified_group_average == Decimal("60.00") and c.test_met is True and c.compliant is False
    a1 = prop_rows[("A", "A1")]
    assert (a1.unit_fraction, a1.qualifying_units, a1.residential_units) == (Decimal("0.4285"), 3, 7)
    hh = {h.household_id: h for h in result.households}
    assert hh["HA6"].due_bucket == "overdue" and hh["HA6"].next_recert_due == date(2027, 6, 1)
    assert hh["HA3"].due_bucket == "30-day" and hh["HA1"].due_bucket == "not-due"
    certs = {c.certification_id: c for c in result.certifications}
    assert certs["HA3-MI"].annual_income == Decimal(42000) and certs["HA3-MI"].qualifies is True
    assert certs["HA1-AR"].over_income is True and certs["HA1-AR"].ruleset == "pre-hotma"


def test_overall_status():
    result = evaluate()
    overall = {(o.org_id, o.program): o for o in result.overall}
    all_row = overall[(ORG, "all")]
    assert all_row.compliant is False and all_row.open_findings == 6 and all_row.properties == 3
    assert all_row.open_by_8823_line == "11b: 1, 11f: 2, 11g: 1, 11i: 1, 11l: 1"
    assert all_row.worst_findings.startswith("11f")
    assert overall[(ORG, "lihtc")].open_findings == 6


def test_second_evaluation_corrects_and_keeps_everything():
    first = evaluate()

    def fix(props, units, households, rents):
        rents = [replace(r, tenant_rent=Decimal(1700)) if r.unit_id == "A1-105" else r for r in rents]
        households = [
            replace(h, certifications=h.certifications + (cert("HA6-AR", "annual", date(2027, 9, 20),
                                                               *h.certifications[0].members),))
            if h.household_id == "HA6" else h
            for h in households
        ]
        return props, units, households, rents

    later = date(2027, 10, 1)
    second = evaluate(as_of=later, previous=first.findings, mutate=fix)
    by_code = {f.code: f for f in second.findings}
    assert len(second.findings) == 6  # nothing deleted, nothing new
    assert by_code["GROSS_RENT_OVER_LIMIT"].status == "corrected"
    assert by_code["GROSS_RENT_OVER_LIMIT"].corrected_on == later
    assert by_code["RECERT_OVERDUE"].status == "corrected"
    assert by_code["SET_ASIDE_NOT_MET"].status == "open"
    assert by_code["SET_ASIDE_NOT_MET"].detected_on == AS_OF  # detection date is kept
    third = evaluate(as_of=date(2028, 1, 2), previous=second.findings, mutate=fix)
    assert {f.code: f.status for f in third.findings}["SET_ASIDE_NOT_MET"] == "past-due"
    # idempotent
    again = evaluate(as_of=later, previous=second.findings, mutate=fix)
    assert [f.as_row() for f in again.findings] == [f.as_row() for f in second.findings]


def test_tables_are_row_dicts():
    tables = evaluate().tables()
    assert set(tables) == {"household_certifications", "household_status", "unit_status", "program_status",
                           "assisted_households", "violations", "overall_status", "data_issues"}
    assert len(tables["unit_status"]) == 30
    row = tables["violations"][0]
    assert {"code", "form_8823_line", "detected_on", "correction_deadline", "corrected_on", "status"} <= set(row)


@pytest.mark.parametrize("hotma", [None, date(2026, 1, 1)])
def test_agency_ruleset_switch(hotma):
    from rm_pipelines.compliance.model import AgencySettings

    props, units, households, rents = build_portfolio()
    props = [replace(p, programs=tuple(replace(e, agency="MA") for e in p.programs)) for p in props]
    settings = ComplianceSettings(agencies={"MA": AgencySettings("MA", hotma_adoption_date=hotma)})
    result = evaluate_portfolio(props, units, households, AS_OF, bundled_library(), settings, rent_facts=rents)
    rulesets = {c.ruleset for c in result.certifications}
    assert rulesets == ({"pre-hotma"} if hotma is None else {"hotma-2026"})
    assert {f.code for f in result.findings} == {code for code, *_ in EXPECTED}
