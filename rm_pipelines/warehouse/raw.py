"""`rm_raw.<entity>`: Rent Manager payloads exactly as returned, one row per (org, location, key).

Each row keeps the payload JSON, the parent key, UpdateDate (UTC), a content hash and when/which run landed
it. Landing a page writes only new or changed rows (by content hash) and reports inserted / updated /
unchanged counts; rows that cannot be keyed are returned for quarantine, never dropped.

Sensitive values (birth dates, SSNs/TINs, incomes and asset values — see `sensitive.py`) are encrypted inside
the stored payload (`"enc:<token>"`); the content hash is computed on the record as received, so change
detection does not depend on the (randomised) ciphertext.
"""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any
from zoneinfo import ZoneInfo

import orjson
from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Engine,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)

from .. import clock
from ..rentmanager.catalog import ENTITIES, Entity
from ..rentmanager.dates import UtcConverter
from .db import is_sqlite
from .sensitive import protect_raw

metadata = MetaData(schema="rm_raw")


def _raw_table(entity: Entity) -> Table:
    return Table(
        entity.raw_table,
        metadata,
        Column("org_id", String(64), primary_key=True),
        Column("location_id", Integer, primary_key=True),
        Column("rm_id", BigInteger, primary_key=True, comment=f"Rent Manager {entity.key}"),
        Column("parent_rm_id", BigInteger, nullable=True, comment=entity.parent_key),
        Column("update_date", DateTime(timezone=True), nullable=True, comment="UpdateDate, UTC"),
        Column("content_hash", String(32), nullable=False),
        Column("payload", Text, nullable=False, comment="JSON as returned by Rent Manager"),
        Column("extracted_at", DateTime(timezone=True), nullable=False),
        Column("run_id", String(64), nullable=True),
        Column("deleted_at", DateTime(timezone=True), nullable=True,
               comment="set when a complete sync no longer returns the key (Rent Manager hard-deletes)"),
        comment=entity.description,
    )


RAW_TABLES: dict[str, Table] = {e.name: _raw_table(e) for e in ENTITIES}
RAW_COLUMNS = ("org_id", "location_id", "rm_id", "parent_rm_id", "update_date", "content_hash", "payload",
               "extracted_at", "run_id", "deleted_at")
RAW_SCHEMA = [(c.name, str(c.type)) for c in RAW_TABLES["tenants"].columns]


def content_hash(record: dict[str, Any]) -> str:
    """Stable hash of a record's content (key order does not matter)."""
    return hashlib.blake2b(orjson.dumps(record, option=orjson.OPT_SORT_KEYS), digest_size=16).hexdigest()


@dataclass
class LandResult:
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: list[dict[str, Any]] = field(default_factory=list)  # {"raw": row, "rm_key": ..., "reasons": [...]}
    max_update_date: datetime | None = None

    def add(self, other: LandResult) -> None:
        self.inserted += other.inserted
        self.updated += other.updated
        self.unchanged += other.unchanged
        self.rejected.extend(other.rejected)
        if other.max_update_date and (self.max_update_date is None or other.max_update_date > self.max_update_date):
            self.max_update_date = other.max_update_date

    @property
    def rows(self) -> int:
        return self.inserted + self.updated + self.unchanged


