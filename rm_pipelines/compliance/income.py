"""Annual income of members and households, and income from assets (compliance-rules.md §8).

LIHTC, HOME and the HUD programs all use HUD's Part 5 "annual income" (24 CFR 5.609; §1.5, §8.1). The
amounts that changed with HOTMA come from a :class:`~rm_pipelines.compliance.rulesets.Ruleset`.

Amounts are exact ``Decimal`` (cents kept). The whole-dollar figure compared with a limit is rounded **up**
(:attr:`HouseholdIncome.annual_income_whole`; §8.6, the conservative reading of "TCHI suggests rounding up").
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Iterable, NamedTuple, Sequence

from .model import Asset, Member
from .rounding import D, Money, ceil_dollars, round_cents
from .rulesets import Ruleset

ZERO = Decimal(0)

FREQUENCY_MULTIPLIERS: dict[str, int] = {
    "weekly": 52,
    "biweekly": 26,
    "bi-weekly": 26,
    "semimonthly": 24,
    "semi-monthly": 24,
    "monthly": 12,
    "annual": 1,
    "annually": 1,
    "yearly": 1,
}
"""Pay-frequency multipliers (§8.1). Hourly pay is rate × hours per week × 52."""

EARNED_KINDS = frozenset({"wages", "self-employment", "employment"})
BENEFIT_KINDS = frozenset({"social-security", "ssi", "pension", "retirement-distribution", "annuity"})
PUBLIC_ASSISTANCE_KINDS = frozenset({"public-assistance", "tanf", "welfare"})
EXCLUDED_KINDS = frozenset({"foster-care", "kinship-care", "insurance-settlement", "nonrecurring", "workers-comp-settlement"})
"""Excluded by 24 CFR 5.609(b) (§8.1 examples): foster-care and kinship payments, insurance and
workers'-compensation settlements, nonrecurring income."""
CAPPED_AT_DEPENDENT_DEDUCTION = frozenset({"adoption-assistance"})
"""Adoption assistance above the dependent-deduction amount is excluded (§8.1)."""

_KNOWN_KINDS = EARNED_KINDS | BENEFIT_KINDS | PUBLIC_ASSISTANCE_KINDS | EXCLUDED_KINDS | CAPPED_AT_DEPENDENT_DEDUCTION

HEAD_RELATIONSHIPS = frozenset({"H", "S", "A"})
"""Head, spouse, co-head (adult co-tenant): their income counts at any age (§8.1)."""
NON_FAMILY_RELATIONSHIPS = frozenset({"L", "F"})
"""Live-in aides and foster members: their income is excluded (§8.1) and they are not family (§8.5)."""


def annualize(amount: Money, frequency: str, hours_per_week: Money | None = None) -> Decimal:
    """Annual amount of a pay rate (§8.1): weekly × 52, bi-weekly × 26, semi-monthly × 24, monthly × 12,
    annual × 1, hourly × hours per week × 52 (e.g. $960 weekly → $49,920). Exact; no rounding."""
    amount = amount if type(amount) is Decimal else D(amount)
    multiplier = FREQUENCY_MULTIPLIERS.get(frequency)
    if multiplier is not None:
        return amount * multiplier
    freq = frequency.strip().lower()
    if freq == "hourly":
        if hours_per_week is None:
            raise ValueError("hourly pay needs hours_per_week")
        return amount * D(hours_per_week) * 52
    try:
        return amount * FREQUENCY_MULTIPLIERS[freq]
    except KeyError:
        raise ValueError(f"unknown pay frequency {frequency!r}") from None


def age_on(birth_date: date | None, on: date) -> int | None:
    """Completed years of age on ``on``."""
    if birth_date is None:
        return None
    years = on.year - birth_date.year
    if (on.month, on.day) < (birth_date.month, birth_date.day):
        years -= 1
    return years


def is_minor(member: Member, on: date) -> bool:
    """Under 18 on ``on`` (unknown birth date → adult, so its income counts: conservative)."""
    age = age_on(member.birth_date, on)
    return age is not None and age < 18


