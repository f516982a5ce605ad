"""Org sync into rm_raw: every catalog entity, incremental after churn, failures, SQLite and PostgreSQL."""

from __future__ import annotations

import orjson
import pytest
from sqlalchemy import text

from rm_pipelines.defs.resources import RentManagerResource
from rm_pipelines.orgs import load_registry
from rm_pipelines.rentmanager.catalog import ENTITIES
from rm_pipelines.flows.extract import OrgSync
from rm_pipelines.sandbox.churn import churn
from rm_pipelines.warehouse import ops
from rm_pipelines.warehouse.db import create_warehouse_engine
from rm_pipelines.warehouse.raw import ensure_schema

ALL = [e.name for e in ENTITIES]


def make_sync(registry_file, url, run_id, page_size=None):
    engine = create_warehouse_engine(url)
    ensure_schema(engine)
    resource = RentManagerResource(orgs_file=str(registry_file))
    org = load_registry(registry_file).get("acme")
    if page_size is not None:
        org = org.model_copy(update={"rentmanager": org.rentmanager.model_copy(update={"page_size": page_size})})
    return OrgSync(org, engine, resource.open_client, run_id=run_id), engine


def raw_count(engine, entity, where=""):
    with engine.connect() as conn:
        return conn.execute(text(f"SELECT count(*) FROM rm_raw.{entity} WHERE org_id = 'acme' {where}")).scalar_one()


def check_full_extract(registry_file, url, sandbox):
    # a page size below the smallest ledger collection makes several entities span pages, by construction
    page_size = min(sandbox.store.count("Charges"), sandbox.store.count("Payments")) // 3
    sync, engine = make_sync(registry_file, url, "run-1", page_size=page_size)
    report = sync.run(ALL, mode="incremental")
    assert report.ok, report.errors
    multi_page = {name for name, rep in report.entities.items() if rep.pages > 1}
    assert {"charges", "payments"} <= multi_page
    for name in ALL:
        rep = report.entities[name]
        assert rep.rows > 0, f"{name} extracted nothing"
        assert rep.mode == "full"  # first run: no watermark yet
        assert raw_count(engine, name) == rep.inserted == rep.rows
    # counts match the sandbox exactly for plain collections
    for entity in ENTITIES:
        if not entity.explode and not entity.filters:
            assert report.entities[entity.name].rows == sandbox.store.count(entity.path), entity.name
    # payloads are what Rent Manager sent (riders are not duplicated inside their carrier)
    with engine.connect() as conn:
        payment = orjson.loads(conn.execute(text("SELECT payload FROM rm_raw.payments LIMIT 1")).scalar_one())
        state = conn.execute(text("SELECT count(*) FROM ops.sync_state WHERE org_id='acme'")).scalar_one()
        runs = conn.execute(text("SELECT status, requests FROM ops.sync_runs WHERE org_id='acme'")).all()
    assert "Allocations" not in payment and "PaymentID" in payment
    assert state == len(ALL)
    # the run records its requests, and a multi-page entity costs one request per page
    assert runs == [("success", report.requests)]
    for name in ("charges", "payments"):
        assert report.entities[name].requests >= report.entities[name].pages > 1
    return sync, engine, report


def test_every_entity_extracts_into_sqlite(registry_file, sqlite_url, sandbox):
    check_full_extract(registry_file, sqlite_url, sandbox)


@pytest.mark.postgres
def test_every_entity_extracts_into_postgresql(registry_file, pg_url, sandbox):
    sync, engine, _ = check_full_extract(registry_file, pg_url, sandbox)
    assert engine.dialect.name == "postgresql"


