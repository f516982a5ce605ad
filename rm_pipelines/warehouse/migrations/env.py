"""Alembic environment of the EstateCore warehouse (schemas estatecore, rm_raw, ops, compliance, specialties).

Run through `rm_pipelines.warehouse.migrate.upgrade()` / `rm-pipelines db upgrade`, which hands over an open
connection (SQLite: the attached rm_raw/ops files; PostgreSQL: the three schemas). The version table is
`ops.alembic_version`. SQLite gets batch mode so later ALTERs work.
"""

from __future__ import annotations

from alembic import context

from rm_pipelines.warehouse import compliance_store, models, ops, raw, specialties_store

config = context.config
target_metadata = [models.metadata, ops.metadata, raw.metadata, compliance_store.metadata, specialties_store.metadata]


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is None:
        raise RuntimeError("use rm_pipelines.warehouse.migrate.upgrade() (rm-pipelines db upgrade) to migrate")
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        version_table_schema="ops",
        include_schemas=True,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    raise RuntimeError("offline (SQL script) migrations are not supported; run `rm-pipelines db upgrade`")
run_migrations_online()
