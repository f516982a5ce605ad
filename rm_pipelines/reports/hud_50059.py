"""HUD-50059-style rent calculation per assisted (Section 8) household, a batch per property (§7.8, §2.3).

Every figure is the stored evaluation's (`compliance.assisted_households`): gross rent, TTP, tenant rent,
assistance payment, utility reimbursement, payment standard, annual and adjusted income. The 30 %/10 %
prongs and the minimum rent are not stored by the evaluation: blanks, never recomputed here."""

from __future__ import annotations

from .common import new_report, record_property, record_unit
from .document import Report
from .evidence import shown
from .period import Period
from .sources import Sources

KIND = "hud_50059"
TITLE = "Rent Calculation (HUD-50059-style)"


def build(sources: Sources, period: Period, property_id: str) -> Report | None:
    rows = sorted((a for a in sources.snapshot("assisted_households")
                   if a["property_id"] == property_id and a["program"] == "section8"),
                  key=lambda a: (a["unit_id"], a["household_id"]))
    if not rows:
        return None
    rep = new_report(sources, kind=KIND, title=TITLE, form="HUD-50059 rent calculation (TRACS MAT 202D)",
                     template="hud_50059.html", period=period, property_id=property_id)
    ev = rep.evidence
    record_property(ev, sources, property_id)
    units = {u["unit_id"]: u for u in sources.snapshot("unit_status")}
    households = {h["household_id"]: h for h in sources.snapshot("household_status")}
    pages = []
    for a in rows:
        ref = ev.row("compliance.assisted_households", {"org_id": sources.org_id, "as_of": sources.evaluation.as_of,
                                                        "household_id": a["household_id"], "program": a["program"]},
                     {k: v for k, v in a.items() if k not in ("org_id", "as_of", "run_id")})
        u = units.get(a["unit_id"])
        if u:
            record_unit(ev, sources, u)
        h = households.get(a["household_id"]) or {}
        label = f"unit {u['unit_number'] if u else a['unit_id']}"
        pages.append({
            "unit": u["unit_number"] if u else a["unit_id"], "bedrooms": u.get("bedrooms") if u else None,
            "head": sources.household_name(a["household_id"]) or "",
            "kind": a.get("kind") or "", "ruleset": a.get("ruleset") or "",
            "cert_kind": h.get("last_certification_kind") or "", "cert_date": h.get("last_certification_date"),
            "next_due": h.get("next_recert_due"),
            "annual": shown(ev, ref, "annual_income", "money", f"{label} total annual income", needed=True),
            "adjusted": shown(ev, ref, "adjusted_income", "money", f"{label} adjusted income", needed=True),
            "payment_standard": shown(ev, ref, "payment_standard", "money", f"{label} payment standard", needed=False),
            "contract_rent": ev.blank("Contract rent (rent to owner) as approved", "Rent calculation"),
            "ua": shown(ev, ref, "utility_allowance", "money", f"{label} utility allowance", needed=True),
            "gross": shown(ev, ref, "gross_rent", "money", f"{label} gross rent", needed=True),
            "thirty": ev.blank("30 % of monthly adjusted income (prong not stored by the evaluation)", "Rent calculation"),
            "ten": ev.blank("10 % of monthly income (prong not stored by the evaluation)", "Rent calculation"),
            "welfare": ev.blank("Welfare rent (as-paid states)", "Rent calculation"),
            "minimum": ev.blank("Minimum rent", "Rent calculation"),
            "ttp": shown(ev, ref, "ttp", "dollars", f"{label} total tenant payment", needed=True),
            "family_share": shown(ev, ref, "family_share", "money", f"{label} family share", needed=False),
            "tenant_rent": shown(ev, ref, "tenant_rent", "money", f"{label} tenant rent", needed=True),
            "hap": shown(ev, ref, "hap", "money", f"{label} assistance payment", needed=True),
            "reimbursement": shown(ev, ref, "utility_reimbursement", "money", f"{label} utility reimbursement",
                                   needed=False),
        })
    rep.context["households"] = pages
    rep.context["property_name"] = sources.property_name(property_id)
    return rep


def build_all(sources: Sources, period: Period, property_id: str | None = None) -> list[Report]:
    pids = [property_id] if property_id else sources.property_ids()
    return [r for r in (build(sources, period, pid) for pid in pids) if r is not None]
