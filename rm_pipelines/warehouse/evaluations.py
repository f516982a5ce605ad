"""Reading the log of stored compliance evaluations (`compliance.evaluations`) and the last successful
sync before one: what a report says its data is "as of"."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Engine, func, select

from .compliance_store import evaluations
from .ops import sync_runs


def latest_in(engine: Engine, org_id: str, start: date, end: date) -> dict[str, Any] | None:
    """The org's latest stored evaluation dated within [start, end] (the last run of that date)."""
    t = evaluations
    stmt = (select(t).where(t.c.org_id == org_id, t.c.as_of >= start, t.c.as_of <= end)
            .order_by(t.c.as_of.desc(), t.c.id.desc()).limit(1))
    with engine.connect() as conn:
        row = conn.execute(stmt).mappings().first()
    return dict(row) if row else None


def history(engine: Engine, org_id: str, until: date) -> list[dict[str, Any]]:
    """One row per evaluation date up to ``until`` (the last run of each date), oldest first."""
    t = evaluations
    last = (select(t.c.as_of, func.max(t.c.id).label("id")).where(t.c.org_id == org_id, t.c.as_of <= until)
            .group_by(t.c.as_of).subquery())
    stmt = select(t).join(last, t.c.id == last.c.id).order_by(t.c.as_of)
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(stmt).mappings()]


def last_successful_sync(engine: Engine, org_id: str, before: datetime) -> datetime | None:
    """When the org's last successful Rent Manager sync before ``before`` finished."""
    t = sync_runs
    with engine.connect() as conn:
        value = conn.execute(select(func.max(t.c.finished_at)).where(
            t.c.org_id == org_id, t.c.status == "success", t.c.finished_at <= before)).scalar()
    if isinstance(value, str):  # SQLite returns the text of an aggregate
        value = datetime.fromisoformat(value)
    return value
