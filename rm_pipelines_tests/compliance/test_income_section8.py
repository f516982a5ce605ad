"""Income (§8), rulesets (§2.4, §8.3, §8.4) and the HUD rent formula (§2.3)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from rm_pipelines.compliance import income, section8
from rm_pipelines.compliance.model import Asset, IncomeSource, Member
from rm_pipelines.compliance.rulesets import (
    HOTMA_2024,
    HOTMA_2025,
    HOTMA_2026,
    PRE_HOTMA,
    PRE_HOTMA_BEFORE_2014,
    ruleset_for,
)

# -- annualisation ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "amount, frequency, hours, expected",
    [("960", "weekly", None, "49920"), ("1000", "biweekly", None, "26000"), ("1000", "semimonthly", None, "24000"),
     ("2500", "monthly", None, "30000"), ("31000", "annual", None, "31000"), ("15.50", "hourly", "32", "25792.00")],
)
def test_annualize(amount, frequency, hours, expected):
    assert income.annualize(amount, frequency, hours) == Decimal(expected)


def test_annualize_rejects_unknown_or_incomplete():
    with pytest.raises(ValueError):
        income.annualize(10, "hourly")
    with pytest.raises(ValueError):
        income.annualize(10, "fortnightly")


# -- rulesets ---------------------------------------------------------------------------------------------


def test_ruleset_by_agency_adoption_date():
    assert ruleset_for(date(2026, 6, 1), None) is PRE_HOTMA
    assert ruleset_for(date(2013, 6, 1), None) is PRE_HOTMA_BEFORE_2014
    assert ruleset_for(date(2026, 6, 1), date(2027, 1, 1)) is PRE_HOTMA  # PHA not yet on HOTMA
    assert ruleset_for(date(2027, 2, 1), date(2027, 1, 1)) is HOTMA_2026
    assert ruleset_for(date(2024, 6, 1), date(2024, 1, 1)) is HOTMA_2024
    assert ruleset_for(date(2025, 6, 1), date(2020, 1, 1)) is HOTMA_2025
    assert ruleset_for(date(2023, 6, 1), date(2020, 1, 1)) is PRE_HOTMA


def test_ruleset_amounts():
    assert (PRE_HOTMA.dependent_deduction, PRE_HOTMA.elderly_disabled_deduction, PRE_HOTMA.medical_threshold_pct) == (480, 400, 3)
    assert (HOTMA_2024.elderly_disabled_deduction, HOTMA_2026.dependent_deduction, HOTMA_2026.elderly_disabled_deduction) == (525, 500, 550)
    assert [r.asset_imputation_threshold for r in (HOTMA_2024, HOTMA_2025, HOTMA_2026)] == [50000, 51600, 52787]
    assert [r.passbook_rate for r in (HOTMA_2024, HOTMA_2025, HOTMA_2026)] == [Decimal("0.004"), Decimal("0.0045"), Decimal("0.004")]
    assert [r.asset_limit for r in (HOTMA_2024, HOTMA_2025, HOTMA_2026)] == [100000, 103200, 105574]


# -- member and household income ---------------------------------------------------------------------------

ON = date(2026, 6, 1)


def _m(mid, rel, born, *sources, student=False):
    return Member(mid, rel, born, full_time_student=student, incomes=tuple(IncomeSource(*s) for s in sources))


def test_minor_earned_income_excluded_unearned_counted():
    child = _m("c", "C", date(2012, 1, 1), ("wages", Decimal(3000)), ("social-security", Decimal(2400)))
    mi = income.member_income(child, ON, PRE_HOTMA)
    assert mi.total == 2400 and mi.excluded == 3000


def test_head_of_household_under_18_counts_everything():
    head = _m("h", "H", date(2010, 1, 1), ("wages", Decimal(9000)))
    assert income.member_income(head, ON, PRE_HOTMA).total == 9000


@pytest.mark.parametrize("ruleset, counted", [(PRE_HOTMA, 480), (HOTMA_2026, 500)])
def test_full_time_student_dependent_earned_income_capped_at_dependent_deduction(ruleset, counted):
    student = _m("s", "C", date(2005, 1, 1), ("wages", Decimal(6000)), student=True)
    mi = income.member_income(student, ON, ruleset)
    assert mi.employment == counted and mi.excluded == 6000 - counted


def test_excluded_kinds_and_live_in_aide():
    m = _m("a", "O", date(1970, 1, 1), ("foster-care", Decimal(5000)), ("nonrecurring", Decimal(800)),
           ("adoption-assistance", Decimal(900)), ("pension", Decimal(12000)))
    mi = income.member_income(m, ON, PRE_HOTMA)
    assert (mi.benefits, mi.other, mi.excluded) == (12000, 480, 5000 + 800 + 420)
    aide = _m("l", "L", date(1970, 1, 1), ("wages", Decimal(30000)))
    assert income.member_income(aide, ON, PRE_HOTMA).total == 0
    assert income.household_size([m, aide]) == 1


# -- assets -------------------------------------------------------------------------------------------------


def test_pre_hotma_assets_greater_of_actual_or_imputed_above_5000():
    assets = [Asset("savings", Decimal(200000), Decimal(20))]
    r = income.asset_income(assets, PRE_HOTMA)
    assert r.imputed_income == Decimal("120.00") and r.counted_income == Decimal("120.00")  # 0.06 %
    at_threshold = income.asset_income([Asset("savings", Decimal(5000), Decimal(1))], PRE_HOTMA)
    assert at_threshold.counted_income == 1 and not at_threshold.imputation_applies
    assert income.asset_income(assets, PRE_HOTMA_BEFORE_2014).counted_income == Decimal("4000.00")  # 2 %


def test_hotma_imputes_only_non_calculable_assets_above_threshold():
    assets = [Asset("savings", Decimal(40000), Decimal(400)), Asset("land", Decimal(20000), None),
              Asset("retirement", Decimal(300000), Decimal(9000))]
    r = income.asset_income(assets, HOTMA_2026)
    assert r.net_family_assets == 60000  # retirement excluded under HOTMA
    assert r.imputed_income == Decimal("80.00")  # 20,000 × 0.40 %
    assert r.counted_income == Decimal("480.00")
    below = income.asset_income([Asset("land", Decimal(52787), None)], HOTMA_2026)
    assert below.counted_income == 0 and not below.imputation_applies  # equal to the threshold: no imputation
    pre = income.asset_income(assets, PRE_HOTMA)  # retirement counted before HOTMA
    assert pre.net_family_assets == 360000 and pre.counted_income == Decimal(9400)


def test_household_income_whole_dollars_round_up():
    members = [Member("h", "H", date(1980, 1, 1), incomes=(IncomeSource("wages", Decimal("1000.10"), "monthly"),),
                      assets=(Asset("checking", Decimal(1000), Decimal("0.55")),))]
    hi = income.household_income(members, ON, PRE_HOTMA)
    assert hi.annual_income == Decimal("12001.75") and hi.annual_income_whole == 12002


# -- Section 8 -------------------------------------------------------------------------------------------------


def test_ttp_half_dollar_rounds_up():
    # adjusted 20,020 / 40 = 500.50 → 501 (dividing by 12 first would lose the half dollar)
    assert section8.total_tenant_payment(annual_income=24000, adjusted_income=20020) == 501
    assert section8.total_tenant_payment(29700, 29700) == 743  # 742.50 → 743, not banker's 742
    assert section8.total_tenant_payment(29699, 29699) == 742  # 742.475 → 742


def test_ttp_prongs():
    assert section8.total_tenant_payment(60000, 10000) == 500  # 10 % of monthly annual income
    assert section8.total_tenant_payment(0, 0, minimum_rent=50) == 50
    assert section8.total_tenant_payment(1200, 1000, welfare_rent=Decimal(120)) == 120
    with pytest.raises(ValueError):
        section8.total_tenant_payment(0, 0, minimum_rent=75)


def test_hap_lower_of_and_never_negative():
    assert section8.hap(1180, 1250, 400) == 780  # payment standard − TTP
    assert section8.hap(1180, 1000, 400) == 600  # gross rent − TTP
    assert section8.hap(1180, 300, 400) == 0
    share = section8.family_share(1250, 780)
    assert share == 470 and section8.tenant_rent_to_owner(share, 90).tenant_rent == 380
    assert section8.tenant_rent_to_owner(50, 90).utility_reimbursement == 40


def test_initial_affordability_cap():
    # payment standard 1,180 + 40 % of monthly adjusted (24,000 / 30 = 800) − TTP 600 = 1,380
    assert section8.max_initial_gross_rent(1180, 24000, 600) == 1380
    assert section8.max_initial_gross_rent(1180, 24010, 600) == 1380  # 1,380.33 → down


def test_payment_standard_rules():
    assert section8.payment_standard_for_family(1180, 1062) == 1062
    assert section8.in_basic_range(1062, 1180) and section8.in_basic_range(1298, 1180)
    assert not section8.in_basic_range(1299, 1180)


@pytest.mark.parametrize(
    "ruleset, expected",
    [
        # 30,000 − 2 × 480 − 400 − (2,000 − 900) = 27,540   (pre-HOTMA: medical above 3 %)
        (PRE_HOTMA, Decimal(27540)),
        # 30,000 − 2 × 500 − 550 − max(0, 2,000 − 3,000) = 28,450   (HOTMA CY2026: above 10 %)
        (HOTMA_2026, Decimal(28450)),
    ],
)
def test_adjusted_income_hotma_vs_pre_hotma(ruleset, expected):
    adjusted = section8.adjusted_income(30000, ruleset=ruleset, dependents=2, elderly_or_disabled_family=True,
                                        medical_expenses=2000)
    assert adjusted == expected


def test_adjusted_income_child_care_cap_and_floor():
    assert section8.adjusted_income(20000, ruleset=PRE_HOTMA, child_care_expenses=6000, child_care_enabled_earnings=4000) == 16000
    assert section8.adjusted_income(500, ruleset=PRE_HOTMA, dependents=3) == 0


def test_family_facts():
    members = [Member("h", "H", date(1960, 1, 1)), Member("c", "C", date(2015, 1, 1)),
               Member("s", "O", date(2003, 1, 1), full_time_student=True), Member("f", "F", date(2016, 1, 1))]
    facts = section8.family_facts(members, date(2026, 6, 1))
    assert facts.dependents == 2 and facts.elderly_or_disabled_family  # head is 66; foster child not a dependent


def test_asset_limit_only_under_hotma():
    assert section8.exceeds_asset_limit(105575, HOTMA_2026) and not section8.exceeds_asset_limit(105574, HOTMA_2026)
    assert not section8.exceeds_asset_limit(10**7, PRE_HOTMA)
