"""Webhook inbox → targeted extraction. No Dagster here: the sensor and the assets in `defs/` call these.

1. `plan_pending`: an org's pending deliveries coalesced into one plan (every key once per location and entity,
   however many events), with the rm_raw entities and EstateCore tables it touches — what one run must cover.
2. `run_targeted_sync` (inside that run): the pending rows up to the planned inbox position whose entities the
   run covers are taken by the run, and the plan is fetched (`OrgSync.run_targeted`).
3. `settle` (the sensor, once the run ended): the rows become `processed` with the run id if it succeeded, or go
   back to pending for the next run if it did not — nothing received is lost.
"""

from __future__ import annotations

import logging
import statistics
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine

from .. import clock
from ..compliance.inputs import TABLES_READ
from ..orgs import Org
from ..rentmanager.catalog import ENTITIES
from ..warehouse import inbox, ops
from ..warehouse import tables as T
from ..webhooks.events import InboxEvent, Plan, coalesce, entities_of
from .extract import ClientFactory, OrgSync, SyncReport

log = logging.getLogger(__name__)


@dataclass
class PendingPlan:
    """What one targeted run of an org must cover."""

    org_id: str
    through: int
    """Highest inbox position covered (the run takes pending rows up to it)."""
    plan: Plan
    entities: list[str]
    """rm_raw entities the run lands: the planned ones and the rows riding in their pages."""
    tables: list[str]
    """EstateCore tables fed by those entities (derived tables included), in load order."""

    @property
    def compliance(self) -> bool:
        """Whether the tables touched feed the compliance evaluation."""
        return any(t in TABLES_READ for t in self.tables)


def tables_for(entities: set[str]) -> list[str]:
    """EstateCore tables to load after the given rm_raw entities landed (derived tables that read them too)."""
    tables = {t for e in entities for t in T.tables_for_entity(e)}
    changed = True
    while changed:
        extra = {s.name for s in T.TABLES if s.kind == "derived" and set(s.depends_on) & tables} - tables
        changed = bool(extra)
        tables |= extra
    return T.load_order(sorted(tables))


def _events(rows: list[inbox.InboxRow]) -> list[InboxEvent]:
    return [InboxEvent(r.id, r.event_type, r.location_id, r.ids) for r in rows]


def plan_pending(engine: Engine, org: Org) -> PendingPlan | None:
    """The org's pending deliveries not taken by a run, as one plan (None when there are none)."""
    rows = inbox.pending(engine, org.id, unclaimed_only=True)
    if not rows:
        return None
    plan = coalesce(_events(rows), org.entity_names)
    entities = plan.entities | {e.name for e in ENTITIES if e.via in plan.entities and e.name in org.entity_names}
    return PendingPlan(org.id, max(r.id for r in rows), plan, sorted(entities), tables_for(entities))


@dataclass
class TargetedRun:
    """What a targeted run took from the inbox and fetched."""

    org_id: str
    run_id: str
    events: int = 0
    deliveries: int = 0
    ids_requested: int = 0
    rows_fetched: int = 0
    deletes_applied: int = 0
    left_for_later: int = 0
    """Pending rows up to the planned position naming entities this run does not cover (they wait)."""
    sync: SyncReport | None = None


def run_targeted_sync(engine: Engine, org: Org, client_factory: ClientFactory, *, run_id: str, through: int,
                      entities: set[str] | None = None, logger: Any = log, lock_wait_seconds: float = 0.0
                      ) -> TargetedRun:
    """Take the org's pending rows up to `through` whose entities this run covers (`entities`: the run's
    selection; None = all), and fetch what they name. The rows stay pending until `settle`."""
    rows = inbox.pending(engine, org.id, through=through)
    covered = [r for r in rows if entities is None
               or set(entities_of(r.event_type)) & set(org.entity_names) <= entities]
    out = TargetedRun(org.id, run_id, left_for_later=len(rows) - len(covered))
    if not covered:
        logger.info(f"org {org.id!r}: no pending webhook deliveries up to inbox #{through}")
        return out
    inbox.claim(engine, org.id, [r.id for r in covered], run_id)
    plan = coalesce(_events(covered), org.entity_names)
    out.events, out.deliveries = len(covered), sum(r.deliveries for r in covered)
    out.ids_requested = plan.ids
    logger.info(f"org {org.id!r}: {out.events} webhook event(s) ({out.deliveries} deliveries) up to inbox #{through} "
                f"coalesced into {out.ids_requested} id(s) of {', '.join(sorted(plan.entities)) or 'nothing'}"
                + (f"; {out.left_for_later} later event(s) wait for the next run" if out.left_for_later else ""))
    if plan.targets:
        sync = OrgSync(org, engine, client_factory, run_id=run_id, logger=logger, lock_wait_seconds=lock_wait_seconds)
        out.sync = sync.run_targeted(plan.targets)
        out.rows_fetched = sum(r.rows for r in out.sync.entities.values())
        out.deletes_applied = sum(r.marked_deleted for r in out.sync.entities.values())
    return out


def claiming_runs(engine: Engine, org_id: str) -> list[str]:
    """Runs that took pending rows of the org and have not been settled."""
    return inbox.claiming_runs(engine, org_id)


def settle(engine: Engine, org_id: str, run_id: str, *, succeeded: bool) -> int:
    """The run that took rows has ended: see `warehouse.inbox.settle`."""
    return inbox.settle(engine, org_id, run_id, succeeded=succeeded)


@dataclass(frozen=True)
class Lag:
    """Seconds from receipt to now for the rows a run took."""

    events: int
    p50: float
    p95: float
    max: float

    def as_dict(self) -> dict[str, Any]:
        return {"events": self.events, "lag_p50_seconds": round(self.p50, 3), "lag_p95_seconds": round(self.p95, 3),
                "lag_max_seconds": round(self.max, 3)}


def lag(engine: Engine, org_id: str, run_id: str, now: datetime | None = None) -> Lag | None:
    """How long the rows a run took have waited, from receipt until now (None when it took none)."""
    rows = inbox.claimed(engine, org_id, run_id)
    if not rows:
        return None
    now = now or clock.utcnow()
    waits = sorted((now - r.received_at).total_seconds() for r in rows)
    p95 = waits[min(len(waits) - 1, max(0, round(0.95 * len(waits)) - 1))]
    return Lag(len(waits), statistics.median(waits), p95, waits[-1])


def run_summary(engine: Engine, org_id: str, run_id: str, now: datetime | None = None) -> dict[str, Any]:
    """What a targeted run took from the inbox and did with it: events, ids, rows, deletes and the lag so far."""
    rows = inbox.claimed(engine, org_id, run_id)
    sync = ops.get_sync_run(engine, org_id, run_id) or {}
    entities = sync.get("entities") or {}
    by_event: dict[str, int] = {}
    for r in rows:
        by_event[r.event_type] = by_event.get(r.event_type, 0) + 1
    waited = lag(engine, org_id, run_id, now)
    return {
        "events_coalesced": len(rows),
        "deliveries": sum(r.deliveries for r in rows),
        "ids_requested": sum(int(e.get("targeted_ids") or 0) for e in entities.values()),
        "rows_fetched": sum(int(e.get("rows") or 0) for e in entities.values()),
        "deletes_applied": sum(int(e.get("marked_deleted") or 0) for e in entities.values()),
        "requests": int(sync.get("requests") or 0),
        "events_by_type": dict(sorted(by_event.items())),
        "entities": {name: {k: e.get(k) for k in ("targeted_ids", "rows", "inserted", "updated", "marked_deleted")}
                     for name, e in sorted(entities.items())},
        **(waited.as_dict() if waited else {}),
    }
