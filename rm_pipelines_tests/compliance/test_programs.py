"""HOME (§3), RD 515 (§4), bonds (§5, §7.7), students (§1.6, §2.1), recertification (§1.5, §2.5) and the
finding lifecycle (§7.6)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from rm_pipelines.compliance import (
    bond,
    certifications,
    home,
    students,
    usda515,
    violations,
)
from rm_pipelines.compliance.limits import HomeRentTable
from rm_pipelines.compliance.model import AgencySettings, Certification, Member

# -- HOME ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("units, required", [(4, 0), (5, 1), (6, 2), (10, 2), (11, 3), (15, 3), (16, 4)])
def test_low_home_units_ceil_20_percent(units, required):
    assert home.low_home_units_required(units) == required


def test_home_rent_limits_low_capped_at_high_and_hold_harmless():
    current = HomeRentTable(area="A", fiscal_year=2026, low=[700, 760, 900], high=[800, 750, 1100])
    limits = home.rent_limits(current, 1)
    assert (limits.high, limits.low) == (750, 750)  # Low capped at the lower High
    commitment = HomeRentTable(area="A", fiscal_year=2024, low=[720, 740, 950], high=[810, 900, 1150])
    held = home.rent_limits(current, 2, commitment_table=commitment)
    assert (held.high, held.low, held.hold_harmless_applied) == (1150, 950, True)
    assert home.max_gross_rent(held, "low") == 950
    assert home.max_gross_rent(held, "low", subsidy_program_rent=1000) == 1000


# -- USDA RD 515 ----------------------------------------------------------------------------------------------


def test_usda_contribution_without_ra_pays_at_least_basic_rent():
    tc = usda515.tenant_contribution(adjusted_annual=12000, gross_annual=15000, basic_rent=500, note_rent=700,
                                     utility_allowance=100, rental_assistance=False)
    # 30 % adjusted = 300, 10 % gross = 125, gross basic = 600 → 600
    assert (tc.gross_tenant_contribution, tc.net_tenant_contribution, tc.overage, tc.basis) == (600, 500, 0, "basic-rent")


def test_usda_contribution_overage_and_note_rent_cap():
    tc = usda515.tenant_contribution(30000, 36000, 500, 700, 100, False)  # 30 % = 750 > basic 600
    assert (tc.gross_tenant_contribution, tc.net_tenant_contribution, tc.overage) == (750, 650, 150)
    capped = usda515.tenant_contribution(48000, 50000, 500, 700, 100, False)  # 1,200 capped at gross note 800
    assert (capped.gross_tenant_contribution, capped.overage, capped.basis) == (800, 200, "note-rent-cap")


def test_usda_rental_assistance_pays_the_gap_and_half_dollar_rounds_up():
    tc = usda515.tenant_contribution(6020, 7000, 500, 700, 100, True)  # 6,020 / 40 = 150.50 → 151
    assert tc.gross_tenant_contribution == 151 and tc.rental_assistance == 449 and tc.net_tenant_contribution == 51
    low = usda515.tenant_contribution(2000, 2400, 500, 700, 100, True)  # 50 < UA
    assert low.net_tenant_contribution == 0 and low.utility_reimbursement == 50


# -- bonds ----------------------------------------------------------------------------------------------------


def test_form_8703_figures():
    f = bond.form_8703_figures("20-50", 101, 18, 3, new_over_income_residents=0)
    assert (f.line8_low_income_units, f.required_units, f.test_met) == (21, 21, True)  # ceil(20.2) = 21
    assert f.line9_low_income_percentage == Decimal("20.79") and f.line4_no_new_over_income_residents
    assert not bond.form_8703_figures("40-60", 10, 3, 0, 1).test_met


# -- students ---------------------------------------------------------------------------------------------------


def _student(mid, rel="H", exception=None, student=True):
    return Member(mid, rel, date(2003, 1, 1), full_time_student=student, student_exception=exception)


def test_lihtc_student_rule():
    assert students.lihtc_student_status([_student("a"), _student("b", "A")]).disqualified
    assert not students.lihtc_student_status([_student("a"), _student("b", "A", student=False)]).disqualified
    ok = students.lihtc_student_status([_student("a"), _student("b", "A", exception="job-training")])
    assert ok.all_full_time_students and ok.exception == "job-training" and not ok.disqualified
    assert not students.lihtc_student_status([_student("a")], household_exception="married-joint-return").disqualified
    assert students.lihtc_student_status([_student("a"), _student("x", "L", student=False)]).disqualified  # aide left out
    assert not students.lihtc_student_status([]).all_full_time_students
    assert students.is_full_time_student(5) and not students.is_full_time_student(4, 4)


def test_section8_student_rule():
    m = Member("s", "H", date(2005, 1, 1))
    assert students.section8_student_restricted(m, date(2026, 6, 1), enrolled_in_higher_education=True)
    assert not students.section8_student_restricted(m, date(2026, 6, 1), enrolled_in_higher_education=True, veteran=True)
    assert not students.section8_student_restricted(m, date(2030, 6, 1), enrolled_in_higher_education=True)  # 25


# -- recertification schedule -------------------------------------------------------------------------------------


def test_due_date_and_buckets():
    certs = [Certification("mi", "move-in", date(2025, 3, 1)), Certification("i", "interim", date(2025, 9, 1))]
    due = certifications.next_recertification_due(certs, date(2025, 3, 1), date(2025, 12, 1))
    assert due == date(2026, 3, 1)  # interim certifications do not move the anniversary
    assert certifications.due_bucket(due, date(2026, 3, 1)) == "30-day"  # due today: not overdue
    assert certifications.due_bucket(due, date(2026, 3, 2)) == "overdue"
    assert certifications.due_bucket(due, date(2026, 1, 30)) == "30-day"  # 30 days left
    assert certifications.due_bucket(due, date(2026, 1, 29)) == "60-day"  # 31 days left
    assert certifications.due_bucket(due, date(2025, 11, 1)) == "120-day"
    assert certifications.due_bucket(due, date(2025, 10, 31)) == "not-due"  # 121 days
    assert certifications.add_years(date(2024, 2, 29)) == date(2025, 2, 28)


def test_hundred_percent_exemption_is_an_agency_setting():
    strict = AgencySettings("default")
    waiving = AgencySettings("MA", waive_recert_for_100pct=True)
    lenient = AgencySettings("X", waive_recert_for_100pct=True, first_year_recert_required=False)
    assert certifications.recertification_requirement(["lihtc"], strict, True, True).required
    assert not certifications.recertification_requirement(["lihtc"], waiving, True, True).required
    assert certifications.recertification_requirement(["lihtc"], waiving, True, False).required  # first year
    assert not certifications.recertification_requirement(["lihtc"], lenient, True, False).required
    assert certifications.recertification_requirement(["lihtc"], waiving, False, True).required  # mixed-income
    home_too = certifications.recertification_requirement(["lihtc", "home"], waiving, True, True)
    assert home_too.required and home_too.program == "home"


# -- findings ------------------------------------------------------------------------------------------------------


def test_catalogue_is_table_driven_and_complete():
    assert set(violations.FORM_8823_LINES) == {f"11{c}" for c in "abcdefghijklmnopq"}
    for ftype in violations.FINDING_TYPES.values():
        assert ftype.form_8823_line is None or ftype.form_8823_line in violations.FORM_8823_LINES
    planted = {"NEXT_AVAILABLE_UNIT_VIOLATION": "11i", "GROSS_RENT_OVER_LIMIT": "11g", "RECERT_OVERDUE": "11b",
               "FULL_TIME_STUDENT_HOUSEHOLD": "11l", "SET_ASIDE_NOT_MET": "11f", "IA_AVERAGE_ABOVE_60": "11f",
               "INCOME_OVER_LIMIT_AT_MOVE_IN": "11a"}
    for code, line in planted.items():
        assert violations.FINDING_TYPES[code].form_8823_line == line


def _obs(code="GROSS_RENT_OVER_LIMIT", program="lihtc", unit="U1"):
    return violations.Observation(code, program, "org", "P", "B", "BIN", unit, "H", date(2026, 9, 1), "detail")


def test_lifecycle_detect_keep_correct_recur():
    d1, d2, d3, d4 = date(2026, 9, 15), date(2026, 10, 15), date(2027, 1, 1), date(2027, 2, 1)
    first = violations.reconcile([], [_obs()], d1)
    [f] = first
    assert (f.status, f.detected_on, f.correction_deadline) == ("open", d1, date(2026, 12, 14))
    assert f.form_8823_line == "11g"
    second = violations.reconcile(first, [_obs()], d2)
    assert second[0].finding_id == f.finding_id and second[0].status == "open"
    late = violations.reconcile(second, [_obs()], d3)
    assert late[0].status == "past-due"
    fixed = violations.reconcile(late, [], d4)
    assert (fixed[0].status, fixed[0].corrected_on) == ("corrected", d4)
    back = violations.reconcile(fixed, [_obs()], date(2027, 3, 1))
    assert len(back) == 2 and back[0].status == "corrected" and back[1].status == "open"
    assert back[1].finding_id != f.finding_id


def test_non_lihtc_findings_have_no_8823_line():
    [f] = violations.reconcile([], [_obs("HOME_RENT_OVER_LIMIT", "home")], date(2026, 9, 15))
    assert f.form_8823_line is None and f.as_row()["form_8823_category"] is None
    with pytest.raises(KeyError):
        violations.reconcile([], [_obs("NOT_A_CODE")], date(2026, 9, 15))
