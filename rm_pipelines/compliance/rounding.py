"""Exact money arithmetic and the direction-sensitive rounding rules (compliance-rules.md §0, §8.6).

Every compliance quantity is a ``Decimal`` (or an ``int`` of whole dollars); floats are refused so that an
exact half-dollar survives to the rounding step (§0 principle 4). The helpers here name the rounding
direction each rule needs:

| rule (§8.6)                                   | helper                |
|-----------------------------------------------|-----------------------|
| HUD income limits: up to the next $50         | ``ceil_to(x, 50)``    |
| maximum rents: down to the whole dollar       | ``floor_dollars``     |
| minimum unit counts: up                       | ``ceil_int``          |
| HUD TTP: nearest dollar, .50 up               | ``round_half_up_dollars`` |
| household income compared to a limit: up      | ``ceil_dollars``      |
"""

from __future__ import annotations

from decimal import ROUND_CEILING, ROUND_DOWN, ROUND_FLOOR, ROUND_HALF_UP, Decimal
from fractions import Fraction
from typing import Union

Money = Union[Decimal, int, str]
"""What the public functions accept as money: ``Decimal``, ``int`` or a numeric string. Never ``float``."""

ZERO = Decimal(0)
ONE_CENT = Decimal("0.01")


def D(value: Money | Fraction | None, *, default: Decimal | None = None) -> Decimal:
    """Convert money to ``Decimal`` exactly.

    Accepts ``Decimal``, ``int``, numeric ``str`` and ``Fraction`` (only when it has a finite decimal
    expansion). ``None`` returns ``default`` (or raises when no default is given). ``float`` and ``bool`` are
    refused with ``TypeError``: binary floats cannot hold cents exactly (§0 principle 4).
    """
    if type(value) is Decimal:
        return value
    if value is None:
        if default is None:
            raise TypeError("a money amount is required, got None")
        return default
    if isinstance(value, Decimal):
        return value
    if isinstance(value, bool):
        raise TypeError("money must be Decimal, int or str, not bool")
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, str):
        text = value.strip().replace(",", "").replace("$", "")
        if text == "":
            raise ValueError("empty money string")
        return Decimal(text)
    if isinstance(value, Fraction):
        result = Decimal(value.numerator) / Decimal(value.denominator)
        if Fraction(result) != value:
            raise ValueError(f"{value} has no exact decimal representation")
        return result
    if isinstance(value, float):
        raise TypeError(
            f"money must be Decimal, int or str, not float ({value!r}); floats cannot hold cents exactly"
        )
    raise TypeError(f"cannot use {type(value).__name__} as money")


def ceil_to(value: Money, multiple: int) -> int:
    """Round ``value`` up to the next multiple of ``multiple`` (HUD income limits: ``ceil_to(x, 50)``)."""
    d = D(value)
    steps = (d / multiple).to_integral_value(rounding=ROUND_CEILING)
    return int(steps) * multiple


def floor_dollars(value: Money) -> int:
    """Round down to the whole dollar: the rule for every *maximum* rent (§1.3, §8.6)."""
    return int(D(value).to_integral_value(rounding=ROUND_FLOOR))


def ceil_dollars(value: Money) -> int:
    """Round up to the whole dollar: household income compared with a limit, conservatively (§8.6)."""
    return int(D(value).to_integral_value(rounding=ROUND_CEILING))


def ceil_int(value: Money | Fraction) -> int:
    """Round up to a whole number: minimum unit counts (set-aside, Low HOME 20 %) (§1.1, §3, §8.6)."""
    if isinstance(value, Fraction):
        return -((-value.numerator) // value.denominator)
    return int(D(value).to_integral_value(rounding=ROUND_CEILING))


def round_half_up_dollars(value: Money) -> int:
    """Round to the nearest dollar with .50 going up (HUD TTP, HUD-50058 convention; §2.3, §8.6).

    ``ROUND_HALF_UP`` on purpose: banker's rounding would turn $742.50 into $742, HUD requires $743.
    """
    return int(D(value).to_integral_value(rounding=ROUND_HALF_UP))


def round_cents(value: Money) -> Decimal:
    """Round to the cent, .005 up (imputed asset income, annualised pay)."""
    return D(value).quantize(ONE_CENT, rounding=ROUND_HALF_UP)


def truncate(value: Money, places: int) -> Decimal:
    """Cut (never round up) to ``places`` decimals: used for reported fractions so they never overstate."""
    quantum = Decimal(1).scaleb(-places)
    return D(value).quantize(quantum, rounding=ROUND_DOWN)


def ceil_places(value: Money, places: int) -> Decimal:
    """Round up to ``places`` decimals (displayed % of AMI never understates the household's income)."""
    quantum = Decimal(1).scaleb(-places)
    return D(value).quantize(quantum, rounding=ROUND_CEILING)
