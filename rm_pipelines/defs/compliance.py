"""Assets: affordable-housing compliance of one org, evaluated from its EstateCore tables.

One evaluation computes five assets (`["compliance", …]`, per org partition), stored in the `compliance`
schema: household_certifications → unit_status → program_status → violations → status. Findings are a
ledger reconciled across runs (never deleted). Asset checks say whether the answer can be trusted:
designations present, occupied restricted units certified (or flagged), HUD limits available.
"""

from collections import Counter
from datetime import date

import dagster as dg

from .. import clock
from ..compliance.answer import (
    STATUS_LABELS,
    compliance_answer,
    count_noun,
    data_issue_groups,
)
from ..compliance.checks import CheckOutcome
from ..compliance.violations import FORM_8823_LINES
from ..flows.evaluate import OrgEvaluation, evaluate_org
from ..settings import get_settings
from ..warehouse import compliance_store as store
from ..warehouse.read import preview_markdown
from .automation import with_policies
from .partitions import org_partitions
from .resources import RentManagerResource, WarehouseResource

_EC = lambda *names: [dg.AssetKey(["estatecore", n]) for n in names]  # noqa: E731
_C = lambda name: dg.AssetKey(["compliance", name])  # noqa: E731

ASSETS: dict[str, tuple[str, list[dg.AssetKey], list[str]]] = {
    "household_certifications": (
        "Move-in, annual and interim certifications with household income (per member, assets, imputed income), "
        "student status, limit tests, and each household's next recertification with its 120/90/60/30-day or "
        "overdue bucket.",
        _EC("residents", "household_members", "leases", "udf_values", "units"),
        ["household_certifications", "household_status"]),
    "unit_status": (
        "Per unit for the month: layered programs, designation, household size and income, % AMI, applicable "
        "limit, max gross rent vs gross rent, over-income (140 %/170 %), next-available-unit hold, student status.",
        [_C("household_certifications"), *_EC("properties", "buildings", "units", "recurring_charges",
                                              "charge_types", "resident_subsidies")],
        ["unit_status"]),
    "program_status": (
        "Per property/building and program: set-aside, income averaging, applicable fraction, Low HOME, bond "
        "Form 8703 figures, Section 8 TTP/HAP and RD 515 contributions per assisted household.",
        [_C("unit_status"), *_EC("properties", "buildings")],
        ["program_status", "assisted_households"]),
    "violations": (
        "The findings ledger: one row per finding with its Form 8823 category, detection date, 90-day "
        "correction deadline, corrected date and status. Nothing is deleted.",
        [_C("household_certifications"), _C("unit_status"), _C("program_status")],
        ["violations"]),
    "status": (
        "Are we in compliance? Overall and per program: compliant, not compliant, or undetermined (missing data "
        "left part of it undecided), with counts, the worst open findings and the data issues to resolve.",
        [_C("violations"), _C("program_status")],
        ["overall_status", "data_issues"]),
}

CHECK_ASSET = {"lihtc_designations": "unit_status", "restricted_units_certified": "household_certifications",
               "limits_available": "program_status"}
CHECK_DESCRIPTIONS = {
    "lihtc_designations": "Every LIHTC unit has an income designation (explicit under income averaging).",
    "restricted_units_certified": "Every occupied restricted unit has a current certification or an open finding.",
    "limits_available": "HUD limits exist for every property's area and the evaluation date, are not stale "
                        "and include the national non-metro table where a rural floor applies (income limits: "
                        "ERROR when missing or unusable; rent-only tables and gross-rent floors: WARN).",
}


class ComplianceConfig(dg.Config):
    as_of: str | None = None
    """Evaluation date (YYYY-MM-DD); default: today in the org's first location's time zone. Not before the
    org's latest stored evaluation (the findings ledger only moves forward)."""


def _column_schema(table: str) -> dg.TableSchema:
    t = store.SNAPSHOTS.get(table, store.violations)
    return dg.TableSchema(columns=[
        dg.TableColumn(c.name, "ENCRYPTED JSON" if c.name == store.AMOUNTS_COLUMN else
                       "BIGINT" if c.name == "id" else str(c.type.compile()),
                       description=c.comment or "", constraints=dg.TableColumnConstraints(nullable=bool(c.nullable)))
        for c in t.columns
    ])


def _spec(name: str) -> dg.AssetSpec:
    description, deps, tables = ASSETS[name]
    metadata = {"dagster/table_name": ", ".join(f"compliance.{t}" for t in tables)}
    if name != "status":  # the status page leads with the answer, not with a table layout
        metadata["dagster/column_schema"] = _column_schema(tables[0])
    return with_policies(dg.AssetSpec(
        key=_C(name), description=description, group_name="compliance", kinds={"sql"}, deps=deps,
        partitions_def=org_partitions, metadata=metadata,
    ))


