"""Monthly asset-management performance report for an org, from the stored asset-management evaluation
(`specialties.am_monthly`, `specialties.am_lease_expirations`): the portfolio's month at a glance, 12-month
charts (occupancy, collections, delinquency aging, NOI where expenses are recorded), lease expirations over the
next 12 months, and the month by property type, owner and property. Rates are the stored ones (four places,
half up); a month without recorded expenses has no NOI (a gap, never a zero)."""

from __future__ import annotations

from collections import defaultdict

from . import charts, fmt
from .common import new_report
from .document import Report
from .period import Period
from .specialty_common import loads, record, record_nested
from .specialty_sources import SpecialtySources

MONTHLY, EXPIRATIONS = "am_monthly", "am_lease_expirations"
BUCKETS = ("current", "1-30", "31-60", "61-90", "91-120", "over 120")


def _label(m) -> str:
    return m.strftime("%b %y")


TABLE_FIELDS = ("spaces", "occupied", "physical", "economic", "gpr", "vacancy", "ltl", "concessions", "billed",
                "collected", "collections", "delinquent", "noi", "new", "renewals", "wo_opened", "wo_closed", "wo_days")
KPI_FIELDS = ("spaces", "occupied", "physical", "economic", "collections", "delinquent", "noi", "gpr")
NOI_FIELDS = ("billed", "expenses", "noi")
# printed name → (stored column, format, what it is)
FIELDS = {
    "spaces": ("spaces", "int", "spaces"), "occupied": ("occupied", "int", "occupied"),
    "physical": ("physical_occupancy", "fraction_pct", "physical occupancy"),
    "economic": ("economic_occupancy", "fraction_pct", "economic occupancy"),
    "gpr": ("gross_potential_rent_cents", "cents", "gross potential rent"),
    "vacancy": ("vacancy_loss_cents", "cents", "vacancy loss"),
    "ltl": ("loss_to_lease_cents", "cents", "loss to lease"),
    "concessions": ("concessions_cents", "cents", "concessions"), "billed": ("billed_cents", "cents", "billed"),
    "collected": ("collected_cents", "cents", "collected"),
    "collections": ("collections_rate", "fraction_pct", "collections rate"),
    "delinquent": ("delinquent_cents", "cents", "delinquent"), "noi": ("noi_cents", "cents", "NOI"),
    "expenses": ("expenses_cents", "cents", "operating expenses"), "new": ("new_leases", "int", "new leases"),
    "renewals": ("renewals", "int", "renewals"), "wo_opened": ("work_orders_opened", "int", "work orders opened"),
    "wo_closed": ("work_orders_closed", "int", "work orders closed"),
    "wo_days": ("avg_days_to_close", "number", "days to close"),
}


def _row(ev, sources: SpecialtySources, r: dict, fields: tuple[str, ...]) -> dict:
    """The printed figures of one stored month row: only those the page shows are recorded."""
    ref = record(ev, sources, MONTHLY, r, "group", "month")
    out = {"label": r["label"]}
    for name in fields:
        column, kind, what = FIELDS[name]
        out[name] = ev.fig(ref, column, kind, f"{r['label']} {what}") if r.get(column) is not None else "—"
    return out


