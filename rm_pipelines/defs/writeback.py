"""Write-back to Rent Manager: compliance results enqueued after every evaluation, and the outbox posted by a job
that a sensor launches whenever an org has pending changes."""

import dagster as dg

from ..flows.writeback import enqueue_compliance_udfs, orgs_with_pending, outbox_counts, post_pending
from .compliance import ASSETS as COMPLIANCE_ASSETS
from .partitions import org_partitions
from .resources import RentManagerResource, WarehouseResource

COMPLIANCE_UDFS = dg.AssetKey(["writeback", "compliance_udfs"])
OUTBOX = dg.AssetKey(["writeback", "outbox"])
TRIGGER_TAG, TRIGGER = "rm/trigger", "writeback"
FINISHED = {dg.DagsterRunStatus.SUCCESS, dg.DagsterRunStatus.FAILURE, dg.DagsterRunStatus.CANCELED}


@dg.asset(
    key=COMPLIANCE_UDFS,
    group_name="writeback",
    kinds={"rentmanager"},
    partitions_def=org_partitions,
    deps=[dg.AssetKey(["compliance", name]) for name in COMPLIANCE_ASSETS],
    description="Compliance results for Rent Manager: each household's next recertification date and compliance "
                "status (tenant UDFs) and each unit's AMI designation (unit UDF), enqueued in ops.outbox where "
                "Rent Manager holds something else (writeback.compliance_udfs in the registry).",
)
def compliance_udfs(context: dg.AssetExecutionContext, rentmanager: RentManagerResource,
                    warehouse: WarehouseResource) -> dg.MaterializeResult:
    org = rentmanager.org(context.partition_key)
    if org.writeback is None or org.writeback.compliance_udfs is None:
        return dg.MaterializeResult(metadata={"enqueued": 0, "write_back": "off for this org (registry)"})
    result = enqueue_compliance_udfs(warehouse.engine, org)
    context.log.info(f"org {org.id!r}: {result.values_changed} compliance value(s) of {result.enqueued} record(s) "
                     f"to write to Rent Manager; {result.unchanged} already there")
    return dg.MaterializeResult(metadata={
        "enqueued": result.enqueued, "values_changed": result.values_changed, "unchanged": result.unchanged,
        "households": result.households, "units": result.units,
        "evaluation": result.as_of.isoformat() if result.as_of else "none",
        "households_by_status": dg.MetadataValue.json(result.by_status)})


@dg.asset(
    key=OUTBOX,
    group_name="writeback",
    kinds={"rentmanager"},
    partitions_def=org_partitions,
    pool="rm_api",
    description="Changes EstateCore writes to Rent Manager (ops.outbox), posted in batches with the record's "
                "UpdateDate/ConcurrencyID; conflicts decided by the org's per-field policy or left in ops.conflicts "
                "for `rm-pipelines conflicts resolve`; written records re-read, landed and loaded.",
)
def writeback_outbox(context: dg.AssetExecutionContext, rentmanager: RentManagerResource,
                     warehouse: WarehouseResource) -> dg.MaterializeResult:
    org = rentmanager.org(context.partition_key)
    if org.writeback is None:
        raise dg.Failure(f"org {org.id!r} has no `writeback:` section in the registry: nothing may be written")
    report = post_pending(warehouse.engine, org, rentmanager.open_client, run_id=context.run.run_id,
                          logger=context.log)
    if report.errors and report.done == 0 and report.rows:
        raise dg.Failure(description=f"write-back of org {org.id!r} wrote nothing:\n" + "\n".join(report.errors[:20]),
                         metadata={"errors": dg.MetadataValue.json(report.errors[:100])})
    summary = report.as_dict()
    metadata = {k: v for k, v in summary.items() if not isinstance(v, (dict, list))}
    metadata["requests_per_record"] = dg.MetadataValue.float(float(report.requests_per_record))
    metadata["outbox_by_status"] = dg.MetadataValue.json(outbox_counts(warehouse.engine, org.id))
    metadata["landed"] = dg.MetadataValue.json(summary["landed"])
    if report.errors:
        metadata["errors"] = dg.MetadataValue.json(report.errors[:100])
    return dg.MaterializeResult(metadata=metadata)


rentmanager_writeback_job = dg.define_asset_job(
    name="rentmanager_writeback",
    selection=dg.AssetSelection.assets(OUTBOX),
    description="Post an org's pending write-back changes to Rent Manager (launched by rentmanager_outbox_sensor).",
    tags={"rm/job": "writeback"},
)


@dg.sensor(job=rentmanager_writeback_job, minimum_interval_seconds=30, default_status=dg.DefaultSensorStatus.RUNNING)
def rentmanager_outbox_sensor(context: dg.SensorEvaluationContext, rentmanager: RentManagerResource,
                              warehouse: WarehouseResource) -> dg.SensorResult | dg.SkipReason:
    """One write-back run per org with pending changes, unless one of its write-back runs is still going."""
    orgs = {o.id: o for o in rentmanager.registry().organizations if o.writeback is not None}
    requests = []
    for org_id in orgs_with_pending(warehouse.engine):
        if org_id not in orgs:
            context.log.warning(f"org {org_id!r} has pending write-back changes but no `writeback:` section: "
                                "they are not posted")
            continue
        runs = context.instance.get_runs(dg.RunsFilter(tags={TRIGGER_TAG: TRIGGER, "dagster/partition": org_id}),
                                         limit=5)
        if any(r.status not in FINISHED for r in runs):
            continue
        requests.append(dg.RunRequest(partition_key=org_id, tags={TRIGGER_TAG: TRIGGER, "rm/org": org_id}))
    if not requests:
        return dg.SkipReason("no org with pending write-back changes (or their runs are going)")
    return dg.SensorResult(run_requests=requests)
