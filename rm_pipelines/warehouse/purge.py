"""Removing an org's data for good (`rm-pipelines orgs remove --purge`): every row it holds in rm_raw, the
EstateCore tables, the compliance schema and the ops bookkeeping, children before parents, in one transaction.

The audit log keeps its history and gains one `purge` entry per table with the number of rows removed, so what
was deleted, when and by which command stays on record.
"""

from __future__ import annotations

import orjson
from sqlalchemy import Engine, MetaData, delete, insert

from .. import clock
from . import compliance_store, models, ops, raw

KEPT = {"audit_log"}  # the history of what happened, including this purge


def purge_org(engine: Engine, org_id: str, *, run_id: str) -> dict[str, int]:
    """Delete every row of `org_id` outside the audit log; returns rows removed per `schema.table`."""
    removed: dict[str, int] = {}
    now = clock.utcnow()
    with engine.begin() as conn:
        for md in (models.metadata, compliance_store.metadata, raw.metadata, ops.metadata):
            for table in _children_first(md):
                if table.name in KEPT or "org_id" not in table.c:
                    continue
                count = conn.execute(delete(table).where(table.c.org_id == org_id)).rowcount or 0
                if count:
                    removed[f"{md.schema}.{table.name}"] = count
        if removed:
            conn.execute(insert(ops.audit_log), [
                {"org_id": org_id, "table_name": name.split(".", 1)[1], "location_id": None, "rm_key": "*",
                 "action": "purge", "changed": orjson.dumps({"rows_removed": n}).decode(), "run_id": run_id, "at": now}
                for name, n in sorted(removed.items())])
    return removed


def _children_first(md: MetaData) -> list:
    return list(reversed(md.sorted_tables))
