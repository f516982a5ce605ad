"""Schedules: per-org incremental and full syncs and the daily key scan, from each org's crons in the registry."""


import dagster as dg

from ..orgs import load_registry
from .jobs import rentmanager_sync_job


def _sync_schedule(org_id: str, cron: str, mode: str, timezone: str) -> dg.ScheduleDefinition:
    @dg.schedule(
        name=f"{org_id.replace('-', '_')}_{mode}_sync",
        cron_schedule=cron,
        execution_timezone=timezone,  # the org's cron reads in its own (first location's) time zone
        job=rentmanager_sync_job,
        default_status=dg.DefaultScheduleStatus.STOPPED,
        description=f"{mode.capitalize()} Rent Manager sync of org {org_id!r} ({cron}, {timezone}).",
    )
    def _schedule(context: dg.ScheduleEvaluationContext) -> dg.RunRequest:
        return dg.RunRequest(
            partition_key=org_id,
            run_key=f"{org_id}-{mode}-{context.scheduled_execution_time:%Y%m%dT%H%M}",
            run_config={"ops": {"rentmanager_extract": {"config": {"mode": mode}},
                                # a key scan changes deleted flags and UDF values: the incremental load carries them over
                                "estatecore_load": {"config": {"mode": "full" if mode == "full" else "incremental"}}}},
            tags={"rm/org": org_id, "rm/mode": mode},
        )

    return _schedule


@dg.definitions
def schedules() -> dg.Definitions:
    registry = load_registry()  # an invalid registry fails the code location with the offending key named
    out = []
    for org in registry.organizations:
        for mode, cron in (("incremental", org.schedules.incremental), ("full", org.schedules.full),
                           ("keyscan", org.schedules.keyscan)):
            if cron:
                out.append(_sync_schedule(org.id, cron, mode, org.locations[0].timezone))
    return dg.Definitions(schedules=out)
