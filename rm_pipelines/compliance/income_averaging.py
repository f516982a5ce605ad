"""The LIHTC average income test (IRC §42(g)(1)(C), Treas. Reg. §1.42-19; compliance-rules.md §1.1).

- Designations must be 20, 30, 40, 50, 60, 70 or 80 % of AMI.
- The average of the designations must be **≤ 60 %**; it is a **simple unit-count average** (§1.1; a
  state agency that weights by floor space or bedrooms is an open item, §14 item 4 — not applied here).
- The owner identifies a *qualified group* of low-income units that is at least 40 % of residential
  units (25 % in NYC) and itself averages ≤ 60 %.

The comparison with 60 % is exact (integer sums: ``sum ≤ 60 × count``); the reported average is rounded to
two decimals, half up, for display only.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Iterable, Sequence

from .lihtc import set_aside_required_units

VALID_DESIGNATIONS: tuple[int, ...] = (20, 30, 40, 50, 60, 70, 80)
MAX_AVERAGE = 60


@dataclass(frozen=True, slots=True)
class AverageTest:
    """Result of :func:`average_test`."""

    passed: bool
    average: Decimal | None
    count: int
    invalid_designations: tuple[int, ...]


def _average(values: Sequence[int]) -> Decimal | None:
    if not values:
        return None
    return (Decimal(sum(values)) / len(values)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def average_test(designations: Iterable[int]) -> AverageTest:
    """Average income test over unit designations (§1.1, §1.42-19).

    ``passed`` when every designation is one of 20/30/40/50/60/70/80 and the simple average is ≤ 60
    (exact comparison; 60.00 passes). ``invalid_designations`` lists the values outside that set (a unit
    with an invalid designation cannot be in the qualified group). No designations → not passed.
    Example (regulation): five 80 % + five 40 % → 60.00, passes; drop one 40 % → 62.22, fails.
    """
    values = [int(d) for d in designations]
    invalid = tuple(sorted({d for d in values if d not in VALID_DESIGNATIONS}))
    passed = bool(values) and not invalid and sum(values) <= MAX_AVERAGE * len(values)
    return AverageTest(passed, _average(values), len(values), invalid)


@dataclass(frozen=True, slots=True)
class QualifiedGroup:
    """The largest group of units whose designations average ≤ 60 % (§1.42-19 qualified group)."""

    unit_ids: tuple[str, ...]
    average: Decimal | None
    dropped: tuple[str, ...]
    """Units left out to keep the average ≤ 60 % (their basis leaves the applicable fraction)."""


def qualified_group(units: Iterable[tuple[str, int]]) -> QualifiedGroup:
    """The largest qualified group that averages ≤ 60 % from ``(unit_id, designation)`` pairs (§1.1,
    Treas. Reg. §1.42-19). Exact integer comparison; the reported average is rounded half up to 0.01.

    The owner identifies the group; when the record of that identification is not available, this returns
    the largest feasible one: units with valid designations taken from the **lowest designation up** (for a
    given size, the lowest designations give the lowest average), ties by unit id. In the regulation's
    example, nine habitable units (five 80 %, four 40 %) give a group of eight: one 80 % unit is dropped.
    """
    valid = sorted(((d, u) for u, d in units if d in VALID_DESIGNATIONS), key=lambda x: (x[0], x[1]))
    total = 0
    chosen: list[tuple[int, str]] = []
    for d, u in valid:
        if total + d <= MAX_AVERAGE * (len(chosen) + 1):
            chosen.append((d, u))
            total += d
        else:
            break
    chosen_ids = {u for _, u in chosen}
    dropped = tuple(sorted(u for _, u in valid if u not in chosen_ids))
    return QualifiedGroup(
        unit_ids=tuple(sorted(chosen_ids)),
        average=_average([d for d, _ in chosen]),
        dropped=dropped,
    )


def set_aside_met(qualified_units: int, residential_units: int, nyc: bool = False) -> bool:
    """The qualified group is at least ceil(40 %) of residential units (25 % in NYC) (§1.1)."""
    return qualified_units >= set_aside_required_units(residential_units, "income-averaging", nyc=nyc)