def is_dependent(member: Member, on: date) -> bool:
    """HUD dependent (§2.4): not head/spouse/co-head, not foster or live-in aide, and under 18, disabled,
    or a full-time student."""
    if member.relationship in HEAD_RELATIONSHIPS or member.relationship in NON_FAMILY_RELATIONSHIPS:
        return False
    return is_minor(member, on) or member.disabled or member.full_time_student


def household_size(members: Iterable[Member]) -> int:
    """Size used for LIHTC/HUD income limits: every occupant except live-in aides (§8.5)."""
    size = 0
    for m in members:
        if m.relationship != "L":
            size += 1
    return size


def family_members(members: Iterable[Member]) -> list[Member]:
    """The family: the household without live-in aides and foster members (§8.5)."""
    return [m for m in members if m.relationship not in NON_FAMILY_RELATIONSHIPS]


class MemberIncome(NamedTuple):
    """One member's counted annual income by TIC Part III column (§7.2): (A) employment, (B) Social
    Security/pensions, (C) public assistance, (D) other; ``excluded`` is what the rules left out.
    (An immutable named tuple: cheap to build for every member of every certification.)"""

    member_id: str
    employment: Decimal
    benefits: Decimal
    public_assistance: Decimal
    other: Decimal
    excluded: Decimal

    @property
    def total(self) -> Decimal:
        return self.employment + self.benefits + self.public_assistance + self.other


def member_income(member: Member, on: date, ruleset: Ruleset) -> MemberIncome:
    """A member's counted annual income on ``on`` (24 CFR 5.609 as summarised in §8.1).

    - Live-in aides and foster members: nothing counts.
    - Head, spouse, co-head (any age) and members 18+: everything not excluded counts.
    - Other minors: only unearned income counts (earned income of minors is excluded).
    - Dependent full-time students 18+: earned income counts only up to the dependent-deduction amount
      ($480; $500 under the CY2026 HOTMA ruleset).
    - Excluded kinds (foster/kinship payments, insurance and workers'-comp settlements, nonrecurring
      income) never count; adoption assistance counts only up to the dependent-deduction amount.
    Amounts are annualised exactly (:func:`annualize`); no rounding here.
    """
    return MemberIncome(member.member_id, *_member_buckets(member, on, ruleset))


_NO_INCOME = (ZERO, ZERO, ZERO, ZERO, ZERO)


def _member_buckets(member: Member, on: date, ruleset: Ruleset) -> tuple[Decimal, Decimal, Decimal, Decimal, Decimal]:
    """(employment, benefits, public assistance, other, excluded): the rules of :func:`member_income`."""
    if not member.incomes:
        return _NO_INCOME
    employment = benefits = assistance = other = excluded = ZERO
    if member.relationship in NON_FAMILY_RELATIONSHIPS:
        total = sum((annualize(s.amount, s.frequency, s.hours_per_week) for s in member.incomes), ZERO)
        return ZERO, ZERO, ZERO, ZERO, total
    head = member.relationship in HEAD_RELATIONSHIPS
    minor = False if head else is_minor(member, on)
    student_dependent = (not head) and (not minor) and member.full_time_student
    cap = ruleset.dependent_deduction
    earned_room = cap
    multipliers = FREQUENCY_MULTIPLIERS
    for source in member.incomes:
        amount, multiplier = source.amount, multipliers.get(source.frequency)
        if multiplier is not None and type(amount) is Decimal:
            annual = amount * multiplier  # the common case of annualize(), inline
        else:
            annual = annualize(amount, source.frequency, source.hours_per_week)
        kind = source.kind
        if kind not in _KNOWN_KINDS:
            kind = kind.strip().lower()
        if kind in EXCLUDED_KINDS:
            excluded += annual
            continue
        if kind in CAPPED_AT_DEPENDENT_DEDUCTION:
            counted = min(annual, cap)
            other += counted
            excluded += annual - counted
            continue
        if kind in EARNED_KINDS:
            if minor and not head:
                excluded += annual
                continue
            if student_dependent:
                counted = min(annual, earned_room)
                earned_room -= counted
                employment += counted
                excluded += annual - counted
                continue
            employment += annual
        elif kind in BENEFIT_KINDS:
            benefits += annual
        elif kind in PUBLIC_ASSISTANCE_KINDS:
            assistance += annual
        else:
            other += annual
    return employment, benefits, assistance, other, excluded


