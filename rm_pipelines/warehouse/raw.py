"""`rm_raw.<entity>`: Rent Manager payloads exactly as returned, one row per (org, location, key).

Each row keeps the payload JSON, the parent key, UpdateDate (UTC), a content hash and when/which run landed
it. Landing a page writes only new or changed rows (by content hash) and reports inserted / updated /
unchanged counts. Rows that cannot be stored are returned for quarantine (`LandResult.rejected`), never dropped,
and never stop the page: a missing or non-integer key, a key or parent key outside the 64-bit range of the key
columns, an unreadable UpdateDate, a payload that cannot be written as JSON (an integer beyond 64 bits), and a
key that comes twice in one page with different contents (every version is rejected and the stored version,
if any, is kept; identical repeats land once and are counted in `LandResult.duplicates`). A rejection stays
open in ops.quarantine until a later page lands the key, or a complete sync no longer returns it.

Text is stored as JSON, which escapes control characters: a NUL (U+0000), which PostgreSQL text refuses, is
kept in rm_raw as the six characters `\\u0000` and reaches the loader as it was sent.

Sensitive values (birth dates, SSNs/TINs, incomes and asset values — see `sensitive.py`) are encrypted inside
the stored payload (`"enc:<token>"`); the content hash is computed on the record as received, so change
detection does not depend on the (randomised) ciphertext.
"""

from __future__ import annotations

import hashlib
import json
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
from sqlalchemy.exc import DBAPIError

from .. import clock
from ..rentmanager.catalog import ENTITIES, Entity
from ..rentmanager.dates import UtcConverter
from .db import is_sqlite
from .sensitive import protect_raw
from .tables import BY_NAME as TABLE_SPECS
from .tables import tables_for_entity

metadata = MetaData(schema="rm_raw")
KEY_MIN, KEY_MAX = -(2**63), 2**63 - 1  # the BIGINT key columns (rm_id, parent_rm_id)


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


def any_content_hash(record: Any) -> str:
    """`content_hash` of anything a page can hold, including values JSON-as-stored cannot (integers beyond
    64 bits): identifies a rejected version, so the same version is not quarantined twice."""
    try:
        body = orjson.dumps(record, option=orjson.OPT_SORT_KEYS)
    except TypeError:
        body = json.dumps(record, sort_keys=True, default=str).encode()
    return hashlib.blake2b(body, digest_size=16).hexdigest()


class LandingError(ValueError):
    """A page could not be written to rm_raw; the message names the table and location, never the values."""


def _unstorable(value: Any, path: str = "") -> str | None:
    """The path of the first value JSON-as-stored cannot hold (an integer beyond 64 bits), or None."""
    if isinstance(value, dict):
        for k, v in value.items():
            found = _unstorable(v, f"{path}.{k}" if path else str(k))
            if found:
                return found
    elif isinstance(value, list):
        for i, v in enumerate(value):
            found = _unstorable(v, f"{path}[{i}]")
            if found:
                return found
    elif type(value) is int and not -(2**63) <= value < 2**64:
        return path or "(value)"
    return None


def _key_text(key: Any) -> str | None:
    """A rejected row's key as ops.quarantine stores it (at most 64 characters)."""
    if key is None:
        return None
    text = str(key)
    return text if len(text) <= 64 else text[:61] + "..."


