"""Assets: the specialised products of one org — student housing, commercial, HOA, asset management.

Each product is one evaluation (`rm_pipelines.flows.specialties`) that materialises a few assets per org
partition (`["student_housing", …]`, `["commercial", …]`, `["hoa", …]`, `["asset_management", …]`), stored in
the `specialties` schema, downstream of the EstateCore tables. Metadata answers each asset's question first;
asset checks say where a figure cannot be trusted (a CAM pool without a denominator, a bed without a lease
term, an HOA without a rule pack, spaces without a market rent). The job `specialties` runs all four.
"""

from collections import Counter
from datetime import date

import dagster as dg

from .. import clock
from ..flows import specialties as flow
from ..specialties.money import fmt
from ..warehouse import specialties_store as store
from ..warehouse.read import preview_markdown
from .partitions import org_partitions
from .resources import RentManagerResource, WarehouseResource

_EC = lambda *names: [dg.AssetKey(["estatecore", n]) for n in names]  # noqa: E731

# product → {asset: (description, specialties tables)}
ASSETS: dict[str, dict[str, tuple[str, tuple[str, ...]]]] = {
    "student_housing": {
        "beds": ("By-the-bed occupancy on the day: every bed, its resident, term, installment and own balance.",
                 ("student_beds",)),
        "prelease": ("Pre-lease pace for the next academic year against the prior year on the same day.",
                     ("student_prelease",)),
        "guarantors": ("Guarantor coverage per resident: income ≥ 3 × the installment, or prepaid.",
                       ("student_guarantors",)),
        "roommates": ("Next-term roommate matching: hard filters, behavioural score, mutual requests, "
                      "maximum-weight matching.", ("student_matches",)),
        "applications": ("Student applications with normalised university names.", ("student_applications",)),
        "installments": ("Installment schedules of current and next terms: the term's contract rent in equal "
                         "installments, not prorated.", ("student_installments",)),
    },
    "commercial": {
        "cam_reconciliation": ("CAM reconciliation per tenant for the last complete year: share, caps, admin fee, "
                               "estimates billed and the true-up invoice or credit.", ("cam_reconciliations",)),
        "percentage_rent": ("Percentage rent per retail lease for its last complete lease year.", ("percentage_rent",)),
        "ti_allowances": ("Tenant improvement allowances: granted, drawn, remaining, amortisation.",
                          ("ti_allowances",)),
    },
    "hoa": {
        "assessments": ("HOA assessments per lot: regular (per the declaration's allocation) and special, balance.",
                        ("hoa_assessments", "hoa_budget_checks")),
        "delinquency": ("Delinquency aging, late-charge and interest limits and each account's escalation stage.",
                        ("hoa_delinquency",)),
        "violations": ("Every open violation with its next required step and date (cure, hearing notice, hearing, "
                       "decision, fine).", ("hoa_violation_steps",)),
        "board": ("Board and committee roster with terms.", ("hoa_board",)),
    },
    "asset_management": {
        "monthly_performance": ("Monthly performance per property, owner, property type and portfolio.",
                                ("am_monthly",)),
        "lease_expirations": ("Lease expirations by month for the next 12 months.", ("am_lease_expirations",)),
    },
}
DEPS: dict[str, list[dg.AssetKey]] = {
    "student_housing": _EC("properties", "units", "residents", "household_members", "leases", "lease_terms",
                           "charges", "payments", "credits", "recurring_charges", "udf_values")
    + [dg.AssetKey(["compliance", "violations"])],
    "commercial": _EC("properties", "units", "residents", "leases", "recurring_charges", "cam_setups",
                      "retail_sales", "charges", "udf_values"),
    "hoa": _EC("properties", "units", "residents", "leases", "charges", "payment_allocations", "recurring_charges",
               "hoa_violations", "hoa_boards", "hoa_board_members", "udf_values"),
    "asset_management": _EC("properties", "units", "leases", "lease_terms", "charges", "payment_allocations",
                            "credits", "recurring_charges", "market_rents", "work_orders", "ownerships", "udf_values"),
}
CHECKS: dict[str, tuple[str, str, str]] = {  # check → (product, asset, description)
    "beds_have_lease_terms": ("student_housing", "beds", "Every occupied bed has a lease term covering the day."),
    "cam_pools_have_a_denominator": ("commercial", "cam_reconciliation",
                                     "Every property with a CAM pool has rentable area to share it by."),
    "cam_reconciliations_determined": ("commercial", "cam_reconciliation",
                                       "Every commercial lease with CAM terms could be reconciled."),
    "hoa_rule_pack_known": ("hoa", "delinquency", "Every association has a rule pack for late charges, interest "
                                                  "and escalation."),
    "spaces_have_market_rent": ("asset_management", "monthly_performance",
                                "Every rentable space has a market rent (else gross potential rent is understated)."),
}


