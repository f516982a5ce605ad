"""LIHTC Annual Owner Certification package per property and year (§7.1, Treas. Reg. §1.42-5(c)(1)).

Items the stored evaluation decides (set-aside, applicable fraction against the commitment, income
certifications, rent restriction, next available unit rule) are answered from it, each exception listed with
its unit and finding. Items no Rent Manager data can decide (general public use, code violations,
eligible-basis changes, tenant facilities, vacant-unit marketing, extended-use agreement, non-transient use)
are printed as owner attestations to complete, never pre-answered. Attachments: year-end unit status,
over-income households, vacant low-income units, student households, findings open or corrected in the year.
"""

from __future__ import annotations

from .common import findings_in, new_report, programs_of, record_finding, record_program, record_property, record_unit
from .document import Report
from .evidence import shown
from .period import Period
from .sources import Row, Sources, program_status_text

KIND = "aoc"
TITLE = "LIHTC Annual Owner Certification"
ITEMS: tuple[tuple[int, str, bool], ...] = (  # (item, text, decided by data)
    (1, "The project met the minimum set-aside it elected (20-50, 40-60, 25-60 NYC or income averaging), and the "
        "15-40 deep-rent-skewed test if elected.", True),
    (2, "The applicable fraction of each building did not change (or, if it changed, the change is described).", True),
    (3, "The owner received an annual income certification and supporting documentation from each low-income "
        "household (or a PHA statement for Section 8 households).", True),
    (4, "Each low-income unit was rent-restricted under §42(g)(2).", True),
    (5, "All units were for use by the general public; no finding of discrimination under the Fair Housing Act.", False),
    (6, "The buildings and low-income units were suitable for occupancy under local health, safety and building "
        "codes; no violation report was issued (or it is attached and its correction stated).", False),
    (7, "There was no change in the eligible basis of any building (or the change is described).", False),
    (8, "Tenant facilities included in eligible basis were provided to all tenants on a comparable basis without "
        "separate fee.", False),
    (9, "Vacant low-income units were suitable and reasonable attempts were made to rent them (or the next "
        "available unit) to qualified households first (vacant unit rule).", False),
    (10, "When a household's income rose above 140 % of the limit, the next available comparable or smaller unit "
         "in the building was rented to a qualified household (next available unit rule).", True),
    (11, "An extended low-income housing commitment was in effect, including the bar on refusing voucher holders.", False),
    (12, "All low-income units were used on a non-transient basis.", False),
)
ITEM_OF_LINE = {"11f": 1, "11e": 2, "11a": 3, "11b": 3, "11l": 3, "11g": 4, "11h": 5, "11c": 6, "11j": 9, "11i": 10,
                "11k": 11, "11o": 12}


