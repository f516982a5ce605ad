"""rm_raw → EstateCore: validate, map, encrypt, upsert, soft-delete, audit — one table, one org at a time.

`load_table(engine, org=…, table=…, run_id=…, mode=…)`:

1. Scope: in `incremental` mode the rm_raw rows landed (or flagged deleted) since the table's load watermark
   (ops.load_state, minus a small overlap) plus the rows still in quarantine; in `full` mode every row. A
   changed mapping (default + org overrides fingerprint) forces a full pass.
2. Candidates: only rows whose content hash differs from the EstateCore row's `source_hash` (or that are new,
   deleted or revived) are read — an unchanged reload reads keys and hashes, never payloads.
3. Per page (chunk): pandera gate (types, nullability, ranges, enums, uniqueness, parent presence) → failing
   rows to ops.quarantine with every failed check; mapping (default + org overrides, named transforms, UDF
   typed attributes) → rows failing a transform or a required field are quarantined too; sensitive columns
   encrypted; diff against the stored row; bulk upsert; audit rows; quarantine entries of rows that now load
   are resolved. Each chunk's writes are one transaction. On PostgreSQL a writer thread applies them while the
   next chunk is prepared; on SQLite, for a large source, a writer process does (`warehouse.sqlite_writer`).
4. Deletes: a raw row flagged deleted (full sync / key scan) soft-deletes the EstateCore row; a full load also
   soft-deletes rows whose raw row vanished; a key that comes back is revived.
5. UDF values (`udf_values`) update the typed attributes of their parents (units.bin …) as they load; parents
   read the stored UDF values when they load — either order gives the same result. A UDF value its attribute
   cannot take (`lots` as an income, `31/31/2026`, an income of −99,999: `quality/udf_values.py`) is
   quarantined and not stored, so the attribute keeps the last value that passed until a valid one arrives.
6. The load watermark, a data-quality score (ops.dq_scores) and the report are recorded.

Nothing is dropped silently: each candidate row is loaded, unchanged, quarantined with reasons, counted as out of
scope (`skipped`, e.g. contacts of vendors for household_members), or the load fails.

NUL characters: PostgreSQL text cannot hold U+0000, so the same rule applies on every database — a NUL in a text
value (or a field name) of a Rent Manager record is removed before the gate ("12\\u0000B" loads as "12B"). The
character is invisible in Rent Manager, and refusing the row would take its unit, leases and certifications out
of EstateCore with it. Each removal is logged with the table, key and field, and counted in the report
(`nul_removed`); rm_raw keeps the record as it was sent.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections import Counter, defaultdict, deque
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from itertools import repeat
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo

import numpy as np
import orjson
import pandas as pd
from sqlalchemy import Engine

from .. import clock
from ..orgs import Org
from ..quality.models import known_fields
from ..quality.udf_values import udf_value_problems
from ..warehouse import ops
from ..warehouse import tables as T
from ..warehouse import transforms as TR
from ..warehouse.crypto import Keyring, get_keyring, is_encrypted
from ..warehouse.locks import OrgBusyError, org_lock
from ..warehouse.mapping import (
    CUSTOM_PREFIX,
    TableMapping,
    UdfRule,
    mapping_for,
    udf_mapping_version,
)
from ..warehouse.migrate import upgrade
from ..warehouse.models import standard_columns
from ..warehouse.read import column_schema, live_count, preview, preview_markdown
from ..warehouse.sqlite_writer import Statements, WriterProcess
from ..warehouse.sensitive import (
    is_sensitive_udf,
    protect_raw,
    raw_sensitive_fields,
    reveal_raw,
)
from ..warehouse.write import (
    Const,
    NewRows,
    Writer,
    canon_from_db,
    canon_from_plain,
    chunks,
    display,
    insert_columns,
    insert_rows,
    new_rows,
    plain_text,
)

Mode = Literal["incremental", "full"]
CHUNK_SIZE = 50_000
# SQLite: the writer process writes the last chunk after this process has prepared it, so smaller chunks shorten
# that tail (measured on 211,523 charges: 20,000-row chunks loaded in 4.7-5.0 s, 50,000-row chunks in 5.2-6.5 s)
SQLITE_CHUNK_SIZE = 20_000
IN_BATCH = 5_000
OVERLAP = timedelta(minutes=5)
BULK_FK_ROWS = 50_000  # PostgreSQL: new rows above which foreign keys are validated once after the load
SQLITE_CACHE_KIB = -131_072  # 128 MiB page cache for the writing connection (negative = KiB)
WRITER_PROCESS_ROWS = 20_000  # SQLite: rows in a source's scope from which a writer process applies the writes
PREVIEW_ROWS = 10
JOIN_WORK_MEM = "64MB"  # PostgreSQL: the chunk join sorts in memory rather than in temporary files
AUDIT_COLUMNS = ("org_id", "table_name", "location_id", "rm_key", "action", "changed", "run_id", "at")
AUDIT_KINDS = ("text", "text", "int", "text", "text", "text", "text", "datetime")
QUARANTINE_COLUMNS = ("org_id", "location_id", "entity", "rm_key", "stage", "reasons", "raw", "run_id", "created_at",
                      "table_name", "content_hash")
QUARANTINE_KINDS = ("text", "int", "text", "text", "text", "text", "text", "text", "datetime", "text", "text")

_log = logging.getLogger(__name__)


class LoadError(RuntimeError):
    """A load failed; the message names the org, table and entity."""


@dataclass
class LoadReport:
    """What one load did. `as_metadata()` gives the values for the Dagster materialisation."""

    org_id: str
    table: str
    run_id: str
    mode: str
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    soft_deleted: int = 0
    revived: int = 0
    quarantined: int = 0
    skipped: int = 0
    rows_evaluated: int = 0
    rows_in_table: int = 0
    quarantined_open: int = 0
    quality_score: float = 1.0
    quarantined_share: float = 0.0
    threshold: float = 0.01
    quarantine_reasons: dict[str, int] = field(default_factory=dict)
    nul_removed: dict[str, int] = field(default_factory=dict)  # field → rows whose NUL characters were removed
    typed_attribute_updates: dict[str, int] = field(default_factory=dict)
    sources: dict[str, dict[str, Any]] = field(default_factory=dict)
    preview: list[dict[str, Any]] = field(default_factory=list)
    column_schema: list[dict[str, Any]] = field(default_factory=list)
    lineage: dict[str, list[str]] = field(default_factory=dict)
    mapping_version: str = ""
    seconds: float = 0.0

    @property
    def check_passed(self) -> bool:
        """True when no row of the table is in quarantine."""
        return self.quarantined_open == 0

    @property
    def check_severity(self) -> str:
        """ERROR (blocking) when the quarantined share exceeds the threshold, WARN otherwise."""
        return "ERROR" if self.quarantined_share > self.threshold else "WARN"

    @property
    def preview_markdown(self) -> str:
        return preview_markdown(self.preview)

    def as_metadata(self) -> dict[str, Any]:
        return {
            "inserted": self.inserted,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "soft_deleted": self.soft_deleted,
            "revived": self.revived,
            "quarantined": self.quarantined,
            "skipped_out_of_scope": self.skipped,
            "rows_evaluated": self.rows_evaluated,
            "dagster/row_count": self.rows_in_table,
            "quarantined_open": self.quarantined_open,
            "quarantined_share": round(self.quarantined_share, 6),
            "quality_score": round(self.quality_score, 6),
            "mapping_version": self.mapping_version,
            "seconds": round(self.seconds, 3),
            "quarantine_reasons": dict(self.quarantine_reasons),
            "nul_removed": dict(self.nul_removed),
            "typed_attribute_updates": dict(self.typed_attribute_updates),
        }


# --------------------------------------------------------------------------------------------------------------


@dataclass
class _Plan:
    """The columns a table writes, with their storage kinds."""

    spec: T.TableSpec
    key: tuple[str, ...]
    values: tuple[str, ...]  # business + rm timestamps + custom
    kinds: dict[str, str]  # logical kind per value column
    storage: dict[str, str]  # storage kind for every written column ('text' for encrypted)
    sensitive: frozenset[str]

    @property
    def write_columns(self) -> tuple[str, ...]:
        return (*self.key, *self.values, "source_hash", "mapping_version", "load_run_id", "created_at",
                "updated_at", "deleted_at")


@dataclass
class _Batch:
    """The writes of one prepared chunk (one location)."""

    loc: int
    new: NewRows | None = None  # rows with new keys (column-wise; COPY text prepared on PostgreSQL)
    upserts: list[tuple] = field(default_factory=list)  # changed / revived rows
    hash_only: list[tuple] = field(default_factory=list)  # source changed in unmapped fields only
    deletes: list[tuple[int, int]] = field(default_factory=list)
    audits: list[tuple[int, str, str, dict | None]] = field(default_factory=list)
    insert_audit_keys: list[str] = field(default_factory=list)
    quarantine: list[tuple] = field(default_factory=list)
    resolved: list[int] = field(default_factory=list)
    plain: dict[str, str] = field(default_factory=dict)  # token → plaintext of the UDF values encrypted here


class _Pipeline:
    """Applies write batches on one background thread, in order, while the next chunk is prepared.

    Database drivers release the GIL while the server works, so validation/mapping of chunk N+1 overlaps
    the writes of chunk N. At most `depth` batches are in flight; the first error is raised by `flush()`
    (or the next `submit()`).

    `depth` 0 applies each batch at once in the calling thread (SQLite): the server is in-process and the driver
    takes the interpreter lock back after every statement step, so a writer thread would wait for the lock while
    the next chunk is prepared rather than work beside it — measured, the threaded writes took longer than
    preparing and writing one chunk after the other."""

    def __init__(self, depth: int = 2) -> None:
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="estatecore-writer")
        self._pending: deque[Future] = deque()
        self._depth = depth

    def submit(self, fn) -> None:  # noqa: ANN001
        if self._depth == 0:
            fn()
            return
        while len(self._pending) >= self._depth:
            self._pending.popleft().result()
        self._pending.append(self._pool.submit(fn))

    def flush(self) -> None:
        while self._pending:
            self._pending.popleft().result()

    def close(self) -> None:
        try:
            self.flush()
        finally:
            self._pool.shutdown(wait=True)


def _plan(spec: T.TableSpec) -> _Plan:
    std = standard_columns(spec)
    values = [c.name for c in spec.columns if c.name not in spec.key]
    values += [c for c in ("rm_created_at", "rm_updated_at", "custom") if c in std]
    kinds = {n: spec.column(n).kind for n in values}
    sensitive = frozenset(spec.sensitive_columns)
    storage = {n: ("text" if n in sensitive else kinds[n]) for n in values}
    for n in spec.key:
        storage[n] = spec.column(n).kind if n not in ("org_id", "location_id") else ("text" if n == "org_id" else "int")
    storage.update({"source_hash": "text", "mapping_version": "text", "load_run_id": "text", "created_at": "datetime",
                    "updated_at": "datetime", "deleted_at": "datetime"})
    return _Plan(spec, tuple(spec.key), tuple(values), kinds, storage, sensitive)


class _Loader:
    def __init__(self, engine: Engine, org: Org, spec: T.TableSpec, run_id: str, mode: Mode, threshold: float,
                 log: Any, chunk_size: int | None, writer_process_rows: int | None = None) -> None:
        self.engine = engine
        self.org = org
        self.spec = spec
        self.run_id = run_id
        self.mode = mode
        self.log = log or _log
        self.chunk_size = chunk_size or (SQLITE_CHUNK_SIZE if engine.dialect.name == "sqlite" else CHUNK_SIZE)
        self.dialect = engine.dialect.name
        self.sqlite = self.dialect == "sqlite"
        self.mapping: TableMapping = mapping_for(org, spec.name, known_fields)
        self._mappings: dict[str, TableMapping] = {spec.name: self.mapping}
        self.version = self.mapping.version
        if spec.kind == "udf":
            self.version = hashlib.blake2b(f"{self.version}|{udf_mapping_version(org, known_fields)}".encode(),
                                           digest_size=6).hexdigest()
        self.plan = _plan(spec)
        self.report = LoadReport(org.id, spec.name, run_id, mode, threshold=threshold, mapping_version=self.version)
        self.tz: dict[int, ZoneInfo] = {loc.id: ZoneInfo(loc.timezone) for loc in org.locations}
        self._keyring: Keyring | None = None
        self._parents: dict[tuple[str, int], np.ndarray] = {}
        self.reasons: Counter[str] = Counter()
        self.now = clock.utcnow()
        self.now_canon = self.now.replace(tzinfo=None).strftime("%Y-%m-%d %H:%M:%S.%f")
        self.ph = "?" if self.sqlite else "%s"
        self.qt = spec.name if self.sqlite else f"estatecore.{spec.name}"
        self.writer = _Pipeline(0 if self.sqlite else 2)  # SQLite: applied in this thread (see _Pipeline)
        self.writer_process_rows = WRITER_PROCESS_ROWS if writer_process_rows is None else writer_process_rows
        self._process_writer: WriterProcess | None = None
        self._read_conn: Any = None
        self._read_lock = threading.Lock()

    # ------------------------------------------------------------------------------------------ helpers
    def mapping_of(self, table: str) -> TableMapping:
        """The org's compiled mapping of another table, looked up once per load (not once per batch)."""
        found = self._mappings.get(table)
        if found is None:
            found = self._mappings[table] = mapping_for(self.org, table, known_fields)
        return found

    @property
    def keyring(self) -> Keyring:
        if self._keyring is None:
            self._keyring = get_keyring()
        return self._keyring

    def info(self, msg: str) -> None:
        self.log.info(msg)

    def db_time(self, value: datetime | None) -> Any:
        if value is None:
            return None
        if self.sqlite:
            return value.astimezone(timezone.utc).replace(tzinfo=None).isoformat(" ", "microseconds")
        return value

    def tz_of(self, location_id: int) -> ZoneInfo:
        return self.tz.get(location_id) or ZoneInfo(self.org.locations[0].timezone)

    def read(self, sql: str, params: tuple | list = (), *, keyed: bool = False, join: bool = False) -> list[tuple]:
        """A read that does not wait for the writer thread: on SQLite a separate connection outside the
        engine's write-locking transactions (WAL readers see the last commit), on PostgreSQL a pooled one.

        `keyed`: a key-range/key-list query that must walk the indexes. On PostgreSQL the planner is told not to
        scan sequentially: during a bulk load the tables' statistics lag far behind (an EstateCore table that
        was empty when last analyzed holds a million rows a minute later) and a sequential inner scan per
        chunk would make the load quadratic. `join`: the raw ↔ EstateCore chunk join, both sides bounded to the
        chunk's key range: hash or merge join, never a nested loop over a mis-estimated inner side."""
        if self.sqlite:
            with self._read_lock:
                if self._read_conn is None:
                    self._read_conn = self.engine.raw_connection()
                cur = self._read_conn.cursor()
                try:
                    cur.execute(sql, tuple(params))
                    return cur.fetchall()
                finally:
                    cur.close()
        with self.engine.connect() as conn:
            # the driver's cursor: plain tuples, without a Result/Row layer over every row of a chunk
            raw = conn.connection.driver_connection
            try:
                with raw.cursor() as cur:
                    if keyed:
                        cur.execute("SET LOCAL enable_seqscan = off")
                    if join:
                        cur.execute("SET LOCAL enable_nestloop = off")
                        cur.execute(f"SET LOCAL work_mem = '{JOIN_WORK_MEM}'")
                    cur.execute(sql, tuple(params))
                    return cur.fetchall()
            finally:
                raw.rollback()

    @contextmanager
    def transaction(self):  # noqa: ANN201
        """The connection a batch writes through, in one transaction: the engine's, or — while a writer process
        is running — a recording handed to it when the block ends."""
        if self._process_writer is None:
            with self.engine.begin() as conn:
                yield conn
            return
        recorded = Statements()
        yield recorded
        self._process_writer.submit(recorded)

    def start_writer_process(self, rows_in_scope: int) -> None:
        """SQLite, a large source: from now on a writer process applies the batches (see `sqlite_writer`)."""
        if not self.sqlite or self._process_writer is not None or rows_in_scope < self.writer_process_rows:
            return
        self.writer.flush()
        self._process_writer = WriterProcess(Path(self.engine.url.database).resolve())
        self.info(f"{self.org.id}/{self.spec.name}: {rows_in_scope} rows in scope; a writer process applies the "
                  "writes while the next chunk is prepared")

    def flush(self) -> None:
        """Wait until every submitted batch is written (raises the first write error)."""
        self.writer.flush()
        if self._process_writer is not None:
            self._process_writer.flush()

    def stop_writer_process(self) -> float | None:
        """Stop the writer process (after its last transaction); returns its peak RSS in MB."""
        process, self._process_writer = self._process_writer, None
        if process is None:
            return None
        process.close()
        return process.peak_rss_mb

    def close(self) -> None:
        try:
            try:
                self.writer.close()
            finally:
                self.stop_writer_process()
        finally:
            if self._read_conn is not None:
                self._read_conn.close()
                self._read_conn = None

    def parent_keys(self, table: str, location_id: int) -> np.ndarray:
        memo = (table, location_id)
        keys = self._parents.get(memo)
        if keys is None:
            qt = table if self.sqlite else f"estatecore.{table}"
            rows = self.read(f"SELECT rm_id FROM {qt} WHERE org_id = {self.ph} AND location_id = {self.ph}",
                             (self.org.id, location_id))
            keys = self._parents[memo] = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
        return keys

    # ------------------------------------------------------------------------------------------ run
    def run(self) -> LoadReport:
        self._t0 = time.monotonic()
        bulk = False
        try:
            if not self.sqlite:
                self._ensure_foreign_keys()
                bulk = self._bulk_fk_begin()
            if self.spec.kind == "derived":
                self._load_buildings()
            else:
                for source in self.spec.sources:
                    self._load_source(source)
        finally:
            try:
                self.close()
            finally:
                if bulk:
                    self._ensure_foreign_keys()
        self._finish()
        return self.report

    # ------------------------------------------------------------------------------------------ foreign keys
    def _fk_sql(self) -> dict[str, str]:
        """name → ADD CONSTRAINT clause of each foreign key of the table (PostgreSQL)."""
        out = {}
        for col in self.spec.refs:
            parent = T.get(col.ref)
            out[f"fk_{self.spec.name}_{col.name}"] = (
                f"FOREIGN KEY (org_id, location_id, {col.name}) REFERENCES estatecore.{parent.name} "
                f"(org_id, location_id, rm_id)"
            )
        return out

    def _ensure_foreign_keys(self) -> None:
        """Re-create missing foreign keys (after a bulk load, or one interrupted mid-way) and validate them."""
        wanted = self._fk_sql()
        if not wanted:
            return
        with self.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            present = {name: valid for name, valid in conn.exec_driver_sql(
                "SELECT conname, convalidated FROM pg_constraint WHERE conrelid = %s::regclass AND contype = 'f'",
                (self.qt,)).fetchall()}
            for name, clause in wanted.items():
                if name not in present:
                    conn.exec_driver_sql(f"ALTER TABLE {self.qt} ADD CONSTRAINT {name} {clause} NOT VALID")
                if not present.get(name, False):
                    try:
                        conn.exec_driver_sql(f"ALTER TABLE {self.qt} VALIDATE CONSTRAINT {name}")
                    except Exception as exc:  # noqa: BLE001
                        raise LoadError(f"org {self.org.id!r} table {self.spec.name!r}: foreign key {name} does not "
                                        f"hold after the bulk load: {exc}") from exc

    def _bulk_fk_begin(self) -> bool:
        """PostgreSQL bulk loads (a large, mostly new table): drop the table's foreign keys for the load and
        re-create + validate them afterwards in one set-based check — the row-by-row trigger checks would
        cost more than the load. Rows only reach the table after the pandera gate verified their parents,
        and parents are never hard-deleted, so the validation at the end holds."""
        if not self.spec.refs or self.mode is None:
            return False
        raw_rows = 0
        with self.engine.connect() as conn:
            for source in self.spec.sources:
                raw_rows += int(conn.exec_driver_sql(
                    f"SELECT count(*) FROM rm_raw.{source} WHERE org_id = %s AND deleted_at IS NULL",
                    (self.org.id,)).scalar_one())
            present = int(conn.exec_driver_sql(f"SELECT count(*) FROM {self.qt}").scalar_one())
        if raw_rows - present < BULK_FK_ROWS or present > raw_rows // 2:
            return False
        try:
            with self.engine.begin() as conn:
                conn.exec_driver_sql("SET LOCAL lock_timeout = '10s'")
                for name in self._fk_sql():
                    conn.exec_driver_sql(f"ALTER TABLE {self.qt} DROP CONSTRAINT IF EXISTS {name}")
        except Exception as exc:  # noqa: BLE001 — a busy table: load with the constraints in place
            self.log.warning(f"{self.org.id}/{self.spec.name}: keeping foreign keys during the load ({exc})")
            return False
        self.info(f"{self.org.id}/{self.spec.name}: bulk load of ~{raw_rows - present} rows; foreign keys are "
                  f"validated once at the end")
        return True

    def _finish(self) -> None:
        r = self.report
        r.rows_in_table = live_count(self.engine, self.spec.name, self.org.id)
        written = r.inserted + r.updated + r.revived + r.soft_deleted
        if not self.sqlite and written >= max(1000, r.rows_in_table // 10):
            # fresh statistics after a bulk change: children's foreign-key checks and joins need index plans
            with self.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.exec_driver_sql(f"ANALYZE {self.qt}")
        with self.engine.connect() as conn:
            r.quarantined_open = int(conn.exec_driver_sql(
                f"SELECT count(DISTINCT entity || ':' || COALESCE(location_id, 0) || ':' || rm_key) FROM ops.quarantine "
                f"WHERE org_id = {self.ph} AND table_name = {self.ph} AND resolved_at IS NULL",
                (self.org.id, self.spec.name),
            ).scalar_one())
        total = r.rows_in_table + r.quarantined_open
        r.quality_score = 1.0 if total == 0 else r.rows_in_table / total
        r.quarantined_share = 0.0 if total == 0 else r.quarantined_open / total
        r.quarantine_reasons = dict(self.reasons.most_common(20))
        ops.record_dq_score(self.engine, org_id=self.org.id, table_name=self.spec.name, gate="load", run_id=self.run_id,
                            rows_evaluated=total, rows_passed=r.rows_in_table,
                            details={"quarantine_reasons": r.quarantine_reasons, "run_rows_evaluated": r.rows_evaluated})
        r.preview = preview(self.engine, self.spec.name, self.org.id, PREVIEW_ROWS)
        r.column_schema = column_schema(self.spec.name)
        r.lineage = self.mapping.lineage()
        r.seconds = time.monotonic() - self._t0
        self.info(
            f"{self.org.id}/{self.spec.name}: {r.inserted} inserted, {r.updated} updated, {r.unchanged} unchanged, "
            f"{r.soft_deleted} soft-deleted, {r.revived} revived, {r.quarantined} quarantined, {r.skipped} out of scope; "
            f"{r.rows_in_table} live rows, quality {r.quality_score:.4f} ({r.seconds:.1f}s)"
        )

    # ------------------------------------------------------------------------------------------ sources
    def _load_source(self, source: str) -> None:
        state = {s["source"]: s for s in ops.get_load_state(self.engine, self.org.id) if s["table_name"] == self.spec.name}
        prev = state.get(source)
        full = self.mode == "full" or prev is None or prev.get("mapping_version") != self.version
        since = None if full else (prev["watermark"] - OVERLAP if prev and prev["watermark"] else None)
        started = clock.utcnow()
        src = _Source(self, source, since)
        before = (self.report.inserted, self.report.updated, self.report.unchanged, self.report.quarantined)
        src.run_scope()
        self.flush()
        if not full:
            src.run_retries()
            self.flush()
        writer = "process" if self._process_writer is not None else "in-process"
        writer_rss = self.stop_writer_process()  # the source's writes are all committed before anything else writes
        if full:
            src.delete_orphans()
        with self.engine.begin() as conn:
            ops.set_load_state(conn, org_id=self.org.id, table_name=self.spec.name, source=source, watermark=started,
                               mapping_version=self.version, mode="full" if full else "incremental", run_id=self.run_id)
        self.report.sources[source] = {
            "mode": "full" if full else "incremental",
            "since": since.isoformat() if since else None,
            "inserted": self.report.inserted - before[0],
            "updated": self.report.updated - before[1],
            "unchanged": self.report.unchanged - before[2],
            "quarantined": self.report.quarantined - before[3],
            "writer": writer,
            **({"writer_peak_rss_mb": writer_rss} if writer_rss is not None else {}),
        }

    # ------------------------------------------------------------------------------------------ audit
    def audit(self, conn: Any, table: str, entries: list[tuple[int, str, str, dict | None]]) -> None:
        """entries: (location_id, rm_key, action, changed)"""
        if not entries:
            return
        rows = [(self.org.id, table, loc, key, action, orjson.dumps(changed).decode() if changed else None,
                 self.run_id, self.now_canon) for loc, key, action, changed in entries]
        insert_rows(conn, "ops.audit_log", AUDIT_COLUMNS, AUDIT_KINDS, rows)

    def audit_inserts(self, conn: Any, table: str, location_id: int, keys: list[str]) -> None:
        """One `insert` audit row per new key (first loads write many). SQLite: one statement for the batch, the
        keys passed as one JSON array that SQLite expands itself (`json_each`), so no row is bound in Python."""
        if not keys:
            return
        if self.sqlite:
            conn.exec_driver_sql(
                f"INSERT INTO ops.audit_log ({', '.join(AUDIT_COLUMNS)}) "
                f"SELECT ?, ?, ?, CAST(value AS TEXT), 'insert', NULL, ?, ? FROM json_each(?) ORDER BY key",
                (self.org.id, table, location_id, self.run_id, self.now_canon, orjson.dumps(keys).decode()))
            return
        cols = [Const(self.org.id), Const(table), Const(location_id), keys, Const("insert"), Const(None),
                Const(self.run_id), Const(self.now_canon)]
        insert_columns(conn, "ops.audit_log", AUDIT_COLUMNS, AUDIT_KINDS, cols, len(keys))

    def audit_inserts_from_stage(self, conn: Any, table: str, stage: str, location_id: int,
                                 parent_type: str | None) -> None:
        """PostgreSQL: one `insert` audit row per row of an insert stage (`Writer.insert_new`), derived on the
        server — a first load writes as many audit rows as table rows; they need no formatting or transfer."""
        key = "rm_id::text" if not parent_type else "%s || '/' || rm_id::text"
        conn.exec_driver_sql(
            f"INSERT INTO ops.audit_log ({', '.join(AUDIT_COLUMNS)}) "
            f"SELECT %s, %s, %s, {key}, 'insert', NULL, %s, %s FROM {stage}",
            (self.org.id, table, location_id, *([parent_type] if parent_type else []), self.run_id, self.now),
        )

    # ------------------------------------------------------------------------------------------ udf attributes
    def udf_attributes(self, conn: Any, parent_type: str, location_id: int, parent_ids: list[int],
                       rules: dict[str, UdfRule], targets: list[str],
                       known: dict[str, str] | None = None) -> dict[int, dict[str, Any]]:
        """Typed attribute values (canonical) of the given parents from the stored UDF values (`known`: the
        plaintext of tokens this load encrypted itself, which need no decryption)."""
        out: dict[int, dict[str, Any]] = {}
        if not rules or not parent_ids:
            return out
        qt = "udf_values" if self.sqlite else "estatecore.udf_values"
        found: list[tuple] = []
        names = list(rules)
        for batch in chunks(sorted(set(parent_ids)), IN_BATCH):
            ph_ids = ",".join([self.ph] * len(batch))
            ph_names = ",".join([self.ph] * len(names))
            sql = (f"SELECT parent_rm_id, name, value, rm_id FROM {qt} WHERE org_id = {self.ph} "
                   f"AND location_id = {self.ph} AND parent_type = {self.ph} AND deleted_at IS NULL "
                   f"AND parent_rm_id >= {self.ph} AND parent_rm_id <= {self.ph} "
                   f"AND parent_rm_id IN ({ph_ids}) AND name IN ({ph_names}) ORDER BY rm_id")
            params = (self.org.id, location_id, parent_type, min(batch), max(batch), *batch, *names)
            found += conn.exec_driver_sql(sql, params).fetchall() if conn is not None else \
                self.read(sql, params, keyed=True)
        by_rule: dict[str, list[tuple[int, Any]]] = defaultdict(list)
        known = known or {}
        enc = [v for _, _, v, _ in found if is_encrypted(v) and v not in known]
        plain = {**known, **dict(zip(enc, self.keyring.decrypt_many(enc)))} if enc else known
        for pid, name, value, _ in found:
            by_rule[name].append((pid, plain.get(value, value)))
        ctx = TR.Ctx(self.tz_of(location_id))
        for name, rule in rules.items():
            items = by_rule.get(name)
            if not items:
                continue
            s = pd.Series([v for _, v in items], dtype=object)
            vals, failed = TR.REGISTRY[rule.transform].fn(s, ctx)
            vals, failed2 = TR.coerce_to_kind(vals, rule.kind, ctx)
            bad = (failed | failed2).to_numpy()
            canon = _canonical_list(vals)
            for (pid, raw_value), value, is_bad in zip(items, canon, bad):
                if is_bad:
                    self.reasons[f"udf {parent_type} '{name}': transform {rule.transform} failed"] += 1
                    value = None
                out.setdefault(pid, {})[rule.target] = value
        defaults = {}
        for name, rule in rules.items():
            if rule.default is not None:
                dv, _ = TR.coerce_to_kind(pd.Series([rule.default], dtype=object), rule.kind, TR.Ctx())
                defaults[rule.target] = _canonical_list(dv)[0]
        if defaults:
            for pid in parent_ids:
                attrs = out.setdefault(pid, {})
                for target, value in defaults.items():
                    if attrs.get(target) is None:
                        attrs[target] = value
        for attrs in out.values():
            for t in targets:
                attrs.setdefault(t, None)
        return out

    # ------------------------------------------------------------------------------------------ buildings
    def _load_buildings(self) -> None:
        """Buildings by BIN from the units' BIN attribute (derived: no Rent Manager record of their own)."""
        ph = self.ph
        units = "units" if self.sqlite else "estatecore.units"
        props = "properties" if self.sqlite else "estatecore.properties"
        with self.engine.connect() as conn:
            groups = conn.exec_driver_sql(
                f"SELECT u.location_id, u.bin, u.property_rm_id, count(*) FROM {units} u "
                f"WHERE u.org_id = {ph} AND u.deleted_at IS NULL AND u.bin IS NOT NULL "
                f"GROUP BY u.location_id, u.bin, u.property_rm_id",
                (self.org.id,),
            ).fetchall()
            pis = {(loc, pid): canon_from_db("date", v) for loc, pid, v in conn.exec_driver_sql(
                f"SELECT location_id, rm_id, placed_in_service FROM {props} WHERE org_id = {ph}", (self.org.id,)).fetchall()}
            existing = {(loc, b): (pid, cnt, canon_from_db("date", p), deleted is not None)
                        for loc, b, pid, cnt, p, deleted in conn.exec_driver_sql(
                            f"SELECT location_id, bin, property_rm_id, unit_count, placed_in_service, deleted_at "
                            f"FROM {self.qt} WHERE org_id = {ph}", (self.org.id,)).fetchall()}
        best: dict[tuple[int, str], tuple[int, int]] = {}
        totals: Counter = Counter()
        for loc, b, pid, cnt in groups:
            totals[(loc, b)] += cnt
            if (loc, b) not in best or cnt > best[(loc, b)][1]:
                best[(loc, b)] = (pid, cnt)
        rows, audits, deletes = [], [], []
        r = self.report
        for (loc, b), (pid, _) in sorted(best.items()):
            new = (pid, totals[(loc, b)], pis.get((loc, pid)))
            digest = hashlib.blake2b(orjson.dumps(new), digest_size=16).hexdigest()
            old = existing.get((loc, b))
            r.rows_evaluated += 1
            row = (self.org.id, loc, b, pid, new[1], new[2], digest, self.version, self.run_id, self.now_canon,
                   self.now_canon, None)
            if old is None:
                r.inserted += 1
                rows.append(row)
                audits.append((loc, b, "insert", None))
            elif old[:3] != new or old[3]:
                changed = {k: [o, n] for k, o, n in zip(("property_rm_id", "unit_count", "placed_in_service"), old[:3], new)
                           if o != n}
                if old[3]:
                    r.revived += 1
                    changed["deleted_at"] = ["set", None]
                else:
                    r.updated += 1
                rows.append(row)
                audits.append((loc, b, "revive" if old[3] else "update", changed))
            else:
                r.unchanged += 1
        for (loc, b), old in existing.items():
            if (loc, b) not in best and not old[3]:
                deletes.append((self.now_canon, self.now_canon, self.run_id, self.org.id, loc, b))
                audits.append((loc, b, "delete", None))
        r.soft_deleted += len(deletes)
        cols = ("org_id", "location_id", "bin", "property_rm_id", "unit_count", "placed_in_service", "source_hash",
                "mapping_version", "load_run_id", "created_at", "updated_at", "deleted_at")
        with self.engine.begin() as conn:
            w = Writer(conn, self.spec.name, {**self.plan.storage, "bin": "text"}, self.spec.key)
            w.upsert(cols, rows)
            w.update(("deleted_at", "updated_at", "load_run_id"), ("org_id", "location_id", "bin"), deletes)
            self.audit(conn, self.spec.name, audits)
            ops.set_load_state(conn, org_id=self.org.id, table_name=self.spec.name, source="", watermark=self.now,
                               mapping_version=self.version, mode="full", run_id=self.run_id)


# --------------------------------------------------------------------------------------------------------------


class _Source:
    """Loads the rows of one rm_raw entity into the loader's table."""

    def __init__(self, loader: _Loader, source: str, since: datetime | None) -> None:
        from ..rentmanager import catalog

        self.L = loader
        self.source = source
        self.entity = catalog.get(source)
        self.since = since
        self.spec = loader.spec
        self.plan = loader.plan
        self.parent_type = T.UDF_SOURCES.get(source) if loader.spec.kind == "udf" else None
        self.processed: set[tuple[int, int]] = set()
        self.raw_sensitive = raw_sensitive_fields(source)
        self.open_q = self._open_quarantine()
        # RM field → parent table, for the parent-presence checks (foreign keys with a plain field)
        self.parent_fields: dict[str, str] = {}
        for col in self.spec.refs:
            rule = loader.mapping.rule(col.name)
            if rule and rule.field and rule.field.isidentifier():
                self.parent_fields[rule.field] = col.ref  # type: ignore[assignment]
        self._deleted_parents: set[int] = set()
        self._parent_pos = 0
        self.org_udf_sensitive: set[str] = set()
        self.attribute_rules: dict[str, UdfRule] = {}
        self.attribute_columns: dict[str, T.Column] = {}
        if self.parent_type:
            from ..warehouse.mapping import udf_rules_by_parent

            rules = udf_rules_by_parent(loader.org, known_fields).get(self.parent_type, {})
            self.org_udf_sensitive = {n for n, u in rules.items() if u.sensitive}
            self.attribute_rules = rules  # UDF values that feed typed attributes pass their gate before loading
            self.attribute_columns = {c.name: c for c in T.get(T.UDF_PARENT_TABLE[self.parent_type]).columns}
        self.own_udf_rules: dict[str, UdfRule] = loader.mapping.udf_by_name() if self.spec.udf_parent_type else {}
        from ..quality.validate import base_schema

        self.gate_text = {name for name, col in base_schema(source).columns.items() if str(col.dtype) == "str"}
        self.udf_targets = [c.name for c in self.spec.udf_columns]

    # ------------------------------------------------------------------------------------------ queries
    def _select(self, on_extra: str = "") -> str:
        """Raw rows joined to their EstateCore rows. `on_extra` bounds the EstateCore side of the join to the
        chunk's key range, so the join stays proportional to the chunk whatever the planner believes."""
        L = self.L
        raw = f"rm_raw.{self.entity.raw_table}"
        pt = f" AND e.parent_type = {L.ph}" if self.parent_type else ""
        return (
            f"SELECT r.location_id, r.rm_id, r.content_hash, r.payload, r.deleted_at IS NOT NULL, r.parent_rm_id, "
            f"e.id IS NOT NULL, e.deleted_at IS NOT NULL "
            f"FROM {raw} r LEFT JOIN {L.qt} e ON e.org_id = r.org_id AND e.location_id = r.location_id "
            f"AND e.rm_id = r.rm_id{pt}{on_extra} "
            f"WHERE r.org_id = {L.ph} "
        )

    def _candidate_filter(self) -> str:
        ph = self.L.ph
        return (
            f" AND ((e.id IS NULL AND r.deleted_at IS NULL)"
            f" OR (e.id IS NOT NULL AND r.deleted_at IS NOT NULL AND e.deleted_at IS NULL)"
            f" OR (e.id IS NOT NULL AND r.deleted_at IS NULL AND (e.source_hash IS NULL OR e.source_hash <> r.content_hash"
            f" OR e.mapping_version IS NULL OR e.mapping_version <> {ph} OR e.deleted_at IS NOT NULL)))"
        )

    def _base_params(self, on_params: list[Any] | None = None) -> list[Any]:
        params: list[Any] = []
        if self.parent_type:
            params.append(self.parent_type)
        params += on_params or []
        params.append(self.L.org.id)
        return params

    def _scope_count(self) -> int:
        """Live raw rows in scope (for the unchanged count)."""
        L = self.L
        raw = f"rm_raw.{self.entity.raw_table}"
        sql = f"SELECT count(*) FROM {raw} r WHERE r.org_id = {L.ph} AND r.deleted_at IS NULL"
        params: list[Any] = [L.org.id]
        if self.since is not None:
            sql += f" AND r.extracted_at > {L.ph}"
            params.append(L.db_time(self.since))
        return int(L.read(sql, params)[0][0])

    def run_scope(self) -> None:
        L = self.L
        scope_live = self._scope_count()
        if not self.parent_type:  # UDF values read their parents inside the write (typed attributes)
            L.start_writer_process(scope_live)
        live_candidates = 0
        raw = f"rm_raw.{self.entity.raw_table}"
        # the distinct locations one primary-key probe each (a DISTINCT would read every row of the org)
        locations = [loc for (loc,) in L.read(
            f"WITH RECURSIVE locs(loc) AS (SELECT min(location_id) FROM {raw} WHERE org_id = {L.ph} "
            f"UNION ALL SELECT (SELECT min(location_id) FROM {raw} WHERE org_id = {L.ph} AND location_id > loc) "
            f"FROM locs WHERE loc IS NOT NULL) SELECT loc FROM locs WHERE loc IS NOT NULL", (L.org.id, L.org.id))]
        sql = self._select(f" AND e.rm_id > {L.ph} AND e.rm_id <= {L.ph}")
        if self.since is not None:
            sql += f" AND (r.extracted_at > {L.ph} OR r.deleted_at > {L.ph})"
        sql += self._candidate_filter()
        sql += f" AND r.location_id = {L.ph} AND r.rm_id > {L.ph} AND r.rm_id <= {L.ph} ORDER BY r.rm_id"
        bound_sql = (f"SELECT rm_id FROM {raw} WHERE org_id = {L.ph} AND location_id = {L.ph} AND rm_id > {L.ph} "
                     f"ORDER BY rm_id LIMIT 1 OFFSET {int(L.chunk_size) - 1}")

        def fetch(loc: int, last: int) -> tuple[int | None, list[tuple]]:
            """One chunk: a range of the raw primary key (org_id, location_id, rm_id) of at most chunk_size rows;
            returns the range's upper bound (None for the last chunk) and the candidate rows in it."""
            bound = L.read(bound_sql, (L.org.id, loc, last), keyed=True)
            hi = bound[0][0] if bound else 2**62
            params = self._base_params([last, hi])
            if self.since is not None:
                params += [L.db_time(self.since), L.db_time(self.since)]
            params += [L.version, loc, last, hi]
            return (hi if bound else None), L.read(sql, params, keyed=True, join=True)

        if L.sqlite:
            # read in this thread: sqlite3 takes the interpreter lock back after every row it steps, and beside a
            # thread that computes each take waits for that thread to yield (every 5 ms) — on a read-ahead thread
            # a 50,000-row chunk took minutes to read instead of a quarter of a second
            for loc in sorted(locations):
                hi: int | None = -(2**62)
                while hi is not None:
                    hi, rows = fetch(loc, hi)
                    if rows:
                        live_candidates += sum(1 for r in rows if not r[4])
                        self._process(rows)
        else:
            # the next chunk is read (the server works, the driver waits without the GIL) while this one is
            # validated and mapped: a chunk's join reads only its own key range, which no other chunk writes
            with ThreadPoolExecutor(max_workers=1, thread_name_prefix="estatecore-reader") as pool:
                for loc in sorted(locations):
                    ahead = pool.submit(fetch, loc, -(2**62))
                    while ahead is not None:
                        hi, rows = ahead.result()
                        ahead = pool.submit(fetch, loc, hi) if hi is not None else None
                        if rows:
                            live_candidates += sum(1 for r in rows if not r[4])
                            self._process(rows)
        # rows in scope that were no candidates are unchanged
        L.report.unchanged += max(0, scope_live - live_candidates)

    def run_retries(self) -> None:
        """Incremental mode: re-try rows still in quarantine that the scope did not cover."""
        L = self.L
        todo: dict[int, list[int]] = defaultdict(list)
        for (entity, loc, key) in self.open_q:
            if entity == self.source and _storable_key(key) and (loc, int(key)) not in self.processed:
                todo[loc].append(int(key))
        for loc, keys in todo.items():
            for batch in chunks(sorted(keys), IN_BATCH):
                sql = (self._select(f" AND e.rm_id >= {L.ph} AND e.rm_id <= {L.ph}")
                       + f" AND r.location_id = {L.ph} AND r.rm_id >= {L.ph} AND r.rm_id <= {L.ph} "
                       f"AND r.rm_id IN ({','.join([L.ph] * len(batch))})"
                       + self._candidate_filter() + " ORDER BY r.rm_id")
                params = [*self._base_params([batch[0], batch[-1]]), loc, batch[0], batch[-1], *batch, L.version]
                rows = L.read(sql, params, keyed=True, join=True)
                if rows:
                    self._process(rows)

    def delete_orphans(self) -> None:
        """Full mode: soft-delete EstateCore rows whose raw row no longer exists at all."""
        L = self.L
        raw = f"rm_raw.{self.entity.raw_table}"
        pt = f" AND e.parent_type = {L.ph}" if self.parent_type else ""
        # the rows this load wrote were read from their raw rows moments ago (the loader never removes raw rows,
        # a sync only flags them deleted): only the others can have lost theirs — a first load looks up nothing
        sql = (f"SELECT e.location_id, e.rm_id FROM {L.qt} e WHERE e.org_id = {L.ph}{pt} AND e.deleted_at IS NULL "
               f"AND e.updated_at <> {L.ph} "
               f"AND NOT EXISTS (SELECT 1 FROM {raw} r WHERE r.org_id = e.org_id AND r.location_id = e.location_id "
               f"AND r.rm_id = e.rm_id)")
        params = [L.org.id] + ([self.parent_type] if self.parent_type else []) + [L.db_time(L.now)]
        gone = L.read(sql, params)
        if gone:
            with L.engine.begin() as conn:
                self._soft_delete(conn, [(loc, key) for loc, key in gone])

    # ------------------------------------------------------------------------------------------ quarantine state
    def _open_quarantine(self) -> dict[tuple[str, int, str], list[tuple[int, str | None]]]:
        L = self.L
        rows = L.read(
            f"SELECT id, entity, location_id, rm_key, content_hash FROM ops.quarantine WHERE org_id = {L.ph} "
            f"AND table_name = {L.ph} AND resolved_at IS NULL",
            (L.org.id, self.spec.name),
        )
        out: dict[tuple[str, int, str], list[tuple[int, str | None]]] = defaultdict(list)
        for qid, entity, loc, key, digest in rows:
            out[(entity, loc or 0, key or "")].append((qid, digest))
        return out

    # ------------------------------------------------------------------------------------------ one chunk
    def _process(self, rows: list[tuple]) -> None:
        by_loc: dict[int, list[tuple]] = defaultdict(list)
        for r in rows:
            by_loc[r[0]].append(r)
        for loc, loc_rows in by_loc.items():
            batch = self._prepare(loc, loc_rows)
            self.L.writer.submit(lambda b=batch: self._apply(b))

    def _prepare(self, loc: int, rows: list[tuple]) -> _Batch:
        """Validate and map one location's chunk (pure Python + reads); the writes are applied later."""
        L = self.L
        r = L.report
        b = _Batch(loc)
        live: list[tuple] = rows
        if self.since is not None:  # the retry pass skips what the scope already covered
            self.processed.update((loc, row[1]) for row in rows)
        if any(row[4] for row in rows):
            live = []
            for row in rows:
                if row[4]:  # raw row flagged deleted
                    if row[6] and not row[7]:
                        b.deletes.append((loc, row[1]))
                    b.resolved.append(row[1])
                else:
                    live.append(row)
        stored: list[dict[str, Any]] = []
        keep: list[tuple] = []
        quarantine: list[tuple[tuple, dict | None, str, list[str]]] = []
        loads = orjson.loads
        texts = [row[3] for row in live]
        try:  # the whole chunk at C speed; a bad payload sends the chunk through the row-by-row path below
            stored = list(map(loads, texts))
            keep = live if set(map(type, stored)) <= {dict} else []
        except orjson.JSONDecodeError:
            keep = []
        if live and not keep:
            stored = []
            for row in live:
                try:
                    rec = loads(row[3])
                except orjson.JSONDecodeError as exc:
                    quarantine.append((row, None, "validate", [f"payload is not JSON: {exc}"]))
                    continue
                if not isinstance(rec, dict):
                    quarantine.append((row, None, "validate", ["payload is not a JSON object"]))
                    continue
                stored.append(rec)
                keep.append(row)
        records = stored
        if self.raw_sensitive or self.parent_type:  # encrypted values in the payload: decrypted for the gate
            records = [reveal_raw(self.source, rec, L.keyring) if _has_encrypted(rec) else rec for rec in stored]
        if any(map(str.__contains__, texts if keep is live else [row[3] for row in keep], repeat(_NUL_ESCAPE))):
            # JSON writes U+0000 as this escape: rare, looked for at C speed
            records = self._without_nul(keep, records)
        if self.spec.source_filter and records:
            fld, want = self.spec.source_filter
            inside = [rec.get(fld) == want for rec in records]
            for row, ok in zip(keep, inside):
                if not ok:  # out of scope (e.g. contacts of vendors for household_members)
                    r.skipped += 1
                    if row[6] and not row[7]:
                        b.deletes.append((loc, row[1]))
                    b.resolved.append(row[1])
            records = [rec for rec, ok in zip(records, inside) if ok]
            stored = [rec for rec, ok in zip(stored, inside) if ok]
            keep = [row for row, ok in zip(keep, inside) if ok]
        r.rows_evaluated += len(records) + len(quarantine)
        if records:
            frame = pd.DataFrame.from_records(records)
            from ..quality.validate import validate_page

            parents = {fld: (table, L.parent_keys(table, loc)) for fld, table in self.parent_fields.items()}
            result = validate_page(self.source, frame, parents=parents, sensitive=self.raw_sensitive)
            failures = result.failures
            for i, reasons in failures.items():
                quarantine.append((keep[i], stored[i], "validate", reasons))
            valid_idx = [i for i in range(len(frame)) if i not in failures] if failures else list(range(len(frame)))
            if valid_idx:
                typed = result.frame if not failures else result.frame.iloc[valid_idx]
                untyped = frame if not failures else frame.iloc[valid_idx]
                vrows = [keep[i] for i in valid_idx]
                cols, map_failures = self._map(typed, untyped, loc, vrows)
                for p, reasons in map_failures.items():
                    quarantine.append((vrows[p], stored[valid_idx[p]], "map", reasons))
                if map_failures:
                    ok = [p for p in range(len(vrows)) if p not in map_failures]
                    vrows = [vrows[p] for p in ok]
                    cols = {c: [v[p] for p in ok] for c, v in cols.items()}
                if vrows:
                    self._diff(b, vrows, cols, loc)
        r.quarantined += len(quarantine)
        q_rows, superseded = self._quarantine_rows(loc, quarantine)
        b.quarantine = q_rows
        b.resolved += superseded
        b.resolved = [k for k in b.resolved if (self.source, loc, str(k)) in self.open_q] if self.open_q else []
        # keep the open-quarantine state current for later chunks / the retry pass
        for k in b.resolved:
            self.open_q.pop((self.source, loc, str(k)), None)
        for q in q_rows:
            self.open_q[(self.source, loc, q[3])] = [(-1, q[10])]
        return b

    def _without_nul(self, rows: list[tuple], records: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """The records with NUL characters removed from text values and field names (module docstring)."""
        L = self.L
        out, named = [], []
        for row, rec in zip(rows, records):
            if _NUL_ESCAPE not in row[3]:
                out.append(rec)
                continue
            paths: list[str] = []
            out.append(_strip_nul(rec, "", paths))
            for path in paths:
                L.report.nul_removed[path] = L.report.nul_removed.get(path, 0) + 1
            if paths:
                named.append(f"{self.entity.key} {row[1]}: {', '.join(paths)}")
        if named:
            L.log.warning(f"{L.org.id}/{self.spec.name}: removed NUL characters (PostgreSQL text cannot hold them) "
                          f"from {len(named)} row(s): {'; '.join(named[:20])}" + (" …" if len(named) > 20 else ""))
        return out

    def _apply(self, b: _Batch) -> None:
        """Write one prepared batch in one transaction (on the writer thread, or recorded for the writer process)."""
        L = self.L
        plan = self.plan
        with L.transaction() as conn:
            if L.sqlite:
                conn.exec_driver_sql(f"PRAGMA main.cache_size = {SQLITE_CACHE_KIB}")  # index pages of big tables
            w = Writer(conn, self.spec.name, plan.storage, plan.spec.key)
            new_stage = w.insert_new(b.new) if b.new is not None else None
            if new_stage is not None:  # PostgreSQL: the audit rows of the inserts straight from their stage
                L.audit_inserts_from_stage(conn, self.spec.name, new_stage, b.loc, self.parent_type)
            w.upsert(plan.write_columns, b.upserts)
            if b.hash_only:
                w.update(("source_hash", "mapping_version"), tuple(plan.spec.key), b.hash_only)
            if b.deletes:
                self._soft_delete(conn, b.deletes)
            L.audit(conn, self.spec.name, b.audits)
            if b.insert_audit_keys:
                L.audit_inserts(conn, self.spec.name, b.loc, b.insert_audit_keys)
            for batch in chunks(sorted({str(k) for k in b.resolved}), IN_BATCH):
                conn.exec_driver_sql(
                    f"UPDATE ops.quarantine SET resolved_at = {L.ph} WHERE org_id = {L.ph} AND table_name = {L.ph} "
                    f"AND entity = {L.ph} AND location_id = {L.ph} AND resolved_at IS NULL "
                    f"AND rm_key IN ({','.join([L.ph] * len(batch))})",
                    (L.db_time(L.now), L.org.id, self.spec.name, self.source, b.loc, *batch),
                )
            if b.quarantine:
                insert_rows(conn, "ops.quarantine", QUARANTINE_COLUMNS, QUARANTINE_KINDS, b.quarantine)
            if self.parent_type and (b.new is not None or b.upserts):
                pos = len(plan.key) + plan.values.index("parent_rm_id")
                changed = set(b.new.column("parent_rm_id")) if b.new is not None else set()
                changed |= {row[pos] for row in b.upserts}
                self._propagate(conn, b.loc, sorted(p for p in changed if p is not None), b.plain)

    # ------------------------------------------------------------------------------------------ mapping
    def _map(self, typed: pd.DataFrame, untyped: pd.DataFrame, loc: int,
             rows: list[tuple]) -> tuple[dict[str, list[Any]], dict[int, list[str]]]:
        """Apply the mapping to the valid rows: canonical values per column, and failures by row position."""
        L = self.L
        ctx = TR.Ctx(L.tz_of(loc))
        n = len(typed)
        index = typed.index
        cols: dict[str, list[Any]] = {}
        custom: dict[str, list[Any]] = {}
        failures: dict[int, list[str]] = defaultdict(list)
        for rule in L.mapping.rules:
            if rule.field is None:
                src = pd.Series([None] * n, index=index, dtype=object)
            elif rule.field in typed.columns:
                src = typed[rule.field]
                if rule.transform == "text" and rule.field in self.gate_text:
                    # the gate already made it text (trimmed, blank → null): only the column kind remains
                    vals, failed = src, _none(src)
                    canon = _canonical_list(vals)
                    self._store(cols, custom, rule, canon)
                    continue
            elif rule.field in untyped.columns:
                src = untyped[rule.field]
            elif "[" in rule.field or "." in rule.field:
                src = _extract_path(untyped, rule.field)
            else:
                src = pd.Series([None] * n, index=index, dtype=object)
            if rule.field in self.raw_sensitive and not rule.sensitive:
                raise LoadError(f"org {L.org.id!r} table {self.spec.name!r}: sensitive field {rule.field!r} mapped "
                                f"to a clear column {rule.target!r}")
            transform = TR.REGISTRY[rule.transform]
            vals, failed = transform.fn(src, ctx)
            if rule.default is not None:
                vals = _fill_default(vals, rule.default)
            if rule.default is None and TR.is_canonical_output(transform.output, rule.kind):
                bad = failed.to_numpy()
            else:
                vals, failed2 = TR.coerce_to_kind(vals, rule.kind, ctx)
                bad = failed.to_numpy() | failed2.to_numpy()
            canon = _canonical_list(vals)
            if bad.any():
                shown = src.to_numpy(dtype=object)
                for p in np.flatnonzero(bad):
                    value = "****" if rule.sensitive else repr(shown[p])[:80]
                    failures[int(p)].append(f"{rule.target}: transform {rule.transform} failed on {rule.field} "
                                            f"(got {value})")
            if rule.required:
                for p in [p for p, v in enumerate(canon) if v is None]:
                    if not bad[p]:
                        failures[p].append(f"{rule.target}: required, {rule.field or 'default'} is missing")
            self._store(cols, custom, rule, canon)
        if self.parent_type:
            cols["parent_type"] = [self.parent_type] * n
            parent_ids = cols.get("parent_rm_id") or [None] * n
            cols["parent_rm_id"] = [p if p is not None else row[5] for p, row in zip(parent_ids, rows)]
            for p, v in enumerate(cols["parent_rm_id"]):
                if v is None:
                    failures[p].append("parent_rm_id: required, ParentID is missing")
            names = cols.get("name") or [None] * n
            ftypes = untyped["FieldType"].tolist() if "FieldType" in untyped.columns else [None] * n
            cols["is_encrypted"] = [bool(v is not None and is_sensitive_udf(nm, ft, self.org_udf_sensitive))
                                    for nm, ft, v in zip(names, ftypes, cols.get("value") or [None] * n)]
            if self.attribute_rules:  # a value its attribute cannot take stays out; the stored value is kept
                for p, reason in udf_value_problems(self.attribute_rules, self.attribute_columns, names,
                                                    cols.get("value") or [None] * n, ctx).items():
                    failures[p].append(reason)
        if self.spec.udf_parent_type and self.udf_targets:
            rm_ids = [row[1] for row in rows]
            attrs = L.udf_attributes(None, self.spec.udf_parent_type, loc, rm_ids, self.own_udf_rules,
                                     self.udf_targets)
            for target in self.udf_targets:
                cols[target] = [attrs.get(k, {}).get(target) for k in rm_ids]
        if "custom" in self.plan.values:
            if custom:
                keys = sorted(custom)
                dumps, opt = orjson.dumps, orjson.OPT_SORT_KEYS
                packed = [dumps({k: custom[k][p] for k in keys if custom[k][p] is not None}, option=opt).decode()
                          for p in range(n)]
                cols["custom"] = [None if v == "{}" else v for v in packed]
            else:
                cols["custom"] = [None] * n
        for c in self.plan.values:
            cols.setdefault(c, [None] * n)
        return cols, dict(failures)

    @staticmethod
    def _store(cols: dict[str, list[Any]], custom: dict[str, list[Any]], rule: Any, canon: list[Any]) -> None:
        if rule.target.startswith(CUSTOM_PREFIX):
            custom[rule.target[len(CUSTOM_PREFIX):]] = canon
        else:
            cols[rule.target] = canon

    # ------------------------------------------------------------------------------------------ diff
    def _diff(self, b: _Batch, rows: list[tuple], cols: dict[str, list[Any]], loc: int) -> None:
        """Classify rows (insert / update / revive / unchanged) and build the writes of the batch."""
        L = self.L
        plan = self.plan
        r = L.report
        n = len(rows)
        pt = [self.parent_type] if self.parent_type else []
        new_pos = [p for p in range(n) if not rows[p][6]]
        old_pos = [p for p in range(n) if rows[p][6]]
        b.resolved += [row[1] for row in rows]
        # ---- inserts: column-wise (the first load is all inserts)
        if new_pos:
            r.inserted += len(new_pos)
            take = (lambda col: col) if len(new_pos) == n else (lambda col: [col[p] for p in new_pos])
            value_cols = []
            for c in plan.values:
                col = take(cols[c])
                if c in plan.sensitive or (c == "value" and self.parent_type):
                    col = self._encrypt_column(c, col, take(cols["is_encrypted"]) if c == "value" else None,
                                               b.plain if c == "value" else None)
                value_cols.append(col)
            keys = [rows[p][1] for p in new_pos]
            hashes = [rows[p][2] for p in new_pos]
            b.new = new_rows(L.dialect, plan.write_columns, plan.storage,
                             [Const(L.org.id), Const(loc), *[Const(x) for x in pt], keys, *value_cols, hashes,
                              Const(L.version), Const(L.run_id), Const(L.now_canon), Const(L.now_canon), Const(None)],
                             len(new_pos))
            if L.sqlite:  # PostgreSQL derives the audit rows of the inserts from their write stage
                b.insert_audit_keys += ([f"{self.parent_type}/{k}" for k in keys] if self.parent_type
                                        else list(map(str, keys)))
        if not old_pos:
            return
        # ---- existing rows: compare column by column with what is stored
        stored_rows = self._existing(loc, [rows[p][1] for p in old_pos])
        maybe_enc = [j for j, c in enumerate(plan.values) if c in plan.sensitive or c == "value"]
        enc_old = [stored_rows[rows[p][1]][j] for p in old_pos for j in maybe_enc]
        enc_old = [v for v in enc_old if is_encrypted(v)]
        plain_cache = dict(zip(enc_old, L.keyring.decrypt_many(enc_old))) if enc_old else {}
        to_encrypt: list[tuple[int, int, str]] = []
        offset = len(plan.key)
        for p in old_pos:
            row = rows[p]
            key = row[1]
            was_deleted = bool(row[7])
            changed: dict[str, list[Any]] = {}
            vals: list[Any] = []
            row_sensitive = plan.sensitive | ({"value"} if self.parent_type and cols["is_encrypted"][p] else set())
            old = stored_rows[key]
            for j, c in enumerate(plan.values):
                kind = plan.kinds[c]
                nv = cols[c][p]
                stored_value = old[j]
                if c in row_sensitive:
                    old_plain = plain_cache.get(stored_value, stored_value) if stored_value is not None else None
                    ov = canon_from_plain(kind, old_plain) if old_plain is not None else None
                    if ov == nv and (nv is None or is_encrypted(stored_value)):
                        vals.append(stored_value)
                    else:
                        changed[c] = ["****" if ov is not None else None, "****" if nv is not None else None]
                        if nv is not None:
                            to_encrypt.append((len(b.upserts), offset + j, plain_text(kind, nv)))
                        vals.append(None)
                    continue
                vals.append(nv)
                if is_encrypted(stored_value):  # was sensitive under an earlier mapping; stored in clear from now on
                    changed[c] = ["****", display(kind, nv)]
                    continue
                ov = canon_from_db(kind, stored_value)
                if ov != nv:
                    changed[c] = [display(kind, ov), display(kind, nv)]
            audit_key = f"{self.parent_type}/{key}" if self.parent_type else str(key)
            if was_deleted:
                action = "revive"
                r.revived += 1
                changed["deleted_at"] = ["set", None]
            elif changed:
                action = "update"
                r.updated += 1
            else:
                r.unchanged += 1
                b.hash_only.append((row[2], L.version, L.org.id, loc, *pt, key))
                continue
            b.upserts.append([L.org.id, loc, *pt, key, *vals, row[2], L.version, L.run_id, L.now_canon,
                              L.now_canon, None])
            b.audits.append((loc, audit_key, action, changed))
        if to_encrypt:
            tokens = L.keyring.encrypt_many([t[2] for t in to_encrypt])
            for (i, j, _), token in zip(to_encrypt, tokens):
                b.upserts[i][j] = token
            if self.parent_type:
                b.plain.update(zip(tokens, (t[2] for t in to_encrypt)))
        b.upserts = [tuple(u) for u in b.upserts]

    def _existing(self, loc: int, keys: list[int]) -> dict[int, tuple]:
        """The stored values (plan.values order) of existing rows, by Rent Manager key."""
        L = self.L
        out: dict[int, tuple] = {}
        pt = f" AND parent_type = {L.ph}" if self.parent_type else ""
        for batch in chunks(sorted(keys), IN_BATCH):
            sql = (f"SELECT rm_id, {', '.join(self.plan.values)} FROM {L.qt} WHERE org_id = {L.ph} "
                   f"AND location_id = {L.ph}{pt} AND rm_id >= {L.ph} AND rm_id <= {L.ph} "
                   f"AND rm_id IN ({','.join([L.ph] * len(batch))})")
            params = [L.org.id, loc, *([self.parent_type] if self.parent_type else []), batch[0], batch[-1], *batch]
            for rec in L.read(sql, params, keyed=True):
                out[rec[0]] = tuple(rec[1:])
        return out

    def _encrypt_column(self, column: str, values: list[Any], only: list[bool] | None,
                        remember: dict[str, str] | None = None) -> list[Any]:
        """Encrypt a column of canonical values (UDF values only where `only` is true); `remember` collects each
        token's plaintext (the batch's typed attributes are computed from them without decrypting)."""
        kind = self.plan.kinds[column]
        idx = [i for i, v in enumerate(values) if v is not None and (only is None or only[i])]
        if not idx:
            return values
        texts = [plain_text(kind, values[i]) for i in idx]
        tokens = self.L.keyring.encrypt_many(texts)
        if remember is not None:
            remember.update(zip(tokens, texts))
        out = list(values)
        for i, t in zip(idx, tokens):
            out[i] = t
        return out

    # ------------------------------------------------------------------------------------------ deletes
    def _soft_delete(self, conn: Any, keys: list[tuple[int, int]]) -> None:
        L = self.L
        if not keys:
            return
        if self.parent_type:
            # remember the parents whose typed attributes depend on these values
            by_loc = defaultdict(list)
            for loc, key in keys:
                by_loc[loc].append(key)
            for loc, ks in by_loc.items():
                for batch in chunks(sorted(ks), IN_BATCH):
                    found = conn.exec_driver_sql(
                        f"SELECT parent_rm_id FROM {L.qt} WHERE org_id = {L.ph} AND location_id = {L.ph} "
                        f"AND parent_type = {L.ph} AND rm_id >= {L.ph} AND rm_id <= {L.ph} "
                        f"AND rm_id IN ({','.join([L.ph] * len(batch))})",
                        (L.org.id, loc, self.parent_type, batch[0], batch[-1], *batch),
                    ).fetchall()
                    self._deleted_parents = set(self._deleted_parents) | {p for (p,) in found}
            rows = [(L.now_canon, L.now_canon, L.run_id, L.org.id, loc, self.parent_type, key) for loc, key in keys]
            key_cols: tuple[str, ...] = ("org_id", "location_id", "parent_type", "rm_id")
        else:
            rows = [(L.now_canon, L.now_canon, L.run_id, L.org.id, loc, key) for loc, key in keys]
            key_cols = ("org_id", "location_id", "rm_id")
        Writer(conn, self.spec.name, L.plan.storage, self.spec.key).update(
            ("deleted_at", "updated_at", "load_run_id"), key_cols, rows)
        L.report.soft_deleted += len(keys)
        prefix = f"{self.parent_type}/" if self.parent_type else ""
        L.audit(conn, self.spec.name, [(loc, f"{prefix}{key}", "delete", None) for loc, key in keys])
        if self.parent_type and self._deleted_parents:
            for loc in {k[0] for k in keys}:
                self._propagate(conn, loc, sorted(self._deleted_parents))
            self._deleted_parents = set()

    # ------------------------------------------------------------------------------------------ quarantine rows
    def _quarantine_rows(self, loc: int, items: list[tuple[tuple, dict | None, str, list[str]]]
                         ) -> tuple[list[tuple], list[int]]:
        """Quarantine rows for ops.quarantine (a version already quarantined is not stored twice) and the keys
        whose older quarantined versions they supersede."""
        L = self.L
        out, superseded = [], []
        for row, rec, stage, reasons in items:
            for reason in reasons:
                L.reasons[_reason_key(reason)] += 1
            existing = self.open_q.get((self.source, loc, str(row[1])), [])
            if any(digest == row[2] for _, digest in existing):
                continue  # this version is already in quarantine
            if existing:
                superseded.append(row[1])
            if rec is None:
                raw_json = orjson.dumps({"unparseable_payload": row[3]}).decode()
            else:
                raw_json = orjson.dumps(protect_raw(self.source, rec) or rec).decode()
            out.append((L.org.id, loc, self.source, str(row[1]), stage, orjson.dumps(reasons).decode(), raw_json,
                        L.run_id, L.now_canon, self.spec.name, row[2]))
        return out, superseded

    # ------------------------------------------------------------------------------------------ UDF propagation
    def _propagate(self, conn: Any, loc: int, parent_ids: list[int], known: dict[str, str] | None = None) -> None:
        """Recompute the typed attributes of these parents from their UDF values and update what changed
        (`known`: plaintexts of tokens this batch encrypted)."""
        L = self.L
        if not parent_ids or not self.parent_type:
            return
        parent_table = T.UDF_PARENT_TABLE.get(self.parent_type)
        if parent_table is None:
            return
        pspec = T.get(parent_table)
        pmap = L.mapping_of(parent_table)
        rules = pmap.udf_by_name()
        targets = [c.name for c in pspec.udf_columns]
        if not targets:
            return
        pq = parent_table if L.sqlite else f"estatecore.{parent_table}"
        current: dict[int, tuple] = {}
        for batch in chunks(sorted(parent_ids), IN_BATCH):
            for rec in conn.exec_driver_sql(
                f"SELECT rm_id, {', '.join(targets)} FROM {pq} WHERE org_id = {L.ph} AND location_id = {L.ph} "
                f"AND rm_id >= {L.ph} AND rm_id <= {L.ph} AND rm_id IN ({','.join([L.ph] * len(batch))})",
                (L.org.id, loc, batch[0], batch[-1], *batch),
            ).fetchall():
                current[rec[0]] = tuple(rec[1:])
        if not current:
            return
        new_attrs = L.udf_attributes(conn, self.parent_type, loc, sorted(current), rules, targets, known)
        sensitive = set(pspec.sensitive_columns)
        kinds = {c: pspec.column(c).kind for c in targets}
        enc_old = [v for vals in current.values() for c, v in zip(targets, vals) if c in sensitive and v is not None]
        plain = dict(zip(enc_old, L.keyring.decrypt_many(enc_old))) if enc_old else {}
        updates, audits = [], []
        for pid, old_vals in current.items():
            new = new_attrs.get(pid, {t: None for t in targets})
            changed, final, enc_needed = {}, [], []
            for c, ov_raw in zip(targets, old_vals):
                nv = new.get(c)
                if c in sensitive:
                    ov = canon_from_plain(kinds[c], plain.get(ov_raw)) if ov_raw is not None else None
                    if ov == nv:
                        final.append(ov_raw)
                    else:
                        changed[c] = ["****" if ov is not None else None, "****" if nv is not None else None]
                        final.append(None if nv is None else ("__enc__", plain_text(kinds[c], nv)))
                    continue
                ov = canon_from_db(kinds[c], ov_raw)
                if ov != nv:
                    changed[c] = [display(kinds[c], ov), display(kinds[c], nv)]
                final.append(nv)
            if changed:
                updates.append((pid, final))
                audits.append((loc, str(pid), "update", changed))
        if not updates:
            return
        todo = [(i, j, v[1]) for i, (_, vals) in enumerate(updates) for j, v in enumerate(vals)
                if isinstance(v, tuple) and v and v[0] == "__enc__"]
        if todo:
            tokens = L.keyring.encrypt_many([t[2] for t in todo])
            for (i, j, _), tok in zip(todo, tokens):
                updates[i][1][j] = tok
        storage = {**_plan(pspec).storage}
        rows = [(*vals, L.now_canon, L.run_id, L.org.id, loc, pid) for pid, vals in updates]
        Writer(conn, parent_table, storage, pspec.key).update(
            (*targets, "updated_at", "load_run_id"), ("org_id", "location_id", "rm_id"), rows)
        L.audit(conn, parent_table, audits)
        L.report.typed_attribute_updates[parent_table] = L.report.typed_attribute_updates.get(parent_table, 0) + len(updates)


# --------------------------------------------------------------------------------------------------------------


_NUL_ESCAPE = "\\u0000"


def _storable_key(key: str) -> bool:
    """A quarantined key that can be an rm_raw key (a landing rejection may hold one beyond 64 bits)."""
    return key.lstrip("-").isdigit() and -(2**63) <= int(key) < 2**63


def _strip_nul(value: Any, path: str, found: list[str]) -> Any:
    """`value` without NUL characters in its strings and keys; appends the path of each cleaned value."""
    if isinstance(value, str):
        if "\x00" in value:
            found.append(path or "(value)")
            return value.replace("\x00", "")
        return value
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            name = k
            if isinstance(k, str) and "\x00" in k:
                name = k.replace("\x00", "")
                found.append(f"{path}.{name}" if path else name)
            out[name] = _strip_nul(v, f"{path}.{name}" if path else str(name), found)
        return out
    if isinstance(value, list):
        return [_strip_nul(v, f"{path}[{i}]", found) for i, v in enumerate(value)]
    return value


def _none(s: pd.Series) -> pd.Series:
    return pd.Series(False, index=s.index)


def _has_encrypted(rec: dict[str, Any]) -> bool:
    return any(is_encrypted(v) for v in rec.values())


def _reason_key(reason: str) -> str:
    # "Bedrooms: less_than_or_equal_to(50) (got 99)" → "Bedrooms: less_than_or_equal_to(50)"
    return reason.split(" (got ", 1)[0]


def _fill_default(vals: pd.Series, default: Any) -> pd.Series:
    if vals.dtype == object:
        return vals.where(vals.notna(), default)
    try:
        return vals.fillna(default)
    except (TypeError, ValueError):
        return vals.astype(object).where(vals.notna(), default)


def _canonical_list(s: pd.Series) -> list[Any]:
    """A canonical Series (Int64 / boolean / float / object) as a Python list with None for missing."""
    if isinstance(s.dtype, (pd.Int64Dtype, pd.BooleanDtype)):
        return s.to_numpy(dtype=object, na_value=None).tolist()  # Python ints / bools, at C speed
    if s.dtype == object:
        values = s.tolist()
        if pd.api.types.infer_dtype(s, skipna=False) in ("string", "integer", "boolean"):
            return values  # no missing value of any kind (NaN, NA, None) is in the column
        return [None if (v is None or v is pd.NA or (isinstance(v, float) and v != v)) else v for v in values]
    values = s.tolist()
    missing = s.isna().to_numpy()
    if missing.any():
        return [None if m else v for v, m in zip(values, missing.tolist())]
    return values


def _extract_path(frame: pd.DataFrame, path: str) -> pd.Series:
    """Values at a field path such as `Addresses[primary].City` or `LinkedUnits[0].UnitID`."""
    import re

    parts = re.findall(r"([A-Za-z_][A-Za-z0-9_]*)(?:\[(\d+|primary)\])?", path)
    root, sel = parts[0]
    if root not in frame.columns:
        return pd.Series([None] * len(frame), index=frame.index, dtype=object)

    def walk(value: Any) -> Any:
        for i, (name, selector) in enumerate(parts):
            if i > 0:
                value = value.get(name) if isinstance(value, dict) else None
            if selector and value is not None:
                if not isinstance(value, list) or not value:
                    return None
                if selector == "primary":
                    prim = [v for v in value if isinstance(v, dict) and v.get("IsPrimary")]
                    value = prim[0] if prim else value[0]
                else:
                    idx = int(selector)
                    value = value[idx] if idx < len(value) else None
            if value is None:
                return None
        return value

    return frame[root].map(walk)


# ---------------------------------------------------------------------------------------------------------- API


def load_table(
    engine: Engine,
    *,
    org: Org,
    table: str,
    run_id: str,
    mode: Mode = "incremental",
    quarantine_threshold: float = 0.01,
    log: Any = None,
    chunk_size: int | None = None,
    lock_wait_seconds: float = 0.0,
    writer_process_rows: int | None = None,
) -> LoadReport:
    """Load one EstateCore table of one org from rm_raw (see the module docstring); returns what it did.

    `chunk_size`: raw rows read, validated and written together (default SQLITE_CHUNK_SIZE on SQLite, CHUNK_SIZE
    on PostgreSQL). `writer_process_rows` (SQLite; default WRITER_PROCESS_ROWS): a source with at least this many
    rows in scope is written by a writer process beside the loading one (`warehouse.sqlite_writer`), so writing
    one chunk and preparing the next use two cores.

    Holds the org's run lock while it writes (a second run of the org waits `lock_wait_seconds`, then gets
    OrgBusyError). Raises `MappingError` for an invalid org mapping and `LoadError` when the load cannot proceed."""
    spec = T.get(table)
    if mode not in ("incremental", "full"):
        raise ValueError(f"mode must be 'incremental' or 'full', not {mode!r}")
    upgrade(engine)
    loader = _Loader(engine, org, spec, run_id, mode, quarantine_threshold, log, chunk_size, writer_process_rows)
    try:
        with org_lock(engine, org.id, holder=f"load of {table} in run {run_id}", wait_seconds=lock_wait_seconds):
            return loader.run()
    except OrgBusyError:
        raise
    except Exception as exc:
        if isinstance(exc, (LoadError, ValueError)) and f"org {org.id!r}" in str(exc):
            raise
        raise LoadError(f"org {org.id!r} table {table!r} (sources {', '.join(spec.sources) or 'derived'}): {exc}") from exc


def load_all(
    engine: Engine,
    *,
    org: Org,
    run_id: str,
    mode: Mode = "incremental",
    tables: list[str] | None = None,
    quarantine_threshold: float = 0.01,
    log: Any = None,
) -> dict[str, LoadReport]:
    """Load several tables (default: all) in dependency order (parents first, udf_values after their parents)."""
    return {
        name: load_table(engine, org=org, table=name, run_id=run_id, mode=mode,
                         quarantine_threshold=quarantine_threshold, log=log)
        for name in T.load_order(tables)
    }
