"""Layered programs (most restrictive wins), assisted households and missing data in the portfolio
evaluation (compliance-rules.md §0 principle 3, §2.3, §3, §4)."""

from __future__ import annotations

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

from .factories import adult, cert, household, lihtc, rent, synthetic_table, unit

AS_OF = date(2026, 9, 15)
MONTH = date(2026, 9, 1)
AREA = "TEST-AREA"


def layered_library() -> LimitsLibrary:
    vli = derive_household_sizes(80000)
    return LimitsLibrary([
        synthetic_table(AREA, 2026, 80000, date(2026, 5, 1)),
        IncomeLimitTable(area=AREA, fiscal_year=2026, vli_50=vli, kind="section8", derive_percentages=False,
                         effective_date=date(2026, 5, 1), rows={80: [v * 8 // 5 for v in vli]}),
        HomeRentTable(area=AREA, fiscal_year=2026, low=[1100, 1200, 1500, 1700], high=[1300, 1450, 1900, 2100],
                      effective_date=date(2026, 6, 1)),
    ])


def test_layered_lihtc_and_home_most_restrictive_rent_and_income():
    prop = Property("org", "P", "Layered", AREA,
                    programs=(ProgramElection("lihtc", set_aside="40-60"), ProgramElection("home")),
                    buildings=(Building("B", "P", bin="XX-1"),))
    units, households, rents = [], [], []
    # U1: LIHTC 60 % + Low HOME. LIHTC max 2BR = 86,400 / 40 = 2,160; Low HOME 2BR = 1,500.
    u1 = unit("U1", "P", "B", 2, lihtc(60), UnitProgram("home", home_rent="low"), ua=100)
    households.append(household("H1", u1, date(2026, 7, 1), cert("C1", "move-in", date(2026, 7, 1),
                      adult("m1", 40000), adult("m2", 0, "S"), adult("m3", 0, "C", born=date(2018, 1, 1)))))
    rents.append(rent(u1, MONTH, 1450))  # gross 1,550: over Low HOME, under LIHTC
    units.append(u1)
    # U2-U5: LIHTC + High HOME, clean.
    for i in range(2, 6):
        u = unit(f"U{i}", "P", "B", 1, lihtc(60), UnitProgram("home", home_rent="high"), ua=80)
        households.append(household(f"H{i}", u, date(2026, 7, 1), cert(f"C{i}", "move-in", date(2026, 7, 1), adult(f"m{i}", 30000))))
        rents.append(rent(u, MONTH, 1300))
        units.append(u)
    result = evaluate_portfolio([prop], units, households, AS_OF, layered_library(), ComplianceSettings(), rent_facts=rents)
    status = {u.unit_id: u for u in result.units}
    s1 = status["U1"]
    assert (s1.max_gross_rent, s1.rent_limit_program, s1.gross_rent, s1.rent_compliant) == (1500, "home", 1550, False)
    assert (s1.income_limit, s1.income_limit_pct, s1.income_limit_program) == (72000, 50, "home")
    assert s1.programs == "lihtc+home" and s1.low_income_unit is True  # LIHTC rent test passes
    assert [(f.code, f.program, f.form_8823_line, f.unit_id) for f in result.findings] == [
        ("HOME_RENT_OVER_LIMIT", "home", None, "U1")]
    home_row = next(p for p in result.programs if p.program == "home")
    assert (home_row.program_units, home_row.low_home_required, home_row.qualifying_units, home_row.test_met) == (5, 1, 1, True)
    overall = {o.program: o for o in result.overall}
    assert overall["lihtc"].compliant and not overall["home"].compliant and not overall["all"].compliant


def test_move_in_over_a_stricter_layer_only():
    prop = Property("org", "P", "Layered", AREA,
                    programs=(ProgramElection("lihtc", set_aside="40-60"), ProgramElection("home")),
                    buildings=(Building("B", "P"),))
    u = unit("U1", "P", "B", 2, lihtc(60), UnitProgram("home", home_rent="low"), ua=100)
    # size 1: VLI 56,000 (Low HOME limit), LIHTC 60 % = 67,200 → over HOME only
    hh = household("H1", u, date(2026, 7, 1), cert("C1", "move-in", date(2026, 7, 1), adult("m1", 60000)))
    result = evaluate_portfolio([prop], [u], [hh], AS_OF, layered_library(), rent_facts=[rent(u, MONTH, 1300)])
    assert [(f.code, f.program) for f in result.findings] == [("PROGRAM_INCOME_OVER_LIMIT_AT_MOVE_IN", "home")]
    assert result.units[0].qualified_at_move_in is False and result.units[0].low_income_unit is True


def test_section8_voucher_household_uses_small_area_fmr():
    prop = Property("org", "W", "Wichita Flats", "METRO48620M48620", zip_code="67202", small_area_fmr=True,
                    buildings=(Building("WB", "W"),))
    u = unit("W1", "W", "WB", 2, ua=90)
    hh = household("HW", u, date(2026, 6, 1), cert("CW", "move-in", date(2026, 6, 1), adult("w1", 24000),
                   adult("w2", 0, "C", born=date(2016, 1, 1)), adult("w3", 0, "C", born=date(2018, 1, 1))),
                   assistance="section8")
    rf = rent(u, MONTH, 646, contract_rent=Decimal(1250), assistance_payment=Decimal(604))
    result = evaluate_portfolio([prop], [u], [hh], AS_OF, bundled_library(), rent_facts=[rf])
    [a] = result.assisted
    # pre-HOTMA for PHAs until 2027-01-01: adjusted = 24,000 − 2 × 480 = 23,040; TTP = 23,040 / 40 = 576
    assert (a.adjusted_income, a.ttp, a.ruleset) == (23040, 576, "pre-hotma")
    assert (a.payment_standard, a.payment_standard_source, a.gross_rent) == (1180, "safmr-100%", 1340)
    assert (a.hap, a.family_share, a.tenant_rent) == (604, 736, 646)
    assert result.findings == []


def test_section8_hotma_amounts_after_pha_adoption():
    prop = Property("org", "W", "Wichita Flats", "METRO48620M48620", zip_code="67202", small_area_fmr=True,
                    programs=(ProgramElection("section8", section8_kind="pbra", minimum_rent=Decimal(25)),),
                    buildings=(Building("WB", "W"),))
    u = unit("W1", "W", "WB", 2, UnitProgram("section8"), ua=90)
    hh = household("HW", u, date(2026, 6, 1), cert("CW", "annual", date(2027, 2, 1), adult("w1", 24000),
                   adult("w2", 0, "C", born=date(2016, 1, 1))))
    rf = rent(u, date(2027, 3, 1), 0, contract_rent=Decimal(1250))
    result = evaluate_portfolio([prop], [u], [hh], date(2027, 3, 15), bundled_library(), rent_facts=[rf])
    [a] = result.assisted
    # HOTMA CY2026 amounts: 24,000 − 500 = 23,500 → TTP 587.50 → 588; tenant rent = TTP − UA
    assert (a.kind, a.ruleset, a.adjusted_income, a.ttp) == ("pbra", "hotma-2026", 23500, 588)
    assert (a.tenant_rent, a.hap) == (498, 752)


def test_usda_515_household():
    prop = Property("org", "R", "Prairie Rural", "METRO45820M45820", programs=(ProgramElection("usda515"),),
                    buildings=(Building("RB", "R"),))
    u = unit("R1", "R", "RB", 1, UnitProgram("usda515"), ua=100)
    hh = household("HR", u, date(2026, 6, 1), cert("CR", "move-in", date(2026, 6, 1), adult("r1", 30000)))
    rf = rent(u, MONTH, 650, basic_rent=Decimal(500), note_rent=Decimal(700))
    result = evaluate_portfolio([prop], [u], [hh], AS_OF, bundled_library(), rent_facts=[rf])
    [a] = result.assisted
    assert (a.gross_tenant_contribution, a.net_tenant_contribution, a.overage, a.contribution_basis) == (750, 650, 150, "adjusted-30")


def test_missing_reference_data_is_a_data_issue_not_a_finding():
    prop = Property("org", "Z", "Nowhere", "NO-SUCH-AREA", programs=(ProgramElection("lihtc", set_aside="40-60"),),
                    buildings=(Building("ZB", "Z"),))
    units = [unit(f"Z{i}", "Z", "ZB", 1, lihtc(60)) for i in range(3)]
    hhs = [household(f"HZ{i}", u, date(2026, 7, 1), cert(f"CZ{i}", "move-in", date(2026, 7, 1), adult(f"z{i}", 99999)))
           for i, u in enumerate(units)]
    result = evaluate_portfolio([prop], units, hhs, AS_OF, bundled_library(), rent_facts=[rent(u, MONTH, 900) for u in units])
    assert result.findings == []
    assert any("no MTSP limits" in i.message for i in result.data_issues)
    assert any("set-aside undetermined" in i.message for i in result.data_issues)
    assert all(u.low_income_unit is None for u in result.units)
    row = next(p for p in result.programs if p.building_id is None)
    assert row.test_met is None and row.compliant is False


def test_hundred_percent_project_with_agency_waiver_has_no_overdue_recert():
    from rm_pipelines.compliance.model import AgencySettings

    lib = LimitsLibrary([synthetic_table(AREA, 2026, 80000, date(2024, 5, 1))])
    prop = Property("org", "P", "All LI", AREA, programs=(ProgramElection("lihtc", set_aside="40-60", agency="ST"),),
                    buildings=(Building("B", "P"),))
    u = unit("U1", "P", "B", 1, lihtc(60))
    hh = household("H1", u, date(2024, 6, 1), cert("C1", "move-in", date(2024, 6, 1), adult("a", 30000)),
                   cert("C2", "annual", date(2025, 6, 1), adult("a", 31000)))
    for waive, expected in ((False, ["RECERT_OVERDUE"]), (True, [])):
        settings = ComplianceSettings(agencies={"ST": AgencySettings("ST", waive_recert_for_100pct=waive)})
        result = evaluate_portfolio([prop], [u], [hh], AS_OF, lib, settings, rent_facts=[rent(u, MONTH, 900)])
        assert [f.code for f in result.findings] == expected
