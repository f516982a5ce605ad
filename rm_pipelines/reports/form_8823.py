"""Form 8823-style noncompliance report, one per building (BIN) with LIHTC findings in the period (§7.6).

Header lines 1-10 from the stored rows: 7a/7b from the building's LIHTC program test, 7c the units with a
finding, 8 the earliest date of noncompliance, 9 the last correction (when every finding is corrected), 10
checked when the filing only shows corrections. The line 11a-11q grid marks "out of compliance" and
"corrected" (11p has no corrected box); one detail row per finding. Owner TIN, credit allocated and the
agency's review count are not in Rent Manager: blanks.
"""

from __future__ import annotations

from collections import defaultdict

from ..compliance.violations import FORM_8823_LINES
from .common import address, findings_in, new_report, record_finding, record_program, record_property, record_unit
from .document import Report
from .period import Period
from .sources import Row, Sources

KIND = "form_8823"
TITLE = "Low-Income Housing Credit Report of Noncompliance (Form 8823-style)"
NO_CORRECTED_BOX = frozenset({"11p"})


def buildings(sources: Sources, period: Period) -> list[tuple[str, str | None, str | None, list[Row]]]:
    """(property_id, building_id, bin, findings) per building with LIHTC findings in the period. A
    project-level finding (set-aside) belongs to every LIHTC building of its property."""
    lihtc_buildings: dict[str, dict[str | None, str | None]] = defaultdict(dict)
    for u in sources.snapshot("unit_status"):
        if "lihtc" in (u.get("programs") or "").split("+"):
            lihtc_buildings[u["property_id"]][u.get("building_id")] = u.get("bin")
    grouped: dict[tuple[str, str | None], list[Row]] = defaultdict(list)
    bins: dict[tuple[str, str | None], str | None] = {}
    for f in findings_in(sources, period, program="lihtc", with_8823_line=True):
        targets = ([(f["building_id"], f["bin"])] if f.get("building_id")
                   else list(lihtc_buildings.get(f["property_id"], {}).items()) or [(None, None)])
        for building_id, bin_ in targets:
            grouped[(f["property_id"], building_id)].append(f)
            bins[(f["property_id"], building_id)] = bin_ or bins.get((f["property_id"], building_id))
    return [(pid, bid, bins[(pid, bid)], fs) for (pid, bid), fs in
            sorted(grouped.items(), key=lambda kv: (sources.property_label(kv[0][0]), kv[0][1] or ""))]


def build(sources: Sources, period: Period, property_id: str, building_id: str | None, bin_: str | None,
          findings: list[Row]) -> Report:
    rep = new_report(sources, kind=KIND, title=TITLE, form="IRS Form 8823 (Rev. June 2023) — worksheet",
                     template="form_8823.html", period=period, property_id=property_id, bin=bin_)
    ev = rep.evidence
    prop_ref = record_property(ev, sources, property_id)
    prop = sources.property(property_id)
    c = rep.context
    c["line1_name"] = ev.fig(prop_ref, "name", "text", "Building name", "1")
    c["line1_address"] = address(prop) or ev.blank("Building address", "1")
    c["line2_bin"] = bin_ or ev.blank("Building identification number", "2")
    owners = sources.owners(property_id)
    c["line3_owner"] = "; ".join(o.get("name") or "" for o in owners) if owners else ev.blank("Owner's name", "3")
    c["line3_owner_address"] = ev.blank("Owner's address", "3")
    c["line4_tin"] = ev.blank("Owner's taxpayer identification number", "4")
    c["line5_credit"] = ev.blank("Total credit allocated to this BIN (Form 8609 line 1b)", "5")
    building_rows = [p for p in sources.program_rows(property_id, "lihtc") if p.get("building_id")]
    c["line6"] = ev.count([record_program(ev, sources, p) for p in building_rows],
                          "Number of buildings in the project", "6") if building_rows else ev.blank(
        "Number of buildings in the project", "6")
    mine = next((p for p in building_rows if p["building_id"] == building_id), None)
    ref = record_program(ev, sources, mine) if mine else None
    c["line7a"] = ev.fig(ref, "residential_units", "int", "Total number of residential units in this building", "7a")
    c["line7b"] = ev.fig(ref, "program_units", "int", "Total number of low-income units in this building", "7b")
    units = {u["unit_id"]: u for u in sources.snapshot("unit_status")}
    with_findings = sorted({f["unit_id"] for f in findings if f.get("unit_id") in units})
    c["line7c"] = ev.count([record_unit(ev, sources, units[u]) for u in with_findings],
                           "Number of units found with noncompliance", "7c")
    c["line7d"] = ev.blank("Number of units reviewed by the agency", "7d")
    refs = {f["finding_id"]: record_finding(ev, sources, f) for f in findings}
    first = min(findings, key=lambda f: (f.get("occurred_on") or f["detected_on"], f["finding_id"]))
    c["line8"] = ev.fig(refs[first["finding_id"]], "occurred_on" if first.get("occurred_on") else "detected_on",
                        "date", "Date building ceased to comply", "8")
    all_corrected = all(f.get("corrected_on") for f in findings)
    if all_corrected:
        last = max(findings, key=lambda f: (f["corrected_on"], f["finding_id"]))
        c["line9"] = ev.fig(refs[last["finding_id"]], "corrected_on", "date", "Date noncompliance corrected", "9")
    else:
        c["line9"] = "not corrected as of " + sources.evaluation.as_of.strftime("%m/%d/%Y")
    c["line10"] = all_corrected
    grid = []
    for line, label in FORM_8823_LINES.items():
        on_line = [f for f in findings if f["form_8823_line"] == line]
        grid.append({"line": line, "label": label, "out": bool(on_line),
                     "corrected": bool(on_line) and all(f.get("corrected_on") for f in on_line),
                     "has_corrected_box": line not in NO_CORRECTED_BOX})
    c["grid"] = grid
    c["details"] = [{
        "line": f["form_8823_line"],
        "code": f["code"],
        "description": f.get("description") or "",
        "unit": ev.fig(refs[f["finding_id"]], "unit_name", "text", "unit") if f.get("unit_name") else "project",
        "detected": ev.fig(refs[f["finding_id"]], "detected_on", "date", "detected"),
        "deadline": ev.fig(refs[f["finding_id"]], "correction_deadline", "date", "correction deadline"),
        "corrected": ev.fig(refs[f["finding_id"]], "corrected_on", "date", "corrected") if f.get("corrected_on") else "",
        "status": f["status"],
        "detail": f.get("detail") or "",
    } for f in findings]
    return rep


def build_all(sources: Sources, period: Period, property_id: str | None = None) -> list[Report]:
    return [build(sources, period, pid, bid, bin_, fs) for pid, bid, bin_, fs in buildings(sources, period)
            if property_id is None or pid == property_id]
