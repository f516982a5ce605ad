"""`ops` tables: sync watermarks, sync runs and the quarantine of rows that could not be loaded."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import orjson
from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Engine,
    Float,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    and_,
    insert,
    select,
    update,
)

metadata = MetaData(schema="ops")

sync_state = Table(
    "sync_state",
    metadata,
    Column("org_id", String(64), primary_key=True),
    Column("location_id", Integer, primary_key=True),
    Column("entity", String(80), primary_key=True),
    Column("watermark", DateTime(timezone=True), nullable=True, comment="max UpdateDate landed (UTC)"),
    Column("last_full_sync_at", DateTime(timezone=True), nullable=True),
    Column("last_success_at", DateTime(timezone=True), nullable=False),
    Column("last_run_id", String(64), nullable=True),
    Column("last_mode", String(16), nullable=False),
)

sync_runs = Table(
    "sync_runs",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("run_id", String(64), nullable=False),
    Column("org_id", String(64), nullable=False),
    Column("mode", String(16), nullable=False),
    Column("status", String(16), nullable=False),
    Column("started_at", DateTime(timezone=True), nullable=False),
    Column("finished_at", DateTime(timezone=True), nullable=True),
    Column("duration_seconds", Float, nullable=True),
    Column("entities", Text, nullable=True, comment="JSON: per-entity counts"),
    Column("requests", Integer, nullable=True),
    Column("throttled", Integer, nullable=True),
    Column("retries", Integer, nullable=True),
    Column("errors", Text, nullable=True),
    Index("ix_sync_runs_org_started", "org_id", "started_at"),
)

quarantine = Table(
    "quarantine",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("org_id", String(64), nullable=False),
    Column("location_id", Integer, nullable=True),
    Column("entity", String(80), nullable=False),
    Column("rm_key", String(64), nullable=True),
    Column("stage", String(16), nullable=False, comment="extract | validate | load"),
    Column("reasons", Text, nullable=False, comment="JSON list of failed checks"),
    Column("raw", Text, nullable=False, comment="the row exactly as received"),
    Column("run_id", String(64), nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Index("ix_quarantine_org_entity", "org_id", "entity"),
)


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def _aware(value: datetime | None) -> datetime | None:
    # SQLite hands timestamps back naive; everything we store is UTC.
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=timezone.utc)
    return value


def get_watermark(engine: Engine, org_id: str, location_id: int, entity: str) -> datetime | None:
    with engine.connect() as conn:
        value = conn.execute(
            select(sync_state.c.watermark).where(
                and_(sync_state.c.org_id == org_id, sync_state.c.location_id == location_id, sync_state.c.entity == entity)
            )
        ).scalar_one_or_none()
    return _aware(value)


def get_sync_state(engine: Engine, org_id: str) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        rows = conn.execute(select(sync_state).where(sync_state.c.org_id == org_id)).mappings().all()
    return [{k: _aware(v) if isinstance(v, datetime) else v for k, v in row.items()} for row in rows]


def advance_watermark(
    engine: Engine,
    *,
    org_id: str,
    location_id: int,
    entity: str,
    watermark: datetime | None,
    mode: str,
    run_id: str | None,
) -> None:
    """Record a committed sync. The watermark only moves forward; a full sync also stamps last_full_sync_at."""
    now = utcnow()
    key = and_(sync_state.c.org_id == org_id, sync_state.c.location_id == location_id, sync_state.c.entity == entity)
    with engine.begin() as conn:
        current = conn.execute(select(sync_state.c.watermark).where(key)).first()
        values: dict[str, Any] = {"last_success_at": now, "last_run_id": run_id, "last_mode": mode}
        if mode == "full":
            values["last_full_sync_at"] = now
        if current is None:
            conn.execute(insert(sync_state).values(org_id=org_id, location_id=location_id, entity=entity,
                                                   watermark=watermark, **values))
            return
        old = _aware(current[0])
        if watermark is not None and (old is None or watermark > old):
            values["watermark"] = watermark
        conn.execute(update(sync_state).where(key).values(**values))


def start_sync_run(engine: Engine, *, run_id: str, org_id: str, mode: str) -> int:
    with engine.begin() as conn:
        result = conn.execute(
            insert(sync_runs).values(run_id=run_id, org_id=org_id, mode=mode, status="running", started_at=utcnow())
        )
        return int(result.inserted_primary_key[0])


def finish_sync_run(
    engine: Engine,
    sync_run_id: int,
    *,
    status: str,
    entities: dict[str, Any],
    requests: int,
    throttled: int,
    retries: int,
    errors: list[str],
    started_at: datetime,
) -> None:
    finished = utcnow()
    with engine.begin() as conn:
        conn.execute(
            update(sync_runs)
            .where(sync_runs.c.id == sync_run_id)
            .values(
                status=status,
                finished_at=finished,
                duration_seconds=(finished - started_at).total_seconds(),
                entities=orjson.dumps(entities).decode(),
                requests=requests,
                throttled=throttled,
                retries=retries,
                errors=orjson.dumps(errors).decode() if errors else None,
            )
        )


def quarantine_rows(engine: Engine, rows: list[dict[str, Any]]) -> None:
    """Store rows that cannot go on, each with its reasons. Each dict: org_id, location_id, entity, rm_key,
    stage, reasons (list[str]), raw (the original row), run_id."""
    if not rows:
        return
    now = utcnow()
    with engine.begin() as conn:
        conn.execute(
            insert(quarantine),
            [
                {
                    **r,
                    "rm_key": None if r.get("rm_key") is None else str(r["rm_key"]),
                    "reasons": orjson.dumps(list(r["reasons"])).decode(),
                    "raw": orjson.dumps(r["raw"], default=str).decode(),
                    "created_at": now,
                }
                for r in rows
            ],
        )