class RawLander:
    """Writes pages into rm_raw tables for one org; safe to share between threads (writes are serialised)."""

    def __init__(self, engine: Engine, *, org_id: str, run_id: str | None) -> None:
        self.engine = engine
        self.org_id = org_id
        self.run_id = run_id
        self._sqlite = is_sqlite(engine)
        self._write_lock = threading.Lock()
        self._sql: dict[str, tuple[str, str]] = {}
        # (entity, location) → the highest key this lander has landed, for an rm_raw table that held no row of the
        # org and location when this lander first wrote to it (a first sync): a higher key cannot be stored yet, so
        # its content hash need not be looked up. None: the table had rows; every page is looked up.
        self._fresh: dict[tuple[str, int], int | None] = {}

    def _statements(self, entity: Entity) -> tuple[str, str]:
        cached = self._sql.get(entity.name)
        if cached:
            return cached
        table = f"rm_raw.{entity.raw_table}"
        ph = "?" if self._sqlite else "%s"
        cols = ", ".join(RAW_COLUMNS)
        values = ", ".join([ph] * len(RAW_COLUMNS))
        updates = ", ".join(f"{c} = excluded.{c}" for c in RAW_COLUMNS[3:])
        upsert = (f"INSERT INTO {table} ({cols}) VALUES ({values}) "
                  f"ON CONFLICT (org_id, location_id, rm_id) DO UPDATE SET {updates}")
        lookup = f"SELECT rm_id, content_hash, deleted_at IS NOT NULL FROM {table} WHERE org_id = {ph} AND location_id = {ph} AND rm_id "
        self._sql[entity.name] = (upsert, lookup)
        return upsert, lookup

    def land(self, entity: Entity, location_id: int, records: list[dict[str, Any]], tz: ZoneInfo) -> LandResult:
        """Land one page of records; returns counts and rejected rows (for quarantine)."""
        result = LandResult()
        if not records:
            return result
        sqlite = self._sqlite
        now = _db_time(clock.utcnow(), sqlite)
        to_utc = UtcConverter(tz).naive_utc
        dumps, blake2b, sort_keys = orjson.dumps, hashlib.blake2b, orjson.OPT_SORT_KEYS
        org_id, run_id, key_field, parent_key = self.org_id, self.run_id, entity.key, entity.parent_key
        cursor_field = entity.cursor or "UpdateDate"
        prepared: dict[int, tuple] = {}
        originals: dict[int, dict[str, Any]] = {}
        max_seen: datetime | None = None
        for record in records:
            key = record.get(key_field) if isinstance(record, dict) else None
            if type(key) is not int:
                result.rejected.append({"raw": record, "rm_key": key,
                                        "reasons": [f"missing or non-integer key {key_field}"]})
                continue
            try:
                updated_at = to_utc(record.get(cursor_field))
            except (ValueError, TypeError):
                result.rejected.append({"raw": record, "rm_key": key,
                                        "reasons": [f"unreadable {cursor_field} {record.get(cursor_field)!r}"]})
                continue
            if updated_at is not None and (max_seen is None or updated_at > max_seen):
                max_seen = updated_at
            parent = record.get(parent_key) if parent_key else None
            body = dumps(record, option=sort_keys)
            originals[key] = record
            prepared[key] = (
                org_id,
                location_id,
                key,
                parent if type(parent) is int else None,
                (updated_at.isoformat(" ", "microseconds") if sqlite else updated_at.replace(tzinfo=timezone.utc))
                if updated_at is not None else None,
                blake2b(body, digest_size=16).hexdigest(),
                body.decode(),
                now,
                run_id,
                None,
            )
        if max_seen is not None:
            result.max_update_date = max_seen.replace(tzinfo=timezone.utc)
        if not prepared:
            return result
        upsert, lookup = self._statements(entity)
        keys = list(prepared)
        with self._write_lock, self.engine.begin() as conn:
            fresh = (entity.name, location_id)
            if fresh not in self._fresh:
                ph = "?" if self._sqlite else "%s"
                stored = conn.exec_driver_sql(f"SELECT 1 FROM rm_raw.{entity.raw_table} WHERE org_id = {ph} "
                                              f"AND location_id = {ph} LIMIT 1", (self.org_id, location_id)).first()
                self._fresh[fresh] = None if stored else -(2**63)
            top = self._fresh[fresh]
            look = keys if top is None else [k for k in keys if k <= top]
            found: list[tuple] = []
            if look and self._sqlite:
                sql = lookup + "IN (" + ",".join("?" * len(look)) + ")"
                found = conn.exec_driver_sql(sql, (self.org_id, location_id, *look)).fetchall()
            elif look:
                # the key range bounds the primary-key scan even while the table has no statistics yet (filled
                # from empty, the planner would otherwise scan every row of the org per page: a quadratic first sync)
                found = conn.exec_driver_sql(lookup + ">= %s AND rm_id <= %s AND rm_id = ANY(%s)",
                                             (self.org_id, location_id, min(look), max(look), look)).fetchall()
            if top is not None:
                self._fresh[fresh] = max(top, max(keys))
            existing = {rm_id: (digest, bool(deleted)) for rm_id, digest, deleted in found}
            rows = []
            for key, row in prepared.items():
                old = existing.get(key)
                if old is None:
                    result.inserted += 1
                elif old[0] != row[5] or old[1]:  # changed, or back after a delete
                    result.updated += 1
                else:
                    result.unchanged += 1
                    continue
                protected = protect_raw(entity.name, originals[key])
                if protected is not None:  # sensitive values are stored encrypted
                    row = (*row[:6], dumps(protected, option=sort_keys).decode(), *row[7:])
                rows.append(row)
            if rows:
                conn.exec_driver_sql(upsert, rows)
        return result


    def live_count(self, entity: Entity, location_id: int | None = None) -> int:
        """Rows of the org (one location, or all) in the entity's rm_raw table that are not flagged deleted."""
        ph = "?" if self._sqlite else "%s"
        where, params = f"org_id = {ph} AND deleted_at IS NULL", [self.org_id]
        if location_id is not None:
            where, params = where + f" AND location_id = {ph}", [*params, location_id]
        with self.engine.connect() as conn:
            return int(conn.exec_driver_sql(f"SELECT count(*) FROM rm_raw.{entity.raw_table} WHERE {where}",
                                            tuple(params)).scalar_one())

    def absent_keys(self, entity: Entity, location_id: int, seen: set[int]) -> list[tuple[int, int | None]]:
        """(key, parent key) of the live rows of a location whose keys are not in `seen`."""
        ph = "?" if self._sqlite else "%s"
        with self.engine.connect() as conn:
            cur = conn.connection.driver_connection.cursor()  # plain tuples: a full sync reads every live key
            try:
                cur.execute(f"SELECT rm_id, parent_rm_id FROM rm_raw.{entity.raw_table} WHERE org_id = {ph} "
                            f"AND location_id = {ph} AND deleted_at IS NULL", (self.org_id, location_id))
                return [(k, p) for k, p in cur.fetchall() if k not in seen]
            finally:
                cur.close()

    def live_rows(self, entity: Entity, location_id: int, *, keys: list[int] | None = None,
                  parents: list[int] | None = None) -> list[tuple[int, int | None]]:
        """(key, parent key) of the live rows of a location with one of these keys, or one of these parents."""
        column, values = ("rm_id", keys) if keys is not None else ("parent_rm_id", parents)
        if not values:
            return []
        ph = "?" if self._sqlite else "%s"
        out: list[tuple[int, int | None]] = []
        with self.engine.connect() as conn:
            for i in range(0, len(values), 500):
                chunk = values[i:i + 500]
                out.extend(conn.exec_driver_sql(
                    f"SELECT rm_id, parent_rm_id FROM rm_raw.{entity.raw_table} WHERE org_id = {ph} AND location_id = "
                    f"{ph} AND deleted_at IS NULL AND {column} IN ({', '.join([ph] * len(chunk))})",
                    (self.org_id, location_id, *chunk)).fetchall())
        return [(int(k), p) for k, p in out]

    def payloads(self, entity: Entity, location_id: int, *, keys: list[int] | None = None,
                 parents: list[int] | None = None) -> list[dict[str, Any]]:
        """The stored payloads (sensitive values decrypted) of the live rows with these keys, or these parents, or
        (neither given) all of them."""
        from .sensitive import reveal_raw

        ph = "?" if self._sqlite else "%s"
        sql = (f"SELECT payload FROM rm_raw.{entity.raw_table} WHERE org_id = {ph} AND location_id = {ph} "
               "AND deleted_at IS NULL")
        if keys is None and parents is None:
            batches: list[tuple[str, tuple]] = [(sql, (self.org_id, location_id))]
        else:
            column, values = ("rm_id", keys) if keys is not None else ("parent_rm_id", parents or [])
            batches = [(sql + f" AND {column} IN ({', '.join([ph] * len(values[i:i + 500]))})",
                        (self.org_id, location_id, *values[i:i + 500])) for i in range(0, len(values), 500)]
        out: list[dict[str, Any]] = []
        with self.engine.connect() as conn:
            for statement, params in batches:
                out.extend(reveal_raw(entity.name, orjson.loads(payload))
                           for (payload,) in conn.exec_driver_sql(statement, params))
        return out

    def mark_deleted_keys(self, entity: Entity, location_id: int, keys: list[int]) -> int:
        """Flag these keys deleted (Rent Manager no longer returns them). Returns how many were flagged."""
        if not keys:
            return 0
        table = f"rm_raw.{entity.raw_table}"
        ph = "?" if self._sqlite else "%s"
        now = _db_time(clock.utcnow(), self._sqlite)
        with self._write_lock, self.engine.begin() as conn:
            conn.exec_driver_sql(
                f"UPDATE {table} SET deleted_at = {ph} WHERE org_id = {ph} AND location_id = {ph} AND rm_id = {ph} "
                "AND deleted_at IS NULL",
                [(now, self.org_id, location_id, k) for k in keys],
            )
        return len(keys)


def _db_time(value: datetime | None, sqlite: bool) -> Any:
    if value is None or not sqlite:
        return value
    # SQLAlchemy's SQLite DateTime storage format, so typed reads work.
    return value.astimezone(timezone.utc).replace(tzinfo=None).isoformat(" ", "microseconds")


def ensure_schema(engine: Engine) -> None:
    """Bring the database to the latest schema (rm_raw, ops and estatecore) through the Alembic migrations."""
    from .migrate import upgrade

    upgrade(engine)
