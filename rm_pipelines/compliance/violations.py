"""Findings and their Form 8823 categories; the finding lifecycle (compliance-rules.md §7.6).

Table-driven: :data:`FORM_8823_LINES` is the IRS line 11 category list (paraphrased, §7.6; the June 2023
labels are an open item, §14 item 1) and :data:`FINDING_TYPES` maps every finding code the engine emits to
its 8823 line, description and severity. Adding a finding = adding a row.

Form 8823 is a LIHTC form: a finding carries its 8823 line only when its program is ``lihtc``; findings
of other programs (bond-only, HOME, state) keep the code and description with no 8823 line.

Lifecycle (:func:`reconcile`): a finding is *detected* the first time an evaluation observes it; its
correction deadline is 90 days later (the 8823 correction period, §1.42-5(e)); it is *corrected* on the
first later evaluation that no longer observes it; nothing is ever deleted. A problem that comes back
after correction is a new finding.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import Callable, Iterable, Mapping

FORM_8823_LINES: Mapping[str, str] = {
    "11a": "Household income above income limit upon initial occupancy",
    "11b": "Owner failed to correctly complete or document tenant's annual income recertification",
    "11c": "Violation(s) of the UPCS or local health, safety, or building codes",
    "11d": "Owner failed to provide annual certifications or provided incomplete or inaccurate certifications",
    "11e": "Changes in eligible basis or the applicable percentage",
    "11f": "Project failed to meet minimum set-aside requirement",
    "11g": "Gross rent(s) exceed tax credit limits",
    "11h": "Project is not available to the general public",
    "11i": "Violation of the available unit rule under section 42(g)(2)(D)(ii)",
    "11j": "Violation of the vacant unit rule under Reg. 1.42-5(c)(1)(ix)",
    "11k": "Failure to execute and record extended-use agreement within time prescribed by section 42(h)(6)(J)",
    "11l": "Low-income units occupied by nonqualified full-time students",
    "11m": "Owner did not properly calculate utility allowance",
    "11n": "Owner did not respond to agency requests for monitoring reviews",
    "11o": "Low-income units used on a transient basis",
    "11p": "Project is no longer in compliance nor participating in the section 42 program",
    "11q": "Other noncompliance issues",
}
"""Form 8823 line 11 categories (§7.6; paraphrased labels). 11p has no "corrected" box."""

UNCORRECTABLE_LINES = frozenset({"11p"})


@dataclass(frozen=True, slots=True)
class FindingType:
    code: str
    form_8823_line: str | None
    description: str
    severity: int
    """1 = most severe (project-level credit risk) … 5 = least."""
    scope: str
    """``property``, ``building``, ``unit`` or ``household``."""
    decided_by: str | None = None
    """What a later evaluation must be able to determine before it may call the finding corrected: the
    limits and rent facts of its ``unit``, or of its ``property`` (set-aside tests, the next available
    unit rule); ``None`` when reference data plays no part (missing certifications, students, designations)."""

    @property
    def correctable(self) -> bool:
        return self.form_8823_line not in UNCORRECTABLE_LINES


FINDING_TYPES: Mapping[str, FindingType] = {
    t.code: t
    for t in (
        FindingType("SET_ASIDE_NOT_MET", "11f", "Qualifying units below the minimum set-aside (ceil of the elected %)", 1, "property", "property"),
        FindingType("IA_AVERAGE_ABOVE_60", "11f", "Income-averaging designations average above 60 % of AMI", 1, "property"),
        FindingType("IA_INVALID_DESIGNATION", "11f", "Income-averaging designation is not one of 20/30/40/50/60/70/80 %", 2, "unit"),
        FindingType("APPLICABLE_FRACTION_BELOW_COMMITMENT", "11e", "Applicable fraction below the fraction the credit was claimed on", 2, "building", "property"),
        FindingType("INCOME_OVER_LIMIT_AT_MOVE_IN", "11a", "Household income above the unit's limit at initial occupancy", 2, "unit", "unit"),
        FindingType("MOVE_IN_CERT_MISSING", "11a", "No move-in income certification for the household", 2, "unit"),
        FindingType("MOVE_IN_CERT_LATE", "11a", "Move-in income certification not completed before move-in", 3, "unit"),
        FindingType("NEXT_AVAILABLE_UNIT_VIOLATION", "11i", "Comparable or smaller unit rented to an over-income household while an over-income unit was held", 2, "unit", "property"),
        FindingType("GROSS_RENT_OVER_LIMIT", "11g", "Gross rent (tenant rent + utility allowance + mandatory fees) above the maximum", 2, "unit", "unit"),
        FindingType("FULL_TIME_STUDENT_HOUSEHOLD", "11l", "Household entirely of full-time students with no exception", 2, "unit"),
        FindingType("RECERT_OVERDUE", "11b", "Annual income recertification overdue", 3, "household"),
        FindingType("BOND_SET_ASIDE_NOT_MET", None, "Bond income-occupancy test not met (Form 8703)", 1, "property", "property"),
        FindingType("HOME_LOW_HOME_SHORTFALL", None, "Fewer Low HOME units occupied by very-low-income families than ceil(20 %) of HOME units", 2, "property", "property"),
        FindingType("HOME_RENT_OVER_LIMIT", None, "Rent + utility allowance above the HOME rent limit", 2, "unit", "unit"),
        FindingType("PROGRAM_INCOME_OVER_LIMIT_AT_MOVE_IN", None, "Household income above the program's limit at initial occupancy", 2, "unit", "unit"),
        FindingType("PROGRAM_RENT_OVER_LIMIT", None, "Gross rent above the program's rent limit", 2, "unit", "unit"),
    )
}

FINDING_STATUSES = ("open", "past-due", "corrected")


def finding_type(code: str) -> FindingType:
    """The catalogue row of a finding code (KeyError for unknown codes: add them to FINDING_TYPES)."""
    try:
        return FINDING_TYPES[code]
    except KeyError:
        raise KeyError(f"unknown finding code {code!r}; add it to FINDING_TYPES") from None


@dataclass(slots=True)
class Observation:
    """A problem seen by one evaluation (input of :func:`reconcile`)."""

    code: str
    program: str
    org_id: str
    property_id: str
    building_id: str | None = None
    bin: str | None = None
    unit_id: str | None = None
    household_id: str | None = None
    occurred_on: date | None = None
    detail: str = ""
    discriminator: str = ""
    """Distinguishes two findings of one code on one subject (e.g. the certification due date)."""

    @property
    def key(self) -> str:
        return "|".join(
            (self.code, self.program, self.org_id, self.property_id, self.building_id or "",
             self.unit_id or "", self.household_id or "", self.discriminator)
        )


@dataclass(slots=True)
class Finding:
    """One finding row (one per problem per occurrence). Treat as a value: :func:`reconcile` returns
    updated copies and never mutates the findings it is given."""

    finding_id: str
    key: str
    code: str
    program: str
    org_id: str
    property_id: str
    building_id: str | None
    bin: str | None
    unit_id: str | None
    household_id: str | None
    occurred_on: date | None
    detected_on: date
    correction_deadline: date
    corrected_on: date | None
    status: str
    detail: str

    @property
    def type(self) -> FindingType:
        return finding_type(self.code)

    @property
    def form_8823_line(self) -> str | None:
        """The 8823 line 11 category, for LIHTC findings only."""
        return self.type.form_8823_line if self.program == "lihtc" else None

    @property
    def severity(self) -> int:
        return self.type.severity

    def as_row(self) -> dict:
        line = self.form_8823_line
        return {
            "finding_id": self.finding_id,
            "finding_key": self.key,
            "code": self.code,
            "program": self.program,
            "form_8823_line": line,
            "form_8823_category": FORM_8823_LINES.get(line) if line else None,
            "description": self.type.description,
            "severity": self.severity,
            "org_id": self.org_id,
            "property_id": self.property_id,
            "building_id": self.building_id,
            "bin": self.bin,
            "unit_id": self.unit_id,
            "household_id": self.household_id,
            "occurred_on": self.occurred_on,
            "detected_on": self.detected_on,
            "correction_deadline": self.correction_deadline,
            "corrected_on": self.corrected_on,
            "status": self.status,
            "detail": self.detail,
        }


def _finding_id(key: str, detected_on: date) -> str:
    return hashlib.sha1(f"{key}|{detected_on.isoformat()}".encode()).hexdigest()[:20]


def _status(deadline: date, as_of: date) -> str:
    return "past-due" if as_of > deadline else "open"


def reconcile(
    previous: Iterable[Finding],
    observations: Iterable[Observation],
    as_of: date,
    correction_days: int = 90,
    undecided: Callable[[Finding], bool] | None = None,
) -> list[Finding]:
    """Update the finding list with one evaluation's observations (pure; nothing deleted; §7.6 timing:
    90-day correction period from detection, 8823 line 8/9 dates from ``occurred_on``/``corrected_on``).

    - A previous open/past-due finding still observed stays open (``past-due`` once ``as_of`` passes its
      correction deadline); its detail is refreshed; detected date and deadline are kept (so an extended
      deadline entered upstream survives).
    - A previous open finding no longer observed becomes ``corrected`` with ``corrected_on = as_of`` —
      the date the later data first shows the fix. (11p findings are never corrected.) Missing data is no
      proof of a fix: a finding this evaluation could not decide (``undecided(finding)``, e.g. its unit's
      limits are missing or stale, :attr:`FindingType.decided_by`) stays open.
    - Corrected findings are carried unchanged.
    - A new observation becomes a finding detected on ``as_of`` with deadline ``as_of + correction_days``.
    Idempotent: reconciling the result again with the same observations and date changes nothing.
    """
    current: dict[str, Observation] = {}
    for obs in observations:
        finding_type(obs.code)
        current.setdefault(obs.key, obs)
    out: list[Finding] = []
    still_open: set[str] = set()
    for f in previous:
        if f.status == "corrected":
            out.append(f)
            continue
        obs = current.get(f.key)
        if obs is not None:
            still_open.add(f.key)
            out.append(replace(f, status=_status(f.correction_deadline, as_of), detail=obs.detail or f.detail))
        elif not f.type.correctable or (undecided is not None and undecided(f)):
            out.append(replace(f, status=_status(f.correction_deadline, as_of)))
            still_open.add(f.key)
        else:
            out.append(replace(f, status="corrected", corrected_on=as_of))
    deadline = as_of + timedelta(days=correction_days)
    for key in sorted(current):
        if key in still_open:
            continue
        obs = current[key]
        out.append(
            Finding(
                finding_id=_finding_id(key, as_of),
                key=key,
                code=obs.code,
                program=obs.program,
                org_id=obs.org_id,
                property_id=obs.property_id,
                building_id=obs.building_id,
                bin=obs.bin,
                unit_id=obs.unit_id,
                household_id=obs.household_id,
                occurred_on=obs.occurred_on,
                detected_on=as_of,
                correction_deadline=deadline,
                corrected_on=None,
                status=_status(deadline, as_of),
                detail=obs.detail,
            )
        )
    return out
