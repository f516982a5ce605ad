"""`ops` tables: sync watermarks, sync runs, the quarantine of rows that could not be loaded, the audit log of
EstateCore changes, load watermarks per EstateCore table, data-quality scores, the webhook inbox and the
write-back outbox with its conflicts (their reads and writes: `inbox.py`, `outbox.py`).

The tables are created by the Alembic migrations (`migrate.py`); these definitions are what the code uses.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import orjson
from sqlalchemy import (
    BigInteger,
    Column,
    Date,
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
    text,
    update,
)

from .. import clock

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
    Column("table_name", String(80), nullable=True, comment="EstateCore table the row was bound for (load stage)"),
    Column("content_hash", String(32), nullable=True, comment="rm_raw content hash of the quarantined version"),
    Column("resolved_at", DateTime(timezone=True), nullable=True,
           comment="set when a later version of the row loaded, or the row was deleted in Rent Manager"),
    Index("ix_quarantine_org_entity", "org_id", "entity"),
    Index("ix_quarantine_open", "org_id", "table_name", "resolved_at"),
)

audit_log = Table(
    "audit_log",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("org_id", String(64), nullable=False),
    Column("table_name", String(80), nullable=False),
    Column("location_id", Integer, nullable=True),
    Column("rm_key", String(128), nullable=False, comment="natural key of the row (Rent Manager key, or BIN …)"),
    Column("action", String(8), nullable=False, comment="insert | update | delete | revive"),  # and "purge" rows
    Column("changed", Text, nullable=True,
           comment="JSON {column: [old, new]} for updates (sensitive values masked); null for inserts/deletes"),
    Column("run_id", String(64), nullable=True),
    Column("at", DateTime(timezone=True), nullable=False),
    Index("ix_audit_log_org_table_at", "org_id", "table_name", "at"),
)

load_state = Table(
    "load_state",
    metadata,
    Column("org_id", String(64), primary_key=True),
    Column("table_name", String(80), primary_key=True),
    Column("source", String(80), primary_key=True, comment="rm_raw entity read (or '' for derived tables)"),
    Column("watermark", DateTime(timezone=True), nullable=True,
           comment="rm_raw rows landed or flagged deleted after this (UTC) are loaded next time"),
    Column("mapping_version", String(32), nullable=True),
    Column("last_mode", String(16), nullable=False),
    Column("last_run_id", String(64), nullable=True),
    Column("last_success_at", DateTime(timezone=True), nullable=False),
)

alerts = Table(
    "alerts",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("org_id", String(64), nullable=True, comment="null when the failed run belongs to no org"),
    Column("kind", String(32), nullable=False, comment="run_failure | health"),
    Column("run_id", String(64), nullable=True),
    Column("job_name", String(128), nullable=True),
    Column("entity", String(80), nullable=True, comment="the failed step or asset, when one is known"),
    Column("cause", Text, nullable=False, comment="what failed, never a secret"),
    Column("raised_at", DateTime(timezone=True), nullable=False),
    Column("notified", String(16), nullable=False, comment="no_target | sent | failed"),
    Column("notify_error", Text, nullable=True),
    Index("ix_alerts_org_raised", "org_id", "raised_at"),
)

dq_scores = Table(
    "dq_scores",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("org_id", String(64), nullable=False),
    Column("table_name", String(80), nullable=False),
    Column("gate", String(16), nullable=False, comment="load (pandera + mapping) | gx (expectation suite)"),
    Column("run_id", String(64), nullable=True),
    Column("measured_at", DateTime(timezone=True), nullable=False),
    Column("rows_evaluated", BigInteger, nullable=False),
    Column("rows_passed", BigInteger, nullable=False),
    Column("score", Float, nullable=False, comment="share of rows passing every gate, 0..1"),
    Column("details", Text, nullable=True, comment="JSON"),
    Index("ix_dq_scores_org_table", "org_id", "table_name", "measured_at"),
)

report_index = Table(
    "report_index",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("org_id", String(64), nullable=False),
    Column("kind", String(40), nullable=False, comment="report kind (rent_roll, form_8823, aoc …)"),
    Column("period", String(7), nullable=False, comment="YYYY-MM (monthly) or YYYY (annual)"),
    Column("scope", String(200), nullable=False, comment="property ShortName[-BIN], or the org for org-wide reports"),
    Column("property_id", String(64), nullable=True),
    Column("bin", String(40), nullable=True),
    Column("path", Text, nullable=False),
    Column("media_type", String(40), nullable=False, comment="application/pdf | application/xml | text/csv"),
    Column("pages", Integer, nullable=True),
    Column("bytes", BigInteger, nullable=False),
    Column("sha256", String(64), nullable=False, comment="of the file"),
    Column("evidence_sha256", String(64), nullable=True, comment="of the stored rows embedded as evidence"),
    Column("blanks", Integer, nullable=False, comment="figures left to fill (not in Rent Manager data)"),
    Column("evaluation_id", BigInteger, nullable=False, comment="compliance.evaluations id rendered from"),
    Column("evaluation_as_of", Date, nullable=False),
    Column("evaluation_run_id", String(64), nullable=False),
    Column("run_id", String(64), nullable=False, comment="run that rendered the file"),
    Column("generated_at", DateTime(timezone=True), nullable=False),
    Index("ux_report_index_doc", "org_id", "kind", "period", "scope", "media_type", unique=True),
)


OPEN_DELIVERY_SQL = "status IN ('pending', 'rejected', 'ignored') AND claimed_run_id IS NULL"

webhook_inbox = Table(
    "webhook_inbox",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True,
           comment="inbox position (the webhook sensor's cursor)"),
    Column("org_id", String(64), nullable=False),
    Column("location_id", Integer, nullable=True, comment="LocationID of the delivery (null: every org location)"),
    Column("corporate_id", String(64), nullable=True),
    Column("event_type", String(80), nullable=True, comment="EventType as Rent Manager sent it, e.g. Tenant_Edit"),
    Column("entity", String(80), nullable=True, comment="catalog entity the event refreshes"),
    Column("operation", String(8), nullable=True, comment="Add | Edit | Delete"),
    Column("ids", Text, nullable=True, comment="JSON IDParentIDDict: {changed id: parent id}"),
    Column("digest", String(64), nullable=False, comment="sha256 of the delivery (repeats collapse onto one row)"),
    Column("status", String(12), nullable=False, comment="pending | processed | rejected | ignored"),
    Column("reason", Text, nullable=True, comment="why a delivery was rejected or ignored"),
    Column("body", Text, nullable=True, comment="a rejected delivery's body as received (truncated)"),
    Column("received_at", DateTime(timezone=True), nullable=False),
    Column("last_received_at", DateTime(timezone=True), nullable=False),
    Column("deliveries", Integer, nullable=False, comment="times Rent Manager delivered it"),
    Column("claimed_run_id", String(64), nullable=True, comment="targeted run working on it"),
    Column("processed_run_id", String(64), nullable=True, comment="targeted run that succeeded with it"),
    Column("processed_at", DateTime(timezone=True), nullable=True),
    Index("ix_webhook_inbox_org_status", "org_id", "status", "id"),
    Index("ux_webhook_inbox_open_digest", "org_id", "digest", unique=True,
          sqlite_where=text(OPEN_DELIVERY_SQL), postgresql_where=text(OPEN_DELIVERY_SQL)),
)

outbox = Table(
    "outbox",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("org_id", String(64), nullable=False),
    Column("location_id", Integer, nullable=False),
    Column("resource", String(80), nullable=False, comment="Rent Manager resource written, e.g. ServiceManagerIssues"),
    Column("rm_key", BigInteger, nullable=False, comment="key of the record (UDF values: of the parent record)"),
    Column("kind", String(8), nullable=False, comment="record | udf"),
    Column("fields", Text, nullable=False, comment="JSON {field: value} EstateCore wants written"),
    Column("base", Text, nullable=False, comment="JSON {field: value} as last read from Rent Manager"),
    Column("base_version", Text, nullable=True, comment="JSON UpdateDate / ConcurrencyID as last read"),
    Column("reason", Text, nullable=False),
    Column("requested_by", String(128), nullable=False),
    Column("status", String(12), nullable=False, comment="pending | sent | conflict | failed | done"),
    Column("attempts", Integer, nullable=False),
    Column("last_error", Text, nullable=True),
    Column("save_options", Text, nullable=True, comment="comma list of saveOptions to send (a person's override)"),
    Column("run_id", String(64), nullable=True, comment="run that last worked on it"),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Index("ix_outbox_org_status", "org_id", "status", "id"),
)

conflicts = Table(
    "conflicts",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("outbox_id", BigInteger, nullable=False),
    Column("org_id", String(64), nullable=False),
    Column("location_id", Integer, nullable=False),
    Column("resource", String(80), nullable=False),
    Column("rm_key", BigInteger, nullable=False),
    Column("field", String(128), nullable=False),
    Column("base", Text, nullable=True, comment="JSON value both sides started from"),
    Column("ours", Text, nullable=True, comment="JSON value EstateCore wanted"),
    Column("theirs", Text, nullable=True, comment="JSON value found in Rent Manager"),
    Column("theirs_updated_at", DateTime(timezone=True), nullable=True),
    Column("status", String(12), nullable=False, comment="open | ours | theirs"),
    Column("detected_at", DateTime(timezone=True), nullable=False),
    Column("resolved_at", DateTime(timezone=True), nullable=True),
    Column("resolved_by", String(128), nullable=True),
    Index("ix_conflicts_org_status", "org_id", "status"),
)


def utcnow() -> datetime:
    return clock.utcnow()


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


def synced_entities(engine: Engine, org_id: str, location_id: int) -> set[str]:
    """The entities of an org's location that completed at least one sync."""
    with engine.connect() as conn:
        rows = conn.execute(select(sync_state.c.entity).where(
            and_(sync_state.c.org_id == org_id, sync_state.c.location_id == location_id))).scalars().all()
    return set(rows)


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


