"""LIHTC (IRC §42) rules: set-asides, rent limits, the 140 %/170 % rule and the next available unit rule,
and the applicable fraction (compliance-rules.md §1.1, §1.3, §1.4, §1.8, §8.6).

Rounding: maximum rents **down** to the dollar (``floor(IL / 40)``); minimum unit counts **up**; income is
compared with limits as ``income <= limit`` (equality qualifies) after rounding income **up** to the dollar;
"over income" is strictly greater than the threshold (equal to 140 % is not over).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction
from typing import Iterable, Sequence

from .limits import IncomeLimitTable
from .rounding import D, Money, ceil_dollars, ceil_int, floor_dollars, truncate

ZERO = Decimal(0)

SET_ASIDE_RULES: dict[str, tuple[int, int | None]] = {
    "20-50": (20, 50),
    "40-60": (40, 60),
    "25-60": (25, 60),
    "income-averaging": (40, None),
}
"""Election → (minimum % of residential units, income limit %); income averaging uses each unit's
designation (§1.1). NYC income averaging needs 25 % of units (``nyc=True``)."""

OVER_INCOME_FACTOR = 140
DEEP_RENT_SKEWED_FACTOR = 170
UA_CHANGE_LAG_DAYS = 90


def imputed_household_size(bedrooms: int) -> Decimal:
    """Imputed household size for a unit's rent limit (§42(g)(2)(C), §1.3): **1** person for a unit with no
    separate bedroom, otherwise **1.5 per bedroom** (1BR 1.5, 2BR 3, 3BR 4.5, 4BR 6, 5BR 7.5).
    Not "1 + 1.5 × bedrooms" (a known third-party error)."""
    if isinstance(bedrooms, bool) or not isinstance(bedrooms, int) or bedrooms < 0:
        raise ValueError(f"bedrooms must be a whole number ≥ 0, got {bedrooms!r}")
    return Decimal(1) if bedrooms == 0 else Decimal(3) * bedrooms / 2


def imputed_size_for(bedrooms: int, rule: str = "1.5-per-bedroom") -> Decimal:
    """Imputed size under a program's occupancy rule: ``1.5-per-bedroom`` (§42) or ``bedrooms-plus-one``
    (some state programs, §6)."""
    if rule == "1.5-per-bedroom":
        return imputed_household_size(bedrooms)
    if rule == "bedrooms-plus-one":
        return Decimal(bedrooms + 1)
    raise ValueError(f"unknown household size rule {rule!r}")


def max_gross_rent(
    table: IncomeLimitTable, pct: int, bedrooms: int, household_size_rule: str = "1.5-per-bedroom"
) -> int:
    """Maximum monthly gross rent (§1.3): ``floor(IL(pct, imputed size) × 0.30 / 12) = floor(IL / 40)``.

    The limit for a fractional size is the mean of its neighbours (no rounding); only the final rent is
    rounded, and always **down** to the whole dollar (a maximum never rounds up). E.g. Boston FY2026 60 %
    2BR: IL(3) = 92,580 → 2,314.50 → **$2,314**.
    """
    limit = table.limit(pct, imputed_size_for(bedrooms, household_size_rule))
    return floor_dollars(limit / 40)


def gross_rent(
    tenant_rent: Money, utility_allowance: Money = 0, mandatory_fees: Money = 0, usda_overage: Money = 0
) -> Decimal:
    """Gross rent for the rent test (§1.3): tenant-paid rent + utility allowance + mandatory fees.
    Rental assistance (Section 8 HAP, RD RA) is **excluded** by not being an input; RD Section 515 overage
    remitted to RD is subtracted (§42(g)(2)(B)(iv))."""
    return D(tenant_rent) + D(utility_allowance) + D(mandatory_fees) - D(usda_overage)


def max_tenant_rent(max_gross: Money, utility_allowance: Money = 0, mandatory_fees: Money = 0) -> Decimal:
    """Maximum tenant-paid rent = maximum gross rent − UA − mandatory fees (§1.3)."""
    return D(max_gross) - D(utility_allowance) - D(mandatory_fees)


def rent_compliant(gross: Money, max_gross: Money) -> bool:
    """A unit is rent-restricted when gross rent ≤ the maximum (equality complies; §42(g)(2)(A))."""
    return D(gross) <= D(max_gross)


def applicable_utility_allowance(
    current: Money, history: Sequence[tuple[date, Money]], rent_due: date
) -> Decimal:
    """The UA that applies to rent due on ``rent_due`` (§1.3 UA rules): a changed UA applies to rents due
    **90 days after the change**. ``history`` lists ``(change_date, amount)``; the latest change at least 90
    days before ``rent_due`` wins; with no such change, the earliest known amount (or ``current``)."""
    if not history:
        return D(current)
    ordered = sorted(history, key=lambda item: item[0])
    applicable = None
    for changed, amount in ordered:
        if changed + timedelta(days=UA_CHANGE_LAG_DAYS) <= rent_due:
            applicable = D(amount)
    return applicable if applicable is not None else D(ordered[0][1])


# -- set-aside ---------------------------------------------------------------------------------------------


def set_aside_required_units(total_units: int, election: str, nyc: bool = False) -> int:
    """Minimum number of qualifying units for a set-aside election (§1.1): **ceil**(pct × residential units).

    ``"20-50"`` 20 %, ``"40-60"`` 40 %, ``"25-60"`` 25 % (NYC), ``"income-averaging"`` 40 % (25 % when
    ``nyc``). Never rounded to nearest: 11 units under 40-60 need 5 (4.4 → 5).
    """
    try:
        pct, _ = SET_ASIDE_RULES[election]
    except KeyError:
        raise ValueError(f"unknown set-aside election {election!r}") from None
    if election == "income-averaging" and nyc:
        pct = 25
    if total_units < 0:
        raise ValueError("total_units must be ≥ 0")
    return ceil_int(Fraction(pct * total_units, 100))


def set_aside_income_pct(election: str, designation_pct: int | None = None) -> int:
    """Income limit % a unit must meet under ``election``: 50 (20-50), 60 (40-60, 25-60), or the unit's
    designation under income averaging (§1.1)."""
    try:
        _, pct = SET_ASIDE_RULES[election]
    except KeyError:
        raise ValueError(f"unknown set-aside election {election!r}") from None
    if pct is None:
        if designation_pct is None:
            raise ValueError("income averaging needs the unit's designation")
        return designation_pct
    return pct


def income_qualifies(income: Money, limit: Money) -> bool:
    """``income <= limit`` after rounding income **up** to the whole dollar (§8.6: equality qualifies;
    rounding up is the conservative comparison)."""
    return ceil_dollars(income) <= D(limit)


def over_income_threshold(
    table: IncomeLimitTable,
    household_size: int,
    election: str = "40-60",
    designation_pct: int | None = None,
    deep_rent_skewed: bool = False,
) -> Decimal:
    """Income above which a continuing household is "over income" (§1.4, §42(g)(2)(D)).

    **140 %** (170 % for deep-rent-skewed projects) of the current limit for the household's size:
    the 50 % limit under 20-50; the 60 % limit under 40-60/25-60; under income averaging the **greater
    of 60 % and the unit's designation**. Exact product, no rounding; a household is over income only when
    its income is strictly greater (:func:`is_over_income`).
    """
    if election == "income-averaging":
        base_pct = max(60, designation_pct or 60)
    else:
        base_pct = set_aside_income_pct(election)
    factor = DEEP_RENT_SKEWED_FACTOR if deep_rent_skewed else OVER_INCOME_FACTOR
    return table.limit(base_pct, household_size) * factor / 100


def is_over_income(income: Money, threshold: Money) -> bool:
    """Strictly greater than the threshold (income equal to 140 % is not over; §1.4, §8.6)."""
    return ceil_dollars(income) > D(threshold)


def next_unit_income_pct(
    election: str,
    deep_rent_skewed: bool = False,
    unit_designation: int | None = None,
    unit_was_low_income: bool = True,
) -> int:
    """Income limit % a *new* resident of the next available unit must meet (§1.4).

    - 20-50 / 40-60 / 25-60: the set-aside limit (50 or 60).
    - Income averaging: the unit's designation if it was a low-income unit; for any other unit the rule is
      "whatever keeps the average ≤ 60 %" — the conservative reading used here is **60 %**.
    - Deep-rent-skewed: **40 %** (under income averaging, the lesser of 40 % and the designation).
    """
    if deep_rent_skewed:
        if election == "income-averaging" and unit_designation:
            return min(40, unit_designation)
        return 40
    if election == "income-averaging":
        if unit_was_low_income and unit_designation:
            return unit_designation
        return 60
    return set_aside_income_pct(election)


# -- next available unit rule ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class OverIncomeHold:
    """An over-income household found at recertification: holds comparable-or-smaller units (§1.4).

    ``scope`` is the building (LIHTC) or the project (bond-only). ``ends`` is when the household moved
    out or a later recertification brought its income back under the threshold (``None`` = still open).
    """

    unit_id: str
    household_id: str
    scope: str
    bedrooms: int
    starts: date
    ends: date | None = None
    deep_rent_skewed: bool = False


@dataclass(frozen=True, slots=True)
class LeaseUp:
    """A new household moving into a unit of the same scope, and whether it qualified for that unit's
    next-available-unit limit (:func:`next_unit_income_pct`)."""

    unit_id: str
    household_id: str
    scope: str
    bedrooms: int
    move_in: date
    qualified: bool
    low_income_unit: bool = True


@dataclass(frozen=True, slots=True)
class NextAvailableUnitOutcome:
    hold: OverIncomeHold
    status: str  # "open" | "satisfied" | "violated" | "ended"
    resolved_by: LeaseUp | None = None
    resolved_on: date | None = None


def apply_next_available_unit_rule(
    holds: Iterable[OverIncomeHold], lease_ups: Iterable[LeaseUp], as_of: date
) -> list[NextAvailableUnitOutcome]:
    """Replay lease-ups in date order against over-income holds (§1.4, §42(g)(2)(D)(ii); Form 8823 11i).

    - A hold covers units of the same scope with **bedrooms ≤ the over-income unit's** (comparable or
      smaller; bedroom count is the conservative proxy for size) other than the over-income unit itself.
      Deep-rent-skewed holds cover **any low-income unit** of the scope.
    - The first *qualified* lease-up covered by an open hold satisfies it (one lease-up satisfies one hold,
      oldest hold first).
    - A *non-qualified* lease-up while a hold is open violates **every** open hold that covers it: each
      over-income unit then loses its low-income status.
    - A hold still open on ``as_of`` is reported ``open``; one whose household left or came back under the
      threshold before any lease-up is ``ended``.
    """
    pending = sorted(holds, key=lambda h: (h.starts, h.unit_id))
    outcomes: dict[int, NextAvailableUnitOutcome] = {}
    for lease in sorted(lease_ups, key=lambda l: (l.move_in, l.unit_id)):
        if lease.move_in > as_of:
            break
        open_holds = [
            (i, h) for i, h in enumerate(pending)
            if i not in outcomes and h.starts < lease.move_in and (h.ends is None or h.ends > lease.move_in)
            and h.scope == lease.scope and h.unit_id != lease.unit_id
            and (lease.low_income_unit if h.deep_rent_skewed else lease.bedrooms <= h.bedrooms)
        ]
        if not open_holds:
            continue
        if lease.qualified:
            i, h = open_holds[0]
            outcomes[i] = NextAvailableUnitOutcome(h, "satisfied", lease, lease.move_in)
        else:
            for i, h in open_holds:
                outcomes[i] = NextAvailableUnitOutcome(h, "violated", lease, lease.move_in)
    result = []
    for i, h in enumerate(pending):
        if i in outcomes:
            result.append(outcomes[i])
        elif h.ends is not None and h.ends <= as_of:
            result.append(NextAvailableUnitOutcome(h, "ended", None, h.ends))
        else:
            result.append(NextAvailableUnitOutcome(h, "open"))
    return result


# -- applicable fraction -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ApplicableFraction:
    """Form 8609-A line 2 (§1.8): the lesser of the unit and floor-space fractions, 4 decimals."""

    low_income_units: int
    total_units: int
    low_income_square_feet: Decimal
    total_square_feet: Decimal
    unit_fraction: Decimal
    floor_space_fraction: Decimal
    applicable_fraction: Decimal


def applicable_fraction(
    low_income_units: int, total_units: int, low_income_square_feet: Money, total_square_feet: Money
) -> ApplicableFraction:
    """Applicable fraction = **lesser of** low-income units ÷ residential units and low-income square feet ÷
    residential square feet (§1.8). The lesser is chosen on exact fractions; each figure is then reported
    to **4 decimals, truncated** (never rounded up, so the fraction is never overstated; the 8609-A asks
    for "at least four places"). Without square footage (total 0) the floor-space fraction is reported as
    0, and so is the applicable fraction: assuming it equals the unit fraction would be a guess
    (conservative reading)."""
    li_sqft, total_sqft = D(low_income_square_feet), D(total_square_feet)
    unit = Fraction(low_income_units, total_units) if total_units else Fraction(0)
    floor = Fraction(li_sqft) / Fraction(total_sqft) if total_sqft else Fraction(0)
    lesser = min(unit, floor)

    def dec(f: Fraction) -> Decimal:
        return truncate(Decimal(f.numerator) / Decimal(f.denominator), 4)

    return ApplicableFraction(
        low_income_units, total_units, li_sqft, total_sqft, dec(unit), dec(floor), dec(lesser)
    )
