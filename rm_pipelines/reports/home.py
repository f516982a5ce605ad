"""HOME rent and occupancy report per HOME project and year (§7.9, §3): per HOME unit its High/Low
designation, household, income and % AMI, rent + utility allowance, subsidy and recertification date; the
project's Low HOME test. Fixed/floating designation and race/ethnicity are not in Rent Manager: blanks."""

from __future__ import annotations

from .common import new_report, programs_of, record_program, record_property, record_unit
from .document import Report
from .evidence import shown
from .period import Period
from .sources import Sources, program_status_text

KIND = "home"
TITLE = "HOME Rent and Occupancy Report"


def build(sources: Sources, period: Period, property_id: str) -> Report:
    rep = new_report(sources, kind=KIND, title=TITLE, form="HOME annual rent and occupancy report to the PJ",
                     template="home.html", period=period, property_id=property_id)
    ev = rep.evidence
    record_property(ev, sources, property_id)
    project = next((p for p in sources.program_rows(property_id, "home") if not p.get("building_id")), None)
    pref = record_program(ev, sources, project) if project else None
    c = rep.context
    c["status"] = program_status_text(project) if project else "undetermined"
    c["home_units"] = shown(ev, pref, "program_units", "int", "HOME units", needed=True)
    c["low_required"] = shown(ev, pref, "low_home_required", "int", "Low HOME units required (ceil 20 %)", needed=False)
    c["low_qualifying"] = shown(ev, pref, "qualifying_units", "int", "Low HOME units occupied by VLI families",
                                needed=False)
    households = {h["household_id"]: h for h in sources.snapshot("household_status")}
    rows = []
    for u in sources.units_of(property_id):
        if "home" not in programs_of(u):
            continue
        ref = record_unit(ev, sources, u)
        ec = sources.unit(u["unit_id"]) or {}
        tier = "Low" if "home-low" in (ec.get("unit_programs") or "").lower() else (
            "High" if "home" in (ec.get("unit_programs") or "").lower() else "")
        h = households.get(u.get("household_id") or "")
        label = f"unit {u['unit_number']}"
        occ = bool(u.get("occupied"))
        rows.append({
            "unit": ev.fig(ref, "unit_number", "text", label), "bedrooms": u.get("bedrooms"), "tier": tier or ev.blank(
                "High/Low HOME designation"),
            "fixed": ev.blank("Fixed or floating HOME unit designation"),
            "occupied": occ, "size": shown(ev, ref, "household_size", "int", f"{label} household size", needed=occ),
            "income": shown(ev, ref, "annual_income", "money", f"{label} income", needed=occ),
            "pct_ami": shown(ev, ref, "pct_ami", "pct", f"{label} % AMI", needed=False),
            "rent": shown(ev, ref, "tenant_rent", "money", f"{label} tenant rent", needed=occ),
            "ua": shown(ev, ref, "utility_allowance", "money", f"{label} utility allowance", needed=False),
            "subsidy": shown(ev, ref, "subsidy", "money", f"{label} subsidy", needed=False),
            "max": shown(ev, ref, "max_gross_rent", "dollars", f"{label} HOME rent limit", needed=occ),
            "recert": (h or {}).get("last_certification_date"),
            "race": ev.blank("Race and ethnicity of the head of household"),
        })
    c["rows"] = rows
    return rep


def build_all(sources: Sources, period: Period, property_id: str | None = None) -> list[Report]:
    pids = [pid for pid in sources.property_ids("home") if property_id in (None, pid)]
    return [build(sources, period, pid) for pid in pids]