@dataclass
class LandResult:
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    # {"raw": row, "rm_key": ..., "reasons": [...], "content_hash": ..., "table_name": ...}
    rejected: list[dict[str, Any]] = field(default_factory=list)
    duplicates: int = 0  # identical repeats of a key within a page, landed once
    max_update_date: datetime | None = None

    def add(self, other: LandResult) -> None:
        self.inserted += other.inserted
        self.updated += other.updated
        self.unchanged += other.unchanged
        self.duplicates += other.duplicates
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
        self._rejections: dict[tuple[str, int], set[str]] = {}  # open landing rejections by (entity, location)

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
        repeats: dict[int, list[tuple[dict[str, Any], str]]] = {}  # key → every version of a repeated key
        max_seen: datetime | None = None

        def reject(record: Any, key: Any, reason: str) -> None:
            result.rejected.append({"raw": record, "rm_key": _key_text(key), "reasons": [reason],
                                    "content_hash": any_content_hash(record),
                                    "table_name": self._bound_for(entity, record)})

        for record in records:
            key = record.get(key_field) if isinstance(record, dict) else None
            if type(key) is not int:
                reject(record, key, f"missing or non-integer key {key_field}")
                continue
            if not KEY_MIN <= key <= KEY_MAX:
                reject(record, key, f"key {key_field} {key} does not fit a 64-bit integer")
                continue
            parent = record.get(parent_key) if parent_key else None
            if type(parent) is int and not KEY_MIN <= parent <= KEY_MAX:
                reject(record, key, f"parent key {parent_key} {parent} does not fit a 64-bit integer")
                continue
            try:
                updated_at = to_utc(record.get(cursor_field))
            except (ValueError, TypeError):
                reject(record, key, f"unreadable {cursor_field} {record.get(cursor_field)!r}")
                continue
            try:
                body = dumps(record, option=sort_keys)
            except TypeError:  # orjson.JSONEncodeError: an integer beyond 64 bits
                reject(record, key, f"{_unstorable(record) or 'a value'}: number does not fit 64 bits; the "
                                    "payload cannot be stored")
                continue
            digest = blake2b(body, digest_size=16).hexdigest()
            if key in prepared:  # the key came before in this page
                repeats.setdefault(key, [(originals[key], prepared[key][5])]).append((record, digest))
                continue
            if updated_at is not None and (max_seen is None or updated_at > max_seen):
                max_seen = updated_at
            originals[key] = record
            prepared[key] = (
                org_id,
                location_id,
                key,
                parent if type(parent) is int else None,
                (updated_at.isoformat(" ", "microseconds") if sqlite else updated_at.replace(tzinfo=timezone.utc))
                if updated_at is not None else None,
                digest,
                body.decode(),
                now,
                run_id,
                None,
            )
        for key, versions in repeats.items():
            if len({digest for _, digest in versions}) == 1:
                result.duplicates += len(versions) - 1  # the same record twice: nothing to choose
                continue
            del prepared[key], originals[key]  # which version is current cannot be told: none lands
            for record, _ in versions:
                reject(record, key, f"duplicate key {key_field} {key} in one page: {len(versions)} different "
                                    "versions; none landed (the stored version, if any, is kept)")
        if max_seen is not None:
            result.max_update_date = max_seen.replace(tzinfo=timezone.utc)
        if result.rejected and (entity.name, location_id) in self._rejections:
            self._rejections[(entity.name, location_id)].update(r["rm_key"] for r in result.rejected if r["rm_key"])
        if not prepared:
            return result
        upsert, lookup = self._statements(entity)
        keys = list(prepared)
        try:
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
                self._resolve_rejections(conn, entity, location_id, keys)
        except DBAPIError as exc:  # the driver's message only: its parameters would quote a page of payloads
            cause = str(exc.orig).strip().splitlines()[0] if exc.orig is not None else type(exc).__name__
            raise LandingError(f"rm_raw.{entity.raw_table} location {location_id}: a page of {len(keys)} rows "
                               f"(keys {min(keys)}..{max(keys)}) could not be written: {cause}") from None
        return result

    def _bound_for(self, entity: Entity, record: Any) -> str | None:
        """The EstateCore table a rejected row was bound for (its quarantine counts against that table)."""
        for name in tables_for_entity(entity.name):
            spec = TABLE_SPECS[name]
            if spec.source_filter and not (isinstance(record, dict)
                                           and record.get(spec.source_filter[0]) == spec.source_filter[1]):
                continue  # out of the table's scope (a vendor's contact is no household member)
            return name
        return None

    def _open_rejections(self, conn: Any, entity: Entity, location_id: int) -> set[str]:
        """Keys of this entity and location with an open landing rejection (read once per lander)."""
        memo = (entity.name, location_id)
        keys = self._rejections.get(memo)
        if keys is None:
            ph = "?" if self._sqlite else "%s"
            keys = self._rejections[memo] = {k for (k,) in conn.exec_driver_sql(
                f"SELECT rm_key FROM ops.quarantine WHERE org_id = {ph} AND entity = {ph} AND location_id = {ph} "
                f"AND stage = 'extract' AND resolved_at IS NULL", (self.org_id, entity.name, location_id)).fetchall()}
        return keys

    def _resolve_rejections(self, conn: Any, entity: Entity, location_id: int, landed: list[int]) -> None:
        """A key that lands closes its open landing rejections (a later, clean page of the record)."""
        open_keys = self._open_rejections(conn, entity, location_id)
        done = sorted(open_keys & {str(k) for k in landed})
        if not done:
            return
        ph = "?" if self._sqlite else "%s"
        conn.exec_driver_sql(
            f"UPDATE ops.quarantine SET resolved_at = {ph} WHERE org_id = {ph} AND entity = {ph} AND location_id = {ph} "
            f"AND stage = 'extract' AND resolved_at IS NULL AND rm_key IN ({','.join([ph] * len(done))})",
            (_db_time(clock.utcnow(), self._sqlite), self.org_id, entity.name, location_id, *done))
        open_keys.difference_update(done)

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

    def resolve_vanished_rejections(self, entity: Entity, location_id: int, seen: set[int]) -> int:
        """After a complete walk: a rejected key Rent Manager no longer returns was deleted there; its open
        landing rejection is closed. Returns how many were."""
        seen_text = {str(k) for k in seen}
        with self._write_lock, self.engine.begin() as conn:
            vanished = sorted(k for k in self._open_rejections(conn, entity, location_id)
                              if k.lstrip("-").isdigit() and k not in seen_text)
            if not vanished:
                return 0
            ph = "?" if self._sqlite else "%s"
            conn.exec_driver_sql(
                f"UPDATE ops.quarantine SET resolved_at = {ph} WHERE org_id = {ph} AND entity = {ph} "
                f"AND location_id = {ph} AND stage = 'extract' AND resolved_at IS NULL "
                f"AND rm_key IN ({','.join([ph] * len(vanished))})",
                (_db_time(clock.utcnow(), self._sqlite), self.org_id, entity.name, location_id, *vanished))
        self._rejections[(entity.name, location_id)].difference_update(vanished)
        return len(vanished)


def _db_time(value: datetime | None, sqlite: bool) -> Any:
    if value is None or not sqlite:
        return value
    # SQLAlchemy's SQLite DateTime storage format, so typed reads work.
    return value.astimezone(timezone.utc).replace(tzinfo=None).isoformat(" ", "microseconds")


def ensure_schema(engine: Engine) -> None:
    """Bring the database to the latest schema (rm_raw, ops and estatecore) through the Alembic migrations."""
    from .migrate import upgrade

    upgrade(engine)
