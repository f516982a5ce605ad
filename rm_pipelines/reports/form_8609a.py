"""Form 8609-A worksheet per BIN and year (§7.5, §1.8): Part I answers and Part II lines 1-3, 5-6.

Line 2 (low-income portion) is the stored applicable fraction (lesser of the unit and floor-space fractions,
four places). Eligible basis, the credit percentage and the original Form 8609 are not in Rent Manager:
blanks to fill, and the lines computed from them (3, 6) stay blank rather than being computed here."""

from __future__ import annotations

from .common import new_report, record_program, record_property
from .document import Report
from .evidence import shown
from .period import Period
from .sources import Sources, program_status_text

KIND = "form_8609a"
TITLE = "Annual Statement for Low-Income Housing Credit (Form 8609-A worksheet)"


def build(sources: Sources, period: Period, building: dict) -> Report:
    pid = building["property_id"]
    rep = new_report(sources, kind=KIND, title=TITLE, form="IRS Form 8609-A (Rev. December 2008) — worksheet",
                     template="form_8609a.html", period=period, property_id=pid, bin=building.get("bin"))
    ev = rep.evidence
    record_property(ev, sources, pid)
    ref = record_program(ev, sources, building)
    project = next((p for p in sources.program_rows(pid, "lihtc") if not p.get("building_id")), None)
    if project:
        record_program(ev, sources, project)
    c = rep.context
    c["bin"] = building.get("bin") or ev.blank("Building identification number", "A")
    c["b_type"] = ev.blank("Newly constructed / existing building or §42(e) rehabilitation", "B")
    c["c_original"] = ev.blank("Original Form 8609 signed by the agency on file (Yes/No)", "C")
    status = program_status_text(project) if project else "undetermined"
    c["d_met"] = {"compliant": True, "not compliant": False}.get(status)
    committed, applicable = building.get("committed_applicable_fraction"), building.get("applicable_fraction")
    c["e_decrease"] = None if committed is None or applicable is None else applicable < committed
    if c["e_decrease"] is None:
        ev.blank("Decrease in qualified basis (needs the fraction at allocation)", "E")
    c["line1"] = ev.blank("Eligible basis of the building", "1")
    c["unit_fraction"] = shown(ev, ref, "unit_fraction", "fraction", "Unit fraction", needed=False)
    c["floor_fraction"] = shown(ev, ref, "floor_space_fraction", "fraction", "Floor-space fraction", needed=False)
    c["line2"] = shown(ev, ref, "applicable_fraction", "fraction", "Low-income portion (applicable fraction)",
                       needed=True, line="2")
    c["line3"] = ev.blank("Qualified basis (line 1 × line 2): needs line 1", "3")
    c["line5"] = ev.blank("Credit percentage (Form 8609 line 2)", "5")
    c["line6"] = ev.blank("Line 3 (or 4) × line 5: needs lines 3 and 5", "6")
    c["residential"] = shown(ev, ref, "residential_units", "int", "Residential units in the building", needed=False)
    c["low_income"] = shown(ev, ref, "qualifying_units", "int", "Low-income units in the building", needed=False)
    return rep


def build_all(sources: Sources, period: Period, property_id: str | None = None) -> list[Report]:
    rows = [p for p in sources.program_rows(property_id, "lihtc") if p.get("building_id")]
    rows.sort(key=lambda p: (sources.property_label(p["property_id"]), p.get("bin") or ""))
    return [build(sources, period, b) for b in rows]