def abandon_stale_sync_runs(engine: Engine, org_id: str, *, keep_run_id: str | None = None) -> int:
    """Mark the org's sync runs still `running` as `abandoned` (call while holding the org's run lock: any other
    run that says `running` then belongs to a process that died). Returns how many were marked."""
    now = utcnow()
    condition = and_(sync_runs.c.org_id == org_id, sync_runs.c.status == "running")
    if keep_run_id:
        condition = and_(condition, sync_runs.c.run_id != keep_run_id)
    with engine.begin() as conn:
        result = conn.execute(
            update(sync_runs).where(condition).values(
                status="abandoned", finished_at=now,
                errors=orjson.dumps(["the process running this sync ended without recording an outcome"]).decode(),
            )
        )
        return int(result.rowcount or 0)


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
    mode: str | None = None,
) -> None:
    """Record how a sync ended; `mode` corrects the requested mode to the one that ran (an incremental request
    with no watermark yet runs full)."""
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
                **({"mode": mode} if mode else {}),
            )
        )


def get_sync_run(engine: Engine, org_id: str, run_id: str) -> dict[str, Any] | None:
    """The latest sync-run row of a run (entities and errors decoded), or None."""
    with engine.connect() as conn:
        row = conn.execute(select(sync_runs).where(sync_runs.c.org_id == org_id, sync_runs.c.run_id == run_id)
                           .order_by(sync_runs.c.id.desc()).limit(1)).mappings().first()
    if row is None:
        return None
    return {**row, "entities": orjson.loads(row["entities"]) if row["entities"] else {},
            "errors": orjson.loads(row["errors"]) if row["errors"] else []}


