"""CAM reconciliation statement: the letter a landlord sends each commercial tenant after the year closes —
the year's recoverable expenses by category, occupancy and gross-up, the cap on controllable expenses, the
admin fee, the base year or expense stop, the tenant's pro-rata share, the estimates billed and the true-up
(an invoice or a credit). Every figure is a stored figure of the commercial evaluation
(`specialties.cam_reconciliations`); the expenses by category are the property's recorded pool (UDF "CAM
Expense Pool"), printed beside the stored total. Amounts are exact cents as stored (compliance-rules.md §9:
each published amount rounded half up to the cent once, by the rules)."""

from __future__ import annotations

from . import fmt
from .common import address, new_report
from .document import Report
from .period import Period
from .specialty_common import long_date, loads, record, record_nested
from .specialty_sources import SpecialtySources

KIND = "cam_statement"
TITLE = "CAM Reconciliation Statement"
TABLE = "cam_reconciliations"
POOL_UDF = "CAM Expense Pool"
LEASE_TYPES = {
    "nnn": "Net (NNN): your pro-rata share of the recoverable expenses",
    "base_year": "Base year: your pro-rata share of the increase over the base year's expenses, both grossed up "
                 "to the same occupancy",
    "expense_stop": "Expense stop: your pro-rata share of the expenses above the stop",
}
CATEGORY_LABELS = {"CAM": "Common area maintenance", "JANITORIAL": "Janitorial", "REPAIRS": "Repairs and maintenance",
                   "LANDSCAPING": "Landscaping", "SECURITY": "Security", "MANAGEMENT": "Management",
                   "UTILITIES": "Utilities", "SNOW": "Snow removal", "TAX": "Real estate taxes",
                   "INSURANCE": "Property insurance"}


def expense_lines(sources: SpecialtySources, property_id: str, year: int) -> list[tuple[str, int, bool, bool]] | None:
    """(category, cents, variable, controllable) of the property's recorded pool for `year`, or None."""
    from ..specialties.commercial import CATEGORIES
    from ..specialties.inputs import parse_pool

    text = sources.udf("Property", property_id, POOL_UDF)
    if not text:
        return None
    try:
        lines = parse_pool(text).get(year)
    except ValueError:
        return None
    if not lines:
        return None
    return [(cat, cents, *CATEGORIES[cat]) for cat, cents in lines.items()]


def build_one(sources: SpecialtySources, period: Period, row: dict) -> Report:
    pid = row["property_id"]
    rep = new_report(sources, kind=KIND, title=TITLE, form=f"CAM reconciliation {row['year']}",
                     template="cam_statement.html", period=period, property_id=pid)
    rep.single = f"T{row['tenant_id'].partition(':')[2] or row['tenant_id']}"
    ev, c = rep.evidence, rep.context
    ref = record(ev, sources, TABLE, row, "tenant_id", "year", names=True)
    f = lambda col, label, fmt="cents": ev.fig(ref, col, fmt, label)  # noqa: E731
    prop = sources.property(pid)
    c["letter_date"] = long_date(sources.evaluation.as_of)
    c["tenant"] = ev.fig(ref, "tenant_name", "text", "tenant")
    c["property_name"] = sources.property_name(pid)
    c["address"] = address(prop)
    c["year"] = row["year"]
    c["lease_type"] = LEASE_TYPES.get(row["lease_type"], row["lease_type"])
    c["kind"] = row["lease_type"]
    c["share"] = f("pro_rata_share", "pro-rata share", "share")
    c["occupancy"] = f("occupancy", "weighted-average occupancy", "share") if row.get("occupancy") is not None else "—"
    c["gross_up"] = f("gross_up_pct", "gross-up level", "pct") if row.get("gross_up_pct") is not None else None
    c["grossed"] = row.get("gross_up_pct") is not None and row.get("grossed_up_pool_cents") != row.get("pool_cents")
    for col in ("pool_cents", "grossed_up_pool_cents", "controllable_cents", "capped_controllable_cents",
                "uncontrollable_cents", "admin_fee_cents", "recoverable_cents", "base_cents", "tenant_share_cents",
                "estimates_billed_cents"):
        c[col.removesuffix("_cents")] = f(col, col.removesuffix("_cents").replace("_", " "))
    c["cap"] = f("cap_cents", "cap on controllable expenses") if row.get("cap_cents") is not None else None
    true_up = int(row["true_up_cents"])
    c["action"] = "invoice" if true_up > 0 else "credit" if true_up < 0 else "none"
    c["true_up"] = f("true_up_cents", "true-up")
    c["true_up_abs"] = fmt.cents(abs(true_up))
    history = []
    for y in loads(row.get("cap_history"), []):
        yref = record_nested(ev, sources, TABLE, "cap_history", {"tenant_id": row["tenant_id"], "year": row["year"],
                                                                  "cap_year": y["year"]}, y)
        history.append({"year": y["year"],
                        "actual": ev.fig(yref, "controllable_cents", "cents", f"{y['year']} controllable"),
                        "cap": ev.fig(yref, "cap_cents", "cents", f"{y['year']} cap") if y.get("cap_cents") is not None
                        else "no cap (first year)",
                        "billed": ev.fig(yref, "billed_controllable_cents", "cents", f"{y['year']} after the cap"),
                        "capped": y.get("cap_cents") is not None and y["controllable_cents"] > y["cap_cents"]})
    c["cap_history"] = history
    lines = expense_lines(sources, pid, row["year"])
    if lines is not None and sum(cents for _c, cents, _v, _k in lines) == row["pool_cents"]:
        ev.row("estatecore.udf_values", {"org_id": sources.org_id, "parent_type": "Property",
                                         "parent_id": pid, "name": POOL_UDF},
               {"value": sources.udf("Property", pid, POOL_UDF)})
        c["expenses"] = [{"category": CATEGORY_LABELS.get(cat, cat.title()), "amount": fmt.cents(cents),
                          "variable": variable, "controllable": ctrl} for cat, cents, variable, ctrl in lines]
    else:
        c["expenses"] = None
    return rep


def build_all(sources: SpecialtySources, period: Period, property_id: str | None = None) -> list[Report]:
    rows = [r for r in sources.rows(TABLE) if r.get("determined") and r["year"] == period.start.year
            and (property_id is None or r["property_id"] == property_id)]
    rows.sort(key=lambda r: (sources.property_label(r["property_id"]), r["tenant_name"], r["tenant_id"]))
    return [build_one(sources, period, r) for r in rows]
