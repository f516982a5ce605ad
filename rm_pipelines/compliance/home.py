"""HOME Investment Partnerships rent and occupancy rules (24 CFR 92.252; compliance-rules.md §3).

- HOME rent limits apply to **rent + utility allowance**; rental assistance is not subject to them.
- Low HOME rent is capped at the High HOME rent when that is lower.
- Hold harmless: rents never need to fall below the limits in effect at project commitment.
- Projects with **5 or more** HOME units: at least **ceil(20 %)** of HOME units are Low HOME units
  occupied by very-low-income (≤ 50 %) families.
- All HOME units: households at or below 80 % of median (HUD's HOME/Section 8 "low income" limit).

HOME limits are HUD's published tables; nothing is computed from FMR or median here (HUD's occupancy and
adjusted-income assumptions are not public arithmetic). The post-2025 affordability-period tiers and
recertification interval are open (§14 item 3) and not modelled.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

from .limits import HomeRentTable, IncomeLimitTable
from .rounding import D, Money, ceil_dollars, ceil_int

LOW_HOME_MIN_PROJECT_UNITS = 5
LOW_HOME_SHARE_PCT = 20
HOME_INCOME_PCT = 80
LOW_HOME_INCOME_PCT = 50


def low_home_units_required(home_units: int) -> int:
    """Low HOME units required (§3): **ceil(20 % × HOME units)** in projects with 5 or more HOME units,
    else 0. 5 → 1, 6-10 → 2, 11-15 → 3."""
    if home_units < LOW_HOME_MIN_PROJECT_UNITS:
        return 0
    return ceil_int(Fraction(LOW_HOME_SHARE_PCT * home_units, 100))


@dataclass(frozen=True, slots=True)
class HomeRentLimits:
    """Maximum monthly rent + UA for one unit size."""

    high: Decimal
    low: Decimal
    hold_harmless_applied: bool = False


def rent_limits(
    table: HomeRentTable, bedrooms: int, *, commitment_table: HomeRentTable | None = None
) -> HomeRentLimits:
    """High and Low HOME rent limits for ``bedrooms`` (§3).

    High = published High HOME rent; Low = published Low HOME rent **capped at High**. With the table in
    effect at project commitment, each limit is the greater of current and commitment limits (HOME rent
    hold harmless), Low again capped at High. Published figures are whole dollars; no rounding.
    """
    high = table.high_rent(bedrooms)
    low = min(table.low_rent(bedrooms), high)
    held = False
    if commitment_table is not None:
        c_high = commitment_table.high_rent(bedrooms)
        c_low = min(commitment_table.low_rent(bedrooms), c_high)
        if c_high > high or c_low > low:
            held = True
        high = max(high, c_high)
        low = min(max(low, c_low), high)
    return HomeRentLimits(high, low, held)


def max_gross_rent(limits: HomeRentLimits, rent_type: str, subsidy_program_rent: Money | None = None) -> Decimal:
    """Maximum rent + UA for a HOME unit designated ``high`` or ``low`` (§3).

    For a Low HOME unit with federal/state project-based subsidy where the tenant pays ≤ 30 % of adjusted
    income, the subsidy program's rent may be used instead (``subsidy_program_rent``)."""
    if rent_type == "high":
        return limits.high
    if rent_type == "low":
        return D(subsidy_program_rent) if subsidy_program_rent is not None else limits.low
    raise ValueError(f"HOME rent type must be 'high' or 'low', got {rent_type!r}")


def income_limit(table: IncomeLimitTable, household_size: int, rent_type: str = "high") -> Decimal:
    """Income limit for a HOME household (§3): HUD's 80 % ("low income") limit; 50 % (VLI) for Low HOME
    units. Read from a Section 8/HOME income table (its 80 % row is HUD's capped figure, not 1.6 × VLI)."""
    pct = LOW_HOME_INCOME_PCT if rent_type == "low" else HOME_INCOME_PCT
    return table.limit(pct, household_size)


def income_qualifies(income: Money, limit: Money) -> bool:
    """``income <= limit`` after rounding income up to the dollar (§8.6)."""
    return ceil_dollars(income) <= D(limit)
