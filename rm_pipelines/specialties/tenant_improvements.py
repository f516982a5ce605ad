"""Tenant improvement (TI) allowances: granted, drawn, remaining, and the amortisation of the drawn amount where
the lease recovers it through rent."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from fractions import Fraction

from .money import HALF_UP, frac, round_fraction


@dataclass(frozen=True)
class TiAllowance:
    tenant_id: str
    tenant_name: str
    property_id: str
    granted_cents: int
    drawn_cents: int
    commencement: date
    amortization_months: int | None = None  # None / 0: not amortised
    annual_rate_pct: Decimal = Decimal(0)


@dataclass(frozen=True)
class TiStatus:
    tenant_id: str
    tenant_name: str
    property_id: str
    granted_cents: int
    drawn_cents: int
    remaining_cents: int
    overdrawn_cents: int
    amortized: bool
    monthly_payment_cents: int | None
    payments_made: int | None
    unamortized_cents: int | None


def level_payment(principal_cents: int, months: int, annual_rate_pct: Decimal) -> int:
    """Monthly payment that amortises `principal` over `months` at the annual rate (monthly rate = annual ÷ 12):
    P·i / (1 − (1+i)^−n), or P / n at 0 %. Rounded half up to the cent."""
    if months <= 0:
        raise ValueError("amortisation needs a positive number of months")
    i = frac(annual_rate_pct) / 1200
    if i == 0:
        return round_fraction(Fraction(principal_cents, months), HALF_UP)
    return round_fraction(Fraction(principal_cents) * i / (1 - (1 + i) ** -months), HALF_UP)


def months_between(start: date, as_of: date) -> int:
    """Whole monthly payments made from the month after commencement through `as_of` (payments on the 1st)."""
    if as_of < start:
        return 0
    return max(0, (as_of.year - start.year) * 12 + as_of.month - start.month)


def ti_status(ti: TiAllowance, as_of: date) -> TiStatus:
    """Rule: remaining = max(0, granted − drawn); drawn above the grant is reported as overdrawn. Where the lease
    amortises TI, the drawn amount amortises in level monthly payments (:func:`level_payment`) from the month
    after commencement; the unamortised balance after k payments is carried month by month, each month's
    interest rounded half up to the cent, the last payment clearing the balance."""
    remaining = max(0, ti.granted_cents - ti.drawn_cents)
    over = max(0, ti.drawn_cents - ti.granted_cents)
    if not ti.amortization_months:
        return TiStatus(ti.tenant_id, ti.tenant_name, ti.property_id, ti.granted_cents, ti.drawn_cents, remaining,
                        over, False, None, None, None)
    n = ti.amortization_months
    pay = level_payment(ti.drawn_cents, n, ti.annual_rate_pct)
    k = min(n, months_between(ti.commencement, as_of))
    balance = ti.drawn_cents
    i = frac(ti.annual_rate_pct) / 1200
    for m in range(k):
        interest = round_fraction(Fraction(balance) * i, HALF_UP)
        balance = 0 if m == n - 1 else max(0, balance + interest - pay)
    return TiStatus(ti.tenant_id, ti.tenant_name, ti.property_id, ti.granted_cents, ti.drawn_cents, remaining, over,
                    True, pay, k, balance)