def _check_result(outcome: CheckOutcome) -> dg.AssetCheckResult:
    return dg.AssetCheckResult(
        check_name=outcome.name, asset_key=_C(CHECK_ASSET[outcome.name]), passed=outcome.passed,
        severity=dg.AssetCheckSeverity.ERROR if outcome.severity == "ERROR" else dg.AssetCheckSeverity.WARN,
        description=outcome.summary(),
        metadata={"checked": outcome.checked, "failing": len(outcome.failing),
                  "failing_items": dg.MetadataValue.json(outcome.failing[:100])},
    )


def _as_of(config: ComplianceConfig, timezone: str) -> date:
    if config.as_of:
        try:
            return date.fromisoformat(config.as_of)
        except ValueError:
            raise dg.Failure(f"config as_of: {config.as_of!r} is not a date (YYYY-MM-DD)") from None
    return clock.today(timezone)


def _findings_markdown(evaluation: OrgEvaluation, limit: int = 50) -> str:
    rows = []
    first = sorted(evaluation.result.findings, key=lambda f: (f.status == "corrected", f.severity, f.code))[:limit]
    for f in first:
        d = evaluation.inputs.describe(f)
        rows.append({"status": f.status, "8823": d["form_8823_line"] or "", "code": f.code, "program": f.program,
                     "property": d["property"], "unit": d["unit"] or "", "detected": f.detected_on,
                     "deadline": f.correction_deadline, "corrected": f.corrected_on or "", "detail": f.detail})
    return preview_markdown(rows, max_width=60)


PROGRAM_NAMES = {"all": "all programs", "lihtc": "LIHTC", "bond": "tax-exempt bond", "home": "HOME",
                 "section8": "Section 8", "usda515": "USDA RD 515", "state": "state programs"}
HEADLINES = {"compliant": "In compliance", "not compliant": "NOT in compliance", "undetermined": "Undetermined"}


def _status_markdown(overall: list) -> str:
    rows = [{"program": o.program, "compliant": STATUS_LABELS[o.status], "properties": o.properties,
             "units": o.units, "households": o.households, "low-income units": o.low_income_units,
             "undetermined properties": o.undetermined_properties, "undetermined units": o.undetermined_units,
             "open": o.open_findings, "past due": o.past_due_findings, "by 8823 line": o.open_by_8823_line or "",
             "worst": o.worst_findings or ""} for o in overall]
    return preview_markdown(rows, max_width=80)


def _cell(text: str) -> str:
    return str(text).replace("|", "/").replace("\n", " ")


def _summary_markdown(ev: OrgEvaluation, org_name: str, as_of: date, answer: str, status: str) -> str:
    """The answer first: the headline and answer line, each program's status with its counts, the worst open
    findings and the data issues to resolve — properties and units by their Rent Manager names."""
    r, inputs = ev.result, ev.inputs
    lines = [f"### {HEADLINES[status]} — {org_name}, {as_of}", "", answer, "",
             "| program | compliant? | properties | units | households | open findings | undetermined |",
             "|---|---|---:|---:|---:|---:|---|"]
    for o in r.overall:
        undetermined = (f"{count_noun(o.undetermined_properties, 'property')}, {count_noun(o.undetermined_units, 'unit')}"
                        if o.undetermined_properties else "")
        lines.append(f"| {PROGRAM_NAMES.get(o.program, o.program)} | {STATUS_LABELS[o.status]} | {o.properties} | "
                     f"{o.units} | {o.households} | {o.open_findings} | {undetermined} |")
    open_f = sorted((f for f in r.findings if f.status != "corrected"),
                    key=lambda f: (f.severity, f.occurred_on or f.detected_on, f.key))
    if open_f:
        lines += ["", "**Worst open findings**", ""]
        for f in open_f[:5]:
            d = inputs.describe(f)
            where = f"{d['property_name']} ({d['property']})" + (f" unit {d['unit']}" if d["unit"] else "")
            lines.append(f"- {d['form_8823_line'] or f.program} {f.code} — {_cell(where)}: {_cell(f.detail)} "
                         f"(correct by {f.correction_deadline})")
        if len(open_f) > 5:
            lines.append(f"- … {len(open_f) - 5} more in `compliance/violations`")
    if r.data_issues:
        groups = data_issue_groups(i.as_row() for i in r.data_issues)
        lines += ["", f"**Data issues: {len(r.data_issues)}** (missing reference data or inputs — never findings)", ""]
        lines += [f"- {_cell(where)}: {_cell(what)}" + (f" ({n}×)" if n > 1 else "") for where, what, n in groups[:5]]
        if len(groups) > 5:
            lines.append(f"- … {len(groups) - 5} more kinds in `compliance.data_issues`")
    return "\n".join(lines)