def build(sources: SpecialtySources, period: Period) -> Report | None:
    rows = sources.rows(MONTHLY)
    months = sorted({r["month"] for r in rows if r["month"] <= period.end})
    if not months:
        return None
    month = months[-1]
    rep = new_report(sources, kind="performance", title="Asset Management Performance Report",
                     form="Monthly performance", template="performance.html", period=period)
    ev, c = rep.evidence, rep.context
    c["month"] = month.strftime("%B %Y")
    c["as_of"] = fmt.day(sources.evaluation.as_of)
    now = [r for r in rows if r["month"] == month]
    portfolio = next((r for r in now if r["group"] == "portfolio"), None)
    c["portfolio"] = _row(ev, sources, portfolio, KPI_FIELDS) if portfolio else None
    c["types"] = [_row(ev, sources, r, TABLE_FIELDS) for r in sorted(now, key=lambda r: r["label"])
                  if r["group"].startswith("type:")]
    # Owners are people as often as companies: the report counts their roll-ups but names none (the asset
    # `asset_management/monthly_performance` holds them by owner).
    c["owners"] = sum(1 for r in now if r["group"].startswith("owner:"))
    c["properties"] = [_row(ev, sources, r, TABLE_FIELDS) for r in sorted(now, key=lambda r: (r["label"], r["group"]))
                       if not r["group"].startswith(("type:", "owner:")) and r["group"] != "portfolio"]
    trend = sorted((r for r in rows if r["group"] == "portfolio" and r["month"] <= month), key=lambda r: r["month"])
    labels = [_label(r["month"]) for r in trend]
    c["charts"] = []
    if trend:
        c["charts"].append(charts.data_uri(charts.lines(
            "Occupancy", labels, {"physical": [r["physical_occupancy"] for r in trend],
                                  "economic": [r["economic_occupancy"] for r in trend]}, percent=True)))
        c["charts"].append(charts.data_uri(charts.lines(
            "Collections rate", labels, {"collected ÷ billed": [r["collections_rate"] for r in trend]}, percent=True)))
        aging: dict[str, list[int]] = {b: [] for b in BUCKETS if b != "current"}
        for r in trend:
            buckets = loads(r.get("delinquency_buckets"), {})
            for b in aging:
                aging[b].append(round(int(buckets.get(b) or 0) / 100))
        c["charts"].append(charts.data_uri(charts.stacked("Delinquency by days past due ($)", labels, aging,
                                                          rotate=45)))
    props = [r for r in rows if not r["group"].startswith(("type:", "owner:")) and r["group"] != "portfolio"
             and r["month"] <= month]
    noi_months = sorted({r["month"] for r in props if r.get("noi_cents") is not None})
    c["noi_month"], c["noi"] = None, []
    if noi_months:  # the latest month with recorded operating expenses
        nm = noi_months[-1]
        with_noi = sorted((r for r in props if r["month"] == nm and r.get("noi_cents") is not None),
                          key=lambda r: (r["label"], r["group"]))
        c["noi_month"] = nm.strftime("%B %Y")
        c["noi"] = [_row(ev, sources, r, NOI_FIELDS) for r in with_noi]
        c["charts"].append(charts.data_uri(charts.bars(
            f"NOI by property, {nm:%b %Y} ($)", [r["label"] for r in with_noi],
            [int(r["noi_cents"]) / 100 for r in with_noi], horizontal=True, zero_line=True,
            highlight=[int(r["noi_cents"]) < 0 for r in with_noi])))
    c["trend"] = []
    for r in trend:
        ref = record(ev, sources, MONTHLY, r, "group", "month")
        buckets = loads(r.get("delinquency_buckets"), {})
        bref = record_nested(ev, sources, MONTHLY, "delinquency_buckets", {"group": r["group"], "month": r["month"]},
                             buckets)
        c["trend"].append({
            "month": _label(r["month"]),
            "physical": ev.fig(ref, "physical_occupancy", "fraction_pct", "physical occupancy")
            if r.get("physical_occupancy") is not None else "—",
            "economic": ev.fig(ref, "economic_occupancy", "fraction_pct", "economic occupancy")
            if r.get("economic_occupancy") is not None else "—",
            "collections": ev.fig(ref, "collections_rate", "fraction_pct", "collections rate")
            if r.get("collections_rate") is not None else "—",
            "delinquent": ev.fig(ref, "delinquent_cents", "cents", "delinquent"),
            "buckets": [ev.fig(bref, b, "cents", f"delinquent {b}") if buckets.get(b) else "—" for b in BUCKETS],
            "noi": (ev.fig(ref, "noi_cents", "cents", "NOI") if r.get("noi_cents") is not None
                    else "no expenses recorded"),
        })
    c["buckets"] = BUCKETS
    exp = sorted(sources.rows(EXPIRATIONS), key=lambda e: (e["month"], e["property_id"]))
    by_month: dict = defaultdict(lambda: [0, 0, []])
    for e in exp:
        ref = record(ev, sources, EXPIRATIONS, e, "property_id", "month")
        agg = by_month[e["month"]]
        agg[0] += int(e["leases"])
        agg[1] += int(e["monthly_rent_cents"])
        agg[2].append(ref)
    c["expirations"] = [{"month": m.strftime("%B %Y"), "leases": agg[0], "rent": fmt.cents(agg[1])}
                        for m, agg in sorted(by_month.items())]
    if by_month:
        c["charts"].append(charts.data_uri(charts.bars(
            "Lease expirations, next 12 months", [_label(m) for m in sorted(by_month)],
            [by_month[m][0] for m in sorted(by_month)], rotate=45)))
    return rep


def build_all(sources: SpecialtySources, period: Period, property_id: str | None = None) -> list[Report]:
    rep = build(sources, period)
    return [rep] if rep else []
