"""Asset: the health of each org's integration, judged from what the pipeline recorded (flows/health.py)."""


import dagster as dg

from ..flows.health import org_health
from ..health import HealthVerdict
from .partitions import org_partitions
from .resources import RentManagerResource, WarehouseResource

NUMERIC = ("success_rate_30d", "uptime_30d", "max_entity_lag_minutes", "throttle_rate_30d", "retry_rate_30d",
           "dq_score", "quarantined_open", "webhook_backlog", "outbox_pending", "open_conflicts",
           "compliance_age_hours", "runs_30d")


def _summary(org_id: str, verdict: HealthVerdict) -> str:
    lines = [f"**{org_id}: {verdict.status.upper()}**", ""]
    if verdict.issues:
        lines += ["| severity | issue | what to do |", "|---|---|---|"]
        lines += [f"| {i.severity} | {i.what} | {i.recommendation} |" for i in verdict.issues]
    else:
        lines.append("Every figure is within its bounds (rules: `rm_pipelines/health.py`).")
    return "\n".join(lines)


@dg.asset(
    key=["ops", "integration_health"],
    group_name="operations",
    partitions_def=org_partitions,
    kinds={"sql"},
    automation_condition=dg.AutomationCondition.on_cron("*/30 * * * *"),
    description="Healthy, degraded or failing — from the org's last 30 days of syncs, freshness per entity, "
                "request error/429/retry rates, data-quality score, quarantine, webhook and write-back backlogs "
                "and the age of the last compliance evaluation, with what to do about each issue.",
)
def integration_health(context: dg.AssetExecutionContext, rentmanager: RentManagerResource,
                       warehouse: WarehouseResource) -> dg.MaterializeResult:
    org = rentmanager.org(context.partition_key)
    verdict = org_health(warehouse.engine, org)
    context.log.info(f"org {org.id!r}: {verdict.summary}")
    metadata: dict[str, dg.RawMetadataValue] = {
        "status": verdict.status,
        "summary": dg.MetadataValue.md(_summary(org.id, verdict)),
        "issues": len(verdict.issues),
    }
    for name in NUMERIC:  # numbers become plots across materializations in the asset's page
        value = verdict.figures.get(name)
        if value is not None:
            metadata[name] = dg.MetadataValue.float(float(value)) if isinstance(value, float) else value
    for name in ("last_success", "last_full_success", "last_incremental_success"):
        metadata[name] = verdict.figures.get(name) or "never"
    return dg.MaterializeResult(metadata=metadata)
