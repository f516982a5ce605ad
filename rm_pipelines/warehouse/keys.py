"""Key rotation: re-encrypt every stored sensitive value with the primary (first) key.

Covers the encrypted EstateCore columns, encrypted UDF values, the encrypted household amounts of the
compliance snapshots, sensitive values inside rm_raw payloads and
inside quarantined rows. Content hashes are untouched (they are computed on clear values), so a rotation
does not make the next sync or load see changes.
"""

from __future__ import annotations

import logging
from typing import Any

import orjson
from sqlalchemy import Engine

from . import compliance_store
from . import tables as T
from .crypto import Keyring, get_keyring, is_encrypted
from .sensitive import RAW_SENSITIVE, UDF_ENTITIES

BATCH = 2_000
log = logging.getLogger(__name__)


def _rotate_json(text: str, ring: Keyring) -> str | None:
    """The payload with every encrypted value rotated, or None when it holds none."""
    if "enc:" not in text:
        return None
    data = orjson.loads(text)
    changed = False

    def walk(v: Any) -> Any:
        nonlocal changed
        if isinstance(v, dict):
            return {k: walk(x) for k, x in v.items()}
        if isinstance(v, list):
            return [walk(x) for x in v]
        if is_encrypted(v):
            changed = True
            return ring.rotate(v)
        return v

    out = walk(data)
    return orjson.dumps(out, option=orjson.OPT_SORT_KEYS).decode() if changed else None


def _rotate_columns(engine: Engine, table: str, cols: list[str], ring: Keyring, ph: str) -> int:
    """Re-encrypt the tokens in `cols` of every row of `table` (keyed by `id`); returns the rows rewritten."""
    where = " OR ".join(f"{c} LIKE {ph}" for c in cols)
    with engine.begin() as conn:
        rows = conn.exec_driver_sql(f"SELECT id, {', '.join(cols)} FROM {table} WHERE {where}",
                                    tuple("enc:%" for _ in cols)).fetchall()
        updates = [tuple(ring.rotate(v) if is_encrypted(v) else v for v in row[1:]) + (row[0],) for row in rows]
        for i in range(0, len(updates), BATCH):
            conn.exec_driver_sql(f"UPDATE {table} SET {', '.join(f'{c} = {ph}' for c in cols)} WHERE id = {ph}",
                                 updates[i:i + BATCH])
    return len(updates)


def rotate_all(engine: Engine, keyring: Keyring | None = None) -> dict[str, int]:
    """Re-encrypt everything with the primary key; returns the number of values/rows rotated per place."""
    ring = keyring or get_keyring()
    sqlite = engine.dialect.name == "sqlite"
    ph = "?" if sqlite else "%s"
    counts: dict[str, int] = {}
    for spec in T.TABLES:
        cols = list(spec.sensitive_columns) + (["value"] if spec.name == "udf_values" else [])
        if cols:
            qt = spec.name if sqlite else f"estatecore.{spec.name}"
            counts[f"estatecore.{spec.name}"] = _rotate_columns(engine, qt, cols, ring, ph)
    for table, cols in compliance_store.sensitive_columns().items():
        counts[f"compliance.{table}"] = _rotate_columns(engine, f"compliance.{table}", cols, ring, ph)
    for entity in sorted(set(RAW_SENSITIVE) | set(UDF_ENTITIES)):
        table = f"rm_raw.{entity}"
        with engine.begin() as conn:
            rows = conn.exec_driver_sql(
                f"SELECT org_id, location_id, rm_id, payload FROM {table} WHERE payload LIKE {ph}", ("%enc:%",)).fetchall()
            updates = []
            for org_id, loc, rm_id, payload in rows:
                new = _rotate_json(payload, ring)
                if new is not None:
                    updates.append((new, org_id, loc, rm_id))
            for i in range(0, len(updates), BATCH):
                conn.exec_driver_sql(
                    f"UPDATE {table} SET payload = {ph} WHERE org_id = {ph} AND location_id = {ph} AND rm_id = {ph}",
                    updates[i:i + BATCH])
        counts[table] = len(updates)
    with engine.begin() as conn:
        rows = conn.exec_driver_sql(f"SELECT id, raw FROM ops.quarantine WHERE raw LIKE {ph}", ("%enc:%",)).fetchall()
        updates = [(new, qid) for qid, raw in rows if (new := _rotate_json(raw, ring)) is not None]
        for i in range(0, len(updates), BATCH):
            conn.exec_driver_sql(f"UPDATE ops.quarantine SET raw = {ph} WHERE id = {ph}", updates[i:i + BATCH])
    counts["ops.quarantine"] = len(updates)
    log.info("re-encrypted with the primary key: %s", counts)
    return counts
