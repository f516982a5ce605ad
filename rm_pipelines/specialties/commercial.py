"""Commercial leases: CAM reconciliation per tenant and year (compliance-rules.md §9.1-§9.5).

A property's recoverable expenses for a year are an :class:`ExpensePool` of categories, each variable or fixed
and controllable or not. A tenant's :class:`CamLease` says how it shares them: denominator (building or leased
area, with a floor), gross-up level, lease type (NNN, base year, expense stop), cap on controllable expenses
and admin fee. :func:`reconcile` gives the tenant's share for the year, the estimates billed and the true-up.

All amounts are integer cents; shares and occupancies are exact fractions until the one rounding of each
published amount (half up to the cent).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from fractions import Fraction
from typing import Literal

from .money import HALF_UP, frac, round_fraction

LeaseType = Literal["nnn", "base_year", "expense_stop"]
CapType = Literal["none", "non_cumulative", "cumulative_compounding", "cumulative_simple"]

# Expense categories Rent Manager customers book as recoverable: (variable?, controllable?). Taxes and insurance
# are fixed (never grossed up) and, with utilities and snow removal, uncontrollable (outside caps).
CATEGORIES: dict[str, tuple[bool, bool]] = {
    "CAM": (True, True), "JANITORIAL": (True, True), "REPAIRS": (True, True), "LANDSCAPING": (True, True),
    "SECURITY": (True, True), "MANAGEMENT": (True, True), "UTILITIES": (True, False), "SNOW": (True, False),
    "TAX": (False, False), "INSURANCE": (False, False),
}
FIXED_FOR_ADMIN = frozenset({"TAX", "INSURANCE"})  # the admin fee never applies to taxes and insurance


class CamError(ValueError):
    """A CAM input cannot be reconciled as given (the message says which and why)."""


@dataclass(frozen=True)
class ExpenseLine:
    category: str
    amount_cents: int

    @property
    def variable(self) -> bool:
        return CATEGORIES[self.category][0]

    @property
    def controllable(self) -> bool:
        return CATEGORIES[self.category][1]


@dataclass(frozen=True)
class ExpensePool:
    """A property's recoverable expenses in one calendar year, with the building's area and occupancy."""

    property_id: str
    year: int
    lines: tuple[ExpenseLine, ...]
    building_rsf: int  # rentable square feet of the commercial space (the "building" denominator)
    occupied_rsf_days: int  # Σ occupied RSF × days over the year (weighted-average occupancy numerator)

    @property
    def days(self) -> int:
        return (date(self.year + 1, 1, 1) - date(self.year, 1, 1)).days

    @property
    def occupancy(self) -> Fraction | None:
        """Weighted-average occupancy = Σ(occupied RSF × days) ÷ (building RSF × days in the year)."""
        if self.building_rsf <= 0:
            return None
        return Fraction(self.occupied_rsf_days, self.building_rsf * self.days)

    @property
    def total_cents(self) -> int:
        return sum(line.amount_cents for line in self.lines)


@dataclass(frozen=True)
class AreaPeriod:
    """The tenant's rentable area from `start` to `end` (inclusive; None = open)."""

    start: date
    end: date | None
    rsf: int


@dataclass(frozen=True)
class Cap:
    kind: CapType = "none"
    rate: Decimal = Decimal(0)  # 5 → 5 % a year
    base_year: int | None = None  # the cap's first year (n = 1)
    applies_to: Literal["pool", "share"] = "pool"


@dataclass(frozen=True)
class CamLease:
    tenant_id: str
    tenant_name: str
    property_id: str
    lease_type: LeaseType
    areas: tuple[AreaPeriod, ...]
    denominator: Literal["building", "leased"] = "building"
    denominator_floor_pct: Decimal | None = None  # leased denominator not less than this % of the building
    gross_up_pct: Decimal | None = None  # e.g. 95; None = no gross-up
    base_year: int | None = None  # base-year leases
    expense_stop_cents: int | None = None  # expense-stop leases: a pool-level stop in $ …
    expense_stop_psf_cents: int | None = None  # … or in $ per RSF (× the denominator area)
    cap: Cap = field(default_factory=Cap)
    admin_fee_pct: Decimal = Decimal(0)


