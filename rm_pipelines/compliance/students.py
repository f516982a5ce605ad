"""Student rules: the LIHTC/bond full-time-student rule (IRC §42(i)(3)(D); compliance-rules.md §1.6, §5) and
the HUD Section 8 student rule (24 CFR 5.612; §2.1). They differ; do not mix them.
"""

from __future__ import annotations

from datetime import date
from typing import Iterable, NamedTuple

from .income import age_on
from .model import STUDENT_EXCEPTIONS, Member

FULL_TIME_MONTHS = 5


def is_full_time_student(months_full_time_this_year: int, months_expected_next_year: int = 0) -> bool:
    """Full-time student for the LIHTC test: full time for any part of **5 or more** calendar months of the
    current year, or expected to be next year (industry convention [I], the TIC's "five months or more";
    §1.6)."""
    return months_full_time_this_year >= FULL_TIME_MONTHS or months_expected_next_year >= FULL_TIME_MONTHS


class StudentStatus(NamedTuple):
    """LIHTC student status of a household (TIC Part VII)."""

    all_full_time_students: bool
    exception: str | None
    disqualified: bool

    @property
    def code(self) -> str:
        if not self.all_full_time_students:
            return "not-all-students"
        return f"exception:{self.exception}" if self.exception else "all-students-no-exception"


_NOT_ALL_STUDENTS = StudentStatus(False, None, False)


def lihtc_student_status(members: Iterable[Member], household_exception: str | None = None) -> StudentStatus:
    """§42(i)(3)(D): a unit occupied **entirely by full-time students** is not a low-income unit unless an
    exception applies (Form 8823 11l).

    Exceptions (any member's ``student_exception`` or the household's TIC Part VII answer): Title IV / TANF
    assistance, former foster care, job-training program (any one student suffices, §42(i)(3)(D)(i)); single
    parents with their children, married filing jointly (§42(i)(3)(D)(ii), as certified on the TIC).
    Live-in aides are left out of the "entirely students" test (they are not household members; leaving a
    non-student aide out is the conservative reading). No members → not an all-student household.
    """
    occupants = []
    for m in members:
        if m.relationship != "L":
            if not m.full_time_student:
                return _NOT_ALL_STUDENTS
            occupants.append(m)
    all_students = bool(occupants)
    exception = None
    if all_students:
        candidates = [household_exception] + [m.student_exception for m in occupants]
        exception = next((c for c in candidates if c in STUDENT_EXCEPTIONS), None)
    return StudentStatus(all_students, exception, all_students and exception is None)


def section8_student_restricted(
    member: Member,
    on: date,
    *,
    enrolled_in_higher_education: bool,
    married: bool = False,
    veteran: bool = False,
    has_dependent_child: bool = False,
    disabled_and_assisted_before_2005_11_30: bool = False,
    individually_income_eligible: bool = False,
    parents_income_eligible: bool = False,
) -> bool:
    """HUD Section 8 student rule (24 CFR 5.612; §2.1): a student in higher education who is unmarried,
    under 24, has no dependent child and is not a veteran is ineligible unless an exception applies
    (disabled and assisted as of 11/30/2005; income eligibility). §2.1 lists "individually income-eligible"
    and "parents income-eligible" as exceptions; the conservative reading used here requires **both** (a
    dependent student's parents must also be eligible under 24 CFR 5.612). Unknown age → restricted."""
    if not enrolled_in_higher_education or married or veteran or has_dependent_child:
        return False
    age = age_on(member.birth_date, on)
    if age is not None and age >= 24:
        return False
    if disabled_and_assisted_before_2005_11_30:
        return False
    if individually_income_eligible and parents_income_eligible:
        return False
    return True