def _assert_incremental_picks_up_exactly_the_churn(registry_file, url, sandbox):
    sync, engine = make_sync(registry_file, url, "run-1")
    assert sync.run(ALL).ok
    churned = churn(sandbox.store, changes=40, deletes=0, seed=5)
    assert sum(len(v) for v in churned.changed.values()) >= 30
    sync2, _ = make_sync(registry_file, url, "run-2")
    report = sync2.run(ALL)
    assert report.ok, report.errors
    by_path = {e.path: e for e in ENTITIES if not e.explode and e.incremental}
    for collection, ids in churned.changed.items():
        entity = by_path.get(collection)
        if entity is None:
            continue  # children that ride elsewhere / full-refresh entities
        with engine.connect() as conn:
            rewritten = {r[0] for r in conn.execute(
                text(f"SELECT rm_id FROM rm_raw.{entity.name} WHERE org_id='acme' AND run_id='run-2'"))}
        assert rewritten == set(ids), f"{entity.name}: rewrote {sorted(rewritten)} for changes {sorted(ids)}"
        rep = report.entities[entity.name]
        assert rep.mode == "incremental" and rep.updated + rep.inserted == len(set(ids))
    # entities untouched by churn fetched only their overlap window, rewrote nothing
    for entity in by_path.values():
        if entity.path not in churned.changed:
            assert report.entities[entity.name].updated == 0 and report.entities[entity.name].inserted == 0


def test_incremental_run_after_churn_rewrites_exactly_the_changed_rows(registry_file, sqlite_url, sandbox):
    _assert_incremental_picks_up_exactly_the_churn(registry_file, sqlite_url, sandbox)


@pytest.mark.postgres
def test_incremental_run_after_churn_on_postgresql(registry_file, pg_url, sandbox):
    _assert_incremental_picks_up_exactly_the_churn(registry_file, pg_url, sandbox)


def test_full_sync_flags_deleted_keys_and_revives_returning_ones(registry_file, sqlite_url, sandbox):
    sync, engine = make_sync(registry_file, sqlite_url, "run-1")
    assert sync.run(["charges", "tenants"]).ok
    gone = sandbox.store.records("Charges")[:3]
    sandbox.store.delete("Charges", [c["ChargeID"] for c in gone])
    report = make_sync(registry_file, sqlite_url, "run-2")[0].run(["charges"], mode="full")
    assert report.entities["charges"].marked_deleted == 3
    assert raw_count(engine, "charges", "AND deleted_at IS NOT NULL") == 3
    sandbox.store.upsert("Charges", gone)
    report = make_sync(registry_file, sqlite_url, "run-3")[0].run(["charges"], mode="full")
    assert report.entities["charges"].updated == 3 and report.entities["charges"].marked_deleted == 0
    assert raw_count(engine, "charges", "AND deleted_at IS NOT NULL") == 0


def test_malformed_page_fails_the_stream_keeps_committed_pages_and_the_watermark(registry_file, sqlite_url, sandbox):
    sync, engine = make_sync(registry_file, sqlite_url, "run-1")
    assert sync.run(["charges"]).ok
    first_mark = ops.get_watermark(engine, "acme", 1, "charges")
    churn(sandbox.store, changes=30, deletes=0, seed=9)
    sandbox.faults.malformed_page = ("Charges", 2)
    org = load_registry(registry_file).get("acme")
    small_pages = org.model_copy(update={"rentmanager": org.rentmanager.model_copy(update={"page_size": 100})})
    failing = OrgSync(small_pages, engine, RentManagerResource(orgs_file=str(registry_file)).open_client, run_id="run-2")
    report = failing.run(["charges", "tenants"], mode="full")
    assert not report.ok
    assert len(report.errors) == 1
    message = report.errors[0]
    assert "org 'acme'" in message and "entity 'charges'" in message and "page 2" in message
    assert ops.get_watermark(engine, "acme", 1, "charges") == first_mark
    assert report.entities["tenants"].error is None  # the other stream completed
    with engine.connect() as conn:
        status = conn.execute(text("SELECT status, errors FROM ops.sync_runs WHERE run_id='run-2'")).one()
    assert status[0] == "failed" and "page 2" in status[1]