# -- assets --------------------------------------------------------------------------------------------

_PLAIN_ASSET_KINDS = frozenset({"savings", "checking", "cash", "cd", "stocks", "bonds", "real-estate", "land"})
PRE_HOTMA_EXCLUDED_ASSETS = frozenset({"necessary-personal-property", "irrevocable-trust"})
HOTMA_EXCLUDED_ASSETS = frozenset(
    {"necessary-personal-property", "irrevocable-trust", "retirement", "unsellable-real-property", "fss-escrow", "tax-refund"}
)
"""Net family assets exclude (HOTMA, §8.3): retirement accounts, necessary personal property, unsellable
real property, FSS escrow, irrevocable trusts, recent tax refunds. Before HOTMA only necessary personal
property and irrevocable trusts were outside net family assets ([I] pre-HOTMA 24 CFR 5.603)."""


class AssetIncome(NamedTuple):
    """Income from assets as on the TIC Part IV (§7.2, §8.3)."""

    net_family_assets: Decimal
    actual_income: Decimal
    imputed_income: Decimal
    counted_income: Decimal
    ruleset: str
    imputation_applies: bool
    self_certifiable: bool


def asset_income(assets: Iterable[Asset], ruleset: Ruleset, self_cert_threshold: Money | None = None) -> AssetIncome:
    """Income counted from assets under ``ruleset`` (§8.3).

    - **Pre-HOTMA:** if net family assets exceed $5,000, income = the **greater of** actual income and
      net family assets × passbook rate (0.06 %; 2 % before 2014); otherwise actual income.
    - **HOTMA:** if net family assets exceed the threshold ($50,000 / $51,600 / $52,787 for CY2024/25/26),
      impute passbook × value **only on assets whose actual return cannot be calculated**
      (``annual_income is None``); assets with a calculable return contribute their actual income.
    "Exceed" is strict: assets equal to the threshold impute nothing. Imputed income is rounded to the cent
    (half up). ``self_certifiable``: net family assets ≤ ``self_cert_threshold`` (agency setting; default
    the ruleset's threshold).
    """
    nfa, actual, imputed, counted, over = _asset_totals(assets, ruleset)
    cert_threshold = D(self_cert_threshold) if self_cert_threshold is not None else ruleset.asset_imputation_threshold
    return AssetIncome(
        net_family_assets=nfa,
        actual_income=actual,
        imputed_income=imputed,
        counted_income=counted,
        ruleset=ruleset.key,
        imputation_applies=over,
        self_certifiable=nfa <= cert_threshold,
    )


_NO_ASSET_TOTALS = (ZERO, ZERO, ZERO, ZERO, False)


def _asset_totals(assets: Iterable[Asset], ruleset: Ruleset) -> tuple[Decimal, Decimal, Decimal, Decimal, bool]:
    """(net family assets, actual income, imputed income, counted income, imputation applies): the rules
    of :func:`asset_income`."""
    excluded = HOTMA_EXCLUDED_ASSETS if ruleset.hotma else PRE_HOTMA_EXCLUDED_ASSETS
    nfa = actual = not_calculable = ZERO
    for a in assets:
        kind = a.kind
        if kind in excluded or (kind not in _PLAIN_ASSET_KINDS and kind.strip().lower() in excluded):
            continue
        value = a.cash_value if type(a.cash_value) is Decimal else D(a.cash_value)
        nfa += value
        returns = a.annual_income
        if returns is None:
            not_calculable += value
        else:
            actual += returns if type(returns) is Decimal else D(returns)
    threshold = ruleset.asset_imputation_threshold
    over = nfa > threshold
    if ruleset.hotma:
        imputed = round_cents(not_calculable * ruleset.passbook_rate) if over else ZERO
        counted = actual + imputed
    else:
        imputed = round_cents(nfa * ruleset.passbook_rate) if over else ZERO
        counted = max(actual, imputed)
    return nfa, actual, imputed, counted, over


