"""ops + compliance → the health of one org's integration: the figures the pipeline recorded, judged by the
rules of `rm_pipelines.health`. Read-only; the `integration_health` asset and `rm-pipelines health` call it."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from croniter import croniter
from sqlalchemy import Engine

from .. import clock, health
from ..orgs import Org
from ..rentmanager.catalog import ENTITIES
from ..warehouse import health_reads as reads

WINDOW = timedelta(days=30)


def scheduled_ticks(crons: list[str], timezone: str, start: datetime, end: datetime) -> list[datetime]:
    """Every time the given crons fire between start and end (UTC datetimes), in the org's time zone."""
    ticks: set[datetime] = set()
    zone = ZoneInfo(timezone)
    for cron in crons:
        it = croniter(cron, start.astimezone(zone))
        while (tick := it.get_next(datetime)) <= end:
            ticks.add(tick.astimezone(start.tzinfo))
    return sorted(ticks)


def _interval(cron: str | None, timezone: str, now: datetime) -> timedelta | None:
    if not cron:
        return None
    it = croniter(cron, now.astimezone(ZoneInfo(timezone)))
    first = it.get_next(datetime)
    return it.get_next(datetime) - first


def org_health(engine: Engine, org: Org, *, now: datetime | None = None) -> health.HealthVerdict:
    """The org's health now, from its last 30 days."""
    now = now or clock.utcnow()
    since = now - WINDOW
    tz = org.locations[0].timezone
    runs = [health.SyncRun(**r) for r in reads.sync_runs(engine, org.id, since)]
    first = reads.first_sync_started(engine, org.id)
    crons = [c for c in (org.schedules.incremental, org.schedules.full) if c]
    ticks = scheduled_ticks(crons, tz, max(since, first), now) if first else []
    webhooks = reads.webhook_backlog(engine, org.id)
    outbox = reads.outbox_backlog(engine, org.id)
    keyscan = _interval(org.schedules.keyscan, tz, now)
    udf_interval = ({e.name: keyscan for e in ENTITIES if e.udf}
                    if keyscan and org.rentmanager.udf_refresh == "nightly" else {})
    figures = health.HealthFigures(
        org_id=org.id, now=now, incremental_interval=_interval(org.schedules.incremental, tz, now),
        runs=runs, scheduled_ticks=ticks, entity_last_success=reads.entity_last_success(engine, org.id),
        entity_interval=udf_interval,
        dq_scores=reads.dq_scores(engine, org.id, since), quarantine_open=reads.quarantine_open(engine, org.id),
        webhook_backlog=webhooks[0], webhook_oldest_pending=webhooks[1],
        outbox_pending=outbox[0], outbox_oldest_pending=outbox[1],
        open_conflicts=reads.open_conflicts(engine, org.id),
        last_compliance_evaluation=reads.last_compliance_evaluation(engine, org.id),
    )
    return health.evaluate(figures)
