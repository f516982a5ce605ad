"""Schema migrations (Alembic) of the EstateCore warehouse, shipped inside the package.

`upgrade(engine_or_url)` brings a database to the latest revision: the ops tables, one rm_raw table per
catalog entity and the EstateCore tables. It runs in one transaction (PostgreSQL: under an advisory lock,
so concurrent processes do not race; SQLite: under the write lock). `rm-pipelines db upgrade` calls it, and so
does `raw.ensure_schema()` (the demo and every engine the Dagster resource opens).
"""

from __future__ import annotations

import functools
import logging
import threading
from pathlib import Path

from sqlalchemy import Engine, text

from .db import WarehouseMissingError, create_warehouse_engine, redact_url

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
VERSION_SCHEMA = "ops"
_ADVISORY_LOCK = 0x45_73_74_61  # "Esta"
_done: set[tuple[str, int]] = set()
_lock = threading.Lock()

log = logging.getLogger(__name__)


def _config():  # noqa: ANN202
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("path_separator", "os")
    return cfg


@functools.lru_cache(maxsize=1)
def head_revision() -> str:
    """The latest revision of the migrations shipped in the package (read once per process: every load asks, through
    `upgrade`, and reading the scripts directory costs tens of milliseconds)."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(_config()).get_current_head() or ""


def current_revision(engine: Engine) -> str | None:
    """The database's revision (None before the first upgrade)."""
    from alembic.migration import MigrationContext

    with engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"version_table_schema": VERSION_SCHEMA})
        return ctx.get_current_revision()


def open_existing(url: str) -> Engine:
    """An engine on a database that exists and is migrated to the latest revision, for read-only commands:
    nothing is created; WarehouseMissingError says to run `rm-pipelines db upgrade` otherwise."""
    engine = create_warehouse_engine(url, existing_only=True)
    try:
        current = current_revision(engine)
    except Exception as exc:  # noqa: BLE001 — an unreachable server or a foreign database: say which
        engine.dispose()
        raise WarehouseMissingError(f"cannot read the EstateCore database {redact_url(url)}: {exc}") from exc
    head = head_revision()
    if current != head:
        engine.dispose()
        raise WarehouseMissingError(
            f"the EstateCore database {redact_url(url)} is at revision {current or '(none: not migrated)'}, not "
            f"{head}; run `rm-pipelines db upgrade`")
    return engine


def upgrade(engine_or_url: Engine | str, revision: str = "head") -> str:
    """Migrate the database to `revision` (default: the latest); returns the revision reached."""
    engine = create_warehouse_engine(engine_or_url) if isinstance(engine_or_url, str) else engine_or_url
    memo = (str(engine.url), id(engine))
    if revision == "head" and memo in _done:
        return head_revision()
    alembic_log = logging.getLogger("alembic")
    level = alembic_log.level
    alembic_log.setLevel(max(logging.WARNING, level))  # keep "setup plugin …" chatter out of run logs
    try:
        return _upgrade(engine, revision, memo)
    finally:
        alembic_log.setLevel(level)


def _upgrade(engine: Engine, revision: str, memo: tuple[str, int]) -> str:
    from alembic import command

    with _lock:
        cfg = _config()
        with engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _ADVISORY_LOCK})
            cfg.attributes["connection"] = conn
            before = _revision_of(conn)
            command.upgrade(cfg, revision)
            after = _revision_of(conn)
        if before != after:
            log.info("warehouse %s migrated %s → %s", engine.url.render_as_string(hide_password=True),
                     before or "(empty)", after)
        if revision == "head":
            _done.add(memo)
    return after or ""


def _revision_of(conn) -> str | None:  # noqa: ANN001
    from alembic.migration import MigrationContext

    return MigrationContext.configure(conn, opts={"version_table_schema": VERSION_SCHEMA}).get_current_revision()