class SpecialtiesConfig(dg.Config):
    as_of: str | None = None
    """Evaluation date (YYYY-MM-DD); default: today in the org's first location's time zone."""


def _key(product: str, asset: str) -> dg.AssetKey:
    return dg.AssetKey([product, asset])


def _schema(table: str) -> dg.TableSchema:
    return dg.TableSchema(columns=[dg.TableColumn(c.name, str(c.type.compile()) if c.name != "id" else "BIGINT",
                                                  description=c.comment or "")
                                   for c in store.TABLES[table].columns])


def _spec(product: str, asset: str) -> dg.AssetSpec:
    description, tables = ASSETS[product][asset]
    return dg.AssetSpec(key=_key(product, asset), description=description, group_name=product, kinds={"sql"},
                        deps=DEPS[product], partitions_def=org_partitions,
                        metadata={"dagster/table_name": ", ".join(f"specialties.{t}" for t in tables),
                                  "dagster/column_schema": _schema(tables[0])})


def _as_of(config: SpecialtiesConfig, timezone: str) -> date:
    if config.as_of:
        try:
            return date.fromisoformat(config.as_of)
        except ValueError:
            raise dg.Failure(f"config as_of: {config.as_of!r} is not a date (YYYY-MM-DD)") from None
    return clock.today(timezone)


def bars(counts: dict[str, int], width: int = 30, money: bool = False) -> str:
    """A small markdown bar chart (monospace) of labelled amounts."""
    top = max(counts.values(), default=0) or 1
    lines = [f"{k:<12} {'█' * max(0, round(v * width / top)):<{width}} {fmt(v) if money else v}"
             for k, v in counts.items()]
    return "```\n" + "\n".join(lines) + "\n```"


def _check(name: str, passed: bool, summary: str, failing: list, severity=dg.AssetCheckSeverity.WARN):  # noqa: ANN001, ANN202
    product, asset, _d = CHECKS[name]
    return dg.AssetCheckResult(check_name=name, asset_key=_key(product, asset), passed=passed, severity=severity,
                               description=summary, metadata={"failing": len(failing),
                                                              "failing_items": dg.MetadataValue.json(failing[:50])})


