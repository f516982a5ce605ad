"""Tenant Income Certification (§7.2, Parts I-VIII) for one certification, and a batch per property of the
certifications effective in a period (each starts on a new page).

Household members are printed as the form asks: name, relationship, age (never the birth date), student
status and the last four digits of the SSN. Race, ethnicity, disability, county and the agency project
number are not kept in Rent Manager: blanks. Incomes are the stored certification's (columns A-D, assets,
L the total); rent is the evaluated month's.
"""

from __future__ import annotations

from .common import new_report, programs_of, record_property, record_unit
from .document import Report
from .evidence import Evidence, shown
from .period import Period
from .sources import Row, Sources

KIND = "tic"
TITLE = "Tenant Income Certification"
RELATIONSHIP = {"head": "H", "spouse": "S", "co-head": "A", "child": "C", "other adult": "O", "live-in aide": "L",
                "foster": "F", "dependent": "C"}
KIND_LABEL = {"move-in": "Initial / move-in", "initial": "Initial / move-in", "annual": "Recertification",
              "interim": "Other (interim)"}


def _cert_row(ev: Evidence, sources: Sources, cert: Row) -> int:
    return ev.row("compliance.household_certifications",
                  {"org_id": sources.org_id, "as_of": sources.evaluation.as_of,
                   "certification_id": cert["certification_id"]},
                  {k: v for k, v in cert.items() if k not in ("org_id", "as_of", "run_id")})


def _member_row(ev: Evidence, sources: Sources, m: Row) -> int:
    cols = ("resident_rm_id", "first_name", "last_name", "middle_name", "relationship", "student_status", "age",
            "ssn_last4", "is_primary")
    return ev.row("estatecore.household_members", {"org_id": sources.org_id, "location_id": m["location_id"],
                                                   "rm_id": m["rm_id"]}, {c: m.get(c) for c in cols})


