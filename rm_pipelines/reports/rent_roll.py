"""Monthly unit status / rent roll per property (§7.3 columns), with charts: occupancy by program, households
by % AMI, and rent headroom (maximum gross rent − gross rent) per unit. Also the monthly LIHTC compliance
report: every unit's income and rent test as stored by the evaluation."""

from __future__ import annotations

from collections import Counter
from decimal import Decimal

from . import charts
from .common import new_report, programs_of, record_property, record_unit
from .document import Report
from .evidence import shown
from .period import Period
from .sources import Sources

KIND = "rent_roll"
TITLE = "Unit Status Report / Rent Roll"
PROGRAM_LABELS = {"lihtc": "LIHTC", "bond": "Bond", "home": "HOME", "section8": "Sec 8", "usda515": "RD 515",
                  "state": "State", "": "Market"}
STUDENT_LABELS = {"not-all-students": "no", "all-students-no-exception": "all FT, no exception"}
AMI_BUCKETS = ((Decimal(30), "≤30"), (Decimal(40), "31-40"), (Decimal(50), "41-50"), (Decimal(60), "51-60"),
               (Decimal(80), "61-80"), (Decimal(140), "81-140"))


def _status(u: dict) -> str:
    if u.get("employee_unit"):
        return "manager"
    if not u.get("occupied"):
        return "vacant-LI" if u.get("low_income_unit") else "vacant"
    if u.get("over_income"):
        return "over-income"
    if u.get("low_income_unit"):
        return "qualified"
    if u.get("low_income_unit") is None and programs_of(u):
        return "undetermined"
    return "market" if not programs_of(u) else "not qualified"


def _student(status: str | None) -> str:
    """Student status in the rent roll's words (`exception:tanf` → all FT, exception tanf)."""
    if status and status.startswith("exception:"):
        return "all FT, exception " + status.split(":", 1)[1]
    return STUDENT_LABELS.get(status or "", status or "")


def _bucket(pct: Decimal | None) -> str:
    if pct is None:
        return "n/a"
    for top, label in AMI_BUCKETS:
        if pct <= top:
            return label
    return ">140"