class HouseholdIncome(NamedTuple):
    """A household's annual income: TIC (E) gross income + (K) asset income = (L) total (§7.2).

    ``employment`` … ``other`` are the TIC Part III column totals (A)-(D); ``gross_income`` is (E),
    ``assets.counted_income`` (K) and ``annual_income`` (L), exact."""

    members: tuple[MemberIncome, ...]
    assets: AssetIncome
    ruleset: str
    employment: Decimal
    benefits: Decimal
    public_assistance: Decimal
    other: Decimal
    gross_income: Decimal
    annual_income: Decimal

    @property
    def earned_income(self) -> Decimal:
        return self.employment

    @property
    def annual_income_whole(self) -> int:
        """(L) in whole dollars, rounded **up** before comparison with a limit (§8.6)."""
        return ceil_dollars(self.annual_income)


def household_income(
    members: Sequence[Member],
    on: date,
    ruleset: Ruleset,
    self_cert_threshold: Money | None = None,
    *,
    per_member: bool = True,
) -> HouseholdIncome:
    """Annual income of a household certified on ``on`` (§8.1, §8.3): each member's counted income
    (:func:`member_income`) plus income from the family's assets (:func:`asset_income`; live-in aides'
    and foster members' assets are not the family's). ``per_member=False`` skips the per-member
    breakdown (``members`` is then empty; totals are identical) — used for bulk evaluation."""
    t = household_totals(members, on, ruleset)
    cert_threshold = D(self_cert_threshold) if self_cert_threshold is not None else ruleset.asset_imputation_threshold
    assets = AssetIncome(t.net_family_assets, t.actual_asset_income, t.imputed_asset_income, t.asset_income,
                         ruleset.key, t.imputation_applies, t.net_family_assets <= cert_threshold)
    per = tuple(member_income(m, on, ruleset) for m in members) if per_member else ()
    return HouseholdIncome(per, assets, ruleset.key, t.employment, t.benefits, t.public_assistance, t.other,
                           t.gross_income, t.annual_income)


class HouseholdTotals(tuple):
    """The figures of :func:`household_totals` as a plain tuple with named accessors (cheap to build in
    bulk): employment, benefits, public assistance, other (TIC A-D), net family assets, actual, imputed
    and counted asset income (TIC H-K), whether imputation applies, household size (all members except
    live-in aides, §8.5)."""

    __slots__ = ()
    employment = property(lambda self: self[0])
    benefits = property(lambda self: self[1])
    public_assistance = property(lambda self: self[2])
    other = property(lambda self: self[3])
    net_family_assets = property(lambda self: self[4])
    actual_asset_income = property(lambda self: self[5])
    imputed_asset_income = property(lambda self: self[6])
    asset_income = property(lambda self: self[7])
    imputation_applies = property(lambda self: self[8])
    household_size = property(lambda self: self[9])

    @property
    def gross_income(self) -> Decimal:
        return self[0] + self[1] + self[2] + self[3]

    @property
    def annual_income(self) -> Decimal:
        """(L) = (E) + (K), exact."""
        return self[0] + self[1] + self[2] + self[3] + self[7]


def household_totals(members: Sequence[Member], on: date, ruleset: Ruleset) -> HouseholdTotals:
    """The totals of :func:`household_income` without per-member objects (same rules, §8.1 and §8.3; exact,
    no rounding; used for bulk evaluation)."""
    return HouseholdTotals(household_totals_tuple(members, on, ruleset))


def household_totals_tuple(members: Sequence[Member], on: date, ruleset: Ruleset) -> tuple:
    """:func:`household_totals` as a plain tuple (same order as :class:`HouseholdTotals`)."""
    family_assets: list[Asset] = []
    employment = benefits = assistance = other = ZERO
    size = 0
    for m in members:
        if m.relationship in NON_FAMILY_RELATIONSHIPS:
            if m.relationship == "F":
                size += 1
        else:
            size += 1
            if m.assets:
                family_assets.extend(m.assets)
        if m.incomes:
            e, b, a, o, _ = _member_buckets(m, on, ruleset)
            if e:
                employment += e
            if b:
                benefits += b
            if a:
                assistance += a
            if o:
                other += o
    nfa, actual, imputed, counted, over = _asset_totals(family_assets, ruleset) if family_assets else _NO_ASSET_TOTALS
    return employment, benefits, assistance, other, nfa, actual, imputed, counted, over, size
