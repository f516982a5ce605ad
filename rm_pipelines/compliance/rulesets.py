"""Income and asset rulesets with their effective dates (compliance-rules.md §2.4, §8.3, §8.4, §15).

HOTMA changed the Part 5 income rules; agencies adopt it on their own dates. Every income, asset and
deduction rule therefore reads its amounts from a :class:`Ruleset` chosen by date *and* by the agency's
HOTMA adoption date (§8.4: "every income and asset rule needs a ruleset-version key
(program, agency, effective_date)").

| ruleset        | from        | dependent | elderly/disabled | medical over | asset imputation above | passbook | HCV asset limit |
|----------------|-------------|-----------|------------------|--------------|------------------------|----------|-----------------|
| ``pre-hotma``  | (always)    | $480      | $400             | 3 %          | $5,000 (greater of)    | 0.06 %*  | none            |
| ``hotma-2024`` | 2024-01-01  | $480      | $525             | 10 %         | $50,000                | 0.40 %   | $100,000        |
| ``hotma-2025`` | 2025-01-01  | $480      | $525             | 10 %         | $51,600                | 0.45 %   | $103,200        |
| ``hotma-2026`` | 2026-01-01  | $500      | $550             | 10 %         | $52,787                | 0.40 %   | $105,574        |

\\* The pre-HOTMA passbook rate was 2 % until 2014 and 0.06 % afterwards (§8.3); :func:`ruleset_for` picks
2 % for dates before 2014-02-01 ([I] HUD's change took effect in February 2014).

HUD's table says agencies that have not adopted HOTMA must *not* use the indexed amounts (§2.1), so an
agency without an adoption date stays on ``pre-hotma``. Notice PIH 2026-15 makes HOTMA enforceable for PHAs
from 2027-01-01 (§0, §8.4): that is :data:`PHA_HOTMA_ENFORCEMENT_DATE`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal

from .certifications import add_years

PHA_HOTMA_ENFORCEMENT_DATE = date(2027, 1, 1)
"""Notice PIH 2026-15: HUD enforces HOTMA §§102/104 for PHAs from this date (§0, §8.4)."""

HOTMA_EARLIEST = date(2024, 1, 1)
"""HOTMA's key provisions took effect on 2024-01-01 (§8.4); no HOTMA ruleset exists before it."""

MEDICAL_PHASE_IN_PCT: tuple[Decimal, ...] = (Decimal(5), Decimal("7.5"))
"""HOTMA phased relief for families already receiving the medical-expense deduction (§2.4, [I]): the
threshold is 5 % for the first 12 months, 7.5 % for the next 12, then the ruleset's 10 %."""


@dataclass(frozen=True, slots=True)
class Ruleset:
    """The dated amounts one income determination uses (§2.4, §8.3)."""

    key: str
    hotma: bool
    effective_from: date
    dependent_deduction: Decimal
    elderly_disabled_deduction: Decimal
    medical_threshold_pct: Decimal
    """Unreimbursed medical/attendant-care expenses are deductible above this % of annual income."""
    asset_imputation_threshold: Decimal
    """Above this net-family-asset total, imputed asset income applies (§8.3)."""
    passbook_rate: Decimal
    """HUD passbook rate as a fraction (0.0040 = 0.40 %)."""
    asset_limit: Decimal | None
    """HOTMA §5.618 asset limit for HUD-assisted eligibility; None before HOTMA. Not a LIHTC rule."""


PRE_HOTMA = Ruleset(
    key="pre-hotma",
    hotma=False,
    effective_from=date(1900, 1, 1),
    dependent_deduction=Decimal(480),
    elderly_disabled_deduction=Decimal(400),
    medical_threshold_pct=Decimal(3),
    asset_imputation_threshold=Decimal(5000),
    passbook_rate=Decimal("0.0006"),
    asset_limit=None,
)
PRE_HOTMA_BEFORE_2014 = replace(PRE_HOTMA, key="pre-hotma-2pct", passbook_rate=Decimal("0.02"))

