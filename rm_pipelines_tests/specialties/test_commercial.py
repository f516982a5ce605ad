"""CAM reconciliation, percentage rent and TI allowances: hand-checkable cases of compliance-rules.md §9."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from fractions import Fraction

import pytest

from rm_pipelines.specialties.commercial import (
    AreaPeriod,
    CamLease,
    Cap,
    ExpenseLine,
    ExpensePool,
    cap_amount,
    gross_up,
    pro_rata_share,
    reconcile,
)
from rm_pipelines.specialties.percentage_rent import PercentageLease, SalesReport, percentage_rent
from rm_pipelines.specialties.tenant_improvements import TiAllowance, level_payment, ti_status

D = 100  # cents per dollar


def pool(year: int, occupied_pct: int = 100, rsf: int = 10_000, **lines: int) -> ExpensePool:
    days = (date(year + 1, 1, 1) - date(year, 1, 1)).days
    return ExpensePool("P", year, tuple(ExpenseLine(k, v * D) for k, v in lines.items()), rsf,
                       rsf * days * occupied_pct // 100)


def lease(**kw) -> CamLease:
    base = dict(tenant_id="T", tenant_name="Tenant", property_id="P", lease_type="nnn",
                areas=(AreaPeriod(date(2020, 1, 1), None, 2_000),))
    base.update(kw)
    return CamLease(**base)


def test_pro_rata_share_building_leased_floor_and_partial_year():
    p = pool(2025, occupied_pct=80, CAM=100_000)
    assert pro_rata_share(lease(), p) == Fraction(1, 5)  # 2,000 / 10,000
    assert pro_rata_share(lease(denominator="leased"), p) == Fraction(1, 4)  # 2,000 / 8,000 leased
    assert pro_rata_share(lease(denominator="leased", denominator_floor_pct=Decimal(95)), p) == Fraction(2000, 9500)
    # moved in on Jul 1, 2025: 184 of 365 days
    half = lease(areas=(AreaPeriod(date(2025, 7, 1), None, 2_000),))
    assert pro_rata_share(half, p) == Fraction(2000 * 184, 10_000 * 365)
    # expansion from 2,000 to 3,000 RSF on Oct 1 (92 days at 3,000)
    grown = lease(areas=(AreaPeriod(date(2020, 1, 1), date(2025, 9, 30), 2_000),
                         AreaPeriod(date(2025, 10, 1), None, 3_000)))
    assert pro_rata_share(grown, p) == Fraction(2000 * 273 + 3000 * 92, 10_000 * 365)


def test_gross_up_variable_only_below_the_level():
    line = ExpenseLine("CAM", 80_000 * D)
    assert gross_up(line, Fraction(80, 100), Decimal(95)) == 95_000 * D  # 80,000 / 0.80 × 0.95
    assert gross_up(line, Fraction(96, 100), Decimal(95)) == 80_000 * D  # above the level: as is
    assert gross_up(ExpenseLine("TAX", 50_000 * D), Fraction(80, 100), Decimal(95)) == 50_000 * D  # fixed: never


def test_nnn_reconciliation_with_gross_up_admin_fee_and_true_up():
    # 80 % occupied; CAM 80,000 → 95,000 grossed up; TAX 40,000 fixed; admin 10 % of CAM only = 9,500
    p = pool(2025, occupied_pct=80, CAM=80_000, TAX=40_000)
    r = reconcile(lease(gross_up_pct=Decimal(95), admin_fee_pct=Decimal(10)), {2025: p}, 2025, 25_000 * D)
    assert r.determined and r.grossed_up_pool_cents == 135_000 * D and r.admin_fee_cents == 9_500 * D
    assert r.recoverable_cents == 144_500 * D and r.tenant_share_cents == 28_900 * D  # × 20 %
    assert r.true_up_cents == 3_900 * D and r.action == "invoice"
    credit = reconcile(lease(), {2025: pool(2025, CAM=100_000)}, 2025, 21_000 * D)
    assert credit.tenant_share_cents == 20_000 * D and credit.true_up_cents == -1_000 * D and credit.action == "credit"


def test_base_year_grossed_up_the_same_way():
    # base year 2023 at 70 % occupancy: CAM 70,000 → 95,000; 2025 at 95 %: CAM 100,000 (not grossed up)
    pools = {2023: pool(2023, occupied_pct=70, CAM=70_000, TAX=30_000),
             2025: pool(2025, occupied_pct=95, CAM=100_000, TAX=36_000)}
    r = reconcile(lease(lease_type="base_year", base_year=2023, gross_up_pct=Decimal(95)), pools, 2025, 0)
    assert r.base_cents == 125_000 * D and r.recoverable_cents == 136_000 * D
    assert r.tenant_share_cents == 2_200 * D  # 20 % × (136,000 − 125,000)
    below = reconcile(lease(lease_type="base_year", base_year=2025), {2025: pools[2025]}, 2025, 0)
    assert below.tenant_share_cents == 0  # never negative


def test_expense_stop_in_dollars_and_per_square_foot():
    pools = {2025: pool(2025, CAM=100_000, TAX=20_000)}
    r = reconcile(lease(lease_type="expense_stop", expense_stop_cents=100_000 * D), pools, 2025, 0)
    assert r.tenant_share_cents == 4_000 * D  # 20 % × (120,000 − 100,000)
    psf = reconcile(lease(lease_type="expense_stop", expense_stop_psf_cents=11 * D), pools, 2025, 0)
    assert psf.base_cents == 110_000 * D and psf.tenant_share_cents == 2_000 * D  # $11 × 10,000 RSF


# Controllable CAM of four years: 100,000 (base) → 103,000 → 112,000 → 109,000, cap 5 %.
CAP_YEARS = {2022: 100_000, 2023: 103_000, 2024: 112_000, 2025: 109_000}


@pytest.mark.parametrize("kind,expected_caps,expected_billed", [
    # non-cumulative: prior billed × 1.05: 105,000 (103,000 billed) → 108,150 (billed) → 113,557.50
    ("non_cumulative", [100_000_00, 105_000_00, 108_150_00, 113_557_50],
     [100_000_00, 103_000_00, 108_150_00, 109_000_00]),
    # cumulative compounding: 100,000 × 1.05^(n−1): 105,000, 110,250, 115,762.50 — unused room carries
    ("cumulative_compounding", [100_000_00, 105_000_00, 110_250_00, 115_762_50],
     [100_000_00, 103_000_00, 110_250_00, 109_000_00]),
    # cumulative simple: 100,000 × (1 + 0.05(n−1)): 105,000, 110,000, 115,000
    ("cumulative_simple", [100_000_00, 105_000_00, 110_000_00, 115_000_00],
     [100_000_00, 103_000_00, 110_000_00, 109_000_00]),
])
def test_caps_over_several_years(kind, expected_caps, expected_billed):
    pools = {y: pool(y, CAM=v, TAX=20_000) for y, v in CAP_YEARS.items()}
    lse = lease(cap=Cap(kind, Decimal(5), 2022))
    r = reconcile(lse, pools, 2025, 0)
    assert [h.cap_cents for h in r.cap_history] == expected_caps
    assert [h.billed_controllable_cents for h in r.cap_history] == expected_billed
    assert r.capped_controllable_cents == expected_billed[-1]
    # the 2024 reconciliation bills the capped controllable plus the (uncapped) taxes
    r24 = reconcile(lse, pools, 2024, 0)
    assert r24.tenant_share_cents == round((expected_billed[2] + 20_000_00) / 5)


def test_cap_excludes_uncontrollable_and_can_apply_to_the_share():
    pools = {2024: pool(2024, CAM=100_000, UTILITIES=10_000, SNOW=5_000),
             2025: pool(2025, CAM=120_000, UTILITIES=30_000, SNOW=9_000)}
    r = reconcile(lease(cap=Cap("cumulative_compounding", Decimal(5), 2024)), pools, 2025, 0)
    assert r.capped_controllable_cents == 105_000 * D and r.uncontrollable_cents == 39_000 * D
    share = reconcile(lease(cap=Cap("cumulative_compounding", Decimal(5), 2024, applies_to="share")), pools, 2025, 0)
    assert share.cap_cents == 21_000 * D  # 20 % × 100,000 × 1.05
    assert share.tenant_share_cents == r.tenant_share_cents


def test_cap_amount_rounds_half_up():
    assert cap_amount(Cap("cumulative_compounding", Decimal("3.5"), 2020), 2023, 33_333, None) == 36_957  # 36,956.69…


def test_missing_data_is_undetermined_not_zero():
    assert not reconcile(lease(), {}, 2025, 100).determined
    no_area = ExpensePool("P", 2025, (ExpenseLine("CAM", 100),), 0, 0)
    r = reconcile(lease(), {2025: no_area}, 2025, 100)
    assert not r.determined and "no denominator" in r.reason and r.true_up_cents is None
    assert not reconcile(lease(lease_type="base_year", base_year=2019), {2025: pool(2025, CAM=1)}, 2025, 0).determined


def test_percentage_rent_natural_artificial_and_partial_year():
    sales = [SalesReport(date(2025, m, 1), 100_000 * D, 2_000 * D) for m in range(1, 13)]  # net 1,176,000
    natural = PercentageLease("T", "Shop", "P", Decimal(6), 60_000 * D, None, date(2020, 1, 1), None)
    Y0, Y1 = date(2025, 1, 1), date(2025, 12, 31)
    r = percentage_rent(natural, Y0, Y1, sales, 10_000 * D)
    assert r.breakpoint_cents == 1_000_000 * D  # 60,000 / 6 %
    assert r.percentage_rent_cents == 10_560 * D and r.true_up_cents == 560 * D  # 6 % × 176,000
    artificial = PercentageLease("T", "Shop", "P", Decimal(6), 60_000 * D, 1_100_000 * D, date(2020, 1, 1), None)
    assert percentage_rent(artificial, Y0, Y1, sales, 0).percentage_rent_cents == 4_560 * D
    part = PercentageLease("T", "Shop", "P", Decimal(6), 60_000 * D, None, date(2025, 7, 1), None)
    r = percentage_rent(part, Y0, Y1, sales[6:], 0)  # 184 days: breakpoint 1,000,000 × 184/365
    assert r.breakpoint_cents == 50_410_959 and r.net_sales_cents == 588_000 * D
    assert r.percentage_rent_cents == 503_342  # 6 % × (58,800,000 − 50,410,958.90) = 503,342.47
    low = [SalesReport(date(2025, m, 1), 1_000, 0) for m in range(1, 13)]
    assert percentage_rent(natural, Y0, Y1, low, 0).percentage_rent_cents == 0
    missing = percentage_rent(natural, Y0, Y1, sales[:11], 0)  # December not reported
    assert not missing.determined and missing.reason == "sales reported for 11 of 12 months"
    assert not percentage_rent(natural, date(2024, 1, 1), date(2024, 12, 31), sales, 0).determined


def test_ti_allowance_remaining_and_amortisation():
    s = ti_status(TiAllowance("T", "Shop", "P", 50_000 * D, 30_000 * D, date(2025, 1, 1)), date(2025, 6, 1))
    assert (s.remaining_cents, s.overdrawn_cents, s.amortized) == (20_000 * D, 0, False)
    assert ti_status(TiAllowance("T", "S", "P", 10 * D, 12 * D, date(2025, 1, 1)), date(2025, 6, 1)).overdrawn_cents == 200
    assert level_payment(12_000 * D, 12, Decimal(0)) == 1_000 * D
    assert level_payment(10_000 * D, 12, Decimal(12)) == 88_849  # 10,000 × 0.01 / (1 − 1.01^−12) = 888.4879
    am = ti_status(TiAllowance("T", "Shop", "P", 10_000 * D, 10_000 * D, date(2025, 1, 15), 12, Decimal(12)),
                   date(2025, 3, 20))
    # two payments (Feb, Mar): 1,000,000 → +10,000 −88,849 = 921,151 → +9,212 −88,849 = 841,514 cents
    assert (am.payments_made, am.unamortized_cents) == (2, 841_514)
    done = ti_status(TiAllowance("T", "S", "P", 1_000, 1_000, date(2020, 1, 1), 12, Decimal(5)), date(2026, 1, 1))
    assert done.unamortized_cents == 0
