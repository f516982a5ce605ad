"""`ops.outbox` (changes EstateCore wants written to Rent Manager), `ops.conflicts` (fields both sides changed,
waiting for a person) and the audit entries of every write. Storage only: the decisions are `writeback/`'s.

An outbox row is `pending` (to post), `sent` (accepted, being re-read), `done` (Rent Manager holds it, or nothing
was left to write), `conflict` (a person must resolve a field) or `failed` (with the reason; `retry` puts it back).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import Engine, func, insert, select, update

from .ops import _aware, audit_log, conflicts, outbox, utcnow

STATUSES = ("pending", "sent", "conflict", "failed", "done")


def _json(value: Any) -> str:
    return orjson.dumps(value, default=str).decode()


def _load(text: str | None) -> Any:
    return orjson.loads(text) if text else None


@dataclass
class OutboxRow:
    id: int
    org_id: str
    location_id: int
    resource: str
    rm_key: int
    kind: str
    fields: dict[str, Any]
    base: dict[str, Any]
    base_version: dict[str, Any]
    reason: str
    requested_by: str
    status: str
    attempts: int
    last_error: str | None
    save_options: list[str]
    created_at: datetime
    updated_at: datetime


def _row(r: Any) -> OutboxRow:
    return OutboxRow(
        id=int(r.id), org_id=r.org_id, location_id=int(r.location_id), resource=r.resource, rm_key=int(r.rm_key),
        kind=r.kind, fields=_load(r.fields) or {}, base=_load(r.base) or {}, base_version=_load(r.base_version) or {},
        reason=r.reason, requested_by=r.requested_by, status=r.status, attempts=int(r.attempts),
        last_error=r.last_error, save_options=[o for o in (r.save_options or "").split(",") if o],
        created_at=_aware(r.created_at), updated_at=_aware(r.updated_at))


def add(engine: Engine, *, org_id: str, location_id: int, resource: str, rm_key: int, kind: str,
        fields: dict[str, Any], base: dict[str, Any], base_version: dict[str, Any], reason: str,
        requested_by: str) -> int:
    now = utcnow()
    with engine.begin() as conn:
        result = conn.execute(insert(outbox).values(
            org_id=org_id, location_id=location_id, resource=resource, rm_key=rm_key, kind=kind,
            fields=_json(fields), base=_json(base), base_version=_json(base_version), reason=reason,
            requested_by=requested_by, status="pending", attempts=0, created_at=now, updated_at=now))
        return int(result.inserted_primary_key[0])


def find_pending(engine: Engine, org_id: str, location_id: int, resource: str, kind: str,
                 rm_key: int) -> OutboxRow | None:
    """The pending row for the same record and kind, if any (a new change merges into it)."""
    c = outbox.c
    with engine.connect() as conn:
        r = conn.execute(select(outbox).where(
            c.org_id == org_id, c.location_id == location_id, c.resource == resource, c.kind == kind,
            c.rm_key == rm_key, c.status == "pending").order_by(c.id).limit(1)).first()
    return _row(r) if r is not None else None


def set_fields(engine: Engine, row_id: int, **values: Any) -> None:
    """Update a row; dict values are stored as JSON, `save_options` as a comma list."""
    encoded = {k: (_json(v) if isinstance(v, dict) else v) for k, v in values.items()}
    if "save_options" in encoded and isinstance(encoded["save_options"], list):
        encoded["save_options"] = ",".join(encoded["save_options"]) or None
    with engine.begin() as conn:
        conn.execute(update(outbox).where(outbox.c.id == row_id).values(**encoded, updated_at=utcnow()))


def get(engine: Engine, row_id: int) -> OutboxRow | None:
    with engine.connect() as conn:
        r = conn.execute(select(outbox).where(outbox.c.id == row_id)).first()
    return _row(r) if r is not None else None


def rows(engine: Engine, org_id: str, *, status: str | list[str] | None = None, limit: int | None = None,
         location_id: int | None = None) -> list[OutboxRow]:
    """The org's rows, oldest first (optionally of some statuses / one location)."""
    c = outbox.c
    stmt = select(outbox).where(c.org_id == org_id)
    if status is not None:
        stmt = stmt.where(c.status.in_([status] if isinstance(status, str) else status))
    if location_id is not None:
        stmt = stmt.where(c.location_id == location_id)
    stmt = stmt.order_by(c.id)
    if limit is not None:
        stmt = stmt.limit(limit)
    with engine.connect() as conn:
        return [_row(r) for r in conn.execute(stmt)]