def quarantine_rows(engine: Engine, rows: list[dict[str, Any]]) -> int:
    """Store rows that cannot go on, each with its reasons. Each dict: org_id, location_id, entity, rm_key,
    stage, reasons (list[str]), raw (the original row), run_id; optionally content_hash (the version) and
    table_name (the EstateCore table it was bound for). A version already in open quarantine (same entity,
    location, key, stage and content hash) is not stored twice. Returns how many rows were stored."""
    if not rows:
        return 0
    from .sensitive import protect_raw

    now = utcnow()
    with engine.begin() as conn:
        hashed = [r for r in rows if r.get("content_hash")]
        stored: set[tuple] = set()
        if hashed:
            q = quarantine.c
            for org_id, entity, stage in {(r["org_id"], r["entity"], r["stage"]) for r in hashed}:
                stored |= {tuple(x) for x in conn.execute(
                    select(q.location_id, q.rm_key, q.content_hash).where(
                        q.org_id == org_id, q.entity == entity, q.stage == stage, q.resolved_at.is_(None),
                        q.content_hash.in_({r["content_hash"] for r in hashed if r["entity"] == entity}))).all()}
        fresh = []
        for r in rows:
            rm_key = None if r.get("rm_key") is None else str(r["rm_key"])[:64]
            if r.get("content_hash") and (r.get("location_id"), rm_key, r["content_hash"]) in stored:
                continue  # this version is already in quarantine
            fresh.append({
                **r,
                "content_hash": r.get("content_hash"),
                "table_name": r.get("table_name"),
                "rm_key": rm_key,
                "reasons": orjson.dumps(list(r["reasons"])).decode(),
                # sensitive values stay encrypted in the quarantine too
                "raw": _json_text(protect_raw(r["entity"], r["raw"]) or r["raw"]),
                "created_at": now,
            })
        if fresh:
            conn.execute(insert(quarantine), fresh)
    return len(fresh)


def _json_text(value: Any) -> str:
    try:
        return orjson.dumps(value, default=str).decode()
    except TypeError:  # an integer beyond 64 bits: the standard library writes any integer
        import json

        return json.dumps(value, default=str)