@dataclass(frozen=True)
class YearShare:
    """One year of a tenant's recoverable share (for the multi-year cap chain)."""

    year: int
    controllable_cents: int  # grossed-up controllable expenses (pool or share basis, as the cap applies)
    cap_cents: int | None
    billed_controllable_cents: int  # after the cap


@dataclass(frozen=True)
class CamReconciliation:
    """A tenant's CAM reconciliation for one year: the figures a landlord's statement shows."""

    tenant_id: str
    tenant_name: str
    property_id: str
    year: int
    lease_type: str
    determined: bool
    reason: str
    pro_rata_share: Fraction | None = None
    occupancy: Fraction | None = None
    gross_up_pct: Decimal | None = None
    pool_cents: int | None = None  # actual recoverable expenses of the pool
    grossed_up_pool_cents: int | None = None
    controllable_cents: int | None = None
    cap_cents: int | None = None
    capped_controllable_cents: int | None = None
    uncontrollable_cents: int | None = None
    admin_fee_cents: int | None = None
    recoverable_cents: int | None = None  # the pool the tenant shares in (capped, with admin fee)
    base_cents: int | None = None  # base-year pool or expense stop (0 for NNN)
    tenant_share_cents: int | None = None
    estimates_billed_cents: int = 0
    true_up_cents: int | None = None  # > 0 invoice, < 0 credit
    cap_history: tuple[YearShare, ...] = ()

    @property
    def action(self) -> str:
        if self.true_up_cents is None:
            return "undetermined"
        return "invoice" if self.true_up_cents > 0 else "credit" if self.true_up_cents < 0 else "none"


def _days(start: date, end: date) -> int:
    return (end - start).days + 1


def _overlap(a0: date, a1: date | None, b0: date, b1: date) -> int:
    lo, hi = max(a0, b0), min(a1 or b1, b1)
    return _days(lo, hi) if lo <= hi else 0


def pro_rata_share(lease: CamLease, pool: ExpensePool) -> Fraction:
    """Pro-rata share for the year = Σ(tenant RSF × days) ÷ (denominator RSF × days in the year).

    Expansions, contractions and partial years are prorated by days (§9.1). The denominator is the building's
    RSF, or for a "leased" denominator the weighted-average leased RSF of the year, not less than the floor
    (e.g. 95 % of the building). Exact; never rounded (the shares it multiplies are rounded once)."""
    y0, y1 = date(pool.year, 1, 1), date(pool.year, 12, 31)
    tenant = sum(a.rsf * _overlap(a.start, a.end, y0, y1) for a in lease.areas)
    if lease.denominator == "building":
        denom = Fraction(pool.building_rsf * pool.days)
    else:
        denom = Fraction(pool.occupied_rsf_days)
        if lease.denominator_floor_pct is not None:
            denom = max(denom, Fraction(pool.building_rsf * pool.days) * frac(lease.denominator_floor_pct) / 100)
    if denom <= 0:
        raise CamError(f"property {pool.property_id} {pool.year}: the CAM pool has no denominator (no rentable area)")
    return Fraction(tenant) / denom


def gross_up(line: ExpenseLine, occupancy: Fraction | None, level: Decimal | None) -> Fraction:
    """Grossed-up amount of one line (§9.2): variable lines ÷ occupancy × gross-up level, when the occupancy is
    below the level; fixed lines (taxes, insurance) never. Exact (rounded where the pool total is published)."""
    amount = Fraction(line.amount_cents)
    if level is None or not line.variable or occupancy is None:
        return amount
    target = frac(level) / 100
    if occupancy >= target or occupancy <= 0:
        return amount
    return amount / occupancy * target


