"""Engines for the EstateCore database: SQLite by default (one file per schema, WAL, busy timeout) or PostgreSQL.

Tables live in five schemas: `estatecore` (the product tables), `rm_raw` (Rent Manager payloads as landed),
`ops` (sync state, runs, quarantine, audit), `compliance` (evaluations and the findings ledger) and `specialties`
(student housing, commercial, HOA and asset-management views). On PostgreSQL
they are real schemas; on SQLite the others are attached database files next to the main file, which holds
`estatecore`.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url

from .sqlite_files import SCHEMAS, SQLITE_BUSY_TIMEOUT_MS, attached_files, configure_sqlite


def redact_url(url: str) -> str:
    """The URL with any password hidden, for logs and metadata."""
    return make_url(url).render_as_string(hide_password=True)


def is_sqlite(engine_or_url: Engine | str) -> bool:
    url = engine_or_url.url if isinstance(engine_or_url, Engine) else make_url(engine_or_url)
    return url.get_backend_name() == "sqlite"


class WarehouseMissingError(RuntimeError):
    """A read-only command found no EstateCore database (or one not migrated yet)."""


def create_warehouse_engine(url: str, *, echo: bool = False, existing_only: bool = False) -> Engine:
    """An engine with the schemas available: attached files on SQLite, created schemas on PostgreSQL.

    `existing_only` (read-only commands): create nothing — no file, directory or schema — and raise
    WarehouseMissingError when the database is not there.
    """
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_engine(url, echo=echo, existing_only=existing_only)
    if parsed.get_backend_name() == "postgresql" and parsed.get_driver_name() in ("", "psycopg2"):
        parsed = parsed.set(drivername="postgresql+psycopg")  # psycopg 3: COPY and pipelined executemany
    engine = create_engine(parsed, echo=echo, pool_pre_ping=True, future=True)
    if engine.dialect.name == "postgresql" and not existing_only:
        with engine.begin() as conn:
            for schema in SCHEMAS:
                conn.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))
    return engine


def _sqlite_engine(url: str, *, echo: bool, existing_only: bool = False) -> Engine:
    database = make_url(url).database
    if not database or database == ":memory:":
        raise ValueError("the EstateCore warehouse needs a SQLite file, not an in-memory database")
    main = Path(database).resolve()
    attached = attached_files(main)
    if existing_only:
        absent = [p for p in (main, *attached.values()) if not p.exists()]
        if absent:
            raise WarehouseMissingError(
                f"no EstateCore database at {main} ({', '.join(p.name for p in absent)} missing); "
                "run `rm-pipelines db upgrade` (or a sync) first")
    else:
        main.parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(
        f"sqlite:///{main}",
        echo=echo,
        connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000, "check_same_thread": False},
        execution_options={"schema_translate_map": {"estatecore": None}},
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record) -> None:  # noqa: ANN001
        configure_sqlite(dbapi_conn, main)

    @event.listens_for(engine, "begin")
    def _on_begin(conn) -> None:  # noqa: ANN001
        # IMMEDIATE: take the write lock up front so concurrent writers wait (busy timeout) instead of
        # failing on a lock upgrade.
        conn.exec_driver_sql("BEGIN IMMEDIATE")

    return engine

