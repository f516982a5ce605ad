"""Reporting periods: a month (``2026-11``) or a calendar/tax year (``2026``)."""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date


class PeriodError(ValueError):
    """A period that is neither YYYY-MM nor YYYY (or does not fit the report kind)."""


@dataclass(frozen=True)
class Period:
    key: str
    start: date
    end: date
    cadence: str  # "monthly" | "annual"

    @property
    def label(self) -> str:
        if self.cadence == "annual":
            return f"Calendar year {self.start.year}"
        return self.start.strftime("%B %Y")

    @classmethod
    def parse(cls, text: str) -> Period:
        text = (text or "").strip()
        if m := re.fullmatch(r"(\d{4})-(\d{2})(?:-\d{2})?", text):
            year, month = int(m[1]), int(m[2])
            if not 1 <= month <= 12:
                raise PeriodError(f"period {text!r}: month {month} is not 01-12")
            return cls(f"{year:04d}-{month:02d}", date(year, month, 1),
                       date(year, month, calendar.monthrange(year, month)[1]), "monthly")
        if m := re.fullmatch(r"(\d{4})", text):
            year = int(m[1])
            return cls(f"{year:04d}", date(year, 1, 1), date(year, 12, 31), "annual")
        raise PeriodError(f"period {text!r}: expected YYYY-MM (monthly reports) or YYYY (annual reports)")

    @classmethod
    def month_of(cls, day: date) -> Period:
        return cls.parse(f"{day.year:04d}-{day.month:02d}")

    @classmethod
    def year_of(cls, day: date) -> Period:
        return cls.parse(f"{day.year:04d}")
