"""Assets: the reports of one org and period, one asset per report kind (`["reports", <kind>]`).

Monthly kinds are partitioned org × month, annual kinds org × year. Compliance kinds read the stored compliance
evaluation dated in the period (downstream of the compliance assets); the specialised products' kinds read
their product's stored evaluation (downstream of that product's assets) and render nothing for an org without
one. Metadata answers "where is it and is
it complete?": the files, pages, bytes, sha256, properties and households covered, blanks left to fill, and a
preview of the first page. Schedules: monthly reports on the 2nd for the month just ended, annual packages
in January for the prior year; a sensor renders a building's Form 8823 report when its open findings change.
"""


import hashlib
from collections import defaultdict
from datetime import date, timedelta

import dagster as dg
import orjson

from .. import clock
from ..flows.render import RenderError, render
from ..reports.catalog import KINDS, ReportKind
from ..reports.preview import first_page_png, markdown_image
from ..warehouse import compliance_store as store
from .partitions import org_partitions
from .resources import RentManagerResource, WarehouseResource

START = "2024-01-01"
_MONTHS_AHEAD, _YEARS_AHEAD = clock.periods_ahead()  # the current period follows the product's clock
month_partitions = dg.MonthlyPartitionsDefinition(start_date=START, end_offset=1 + _MONTHS_AHEAD)
year_partitions = dg.TimeWindowPartitionsDefinition(cron_schedule="0 0 1 1 *", start=START[:4], fmt="%Y",
                                                    end_offset=1 + _YEARS_AHEAD)
org_month = dg.MultiPartitionsDefinition({"org": org_partitions, "month": month_partitions})
org_year = dg.MultiPartitionsDefinition({"org": org_partitions, "year": year_partitions})
COMPLIANCE_DEPS = [dg.AssetDep(dg.AssetKey(["compliance", name]),
                               partition_mapping=dg.MultiToSingleDimensionPartitionMapping(partition_dimension_name="org"))
                   for name in ("status", "violations")]


def _deps(spec: ReportKind) -> list[dg.AssetDep]:
    if not spec.product:
        return COMPLIANCE_DEPS
    return [dg.AssetDep(dg.AssetKey([spec.product, name]),
                        partition_mapping=dg.MultiToSingleDimensionPartitionMapping(partition_dimension_name="org"))
            for name in spec.needs]


class ReportConfig(dg.Config):
    property: str | None = None
    """Only this property (Rent Manager ShortName); default: every property the kind covers."""
    bins: list[str] = []
    """Only these buildings (BINs), for per-building reports; default: all."""


def _period(context: dg.AssetExecutionContext, spec: ReportKind) -> tuple[str, str]:
    keys = context.partition_key.keys_by_dimension
    period = keys["month"][:7] if spec.cadence == "monthly" else keys["year"][:4]
    return keys["org"], period


def _metadata(result, spec: ReportKind) -> dict:
    files = result.files
    e = result.evaluation
    md: dict = {
        "period": result.period,
        "evaluation": (f"{e.source} #{e.id} of {e.as_of} (run {e.run_id})" if e is not None else
                       f"none: no stored {spec.product} evaluation for the period"),
        "documents": len(files),
        "pages": result.pages,
        "bytes": sum(f.bytes for f in files),
        "blanks_to_fill": result.blanks,
        "properties": len({f.property_id for f in files if f.property_id}),
        "households": sum(f.households for f in files),
        "path": dg.MetadataValue.path(str(files[0].path.parent)) if files else "no documents",
        "files": dg.MetadataValue.md("\n".join(
            ["| file | pages | bytes | blanks | sha256 |", "|---|---|---|---|---|"]
            + [f"| {f.path.name} | {f.pages or '-'} | {f.bytes:,} | {len(f.blanks)} | `{f.sha256[:16]}…` |" for f in files])
            if files else "_no documents for this period_"),
    }
    if files:
        md["sha256"] = files[0].sha256 if len(files) == 1 else hashlib.sha256(
            "".join(f.sha256 for f in files).encode()).hexdigest()
        first = next((f for f in files if f.media_type == "application/pdf"), None)
        if first is not None:
            md["preview"] = dg.MetadataValue.md(markdown_image(first_page_png(first.path.read_bytes()),
                                                               f"{spec.title}: page 1 of {first.path.name}"))
    return md


def _report_asset(spec: ReportKind) -> dg.AssetsDefinition:
    @dg.asset(
        key=spec.asset_key, group_name="reports", kinds={"pdf"} if spec.media == "pdf" else {"xml", "csv"},
        partitions_def=org_month if spec.cadence == "monthly" else org_year, deps=_deps(spec),
        description=f"{spec.title} ({spec.cadence}, one document per {spec.per}). {spec.description}",
        pool="reports",
    )
    def _asset(context: dg.AssetExecutionContext, config: ReportConfig, rentmanager: RentManagerResource,
               warehouse: WarehouseResource) -> dg.MaterializeResult:
        org_id, period = _period(context, spec)
        org = rentmanager.org(org_id)
        context.log.info(f"Rendering {spec.kind} of org {org_id!r} for {period} from {warehouse.display_url}")
        try:
            result = render(warehouse.engine, org.id, org.name, spec.kind, period, run_id=context.run.run_id,
                            property=config.property, bins=config.bins or None,
                            on_file=lambda f: context.log.info(f"  {f.path.name}: {f.pages or '-'} page(s), "
                                                               f"{len(f.blanks)} blank(s), {f.seconds:.2f}s"))
        except RenderError as exc:
            raise dg.Failure(str(exc)) from None
        if result.evaluation is None:
            context.log.info(f"{spec.kind} {org_id} {period}: no stored {spec.product} evaluation for the period: "
                             "no documents")
        context.log.info(f"{spec.kind} {org_id} {period}: {len(result.files)} document(s), {result.pages} page(s)")
        return dg.MaterializeResult(metadata=_metadata(result, spec))

    return _asset


