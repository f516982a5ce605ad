"""LIHTC rules with hand-checkable numbers (compliance-rules.md §1.1, §1.3, §1.4, §1.8, §8.6)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from rm_pipelines.compliance import income_averaging, lihtc
from rm_pipelines.compliance.limits import IncomeLimitTable
from rm_pipelines.compliance.rounding import D

from .factories import BOSTON

T = IncomeLimitTable(area=BOSTON, fiscal_year=2026, vli_50=[60000, 68600, 77150, 85700, 92600, 99450, 106300, 113150])


@pytest.mark.parametrize("bedrooms, size", [(0, 1), (1, "1.5"), (2, 3), (3, "4.5"), (4, 6), (5, "7.5")])
def test_imputed_household_size(bedrooms, size):
    assert lihtc.imputed_household_size(bedrooms) == Decimal(size)


def test_imputed_size_is_not_one_plus_one_and_a_half_per_bedroom():
    assert lihtc.imputed_household_size(2) != 1 + Decimal("1.5") * 2


@pytest.mark.parametrize(
    "pct, bedrooms, expected",
    [
        (60, 0, 1800),  # 72,000 / 40
        (60, 1, 1929),  # (72,000 + 82,320) / 2 = 77,160 / 40 = 1,929
        (60, 2, 2314),  # 92,580 / 40 = 2,314.50 → floor, never 2,315
        (60, 3, 2674),  # (102,840 + 111,120) / 2 = 106,980 / 40 = 2,674.50 → 2,674
        (50, 2, 1928),  # 77,150 / 40 = 1,928.75 → 1,928
        (50, 1, 1607),  # (60,000 + 68,600) / 2 = 64,300 / 40 = 1,607.50 → 1,607
    ],
)
def test_max_gross_rent_rounds_down(pct, bedrooms, expected):
    assert lihtc.max_gross_rent(T, pct, bedrooms) == expected


def test_state_occupancy_rule_bedrooms_plus_one():
    assert lihtc.max_gross_rent(T, 60, 3, "bedrooms-plus-one") == 102840 // 40  # 4 persons: 2,571
    assert lihtc.max_gross_rent(T, 60, 3) == 2674  # 4.5 persons under §42


def test_gross_rent_and_rent_test():
    gross = lihtc.gross_rent("1725", 76, 0)
    assert gross == 1801 and not lihtc.rent_compliant(gross, 1800)
    assert lihtc.rent_compliant(lihtc.gross_rent(1724, 76), 1800)  # equal to the maximum complies
    assert lihtc.gross_rent(1500, 100, 25, usda_overage=50) == 1575
    assert lihtc.max_tenant_rent(2314, 100, 14) == 2200


def test_utility_allowance_change_applies_90_days_later():
    history = [(date(2026, 1, 1), Decimal(80)), (date(2026, 7, 15), Decimal(95))]
    assert lihtc.applicable_utility_allowance(95, history, date(2026, 10, 1)) == 80  # 78 days
    assert lihtc.applicable_utility_allowance(95, history, date(2026, 10, 13)) == 95  # exactly 90 days
    assert lihtc.applicable_utility_allowance(70, (), date(2026, 10, 1)) == 70


@pytest.mark.parametrize(
    "units, election, required",
    [(10, "40-60", 4), (11, "40-60", 5), (11, "20-50", 3), (5, "20-50", 1), (100, "25-60", 25),
     (9, "income-averaging", 4), (1, "40-60", 1), (0, "40-60", 0)],
)
def test_set_aside_required_units_ceil(units, election, required):
    assert lihtc.set_aside_required_units(units, election) == required


def test_nyc_income_averaging_is_25_percent():
    assert lihtc.set_aside_required_units(9, "income-averaging", nyc=True) == 3


def test_income_equal_to_limit_qualifies_and_is_rounded_up():
    assert lihtc.income_qualifies(Decimal(82320), T.limit(60, 2))
    assert not lihtc.income_qualifies(Decimal("82320.01"), T.limit(60, 2))  # rounds up to 82,321


def test_over_income_threshold_140_percent_boundary():
    threshold = lihtc.over_income_threshold(T, 3, "40-60")
    assert threshold == Decimal("129612")  # 1.4 × 92,580
    assert not lihtc.is_over_income(Decimal(129612), threshold)  # equal is not over
    assert lihtc.is_over_income(Decimal(129613), threshold)
    assert lihtc.over_income_threshold(T, 3, "20-50") == Decimal("108010")  # 1.4 × 77,150


def test_over_income_threshold_income_averaging_and_deep_rent_skewed():
    assert lihtc.over_income_threshold(T, 1, "income-averaging", designation_pct=40) == Decimal("100800")  # 1.4 × 60 %
    assert lihtc.over_income_threshold(T, 1, "income-averaging", designation_pct=80) == Decimal("134400")  # 1.4 × 96,000
    assert lihtc.over_income_threshold(T, 1, "40-60", deep_rent_skewed=True) == Decimal("122400")  # 1.7 × 72,000


def test_next_unit_income_pct():
    assert lihtc.next_unit_income_pct("20-50") == 50
    assert lihtc.next_unit_income_pct("income-averaging", unit_designation=30) == 30
    assert lihtc.next_unit_income_pct("income-averaging", unit_designation=None, unit_was_low_income=False) == 60
    assert lihtc.next_unit_income_pct("40-60", deep_rent_skewed=True) == 40
    assert lihtc.next_unit_income_pct("income-averaging", True, unit_designation=30) == 30


# -- next available unit rule ---------------------------------------------------------------------------


def _hold(**kw):
    base = dict(unit_id="U1", household_id="H1", scope="B1", bedrooms=2, starts=date(2026, 6, 1))
    base.update(kw)
    return lihtc.OverIncomeHold(**base)


def _lease(unit_id, bedrooms, move_in, qualified, scope="B1", low_income_unit=True):
    return lihtc.LeaseUp(unit_id, f"H-{unit_id}", scope, bedrooms, move_in, qualified, low_income_unit)


def test_naur_violation_on_comparable_unit_rented_to_over_income_household():
    [out] = lihtc.apply_next_available_unit_rule([_hold()], [_lease("U2", 1, date(2026, 7, 1), False)], date(2026, 9, 1))
    assert out.status == "violated" and out.resolved_on == date(2026, 7, 1)


def test_naur_satisfied_by_qualified_lease_then_later_market_lease_is_fine():
    leases = [_lease("U2", 2, date(2026, 7, 1), True), _lease("U3", 1, date(2026, 8, 1), False)]
    [out] = lihtc.apply_next_available_unit_rule([_hold()], leases, date(2026, 9, 1))
    assert out.status == "satisfied" and out.resolved_by.unit_id == "U2"


def test_naur_larger_unit_other_building_or_before_hold_do_not_count():
    leases = [_lease("U2", 3, date(2026, 7, 1), False), _lease("U3", 1, date(2026, 7, 1), False, scope="B2"),
              _lease("U4", 1, date(2026, 5, 1), False)]
    [out] = lihtc.apply_next_available_unit_rule([_hold()], leases, date(2026, 9, 1))
    assert out.status == "open"


def test_naur_hold_ends_when_household_leaves():
    [out] = lihtc.apply_next_available_unit_rule([_hold(ends=date(2026, 6, 30))],
                                                 [_lease("U2", 1, date(2026, 7, 1), False)], date(2026, 9, 1))
    assert out.status == "ended"


def test_naur_one_qualified_lease_satisfies_one_hold_and_bad_lease_violates_all_open():
    holds = [_hold(), _hold(unit_id="U9", household_id="H9", starts=date(2026, 6, 15))]
    leases = [_lease("U2", 1, date(2026, 7, 1), True), _lease("U3", 1, date(2026, 7, 2), False)]
    outs = lihtc.apply_next_available_unit_rule(holds, leases, date(2026, 9, 1))
    assert [o.status for o in outs] == ["satisfied", "violated"]


def test_naur_deep_rent_skewed_covers_any_low_income_unit():
    hold = _hold(deep_rent_skewed=True)
    [out] = lihtc.apply_next_available_unit_rule([hold], [_lease("U2", 4, date(2026, 7, 1), False)], date(2026, 9, 1))
    assert out.status == "violated"
    [out] = lihtc.apply_next_available_unit_rule([hold], [_lease("U2", 1, date(2026, 7, 1), False, low_income_unit=False)],
                                                 date(2026, 9, 1))
    assert out.status == "open"


# -- applicable fraction ------------------------------------------------------------------------------------


def test_applicable_fraction_lesser_and_four_decimals_truncated():
    af = lihtc.applicable_fraction(2, 3, 1500, 2400)
    assert af.unit_fraction == Decimal("0.6666")  # 0.66666… truncated, not 0.6667
    assert af.floor_space_fraction == Decimal("0.6250")
    assert af.applicable_fraction == Decimal("0.6250")
    assert lihtc.applicable_fraction(0, 0, 0, 0).applicable_fraction == 0


# -- income averaging ---------------------------------------------------------------------------------------


def test_income_averaging_regulation_example():
    ten = [80] * 5 + [40] * 5
    assert income_averaging.average_test(ten) == income_averaging.AverageTest(True, Decimal("60.00"), 10, ())
    nine = [80] * 5 + [40] * 4
    result = income_averaging.average_test(nine)
    assert not result.passed and result.average == Decimal("62.22")
    group = income_averaging.qualified_group([(f"u{i}", d) for i, d in enumerate(nine)])
    assert len(group.unit_ids) == 8 and group.average == Decimal("60.00") and len(group.dropped) == 1


def test_income_averaging_invalid_designations():
    result = income_averaging.average_test([60, 65, 55, 60])
    assert not result.passed and result.invalid_designations == (55, 65)
    assert income_averaging.average_test([90, 30]).invalid_designations == (90,)
    assert not income_averaging.average_test([]).passed
    group = income_averaging.qualified_group([("a", 65), ("b", 60)])
    assert group.unit_ids == ("b",)


def test_income_averaging_set_aside():
    assert income_averaging.set_aside_met(4, 10) and not income_averaging.set_aside_met(3, 10)
    assert income_averaging.set_aside_met(3, 10, nyc=True)


def test_money_refuses_floats():
    with pytest.raises(TypeError):
        D(1.5)
    with pytest.raises(TypeError):
        lihtc.gross_rent(1725.0, 76)
    assert D("$1,234.50") == Decimal("1234.50")
