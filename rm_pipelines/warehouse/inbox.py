"""`ops.webhook_inbox`: Rent Manager webhook deliveries, committed before they are answered.

A row is `pending` until a targeted run that covered it succeeds (`processed`, with that run's id); `rejected`
(bad delivery) and `ignored` (an event rm_pipelines does not sync) rows keep their reason. A delivery repeated
while its row is still open (pending and not yet taken by a run, rejected or ignored) collapses onto that row
(`deliveries` counts them); once a run has taken the row, the same payload is a new event and gets a new row.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import Engine, and_, delete, func, select, update

from .ops import OPEN_DELIVERY_SQL, _aware, utcnow, webhook_inbox

OPEN_DELIVERY = and_(webhook_inbox.c.status.in_(("pending", "rejected", "ignored")),
                     webhook_inbox.c.claimed_run_id.is_(None))
# ON CONFLICT names the partial unique index's predicate as literal SQL: PostgreSQL matches it to the index only
# when the predicate implies the index's, which bound parameters (a prepared statement's) never do.


@dataclass(frozen=True)
class Recorded:
    id: int
    duplicate: bool


@dataclass(frozen=True)
class InboxRow:
    id: int
    org_id: str
    location_id: int | None
    event_type: str
    entity: str | None
    ids: dict[int, int | None]
    received_at: datetime
    deliveries: int
    claimed_run_id: str | None


_COLUMNS = ("org_id", "location_id", "corporate_id", "event_type", "entity", "operation", "ids", "digest", "status",
            "reason", "body", "received_at", "last_received_at", "deliveries")


def _upsert_sql(sqlite: bool) -> str:
    ph, existing = ("?", "deliveries") if sqlite else ("%s", "webhook_inbox.deliveries")
    return (f"INSERT INTO ops.webhook_inbox ({', '.join(_COLUMNS)}) VALUES ({', '.join([ph] * len(_COLUMNS))}) "
            f"ON CONFLICT (org_id, digest) WHERE {OPEN_DELIVERY_SQL} DO UPDATE SET "
            f"deliveries = {existing} + 1, last_received_at = excluded.last_received_at RETURNING id, deliveries")


def record(conn: Any, rows: list[dict[str, Any]]) -> list[Recorded]:
    """Insert deliveries inside the caller's transaction; a repeat of an open row adds to its `deliveries`.

    Each row: org_id, digest, status, and any of location_id, corporate_id, event_type, entity, operation, ids,
    reason, body. Returns the row id of each delivery and whether it was a repeat. (One plain statement per
    delivery on the driver's cursor: the receiver commits thousands a second.)"""
    now = utcnow()
    sqlite = conn.dialect.name == "sqlite"
    stamp = now.replace(tzinfo=None).isoformat(" ", "microseconds") if sqlite else now
    sql = _upsert_sql(sqlite)
    cursor = conn.connection.driver_connection.cursor()
    out = []
    try:
        for row in rows:
            values = {**row, "received_at": stamp, "last_received_at": stamp, "deliveries": 1}
            cursor.execute(sql, tuple(values.get(c) for c in _COLUMNS))
            rid, deliveries = cursor.fetchone()
            out.append(Recorded(int(rid), deliveries > 1))
    finally:
        cursor.close()
    return out


def _row(r: Any) -> InboxRow:
    ids = {int(k): v for k, v in orjson.loads(r.ids).items()} if r.ids else {}
    return InboxRow(id=int(r.id), org_id=r.org_id, location_id=r.location_id, event_type=r.event_type or "",
                    entity=r.entity, ids=ids, received_at=_aware(r.received_at), deliveries=int(r.deliveries),
                    claimed_run_id=r.claimed_run_id)


def pending(engine: Engine, org_id: str, *, through: int | None = None, unclaimed_only: bool = False) -> list[InboxRow]:
    """The org's pending rows (up to inbox position `through`), oldest first."""
    c = webhook_inbox.c
    stmt = select(webhook_inbox).where(c.org_id == org_id, c.status == "pending")
    if through is not None:
        stmt = stmt.where(c.id <= through)
    if unclaimed_only:
        stmt = stmt.where(c.claimed_run_id.is_(None))
    with engine.connect() as conn:
        return [_row(r) for r in conn.execute(stmt.order_by(c.id))]


def claim(engine: Engine, org_id: str, ids: Iterable[int], run_id: str) -> int:
    """Mark pending rows as taken by a run (a row a failed run had taken is taken again)."""
    ids = list(ids)
    if not ids:
        return 0
    c = webhook_inbox.c
    taken = 0
    with engine.begin() as conn:
        for i in range(0, len(ids), 500):
            result = conn.execute(update(webhook_inbox).where(
                c.org_id == org_id, c.status == "pending", c.id.in_(ids[i:i + 500])).values(claimed_run_id=run_id))
            taken += int(result.rowcount or 0)
    return taken


def claimed(engine: Engine, org_id: str, run_id: str) -> list[InboxRow]:
    """Rows a run has taken (pending or, once it succeeded, processed by it)."""
    c = webhook_inbox.c
    stmt = select(webhook_inbox).where(c.org_id == org_id, (c.claimed_run_id == run_id) | (c.processed_run_id == run_id))
    with engine.connect() as conn:
        return [_row(r) for r in conn.execute(stmt.order_by(c.id))]


def claiming_runs(engine: Engine, org_id: str) -> list[str]:
    """Runs holding pending rows of the org."""
    c = webhook_inbox.c
    stmt = select(c.claimed_run_id).where(c.org_id == org_id, c.status == "pending",
                                          c.claimed_run_id.is_not(None)).distinct()
    with engine.connect() as conn:
        return sorted(r for (r,) in conn.execute(stmt))


def settle(engine: Engine, org_id: str, run_id: str, *, succeeded: bool) -> int:
    """A run that took rows has ended: on success its rows become `processed` with its id; otherwise they are
    released for the next run (a repeat delivery that arrived meanwhile folds back into the older row)."""
    c = webhook_inbox.c
    now = utcnow()
    with engine.begin() as conn:
        if succeeded:
            result = conn.execute(update(webhook_inbox).where(
                c.org_id == org_id, c.claimed_run_id == run_id, c.status == "pending").values(
                status="processed", processed_run_id=run_id, processed_at=now, claimed_run_id=None))
            return int(result.rowcount or 0)
        released = conn.execute(select(c.id, c.digest, c.deliveries).where(
            c.org_id == org_id, c.claimed_run_id == run_id, c.status == "pending")).all()
        for rid, digest, deliveries in released:
            newer = conn.execute(select(c.id, c.deliveries, c.last_received_at).where(
                c.org_id == org_id, c.digest == digest, OPEN_DELIVERY)).first()
            values: dict[str, Any] = {"claimed_run_id": None}
            if newer is not None:
                conn.execute(delete(webhook_inbox).where(c.id == newer.id))
                values.update(deliveries=deliveries + newer.deliveries, last_received_at=newer.last_received_at)
            conn.execute(update(webhook_inbox).where(c.id == rid).values(**values))
        return len(released)


def counts(engine: Engine, org_id: str | None = None) -> dict[str, dict[str, Any]]:
    """Per org: rows by status, deliveries, and when the oldest pending row arrived."""
    c = webhook_inbox.c
    stmt = select(c.org_id, c.status, func.count(), func.sum(c.deliveries), func.min(c.received_at),
                  func.max(c.id)).group_by(c.org_id, c.status)
    if org_id is not None:
        stmt = stmt.where(c.org_id == org_id)
    out: dict[str, dict[str, Any]] = {}
    with engine.connect() as conn:
        for org, status, n, deliveries, oldest, top in conn.execute(stmt):
            entry = out.setdefault(org, {"by_status": {}, "deliveries": 0, "oldest_pending": None, "position": 0})
            entry["by_status"][status] = int(n)
            entry["deliveries"] += int(deliveries or 0)
            entry["position"] = max(entry["position"], int(top or 0))
            if status == "pending":
                entry["oldest_pending"] = _aware(oldest)
    return out


def recent(engine: Engine, org_id: str, limit: int = 20, status: str | None = None) -> list[dict[str, Any]]:
    """The latest rows of an org (newest first), for the command line."""
    c = webhook_inbox.c
    stmt = select(c.id, c.event_type, c.location_id, c.ids, c.status, c.reason, c.deliveries, c.received_at,
                  c.processed_run_id, c.processed_at).where(c.org_id == org_id)
    if status:
        stmt = stmt.where(c.status == status)
    with engine.connect() as conn:
        rows = conn.execute(stmt.order_by(c.id.desc()).limit(limit)).mappings().all()
    return [{**r, "received_at": _aware(r["received_at"]), "processed_at": _aware(r["processed_at"])} for r in rows]
