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
    year: int
    determined: bool
    reason: str
    breakpoint_kind: str = ""
    days_in_lease_year: int = 0
    gross_sales_cents: int = 0
    excluded_cents: int = 0
    net_sales_cents: int = 0
    breakpoint_cents: int | None = None
    overage_cents: int | None = None
    percentage_rent_cents: int | None = None
    billed_cents: int = 0
    true_up_cents: int | None = None
    months_reported: int = 0


def breakpoint_for_year(lease: PercentageLease, year: int) -> tuple[str, Fraction, int]:
    """(kind, annual breakpoint prorated to the days of the lease in the year, those days).

    Natural breakpoint = annual base rent ÷ rate; artificial = the negotiated amount. A partial lease year
    prorates it by days (days leased in the year ÷ days in the year). Exact (rounded where published)."""
    y0, y1 = date(year, 1, 1), date(year, 12, 31)
    lo, hi = max(lease.lease_start, y0), min(lease.lease_end or y1, y1)
    days = (hi - lo).days + 1 if lo <= hi else 0
    year_days = (y1 - y0).days + 1
    if lease.artificial_breakpoint_cents is not None:
        kind, annual = "artificial", Fraction(lease.artificial_breakpoint_cents)
    else:
        if lease.rate_pct <= 0:
            raise ValueError(f"tenant {lease.tenant_id}: percentage rate must be positive for a natural breakpoint")
        kind, annual = "natural", Fraction(lease.annual_base_rent_cents) / (frac(lease.rate_pct) / 100)
    return kind, annual * days / year_days, days


def percentage_rent(lease: PercentageLease, year: int, reports: list[SalesReport], billed_cents: int) -> PercentageRent:
    """Percentage rent for a calendar year.

    Rule: rent = rate × max(0, (gross sales − exclusions) − breakpoint), the breakpoint natural (annual base
    rent ÷ rate) or artificial, prorated by days for a partial lease year; true-up = rent − percentage rent
    already billed. Rounding: breakpoint and rent half up to the cent, from exact values. A year without sales
    reports is undetermined (never zero)."""
    base = dict(tenant_id=lease.tenant_id, tenant_name=lease.tenant_name, property_id=lease.property_id, year=year,
                billed_cents=billed_cents)
    mine = [r for r in reports if r.month.year == year]
    if not mine:
        return PercentageRent(**base, determined=False, reason=f"no sales reported for {year}")
    gross = sum(r.gross_cents for r in mine)
    excluded = sum(r.excluded_cents for r in mine)
    net = gross - excluded
    try:
        kind, bp, days = breakpoint_for_year(lease, year)
    except ValueError as exc:
        return PercentageRent(**base, determined=False, reason=str(exc))
    overage = max(Fraction(0), Fraction(net) - bp)
    rent = round_fraction(overage * frac(lease.rate_pct) / 100, HALF_UP)
    return PercentageRent(**base, determined=True, reason="", breakpoint_kind=kind, days_in_lease_year=days,
                          gross_sales_cents=gross, excluded_cents=excluded, net_sales_cents=net,
                          breakpoint_cents=round_fraction(bp, HALF_UP), overage_cents=round_fraction(overage, HALF_UP),
                          percentage_rent_cents=rent, true_up_cents=rent - billed_cents, months_reported=len(mine))