def _results(ev: OrgEvaluation, as_of: date, org_name: str = "") -> dict[str, dict]:
    r = ev.result
    due = Counter(h.due_bucket for h in r.households)
    units = r.units
    open_f = [f for f in r.findings if f.status != "corrected"]
    by_line = Counter(f.form_8823_line or f.code for f in open_f)
    overall = next((o for o in r.overall if o.program == "all"), None)
    status = overall.status if overall else ("not compliant" if open_f else "compliant")
    answer = overall.answer if overall else compliance_answer(len(open_f))
    cert_preview = store.masked("household_certifications", [c.as_row() for c in r.certifications[:10]])
    unit_preview = store.masked("unit_status", [u.as_row() for u in units[:10]])
    return {
        "household_certifications": {
            "dagster/row_count": len(r.certifications), "households": len(r.households),
            "recertification_buckets": dg.MetadataValue.json(dict(sorted(due.items()))),
            "overdue": due.get("overdue", 0),
            "preview": dg.MetadataValue.md(preview_markdown(cert_preview)),
        },
        "unit_status": {
            "dagster/row_count": len(units), "month": as_of.replace(day=1).isoformat(),
            "occupied": sum(1 for u in units if u.occupied),
            "restricted": sum(1 for u in units if u.programs),
            "low_income_units": sum(1 for u in units if u.low_income_unit),
            "rent_over_limit": sum(1 for u in units if u.rent_compliant is False),
            "over_income": sum(1 for u in units if u.over_income),
            "preview": dg.MetadataValue.md(preview_markdown(unit_preview)),
        },
        "program_status": {
            "dagster/row_count": len(r.programs), "assisted_households": len(r.assisted),
            "tests_failed": sum(1 for p in r.programs if p.test_met is False),
            "tests_undetermined": sum(1 for p in r.programs if p.test_met is None),
            "preview": dg.MetadataValue.md(preview_markdown(
                [{k: v for k, v in p.as_row().items() if v is not None and k != "org_id"} for p in r.programs[:20]])),
        },
        "violations": {
            "dagster/row_count": len(r.findings), "open": sum(1 for f in open_f if f.status == "open"),
            "past_due": sum(1 for f in open_f if f.status == "past-due"),
            "corrected": sum(1 for f in r.findings if f.status == "corrected"),
            "new_this_run": ev.stored.new_findings, "corrected_this_run": ev.stored.corrected_findings,
            "open_by_8823_line": dg.MetadataValue.json(
                {k: {"count": n, "category": FORM_8823_LINES.get(k, "")} for k, n in sorted(by_line.items())}),
            "findings": dg.MetadataValue.md(_findings_markdown(ev)),
        },
        "status": {  # the answer first
            "summary": dg.MetadataValue.md(_summary_markdown(ev, org_name or ev.stored.org_id, as_of, answer, status)),
            "answer": answer, "status": status, "compliant": status == "compliant", "as_of": as_of.isoformat(),
            "open_findings": len(open_f),
            "undetermined_properties": overall.undetermined_properties if overall else 0,
            "undetermined_units": overall.undetermined_units if overall else 0,
            "data_issues": len(r.data_issues),
            "properties_incomplete": len(ev.incomplete),  # rows of theirs wait in quarantine: undetermined
            "programs": dg.MetadataValue.md(_status_markdown(r.overall)),
            "dagster/row_count": len(r.overall),
        },
    }


@dg.multi_asset(
    name="compliance_evaluation",
    specs=[_spec(n) for n in ASSETS],
    check_specs=[dg.AssetCheckSpec(name, asset=_C(asset), description=CHECK_DESCRIPTIONS[name])
                 for name, asset in CHECK_ASSET.items()],
    partitions_def=org_partitions,
    pool="estatecore_writer",
    description="Evaluate the org's affordable-housing compliance from its EstateCore tables and store it.",
)
def compliance_evaluation(
    context: dg.AssetExecutionContext,
    config: ComplianceConfig,
    rentmanager: RentManagerResource,
    warehouse: WarehouseResource,
):
    org = rentmanager.org(context.partition_key)
    as_of = _as_of(config, org.locations[0].timezone)
    context.log.info(f"Evaluating compliance of org {org.id!r} on {as_of} from {warehouse.display_url}")
    try:
        ev = evaluate_org(warehouse.engine, org, as_of=as_of, run_id=context.run.run_id,
                                data_dir=get_settings().data_dir)
    except store.ComplianceStoreError as exc:
        raise dg.Failure(str(exc)) from None
    context.log.info(
        f"{org.id}: {len(ev.result.units)} units, {len(ev.result.households)} households, "
        f"{ev.stored.open_findings} open findings ({ev.stored.new_findings} new, "
        f"{ev.stored.corrected_findings} corrected), {len(ev.result.data_issues)} data issues")
    metadata = _results(ev, as_of, org.name)
    context.log.info(f"{org.id} on {as_of}: {metadata['status']['answer']}")
    checks_by_asset: dict[str, list[dg.AssetCheckResult]] = {}
    for outcome in ev.checks:
        checks_by_asset.setdefault(CHECK_ASSET[outcome.name], []).append(_check_result(outcome))
    for name in ASSETS:
        yield dg.MaterializeResult(asset_key=_C(name), metadata=metadata[name],
                                   check_results=checks_by_asset.get(name, []))
