"""Exact money: integer cents, `Decimal` rates, one place for the rounding modes the rules use."""

from __future__ import annotations

from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal
from fractions import Fraction
from typing import Any

HALF_UP = ROUND_HALF_UP
DOWN = ROUND_DOWN


def to_cents(value: Any) -> int:
    """Dollars (Decimal, int, numeric text) → integer cents; a value finer than a cent is refused, not rounded."""
    if value is None:
        raise ValueError("no amount")
    if isinstance(value, int):
        return value * 100
    d = value if isinstance(value, Decimal) else Decimal(str(value).replace(",", "").replace("$", "").strip())
    cents = d.scaleb(2)
    whole = int(cents)
    if cents != whole:
        raise ValueError(f"{value} is finer than a cent")
    return whole


def opt_cents(value: Any) -> int | None:
    """Like :func:`to_cents`; None and blank text stay None."""
    if value is None:
        return None
    if type(value) is Decimal:  # the common case (NUMERIC columns): no parsing
        cents = value.scaleb(2)
        whole = int(cents)
        if cents == whole:
            return whole
    if isinstance(value, str) and not value.strip():
        return None
    return to_cents(value)


def round_fraction(x: Fraction, mode: str = HALF_UP) -> int:
    """An exact quantity of cents → whole cents (half up, or down for maxima)."""
    if mode == DOWN:
        return x.numerator // x.denominator if x >= 0 else -((-x.numerator) // x.denominator)
    num, den = x.numerator, x.denominator
    q, r = divmod(abs(num), den)
    if 2 * r >= den:
        q += 1
    return q if num >= 0 else -q


def frac(value: Decimal | int | str) -> Fraction:
    return Fraction(Decimal(value)) if not isinstance(value, int) else Fraction(value)


def percent_of(cents: int, pct: Decimal | int, mode: str = HALF_UP) -> int:
    """`pct` % of an amount in cents, rounded to the cent (half up unless told)."""
    return round_fraction(Fraction(cents) * frac(pct) / 100, mode)


def dollars(cents: int | None) -> Decimal | None:
    """Cents → Decimal dollars with two places (for storage and metadata)."""
    return None if cents is None else Decimal(cents).scaleb(-2)


def fmt(cents: int | None) -> str:
    """Cents as money text: -123456 → "-$1,234.56"."""
    if cents is None:
        return "—"
    sign = "-" if cents < 0 else ""
    whole, part = divmod(abs(cents), 100)
    return f"{sign}${whole:,}.{part:02d}"


def pct_text(x: Fraction | Decimal | None, places: int = 2) -> str:
    if x is None:
        return "—"
    return f"{Decimal(x.numerator) / Decimal(x.denominator) * 100 if isinstance(x, Fraction) else x * 100:.{places}f} %"
