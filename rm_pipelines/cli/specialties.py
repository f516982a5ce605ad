"""``rm-pipelines student|commercial|hoa|assets VIEW --org ID``: print the specialised products' main views.

Views come from the `specialties` schema (the latest stored evaluation, written by the `specialties` job);
``--refresh`` evaluates the org from its EstateCore tables first (and stores it). Amounts print as dollars;
nothing sensitive is printed (guarantor incomes are never stored, only whether they cover the installment).
"""

from __future__ import annotations

import argparse
import sys
from datetime import date
from typing import Any

from ..specialties.money import fmt

# command → (product, {view: (table, [(column, heading)], help)})
VIEWS: dict[str, tuple[str, dict[str, tuple[str, list[tuple[str, str]], str]]]] = {
    "student": ("student_housing", {
        "beds": ("student_beds", [("unit_name", "unit"), ("bed", "bed"), ("resident_name", "resident"),
                                  ("term", "term"), ("installment_cents", "installment"),
                                  ("balance_cents", "balance"), ("status", "status")],
                 "by-the-bed occupancy with each bed's installment and own balance"),
        "prelease": ("student_prelease", [("property_id", "property"), ("term_year", "term"), ("beds", "beds"),
                                          ("leased", "leased"), ("pct_leased", "%"), ("prior_year_leased", "last yr"),
                                          ("prior_pct_leased", "last yr %"), ("change_beds", "change")],
                     "pre-lease pace for the next academic year vs the prior year at the same date"),
        "guarantors": ("student_guarantors", [("resident_name", "resident"), ("unit_name", "unit"), ("bed", "bed"),
                                              ("installment_cents", "installment"),
                                              ("required_monthly_income_cents", "needs/month"), ("status", "status"),
                                              ("reason", "why")],
                       "guarantor coverage per resident (income ≥ 3 × installment, or prepaid)"),
        "roommates": ("student_matches", [("name_a", "resident"), ("name_b", "roommate"), ("score", "score"),
                                          ("basis", "basis"), ("reason", "why unmatched")],
                      "next-term roommate matching"),
        "applications": ("student_applications", [("resident_name", "resident"), ("university", "university"),
                                                  ("term", "term"), ("term_start", "starts"), ("signed_on", "signed"),
                                                  ("unit_type", "unit type"), ("status", "status")],
                         "student applications with normalised university names"),
        "installments": ("student_installments", [("resident_name", "resident"), ("term_start", "term"),
                                                  ("contract_cents", "contract rent"), ("number", "#"), ("due", "due"),
                                                  ("amount_cents", "installment")],
                         "installment schedules of current and next terms (equal, not prorated)"),
    }),
    "commercial": ("commercial", {
        "cam": ("cam_reconciliations", [("tenant_name", "tenant"), ("year", "year"), ("lease_type", "type"),
                                        ("pro_rata_share", "share"), ("recoverable_cents", "pool"),
                                        ("base_cents", "base/stop"), ("tenant_share_cents", "tenant share"),
                                        ("estimates_billed_cents", "estimates"), ("true_up_cents", "true-up"),
                                        ("reason", "why undetermined")],
                "CAM charges for a property and year: each tenant's share, estimates and true-up"),
        "percentage-rent": ("percentage_rent", [("tenant_name", "tenant"), ("period_start", "from"),
                                                ("period_end", "to"), ("net_sales_cents", "net sales"),
                                                ("breakpoint_cents", "breakpoint"),
                                                ("percentage_rent_cents", "rent"), ("billed_cents", "billed"),
                                                ("true_up_cents", "true-up"), ("reason", "why undetermined")],
                            "percentage rent for each retail lease's last complete lease year"),
        "ti": ("ti_allowances", [("tenant_name", "tenant"), ("granted_cents", "granted"), ("drawn_cents", "drawn"),
                                 ("remaining_cents", "remaining"), ("monthly_payment_cents", "payment"),
                                 ("unamortized_cents", "unamortised")], "tenant improvement allowances"),
    }),
    "hoa": ("hoa", {
        "assessments": ("hoa_assessments", [("lot", "lot"), ("owner", "owner"), ("allocation", "allocation"),
                                            ("monthly_regular_cents", "monthly"), ("annual_share_cents", "budget share"),
                                            ("special_this_year_cents", "special"), ("balance_cents", "balance"),
                                            ("bucket", "aging")], "HOA assessments per lot"),
        "delinquency": ("hoa_delinquency", [("owner_name", "owner"), ("lot", "lot"), ("balance_cents", "balance"),
                                            ("oldest_days_past_due", "days"), ("stage", "stage"),
                                            ("late_charges_allowed_cents", "late allowed"),
                                            ("late_charge_excess_cents", "late over limit"),
                                            ("interest_allowed_cents", "interest allowed"),
                                            ("foreclosure_eligible", "foreclosure")],
                        "delinquency aging, late-charge and interest limits, escalation stage"),
        "violations": ("hoa_violation_steps", [("lot", "lot"), ("owner_name", "owner"), ("code", "code"),
                                               ("noticed_on", "noticed"), ("status", "status"),
                                               ("next_step", "next step"), ("next_step_on", "by"),
                                               ("overdue", "overdue"), ("hearing_on", "hearing"),
                                               ("problem", "problem")],
                       "violations with their next required step and date"),
        "board": ("hoa_board", [("body", "body"), ("member", "member"), ("position", "position"),
                                ("term_end", "term ends"), ("status", "status")], "board and committee roster"),
        "budgets": ("hoa_budget_checks", [("property_id", "association"), ("fiscal_year", "FY"),
                                          ("regular_cents", "regular"), ("increase_pct", "increase %"),
                                          ("regular_over_limit", "over 20 %"), ("special_cents", "special"),
                                          ("special_pct_of_budget", "% of budget"),
                                          ("special_over_limit", "over 5 %")], "budget increase limits"),
    }),
    "assets": ("asset_management", {
        "performance": ("am_monthly", [("label", "group"), ("month", "month"), ("spaces", "spaces"),
                                       ("physical_occupancy", "physical"), ("economic_occupancy", "economic"),
                                       ("gross_potential_rent_cents", "GPR"), ("loss_to_lease_cents", "loss to lease"),
                                       ("vacancy_loss_cents", "vacancy"), ("collections_rate", "collections"),
                                       ("delinquent_cents", "delinquent"), ("noi_cents", "NOI")],
                        "monthly performance per property, owner, type and portfolio"),
        "expirations": ("am_lease_expirations", [("property_id", "property"), ("month", "month"),
                                                 ("leases", "leases"), ("monthly_rent_cents", "rent")],
                        "lease expirations by month for the next 12 months"),
    }),
}


