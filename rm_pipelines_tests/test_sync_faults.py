"""Nothing lost under faults: a full sync against a server that answers short pages, 404s or deletes rows while
it pages never flags a key deleted that Rent Manager still has, and its run record tells the truth.

Each case reproduces the fault through the sandbox over a real socket, on SQLite and on PostgreSQL, and compares
rm_raw's live key set with the sandbox's."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from rm_pipelines.flows.extract import MASS_DELETE_MIN_ROWS, OrgSync
from rm_pipelines.orgs import load_registry
from rm_pipelines.warehouse.db import create_warehouse_engine
from rm_pipelines.warehouse.raw import ensure_schema

from .test_sync_access import Sleeps, client_factory


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def url(request):
    return request.getfixturevalue("sqlite_url" if request.param == "sqlite" else "pg_url")


def _sync(registry_file, engine, run_id, names, *, mode="full", page_size=None, allow_mass_delete=False):
    org = load_registry(registry_file).get("acme")
    if page_size:
        org = org.model_copy(update={"rentmanager": org.rentmanager.model_copy(update={"page_size": page_size})})
    return OrgSync(org, engine, client_factory(Sleeps()), run_id=run_id,
                   allow_mass_delete=allow_mass_delete).run(names, mode=mode)


def _live_keys(engine, table):
    with engine.connect() as conn:
        return set(conn.execute(text(f"SELECT rm_id FROM rm_raw.{table} WHERE org_id = 'acme' "
                                     "AND deleted_at IS NULL")).scalars())


def _status(engine, run_id):
    with engine.connect() as conn:
        return conn.execute(text("SELECT status FROM ops.sync_runs WHERE run_id = :r"), {"r": run_id}).scalar_one()


@pytest.fixture
def synced(registry_file, url, sandbox):
    """An org fully synced once (charges and units), so a later full sync has keys it could wrongly flag."""
    engine = create_warehouse_engine(url)
    ensure_schema(engine)
    assert _sync(registry_file, engine, "run-1", ["charges", "units"], page_size=500).ok
    yield engine
    engine.dispose()


def _assert_raw_equals_sandbox(engine, sandbox):
    assert _live_keys(engine, "charges") == set(sandbox.store.sorted_ids("Charges"))
    assert _live_keys(engine, "units") == set(sandbox.store.sorted_ids("Units"))


@pytest.mark.parametrize("header", [True, False], ids=["with-total", "without-total"])
def test_a_row_missing_from_a_page_fails_the_stream_and_flags_nothing(registry_file, synced, sandbox, header):
    sandbox.config.total_results_header = header
    sandbox.faults.short_page = ("Charges", 3, 1)
    report = _sync(registry_file, synced, "run-short", ["charges", "units"], page_size=500)
    charges = report.entities["charges"]
    # the page's own count betrays it, or (without a count) the rows that follow a short page do
    assert not report.ok and "page 3" in charges.error and "incomplete" in charges.error
    assert charges.marked_deleted == 0 and _status(synced, "run-short") == "failed"
    assert report.entities["units"].error is None
    _assert_raw_equals_sandbox(synced, sandbox)


def test_a_404_on_the_first_page_flags_nothing(registry_file, synced, sandbox):
    sandbox.faults.not_found_page = ("Units", 1)
    report = _sync(registry_file, synced, "run-404", ["units"])
    units = report.entities["units"]
    assert units.marked_deleted == 0 and units.confirmed_present == sandbox.store.count("Units")
    _assert_raw_equals_sandbox(synced, sandbox)


def test_deletes_while_paging_never_flag_a_live_key(registry_file, synced, sandbox):
    doomed = list(sandbox.store.sorted_ids("Charges")[:10])
    sandbox.faults.delete_before_page = ("Charges", 2, 10)  # another user deletes charges 1-10 mid-walk
    report = _sync(registry_file, synced, "run-shift", ["charges"], page_size=500)
    charges = report.entities["charges"]
    assert report.ok and charges.marked_deleted == 0
    assert charges.confirmed_present == 10  # the 10 rows shifted onto page 1 were asked for and found
    live = _live_keys(synced, "charges")
    assert set(sandbox.store.sorted_ids("Charges")) <= live  # nothing live was flagged
    assert set(doomed) <= live  # read before their delete: flagged by the next full sync
    report = _sync(registry_file, synced, "run-next", ["charges"], page_size=500)
    assert report.entities["charges"].marked_deleted == 10
    _assert_raw_equals_sandbox(synced, sandbox)


def test_a_mass_delete_is_refused_unless_the_run_allows_it(registry_file, synced, sandbox):
    units = list(sandbox.store.sorted_ids("Units"))
    sold = units[: max(MASS_DELETE_MIN_ROWS, len(units) // 2)]  # a property sold: half the units really gone
    sandbox.store.delete("Units", sold, missing_ok=True)
    report = _sync(registry_file, synced, "run-mass", ["units"])
    assert not report.ok
    assert "max_delete_share" in report.entities["units"].error and "allow_mass_delete" in report.entities["units"].error
    assert report.entities["units"].marked_deleted == 0 and report.entities["units"].refused_deletes == len(sold)
    assert _status(synced, "run-mass") == "failed"
    assert len(_live_keys(synced, "units")) == len(units)  # nothing flagged
    report = _sync(registry_file, synced, "run-mass-ok", ["units"], allow_mass_delete=True)
    assert report.ok and report.entities["units"].marked_deleted == len(sold) and report.entities["units"].mass_delete
    _assert_raw_equals_sandbox(synced, sandbox)


def test_a_real_delete_below_the_bound_is_flagged(registry_file, synced, sandbox):
    gone = list(sandbox.store.sorted_ids("Charges")[-3:])
    sandbox.store.delete("Charges", gone, missing_ok=True)
    report = _sync(registry_file, synced, "run-del", ["charges"], page_size=500)
    assert report.ok and report.entities["charges"].marked_deleted == 3
    assert report.entities["charges"].confirmed_present == 0
    _assert_raw_equals_sandbox(synced, sandbox)


def test_children_missed_by_the_walk_are_confirmed_through_their_parents(registry_file, url, sandbox):
    engine = create_warehouse_engine(url)
    ensure_schema(engine)
    assert _sync(registry_file, engine, "run-1", ["payments", "payment_allocations"], page_size=300).ok
    last_page = -(-sandbox.store.count("Payments") // 300)
    sandbox.faults.short_page = ("Payments", last_page, 5)  # the last page comes back 5 rows short
    sandbox.config.total_results_header = False  # without a count the walk cannot see the gap: confirmation must
    report = _sync(registry_file, engine, "run-2", ["payments", "payment_allocations"], page_size=300)
    assert report.ok
    assert report.entities["payments"].confirmed_present == 5
    assert report.entities["payment_allocations"].confirmed_present >= 5
    assert report.entities["payment_allocations"].marked_deleted == 0
    with engine.connect() as conn:
        allocations = conn.execute(text("SELECT count(*) FROM rm_raw.payment_allocations WHERE org_id = 'acme' "
                                        "AND deleted_at IS NULL")).scalar_one()
    assert allocations == sandbox.store.count("Allocations")
    engine.dispose()


def test_a_key_scan_flags_hard_deletes_without_rereading_rows(registry_file, synced, sandbox):
    gone = list(sandbox.store.sorted_ids("Charges")[5:8])
    sandbox.store.delete("Charges", gone, missing_ok=True)
    sandbox.stats.reset()
    report = _sync(registry_file, synced, "run-keyscan", ["charges", "units"], mode="keyscan", page_size=500)
    assert report.ok and report.entities["charges"].mode == "keyscan"
    assert report.entities["charges"].marked_deleted == 3 and report.entities["units"].marked_deleted == 0
    assert report.entities["charges"].inserted == report.entities["charges"].updated == 0
    _assert_raw_equals_sandbox(synced, sandbox)
    with synced.connect() as conn:  # no row was rewritten: every live row still carries the first run's id
        rewritten = conn.execute(text("SELECT count(*) FROM rm_raw.charges WHERE run_id <> 'run-1'")).scalar_one()
    assert rewritten == 0