def counts(engine: Engine, org_id: str) -> dict[str, int]:
    c = outbox.c
    with engine.connect() as conn:
        return {s: int(n) for s, n in conn.execute(select(c.status, func.count()).where(c.org_id == org_id)
                                                   .group_by(c.status))}


def orgs_with_pending(engine: Engine) -> list[str]:
    with engine.connect() as conn:
        return sorted(o for (o,) in conn.execute(select(outbox.c.org_id).where(outbox.c.status == "pending")
                                                 .distinct()))


# -- conflicts ------------------------------------------------------------------------------------------------


def add_conflicts(engine: Engine, row: OutboxRow, found: list[Any], theirs_at: datetime | None) -> list[int]:
    """Record fields both sides changed (`writeback.policies.FieldConflict`) for a person to resolve."""
    now = utcnow()
    ids = []
    with engine.begin() as conn:
        for f in found:
            result = conn.execute(insert(conflicts).values(
                outbox_id=row.id, org_id=row.org_id, location_id=row.location_id, resource=row.resource,
                rm_key=row.rm_key, field=f.field, base=_json(f.base), ours=_json(f.ours), theirs=_json(f.theirs),
                theirs_updated_at=theirs_at, status="open", detected_at=now))
            ids.append(int(result.inserted_primary_key[0]))
    return ids


def conflict_rows(engine: Engine, org_id: str, *, status: str | None = "open",
                  outbox_id: int | None = None) -> list[dict[str, Any]]:
    c = conflicts.c
    stmt = select(conflicts).where(c.org_id == org_id)
    if status is not None:
        stmt = stmt.where(c.status == status)
    if outbox_id is not None:
        stmt = stmt.where(c.outbox_id == outbox_id)
    with engine.connect() as conn:
        found = conn.execute(stmt.order_by(c.id)).mappings().all()
    return [{**r, "base": _load(r["base"]), "ours": _load(r["ours"]), "theirs": _load(r["theirs"]),
             "detected_at": _aware(r["detected_at"]), "resolved_at": _aware(r["resolved_at"]),
             "theirs_updated_at": _aware(r["theirs_updated_at"])} for r in found]


def get_conflict(engine: Engine, conflict_id: int) -> dict[str, Any] | None:
    with engine.connect() as conn:
        r = conn.execute(select(conflicts.c.org_id).where(conflicts.c.id == conflict_id)).first()
    if r is None:
        return None
    return next((c for c in conflict_rows(engine, r.org_id, status=None) if c["id"] == conflict_id), None)


def close_conflict(engine: Engine, conflict_id: int, *, take: str, by: str) -> None:
    with engine.begin() as conn:
        conn.execute(update(conflicts).where(conflicts.c.id == conflict_id).values(
            status=take, resolved_at=utcnow(), resolved_by=by))


# -- audit ----------------------------------------------------------------------------------------------------


def audit(engine: Engine, *, org_id: str, resource: str, location_id: int, rm_key: int, action: str,
          changed: dict[str, Any] | None, run_id: str | None) -> None:
    """One `ops.audit_log` entry for a write to Rent Manager (`table_name` = rentmanager.<Resource>)."""
    with engine.begin() as conn:
        conn.execute(insert(audit_log).values(
            org_id=org_id, table_name=f"rentmanager.{resource}"[:80], location_id=location_id, rm_key=str(rm_key),
            action=action, changed=_json(changed) if changed is not None else None, run_id=run_id, at=utcnow()))
