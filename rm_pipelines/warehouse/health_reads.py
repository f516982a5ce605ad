"""What the pipeline recorded about an org, read for its health: sync runs, entity freshness, data-quality
scores, open quarantine, webhook and write-back backlogs, the latest compliance evaluation. Plain values out."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timezone
from typing import Any

import orjson
from sqlalchemy import Engine, func, select

from . import compliance_store, ops


def _aware(value: Any) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


def sync_runs(engine: Engine, org_id: str, since: datetime) -> list[dict[str, Any]]:
    t = ops.sync_runs
    with engine.connect() as conn:
        rows = conn.execute(select(t.c.mode, t.c.status, t.c.started_at, t.c.finished_at, t.c.requests,
                                   t.c.throttled, t.c.retries)
                            .where(t.c.org_id == org_id, t.c.started_at >= since).order_by(t.c.started_at)).all()
    return [{"mode": r.mode, "status": r.status, "started_at": _aware(r.started_at),
             "finished_at": _aware(r.finished_at), "requests": r.requests or 0, "throttled": r.throttled or 0,
             "retries": r.retries or 0} for r in rows]


def first_sync_started(engine: Engine, org_id: str) -> datetime | None:
    t = ops.sync_runs
    with engine.connect() as conn:
        return _aware(conn.execute(select(func.min(t.c.started_at)).where(t.c.org_id == org_id)).scalar_one())


def entity_last_success(engine: Engine, org_id: str) -> dict[str, datetime]:
    """Per entity, the oldest of its locations' last successful syncs."""
    t = ops.sync_state
    with engine.connect() as conn:
        rows = conn.execute(select(t.c.entity, func.min(t.c.last_success_at)).where(t.c.org_id == org_id)
                            .group_by(t.c.entity)).all()
    return {entity: _aware(at) for entity, at in rows if at is not None}


def dq_scores(engine: Engine, org_id: str, since: datetime) -> list[tuple[datetime, float]]:
    """The org-wide load-gate score of each load run (rows passing / rows evaluated), oldest first."""
    t = ops.dq_scores
    with engine.connect() as conn:
        rows = conn.execute(select(func.max(t.c.measured_at), func.sum(t.c.rows_passed), func.sum(t.c.rows_evaluated))
                            .where(t.c.org_id == org_id, t.c.gate == "load", t.c.measured_at >= since)
                            .group_by(t.c.run_id).order_by(func.max(t.c.measured_at))).all()
    return [(_aware(at), float(passed) / float(evaluated)) for at, passed, evaluated in rows if evaluated]


def quarantine_open(engine: Engine, org_id: str) -> dict[str, int]:
    """Open quarantined rows by their first reason (without the offending value)."""
    t = ops.quarantine
    with engine.connect() as conn:
        rows = conn.execute(select(t.c.entity, t.c.reasons).where(t.c.org_id == org_id, t.c.resolved_at.is_(None)))
        counts: Counter[str] = Counter()
        for entity, reasons in rows:
            first = (orjson.loads(reasons) or ["(no reason)"])[0] if reasons else "(no reason)"
            counts[f"{entity}: {str(first).split(' (got ', 1)[0]}"] += 1
    return dict(counts)


def _waiting(engine: Engine, table: Any, org_id: str, statuses: tuple[str, ...], since: Any) -> tuple[int, datetime | None]:
    with engine.connect() as conn:
        count, oldest = conn.execute(select(func.count(), func.min(since))
                                     .where(table.c.org_id == org_id, table.c.status.in_(statuses))).one()
    return int(count), _aware(oldest)


def webhook_backlog(engine: Engine, org_id: str) -> tuple[int, datetime | None]:
    """Webhook deliveries received and not yet synced, and when the oldest arrived."""
    return _waiting(engine, ops.webhook_inbox, org_id, ("pending",), ops.webhook_inbox.c.received_at)


def outbox_backlog(engine: Engine, org_id: str) -> tuple[int, datetime | None]:
    """Write-backs not yet done (waiting, failed, or sent without a known answer), and the oldest one's time."""
    return _waiting(engine, ops.outbox, org_id, ("pending", "failed", "sent"), ops.outbox.c.created_at)


def open_conflicts(engine: Engine, org_id: str) -> int:
    return _waiting(engine, ops.conflicts, org_id, ("open",), ops.conflicts.c.detected_at)[0]


def last_compliance_evaluation(engine: Engine, org_id: str) -> datetime | None:
    t = compliance_store.evaluations
    with engine.connect() as conn:
        return _aware(conn.execute(select(func.max(t.c.evaluated_at)).where(t.c.org_id == org_id)).scalar_one())
