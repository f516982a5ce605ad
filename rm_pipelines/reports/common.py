"""Shared pieces of the report builders: headers, findings as they stood on the evaluation date, and the
rows every report records as evidence."""

from __future__ import annotations

from datetime import date
from typing import Any

from .document import Header, Report
from .evidence import Evidence
from .period import Period
from .sources import Row, Sources

FINDING_COLUMNS = ("finding_id", "code", "program", "form_8823_line", "form_8823_category", "description",
                   "severity", "property_id", "building_id", "bin", "unit_id", "household_id", "occurred_on",
                   "detected_on", "correction_deadline", "corrected_on", "status", "detail", "property_code",
                   "unit_name")
UNIT_COLUMNS = ("property_id", "building_id", "bin", "unit_id", "unit_number", "month", "bedrooms", "square_feet",
                "programs", "designation_pct", "employee_unit", "occupied", "household_id", "household_size",
                "annual_income", "pct_ami", "income_limit", "income_limit_pct", "income_limit_program",
                "qualified_at_move_in", "max_gross_rent", "rent_limit_program", "tenant_rent", "utility_allowance",
                "mandatory_fees", "subsidy", "gross_rent", "rent_compliant", "over_income", "over_income_threshold",
                "next_available_unit_hold", "student_status", "low_income_unit", "limits_source")


def new_report(sources: Sources, *, kind: str, title: str, form: str, template: str, period: Period,
               property_id: str | None = None, bin: str | None = None, household_id: str | None = None,
               context: dict[str, Any] | None = None) -> Report:
    prop = sources.property(property_id) if property_id else None
    header = Header(
        kind=kind, title=title, form=form, org_id=sources.org_id, org_name=sources.org_name, period=period.key,
        period_label=period.label, property_id=property_id,
        property_code=(prop.get("short_name") if prop else None) or (sources.property_label(property_id) if property_id else None),
        property_name=(prop.get("name") if prop else None) or property_id, bin=bin, household_id=household_id)
    return Report(header=header, evaluation=sources.evaluation, template=template, context=dict(context or {}),
                  evidence=Evidence())


def finding_as_of(f: Row, as_of: date) -> Row:
    """A ledger row as it stood on the evaluation date (a correction dated later had not happened yet)."""
    row = {c: f.get(c) for c in FINDING_COLUMNS}
    if row["corrected_on"] is not None and row["corrected_on"] > as_of:
        row["corrected_on"] = None
        row["status"] = "past-due" if row["correction_deadline"] and row["correction_deadline"] < as_of else "open"
    return row


def findings_in(sources: Sources, period: Period, *, program: str | None = None,
                with_8823_line: bool = False) -> list[Row]:
    """Findings detected by the evaluation date that were open at some point in the period (open at its end
    or corrected within it), as they stood on the evaluation date, most severe first."""
    as_of = sources.evaluation.as_of
    out = []
    for f in sources.findings:
        if f.get("detected_on") is None or f["detected_on"] > as_of:
            continue
        row = finding_as_of(f, as_of)
        if row["corrected_on"] is not None and row["corrected_on"] < period.start:
            continue
        if program and row["program"] != program:
            continue
        if with_8823_line and not row["form_8823_line"]:
            continue
        out.append(row)
    out.sort(key=lambda r: (r["form_8823_line"] or "~", r["severity"] or 9, r["code"], r.get("property_code") or "",
                            r.get("unit_name") or "", r["finding_id"]))
    return out


def record_finding(ev: Evidence, sources: Sources, f: Row) -> int:
    return ev.row("compliance.violations", {"org_id": sources.org_id, "finding_id": f["finding_id"]}, f)


def record_unit(ev: Evidence, sources: Sources, u: Row) -> int:
    return ev.row("compliance.unit_status", {"org_id": sources.org_id, "as_of": sources.evaluation.as_of,
                                             "unit_id": u["unit_id"]}, {c: u.get(c) for c in UNIT_COLUMNS})


def record_program(ev: Evidence, sources: Sources, p: Row) -> int:
    return ev.row("compliance.program_status",
                  {"org_id": sources.org_id, "as_of": sources.evaluation.as_of, "property_id": p["property_id"],
                   "building_id": p.get("building_id"), "program": p["program"]},
                  {k: v for k, v in p.items() if k not in ("org_id", "as_of", "run_id")})


def record_property(ev: Evidence, sources: Sources, property_id: str) -> int | None:
    p = sources.property(property_id)
    if p is None:
        return None
    cols = ("name", "short_name", "street", "city", "state", "postal_code", "affordable_programs", "lihtc_election",
            "bond_election", "hud_limit_area", "placed_in_service", "compliance_agency", "manager_name")
    return ev.row("estatecore.properties", {"org_id": sources.org_id, "location_id": p["location_id"],
                                            "rm_id": p["rm_id"]}, {c: p.get(c) for c in cols})


def address(p: Row | None) -> str:
    if not p:
        return ""
    city = ", ".join(x for x in (p.get("city"), " ".join(y for y in (p.get("state"), p.get("postal_code")) if y)) if x)
    return ", ".join(x for x in (p.get("street"), city) if x)


def programs_of(u: Row) -> list[str]:
    return [p for p in (u.get("programs") or "").split("+") if p]