HOTMA_2024 = Ruleset(
    key="hotma-2024",
    hotma=True,
    effective_from=date(2024, 1, 1),
    dependent_deduction=Decimal(480),
    elderly_disabled_deduction=Decimal(525),
    medical_threshold_pct=Decimal(10),
    asset_imputation_threshold=Decimal(50000),
    passbook_rate=Decimal("0.0040"),
    asset_limit=Decimal(100000),
)
HOTMA_2025 = replace(
    HOTMA_2024,
    key="hotma-2025",
    effective_from=date(2025, 1, 1),
    asset_imputation_threshold=Decimal(51600),
    passbook_rate=Decimal("0.0045"),
    asset_limit=Decimal(103200),
)
HOTMA_2026 = replace(
    HOTMA_2024,
    key="hotma-2026",
    effective_from=date(2026, 1, 1),
    dependent_deduction=Decimal(500),
    elderly_disabled_deduction=Decimal(550),
    asset_imputation_threshold=Decimal(52787),
    passbook_rate=Decimal("0.0040"),
    asset_limit=Decimal(105574),
)

HOTMA_RULESETS: tuple[Ruleset, ...] = (HOTMA_2024, HOTMA_2025, HOTMA_2026)
"""HOTMA amounts by calendar year, oldest first. Add a year's row when HUD publishes it."""

_PASSBOOK_CHANGE_2014 = date(2014, 2, 1)


def ruleset_for(as_of: date, hotma_adoption_date: date | None = None) -> Ruleset:
    """The ruleset that governs an income determination effective on ``as_of``.

    Rule (§2.4 "transition", §8.4): an agency that has not adopted HOTMA by ``as_of`` (no adoption date, or
    ``as_of`` before it) uses the pre-HOTMA amounts ($480 / $400 / 3 % / $5,000 and the 0.06 % passbook rate,
    2 % before 2014). Otherwise the latest HOTMA calendar-year ruleset whose start is on or before ``as_of``
    applies. An adoption date before 2024-01-01 is treated as 2024-01-01 (no HOTMA amounts exist earlier).
    """
    if hotma_adoption_date is None or as_of < max(hotma_adoption_date, HOTMA_EARLIEST):
        return PRE_HOTMA if as_of >= _PASSBOOK_CHANGE_2014 else PRE_HOTMA_BEFORE_2014
    chosen = HOTMA_RULESETS[0]
    for ruleset in HOTMA_RULESETS:
        if ruleset.effective_from <= as_of:
            chosen = ruleset
    return chosen


def hotma_start(hotma_adoption_date: date | None) -> date | None:
    """The first day an agency's determinations use HOTMA amounts (its adoption date, never before
    2024-01-01), or None for an agency that has not adopted HOTMA."""
    return None if hotma_adoption_date is None else max(hotma_adoption_date, HOTMA_EARLIEST)


def medical_threshold_pct(ruleset: Ruleset, on: date, phase_in_start: date | None) -> Decimal:
    """The percentage of annual income above which unreimbursed medical and attendant-care expenses are
    deductible, for a determination effective ``on`` (§2.4, §8.2, §8.4).

    ``phase_in_start``: for a family that was receiving the deduction when its agency moved to HOTMA, the
    effective date of its first certification under HOTMA (else None). Such a family gets HOTMA's phased
    relief ([I] compliance-rules.md §2.4: 5 % → 7.5 % → 10 %): 5 % for determinations within 12 months of
    that date, 7.5 % within the next 12 months, then the ruleset's 10 %. Pre-HOTMA rulesets keep their 3 %.
    """
    if not ruleset.hotma or phase_in_start is None or on < phase_in_start:
        return ruleset.medical_threshold_pct
    for years, pct in enumerate(MEDICAL_PHASE_IN_PCT, start=1):
        if on < add_years(phase_in_start, years):
            return pct
    return ruleset.medical_threshold_pct