def cap_amount(cap: Cap, year: int, base_cents: int, prior_billed_cents: int | None) -> int | None:
    """The year's cap on controllable expenses (§9.4), half up to the cent:

    - non-cumulative: prior year's billed controllable × (1 + r) — unused room is lost;
    - cumulative compounding: base × (1 + r)^(n−1) — unused room carries forward;
    - cumulative simple: base × (1 + r·(n−1));
    with n = year − cap base year + 1 and base the controllable expenses of the cap's base year."""
    if cap.kind == "none" or cap.base_year is None:
        return None
    n = year - cap.base_year + 1
    if n < 1:
        raise CamError(f"cap base year {cap.base_year} is after {year}")
    r = frac(cap.rate) / 100
    if cap.kind == "non_cumulative":
        prior = base_cents if n == 1 or prior_billed_cents is None else prior_billed_cents
        return prior if n == 1 else round_fraction(Fraction(prior) * (1 + r), HALF_UP)
    if cap.kind == "cumulative_compounding":
        return round_fraction(Fraction(base_cents) * (1 + r) ** (n - 1), HALF_UP)
    if cap.kind == "cumulative_simple":
        return round_fraction(Fraction(base_cents) * (1 + r * (n - 1)), HALF_UP)
    raise CamError(f"unknown cap type {cap.kind!r}")


@dataclass(frozen=True)
class _PoolFigures:
    actual: int
    grossed: Fraction
    controllable: Fraction
    uncontrollable: Fraction
    admin_base: Fraction  # grossed expenses other than taxes and insurance


def _figures(pool: ExpensePool, level: Decimal | None, occupancy: Fraction | None) -> _PoolFigures:
    ctrl = unc = admin = Fraction(0)
    for line in pool.lines:
        g = gross_up(line, occupancy, level)
        if line.controllable:
            ctrl += g
        else:
            unc += g
        if line.category not in FIXED_FOR_ADMIN:
            admin += g
    return _PoolFigures(pool.total_cents, ctrl + unc, ctrl, unc, admin)


def _recoverable(lease: CamLease, fig: _PoolFigures, cap_cents: int | None, share: Fraction) -> tuple[Fraction, Fraction, Fraction]:
    """(capped controllable, admin fee, recoverable pool) on the pool basis."""
    ctrl = fig.controllable
    if cap_cents is not None:
        limit = Fraction(cap_cents) if lease.cap.applies_to == "pool" else Fraction(cap_cents) / share if share else ctrl
        ctrl = min(ctrl, limit)
    admin_base = fig.admin_base - (fig.controllable - ctrl)  # what the cap removed is not charged an admin fee
    admin = admin_base * frac(lease.admin_fee_pct) / 100
    return ctrl, admin, ctrl + fig.uncontrollable + admin