report_assets = [_report_asset(spec) for spec in KINDS]
MONTHLY = [dg.AssetKey(k.asset_key) for k in KINDS if k.cadence == "monthly"]
ANNUAL = [dg.AssetKey(k.asset_key) for k in KINDS if k.cadence == "annual"]
monthly_reports_job = dg.define_asset_job("monthly_reports", selection=dg.AssetSelection.assets(*MONTHLY),
                                          description="Rent rolls, Form 8823 reports and the portfolio summary of "
                                                      "one org for one month, and the specialised products' monthly "
                                                      "reports (HOA delinquency and violation notices, student "
                                                      "pre-lease, asset-management performance).")
annual_reports_job = dg.define_asset_job("annual_reports", selection=dg.AssetSelection.assets(*ANNUAL),
                                         description="The annual packages (AOC, 8609-A, 8703, HOME, RD, tenant "
                                                     "data) of one org for one year, and the year's CAM "
                                                     "reconciliation and percentage rent statements.")


def _orgs(context) -> list[str]:
    return sorted(context.instance.get_dynamic_partitions(org_partitions.name))


@dg.schedule(job=monthly_reports_job, cron_schedule="0 6 2 * *", execution_timezone="UTC",
             default_status=dg.DefaultScheduleStatus.STOPPED,
             description="On the 2nd of each month: every org's monthly reports for the month just ended.")
def monthly_reports_schedule(context: dg.ScheduleEvaluationContext):
    month = (context.scheduled_execution_time.date().replace(day=1) - timedelta(days=1)).replace(day=1)
    for org in _orgs(context):
        yield dg.RunRequest(run_key=f"{org}-{month:%Y-%m}",
                            partition_key=dg.MultiPartitionKey({"org": org, "month": month.isoformat()}),
                            tags={"rm/org": org, "rm/reports": "monthly"})


@dg.schedule(job=annual_reports_job, cron_schedule="0 6 15 1 *", execution_timezone="UTC",
             default_status=dg.DefaultScheduleStatus.STOPPED,
             description="On January 15: every org's annual packages for the prior year.")
def annual_reports_schedule(context: dg.ScheduleEvaluationContext):
    year = context.scheduled_execution_time.year - 1
    for org in _orgs(context):
        yield dg.RunRequest(run_key=f"{org}-{year}", partition_key=dg.MultiPartitionKey({"org": org, "year": str(year)}),
                            tags={"rm/org": org, "rm/reports": "annual"})


PROJECT = "project:"


def open_findings_by_building(findings: list[dict]) -> dict[str, str]:
    """BIN (or ``project:<property>`` for a project-level finding, which is on every building's report) →
    fingerprint of its open LIHTC findings (ids and statuses)."""
    by_bin: dict[str, list[str]] = defaultdict(list)
    for f in findings:
        if f.get("program") == "lihtc" and f.get("form_8823_line") and f["status"] != "corrected":
            key = f.get("bin") or PROJECT + (f.get("property_code") or f["property_id"])
            by_bin[key].append(f"{f['finding_id']}:{f['status']}")
    return {b: hashlib.sha256("|".join(sorted(v)).encode()).hexdigest()[:16] for b, v in by_bin.items()}


@dg.sensor(minimum_interval_seconds=300, default_status=dg.DefaultSensorStatus.STOPPED,
           asset_selection=[dg.AssetKey(["reports", "form_8823"])],
           description="Renders a building's Form 8823 report when its open findings change.")
def form_8823_on_findings_change(context: dg.SensorEvaluationContext, warehouse: WarehouseResource):
    cursor = orjson.loads(context.cursor) if context.cursor else {}
    requests, new_cursor = [], {}
    for org in _orgs(context):
        as_of: date | None = store.latest_as_of(warehouse.engine, org)
        if as_of is None:
            continue
        current = open_findings_by_building(store.read_findings(warehouse.engine, org))
        seen = cursor.get(org, {})
        changed = sorted(b for b, fp in current.items() if seen.get(b) != fp)
        changed += sorted(b for b in seen if b not in current)  # every finding of a building corrected
        new_cursor[org] = current
        if changed:
            # a project-level change is on every building's report of that project: render them all
            bins = [] if any(b.startswith(PROJECT) for b in changed) else changed
            requests.append(dg.RunRequest(
                run_key=f"{org}-8823-{as_of}-" + hashlib.sha256(orjson.dumps(
                    [current.get(b, "") for b in changed] + changed)).hexdigest()[:12],
                partition_key=dg.MultiPartitionKey({"org": org, "month": as_of.replace(day=1).isoformat()}),
                run_config={"ops": {"reports__form_8823": {"config": {"bins": bins}}}},
                tags={"rm/org": org, "rm/reports": "form_8823", "rm/bins": ",".join(changed)[:200]}))
    if not requests:
        return dg.SkipReason(f"open findings unchanged in every building ({clock.utcnow():%Y-%m-%d %H:%M} UTC)")
    return dg.SensorResult(run_requests=requests, cursor=orjson.dumps(new_cursor).decode())


defs = dg.Definitions(assets=report_assets, jobs=[monthly_reports_job, annual_reports_job],
                      schedules=[monthly_reports_schedule, annual_reports_schedule],
                      sensors=[form_8823_on_findings_change])
