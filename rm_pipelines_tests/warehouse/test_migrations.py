"""Alembic migrations: idempotent, matching the models, covering every catalog entity, upgrading old databases."""

from __future__ import annotations

import datetime as dt
import importlib.util
from decimal import Decimal

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Column, MetaData, Table, inspect
from sqlalchemy.schema import BLANK_SCHEMA

from rm_pipelines.rentmanager.catalog import ENTITIES
from rm_pipelines.warehouse import compliance_store, models, ops, raw, specialties_store
from rm_pipelines.warehouse.db import create_warehouse_engine
from rm_pipelines.warehouse.migrate import MIGRATIONS_DIR, current_revision, head_revision, upgrade


def _revisions():
    for path in sorted((MIGRATIONS_DIR / "versions").glob("*.py")):
        if path.name == "__init__.py":
            continue
        spec = importlib.util.spec_from_file_location(f"_rev_{path.stem}", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        yield module


def test_every_catalog_entity_has_a_raw_table_in_some_revision():
    covered = {name for rev in _revisions() for name, *_ in getattr(rev, "RAW_ENTITIES", ())}
    missing = [e.name for e in ENTITIES if e.name not in covered]
    assert not missing, (
        f"catalog entities without an rm_raw table in the migrations: {missing}. Add a revision whose upgrade() "
        f"calls create_raw_table(<entity>, <key>, <parent key>) for each (see versions/0001_initial.py)."
    )


def test_upgrade_is_idempotent_and_matches_the_models(engine):
    assert current_revision(engine) == head_revision()
    upgrade(engine)
    upgrade(engine.url.render_as_string(hide_password=False))  # a second process / URL form
    assert current_revision(engine) == head_revision()

    def include(obj, name, type_, reflected, compare_to):  # noqa: ANN001
        return not (type_ == "table" and name == "alembic_version")

    with engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={
            "include_schemas": True, "compare_type": False, "include_object": include,
            "version_table_schema": "ops",
        })
        target = MetaData()
        sqlite = engine.dialect.name == "sqlite"

        def referred(table, to_schema, constraint, referred_schema):  # noqa: ANN001, ANN202
            return BLANK_SCHEMA if sqlite and referred_schema == "estatecore" else referred_schema

        for md in (models.metadata, ops.metadata, raw.metadata, compliance_store.metadata, specialties_store.metadata):
            for table in md.tables.values():
                table.to_metadata(target, schema=None if (sqlite and table.schema == "estatecore") else table.schema,
                                  referred_schema_fn=referred)
        diffs = compare_metadata(ctx, target)
    assert diffs == [], diffs


def test_database_created_before_migrations_is_upgraded(tmp_path):
    url = f"sqlite:///{tmp_path / 'old.sqlite'}"
    eng = create_warehouse_engine(url)
    # the pre-migration layout: rm_raw and ops tables from create_all, quarantine without the new columns
    old_ops = MetaData(schema="ops")
    for t in ops.metadata.tables.values():
        if t.name in ("sync_state", "sync_runs", "quarantine"):
            cols = [Column(c.name, c.type, primary_key=c.primary_key, nullable=c.nullable) for c in t.columns
                    if c.name not in ("table_name", "content_hash", "resolved_at")]
            Table(t.name, old_ops, *cols)
    old_ops.create_all(eng)
    raw.metadata.create_all(eng)
    with eng.begin() as conn:
        conn.exec_driver_sql("INSERT INTO rm_raw.units (org_id, location_id, rm_id, content_hash, payload, extracted_at) "
                             "VALUES ('acme', 1, 7, 'h', '{}', '2026-01-01 00:00:00.000000')")
    assert current_revision(eng) is None
    upgrade(eng)
    assert current_revision(eng) == head_revision()
    insp = inspect(eng)
    assert {"table_name", "content_hash", "resolved_at"} <= {c["name"] for c in insp.get_columns("quarantine", "ops")}
    assert "units" in insp.get_table_names() and "audit_log" in insp.get_table_names(schema="ops")
    with eng.connect() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM rm_raw.units").scalar() == 1  # data kept


def test_plaintext_income_derivatives_move_into_the_encrypted_token(tmp_path):
    """A database evaluated before % of AMI and the TTP were encrypted keeps their values, encrypted."""
    from rm_pipelines.warehouse.crypto import get_keyring, is_encrypted

    eng = create_warehouse_engine(f"sqlite:///{tmp_path / 'before.sqlite'}")
    AS_OF = dt.date(2026, 11, 20)
    upgrade(eng, "0007_webhooks_writeback")
    token = get_keyring().encrypt('{"annual_income":"41250.00"}')
    with eng.begin() as conn:
        conn.exec_driver_sql(
            "INSERT INTO compliance.unit_status (as_of, run_id, org_id, unit_id, pct_ami, household_amounts) "
            "VALUES ('2026-11-20', 'r', 'acme', 'L1-U7', 573125, ?), ('2026-11-20', 'r', 'acme', 'L1-U8', NULL, NULL)",
            (token,))  # Fixed(18, 4) on SQLite: a scaled integer, 57.3125
        conn.exec_driver_sql(
            "INSERT INTO compliance.assisted_households (as_of, run_id, org_id, household_id, program, ttp) "
            "VALUES ('2026-11-20', 'r', 'acme', 'L1-L3', 'section8', 612)")
    upgrade(eng)
    assert current_revision(eng) == head_revision()
    insp = inspect(eng)
    assert "pct_ami" not in {c["name"] for c in insp.get_columns("unit_status", "compliance")}
    assert "ttp" not in {c["name"] for c in insp.get_columns("assisted_households", "compliance")}
    with eng.connect() as conn:
        tokens = conn.exec_driver_sql("SELECT household_amounts FROM compliance.unit_status ORDER BY id").scalars().all()
    assert is_encrypted(tokens[0]) and "57.3125" not in tokens[0] and tokens[1] is None
    units = compliance_store.read_snapshot(eng, "unit_status", "acme", AS_OF, decrypt=True)
    assert [(u["unit_id"], u["pct_ami"], u["annual_income"]) for u in units] == [
        ("L1-U7", Decimal("57.3125"), Decimal("41250.00")), ("L1-U8", None, None)]
    assisted = compliance_store.read_snapshot(eng, "assisted_households", "acme", AS_OF, decrypt=True)
    assert [(a["household_id"], a["ttp"], a["annual_income"]) for a in assisted] == [("L1-L3", 612, None)]