def reconcile(lease: CamLease, pools: dict[int, ExpensePool], year: int, estimates_billed_cents: int) -> CamReconciliation:
    """A tenant's CAM reconciliation for `year` (§9.1-§9.5).

    Rule: recoverable pool = capped controllable + uncontrollable expenses (variable ones grossed up to the
    lease's level when the year's occupancy is below it) + admin fee (its % of that pool less taxes and
    insurance). Tenant share = pro-rata share × pool (NNN); × max(0, pool − base-year pool) with the base year
    computed the same way (base year); × max(0, pool − stop), the stop in $ or $/RSF × denominator area
    (expense stop). True-up = share − estimates billed: positive → invoice, negative → credit.
    Rounding: the published pool figures and the share are rounded half up to the cent once, from exact values.
    Missing data (no pool for the year or the base year, no rentable area) leaves the year undetermined."""
    base = dict(tenant_id=lease.tenant_id, tenant_name=lease.tenant_name, property_id=lease.property_id,
                year=year, lease_type=lease.lease_type, estimates_billed_cents=estimates_billed_cents)
    pool = pools.get(year)
    if pool is None:
        return CamReconciliation(**base, determined=False, reason=f"no recoverable expenses recorded for {year}")
    try:
        share = pro_rata_share(lease, pool)
    except CamError as exc:
        return CamReconciliation(**base, determined=False, reason=str(exc))
    occ = pool.occupancy
    fig = _figures(pool, lease.gross_up_pct, occ)
    history: list[YearShare] = []
    cap_cents: int | None = None
    if lease.cap.kind != "none":
        if lease.cap.base_year is None or lease.cap.base_year not in pools:
            return CamReconciliation(**base, determined=False, pro_rata_share=share, occupancy=occ,
                                     reason=f"cap base year {lease.cap.base_year} has no recorded expenses")
        cap_base = _cap_basis(lease, pools[lease.cap.base_year], share)
        prior: int | None = None
        for y in range(lease.cap.base_year, year + 1):
            p = pools.get(y)
            if p is None:
                return CamReconciliation(**base, determined=False, pro_rata_share=share, occupancy=occ,
                                         reason=f"no recoverable expenses recorded for {y} (needed by the cap)")
            actual = _cap_basis(lease, p, share)
            limit = cap_amount(lease.cap, y, cap_base, prior)
            billed = actual if limit is None else min(actual, limit)
            history.append(YearShare(y, actual, limit, billed))
            prior = billed
        cap_cents = history[-1].cap_cents
    ctrl, admin, recoverable = _recoverable(lease, fig, cap_cents, share)
    base_amount = Fraction(0)
    if lease.lease_type == "base_year":
        if lease.base_year is None or lease.base_year not in pools:
            return CamReconciliation(**base, determined=False, pro_rata_share=share, occupancy=occ,
                                     reason=f"base year {lease.base_year} has no recorded expenses")
        bp = pools[lease.base_year]
        bfig = _figures(bp, lease.gross_up_pct, bp.occupancy)  # grossed up to the same level: like for like
        _c, _a, base_amount = _recoverable(lease, bfig, None, share)
    elif lease.lease_type == "expense_stop":
        if lease.expense_stop_cents is not None:
            base_amount = Fraction(lease.expense_stop_cents)
        elif lease.expense_stop_psf_cents is not None:
            area = pool.building_rsf if lease.denominator == "building" else Fraction(pool.occupied_rsf_days, pool.days)
            base_amount = Fraction(lease.expense_stop_psf_cents) * area
        else:
            return CamReconciliation(**base, determined=False, pro_rata_share=share, occupancy=occ,
                                     reason="expense-stop lease without a stop amount")
    elif lease.lease_type != "nnn":
        return CamReconciliation(**base, determined=False, reason=f"unknown lease type {lease.lease_type!r}")
    tenant_share = round_fraction(share * max(Fraction(0), recoverable - base_amount), HALF_UP)
    return CamReconciliation(
        **base, determined=True, reason="", pro_rata_share=share, occupancy=occ, gross_up_pct=lease.gross_up_pct,
        pool_cents=fig.actual, grossed_up_pool_cents=round_fraction(fig.grossed),
        controllable_cents=round_fraction(fig.controllable), cap_cents=cap_cents,
        capped_controllable_cents=round_fraction(ctrl), uncontrollable_cents=round_fraction(fig.uncontrollable),
        admin_fee_cents=round_fraction(admin), recoverable_cents=round_fraction(recoverable),
        base_cents=round_fraction(base_amount), tenant_share_cents=tenant_share,
        true_up_cents=tenant_share - estimates_billed_cents, cap_history=tuple(history))


def _cap_basis(lease: CamLease, pool: ExpensePool, share: Fraction) -> int:
    """Grossed-up controllable expenses of a year, on the basis the cap applies to (pool, or tenant's share)."""
    ctrl = _figures(pool, lease.gross_up_pct, pool.occupancy).controllable
    return round_fraction(ctrl if lease.cap.applies_to == "pool" else ctrl * share, HALF_UP)


def year_bounds(year: int) -> tuple[date, date]:
    return date(year, 1, 1), date(year, 12, 31)


def occupied_rsf_days(spans: list[tuple[date, date | None, int]], year: int) -> int:
    """Σ occupied RSF × days of a year from (move-in, move-out or None, RSF) spans."""
    y0, y1 = year_bounds(year)
    return sum(rsf * _overlap(s, e, y0, y1) for s, e, rsf in spans)


__all__ = ["AreaPeriod", "CATEGORIES", "Cap", "CamError", "CamLease", "CamReconciliation", "ExpenseLine",
           "ExpensePool", "YearShare", "cap_amount", "gross_up", "occupied_rsf_days", "pro_rata_share", "reconcile"
           ]