def build(sources: Sources, period: Period, property_id: str) -> Report:
    rep = new_report(sources, kind=KIND, title=TITLE, form="State agency unit status report (§7.3)",
                     template="rent_roll.html", period=period, property_id=property_id)
    ev = rep.evidence
    record_property(ev, sources, property_id)
    households = {h["household_id"]: h for h in sources.snapshot("household_status")}
    rows = []
    unit_rows = sources.units_of(property_id)
    for u in unit_rows:
        ref = record_unit(ev, sources, u)
        program = bool(programs_of(u))
        occupied = bool(u.get("occupied"))
        needs = program and occupied
        h = households.get(u.get("household_id") or "")
        href = ev.row("compliance.household_status", {"org_id": sources.org_id, "as_of": sources.evaluation.as_of,
                                                      "household_id": h["household_id"]},
                      {k: v for k, v in h.items() if k not in ("org_id", "as_of", "run_id")}) if h else None
        label = f"unit {u['unit_number']}"
        rows.append({
            "bin": u.get("bin") or "",
            "unit": ev.fig(ref, "unit_number", "text", label),
            "bedrooms": shown(ev, ref, "bedrooms", "int", f"{label} bedrooms", needed=True),
            "sqft": shown(ev, ref, "square_feet", "int", f"{label} square feet", needed=program),
            "programs": " + ".join(PROGRAM_LABELS.get(p, p) for p in programs_of(u)) or "Market",
            "designation": shown(ev, ref, "designation_pct", "pct", f"{label} designation", needed=False),
            "status": _status(u),
            "head": (sources.household_name(u.get("household_id")) or "") if occupied else "",
            "size": shown(ev, ref, "household_size", "int", f"{label} household size", needed=needs),
            "move_in": shown(ev, href, "move_in_date", "date", f"{label} move-in date", needed=False),
            "cert": (h.get("last_certification_kind") or "") if h else "",
            "cert_date": shown(ev, href, "last_certification_date", "date", f"{label} certification date", needed=needs),
            "next_due": shown(ev, href, "next_recert_due", "date", f"{label} next recertification", needed=False)
            if h and h.get("recert_required") else "—",
            "income": shown(ev, ref, "annual_income", "money", f"{label} annual household income", needed=needs),
            "limit": shown(ev, ref, "income_limit", "dollars", f"{label} income limit", needed=needs),
            "pct_ami": shown(ev, ref, "pct_ami", "pct", f"{label} % AMI", needed=False),
            "over": bool(u.get("over_income")),
            "student": _student(u.get("student_status")),
            "rent": shown(ev, ref, "tenant_rent", "money", f"{label} tenant rent", needed=needs),
            "ua": shown(ev, ref, "utility_allowance", "money", f"{label} utility allowance", needed=False),
            "fees": shown(ev, ref, "mandatory_fees", "money", f"{label} non-optional fees", needed=False),
            "subsidy": shown(ev, ref, "subsidy", "money", f"{label} rental assistance", needed=False),
            "gross": shown(ev, ref, "gross_rent", "money", f"{label} gross rent", needed=needs),
            "max": shown(ev, ref, "max_gross_rent", "dollars", f"{label} maximum gross rent", needed=needs),
            "rent_ok": u.get("rent_compliant"),
            "flag": u.get("rent_compliant") is False or bool(u.get("over_income")) or u.get("student_status") ==
            "all-students-no-exception" or bool(u.get("next_available_unit_hold")),
        })
    refs = {u["unit_id"]: record_unit(ev, sources, u) for u in unit_rows}
    c = rep.context
    c["rows"] = rows
    c["total_units"] = ev.count(list(refs.values()), "Units")
    c["occupied"] = ev.count([refs[u["unit_id"]] for u in unit_rows if u.get("occupied")], "Occupied units")
    c["low_income"] = ev.count([refs[u["unit_id"]] for u in unit_rows if u.get("low_income_unit")],
                               "Low-income units")
    c["rent_over"] = ev.count([refs[u["unit_id"]] for u in unit_rows if u.get("rent_compliant") is False],
                              "Units with gross rent over the maximum")
    c["over_income"] = ev.count([refs[u["unit_id"]] for u in unit_rows if u.get("over_income")], "Over-income households")
    c["charts"] = _charts(unit_rows)
    return rep


def _charts(units: list[dict]) -> list[str]:
    programs = sorted({p for u in units for p in programs_of(u)} | ({""} if any(not programs_of(u) for u in units)
                                                                    else set()))
    occ = {"occupied": [sum(1 for u in units if u.get("occupied") and (p in programs_of(u) or (not p and not programs_of(u))))
                        for p in programs],
           "vacant": [sum(1 for u in units if not u.get("occupied") and (p in programs_of(u) or (not p and not programs_of(u))))
                      for p in programs]}
    out = [charts.stacked("Occupancy by program", [PROGRAM_LABELS.get(p, p) for p in programs], occ)]
    buckets = Counter(_bucket(u.get("pct_ami")) for u in units if u.get("occupied") and programs_of(u))
    order = [label for _, label in AMI_BUCKETS] + [">140", "n/a"]
    labels = [b for b in order if buckets.get(b)]
    out.append(charts.bars("Households by % of AMI", labels, [buckets[b] for b in labels], xlabel="% AMI",
                           ylabel="households", highlight=[b in (">140",) for b in labels]))
    with_rent = [u for u in units if u.get("max_gross_rent") is not None and u.get("gross_rent") is not None]
    if with_rent:
        headroom = [u["max_gross_rent"] - u["gross_rent"] for u in with_rent]
        out.append(charts.bars("Rent headroom (max gross − gross), $", [u["unit_number"] for u in with_rent], headroom,
                               highlight=[h < 0 for h in headroom], size=(3.6 if len(with_rent) < 40 else 7.2, 2.2),
                               zero_line=True))
    return [charts.data_uri(svg) for svg in out]


def build_all(sources: Sources, period: Period, property_id: str | None = None) -> list[Report]:
    pids = [property_id] if property_id else sources.property_ids()
    return [build(sources, period, pid) for pid in pids if any(programs_of(u) for u in sources.units_of(pid))]
