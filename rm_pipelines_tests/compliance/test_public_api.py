"""The documented public API, called exactly as the issue shows it (compliance-rules.md §1-§4, §8)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from rm_pipelines.compliance import (
    home,
    income,
    income_averaging,
    lihtc,
    limits,
    section8,
    usda515,
)
from rm_pipelines.compliance.model import Asset, IncomeSource, Member
from rm_pipelines.compliance.rulesets import HOTMA_2026, PRE_HOTMA


def test_issue_api_walkthrough():
    table = limits.IncomeLimitTable(area="METRO14460MM1120", fiscal_year=2026,
                                    vli_50=[60000, 68600, 77150, 85700, 92600, 99450, 106300, 113150])
    assert table.limit(60, 2) == 82320 and table.limit(60, 1.5) == 77160
    assert limits.derive_household_sizes(85700)[0] == 60000
    assert lihtc.imputed_household_size(0) == 1 and lihtc.imputed_household_size(3) == Decimal("4.5")
    assert lihtc.max_gross_rent(table, 60, 2) == 2314
    assert lihtc.set_aside_required_units(10, "40-60") == 4
    assert lihtc.over_income_threshold(table, 2, election="40-60", designation_pct=None, deep_rent_skewed=False) == Decimal("115248")
    result = income_averaging.average_test([80, 40, 60])
    assert (result.passed, result.average, result.invalid_designations) == (True, Decimal("60.00"), ())
    adjusted = section8.adjusted_income(24000, as_of=date(2026, 9, 1), dependents=2)
    assert adjusted == 23040  # pre-HOTMA without an agency adoption date
    assert section8.adjusted_income(24000, as_of=date(2026, 9, 1), hotma_adoption_date=date(2026, 1, 1), dependents=2) == 23000
    ttp = section8.total_tenant_payment(24000, adjusted, minimum_rent=0)
    assert ttp == 576
    assert section8.hap(1180, 1340, ttp) == 604
    assert section8.max_initial_gross_rent(1180, adjusted, ttp) == 1372  # 1,180 + 768 − 576
    assert home.low_home_units_required(6) == 2
    rents = home.rent_limits(limits.HomeRentTable(area="A", fiscal_year=2026, low=[900], high=[1100]), 0)
    assert (rents.high, rents.low) == (1100, 900)
    tc = usda515.tenant_contribution(12000, 15000, 500, 700, 100, False)
    assert tc.gross_tenant_contribution == 600
    assert income.annualize(Decimal(960), "weekly") == 49920
    assert income.asset_income([Asset("savings", Decimal(60000), None)], HOTMA_2026).imputed_income == Decimal("240.00")


def test_household_income_per_member_matches_bulk_totals():
    members = [
        Member("h", "H", date(1980, 1, 1), incomes=(IncomeSource("wages", Decimal("2500.25"), "semimonthly"),
                                                     IncomeSource("pension", Decimal(300), "monthly")),
               assets=(Asset("savings", Decimal(7000), Decimal(12)),)),
        Member("c", "C", date(2012, 5, 1), incomes=(IncomeSource("wages", Decimal(2000)), IncomeSource("ssi", Decimal(900)))),
        Member("s", "O", date(2004, 5, 1), full_time_student=True, incomes=(IncomeSource("wages", Decimal(9000)),)),
        Member("l", "L", date(1970, 1, 1), incomes=(IncomeSource("wages", Decimal(30000)),),
               assets=(Asset("savings", Decimal(90000), Decimal(900)),)),
    ]
    for ruleset in (PRE_HOTMA, HOTMA_2026):
        detailed = income.household_income(members, date(2026, 6, 1), ruleset)
        bulk = income.household_totals(members, date(2026, 6, 1), ruleset)
        assert detailed.annual_income == bulk.annual_income
        assert detailed.gross_income == sum((m.total for m in detailed.members), Decimal(0))
        assert bulk.household_size == 3
    pre = income.household_income(members, date(2026, 6, 1), PRE_HOTMA)
    # head 60,006 + 3,600; child's SSI 900 (wages excluded); student capped at 480; aide excluded; assets 7,000 > 5,000:
    # greater of actual 12 and 7,000 × 0.06 % = 4.20 → 12
    assert pre.annual_income == Decimal("60006.00") + 3600 + 900 + 480 + 12