def get_load_watermark(engine: Engine, org_id: str, table_name: str, source: str) -> datetime | None:
    with engine.connect() as conn:
        value = conn.execute(
            select(load_state.c.watermark).where(
                and_(load_state.c.org_id == org_id, load_state.c.table_name == table_name, load_state.c.source == source)
            )
        ).scalar_one_or_none()
    return _aware(value)


def set_load_state(conn: Any, *, org_id: str, table_name: str, source: str, watermark: datetime | None,
                   mapping_version: str | None, mode: str, run_id: str | None) -> None:
    """Record a committed load (inside the caller's transaction)."""
    key = and_(load_state.c.org_id == org_id, load_state.c.table_name == table_name, load_state.c.source == source)
    values = {"watermark": watermark, "mapping_version": mapping_version, "last_mode": mode, "last_run_id": run_id,
              "last_success_at": utcnow()}
    if conn.execute(select(load_state.c.org_id).where(key)).first() is None:
        conn.execute(insert(load_state).values(org_id=org_id, table_name=table_name, source=source, **values))
    else:
        conn.execute(update(load_state).where(key).values(**values))


def get_load_state(engine: Engine, org_id: str) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        rows = conn.execute(select(load_state).where(load_state.c.org_id == org_id)).mappings().all()
    return [{k: _aware(v) if isinstance(v, datetime) else v for k, v in row.items()} for row in rows]


def record_dq_score(engine_or_conn: Any, *, org_id: str, table_name: str, gate: str, run_id: str | None,
                    rows_evaluated: int, rows_passed: int, details: dict[str, Any] | None = None) -> float:
    """Store a data-quality score (share of rows passing every gate) and return it."""
    score = 1.0 if rows_evaluated == 0 else rows_passed / rows_evaluated
    stmt = insert(dq_scores).values(
        org_id=org_id, table_name=table_name, gate=gate, run_id=run_id, measured_at=utcnow(),
        rows_evaluated=rows_evaluated, rows_passed=rows_passed, score=score,
        details=orjson.dumps(details, default=str).decode() if details else None,
    )
    if isinstance(engine_or_conn, Engine):
        with engine_or_conn.begin() as conn:
            conn.execute(stmt)
    else:
        engine_or_conn.execute(stmt)
    return score


def latest_dq_scores(engine: Engine, org_id: str) -> dict[tuple[str, str], float]:
    """(table, gate) → most recent score for the org."""
    with engine.connect() as conn:
        rows = conn.execute(
            select(dq_scores.c.table_name, dq_scores.c.gate, dq_scores.c.score, dq_scores.c.id)
            .where(dq_scores.c.org_id == org_id).order_by(dq_scores.c.id)
        ).all()
    return {(t, g): s for t, g, s, _ in rows}


def audit_rows(engine: Engine, org_id: str, table_name: str | None = None, run_id: str | None = None) -> list[dict[str, Any]]:
    """Audit entries of an org (optionally one table / one run), oldest first."""
    stmt = select(audit_log).where(audit_log.c.org_id == org_id)
    if table_name:
        stmt = stmt.where(audit_log.c.table_name == table_name)
    if run_id:
        stmt = stmt.where(audit_log.c.run_id == run_id)
    with engine.connect() as conn:
        rows = conn.execute(stmt.order_by(audit_log.c.id)).mappings().all()
    return [{**row, "changed": orjson.loads(row["changed"]) if row["changed"] else None} for row in rows]


def open_quarantine(engine: Engine, org_id: str, table_name: str | None = None) -> list[dict[str, Any]]:
    """Quarantined rows not yet resolved, with their reasons decoded."""
    stmt = select(quarantine).where(quarantine.c.org_id == org_id, quarantine.c.resolved_at.is_(None))
    if table_name:
        stmt = stmt.where(quarantine.c.table_name == table_name)
    with engine.connect() as conn:
        rows = conn.execute(stmt.order_by(quarantine.c.id)).mappings().all()
    return [{**row, "reasons": orjson.loads(row["reasons"]), "raw": orjson.loads(row["raw"])} for row in rows]


def record_alert(engine: Engine, *, org_id: str | None, kind: str, run_id: str | None, job_name: str | None,
                 entity: str | None, cause: str, notified: str, notify_error: str | None = None) -> int:
    with engine.begin() as conn:
        result = conn.execute(insert(alerts).values(
            org_id=org_id, kind=kind, run_id=run_id, job_name=job_name, entity=entity, cause=cause,
            raised_at=utcnow(), notified=notified, notify_error=notify_error))
        return int(result.inserted_primary_key[0])
