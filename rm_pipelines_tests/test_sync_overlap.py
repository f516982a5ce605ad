"""What an incremental run asks Rent Manager for again: the overlap is bounded by the previous read, not by the
newest change, so a run re-reads only what changed just before its predecessor read (through the sandbox over
HTTP into SQLite)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta


from rm_pipelines.defs.resources import RentManagerResource
from rm_pipelines.flows.extract import OrgSync, _next_watermark
from rm_pipelines.orgs import load_registry
from rm_pipelines.rentmanager.catalog import ENTITIES
from rm_pipelines.sandbox.churn import churn

ALL = [e.name for e in ENTITIES]
ENTITIES_BY_PATH = {e.path: e.name for e in ENTITIES if e.incremental and not e.explode and not e.filters}


def _sync(registry_file, engine, run_id):
    org = load_registry(registry_file).get("acme")
    return OrgSync(org, engine, RentManagerResource(orgs_file=str(registry_file)).open_client, run_id=run_id)


def _first_sync(registry_file, warehouse):
    report = _sync(registry_file, warehouse, "run-full").run(ALL, mode="full")
    assert report.ok, report.errors


def test_the_next_watermark_looks_back_no_further_than_the_newest_change_or_the_read_minus_the_overlap():
    overlap = timedelta(minutes=10)
    read = datetime(2026, 11, 16, 12, 0, tzinfo=UTC)
    old = read - timedelta(days=3)
    # the newest change is old: the next run asks for it and what came after, not the 10 minutes before it
    assert _next_watermark(old, read, overlap) - overlap == old
    # a recent change: the next run looks back to 10 minutes before this read began (saves still in flight)
    recent = read - timedelta(minutes=2)
    assert _next_watermark(recent, read, overlap) - overlap == read - overlap
    assert _next_watermark(None, read, overlap) is None


def _newest_only(store, entity) -> int:
    """How many records of the entity's collection carry its newest UpdateDate."""
    stamps = [datetime.fromisoformat(r["UpdateDate"][:26]) for r in store.records(entity.path) if r.get("UpdateDate")]
    return stamps.count(max(stamps)) if stamps else 0


def test_an_incremental_run_re_reads_only_the_newest_change_when_nothing_changed(registry_file, warehouse,
                                                                                  sandbox):
    """The portfolio's history ended weeks before the sync (SANDBOX_AS_OF): no save can still be in flight, so an
    incremental run asks only for the newest change and what came after it — not for the ten minutes of changes
    before the newest one, which a run used to read again every time, however long ago they were made."""
    _first_sync(registry_file, warehouse)
    report = _sync(registry_file, warehouse, "run-incr").run(ALL, mode="incremental")
    assert report.ok, report.errors
    for entity in ENTITIES:
        if entity.incremental and not entity.explode and entity.name in report.entities:
            assert report.entities[entity.name].unchanged == _newest_only(sandbox.store, entity), entity.name


def test_changes_made_just_before_a_run_are_read_again_by_the_next_one_and_nothing_is_lost(registry_file, warehouse,
                                                                                           sandbox):
    """Changes made just before a run may sit beside saves Rent Manager had not committed when it read: the next
    run asks for them again (the overlap, from the previous read's start), and finds every new change once."""
    _first_sync(registry_file, warehouse)
    first = churn(sandbox.store, changes=25, deletes=0, seed=3)
    a = _sync(registry_file, warehouse, "run-a").run(ALL, mode="incremental")
    assert a.ok, a.errors
    second = churn(sandbox.store, changes=25, deletes=0, seed=4)
    b = _sync(registry_file, warehouse, "run-b").run(ALL, mode="incremental")
    assert b.ok, b.errors
    for coll, name in ENTITIES_BY_PATH.items():
        changed_now = set(second.changed.get(coll, ()))
        assert b.entities[name].updated == len(changed_now), name
        # what the previous run read a moment ago is asked for again, and lands unchanged
        assert b.entities[name].unchanged >= len(set(first.changed.get(coll, ())) - changed_now), name
