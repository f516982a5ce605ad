"""HOA assessments and collections (compliance-rules.md §11): allocation per the declaration, delinquency aging,
late charges and interest by a per-state rule pack, the escalation stage each account has reached, and the
budget increase limits. Violations and the board are in :mod:`hoa_governance`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction
from typing import Literal

from .money import DOWN, HALF_UP, frac, round_fraction

Allocation = Literal["equal", "percentage", "square_footage"]


@dataclass(frozen=True)
class RulePack:
    """A state's collection and governance rules (the numbers a policy may only lower)."""

    state: str
    statute: str
    delinquent_after_days: int  # an assessment is delinquent this many days after it is due
    late_charge_pct: Decimal  # late charge ≤ greater of this % of the delinquent assessment …
    late_charge_min_cents: int  # … or this amount
    interest_annual_pct: Decimal  # interest ≤ this % a year …
    interest_after_days: int  # … starting this many days after the due date
    regular_increase_limit_pct: Decimal  # without member approval
    special_limit_pct: Decimal  # special assessments in a fiscal year ≤ this % of budgeted gross expenses
    hearing_notice_days: int  # notice of hearing at least this many days before the meeting
    decision_notice_days: int  # written decision within this many days after the hearing
    foreclosure_min_cents: int  # assessments (without fines, late charges, interest) at least this …
    foreclosure_min_days: int  # … or delinquent at least this long
    # escalation policy: (stage, days past due of the oldest delinquent assessment at which it starts)
    escalation: tuple[tuple[str, int], ...]


CALIFORNIA = RulePack(
    state="CA", statute="California Civil Code §§5650, 5855, 5605, 5720", delinquent_after_days=15,
    late_charge_pct=Decimal(10), late_charge_min_cents=1000, interest_annual_pct=Decimal(12), interest_after_days=30,
    regular_increase_limit_pct=Decimal(20), special_limit_pct=Decimal(5), hearing_notice_days=10,
    decision_notice_days=15, foreclosure_min_cents=180000, foreclosure_min_days=365,
    escalation=(("courtesy notice", 1), ("late charge", 15), ("30-day letter", 30), ("intent to lien", 45),
                ("board lien vote", 90), ("attorney referral", 120)),
)
PACKS: dict[str, RulePack] = {"CA": CALIFORNIA}
"""Rule packs by state code. A property whose pack is unknown gets no late-charge, interest or escalation
verdicts (undetermined), never a default."""

BUCKETS = ("current", "1-30", "31-60", "61-90", "91-120", "over 120")
ASSESSMENT_CODES = frozenset({"HOA", "SPEC"})  # charge types that are assessments (not fines or late charges)


def allocate(total_cents: int, lots: list[tuple[str, int | None, Decimal | None]], method: Allocation) -> dict[str, int]:
    """Split an assessment over the lots per the declaration: equally, by percentage interest or by square
    footage. `lots` = (lot id, square feet, percentage interest).

    Rounding: each lot's exact share is floored to the cent and the cents left over go one each to the lots
    with the largest remainders (ties in lot order), so the shares always add up to the total.
    Missing or non-positive weights raise ValueError (undetermined for the caller)."""
    if not lots:
        return {}
    if method == "equal":
        weights = [Fraction(1)] * len(lots)
    elif method == "square_footage":
        if any(not sqft or sqft <= 0 for _l, sqft, _p in lots):
            raise ValueError("square-footage allocation needs every lot's square footage")
        weights = [Fraction(sqft) for _l, sqft, _p in lots]
    elif method == "percentage":
        if any(p is None or p <= 0 for _l, _s, p in lots):
            raise ValueError("percentage-interest allocation needs every lot's percentage interest")
        weights = [frac(p) for _l, _s, p in lots]
        if sum(weights) != 100:
            raise ValueError(f"percentage interests add up to {float(sum(weights))} %, not 100 %")
    else:
        raise ValueError(f"unknown allocation method {method!r}")
    total_w = sum(weights)
    exact = [Fraction(total_cents) * w / total_w for w in weights]
    floors = [round_fraction(x, DOWN) for x in exact]
    left = total_cents - sum(floors)
    order = sorted(range(len(lots)), key=lambda i: (-(exact[i] - floors[i]), i))
    for i in order[:left]:
        floors[i] += 1
    return {lot: floors[i] for i, (lot, _s, _p) in enumerate(lots)}


def bucket(days_past_due: int) -> str:
    """Aging bucket by days past the due date: current (not past due), 1-30, 31-60, 61-90, 91-120, over 120."""
    if days_past_due <= 0:
        return "current"
    for label, hi in (("1-30", 30), ("31-60", 60), ("61-90", 90), ("91-120", 120)):
        if days_past_due <= hi:
            return label
    return "over 120"


@dataclass(frozen=True)
class OpenItem:
    """An unpaid (part of a) charge on a homeowner's account."""

    charge_id: str
    code: str  # charge type code: HOA, SPEC, LATE, FINE, …
    due: date
    open_cents: int
    paid_on: date | None = None  # when it was paid in full (for delinquency history); None = still open
    amount_cents: int = 0  # the charge as billed


def delinquent_from(due: date, pack: RulePack) -> date:
    """The day an unpaid assessment becomes delinquent: `delinquent_after_days` after the due date (California:
    due Jan 1 → delinquent from Jan 16; a payment through Jan 15 is on time)."""
    return due + timedelta(days=pack.delinquent_after_days)


def max_late_charge(assessment_cents: int, pack: RulePack) -> int:
    """Largest late charge the pack allows on one delinquent assessment: greater of `late_charge_pct` % of it
    or `late_charge_min_cents` (California: 10 % or $10). A maximum, so rounded down to the cent."""
    return max(round_fraction(Fraction(assessment_cents) * frac(pack.late_charge_pct) / 100, DOWN),
               pack.late_charge_min_cents)


