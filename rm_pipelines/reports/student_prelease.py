"""Student pre-lease and guarantor report per student property, from the stored student-housing evaluation:
pre-lease pace for the next academic year against the prior year on the same day (beds leased with a signed
term; percentages of the property's beds as stored, half up to 0.1 %), today's bed occupancy, and every resident
whose lease is not secured (guarantor missing, earning less than 3 × the installment, or undetermined; prepaid
terms count as secured). Residents are listed by Rent Manager id, unit and bed, never by name."""

from __future__ import annotations

from collections import Counter

from . import charts, fmt
from .common import address, new_report
from .document import Report
from .period import Period
from .specialty_common import record, rm_id
from .specialty_sources import SpecialtySources

PACE, GUARANTORS, BEDS = "student_prelease", "student_guarantors", "student_beds"
UNSECURED = ("missing", "insufficient", "undetermined")
STATUSES = ("covered", "prepaid", "insufficient", "missing", "undetermined")


def build_one(sources: SpecialtySources, period: Period, pid: str) -> Report:
    rep = new_report(sources, kind="student_prelease", title="Student Pre-lease and Guarantor Report",
                     form="Student housing", template="student_prelease.html", period=period, property_id=pid)
    ev, c = rep.evidence, rep.context
    c["property_name"] = sources.property_name(pid)
    c["address"] = address(sources.property(pid))
    c["as_of"] = fmt.day(sources.evaluation.as_of)
    pace = next((r for r in sources.rows(PACE) if r["property_id"] == pid), None)
    if pace is not None:
        ref = record(ev, sources, PACE, pace, "property_id", "term_year")
        year = int(pace["term_year"])
        c["pace"] = {
            "term": f"{year}-{(year + 1) % 100:02d}", "prior_term": f"{year - 1}-{year % 100:02d}",
            "beds": ev.fig(ref, "beds", "int", "beds"),
            "leased": ev.fig(ref, "leased", "int", "beds leased for the next academic year"),
            "pct": ev.fig(ref, "pct_leased", "pct", "pre-leased"),
            "prior": ev.fig(ref, "prior_year_leased", "int", "beds leased a year earlier"),
            "prior_pct": ev.fig(ref, "prior_pct_leased", "pct", "pre-leased a year earlier"),
            "change": ev.fig(ref, "change_beds", "int", "change in beds leased"),
            "ahead": int(pace["change_beds"]) >= 0,
        }
        c["pace_chart"] = charts.data_uri(charts.bars(
            "Beds pre-leased on the same day", [f"{c['pace']['prior_term']} (a year ago)", c["pace"]["term"]],
            [int(pace["prior_year_leased"]), int(pace["leased"])], highlight=[False, int(pace["change_beds"]) < 0],
            size=(3.4, 1.9)))
    else:
        c["pace"], c["pace_chart"] = None, None
    beds = [r for r in sources.rows(BEDS) if r["property_id"] == pid]
    refs: dict[str, list[int]] = {"occupied": [], "vacant": [], "occupied without a lease term": []}
    for b in beds:
        refs.setdefault(b["status"], []).append(record(ev, sources, BEDS, b, "unit_id", "bed"))
    c["beds"] = {k: ev.count(v, f"beds {k}") for k, v in refs.items()}
    c["beds_total"] = ev.count([r for v in refs.values() for r in v], "beds")
    rows = [g for g in sources.rows(GUARANTORS) if g["property_id"] == pid]
    counts = Counter(g["status"] for g in rows)
    c["coverage"] = [(s, counts.get(s, 0)) for s in STATUSES]
    c["residents"] = len(rows)
    exceptions = []
    for g in sorted((g for g in rows if g["status"] in UNSECURED),
                    key=lambda g: (UNSECURED.index(g["status"]), g["unit_name"] or "", g.get("bed") or "")):
        ref = record(ev, sources, GUARANTORS, g, "resident_id")
        money = lambda col, label: ev.fig(ref, col, "cents", label) if g.get(col) is not None else "—"  # noqa: E731
        exceptions.append({
            "resident": rm_id(g["resident_id"]), "unit": ev.fig(ref, "unit_name", "text", "unit"),
            "bed": g.get("bed") or "—", "installment": money("installment_cents", "installment"),
            "required": money("required_monthly_income_cents", "required monthly guarantor income"),
            "guarantors": ev.fig(ref, "guarantors", "int", "guarantors on record"), "status": g["status"],
            "reason": g.get("reason") or ""})
    c["exceptions"] = exceptions
    return rep


def build_all(sources: SpecialtySources, period: Period, property_id: str | None = None) -> list[Report]:
    ids = sorted(set(sources.property_ids(PACE)) | set(sources.property_ids(GUARANTORS)),
                 key=lambda pid: (sources.property_label(pid), pid))
    return [build_one(sources, period, pid) for pid in ids if property_id is None or pid == property_id]