def _student(v) -> tuple[dict[str, dict], list]:  # noqa: ANN001
    occupied = [b for b in v.beds if b.status != "vacant"]
    no_term = [f"{b.unit_name}-{b.bed} {b.resident_name}" for b in v.beds_without_term]
    cover = Counter(g.status for g in v.guarantors)
    paired = [m for m in v.matches if m.resident_b]
    meta = {
        "beds": {"dagster/row_count": len(v.beds), "beds_occupied": len(occupied),
                 "bed_occupancy_pct": round(100 * len(occupied) / len(v.beds), 1) if v.beds else 0.0,
                 "beds_without_lease_term": len(no_term),
                 "preview": dg.MetadataValue.md(preview_markdown([
                     {"unit": b.unit_name, "bed": b.bed, "resident": b.resident_name or "", "term": b.term or "",
                      "installment": fmt(b.installment_cents), "balance": fmt(b.balance_cents), "status": b.status}
                     for b in v.beds[:30]]))},
        "prelease": {"dagster/row_count": len(v.pace), "pace": dg.MetadataValue.md(preview_markdown([
            {"property": v.property_names.get(p.property_id, p.property_id), "term": f"{p.term_year}-{p.term_year + 1}", "beds": p.beds,
             "leased": p.leased, "% leased": p.pct_leased, "last year": p.prior_year_leased,
             "% last year": p.prior_pct_leased, "change (beds)": p.change_beds} for p in v.pace]))},
        "guarantors": {"dagster/row_count": len(v.guarantors), "covered": cover.get("covered", 0),
                       "prepaid": cover.get("prepaid", 0), "insufficient": cover.get("insufficient", 0),
                       "missing": cover.get("missing", 0), "undetermined": cover.get("undetermined", 0),
                       "to_follow_up": dg.MetadataValue.md(preview_markdown([
                           {"resident": g.resident_name, "unit": g.unit_name, "bed": g.bed or "",
                            "installment": fmt(g.installment_cents), "needs monthly": fmt(g.required_monthly_income_cents),
                            "status": g.status, "why": g.reason}
                           for g in v.guarantors if g.status in ("insufficient", "missing", "undetermined")][:50]))},
        "roommates": {"dagster/row_count": len(v.matches), "pairs": len(paired),
                      "unmatched": sum(1 for m in v.matches if not m.resident_b),
                      "matches": dg.MetadataValue.md(preview_markdown([
                          {"resident": m.name_a, "roommate": m.name_b or "—", "score": m.score or "",
                           "basis": m.basis, "why unmatched": m.reason} for m in v.matches[:50]]))},
        "applications": {"dagster/row_count": len(v.applications), "universities": dg.MetadataValue.md(
            bars(dict(list(v.universities.items())[:12]))),
            "lihtc_student_findings": dg.MetadataValue.md(preview_markdown([
                {"property": f.property, "unit": f.unit, "status": f.status, "detected": f.detected_on,
                 "detail": f.detail} for f in v.lihtc_findings]) if v.lihtc_findings else
                "_no open full-time-student findings in LIHTC units (decided by the compliance engine)_")},
        "installments": {"dagster/row_count": len(v.installments),
                         "residents": len({i.resident_id for i in v.installments}),
                         "contract_rent_total": fmt(sum(i.amount_cents for i in v.installments)),
                         "preview": dg.MetadataValue.md(preview_markdown([
                             {"resident": i.resident_name, "term": f"{i.term_start} – {i.term_end}", "#": i.number,
                              "due": i.due, "installment": fmt(i.amount_cents), "contract": fmt(i.contract_cents)}
                             for i in v.installments[:24]]))},
    }
    checks = [_check("beds_have_lease_terms", not no_term, f"{len(no_term)} occupied bed(s) without a lease term",
                     no_term)]
    return meta, checks