def _cell(col: str, v: Any) -> str:
    if v is None:
        return "—"
    if col.endswith("_cents"):
        return fmt(int(v))
    if isinstance(v, bool):
        return "yes" if v else "no"
    return str(v)


def print_table(out, rows: list[dict[str, Any]], columns: list[tuple[str, str]], max_width: int = 34) -> None:  # noqa: ANN001
    cells = [[_cell(c, r.get(c))[:max_width] for c, _h in columns] for r in rows]
    widths = [max([len(h)] + [len(row[i]) for row in cells]) for i, (_c, h) in enumerate(columns)]
    out.write("  ".join(h.ljust(w) for (_c, h), w in zip(columns, widths)).rstrip() + "\n")
    out.write("  ".join("-" * w for w in widths) + "\n")
    for row in cells:
        out.write("  ".join(v.ljust(w) for v, w in zip(row, widths)).rstrip() + "\n")


def _iso(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a date as YYYY-MM-DD, got {text!r}") from None


def filter_rows(rows: list[dict[str, Any]], property_names: dict[str, tuple[str, str]] | None, wanted: str | None,
                group: str | None) -> list[dict[str, Any]]:
    """Rows of one property (ShortName or name, any case) and/or one performance group."""
    if wanted and property_names is not None:
        w = wanted.upper()
        rows = [r for r in rows if w in tuple(x.upper() for x in property_names.get(r.get("property_id"), ("", "")))]
    if group:
        rows = [r for r in rows if r.get("group") == group or (group == "property" and ":" in r.get("group", "")
                                                               and not r["group"].startswith(("owner:", "type:")))]
    return rows


def run(args: argparse.Namespace) -> int:
    """`rm-pipelines student|commercial|hoa|assets VIEW`: print a stored view (evaluate first with --refresh)."""
    from .. import clock
    from ..flows import specialties as flow
    from ..orgs import load_registry
    from ..settings import get_settings
    from ..warehouse import specialties_store as store
    from ..warehouse.migrate import open_existing
    from ..warehouse.read import read_frame

    product, views = VIEWS[args.command]
    table, columns, _help = views[args.view]
    engine = open_existing(args.url or get_settings().database_url)  # creates nothing; --refresh writes views only
    try:
        if args.refresh:
            as_of = args.as_of or clock.today(load_registry(None).get(args.org).locations[0].timezone)
            flow.evaluate(engine, args.org, product, as_of=as_of, run_id="cli", progress=lambda _m: None)
        rows = store.read_rows(engine, table, args.org, args.as_of)
        if not rows and store.latest_as_of(engine, args.org, product) is None:
            print(f"no stored {product.replace('_', ' ')} evaluation for org {args.org!r}: run the `specialties` "
                  "job, or add --refresh", file=sys.stderr)
            return 1
        names = None
        if getattr(args, "property", None):
            names = {f"{r['location_id']}:{r['rm_id']}": (r["short_name"] or "", r["name"] or "") for r in read_frame(
                engine, "properties", args.org, columns=["location_id", "rm_id", "short_name", "name"]).to_dict("records")}
        rows = filter_rows(rows, names, getattr(args, "property", None), getattr(args, "group", None))
        when = rows[0]["as_of"] if rows else args.as_of
        print(f"{args.command} {args.view} — org {args.org}, as of {when}: {len(rows)} row(s)")
        print_table(sys.stdout, rows, columns)
    finally:
        engine.dispose()
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add `student`, `commercial`, `hoa` and `assets`, each with its views, to the main CLI."""
    for command, (product, views) in VIEWS.items():
        p = subparsers.add_parser(command, help=f"print the org's {product.replace('_', ' ')} views",
                                  description=f"Print the org's {product.replace('_', ' ')} views from the latest "
                                              "stored evaluation (the `specialties` job), or evaluate first with "
                                              "--refresh. Exit code 1 when nothing is stored.")
        sub = p.add_subparsers(dest="view", required=True, metavar="VIEW")
        for view, (_table, _cols, text) in views.items():
            v = sub.add_parser(view, help=text, description=text)
            v.add_argument("--org", default="demo", help="org id from the registry (default: demo)")
            v.add_argument("--as-of", type=_iso, help="evaluation date YYYY-MM-DD (default: the latest stored; with "
                                                      "--refresh, today in the org's time zone)")
            v.add_argument("--refresh", action="store_true",
                           help="evaluate from the EstateCore tables first and store the result")
            v.add_argument("--url", help="warehouse URL (default: ESTATECORE_DATABASE_URL or the SQLite file in the "
                                         "data dir)")
            if (command, view) in (("commercial", "cam"), ("commercial", "percentage-rent"), ("hoa", "assessments"),
                                   ("hoa", "delinquency"), ("hoa", "violations")):
                v.add_argument("--property", help="only this property (Rent Manager ShortName or name)")
            if (command, view) == ("assets", "performance"):
                v.add_argument("--group", default="portfolio",
                               help="portfolio (default), property, owner:<name> or type:<kind>")
            v.set_defaults(func=run, command=command)