def max_interest(open_cents: int, due: date, as_of: date, pack: RulePack) -> int:
    """Largest interest the pack allows on an unpaid amount by `as_of`: simple interest at `interest_annual_pct`
    a year (÷ 365 a day) from `interest_after_days` after the due date (California: 12 % from day 30).
    A maximum, so rounded down to the cent."""
    start = due + timedelta(days=pack.interest_after_days)
    days = (as_of - start).days
    if days <= 0:
        return 0
    return round_fraction(Fraction(open_cents) * frac(pack.interest_annual_pct) / 100 * days / 365, DOWN)


@dataclass(frozen=True)
class AccountDelinquency:
    """One homeowner account's delinquency as of a date."""

    account_id: str
    owner_name: str
    property_id: str
    lot: str
    balance_cents: int
    buckets: dict[str, int]
    oldest_days_past_due: int
    delinquent_assessments_cents: int  # assessments past the delinquency date (no fines / late charges)
    late_charges_billed_cents: int
    late_charges_allowed_cents: int | None  # None: no rule pack
    late_charge_excess_cents: int | None
    interest_allowed_cents: int | None
    stage: str | None  # None: no rule pack (undetermined)
    foreclosure_eligible: bool | None


def account_delinquency(account_id: str, owner_name: str, property_id: str, lot: str, items: list[OpenItem],
                        late_charges_billed: list[tuple[date, int]], as_of: date,
                        pack: RulePack | None) -> AccountDelinquency:
    """Aging, late-charge and interest limits and the escalation stage of one account.

    Rules: buckets by days past due of each open item. Under a pack, each assessment unpaid on its delinquency
    date (:func:`delinquent_from`) allows one late charge (:func:`max_late_charge`), and interest on what is
    still open (:func:`max_interest`); the late charges billed beyond the total allowed are the excess. The
    stage is the policy's latest step reached by the oldest delinquent assessment (days past due); foreclosure
    is possible once the delinquent assessments reach the pack's amount or age (California $1,800 or 12
    months), fines and late charges not counted. Without a pack the limits and stage are undetermined."""
    buckets = {b: 0 for b in BUCKETS}
    oldest = 0
    for it in items:
        if it.paid_on is None and it.open_cents > 0:
            d = (as_of - it.due).days
            buckets[bucket(d)] += it.open_cents
            oldest = max(oldest, d)
    balance = sum(buckets.values())
    late_billed = sum(c for d, c in late_charges_billed if d <= as_of)
    if pack is None:
        delinquent = sum(it.open_cents for it in items if it.paid_on is None and it.code in ASSESSMENT_CODES
                         and (as_of - it.due).days > 0)
        return AccountDelinquency(account_id, owner_name, property_id, lot, balance, buckets, oldest, delinquent,
                                  late_billed, None, None, None, None, None)
    allowed = 0
    interest = 0
    delinquent = 0
    oldest_delinquent = 0
    for it in items:
        if it.code not in ASSESSMENT_CODES:
            continue
        late_day = delinquent_from(it.due, pack)
        unpaid_then = it.paid_on is None or it.paid_on >= late_day
        if unpaid_then and late_day <= as_of:
            allowed += max_late_charge(it.open_cents, pack)
        if it.paid_on is None and late_day <= as_of:
            delinquent += it.open_cents
            interest += max_interest(it.open_cents, it.due, as_of, pack)
            oldest_delinquent = max(oldest_delinquent, (as_of - it.due).days)
    stage = "current"
    if oldest > 0:
        for name, start in pack.escalation:
            if oldest_delinquent >= start or (start == 1 and oldest >= 1):
                stage = name
    foreclosure = delinquent >= pack.foreclosure_min_cents or oldest_delinquent >= pack.foreclosure_min_days
    return AccountDelinquency(account_id, owner_name, property_id, lot, balance, buckets, oldest, delinquent,
                              late_billed, allowed, max(0, late_billed - allowed), interest, stage,
                              foreclosure if delinquent else False)


@dataclass(frozen=True)
class BudgetCheck:
    property_id: str
    fiscal_year: int
    regular_cents: int | None  # regular assessments of the year
    prior_regular_cents: int | None
    increase_pct: Decimal | None
    budget_cents: int | None  # budgeted gross expenses incl. reserves
    special_cents: int
    special_pct_of_budget: Decimal | None
    regular_over_limit: bool | None  # None: undetermined (no prior year / no pack)
    special_over_limit: bool | None


def budget_check(property_id: str, fiscal_year: int, regular: int | None, prior_regular: int | None,
                 budget: int | None, special: int, pack: RulePack | None) -> BudgetCheck:
    """Rule (California §5605): without member approval the regular assessment may not rise more than 20 % over
    the prior fiscal year, nor special assessments total more than 5 % of the budgeted gross expenses
    (reserves included). Percentages are exact, published half up to 2 places; a limit is exceeded only
    when strictly above it. Missing figures or no pack leave the verdict undetermined (None)."""
    inc = None
    if regular is not None and prior_regular:
        inc = (Fraction(regular - prior_regular) / prior_regular) * 100
    spc = Fraction(special * 100, budget) if budget else None
    reg_over = None if inc is None or pack is None else inc > frac(pack.regular_increase_limit_pct)
    spc_over = None if spc is None or pack is None else spc > frac(pack.special_limit_pct)

    def pct(x: Fraction | None) -> Decimal | None:
        return None if x is None else Decimal(round_fraction(x * 100, HALF_UP)).scaleb(-2)

    return BudgetCheck(property_id, fiscal_year, regular, prior_regular, pct(inc), budget, special, pct(spc),
                       reg_over, spc_over)