def _commercial(v) -> tuple[dict[str, dict], list]:  # noqa: ANN001
    done = [r for r in v.cam if r.determined]
    invoices = sum(r.true_up_cents for r in done if r.true_up_cents > 0)
    credits = -sum(r.true_up_cents for r in done if r.true_up_cents < 0)
    open_pct = [p for p in v.percentage_rent if p.determined]
    meta = {
        "cam_reconciliation": {
            "dagster/row_count": len(v.cam), "year": v.year, "tenants_reconciled": len(done),
            "undetermined": len(v.cam) - len(done), "invoices_total": fmt(invoices), "credits_total": fmt(credits),
            "invoices_cents": invoices, "credits_cents": credits,
            "statements": dg.MetadataValue.md(preview_markdown([
                {"property": v.property_names.get(r.property_id, r.property_id), "tenant": r.tenant_name,
                 "type": r.lease_type, "share %": f"{float(r.pro_rata_share) * 100:.3f}" if r.pro_rata_share else "—",
                 "pool": fmt(r.recoverable_cents), "tenant share": fmt(r.tenant_share_cents),
                 "estimates": fmt(r.estimates_billed_cents), "true-up": fmt(r.true_up_cents), "action": r.action,
                 "why undetermined": r.reason} for r in v.cam[:60]], max_width=40))},
        "percentage_rent": {
            "dagster/row_count": len(v.percentage_rent), "determined": len(open_pct),
            "due_total": fmt(sum(p.true_up_cents for p in open_pct if p.true_up_cents > 0)),
            "statements": dg.MetadataValue.md(preview_markdown([
                {"tenant": p.tenant_name, "lease year": f"{p.period_start} – {p.period_end}",
                 "net sales": fmt(p.net_sales_cents), "breakpoint": fmt(p.breakpoint_cents),
                 "rent": fmt(p.percentage_rent_cents), "billed": fmt(p.billed_cents), "true-up": fmt(p.true_up_cents),
                 "why undetermined": p.reason} for p in v.percentage_rent[:60]]))},
        "ti_allowances": {
            "dagster/row_count": len(v.ti), "granted_total": fmt(sum(t.granted_cents for t in v.ti)),
            "remaining_total": fmt(sum(t.remaining_cents for t in v.ti)),
            "allowances": dg.MetadataValue.md(preview_markdown([
                {"tenant": t.tenant_name, "granted": fmt(t.granted_cents), "drawn": fmt(t.drawn_cents),
                 "remaining": fmt(t.remaining_cents), "monthly payment": fmt(t.monthly_payment_cents),
                 "unamortised": fmt(t.unamortized_cents)} for t in v.ti[:60]]))},
    }
    undet = [f"{r.tenant_name}: {r.reason}" for r in v.cam if not r.determined]
    no_denom = [v.property_names.get(p, p) for p in v.no_denominator]
    checks = [
        _check("cam_pools_have_a_denominator", not no_denom, f"{len(no_denom)} CAM pool(s) without rentable area",
               no_denom, dg.AssetCheckSeverity.ERROR),
        _check("cam_reconciliations_determined", not undet, f"{len(undet)} reconciliation(s) undetermined", undet),
    ]
    return meta, checks


