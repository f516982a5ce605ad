"""RD 3560-8-style tenant certification summary per USDA Section 515 household, a batch per project and year
(§7.9, §4): effective date and action, unit, subsidy code, household, income, adjusted income, tenant
contribution, net tenant contribution and overage as the evaluation stored them. Basic and note rents are not
in Rent Manager: blanks (and so the contribution the evaluation could not compute)."""

from __future__ import annotations

from .common import new_report, record_property, record_unit
from .document import Report
from .evidence import shown
from .period import Period
from .sources import Sources

KIND = "rd_3560_8"
TITLE = "Tenant Certification Summary (RD 3560-8-style)"
SUBSIDY = {"ra": "1 — Rental Assistance", "no-ra": "0 — none", "section8": "2 — project-based Section 8"}


def build(sources: Sources, period: Period, property_id: str) -> Report | None:
    rows = sorted((a for a in sources.snapshot("assisted_households")
                   if a["property_id"] == property_id and a["program"] == "usda515"), key=lambda a: a["unit_id"])
    if not rows:
        return None
    rep = new_report(sources, kind=KIND, title=TITLE, form="Form RD 3560-8 tenant certification (MINC)",
                     template="rd_3560_8.html", period=period, property_id=property_id)
    ev = rep.evidence
    record_property(ev, sources, property_id)
    units = {u["unit_id"]: u for u in sources.snapshot("unit_status")}
    households = {h["household_id"]: h for h in sources.snapshot("household_status")}
    out = []
    for a in rows:
        ref = ev.row("compliance.assisted_households", {"org_id": sources.org_id, "as_of": sources.evaluation.as_of,
                                                        "household_id": a["household_id"], "program": a["program"]},
                     {k: v for k, v in a.items() if k not in ("org_id", "as_of", "run_id")})
        u = units.get(a["unit_id"]) or {}
        uref = record_unit(ev, sources, u) if u else None
        h = households.get(a["household_id"]) or {}
        label = f"unit {u.get('unit_number', a['unit_id'])}"
        out.append({
            "unit": u.get("unit_number", a["unit_id"]), "type": f"{u.get('bedrooms', '?')}BR",
            "action": h.get("last_certification_kind") or "", "effective": h.get("last_certification_date"),
            "subsidy": SUBSIDY.get(a.get("kind") or "", a.get("kind") or ""),
            "members": shown(ev, uref, "household_size", "int", f"{label} household members", needed=True),
            "income": shown(ev, ref, "annual_income", "money", f"{label} annual income", needed=True),
            "adjusted": shown(ev, ref, "adjusted_income", "money", f"{label} adjusted income", needed=True),
            "basic": shown(ev, ref, "basic_rent", "money", "Basic rent (RD-approved rent schedule)", needed=True),
            "note": shown(ev, ref, "note_rent", "money", "Note rent (RD-approved rent schedule)", needed=True),
            "ua": shown(ev, ref, "utility_allowance", "money", f"{label} utility allowance", needed=True),
            "gtc": shown(ev, ref, "gross_tenant_contribution", "dollars", "Gross tenant contribution (needs basic/note rent)",
                         needed=True),
            "ntc": shown(ev, ref, "net_tenant_contribution", "money", "Net tenant contribution (needs basic/note rent)",
                         needed=True),
            "overage": shown(ev, ref, "overage", "money", f"{label} overage", needed=False),
            "ra": shown(ev, ref, "rental_assistance", "money", f"{label} rental assistance", needed=False),
        })
    rep.context["rows"] = out
    return rep


def build_all(sources: Sources, period: Period, property_id: str | None = None) -> list[Report]:
    pids = [pid for pid in sources.property_ids("usda515") if property_id in (None, pid)]
    return [r for r in (build(sources, period, pid) for pid in pids) if r is not None]
