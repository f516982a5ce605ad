"""Recertification schedule: next due date, reminder buckets and the 100 %-low-income exemption
(compliance-rules.md §1.5, §2.5, §5).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Iterable, Sequence

from .model import AgencySettings, Certification

DEFAULT_BUCKETS = (120, 90, 60, 30)
DEFAULT_BUCKETS_SORTED = (30, 60, 90, 120)
PROGRAMS_ALWAYS_REQUIRING_RECERT = frozenset({"home", "section8", "usda515", "state"})
"""Annual re-examination is required by these programs regardless of the LIHTC 100 % exemption
(HOME §3, HCV/PBRA §2.5, RD §4; state programs: conservative default)."""


def add_years(d: date, years: int = 1) -> date:
    """Same month and day ``years`` later; 29 February becomes 28 February — never later than a year, the
    conservative reading of "no later than one year after the prior certification" (§1.5)."""
    try:
        return d.replace(year=d.year + years)
    except ValueError:
        return d.replace(year=d.year + years, day=28)


def last_full_certification(certifications: Iterable[Certification], as_of: date) -> Certification | None:
    """The latest move-in or annual certification effective on or before ``as_of`` (interim
    certifications do not move the annual anniversary; §1.5, §2.5)."""
    best = None
    for cert in certifications:
        if cert.kind == "interim" or cert.effective_date > as_of:
            continue
        if best is None or cert.effective_date > best.effective_date:
            best = cert
    return best


def next_recertification_due(certifications: Sequence[Certification], move_in_date: date, as_of: date) -> date:
    """Next annual recertification due date (§1.5): one year after the last move-in/annual certification
    ("effective no later than one year after the prior certification"); without any, one year after
    move-in."""
    last = last_full_certification(certifications, as_of)
    return add_years(last.effective_date if last else move_in_date)


def due_bucket(due: date, as_of: date, buckets: Sequence[int] = DEFAULT_BUCKETS) -> str:
    """Reminder bucket for a due date (§2.5 reminders 120/90/60 days ahead, plus 30):

    ``overdue`` when ``as_of`` is after the due date (the due date itself is not overdue); otherwise the
    smallest window that contains the days left — ``30-day`` (0-30), ``60-day`` (31-60), ``90-day``,
    ``120-day`` — or ``not-due`` beyond the largest window.
    """
    days = (due - as_of).days
    if days < 0:
        return "overdue"
    for window in (buckets if buckets is DEFAULT_BUCKETS_SORTED else sorted(buckets)):
        if days <= window:
            return f"{window}-day"
    return "not-due"


@dataclass(frozen=True, slots=True)
class RecertRequirement:
    required: bool
    program: str | None
    reason: str


def recertification_requirement(
    unit_programs: Sequence[str],
    agency: AgencySettings,
    project_all_low_income: bool,
    has_annual_recert: bool,
) -> RecertRequirement:
    """Whether an annual income recertification is required for a household, and under which program.

    - HOME, Section 8, RD 515 and state programs always require it (their own rules).
    - LIHTC and bonds require it unless the agency applies the HERA 2008 exemption
      (``waive_recert_for_100pct``) **and** every residential unit of the project is low-income; even then
      the **first** annual recertification is required when the agency says so
      (``first_year_recert_required``, the common state overlay; §1.5, §14 item 7).
    The finding is attributed to LIHTC when LIHTC requires it (Form 8823 11b), otherwise to the first
    program that does.
    """
    programs = list(unit_programs)
    tax = [p for p in programs if p in ("lihtc", "bond")]
    if tax:
        exempt = agency.waive_recert_for_100pct and project_all_low_income
        if exempt and agency.first_year_recert_required and not has_annual_recert:
            exempt = False
        if not exempt:
            return RecertRequirement(True, tax[0], "annual recertification")
    for p in programs:
        if p in PROGRAMS_ALWAYS_REQUIRING_RECERT:
            return RecertRequirement(True, p, f"{p} annual re-examination")
    if tax:
        return RecertRequirement(False, None, "100 % low-income project: HERA 2008 exemption (agency setting)")
    return RecertRequirement(False, None, "no program requires recertification")