def _hoa(v) -> tuple[dict[str, dict], list]:  # noqa: ANN001
    buckets: Counter = Counter()
    for d in v.delinquency:
        for k, c in d.buckets.items():
            buckets[k] += c
    stages = Counter(d.stage or "undetermined" for d in v.delinquency if d.balance_cents)
    over = [b for b in v.budgets if b.regular_over_limit or b.special_over_limit]
    open_steps = [s for s in v.violations if s.status == "open"]
    meta = {
        "assessments": {"dagster/row_count": len(v.assessments),
                        "regular_monthly_total": fmt(sum(a.monthly_regular_cents or 0 for a in v.assessments)),
                        "allocation_mismatches": sum(1 for a in v.assessments if a.allocation_difference_cents
                                                     and abs(a.allocation_difference_cents) >= 12),
                        "budget_limits_exceeded": len(over),
                        "budget_checks": dg.MetadataValue.md(preview_markdown([
                            {"association": v.property_names.get(b.property_id, b.property_id), "FY": b.fiscal_year,
                             "regular": fmt(b.regular_cents), "increase %": b.increase_pct,
                             "over 20 %": b.regular_over_limit, "special": fmt(b.special_cents),
                             "% of budget": b.special_pct_of_budget, "over 5 %": b.special_over_limit}
                            for b in v.budgets]))},
        "delinquency": {"dagster/row_count": len(v.delinquency), "delinquent_total": fmt(sum(buckets.values())),
                        "delinquent_cents": sum(buckets.values()),
                        "aging": dg.MetadataValue.md(bars({k: buckets.get(k, 0) for k in
                                                           ("current", "1-30", "31-60", "61-90", "91-120",
                                                            "over 120")}, money=True)),
                        "stages": dg.MetadataValue.json(dict(stages)),
                        "late_charges_over_limit": fmt(sum(d.late_charge_excess_cents or 0 for d in v.delinquency)),
                        "accounts": dg.MetadataValue.md(preview_markdown([
                            {"owner": d.owner_name, "lot": d.lot, "balance": fmt(d.balance_cents),
                             "days": d.oldest_days_past_due, "stage": d.stage or "no rule pack",
                             "late charges over limit": fmt(d.late_charge_excess_cents),
                             "interest allowed": fmt(d.interest_allowed_cents),
                             "foreclosure possible": d.foreclosure_eligible}
                            for d in sorted(v.delinquency, key=lambda d: -d.balance_cents)[:40] if d.balance_cents]))},
        "violations": {"dagster/row_count": len(v.violations), "open": len(open_steps),
                       "overdue_steps": sum(1 for s in open_steps if s.overdue),
                       "problems": sum(1 for s in v.violations if s.problem),
                       "next_steps": dg.MetadataValue.md(preview_markdown([
                           {"association": v.property_names.get(s.property_id, s.property_id), "lot": s.lot,
                            "code": s.code, "noticed": s.noticed_on, "next step": s.next_step, "by": s.next_step_on,
                            "overdue": s.overdue, "hearing": s.hearing_on, "problem": s.problem}
                           for s in sorted(v.violations, key=lambda s: (s.status != "open", s.next_step_on or date.max))
                           if s.status == "open" or s.problem][:50]))},
        "board": {"dagster/row_count": len(v.board), "expiring": sum(1 for s in v.board if s.status == "expiring"),
                  "roster": dg.MetadataValue.md(preview_markdown([
                      {"association": v.property_names.get(s.property_id, s.property_id), "body": s.body,
                       "member": s.member, "position": s.position, "term ends": s.term_end, "status": s.status}
                      for s in v.board if s.status != "expired"][:60]))},
    }
    no_pack = [v.property_names.get(p, p) for p, pack in v.packs.items() if pack is None]
    checks = [_check("hoa_rule_pack_known", not no_pack, f"{len(no_pack)} association(s) without a rule pack",
                     no_pack)]
    return meta, checks


