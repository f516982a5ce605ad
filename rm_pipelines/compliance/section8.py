"""HUD rent formula: adjusted income, TTP, HAP and the voucher rules (compliance-rules.md §2, §8.6).

Rounding: TTP to the **nearest dollar, .50 up** (``ROUND_HALF_UP``; banker's rounding would turn $742.50
into $742, HUD requires $743). The 30 % and 10 % prongs are computed from annual figures as ``/ 40`` and
``/ 120`` so an exact half dollar survives (adjusted income $20,020 → $500.50 → **$501**). Maximum rents
round down. Deduction amounts come from the :class:`~rm_pipelines.compliance.rulesets.Ruleset` in force
(pre-HOTMA $480/$400/3 %; HOTMA $480→$500 / $525→$550 / 10 %).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Iterable

from .income import HEAD_RELATIONSHIPS, age_on, is_dependent
from .model import Member
from .rounding import D, Money, floor_dollars, round_half_up_dollars
from .rulesets import Ruleset, ruleset_for

ZERO = Decimal(0)
MAX_MINIMUM_RENT = Decimal(50)
ELDERLY_AGE = 62


@dataclass(frozen=True, slots=True)
class FamilyFacts:
    """The household facts behind the deductions (§2.4)."""

    dependents: int
    elderly_or_disabled_family: bool


def family_facts(members: Iterable[Member], on: date) -> FamilyFacts:
    """Dependents (members other than head/spouse/co-head who are under 18, disabled or full-time students;
    foster members and live-in aides excluded) and whether the head, spouse or co-head is 62+ or disabled
    (§2.4)."""
    members = list(members)
    dependents = sum(1 for m in members if is_dependent(m, on))
    elderly = any(
        m.relationship in HEAD_RELATIONSHIPS
        and (m.disabled or ((age := age_on(m.birth_date, on)) is not None and age >= ELDERLY_AGE))
        for m in members
    )
    return FamilyFacts(dependents, elderly)


def adjusted_income(
    annual_income: Money,
    *,
    ruleset: Ruleset | None = None,
    as_of: date | None = None,
    hotma_adoption_date: date | None = None,
    dependents: int = 0,
    elderly_or_disabled_family: bool = False,
    medical_expenses: Money = 0,
    disability_assistance_expenses: Money = 0,
    disability_enabled_earnings: Money | None = None,
    child_care_expenses: Money = 0,
    child_care_enabled_earnings: Money | None = None,
    medical_threshold_pct: Money | None = None,
) -> Decimal:
    """Adjusted annual income (24 CFR 5.611; §2.4) = annual income − deductions, never below 0.

    - each dependent: ``ruleset.dependent_deduction`` ($480; $500 from CY2026 under HOTMA);
    - elderly or disabled family, once: ``ruleset.elderly_disabled_deduction`` ($400 pre-HOTMA, $525 HOTMA
      base, $550 CY2026);
    - unreimbursed medical expenses (elderly/disabled families only) plus attendant-care/auxiliary-apparatus
      expenses (capped at the earnings they enable) **above** ``medical_threshold_pct`` % of annual income
      (3 % pre-HOTMA, 10 % HOTMA; pass 5 or 7.5 for a family under HOTMA hardship phase-in, [I]);
    - child care for children under 13, capped at the earnings it enables when given.
    Exact arithmetic; no rounding. Pass ``ruleset``, or ``as_of`` (and the agency's
    ``hotma_adoption_date``) to pick it with :func:`~rm_pipelines.compliance.rulesets.ruleset_for`.
    """
    if ruleset is None:
        if as_of is None:
            raise TypeError("adjusted_income needs ruleset= or as_of= (the determination's effective date)")
        ruleset = ruleset_for(as_of, hotma_adoption_date)
    annual = D(annual_income)
    deductions = ruleset.dependent_deduction * dependents
    if elderly_or_disabled_family:
        deductions += ruleset.elderly_disabled_deduction
    threshold_pct = D(medical_threshold_pct) if medical_threshold_pct is not None else ruleset.medical_threshold_pct
    deductions += medical_deduction(annual, threshold_pct, elderly_or_disabled_family=elderly_or_disabled_family,
                                    medical_expenses=medical_expenses,
                                    disability_assistance_expenses=disability_assistance_expenses,
                                    disability_enabled_earnings=disability_enabled_earnings)
    child_care = D(child_care_expenses)
    if child_care_enabled_earnings is not None:
        child_care = min(child_care, D(child_care_enabled_earnings))
    deductions += child_care
    return max(ZERO, annual - deductions)


def allowable_medical_expenses(
    *,
    elderly_or_disabled_family: bool,
    medical_expenses: Money = 0,
    disability_assistance_expenses: Money = 0,
    disability_enabled_earnings: Money | None = None,
) -> Decimal:
    """The expenses the medical deduction is computed on (§2.4): unreimbursed medical expenses of an elderly
    or disabled family plus attendant-care/auxiliary-apparatus expenses capped at the earnings they enable."""
    assistance = D(disability_assistance_expenses)
    if disability_enabled_earnings is not None:
        assistance = min(assistance, D(disability_enabled_earnings))
    return assistance + (D(medical_expenses) if elderly_or_disabled_family else ZERO)


def medical_deduction(
    annual_income: Money,
    threshold_pct: Money,
    *,
    elderly_or_disabled_family: bool,
    medical_expenses: Money = 0,
    disability_assistance_expenses: Money = 0,
    disability_enabled_earnings: Money | None = None,
) -> Decimal:
    """The medical and attendant-care deduction (§2.4): the allowable expenses
    (:func:`allowable_medical_expenses`) **above** ``threshold_pct`` % of annual income, never negative.
    Exact; no rounding."""
    allowable = allowable_medical_expenses(
        elderly_or_disabled_family=elderly_or_disabled_family, medical_expenses=medical_expenses,
        disability_assistance_expenses=disability_assistance_expenses,
        disability_enabled_earnings=disability_enabled_earnings)
    if allowable <= 0:
        return ZERO
    return max(ZERO, allowable - D(annual_income) * D(threshold_pct) / 100)


def total_tenant_payment(
    annual_income: Money, adjusted_income: Money, minimum_rent: Money = 0, welfare_rent: Money | None = None
) -> int:
    """Total tenant payment (24 CFR 5.628; §2.3): the **highest** of
    30 % of monthly adjusted income (adjusted ÷ 40), 10 % of monthly annual income (annual ÷ 120),
    welfare rent (as-paid states only) and the minimum rent ($0-$50, §5.630) — **rounded to the nearest
    dollar, .50 up**."""
    minimum = D(minimum_rent)
    if not ZERO <= minimum <= MAX_MINIMUM_RENT:
        raise ValueError(f"minimum rent must be $0-$50 (24 CFR 5.630), got {minimum}")
    prongs = [D(adjusted_income) / 40, D(annual_income) / 120, minimum]
    if welfare_rent is not None:
        prongs.append(D(welfare_rent))
    return round_half_up_dollars(max(prongs))


def hap(payment_standard: Money, gross_rent: Money, ttp: Money) -> Decimal:
    """Housing assistance payment (24 CFR 982.505(b); §2.3) = the **lower** of payment standard − TTP and
    gross rent − TTP, never negative. Gross rent = rent to owner + utility allowance."""
    ttp = D(ttp)
    return max(ZERO, min(D(payment_standard) - ttp, D(gross_rent) - ttp))


def family_share(gross_rent: Money, hap_amount: Money) -> Decimal:
    """Family share = gross rent − HAP (§2.3)."""
    return D(gross_rent) - D(hap_amount)


@dataclass(frozen=True, slots=True)
class TenantRent:
    tenant_rent: Decimal
    utility_reimbursement: Decimal


def tenant_rent_to_owner(family_share_amount: Money, utility_allowance: Money) -> TenantRent:
    """Tenant rent to owner = family share − UA; when negative the tenant pays 0 and the difference is a
    utility reimbursement (§2.3, [I])."""
    rent = D(family_share_amount) - D(utility_allowance)
    return TenantRent(max(ZERO, rent), max(ZERO, -rent))


def max_initial_gross_rent(payment_standard: Money, adjusted_income: Money, ttp: Money) -> int:
    """Maximum gross rent approvable at a family's **first** occupancy when gross rent exceeds the payment
    standard (24 CFR 982.508, 40 % cap; §2.3): payment standard + 40 % of monthly adjusted income − TTP
    (= ps + adjusted ÷ 30 − TTP), **rounded down** (a maximum). Not applied at later reexaminations."""
    return floor_dollars(D(payment_standard) + D(adjusted_income) / 30 - D(ttp))


def payment_standard_for_family(voucher_size_standard: Money, unit_size_standard: Money) -> Decimal:
    """The family's payment standard = the **lower** of the standard for the voucher unit size and for the
    unit actually rented (24 CFR 982.505(c)(1); §2.2)."""
    return min(D(voucher_size_standard), D(unit_size_standard))


def in_basic_range(payment_standard: Money, fmr: Money) -> bool:
    """Payment standard within 90 %-110 % of FMR (24 CFR 982.503; §2.2); above is an exception standard."""
    ps, fmr = D(payment_standard), D(fmr)
    return fmr * Decimal("0.9") <= ps <= fmr * Decimal("1.1")


@dataclass(frozen=True, slots=True)
class ProjectBasedRent:
    tenant_rent: Decimal
    utility_reimbursement: Decimal
    assistance_payment: Decimal


def project_based_rent(contract_rent: Money, utility_allowance: Money, ttp: Money) -> ProjectBasedRent:
    """Project-based Section 8 (HUD Handbook 4350.3; §2.5): tenant rent = TTP − UA (negative → utility
    reimbursement and tenant rent 0); assistance = contract rent − tenant rent."""
    rent = D(ttp) - D(utility_allowance)
    tenant = max(ZERO, rent)
    return ProjectBasedRent(tenant, max(ZERO, -rent), max(ZERO, D(contract_rent) - tenant))


def exceeds_asset_limit(net_family_assets: Money, ruleset: Ruleset) -> bool:
    """HOTMA asset limit (24 CFR 5.618; §2.1): ineligible when net family assets **exceed** the limit
    ($100,000 / $103,200 / $105,574). Agencies not on HOTMA have no asset limit (returns False)."""
    return ruleset.asset_limit is not None and D(net_family_assets) > ruleset.asset_limit
