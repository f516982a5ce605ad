"""Completeness checks over one evaluation: is the data good enough for its answer to be trusted?

Each check returns a :class:`CheckOutcome`; the Dagster asset checks of the compliance assets report them.
They are not compliance findings: a finding is a program violation (Form 8823), these say an input is
missing so part of the portfolio cannot be (or was not) judged.

- :func:`lihtc_designations`: every LIHTC unit has an income designation — explicit under income averaging
  (§1.1), the election's tier (50 % / 60 %) otherwise.
- :func:`restricted_units_certified`: every occupied restricted unit has a current certification (a
  certification on file and no overdue required recertification) or an open finding that says why not.
- :func:`limits_available`: the HUD tables the evaluation reads exist for every property's area and the
  evaluation date, are not stale, and include the national non-metro table wherever a rural floor applies —
  income limits: MTSP for LIHTC/bond/state, HUD's Section 8 table for HOME and
  project-based Section 8 (a tenant-based voucher's eligibility is the PHA's, §2.1); rent limits: HOME
  rents for HOME, and the MTSP table of each building's gross rent floor date. Missing income limits are an ERROR (qualification cannot be judged); a missing rent-only
  table a WARN. (RD 515 basic/note rents come from the loan, not HUD, and are data issues of the
  evaluation.)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING

from .limits import LimitsProvider, LimitUnavailable, limit_context

if TYPE_CHECKING:
    from .inputs import ComplianceInputs
    from .portfolio import PortfolioResult

MTSP_PROGRAMS = frozenset({"lihtc", "bond", "state"})
MAX_LISTED = 25


@dataclass(frozen=True)
class CheckOutcome:
    name: str
    passed: bool
    severity: str
    """``ERROR`` or ``WARN`` (meaningful when not passed)."""
    checked: int
    failing: list[str] = field(default_factory=list)
    """Readable labels of what fails (all of them; display code shortens)."""
    description: str = ""

    def summary(self) -> str:
        if self.passed:
            return f"{self.checked} checked, all pass"
        more = f" (+{len(self.failing) - MAX_LISTED} more)" if len(self.failing) > MAX_LISTED else ""
        return f"{len(self.failing)} of {self.checked} fail: " + "; ".join(self.failing[:MAX_LISTED]) + more


def _unit_label(inputs: ComplianceInputs, unit_id: str, property_id: str) -> str:
    short = inputs.property_labels.get(property_id, (property_id, ""))[0]
    return f"{short} unit {inputs.unit_labels.get(unit_id, unit_id)}"


def lihtc_designations(inputs: ComplianceInputs) -> CheckOutcome:
    """Every LIHTC unit has an income designation (explicit under income averaging, else the election's)."""
    props = {p.property_id: p for p in inputs.properties}
    checked, failing = 0, []
    for unit in inputs.units:
        layer = unit.layer("lihtc")
        if layer is None or unit.employee_unit:
            continue
        checked += 1
        prop = props.get(unit.property_id)
        election = prop.program("lihtc") if prop else None
        set_aside = election.set_aside if election else None
        explicit_needed = set_aside in (None, "income-averaging")
        if layer.income_pct is None and explicit_needed:
            why = "income averaging needs an explicit designation" if set_aside else "no LIHTC set-aside election"
            failing.append(f"{_unit_label(inputs, unit.unit_id, unit.property_id)} ({why})")
    return CheckOutcome("lihtc_designations", not failing, "ERROR", checked, failing,
                        "Every LIHTC unit has an income designation.")


def restricted_units_certified(result: PortfolioResult, inputs: ComplianceInputs) -> CheckOutcome:
    """Every occupied restricted unit has a current certification or an open finding."""
    households = {h.household_id: h for h in result.households}
    flagged_units = {f.unit_id for f in result.findings if f.status != "corrected" and f.unit_id}
    flagged_households = {f.household_id for f in result.findings if f.status != "corrected" and f.household_id}
    checked, failing = 0, []
    for u in result.units:
        if not (u.occupied and u.programs):
            continue
        checked += 1
        hh = households.get(u.household_id) if u.household_id else None
        current = hh is not None and hh.last_certification_id is not None and not (
            hh.recert_required and hh.due_bucket == "overdue")
        if current or u.unit_id in flagged_units or (u.household_id in flagged_households):
            continue
        reason = "no certification on file" if hh is None or hh.last_certification_id is None else \
            f"recertification overdue since {hh.next_recert_due}"
        failing.append(f"{_unit_label(inputs, u.unit_id, u.property_id)} ({u.programs}: {reason}, no finding)")
    return CheckOutcome("restricted_units_certified", not failing, "ERROR", checked, failing,
                        "Every occupied restricted unit has a current certification or a finding.")


def limits_available(inputs: ComplianceInputs, provider: LimitsProvider, as_of: date) -> CheckOutcome:
    """The HUD tables each property's programs need exist for its area on ``as_of`` and can be used: not
    stale (:func:`~rm_pipelines.compliance.limits.stale_from`), and with the national non-metro table for
    the rural floor of every building that gets one."""
    missing_income, missing_rent = [], []
    checked = 0
    for prop in inputs.properties:
        programs = {e.program for e in prop.programs}
        if not programs:
            continue
        checked += 1
        short = inputs.property_labels.get(prop.property_id, (prop.property_id, ""))[0]
        year = f"{prop.area} on {as_of}"
        if programs & MTSP_PROGRAMS:
            problems: list[str] = []
            floors: list[str] = []
            for building in prop.buildings or (None,):  # buildings differ: bond financing, rural and rent floors
                for program in sorted(programs & MTSP_PROGRAMS):
                    ctx = limit_context(prop, building, program)
                    problem = _problem(provider.lihtc_income_limits, ctx, as_of, missing=f"MTSP income limits for {year}")
                    if problem and problem not in problems:
                        problems.append(problem)
                    if not problem and program != "bond":  # the bond test has no rent limit
                        floor = _problem(provider.lihtc_rent_limits, ctx, as_of, missing="")
                        if floor and floor not in floors:
                            floors.append(floor)
            missing_income += [f"{short}: {p}" for p in problems]
            missing_rent += [f"{short}: {p}" for p in floors]
        project_based = any(e.program == "section8" and e.section8_kind != "hcv" for e in prop.programs)
        if "home" in programs or project_based:
            problem = _problem(provider.section8_income_limits, prop.area, as_of,
                               missing=f"Section 8 income limits for {year}")
            if problem:
                missing_income.append(f"{short}: {problem}")
        if "home" in programs:
            problem = _problem(provider.home_rents, prop.area, as_of, missing=f"HOME rent limits for {year}")
            if problem:
                missing_rent.append(f"{short}: {problem}")
    failing = missing_income + missing_rent
    return CheckOutcome("limits_available", not failing, "ERROR" if missing_income else "WARN", checked, failing,
                        "HUD limits exist for every property's area and year, and are not stale.")


def _problem(find: Callable[..., object], *args: object, missing: str) -> str | None:
    """What is wrong with the table lookup ``find(*args)``: ``missing`` when it finds no table, the reason
    when the table it finds cannot be used (stale, no non-metro table for a rural floor, no table for a
    gross rent floor), else None."""
    try:
        return None if find(*args) is not None else missing
    except LimitUnavailable as exc:
        return str(exc)


def run_all(inputs: ComplianceInputs, result: PortfolioResult, provider: LimitsProvider) -> list[CheckOutcome]:
    return [lihtc_designations(inputs), restricted_units_certified(result, inputs),
            limits_available(inputs, provider, result.as_of)]
