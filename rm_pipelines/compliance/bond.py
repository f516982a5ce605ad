"""Tax-exempt bond (IRC §142(d)) occupancy test and Form 8703 figures (compliance-rules.md §5, §7.7).

The bond test is an **income-occupancy** test only (no rent restriction unless deep-rent-skewed), runs
**project-wide** (the 140 % rule too, unless LIHTC is also claimed: then building-wide), and uses the MTSP
limits with the HERA hold harmless (but never the rural national non-metro floor, §1.2).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

from .lihtc import set_aside_required_units
from .rounding import truncate

BOND_ELECTIONS = ("20-50", "40-60", "25-60")


@dataclass(frozen=True, slots=True)
class Form8703Figures:
    """Part II of Form 8703 (§7.7), plus the test result."""

    election: str
    line4_no_new_over_income_residents: bool | None
    """None: a resident who moved in this year could not be tested (missing limits)."""
    line5_residential_units: int
    line6_income_qualified_units: int
    line7_continuing_residents_treated_qualified: int
    line8_low_income_units: int
    line9_low_income_percentage: Decimal
    required_units: int
    test_met: bool | None
    """Met on proof, not met on proof, or None: undetermined units could decide it either way."""
    undetermined_units: int = 0

    def as_row(self) -> dict:
        return {
            "election": self.election,
            "line4_no_new_over_income_residents": self.line4_no_new_over_income_residents,
            "line5_residential_units": self.line5_residential_units,
            "line6_income_qualified_units": self.line6_income_qualified_units,
            "line7_continuing_residents_treated_qualified": self.line7_continuing_residents_treated_qualified,
            "line8_low_income_units": self.line8_low_income_units,
            "line9_low_income_percentage": self.line9_low_income_percentage,
            "required_units": self.required_units,
            "test_met": self.test_met,
            "undetermined_units": self.undetermined_units,
        }


def form_8703_figures(
    election: str,
    residential_units: int,
    income_qualified_units: int,
    continuing_residents_treated_qualified: int,
    new_over_income_residents: int = 0,
    *,
    undetermined_units: int = 0,
    undetermined_new_residents: int = 0,
) -> Form8703Figures:
    """Form 8703 lines 4-9 and the elected test (§5, §7.7).

    Line 6: units whose residents' current income is within the limit; line 7: continuing residents who
    qualified at move-in and are now above the limit but still treated as qualified (140 % rule not
    violated); line 8 = 6 + 7; line 9 = line 8 ÷ line 5 as a percentage, **truncated** to 2 decimals.
    Test met when line 8 ≥ **ceil**(20 %/40 %/25 % × line 5).

    ``undetermined_units``: occupied units whose qualification could not be tested (missing limits). They
    count neither way: the test is met on proof (line 8 alone reaches the requirement), not met on proof
    (line 8 plus every undetermined unit stays below it), otherwise undetermined (None). Likewise line 4 is
    None when no new resident is proven over income but some could not be tested.
    """
    if election not in BOND_ELECTIONS:
        raise ValueError(f"bond election must be one of {BOND_ELECTIONS}, got {election!r}")
    low = income_qualified_units + continuing_residents_treated_qualified
    pct = Fraction(100 * low, residential_units) if residential_units else Fraction(0)
    required = set_aside_required_units(residential_units, election)
    if low >= required:
        met: bool | None = True
    elif low + undetermined_units < required:
        met = False
    else:
        met = None
    if new_over_income_residents:
        line4: bool | None = False
    else:
        line4 = None if undetermined_new_residents else True
    return Form8703Figures(
        election=election,
        line4_no_new_over_income_residents=line4,
        line5_residential_units=residential_units,
        line6_income_qualified_units=income_qualified_units,
        line7_continuing_residents_treated_qualified=continuing_residents_treated_qualified,
        line8_low_income_units=low,
        line9_low_income_percentage=truncate(Decimal(pct.numerator) / Decimal(pct.denominator), 2),
        required_units=required,
        test_met=met,
        undetermined_units=undetermined_units,
    )
