"""`ops.report_index`: one row per report file (org, kind, period, scope → path, sha256, evaluation, run).

A re-render of the same document replaces its row; files of other periods keep theirs."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, delete, insert, select

from .ops import report_index


def record(engine: Engine, rows: list[dict[str, Any]]) -> None:
    """Upsert index rows (by org, kind, period, scope, media type) in one transaction."""
    if not rows:
        return
    t = report_index
    with engine.begin() as conn:
        for r in rows:
            conn.execute(delete(t).where(t.c.org_id == r["org_id"], t.c.kind == r["kind"], t.c.period == r["period"],
                                         t.c.scope == r["scope"], t.c.media_type == r["media_type"]))
        conn.execute(insert(t), rows)


def list_reports(engine: Engine, org_id: str, *, kind: str | None = None, period: str | None = None) -> list[dict[str, Any]]:
    t = report_index
    stmt = select(t).where(t.c.org_id == org_id)
    if kind:
        stmt = stmt.where(t.c.kind == kind)
    if period:
        stmt = stmt.where(t.c.period == period)
    stmt = stmt.order_by(t.c.period.desc(), t.c.kind, t.c.scope, t.c.media_type)
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(stmt).mappings()]


def find_by_sha256(engine: Engine, sha256: str) -> dict[str, Any] | None:
    t = report_index
    with engine.connect() as conn:
        row = conn.execute(select(t).where(t.c.sha256 == sha256).limit(1)).mappings().first()
    return dict(row) if row else None
