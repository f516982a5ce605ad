"""The SQLite warehouse's files and connections, without SQLAlchemy: the main file holds `estatecore`, and each
other schema is a database file attached beside it. The engine (`db.create_warehouse_engine`) and a loader's
writer process (`sqlite_writer`) both set their connections up here, so they see the same database."""

from __future__ import annotations

import sqlite3
from pathlib import Path

SCHEMAS = ("estatecore", "rm_raw", "ops", "compliance", "specialties")
SQLITE_BUSY_TIMEOUT_MS = 30_000


def attached_files(main: Path) -> dict[str, Path]:
    """SQLite: schema → the database file attached beside the main file."""
    return {schema: main.with_name(f"{main.stem}.{schema}{main.suffix or '.sqlite'}") for schema in SCHEMAS[1:]}


def configure_sqlite(dbapi_conn: sqlite3.Connection, main: Path) -> None:
    """Set up a fresh connection to the main file: the schemas attached, WAL, busy timeout, foreign keys."""
    # transactions are begun explicitly (pysqlite's own BEGIN handling defers them badly)
    dbapi_conn.isolation_level = None
    cur = dbapi_conn.cursor()
    attached = attached_files(main)
    for schema, path in attached.items():
        cur.execute(f"ATTACH DATABASE '{path}' AS {schema}")
    for schema in ("main", *attached):
        cur.execute(f"PRAGMA {schema}.journal_mode=WAL")
        cur.execute(f"PRAGMA {schema}.synchronous=NORMAL")
    cur.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.close()


def connect_sqlite(main: Path) -> sqlite3.Connection:
    """A plain driver connection to the SQLite warehouse, set up as the engine's are."""
    conn = sqlite3.connect(main, timeout=SQLITE_BUSY_TIMEOUT_MS / 1000)
    configure_sqlite(conn, main)
    return conn
