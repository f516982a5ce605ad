"""Percentage rent of retail leases (compliance-rules.md §9.6): natural and artificial breakpoints, exclusions
from gross sales, partial lease years prorated by days."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from fractions import Fraction

from .money import HALF_UP, frac, round_fraction


@dataclass(frozen=True)
class SalesReport:
    month: date  # first of the month
    gross_cents: int
    excluded_cents: int  # returns, sales tax, employee discounts, gift cards … as the lease defines


@dataclass(frozen=True)
class PercentageLease:
    tenant_id: str
    tenant_name: str
    property_id: str
    rate_pct: Decimal  # e.g. 6 → 6 % of sales over the breakpoint
    annual_base_rent_cents: int  # for the natural breakpoint
    artificial_breakpoint_cents: int | None  # negotiated annual threshold; None → natural
    lease_start: date
    lease_end: date | None


@dataclass(frozen=True)
class PercentageRent:
    tenant_id: str
    tenant_name: str
    property_id: str
    period_start: date  # the lease year
    period_end: date
    determined: bool
    reason: str
    breakpoint_kind: str = ""
    days_leased: int = 0
    gross_sales_cents: int = 0
    excluded_cents: int = 0
    net_sales_cents: int = 0
    breakpoint_cents: int | None = None
    overage_cents: int | None = None
    percentage_rent_cents: int | None = None
    billed_cents: int = 0
    true_up_cents: int | None = None
    months_reported: int = 0


def months_of(start: date, end: date) -> list[date]:
    out, y, m = [], start.year, start.month
    while date(y, m, 1) <= end:
        out.append(date(y, m, 1))
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


def breakpoint_for_period(lease: PercentageLease, start: date, end: date) -> tuple[str, Fraction, int]:
    """(kind, breakpoint for the lease year prorated to the days leased in it, those days).

    Natural breakpoint = annual base rent ÷ rate; artificial = the negotiated annual amount. A partial lease year
    prorates it by days (days leased ÷ days in the lease year). Exact (rounded where published)."""
    lo, hi = max(lease.lease_start, start), min(lease.lease_end or end, end)
    days = (hi - lo).days + 1 if lo <= hi else 0
    period_days = (end - start).days + 1
    if lease.artificial_breakpoint_cents is not None:
        kind, annual = "artificial", Fraction(lease.artificial_breakpoint_cents)
    else:
        if lease.rate_pct <= 0:
            raise ValueError(f"tenant {lease.tenant_id}: percentage rate must be positive for a natural breakpoint")
        kind, annual = "natural", Fraction(lease.annual_base_rent_cents) / (frac(lease.rate_pct) / 100)
    return kind, annual * days / period_days, days


def percentage_rent(lease: PercentageLease, start: date, end: date, reports: list[SalesReport],
                    billed_cents: int) -> PercentageRent:
    """Percentage rent for a lease year [start, end].

    Rule: rent = rate × max(0, (gross sales − exclusions) − breakpoint), the breakpoint natural (annual base
    rent ÷ rate) or artificial, prorated by days for a partial lease year; true-up = rent − percentage rent
    already billed. Rounding: breakpoint and rent half up to the cent, from exact values. Every month the lease
    ran in the lease year must be reported; otherwise the year is undetermined (never zero)."""
    base = dict(tenant_id=lease.tenant_id, tenant_name=lease.tenant_name, property_id=lease.property_id,
                period_start=start, period_end=end, billed_cents=billed_cents)
    needed = [m for m in months_of(max(start, lease.lease_start), min(end, lease.lease_end or end))]
    mine = [r for r in reports if start <= r.month <= end]
    have = {r.month.replace(day=1) for r in mine}
    if not needed or not set(needed) <= have:
        return PercentageRent(**base, determined=False, months_reported=len(have),
                              reason=f"sales reported for {len(have & set(needed))} of {len(needed)} months")
    gross = sum(r.gross_cents for r in mine)
    excluded = sum(r.excluded_cents for r in mine)
    net = gross - excluded
    try:
        kind, bp, days = breakpoint_for_period(lease, start, end)
    except ValueError as exc:
        return PercentageRent(**base, determined=False, reason=str(exc))
    overage = max(Fraction(0), Fraction(net) - bp)
    rent = round_fraction(overage * frac(lease.rate_pct) / 100, HALF_UP)
    return PercentageRent(**base, determined=True, reason="", breakpoint_kind=kind, days_leased=days,
                          gross_sales_cents=gross, excluded_cents=excluded, net_sales_cents=net,
                          breakpoint_cents=round_fraction(bp, HALF_UP), overage_cents=round_fraction(overage, HALF_UP),
                          percentage_rent_cents=rent, true_up_cents=rent - billed_cents, months_reported=len(mine))