def _assets(v) -> tuple[dict[str, dict], list]:  # noqa: ANN001
    portfolio = [m for m in v.months if m.group == "portfolio"]
    latest = portfolio[-1] if portfolio else None
    props = [m for m in v.months if ":" in m.group and not m.group.startswith(("owner:", "type:"))
             and latest is not None and m.month == latest.month]
    exp = Counter()
    for e in v.expirations:
        exp[e.month.strftime("%Y-%m")] += e.leases
    trend = {m.month.strftime("%Y-%m"): int((m.physical_occupancy or 0) * 1000) for m in portfolio}

    def pct(x) -> float:  # noqa: ANN001
        return float(x) * 100 if x is not None else 0.0

    meta = {
        "monthly_performance": {
            "dagster/row_count": len(v.months), "month": str(latest.month) if latest else "",
            "physical_occupancy_pct": round(pct(latest.physical_occupancy), 2) if latest else 0.0,
            "economic_occupancy_pct": round(pct(latest.economic_occupancy), 2) if latest else 0.0,
            "collections_rate_pct": round(pct(latest.collections_rate), 2) if latest else 0.0,
            "gross_potential_rent": fmt(latest.gross_potential_rent_cents) if latest else "",
            "delinquent": fmt(latest.delinquent_cents) if latest else "",
            "occupancy_trend_permille": dg.MetadataValue.md(bars(trend)),
            "by_property": dg.MetadataValue.md(preview_markdown([
                {"property": m.label, "spaces": m.spaces, "physical %": round(pct(m.physical_occupancy), 1),
                 "economic %": round(pct(m.economic_occupancy), 1), "GPR": fmt(m.gross_potential_rent_cents),
                 "loss to lease": fmt(m.loss_to_lease_cents), "vacancy loss": fmt(m.vacancy_loss_cents),
                 "collections %": round(pct(m.collections_rate), 1), "delinquent": fmt(m.delinquent_cents),
                 "NOI": fmt(m.noi_cents), "WOs": m.work_orders_opened} for m in props[:60]], max_width=36)),
            "rollups": dg.MetadataValue.md(preview_markdown([
                {"group": m.label, "spaces": m.spaces, "physical %": round(pct(m.physical_occupancy), 1),
                 "GPR": fmt(m.gross_potential_rent_cents), "collections %": round(pct(m.collections_rate), 1)}
                for m in v.months if latest is not None and m.month == latest.month
                and m.group.startswith(("owner:", "type:", "portfolio"))][:60], max_width=40))},
        "lease_expirations": {"dagster/row_count": len(v.expirations), "next_12_months": sum(exp.values()),
                              "by_month": dg.MetadataValue.md(bars(dict(sorted(exp.items()))))},
    }
    no_market = []
    if latest is not None:
        no_market = [m.label for m in props if m.spaces and not m.gross_potential_rent_cents]
    checks = [_check("spaces_have_market_rent", not no_market,
                     f"{len(no_market)} propert(ies) without market rents", no_market)]
    return meta, checks


SUMMARIES = {"student_housing": _student, "commercial": _commercial, "hoa": _hoa, "asset_management": _assets}


def _build(product: str) -> dg.AssetsDefinition:
    @dg.multi_asset(
        name=f"{product}_evaluation",
        specs=[_spec(product, a) for a in ASSETS[product]],
        check_specs=[dg.AssetCheckSpec(name, asset=_key(p, a), description=d)
                     for name, (p, a, d) in CHECKS.items() if p == product],
        partitions_def=org_partitions,
        pool="estatecore_writer",
        description=f"Evaluate the org's {product.replace('_', ' ')} views from its EstateCore tables and store them.",
    )
    def _asset(context: dg.AssetExecutionContext, config: SpecialtiesConfig, rentmanager: RentManagerResource,
               warehouse: WarehouseResource):
        org = rentmanager.org(context.partition_key)
        as_of = _as_of(config, org.locations[0].timezone)
        context.log.info(f"Evaluating {product} of org {org.id!r} on {as_of} from {warehouse.display_url}")
        try:
            ev = flow.evaluate(warehouse.engine, org.id, product, as_of=as_of, run_id=context.run.run_id,
                               progress=context.log.info)
        except (flow.SpecialtiesError, store.SpecialtiesStoreError) as exc:
            raise dg.Failure(str(exc)) from None
        meta, checks = SUMMARIES[product](ev.view)
        by_asset: dict[str, list] = {}
        for c in checks:
            by_asset.setdefault(c.asset_key.path[-1], []).append(c)
        for asset in ASSETS[product]:
            md = {"as_of": as_of.isoformat(), "data_issues": len(ev.view.issues), **meta[asset]}
            yield dg.MaterializeResult(asset_key=_key(product, asset), metadata=md,
                                       check_results=by_asset.get(asset, []))

    return _asset


student_housing_evaluation = _build("student_housing")
commercial_evaluation = _build("commercial")
hoa_evaluation = _build("hoa")
asset_management_evaluation = _build("asset_management")

specialties_job = dg.define_asset_job(
    name="specialties",
    selection=dg.AssetSelection.key_prefixes(*([p] for p in store.DOMAINS)),
    description="Evaluate the org's student housing, commercial, HOA and asset-management views from its "
                "EstateCore tables (run after the sync).",
    tags={"rm/job": "specialties"},
)