def build(sources: Sources, period: Period, property_id: str) -> Report:
    rep = new_report(sources, kind=KIND, title=TITLE, form="Annual Owner Certification (Treas. Reg. §1.42-5(c)(1))",
                     template="aoc.html", period=period, property_id=property_id)
    ev = rep.evidence
    record_property(ev, sources, property_id)
    c = rep.context
    findings = [f for f in findings_in(sources, period, program="lihtc") if f["property_id"] == property_id]
    exceptions: dict[int | str, list[dict]] = {}
    for f in findings:
        ref = record_finding(ev, sources, f)
        item = ITEM_OF_LINE.get(f["form_8823_line"] or "", "other")
        exceptions.setdefault(item, []).append({
            "line": f["form_8823_line"] or "", "code": f["code"], "description": f.get("description") or "",
            "unit": ev.fig(ref, "unit_name", "text", "unit") if f.get("unit_name") else "project",
            "detected": ev.fig(ref, "detected_on", "date", "detected"),
            "corrected": ev.fig(ref, "corrected_on", "date", "corrected") if f.get("corrected_on") else "open",
            "detail": f.get("detail") or ""})
    project = next((p for p in sources.program_rows(property_id, "lihtc") if not p.get("building_id")), None)
    buildings = [p for p in sources.program_rows(property_id, "lihtc") if p.get("building_id")]
    pref = record_program(ev, sources, project) if project else None
    c["election"] = shown(ev, pref, "election", "text", "Minimum set-aside election", needed=True, line="Item 1")
    c["required"] = shown(ev, pref, "required_units", "int", "Units required for the set-aside", needed=False)
    c["qualifying"] = shown(ev, pref, "qualifying_units", "int", "Qualifying low-income units", needed=False)
    c["residential"] = shown(ev, pref, "residential_units", "int", "Residential units", needed=False)
    c["ia_average"] = shown(ev, pref, "ia_average", "pct", "Income-averaging designation average", needed=False)
    c["buildings"] = []
    for b in buildings:
        ref = record_program(ev, sources, b)
        c["buildings"].append({
            "bin": b.get("bin") or "",
            "unit_fraction": shown(ev, ref, "unit_fraction", "fraction", f"BIN {b.get('bin')} unit fraction", needed=False),
            "floor_fraction": shown(ev, ref, "floor_space_fraction", "fraction", f"BIN {b.get('bin')} floor-space fraction",
                                    needed=False),
            "applicable": shown(ev, ref, "applicable_fraction", "fraction", f"BIN {b.get('bin')} applicable fraction",
                                needed=True, line="Item 2"),
            "committed": shown(ev, ref, "committed_applicable_fraction", "fraction",
                               f"BIN {b.get('bin')} applicable fraction at allocation (Form 8609)", needed=True,
                               line="Item 2"),
        })
    answers = []
    set_aside_status = program_status_text(project) if project else "undetermined"
    for number, text, decided in ITEMS:
        listed = exceptions.get(number, [])
        if not decided:
            answer = "attest"
        elif number == 1:
            answer = "undetermined" if set_aside_status == "undetermined" and not listed else ("no" if listed or set_aside_status == "not compliant" else "yes")
        elif number == 2:
            answer = "no" if listed else ("yes" if buildings and all(
                b.get("committed_applicable_fraction") is not None and b.get("applicable_fraction") ==
                b.get("committed_applicable_fraction") for b in buildings) else "undetermined")
        else:
            answer = "no" if listed else "yes"
        answers.append({"number": number, "text": text, "decided": decided, "answer": answer, "exceptions": listed})
    c["answers"] = answers
    c["other_exceptions"] = exceptions.get("other", [])
    units = sources.units_of(property_id)
    lihtc_units = [u for u in units if "lihtc" in programs_of(u)]
    c["attach_units"] = [_unit_line(ev, sources, u) for u in units]
    c["over_income"] = [_unit_line(ev, sources, u) for u in lihtc_units if u.get("over_income")]
    c["vacant"] = [_unit_line(ev, sources, u) for u in lihtc_units if not u.get("occupied")]
    c["students"] = [_unit_line(ev, sources, u) for u in units
                     if u.get("student_status") not in (None, "", "not-all-students")]
    c["exception_count"] = sum(len(v) for v in exceptions.values())
    return rep


def _unit_line(ev, sources: Sources, u: Row) -> dict:
    ref = record_unit(ev, sources, u)
    label = f"unit {u['unit_number']}"
    occupied, program = bool(u.get("occupied")), bool(programs_of(u))
    return {"unit": ev.fig(ref, "unit_number", "text", label), "bin": u.get("bin") or "",
            "programs": "+".join(programs_of(u)) or "market",
            "designation": shown(ev, ref, "designation_pct", "pct", f"{label} designation", needed=False),
            "occupied": occupied, "low_income": u.get("low_income_unit"),
            "size": shown(ev, ref, "household_size", "int", f"{label} household size", needed=occupied and program),
            "income": shown(ev, ref, "annual_income", "money", f"{label} income", needed=occupied and program),
            "limit": shown(ev, ref, "income_limit", "dollars", f"{label} income limit", needed=occupied and program),
            "gross": shown(ev, ref, "gross_rent", "money", f"{label} gross rent", needed=occupied and program),
            "max": shown(ev, ref, "max_gross_rent", "dollars", f"{label} maximum gross rent", needed=occupied and program),
            "student": u.get("student_status") or ""}


def build_all(sources: Sources, period: Period, property_id: str | None = None) -> list[Report]:
    pids = [pid for pid in sources.property_ids("lihtc") if property_id in (None, pid)]
    return [build(sources, period, pid) for pid in pids]
