"""Missing data is "undetermined" in every program: a data issue, never a violation and never "compliant".

Bond and Low HOME tests count undetermined units as undetermined; a rural project without the national
non-metro table, and limits used past their year, are data issues; the status is tri-state per program and
overall; the Section 8 row counts voucher households; vouchers use the PHA's ruleset; buildings of a bond
project are bond-financed unless their data says otherwise; the phased HOTMA medical threshold; a finding
whose subject cannot be decided is not "corrected" (compliance-rules.md §1.2, §2.4, §3, §5, §7.6, §8.4).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest

from rm_pipelines.compliance import checks
from rm_pipelines.compliance.inputs import ComplianceInputs
from rm_pipelines.compliance.limits import (
    NATIONAL_NONMETRO_AREA,
    HomeRentTable,
    IncomeLimitTable,
    LimitContext,
    LimitsLibrary,
    LimitUnavailable,
    derive_household_sizes,
    stale_from,
)
from rm_pipelines.compliance.limits_store import bundled_library
from rm_pipelines.compliance.model import (
    AgencySettings,
    Asset,
    Building,
    Certification,
    ComplianceSettings,
    Household,
    IncomeSource,
    Member,
    ProgramElection,
    Property,
    UnitProgram,
)
from rm_pipelines.compliance.portfolio import compliance_answer, evaluate_portfolio
from rm_pipelines.compliance.rulesets import HOTMA_2026, medical_threshold_pct

from .factories import (
    BOSTON,
    adult,
    cert,
    household,
    lihtc,
    rent,
    synthetic_table,
    unit,
)

AREA = "TEST-AREA"
AS_OF = date(2026, 9, 15)
MONTH = date(2026, 9, 1)
FY26 = synthetic_table(AREA, 2026, 80000, date(2026, 5, 1))  # 1 person: 50 % 56,000, 60 % 67,200


def codes(result) -> list[str]:
    return sorted(f.code for f in result.findings)


def overall(result) -> dict:
    return {o.program: o for o in result.overall}


def messages(result) -> str:
    return "\n".join(i.message for i in result.data_issues)


def inputs_of(props, units=(), households=(), as_of=AS_OF) -> ComplianceInputs:
    return ComplianceInputs(as_of=as_of, properties=tuple(props), units=tuple(units), households=tuple(households),
                            rent_facts=(), property_labels={p.property_id: (p.property_id, p.name) for p in props},
                            unit_labels={u.unit_id: u.unit_number for u in units})


# -- bond 20-50/40-60 ---------------------------------------------------------------------------------------


def _bond_project(undetermined_households: bool):
    prop = Property("org", "P", "Bond Court", AREA, programs=(ProgramElection("bond", set_aside="40-60"),),
                    buildings=(Building("B", "P"),))
    units = [unit(f"U{i}", "P", "B", 1, UnitProgram("bond")) for i in range(10)]
    households = [household(f"H{i}", units[i], date(2026, 7, 1), cert(f"C{i}", "move-in", date(2026, 7, 1),
                                                                        adult(f"m{i}", 30000))) for i in range(3)]
    if undetermined_households:  # certified at move-in before the earliest loaded table: no limits for that date
        households += [household(f"H{i}", units[i], date(2025, 7, 1),
                                 cert(f"C{i}", "move-in", date(2025, 7, 1), adult(f"m{i}", 30000)),
                                 cert(f"A{i}", "annual", date(2026, 7, 1), adult(f"m{i}", 30000)))
                       for i in range(3, 10)]
    return prop, units, households


def test_bond_units_without_limits_are_undetermined_not_failures():
    prop, units, households = _bond_project(undetermined_households=True)
    result = evaluate_portfolio([prop], units, households, AS_OF, LimitsLibrary([FY26]))
    assert codes(result) == []  # 3 qualify, 7 undetermined, 4 required: not a violation
    row = next(p for p in result.programs if p.program == "bond")
    assert (row.qualifying_units, row.required_units, row.test_met, row.compliant) == (3, 4, None, False)
    assert row.form_8703_line4_no_new_over_income is True  # nobody moved in this year over income
    assert "Bond set-aside undetermined: 3 units qualify, 7 undetermined" in messages(result)
    bond = overall(result)["bond"]
    assert (bond.status, bond.compliant, bond.undetermined_properties, bond.undetermined_units) == (
        "undetermined", False, 1, 7)


def test_bond_shortfall_on_proof_is_still_a_finding():
    prop, units, households = _bond_project(undetermined_households=False)  # seven units never occupied
    result = evaluate_portfolio([prop], units, households, AS_OF, LimitsLibrary([FY26]))
    assert codes(result) == ["BOND_SET_ASIDE_NOT_MET"]
    assert overall(result)["bond"].status == "not compliant"


# -- Low HOME --------------------------------------------------------------------------------------------------


def _home_library() -> LimitsLibrary:
    vli = derive_household_sizes(80000)
    return LimitsLibrary([
        IncomeLimitTable(area=AREA, fiscal_year=2026, vli_50=vli, kind="section8", derive_percentages=False,
                         effective_date=date(2026, 5, 1), rows={80: [v * 8 // 5 for v in vli]}),
        HomeRentTable(area=AREA, fiscal_year=2026, low=[1100] * 5, high=[1300] * 5, effective_date=date(2026, 5, 1)),
    ])


def test_low_home_unit_without_limits_is_undetermined_not_a_shortfall():
    prop = Property("org", "P", "Home Place", AREA, programs=(ProgramElection("home"),), buildings=(Building("B", "P"),))
    units = [unit(f"U{i}", "P", "B", 1, UnitProgram("home", home_rent="low" if i == 0 else "high")) for i in range(5)]
    households = [household("H0", units[0], date(2025, 3, 1),  # certified before the HOME income limits' date
                            cert("C0", "move-in", date(2025, 3, 1), adult("a", 30000)),
                            cert("A0", "annual", date(2026, 3, 1), adult("a", 30000)))]
    households += [household(f"H{i}", units[i], date(2026, 6, 1),
                             cert(f"C{i}", "move-in", date(2026, 6, 1), adult(f"m{i}", 40000))) for i in range(1, 5)]
    rents = [rent(u, MONTH, 1000) for u in units]
    result = evaluate_portfolio([prop], units, households, AS_OF, _home_library(), rent_facts=rents)
    assert codes(result) == []
    row = next(p for p in result.programs if p.program == "home")
    assert (row.low_home_required, row.qualifying_units, row.test_met) == (1, 0, None)
    assert "Low HOME test undetermined" in messages(result)
    assert overall(result)["home"].status == "undetermined"
    # the same household certified when the limits exist, over 50 %: a shortfall on proof
    over = household("H0", units[0], date(2026, 6, 1), cert("C0", "move-in", date(2026, 6, 1), adult("a", 60000)))
    result = evaluate_portfolio([prop], units, [over, *households[1:]], AS_OF, _home_library(), rent_facts=rents)
    assert codes(result) == ["HOME_LOW_HOME_SHORTFALL", "PROGRAM_INCOME_OVER_LIMIT_AT_MOVE_IN"]


# -- rural floor without the national non-metro table -----------------------------------------------------------

LOW_AREA = synthetic_table(AREA, 2026, 40000, date(2026, 5, 1))  # 1 person: 60 % = 33,600
NONMETRO = synthetic_table(NATIONAL_NONMETRO_AREA, 2026, 42350, date(2026, 5, 1), kind="nonmetro")  # 60 % = 35,580


def _rural_project(*programs: ProgramElection, building: Building | None = None):
    prop = Property("org", "R", "Prairie Rural", AREA, rural=True,
                    programs=programs or (ProgramElection("lihtc", set_aside="40-60"),),
                    buildings=(building or Building("RB", "R", bin="KS-1"),))
    u = unit("R1", "R", "RB", 1, lihtc(60))
    hh = household("HR", u, date(2026, 7, 1), cert("CR", "move-in", date(2026, 7, 1), adult("r", 35000)))
    return prop, u, hh


def test_rural_project_without_the_nonmetro_table_is_undetermined_and_checked():
    prop, u, hh = _rural_project()
    with_floor = evaluate_portfolio([prop], [u], [hh], AS_OF, LimitsLibrary([LOW_AREA, NONMETRO]),
                                    rent_facts=[rent(u, MONTH, 800)])
    assert codes(with_floor) == []  # 35,000 ≤ the floor's 35,580
    result = evaluate_portfolio([prop], [u], [hh], AS_OF, LimitsLibrary([LOW_AREA]), rent_facts=[rent(u, MONTH, 800)])
    assert codes(result) == []  # not 11a/11f on the area limit alone
    assert "national non-metro limits FY2026 are not loaded" in messages(result)
    assert result.units[0].low_income_unit is None and overall(result)["lihtc"].status == "undetermined"
    check = checks.limits_available(inputs_of([prop], [u], [hh]), LimitsLibrary([LOW_AREA]), AS_OF)
    assert not check.passed and check.severity == "ERROR"
    assert "national non-metro limits FY2026 are not loaded" in check.failing[0]
    assert checks.limits_available(inputs_of([prop], [u], [hh]), LimitsLibrary([LOW_AREA, NONMETRO]), AS_OF).passed


def test_a_bond_project_building_is_bond_financed_unless_its_data_says_otherwise():
    programs = (ProgramElection("lihtc", set_aside="40-60"), ProgramElection("bond", set_aside="40-60"))
    lib = LimitsLibrary([LOW_AREA, NONMETRO])
    prop, u, hh = _rural_project(*programs)
    result = evaluate_portfolio([prop], [u], [hh], AS_OF, lib, rent_facts=[rent(u, MONTH, 800)])
    # no rural floor for a bond-financed building: 35,000 > 33,600
    assert codes(result) == ["BOND_SET_ASIDE_NOT_MET", "INCOME_OVER_LIMIT_AT_MOVE_IN", "SET_ASIDE_NOT_MET"]
    assert checks.limits_available(inputs_of([prop], [u], [hh]), LimitsLibrary([LOW_AREA]), AS_OF).passed
    prop, u, hh = _rural_project(*programs, building=Building("RB", "R", bin="KS-1", bond_financed=False))
    result = evaluate_portfolio([prop], [u], [hh], AS_OF, lib, rent_facts=[rent(u, MONTH, 800)])
    assert codes(result) == ["BOND_SET_ASIDE_NOT_MET"]  # LIHTC gets the floor; the bond test never does


# -- limits used past their year ------------------------------------------------------------------------------


def test_a_table_is_stale_one_year_and_45_days_after_it_took_effect():
    assert stale_from(FY26) == date(2027, 6, 15)
    lib = LimitsLibrary([FY26])
    assert lib.lihtc_income_limits(LimitContext(AREA), date(2027, 6, 14)).fiscal_year == 2026
    with pytest.raises(LimitUnavailable, match="stale"):
        lib.lihtc_income_limits(LimitContext(AREA), date(2027, 6, 15))
    newer = LimitsLibrary([FY26, synthetic_table(AREA, 2027, 82000, date(2027, 5, 1))])
    assert newer.lihtc_income_limits(LimitContext(AREA), date(2027, 6, 15)).fiscal_year == 2027
    s8 = IncomeLimitTable(area=AREA, fiscal_year=2026, vli_50=derive_household_sizes(80000), kind="section8",
                          derive_percentages=False, effective_date=date(2026, 5, 1))
    with pytest.raises(LimitUnavailable, match="stale"):
        LimitsLibrary([s8]).section8_income_limits(AREA, date(2029, 1, 1))


def test_stale_limits_make_determinations_undetermined():
    prop = Property("org", "P", "Late Court", AREA, programs=(ProgramElection("lihtc", set_aside="40-60"),),
                    buildings=(Building("B", "P"),))
    u = unit("U1", "P", "B", 1, lihtc(60))

    def run(as_of: date):
        move_in = as_of.replace(month=1, day=1)
        hh = household("H1", u, move_in, cert("C1", "move-in", move_in, adult("a", 70000)))  # > 67,200
        return evaluate_portfolio([prop], [u], [hh], as_of, LimitsLibrary([FY26]),
                                  rent_facts=[rent(u, as_of.replace(day=1), 800)])

    assert codes(run(date(2027, 3, 15))) == ["INCOME_OVER_LIMIT_AT_MOVE_IN", "SET_ASIDE_NOT_MET"]
    late = run(date(2029, 3, 15))
    assert codes(late) == []
    assert "stale from 2027-06-15" in messages(late)
    assert overall(late)["lihtc"].status == overall(late)["all"].status == "undetermined"
    check = checks.limits_available(inputs_of([prop], [u], as_of=date(2029, 3, 15)), LimitsLibrary([FY26]),
                                    date(2029, 3, 15))
    assert not check.passed and "stale" in check.failing[0]


def test_a_finding_is_not_corrected_by_data_that_cannot_decide_it():
    prop = Property("org", "P", "Harbor", BOSTON, programs=(ProgramElection("lihtc", set_aside="40-60"),),
                    buildings=(Building("B", "P"),))
    u = unit("U1", "P", "B", 1, lihtc(60), ua=100)
    hh = household("H1", u, date(2026, 7, 1), cert("C1", "move-in", date(2026, 7, 1), adult("a", 30000)),
                   cert("C2", "annual", date(2027, 7, 1), adult("a", 30000)))
    first = evaluate_portfolio([prop], [u], [hh], AS_OF, bundled_library(), rent_facts=[rent(u, MONTH, 1900)])
    assert codes(first) == ["GROSS_RENT_OVER_LIMIT", "SET_ASIDE_NOT_MET"]
    later = date(2027, 9, 15)  # the rent is fixed, but the bundled FY2026 limits are stale by now
    fixed = [rent(u, later.replace(day=1), 1700)]
    second = evaluate_portfolio([prop], [u], [hh], later, bundled_library(), rent_facts=fixed,
                                previous_findings=first.findings)
    assert {f.code: f.status for f in second.findings} == {"GROSS_RENT_OVER_LIMIT": "past-due",
                                                           "SET_ASIDE_NOT_MET": "past-due"}
    assert overall(second)["lihtc"].status == "not compliant"
    fy27 = synthetic_table(BOSTON, 2027, 85700, date(2027, 5, 1))  # test data: FY2026's figures as FY2027
    third = evaluate_portfolio([prop], [u], [hh], later, LimitsLibrary([*bundled_library().tables("mtsp"), fy27]),
                               rent_facts=fixed, previous_findings=second.findings)
    assert {f.code: (f.status, f.corrected_on) for f in third.findings} == {
        "GROSS_RENT_OVER_LIMIT": ("corrected", later), "SET_ASIDE_NOT_MET": ("corrected", later)}


# -- the tri-state answer -----------------------------------------------------------------------------------------


def test_the_answer_line_is_tri_state():
    assert compliance_answer(0) == "in compliance (no open findings)"
    assert compliance_answer(0, undetermined_properties=1, undetermined_units=7) == (
        "UNDETERMINED: no open findings, but missing data leaves 1 property and 7 units undetermined "
        "(see the data issues)")
    assert compliance_answer(2, "11g: 2", undetermined_properties=2, undetermined_units=1) == (
        "NOT in compliance: 2 open finding(s) — 11g: 2; missing data leaves 2 properties and 1 unit undetermined")


def test_overall_status_is_compliant_only_when_everything_was_determined():
    prop = Property("org", "P", "Clean Court", AREA, programs=(ProgramElection("lihtc", set_aside="40-60"),),
                    buildings=(Building("B", "P"),))
    units = [unit(f"U{i}", "P", "B", 1, lihtc(60)) for i in range(2)]
    hhs = [household(f"H{i}", u, date(2026, 7, 1), cert(f"C{i}", "move-in", date(2026, 7, 1), adult(f"a{i}", 30000)))
           for i, u in enumerate(units)]
    clean = evaluate_portfolio([prop], units, hhs, AS_OF, LimitsLibrary([FY26]),
                               rent_facts=[rent(u, MONTH, 800) for u in units])
    row = overall(clean)["all"]
    assert (row.status, row.compliant, row.undetermined_units) == ("compliant", True, 0)
    assert row.answer == "in compliance (no open findings)"
    no_rent = evaluate_portfolio([prop], units, hhs, AS_OF, LimitsLibrary([FY26]), rent_facts=[rent(units[0], MONTH, 800)])
    row = overall(no_rent)["all"]
    assert (row.status, row.compliant, row.undetermined_properties, row.undetermined_units) == (
        "undetermined", False, 1, 1)
    assert row.answer.startswith("UNDETERMINED")


# -- Section 8 vouchers ---------------------------------------------------------------------------------------


def _voucher_household(u, *certs: Certification, move_in=date(2026, 7, 1)) -> Household:
    return Household("HV", u.unit_id, u.property_id, move_in, None, certs, "section8")


def test_a_voucher_household_uses_the_phas_ruleset_and_counts_in_the_section8_row():
    prop = Property("org", "P", "Tax Credit Court", BOSTON,
                    programs=(ProgramElection("lihtc", set_aside="40-60", agency="ST"),), buildings=(Building("B", "P"),))
    settings = ComplianceSettings(agencies={"ST": AgencySettings("ST", hotma_adoption_date=date(2024, 1, 1))})
    u = unit("U1", "P", "B", 1, lihtc(60), ua=50)
    head = Member("m", "H", date(1985, 1, 1), incomes=(IncomeSource("wages", Decimal(20000)),),
                  assets=(Asset("savings", Decimal(50000), Decimal(600)), Asset("land", Decimal(20000), None)))
    hh = _voucher_household(u, Certification("C1", "move-in", date(2026, 7, 1), members=(head,)))
    rf = rent(u, MONTH, 400, contract_rent=Decimal(1000), payment_standard=Decimal(1200))
    result = evaluate_portfolio([prop], [u], [hh], AS_OF, bundled_library(), settings, rent_facts=[rf])
    [c] = result.certifications  # the tax-credit agency adopted HOTMA: 600 actual + 20,000 × 0.40 % imputed
    assert (c.ruleset, c.annual_income) == ("hotma-2026", Decimal(20680))
    [a] = result.assisted  # the PHA has not: greater of 600 actual and 70,000 × 0.06 %
    assert (a.ruleset, a.annual_income, a.adjusted_income, a.ttp) == ("pre-hotma", Decimal(20600), Decimal(20600), 515)
    s8 = overall(result)["section8"]
    assert (s8.properties, s8.units, s8.households) == (1, 1, 1)


def _elderly(medical: int) -> tuple[Member, int]:
    return Member("w", "H", date(1950, 1, 1), incomes=(IncomeSource("social-security", Decimal(20000)),)), medical


def _medical_cert(cert_id: str, on: date, medical: int) -> Certification:
    head, _ = _elderly(medical)
    return Certification(cert_id, "annual", on, members=(head,), medical_expenses=Decimal(medical))


@pytest.mark.parametrize("before, on, adjusted, ttp", [
    (3000, date(2027, 3, 1), 17450, 436),   # first HOTMA reexamination: 5 % (3,000 − 1,000)
    (3000, date(2028, 4, 1), 17950, 449),   # 13 months later: 7.5 % (3,000 − 1,500)
    (0, date(2027, 3, 1), 18450, 461),      # not on the deduction before HOTMA: 10 %
])
def test_phased_medical_threshold_for_families_on_the_deduction_before_hotma(before, on, adjusted, ttp):
    prop = Property("org", "W", "Wichita Flats", "METRO48620M48620", buildings=(Building("WB", "W"),))
    u = unit("W1", "W", "WB", 1, ua=50)
    certs = [_medical_cert("C0", date(2026, 3, 1), before), _medical_cert("C1", date(2027, 3, 1), 3000)]
    if on > date(2027, 3, 1):
        certs.append(_medical_cert("C2", on, 3000))
    hh = _voucher_household(u, *certs, move_in=date(2020, 3, 1))
    rf = rent(u, on.replace(day=1), 300, contract_rent=Decimal(900), payment_standard=Decimal(1000))
    result = evaluate_portfolio([prop], [u], [hh], on + (date(2027, 3, 15) - date(2027, 3, 1)),
                                bundled_library(), rent_facts=[rf])
    [a] = result.assisted  # PHA on HOTMA from 2027-01-01: elderly deduction 550
    assert (a.ruleset, a.adjusted_income, a.ttp) == ("hotma-2026", Decimal(adjusted), ttp)


def test_unknown_medical_phase_in_is_undetermined():
    prop = Property("org", "W", "Wichita Flats", "METRO48620M48620", buildings=(Building("WB", "W"),))
    u = unit("W1", "W", "WB", 1, ua=50)
    hh = _voucher_household(u, _medical_cert("C1", date(2027, 3, 1), 3000), move_in=date(2020, 3, 1))
    rf = rent(u, date(2027, 3, 1), 300, contract_rent=Decimal(900), payment_standard=Decimal(1000))
    result = evaluate_portfolio([prop], [u], [hh], date(2027, 3, 15), bundled_library(), rent_facts=[rf])
    [a] = result.assisted
    assert a.ttp is None and a.hap is None
    assert "HOTMA medical-expense phase-in unknown" in messages(result)
    assert overall(result)["section8"].status == "undetermined"


def test_medical_threshold_phases_in_over_two_years():
    start = date(2027, 3, 1)
    assert medical_threshold_pct(HOTMA_2026, date(2027, 3, 1), start) == Decimal(5)
    assert medical_threshold_pct(HOTMA_2026, date(2028, 2, 29), start) == Decimal(5)
    assert medical_threshold_pct(HOTMA_2026, date(2028, 3, 1), start) == Decimal("7.5")
    assert medical_threshold_pct(HOTMA_2026, date(2029, 3, 1), start) == Decimal(10)
    assert medical_threshold_pct(HOTMA_2026, date(2027, 3, 1), None) == Decimal(10)
    assert medical_threshold_pct(replace(HOTMA_2026, hotma=False, medical_threshold_pct=Decimal(3)),
                                 date(2027, 3, 1), start) == Decimal(3)


# -- the gross rent floor's table not loaded -------------------------------------------------------------------


def test_rent_over_the_unfloored_limit_is_undetermined_when_the_floor_table_is_missing():
    # allocation in 2024: the gross rent floor is the limits in effect then, which are not loaded
    prop = Property("org", "P", "Floor Court", AREA, programs=(ProgramElection("lihtc", set_aside="40-60"),),
                    buildings=(Building("B", "P", allocation_date=date(2024, 6, 1)),))
    within, over = unit("U1", "P", "B", 1, lihtc(60)), unit("U2", "P", "B", 1, lihtc(60))
    hhs = [household(f"H{u.unit_id}", u, date(2026, 7, 1), cert(f"C{u.unit_id}", "move-in", date(2026, 7, 1),
                                                                  adult(f"a{u.unit_id}", 30000))) for u in (within, over)]
    # FY2026 60 % 1BR maximum: (67,200 + 76,800) / 2 / 40 = 1,800
    rents = [rent(within, MONTH, 1800), rent(over, MONTH, 1850)]
    result = evaluate_portfolio([prop], [within, over], hhs, AS_OF, LimitsLibrary([FY26]), rent_facts=rents)
    assert codes(result) == []
    status = {u.unit_id: u for u in result.units}
    assert (status["U1"].rent_compliant, status["U1"].low_income_unit) == (True, True)
    assert (status["U2"].rent_compliant, status["U2"].low_income_unit) == (None, None)
    assert "gross rent floor of area TEST-AREA" in messages(result)
    assert overall(result)["lihtc"].undetermined_units == 1
    floored = LimitsLibrary([synthetic_table(AREA, 2024, 84000, date(2024, 5, 1)), FY26])  # the floor: 1,890
    assert codes(evaluate_portfolio([prop], [within, over], hhs, AS_OF, floored, rent_facts=rents)) == []
    lower = LimitsLibrary([synthetic_table(AREA, 2024, 78000, date(2024, 5, 1)), FY26])  # floor below: 1,800
    assert codes(evaluate_portfolio([prop], [within, over], hhs, AS_OF, lower, rent_facts=rents)) == [
        "GROSS_RENT_OVER_LIMIT"]
    check = checks.limits_available(inputs_of([prop], [within, over]), LimitsLibrary([FY26]), AS_OF)
    assert not check.passed and check.severity == "WARN" and "gross rent floor" in check.failing[0]


def test_data_issues_are_grouped_by_property_and_kind():
    from rm_pipelines.compliance.answer import data_issue_groups

    issues = [{"property_name": "Harbor", "message": f"no MTSP limits for area A on 2025-0{m}-01"} for m in (1, 2, 3)]
    issues += [{"property_name": "Harbor", "message": "MTSP limits: stale from 2027-06-15"},
               {"property_id": None, "message": "unknown Unit Program 'X' (ignored)"}]
    assert data_issue_groups(issues) == [
        ("Harbor", "no MTSP limits for area A on <date>", 3), ("Harbor", "MTSP limits: stale from 2027-06-15", 1),
        ("inputs", "unknown Unit Program 'X' (ignored)", 1)]
