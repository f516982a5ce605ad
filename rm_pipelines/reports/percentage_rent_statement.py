"""Percentage rent statement: the letter to a retail tenant for a lease year — gross sales reported, the
exclusions the lease allows, net sales, the breakpoint (natural: annual base rent ÷ rate; or the negotiated
artificial one; prorated by days for a partial lease year), the sales over it, the percentage rent, what was
billed during the year and the true-up. Every amount is a stored figure of the commercial evaluation
(`specialties.percentage_rent`, exact cents, half-up rounding per compliance-rules.md §9.6); the rate is the
tenant's recorded lease term (UDF "Percentage Rent Rate")."""

from __future__ import annotations

from decimal import Decimal

from . import fmt
from .common import address, new_report
from .document import Report
from .period import Period
from .specialty_common import long_date, record
from .specialty_sources import SpecialtySources, split

KIND = "percentage_rent"
TITLE = "Percentage Rent Statement"
TABLE = "percentage_rent"
RATE_UDF = "Percentage Rent Rate"
BREAKPOINT_UDF = "Percentage Rent Breakpoint"
UDFS = (RATE_UDF, BREAKPOINT_UDF)
ESTATECORE = (("leases", ("resident_rm_id",)),
              ("retail_sales", ("lease_rm_id", "sales_month", "gross_sales", "excluded_sales")))


def monthly_sales(sources: SpecialtySources, row: dict) -> list[dict] | None:
    """The tenant's reported sales of the lease year (EstateCore `retail_sales` of its leases), or None when they
    do not add up to the stored totals (then the statement prints the totals only)."""
    key = split(row["tenant_id"])
    if key is None:
        return None
    leases = {(ls["location_id"], ls["rm_id"]) for ls in sources.estatecore.get("leases", [])
              if (ls["location_id"], ls.get("resident_rm_id")) == key}
    sales = sorted((s for s in sources.estatecore.get("retail_sales", [])
                    if (s["location_id"], s["lease_rm_id"]) in leases
                    and row["period_start"] <= s["sales_month"] <= row["period_end"]),
                   key=lambda s: (s["sales_month"], s["rm_id"]))
    gross = sum(int(Decimal(str(s["gross_sales"])) * 100) for s in sales)
    excluded = sum(int(Decimal(str(s.get("excluded_sales") or 0)) * 100) for s in sales)
    if not sales or gross != row["gross_sales_cents"] or excluded != row["excluded_cents"]:
        return None
    return sales


def build_one(sources: SpecialtySources, period: Period, row: dict) -> Report:
    pid, tid = row["property_id"], row["tenant_id"]
    rep = new_report(sources, kind=KIND, title=TITLE, form=f"Lease year {fmt.day(row['period_start'])} – "
                     f"{fmt.day(row['period_end'])}", template="percentage_rent_statement.html", period=period,
                     property_id=pid)
    rep.single = f"T{tid.partition(':')[2] or tid}"
    ev, c = rep.evidence, rep.context
    ref = record(ev, sources, TABLE, row, "tenant_id", "period_start", names=True)
    f = lambda col, label, fmt_="cents": ev.fig(ref, col, fmt_, label)  # noqa: E731
    c["letter_date"] = long_date(sources.evaluation.as_of)
    c["tenant"] = f("tenant_name", "tenant", "text")
    c["property_name"] = sources.property_name(pid)
    c["address"] = address(sources.property(pid))
    c["start"] = f("period_start", "lease year start", "date")
    c["end"] = f("period_end", "lease year end", "date")
    c["days"] = f("days_leased", "days leased in the lease year", "int")
    c["months"] = f("months_reported", "months of sales reported", "int")
    for col in ("gross_sales_cents", "excluded_cents", "net_sales_cents", "breakpoint_cents", "overage_cents",
                "percentage_rent_cents", "billed_cents", "true_up_cents"):
        c[col.removesuffix("_cents")] = f(col, col.removesuffix("_cents").replace("_", " "))
    c["breakpoint_kind"] = row.get("breakpoint_kind") or ""
    rate = sources.udf("Tenant", tid, RATE_UDF)
    if rate:
        uref = ev.row("estatecore.udf_values", {"org_id": sources.org_id, "parent_type": "Tenant", "parent_id": tid,
                                                "name": RATE_UDF}, {"value": rate})
        c["rate"] = ev.fig(uref, "value", "pct", "percentage rent rate")
    else:
        c["rate"] = ev.blank("percentage rent rate", "5")
    months = []
    for s in monthly_sales(sources, row) or []:
        sref = ev.row("estatecore.retail_sales", {"org_id": sources.org_id, "location_id": s["location_id"],
                                                  "rm_id": s["rm_id"]},
                      {k: s.get(k) for k in ("lease_rm_id", "sales_month", "gross_sales", "excluded_sales")})
        months.append({"month": s["sales_month"].strftime("%B %Y"),
                       "gross": ev.fig(sref, "gross_sales", "money", f"{s['sales_month']:%Y-%m} gross sales"),
                       "excluded": ev.fig(sref, "excluded_sales", "money", f"{s['sales_month']:%Y-%m} exclusions")
                       if s.get("excluded_sales") is not None else "—"})
    c["sales"] = months
    true_up = int(row["true_up_cents"])
    c["action"] = "invoice" if true_up > 0 else "credit" if true_up < 0 else "none"
    c["true_up_abs"] = fmt.cents(abs(true_up))
    return rep


def build_all(sources: SpecialtySources, period: Period, property_id: str | None = None) -> list[Report]:
    rows = [r for r in sources.rows(TABLE) if r.get("determined") and r["period_end"].year == period.start.year
            and (property_id is None or r["property_id"] == property_id)]
    rows.sort(key=lambda r: (sources.property_label(r["property_id"]), r["tenant_name"], r["tenant_id"]))
    return [build_one(sources, period, r) for r in rows]
