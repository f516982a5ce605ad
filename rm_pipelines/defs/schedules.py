"""Schedules: per-org incremental and full syncs, from each org's cron expressions in the registry."""


import dagster as dg

from ..orgs import RegistryError, load_registry
from .jobs import rentmanager_sync_job


def _sync_schedule(org_id: str, cron: str, mode: str) -> dg.ScheduleDefinition:
    @dg.schedule(
        name=f"{org_id.replace('-', '_')}_{mode}_sync",
        cron_schedule=cron,
        job=rentmanager_sync_job,
        default_status=dg.DefaultScheduleStatus.STOPPED,
        description=f"{mode.capitalize()} Rent Manager sync of org {org_id!r}.",
    )
    def _schedule(context: dg.ScheduleEvaluationContext) -> dg.RunRequest:
        return dg.RunRequest(
            partition_key=org_id,
            run_key=f"{org_id}-{mode}-{context.scheduled_execution_time:%Y%m%dT%H%M}",
            run_config={"ops": {"rentmanager_extract": {"config": {"mode": mode}},
                                "estatecore_load": {"config": {"mode": mode}}}},
            tags={"rm/org": org_id, "rm/mode": mode},
        )

    return _schedule


@dg.definitions
def schedules() -> dg.Definitions:
    try:
        registry = load_registry()
    except RegistryError:
        raise
    out = []
    for org in registry.organizations:
        for mode, cron in (("incremental", org.schedules.incremental), ("full", org.schedules.full)):
            if cron:
                out.append(_sync_schedule(org.id, cron, mode))
    return dg.Definitions(schedules=out)
