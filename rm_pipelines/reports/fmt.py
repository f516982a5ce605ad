"""How figures are printed. Each formatter takes a stored value (or its JSON text form, so `verify` can
re-format the values of an embedded evidence file) and returns the text that appears on the page.

Formatting never rounds a figure to a different value: money keeps its cents, fractions their four places
(§8.6: 8609-A fractions to at least four places), percentages their two."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from typing import Any


def _dec(v: Any) -> Decimal:
    return v if isinstance(v, Decimal) else Decimal(str(v))


def money(v: Any) -> str:
    """$1,930.00 (cents kept; negative as −$5.00)."""
    d = _dec(v).quantize(Decimal("0.01"))
    sign = "-" if d < 0 else ""
    return f"{sign}${abs(d):,.2f}"


def cents(v: Any) -> str:
    """A stored integer amount of cents as money: 1725420 → $17,254.20 (exact, no rounding)."""
    return money(Decimal(int(_dec(v))).scaleb(-2))


def share(v: Any) -> str:
    """A stored ratio (six places) as a percentage with four places: 0.265320 → 26.5320 %."""
    return f"{(_dec(v) * 100).quantize(Decimal('0.0001')):f} %"


def dollars(v: Any) -> str:
    """$1,929 for a stored whole-dollar figure (limits, TTP); refuses to drop cents."""
    d = _dec(v)
    if d != d.to_integral_value():
        return money(d)
    return f"${int(d):,}"


def integer(v: Any) -> str:
    return f"{int(_dec(v)):,}"


def pct(v: Any) -> str:
    """61.25 % (a stored percentage, two places; trailing zeros dropped)."""
    d = _dec(v).quantize(Decimal("0.01"))
    text = f"{d:f}".rstrip("0").rstrip(".") if "." in f"{d:f}" else f"{d:f}"
    return f"{text} %"


def number(v: Any) -> str:
    """A stored decimal without its trailing zeros: 7.0000 → 7, 6.5000 → 6.5 (never rounded)."""
    d = _dec(v)
    text = f"{d:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def fraction(v: Any) -> str:
    """0.1478 (four places, §8.6)."""
    return f"{_dec(v).quantize(Decimal('0.0001')):f}"


def fraction_pct(v: Any) -> str:
    """A stored fraction shown as a percentage: 0.1478 → 14.78 %."""
    return pct(_dec(v) * 100)


def day(v: Any) -> str:
    """MM/DD/YYYY, as the IRS and agency forms print dates."""
    if isinstance(v, str):
        v = date.fromisoformat(v[:10])
    if isinstance(v, datetime):
        v = v.date()
    return v.strftime("%m/%d/%Y")


def yes_no(v: Any) -> str:
    return "Yes" if v in (True, "true", "True", 1) else "No"


def text(v: Any) -> str:
    return str(v)


FORMATS: dict[str, Callable[[Any], str]] = {
    "money": money, "cents": cents, "share": share, "dollars": dollars, "int": integer, "number": number, "pct": pct, "fraction": fraction,
    "fraction_pct": fraction_pct, "date": day, "yes_no": yes_no, "text": text,
}


def format_value(kind: str, value: Any) -> str:
    return FORMATS[kind](value)
