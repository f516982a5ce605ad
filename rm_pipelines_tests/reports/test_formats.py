"""Pure pieces: how figures print (never rounded to another value), periods, blanks listed once."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from rm_pipelines.reports.evidence import Evidence, shown
from rm_pipelines.reports.fmt import day, dollars, fraction, money, pct
from rm_pipelines.reports.period import Period, PeriodError


def test_figures_print_their_stored_value():
    assert money(Decimal(1930)) == "$1,930.00" and money("1825.5") == "$1,825.50" and money(-5) == "-$5.00"
    assert dollars(Decimal("1929.0000")) == "$1,929"
    assert dollars(Decimal("1929.50")) == "$1,929.50"  # a whole-dollar format never drops cents
    assert pct(Decimal("61.2500")) == "61.25 %" and pct(60) == "60 %"
    assert fraction(Decimal("0.1478")) == "0.1478" and fraction("0.5") == "0.5000"
    assert day(date(2026, 3, 15)) == "03/15/2026" == day("2026-03-15")


def test_periods():
    m = Period.parse("2026-02")
    assert (m.start, m.end, m.cadence, m.label) == (date(2026, 2, 1), date(2026, 2, 28), "monthly", "February 2026")
    y = Period.parse("2026")
    assert (y.start, y.end, y.cadence) == (date(2026, 1, 1), date(2026, 12, 31), "annual")
    for bad in ("2026-13", "26", "last month", ""):
        with pytest.raises(PeriodError):
            Period.parse(bad)


def test_missing_needed_values_are_blanks_listed_once_and_other_gaps_a_dash():
    ev = Evidence()
    ref = ev.row("compliance.unit_status", {"unit_id": "u1"}, {"gross_rent": None, "subsidy": None, "tenant_rent": Decimal(5)})
    a = shown(ev, ref, "gross_rent", "money", "gross rent", needed=True, line="6")
    b = shown(ev, ref, "gross_rent", "money", "gross rent", needed=True, line="6")
    assert str(a) == "not in Rent Manager data: attach" and a == b and len(ev.blanks) == 1
    assert "not in Rent Manager data" in a.__html__()
    assert shown(ev, ref, "subsidy", "money", "subsidy", needed=False) == "—"
    assert shown(ev, ref, "tenant_rent", "money", "rent", needed=True) == "$5.00"
    assert ev.figures == [{"label": "rent", "line": None, "row": ref, "column": "tenant_rent", "format": "money",
                           "text": "$5.00"}]
