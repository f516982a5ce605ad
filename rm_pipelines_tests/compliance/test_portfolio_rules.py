"""Portfolio evaluation, rule by rule, on small synthetic properties (bundled FY2026 Boston MTSP limits;
every date on or after 2026-05-01). Boston 60 %: 1p 72,000, 2p 82,320; 1BR max gross rent 1,929."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal

from rm_pipelines.compliance.limits import (
    HomeRentTable,
    IncomeLimitTable,
    LimitsLibrary,
    derive_household_sizes,
)
from rm_pipelines.compliance.limits_store import bundled_library
from rm_pipelines.compliance.model import (
    Building,
    ComplianceSettings,
    ProgramElection,
    Property,
    UnitProgram,
)
from rm_pipelines.compliance.portfolio import evaluate_portfolio

from .factories import BOSTON, adult, cert, household, lihtc, rent, unit

AS_OF = date(2027, 3, 15)
MONTH = date(2027, 3, 1)
LIB = bundled_library()


def prop(pid="P", set_aside="40-60", buildings=("B1",), **kw):
    programs = kw.pop("programs", (ProgramElection("lihtc", set_aside=set_aside),))
    return Property("org", pid, pid, BOSTON, programs=programs,
                    buildings=tuple(Building(b, pid, bin=f"BIN-{b}", **kw.pop("building_kw", {})) for b in buildings), **kw)


def clean(u, hid, income=40000, move_in=date(2026, 10, 1), **kw):
    return household(hid, u, move_in, cert(f"{hid}-MI", "move-in", move_in, adult(f"{hid}-1", income)), **kw)


def run(props, units, households, rents=None, settings=None, as_of=AS_OF, lib=LIB):
    if rents is None:
        rents = [rent(u, MONTH, 1000) for u in units]
    return evaluate_portfolio(props, units, households, as_of, lib, settings or ComplianceSettings(), rent_facts=rents)


def codes(result):
    return sorted((f.code, f.unit_id or f.building_id or f.property_id) for f in result.findings)


def test_open_hold_marks_comparable_or_smaller_units_in_the_building():
    p = prop(buildings=("B1", "B2"))
    big = unit("U-2BR", "P", "B1", 2, lihtc(60))
    small = unit("U-1BR", "P", "B1", 1, lihtc(60))
    larger = unit("U-3BR", "P", "B1", 3, lihtc(60))
    other_building = unit("U-B2", "P", "B2", 1, lihtc(60))
    over = household("H-OVER", big, date(2026, 5, 15),
                     cert("MI", "move-in", date(2026, 5, 15), adult("a", 50000)),
                     cert("INT", "interim", date(2026, 12, 1), adult("a", 150000)))  # > 1.4 × 72,000
    hhs = [over, clean(small, "H2"), clean(larger, "H3"), clean(other_building, "H4")]
    result = run([p], [big, small, larger, other_building], hhs)
    status = {u.unit_id: u for u in result.units}
    assert status["U-2BR"].over_income is True and status["U-2BR"].over_income_threshold == Decimal("100800")
    assert status["U-1BR"].next_available_unit_hold is True
    assert status["U-3BR"].next_available_unit_hold is False
    assert status["U-B2"].next_available_unit_hold is False
    assert result.findings == []  # an over-income household alone is not a violation


def test_hold_satisfied_by_a_qualified_lease_up():
    p = prop()
    big = unit("U1", "P", "B1", 2, lihtc(60))
    other = unit("U2", "P", "B1", 1, lihtc(60))
    market = unit("U3", "P", "B1", 1)
    hhs = [
        household("H1", big, date(2026, 5, 15), cert("MI", "move-in", date(2026, 5, 15), adult("a", 50000)),
                  cert("INT", "interim", date(2026, 12, 1), adult("a", 150000))),
        clean(other, "H2", move_in=date(2027, 1, 1)),  # qualified: satisfies the hold
        household("H3", market, date(2027, 2, 1), cert("M3", "move-in", date(2027, 2, 1), adult("m", 200000))),
    ]
    assert codes(run([p], [big, other, market], hhs)) == []


def test_move_in_certification_problems_are_11a():
    p = prop()
    u1, u2, u3 = (unit(f"U{i}", "P", "B1", 1, lihtc(60)) for i in (1, 2, 3))
    hhs = [
        household("H1", u1, date(2026, 10, 1)),  # no certification at all
        household("H2", u2, date(2026, 10, 1), cert("C2", "move-in", date(2026, 10, 1), adult("b", 40000),
                                                     signed=date(2026, 10, 5))),  # signed after move-in
        household("H3", u3, date(2026, 10, 1), cert("C3", "move-in", date(2026, 10, 1), adult("c", 72001))),
    ]
    result = run([p], [u1, u2, u3], hhs)
    found = {(f.code, f.unit_id, f.form_8823_line) for f in result.findings}
    assert found == {("MOVE_IN_CERT_MISSING", "U1", "11a"), ("MOVE_IN_CERT_LATE", "U2", "11a"),
                     ("INCOME_OVER_LIMIT_AT_MOVE_IN", "U3", "11a"), ("SET_ASIDE_NOT_MET", None, "11f")}
    assert {u.unit_id: u.low_income_unit for u in result.units} == {"U1": False, "U2": True, "U3": False}


def test_income_equal_to_the_limit_qualifies():
    p = prop(set_aside="20-50")
    u = unit("U1", "P", "B1", 0, lihtc(50))
    result = run([p], [u], [clean(u, "H1", income=60000)])  # exactly the 1-person 50 % limit
    assert result.findings == [] and result.units[0].qualified_at_move_in is True


def test_income_averaging_invalid_designation_and_designated_limit():
    p = prop(set_aside="income-averaging")
    units = [unit("U30", "P", "B1", 1, lihtc(30)), unit("U65", "P", "B1", 1, lihtc(65)), unit("U80", "P", "B1", 1, lihtc(80))]
    hhs = [clean(units[0], "H1", income=20000), clean(units[1], "H2", income=30000), clean(units[2], "H3", income=90000)]
    rents = [rent(u, MONTH, 900) for u in units]  # under the 30 % 1BR maximum of 964
    result = run([p], units, hhs, rents=rents)
    assert codes(result) == [("IA_INVALID_DESIGNATION", "U65")]
    row = next(r for r in result.programs if r.building_id is None)
    assert row.ia_invalid_designations == "65" and row.ia_qualified_group_units == 2
    # 30 % designation: 0.6 × VLI = 36,000 for one person
    hh_u30 = [replace(hhs[0], certifications=(cert("X", "move-in", date(2026, 10, 1), adult("z", 36001)),))]
    assert ("INCOME_OVER_LIMIT_AT_MOVE_IN", "U30") in codes(run([p], units[:1], hh_u30, rents=rents[:1]))


def test_applicable_fraction_below_commitment_is_11e():
    p = prop(set_aside="20-50", building_kw={"committed_applicable_fraction": Decimal("1.0000")})
    units = [unit("U1", "P", "B1", 1, lihtc(50), sqft=700), unit("U2", "P", "B1", 1, lihtc(50), sqft=700)]
    hhs = [clean(units[0], "H1", income=30000)]  # U2 vacant, never occupied
    result = run([p], units, hhs)
    assert codes(result) == [("APPLICABLE_FRACTION_BELOW_COMMITMENT", "B1")]
    building = next(r for r in result.programs if r.building_id == "B1")
    assert (building.unit_fraction, building.floor_space_fraction, building.applicable_fraction) == (
        Decimal("0.5000"), Decimal("0.5000"), Decimal("0.5000"))


def test_vacant_unit_keeps_status_when_its_last_household_qualified():
    p = prop(set_aside="20-50")
    u1, u2 = unit("U1", "P", "B1", 1, lihtc(50)), unit("U2", "P", "B1", 1, lihtc(50))
    hhs = [clean(u1, "H1", income=30000, move_out=date(2027, 2, 28)), clean(u2, "H2", income=30000)]
    result = run([p], [u1, u2], hhs)
    status = {u.unit_id: u for u in result.units}
    assert status["U1"].occupied is False and status["U1"].low_income_unit is True
    assert result.findings == []


def test_employee_units_are_not_residential_units():
    p = prop()
    units = [unit("U1", "P", "B1", 1, lihtc(60)), replace(unit("MGR", "P", "B1", 2), employee_unit=True)]
    result = run([p], units, [clean(units[0], "H1")])
    row = next(r for r in result.programs if r.building_id is None)
    assert (row.residential_units, row.required_units, row.test_met) == (1, 1, True)


def test_utility_allowance_change_applies_90_days_later():
    p = prop()
    u = replace(unit("U1", "P", "B1", 1, lihtc(60), ua=200),
                utility_allowance_history=((date(2026, 6, 1), Decimal(100)), (date(2027, 1, 15), Decimal(200))))
    result = run([p], [u], [clean(u, "H1")], rents=[rent(u, MONTH, 1829)])
    # 2027-01-15 + 90 days = 2027-04-15: March rent still uses UA 100 → 1,929, compliant
    assert result.units[0].utility_allowance == 100 and result.units[0].rent_compliant is True
    later = run([p], [u], [clean(u, "H1")], rents=[rent(u, date(2027, 5, 1), 1829)], as_of=date(2027, 5, 10))
    assert later.units[0].gross_rent == 2029
    # the only unit is no longer rent-restricted, so the one-unit set-aside fails too
    assert sorted(f.code for f in later.findings) == ["GROSS_RENT_OVER_LIMIT", "SET_ASIDE_NOT_MET"]


def test_bond_only_project_form_8703_and_project_wide_hold():
    p = prop(programs=(ProgramElection("bond", set_aside="20-50"),), buildings=("B1", "B2"))
    u1 = unit("U1", "P", "B1", 2, UnitProgram("bond"))
    u2 = unit("U2", "P", "B2", 1)  # other building, market
    u3 = unit("U3", "P", "B2", 1, UnitProgram("bond"))
    hhs = [
        household("H1", u1, date(2026, 5, 15), cert("MI", "move-in", date(2026, 5, 15), adult("a", 50000)),
                  cert("AR", "interim", date(2026, 11, 1), adult("a", 130000))),  # > 1.4 × 85,700 (2p: 68,600 → 96,040)
        household("H2", u2, date(2027, 1, 5), cert("M2", "move-in", date(2027, 1, 5), adult("b", 99000))),
        clean(u3, "H3", income=30000),
    ]
    result = run([p], [u1, u2, u3], hhs, rents=[])
    found = {(f.code, f.program, f.form_8823_line) for f in result.findings}
    assert found == {("NEXT_AVAILABLE_UNIT_VIOLATION", "bond", None)}  # project-wide for bond-only
    bond = next(r for r in result.programs if r.program == "bond")
    assert (bond.form_8703_line6, bond.form_8703_line7, bond.form_8703_line8) == (1, 0, 1)
    assert bond.form_8703_line4_no_new_over_income is False and bond.test_met is True  # ceil(20 % × 3) = 1


def test_home_low_home_shortfall():
    vli = derive_household_sizes(85700)
    lib = LimitsLibrary([
        *LIB.tables("mtsp"),
        IncomeLimitTable(area=BOSTON, fiscal_year=2026, vli_50=vli, kind="section8", derive_percentages=False,
                         rows={80: [v * 8 // 5 for v in vli]}, effective_date=date(2026, 5, 1)),
        HomeRentTable(area=BOSTON, fiscal_year=2026, low=[1400] * 5, high=[1800] * 5, effective_date=date(2026, 6, 1)),
    ])
    p = prop(programs=(ProgramElection("lihtc", set_aside="40-60"), ProgramElection("home")))
    units = [unit(f"U{i}", "P", "B1", 1, lihtc(60), UnitProgram("home", home_rent="low" if i == 0 else "high"))
             for i in range(5)]
    hhs = [clean(units[0], "H0", income=65000)] + [clean(u, f"H{i}") for i, u in enumerate(units[1:], 1)]
    result = run([p], units, hhs, lib=lib)
    assert codes(result) == [("HOME_LOW_HOME_SHORTFALL", "P"), ("PROGRAM_INCOME_OVER_LIMIT_AT_MOVE_IN", "U0")]
    assert all(f.form_8823_line is None for f in result.findings)


def test_the_answer_line_follows_the_open_findings():
    from rm_pipelines.compliance.portfolio import compliance_answer

    assert compliance_answer(0) == "in compliance (no open findings)"
    assert compliance_answer(3, "11b: 1, 11g: 2") == "NOT in compliance: 3 open finding(s) — 11b: 1, 11g: 2"