def certification_page(ev: Evidence, sources: Sources, cert: Row) -> dict:
    ref = _cert_row(ev, sources, cert)
    units = {u["unit_id"]: u for u in sources.snapshot("unit_status")}
    u = units.get(cert["unit_id"])
    uref = record_unit(ev, sources, u) if u else None
    hs = next((h for h in sources.snapshot("household_status") if h["household_id"] == cert["household_id"]), None)
    href = ev.row("compliance.household_status", {"org_id": sources.org_id, "as_of": sources.evaluation.as_of,
                                                  "household_id": hs["household_id"]},
                  {k: v for k, v in hs.items() if k not in ("org_id", "as_of", "run_id")}) if hs else None
    unit_label = u["unit_number"] if u else cert["unit_id"]
    members = []
    for i, m in enumerate(sources.members(cert["household_id"]), start=1):
        mref = _member_row(ev, sources, m)
        name = f"member {i} of unit {unit_label}"
        members.append({
            "number": i, "last": m.get("last_name") or "", "first": m.get("first_name") or "",
            "middle": (m.get("middle_name") or "")[:1],
            "relationship": RELATIONSHIP.get((m.get("relationship") or "").lower(), "O" if m.get("relationship") else ""),
            "age": shown(ev, mref, "age", "int", f"{name} age", needed=True, line="Part II"),
            "student": "Y" if (m.get("student_status") or "").lower().startswith("full") else "N",
            "ssn": ("xxx-xx-" + m["ssn_last4"]) if m.get("ssn_last4") else ev.blank(f"{name} SSN last 4", "Part II"),
            "race": ev.blank("Race of each member", "Part II"),
            "ethnicity": ev.blank("Ethnicity of each member", "Part II"),
            "disabled": ev.blank("Disability status of each member", "Part II"),
        })
    itemized = cert.get("employment_income") is not None
    lbl = f"unit {unit_label} certification {cert['effective_date']}"

    def money(col: str, what: str, line: str, needed: bool = True):
        return shown(ev, ref, col, "money", f"{lbl}: {what}", needed=needed, line=line)

    return {
        "kind": KIND_LABEL.get(cert["kind"], cert["kind"]),
        "effective": ev.fig(ref, "effective_date", "date", f"{lbl}: effective date"),
        "move_in": shown(ev, href, "move_in_date", "date", f"{lbl}: move-in date", needed=True),
        "unit": unit_label, "bin": (u.get("bin") if u else None) or ev.blank("BIN", "Part I"),
        "bedrooms": shown(ev, uref, "bedrooms", "int", f"{lbl}: bedrooms", needed=True, line="Part I"),
        "sqft": shown(ev, uref, "square_feet", "int", f"{lbl}: square feet", needed=True, line="Part I"),
        "county": ev.blank("County", "Part I"), "project_no": ev.blank("State agency project number", "Part I"),
        "members": members,
        "size": ev.fig(ref, "household_size", "int", f"{lbl}: household size"),
        "itemized": itemized,
        "a": money("employment_income", "(A) employment or wages", "Part III", itemized),
        "b": money("benefit_income", "(B) Social Security/pensions", "Part III", itemized),
        "c": money("public_assistance_income", "(C) public assistance", "Part III", itemized),
        "d": money("other_income", "(D) other income", "Part III", itemized),
        "h": money("net_family_assets", "(H) total cash value of assets", "Part IV", itemized),
        "j": money("imputed_asset_income", "(J) imputed income from assets", "Part IV", False),
        "k": money("asset_income", "(K) income from assets", "Part IV", itemized),
        "l": money("annual_income", "(L) total annual household income", "Part V"),
        "limit": shown(ev, ref, "income_limit", "dollars", f"{lbl}: current income limit", needed=True, line="Part V"),
        "limit_pct": shown(ev, ref, "income_limit_pct", "pct", f"{lbl}: income limit %", needed=False),
        "qualifies": cert.get("qualifies"),
        "recert": cert["kind"] in ("annual", "interim"),
        "threshold": shown(ev, ref, "over_income_threshold", "dollars", f"{lbl}: 140 % of the limit", needed=False),
        "over": cert.get("over_income"),
        "rent": shown(ev, uref, "tenant_rent", "money", f"{lbl}: tenant-paid rent", needed=True, line="Part VI"),
        "assistance": shown(ev, uref, "subsidy", "money", f"{lbl}: rent assistance", needed=False),
        "ua": shown(ev, uref, "utility_allowance", "money", f"{lbl}: utility allowance", needed=True, line="Part VI"),
        "fees": shown(ev, uref, "mandatory_fees", "money", f"{lbl}: other non-optional charges", needed=False),
        "gross": shown(ev, uref, "gross_rent", "money", f"{lbl}: gross rent", needed=True, line="Part VI"),
        "max_rent": shown(ev, uref, "max_gross_rent", "dollars", f"{lbl}: maximum rent limit", needed=True,
                          line="Part VI"),
        "rent_ok": u.get("rent_compliant") if u else None,
        "students": (hs or {}).get("student_status") or "",
        "programs": [{"program": p, "pct": cert.get("income_limit_pct") if p == cert.get("program") else None,
                      "meets": cert.get("qualifies") if p == cert.get("program") else None}
                     for p in (programs_of(u) if u else [])],
    }


def _new(sources: Sources, period: Period, property_id: str) -> Report:
    rep = new_report(sources, kind=KIND, title=TITLE, form="Tenant Income Certification (state agency form, §7.2)",
                     template="tic.html", period=period, property_id=property_id)
    record_property(rep.evidence, sources, property_id)
    return rep


def build(sources: Sources, period: Period, property_id: str) -> Report | None:
    certs = sorted((c for c in sources.snapshot("household_certifications") if c["property_id"] == property_id
                    and period.start <= c["effective_date"] <= period.end),
                   key=lambda c: (c["effective_date"], c["unit_id"], c["certification_id"]))
    if not certs:
        return None
    rep = _new(sources, period, property_id)
    rep.context["certifications"] = [certification_page(rep.evidence, sources, c) for c in certs]
    rep.context["property_name"] = sources.property_name(property_id)
    return rep


def build_one(sources: Sources, period: Period, certification_id: str) -> Report:
    cert = next((c for c in sources.snapshot("household_certifications") if c["certification_id"] == certification_id),
                None)
    if cert is None:
        raise KeyError(f"no stored certification {certification_id!r} in evaluation #{sources.evaluation.id}")
    rep = _new(sources, period, cert["property_id"])
    rep.single = cert["certification_id"]
    rep.context["certifications"] = [certification_page(rep.evidence, sources, cert)]
    rep.context["property_name"] = sources.property_name(cert["property_id"])
    return rep


def build_all(sources: Sources, period: Period, property_id: str | None = None) -> list[Report]:
    pids = [property_id] if property_id else sources.property_ids()
    return [r for r in (build(sources, period, pid) for pid in pids) if r is not None]
