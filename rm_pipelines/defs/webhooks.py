"""Webhooks → targeted runs: the sensor that turns an org's pending inbox rows into one run, the job it launches,
and the asset that reports what the run took from the inbox and how long the changes waited."""

import json

import dagster as dg

from ..flows.inbox import claiming_runs, plan_pending, run_summary, settle
from ..rentmanager.catalog import get as catalog_get
from ..warehouse import tables as T
from .compliance import ASSETS as COMPLIANCE_ASSETS
from .partitions import org_partitions
from .resources import RentManagerResource, WarehouseResource
from .writeback import COMPLIANCE_UDFS

TRIGGER_TAG, TRIGGER = "rm/trigger", "webhooks"
INBOX_THROUGH_TAG = "rm/inbox_through"
INBOX_ASSET = dg.AssetKey(["webhooks", "inbox"])
FINISHED = {dg.DagsterRunStatus.SUCCESS, dg.DagsterRunStatus.FAILURE, dg.DagsterRunStatus.CANCELED}

rentmanager_webhook_job = dg.define_asset_job(
    name="rentmanager_webhook_sync",
    selection=dg.AssetSelection.key_prefixes(["rentmanager"], ["estatecore"], ["compliance"], ["webhooks"])
    | dg.AssetSelection.assets(COMPLIANCE_UDFS),
    description="Targeted sync of what Rent Manager webhooks announced: the records named by an org's pending "
                "inbox rows fetched by key (deletes confirmed and soft-deleted), the EstateCore tables they feed "
                "loaded, compliance evaluated. Launched by rentmanager_webhook_sensor with the subset it needs.",
    tags={"rm/job": "webhook-sync"},
)


@dg.asset(
    key=INBOX_ASSET,
    group_name="webhooks",
    kinds={"sql"},
    partitions_def=org_partitions,
    deps=[dg.AssetKey(t.asset_key) for t in T.TABLES],
    description="Rent Manager webhook deliveries (ops.webhook_inbox) synced by a targeted run: events coalesced, "
                "ids fetched, deletes applied, and the lag from receipt to loaded EstateCore tables.",
)
def webhook_inbox(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> dg.MaterializeResult:
    summary = run_summary(warehouse.engine, context.partition_key, context.run.run_id)
    lag = summary.get("lag_p95_seconds")
    context.log.info(f"org {context.partition_key!r}: {summary['events_coalesced']} webhook event(s) → "
                     f"{summary['ids_requested']} id(s) fetched, {summary['deletes_applied']} delete(s) applied"
                     + (f"; receipt → loaded p95 {lag:.1f}s" if lag is not None else ""))
    metadata: dict = {k: v for k, v in summary.items() if not isinstance(v, dict)}
    for key in ("lag_p50_seconds", "lag_p95_seconds", "lag_max_seconds"):
        if key in metadata:
            metadata[key] = dg.MetadataValue.float(float(metadata[key]))
    metadata["events_by_type"] = dg.MetadataValue.json(summary["events_by_type"])
    metadata["entities"] = dg.MetadataValue.json(summary["entities"])
    return dg.MaterializeResult(metadata=metadata)


def _selection(pending, org) -> list[dg.AssetKey]:  # noqa: ANN001
    keys = [dg.AssetKey(catalog_get(e).asset_path) for e in pending.entities]
    keys += [dg.AssetKey(T.get(t).asset_key) for t in pending.tables]
    if pending.compliance:
        keys += [dg.AssetKey(["compliance", name]) for name in COMPLIANCE_ASSETS]
        if org.writeback is not None and org.writeback.compliance_udfs is not None:
            keys.append(COMPLIANCE_UDFS)
    return [*keys, INBOX_ASSET]


def _runs(instance: dg.DagsterInstance, org_id: str) -> list[dg.DagsterRun]:
    return list(instance.get_runs(dg.RunsFilter(tags={TRIGGER_TAG: TRIGGER, "dagster/partition": org_id}), limit=20))


@dg.sensor(job=rentmanager_webhook_job, minimum_interval_seconds=30, default_status=dg.DefaultSensorStatus.RUNNING)
def rentmanager_webhook_sensor(context: dg.SensorEvaluationContext, rentmanager: RentManagerResource,
                               warehouse: WarehouseResource) -> dg.SensorResult | dg.SkipReason:
    """Per org: settles the inbox rows of targeted runs that ended (processed on success, released otherwise),
    then — unless a targeted run of the org is still queued or running — launches one run for all its pending
    deliveries. The cursor holds, per org, the inbox position and launch count of its last run."""
    engine = warehouse.engine
    cursor = json.loads(context.cursor) if context.cursor else {}
    requests, notes = [], []
    for org in rentmanager.registry().organizations:
        for run_id in claiming_runs(engine, org.id):
            run = context.instance.get_run_by_id(run_id)
            if run is None or run.status in FINISHED:
                succeeded = run is not None and run.status == dg.DagsterRunStatus.SUCCESS
                count = settle(engine, org.id, run_id, succeeded=succeeded)
                notes.append(f"{org.id}: {count} event(s) {'processed' if succeeded else 'back to pending'} "
                             f"(run {run_id[:8]})")
        if any(r.status not in FINISHED for r in _runs(context.instance, org.id)):
            notes.append(f"{org.id}: a targeted run is still going")
            continue
        pending = plan_pending(engine, org)
        if pending is None:
            continue
        state = cursor.get(org.id) or {}
        launch = int(state.get("launches", 0)) + 1
        cursor[org.id] = {"through": pending.through, "launches": launch}
        requests.append(dg.RunRequest(
            run_key=f"webhooks:{org.id}:{pending.through}:{launch}",
            partition_key=org.id,
            asset_selection=_selection(pending, org),
            run_config={"ops": {"rentmanager_extract": {"config": {"mode": "targeted",
                                                                   "inbox_through": pending.through}},
                                "estatecore_load": {"config": {"mode": "incremental"}}}},
            tags={TRIGGER_TAG: TRIGGER, INBOX_THROUGH_TAG: str(pending.through), "rm/org": org.id},
        ))
        notes.append(f"{org.id}: {len(pending.plan.events)} event(s) → {pending.plan.ids} id(s) of "
                     f"{', '.join(pending.entities)}")
    if not requests and not notes:
        return dg.SkipReason("no pending webhook deliveries")
    context.log.info("; ".join(notes))
    return dg.SensorResult(run_requests=requests, cursor=json.dumps(cursor, sort_keys=True),
                           skip_reason=None if requests else "; ".join(notes))
