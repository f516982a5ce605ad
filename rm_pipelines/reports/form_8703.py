"""Form 8703 per bond project and year (§7.7, §5): Part I line 1 (test elected), 3a/3b, 4 and Part II lines
5-9 and 11-13 from the stored bond program test. QPP start, issuer, bond issue and CUSIP are not in Rent
Manager: blanks."""

from __future__ import annotations

from .common import new_report, programs_of, record_program, record_property
from .document import Report
from .evidence import shown
from .period import Period
from .sources import Sources, program_status_text

KIND = "form_8703"
TITLE = "Annual Certification of a Residential Rental Project (Form 8703 worksheet)"


def build(sources: Sources, period: Period, row: dict) -> Report:
    pid = row["property_id"]
    rep = new_report(sources, kind=KIND, title=TITLE, form="IRS Form 8703 (Rev. December 2021) — worksheet",
                     template="form_8703.html", period=period, property_id=pid)
    ev = rep.evidence
    pref = record_property(ev, sources, pid)
    ref = record_program(ev, sources, row)
    c = rep.context
    c["operator"] = ev.fig(pref, "name", "text", "Project name") if pref is not None else ev.blank("Project", "Part I")
    c["operator_tin"] = ev.blank("Operator's taxpayer identification number", "Part I")
    owners = sources.owners(pid)
    c["owner"] = "; ".join(o.get("name") or "" for o in owners) if owners else ev.blank("Owner's name", "Part I")
    c["owner_tin"] = ev.blank("Owner's taxpayer identification number", "Part I")
    c["line1"] = shown(ev, ref, "election", "text", "Test elected", needed=True, line="1")
    c["line2"] = ev.blank("Date the qualified project period began", "2")
    units = sources.units_of(pid)
    c["line3a"] = any("lihtc" in programs_of(u) for u in units)
    c["line3b"] = ", ".join(sorted({u["bin"] for u in units if u.get("bin") and "lihtc" in programs_of(u)})) or "—"
    c["line4"] = row.get("form_8703_line4_no_new_over_income")
    c["line5"] = shown(ev, ref, "residential_units", "int", "Total residential rental units", needed=True, line="5")
    c["line6"] = shown(ev, ref, "form_8703_line6", "int", "Units occupied by individuals whose income is 50/60 % or less",
                       needed=True, line="6")
    c["line7"] = shown(ev, ref, "form_8703_line7", "int", "Units occupied by continuing residents treated as qualified",
                       needed=True, line="7")
    c["line8"] = shown(ev, ref, "form_8703_line8", "int", "Total low-income units (line 6 + line 7)", needed=True, line="8")
    c["line9"] = shown(ev, ref, "form_8703_line9_pct", "pct", "Percentage of low-income units", needed=True, line="9")
    c["line10"] = ev.blank("Deep-rent-skewed election and its items", "10")
    status = program_status_text(row)
    c["met"] = {"compliant": True, "not compliant": False}.get(status)
    c["issuer"] = ev.blank("Issuer's name and EIN", "Part III")
    c["issue_date"] = ev.blank("Date of bond issue", "Part III")
    c["cusip"] = ev.blank("CUSIP of the bond with the latest maturity", "Part III")
    return rep


def build_all(sources: Sources, period: Period, property_id: str | None = None) -> list[Report]:
    rows = [p for p in sources.program_rows(property_id, "bond") if not p.get("building_id")]
    rows.sort(key=lambda p: sources.property_label(p["property_id"]))
    return [build(sources, period, r) for r in rows]
