"""A sync cannot hurt a Rent Manager account: one login per run, a rejected login is final, lost login answers
are retried a bounded number of times, throttled logins are waited out, and the run record tells the truth."""

from __future__ import annotations

import os
import threading
import time

import pytest
from sqlalchemy import text

from rm_pipelines.orgs import load_registry
from rm_pipelines.rentmanager.catalog import ENTITIES
from rm_pipelines.rentmanager.client import RentManagerClient
from rm_pipelines.rentmanager.ratelimit import RequestBudget
from rm_pipelines.flows.extract import OrgSync
from rm_pipelines.warehouse import ops
from rm_pipelines.warehouse.db import create_warehouse_engine
from rm_pipelines.warehouse.locks import OrgBusyError, org_lock
from rm_pipelines.warehouse.raw import ensure_schema

ALL = [e.name for e in ENTITIES]
LOGIN = "/Authentication/AuthorizeUser"


class Sleeps:
    """Records sleeps instead of sleeping, so waiting is observable and the tests stay fast."""

    def __init__(self) -> None:
        self.calls: list[float] = []
        self._lock = threading.Lock()

    def __call__(self, seconds: float) -> None:
        with self._lock:
            self.calls.append(seconds)


def client_factory(sleeps: Sleeps, **overrides):
    """Clients built like the resource builds them, but waiting through `sleeps` (no real sleeping)."""

    def make(org, location_id, timezone):
        rm = org.rentmanager
        return RentManagerClient(
            rm.url, location_id=location_id, timezone=timezone, max_attempts=rm.max_attempts,
            budget=RequestBudget(None, sleep=sleeps), sleep=sleeps, **org.credentials(), **overrides)

    return make


def engine_for(url):
    engine = create_warehouse_engine(url)
    ensure_schema(engine)
    return engine


def run_sync(registry_file, engine, run_id, factory, names=ALL, org=None):
    org = org or load_registry(registry_file).get("acme")
    return OrgSync(org, engine, factory, run_id=run_id).run(names, mode="incremental")


def sync_run_row(engine, run_id):
    with engine.connect() as conn:
        return conn.execute(text("SELECT status, requests, errors FROM ops.sync_runs WHERE run_id = :r"),
                            {"r": run_id}).one()


def test_a_wrong_password_is_one_login_attempt_and_stops_every_stream(registry_file, sqlite_url, sandbox, monkeypatch):
    monkeypatch.setenv("TEST_RM_PASSWORD", "not-the-password")
    engine = engine_for(sqlite_url)
    sandbox.stats.reset()
    report = run_sync(registry_file, engine, "run-bad", client_factory(Sleeps()))
    assert not report.ok and len(report.errors) == 1
    message = report.errors[0]
    assert "org 'acme' location 1" in message and "login" in message and "rejected" in message
    assert "TEST_RM_USER" in message and "TEST_RM_PASSWORD" in message and "not-the-password" not in message
    assert sandbox.stats.by_path == {LOGIN: 1}  # one attempt, then nothing else
    assert report.entities == {}  # no stream ran
    status, requests, errors = sync_run_row(engine, "run-bad")
    assert status == "failed" and requests == 1 and "TEST_RM_PASSWORD" in errors


def test_a_locked_user_is_not_asked_again_by_other_locations(registry_file, sqlite_url, sandbox, monkeypatch):
    monkeypatch.setenv("TEST_RM_PASSWORD", "wrong")
    org = load_registry(registry_file).get("acme")
    two_locations = org.model_copy(update={"locations": [*org.locations, org.locations[0].model_copy(update={"id": 2})]})
    sandbox.stats.reset()
    report = run_sync(registry_file, engine_for(sqlite_url), "run-2loc", client_factory(Sleeps()), org=two_locations)
    assert not report.ok and sandbox.stats.by_path == {LOGIN: 1}


def test_dropped_login_answers_are_retried_a_bounded_number_of_times(registry_file, sqlite_url, sandbox):
    engine = engine_for(sqlite_url)
    sandbox.faults.drop_next = 12  # every answer lost: each login may have minted a token on the server
    sandbox.stats.reset()
    report = run_sync(registry_file, engine, "run-drop", client_factory(Sleeps()))
    assert not report.ok and len(report.errors) == 1
    assert "login" in report.errors[0] and "page" not in report.errors[0]
    assert sandbox.stats.by_path == {LOGIN: 3}  # the client's lifetime login budget, not one per entity
    assert sandbox.api.tokens.live_count("demo") <= 3  # at most 3 unreachable tokens, well under the cap of 10
    assert sync_run_row(engine, "run-drop")[0] == "failed"
    # the account is still usable: a second run logs in and syncs
    sandbox.faults.reset()
    assert run_sync(registry_file, engine, "run-after", client_factory(Sleeps())).ok


def test_two_lost_login_answers_cost_two_tokens_and_the_run_succeeds(registry_file, sqlite_url, sandbox):
    sandbox.faults.drop_next = 2
    sandbox.stats.reset()
    report = run_sync(registry_file, engine_for(sqlite_url), "run-2drop", client_factory(Sleeps()), names=["units"])
    assert report.ok, report.errors
    assert sandbox.stats.by_path[LOGIN] == 3
    assert sandbox.api.tokens.live_count("demo") == 2  # the two lost ones; the run's own token was given back


@pytest.mark.parametrize("storm", [12, 50])
def test_a_429_storm_on_the_login_is_waited_out(registry_file, sqlite_url, sandbox, storm):
    sleeps = Sleeps()
    sandbox.faults.status_429_next = storm
    sandbox.stats.reset()
    report = run_sync(registry_file, engine_for(sqlite_url), f"run-storm-{storm}", client_factory(sleeps))
    assert report.ok, report.errors
    assert sandbox.stats.rate_limited == storm
    assert sandbox.stats.by_status.get(200, 0) + sandbox.stats.by_status.get(206, 0) > len(ALL)
    assert len([s for s in sleeps.calls if s > 0]) >= storm  # each throttled answer was waited out
    assert all(rep.error is None for rep in report.entities.values())


def test_a_login_throttled_past_the_wait_limit_fails_naming_the_login(registry_file, sqlite_url, sandbox):
    sandbox.faults.status_429_next = 1000
    report = run_sync(registry_file, engine_for(sqlite_url), "run-throttled",
                      client_factory(Sleeps(), throttle_wait_seconds=30))
    assert not report.ok and len(report.errors) == 1
    message = report.errors[0]
    assert "login" in message and "429" in message and "page" not in message


def test_the_registry_entity_selection_is_honoured(registry_file, sqlite_url, sandbox):
    registry_file.write_text(registry_file.read_text() + "    entities: [properties, units, tenants]\n")
    sandbox.stats.reset()
    report = run_sync(registry_file, engine_for(sqlite_url), "run-sel", client_factory(Sleeps()))
    assert report.ok and set(report.entities) == {"properties", "units", "tenants"}
    assert set(report.skipped) == set(ALL) - {"properties", "units", "tenants"}
    assert set(sandbox.stats.by_path) - {LOGIN, "/Authentication/DeAuthorize"} == {"/Properties", "/Units", "/Tenants"}


def test_missing_credential_variables_fail_before_any_request(registry_file, sqlite_url, sandbox, monkeypatch):
    monkeypatch.delenv("TEST_RM_PASSWORD")
    engine = engine_for(sqlite_url)
    sandbox.stats.reset()
    report = run_sync(registry_file, engine, "run-noenv", client_factory(Sleeps()))
    assert not report.ok and "TEST_RM_PASSWORD" in report.errors[0] and "not set" in report.errors[0]
    assert sandbox.stats.requests == 0
    status, requests, _ = sync_run_row(engine, "run-noenv")
    assert status == "failed" and requests == 0


def test_an_exception_ending_the_run_is_recorded_as_failed(registry_file, sqlite_url, sandbox):
    engine = engine_for(sqlite_url)

    def exploding(org, location_id, timezone):
        raise RuntimeError("the network stack fell over")

    with pytest.raises(RuntimeError, match="fell over"):
        run_sync(registry_file, engine, "run-boom", exploding)
    status, _, errors = sync_run_row(engine, "run-boom")
    assert status == "failed" and "fell over" in errors


def test_a_run_left_running_by_a_dead_process_is_marked_abandoned(registry_file, sqlite_url, sandbox):
    engine = engine_for(sqlite_url)
    ops.start_sync_run(engine, run_id="run-killed", org_id="acme", mode="full")  # its process died here
    assert run_sync(registry_file, engine, "run-next", client_factory(Sleeps()), names=["units"]).ok
    assert sync_run_row(engine, "run-killed")[0] == "abandoned"
    assert sync_run_row(engine, "run-next")[0] == "success"


def _assert_second_run_of_an_org_is_refused(registry_file, url, sandbox):
    engine = engine_for(url)
    with org_lock(engine, "acme", holder="sync run run-first"):
        with pytest.raises(OrgBusyError, match="org 'acme' is being written by another run"):
            run_sync(registry_file, engine, "run-second", client_factory(Sleeps()), names=["units"])
        # another org is not blocked
        with org_lock(engine, "beta"):
            pass
    with engine.connect() as conn:  # the refused run changed nothing, not even its own record
        assert conn.execute(text("SELECT count(*) FROM ops.sync_runs")).scalar_one() == 0
    assert run_sync(registry_file, engine, "run-third", client_factory(Sleeps()), names=["units"]).ok


def test_one_run_per_org_on_sqlite(registry_file, sqlite_url, sandbox):
    _assert_second_run_of_an_org_is_refused(registry_file, sqlite_url, sandbox)


@pytest.mark.postgres
def test_one_run_per_org_on_postgresql(registry_file, pg_url, sandbox):
    _assert_second_run_of_an_org_is_refused(registry_file, pg_url, sandbox)


def test_the_org_lock_is_released_when_its_process_dies(sqlite_url, tmp_path):
    import subprocess
    import sys

    engine = engine_for(sqlite_url)
    script = ("import os, sys\n"
              "from rm_pipelines.warehouse.db import create_warehouse_engine\n"
              "from rm_pipelines.warehouse.locks import org_lock\n"
              "e = create_warehouse_engine(sys.argv[1])\n"
              "with org_lock(e, 'acme', holder='doomed'):\n"
              "    print('held', flush=True)\n"
              "    sys.stdin.read()\n")
    child = subprocess.Popen([sys.executable, "-c", script, sqlite_url], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                             env={**os.environ})
    assert child.stdout.readline().strip() == b"held"
    with pytest.raises(OrgBusyError, match="doomed"):
        with org_lock(engine, "acme"):
            pass
    child.kill()  # kill -9: no clean-up runs
    child.wait()
    with org_lock(engine, "acme", wait_seconds=5):
        pass


def _concurrent(*calls):
    """Start the calls 0.2 s apart in threads; their results or exceptions, in order."""
    results: list = [None] * len(calls)

    def run(i, call):
        try:
            results[i] = call()
        except Exception as exc:  # noqa: BLE001 — the test inspects it
            results[i] = exc

    threads = []
    for i, call in enumerate(calls):
        threads.append(threading.Thread(target=run, args=(i, call)))
        threads[-1].start()
        time.sleep(0.2)
    for t in threads:
        t.join()
    return results


SOME = ["properties", "units", "tenants", "charge_types", "charges"]
TABLES = ["properties", "units", "residents", "charge_types", "charges"]


def _assert_two_runs_of_an_org_never_overlap(registry_file, url, sandbox, monkeypatch):
    from rm_pipelines.flows import load as load_flow
    from rm_pipelines.flows.load import load_all
    from rm_pipelines.warehouse.read import live_count

    engine = engine_for(url)
    sandbox.faults.latency_seconds = 0.05  # a sync that takes a while, as on a real account
    first, second = _concurrent(
        lambda: run_sync(registry_file, engine, "run-a", client_factory(Sleeps()), names=SOME),
        lambda: run_sync(registry_file, engine, "run-b", client_factory(Sleeps()), names=SOME),
    )
    sandbox.faults.latency_seconds = 0
    assert first.ok and isinstance(second, OrgBusyError)
    org = load_registry(registry_file).get("acme")
    # load-a is held inside its first table (under the org lock) until load-b has tried: whatever the speed of the
    # machine, load-b meets a load in progress
    inside, tried = threading.Event(), threading.Event()
    run = load_flow._Loader.run

    def held_run(self):  # noqa: ANN001, ANN202
        if self.run_id == "load-a" and not inside.is_set():
            inside.set()
            assert tried.wait(60), "load-b never tried"
        return run(self)

    monkeypatch.setattr(load_flow._Loader, "run", held_run)
    result: list = []
    first_load = threading.Thread(target=lambda: result.append(load_all(engine, org=org, run_id="load-a",
                                                                        tables=TABLES)))
    first_load.start()
    assert inside.wait(60)
    try:
        with pytest.raises(OrgBusyError, match="acme"):
            load_all(engine, org=org, run_id="load-b", tables=TABLES)
    finally:
        tried.set()
        first_load.join(120)
    assert result and set(result[0]) == set(TABLES)  # load-a finished every table
    for table in ("residents", "charges"):  # the audit log has exactly one insert per inserted row
        with engine.connect() as conn:
            inserts = conn.execute(text("SELECT count(*) FROM ops.audit_log WHERE org_id = 'acme' AND "
                                        "table_name = :t AND action = 'insert'"), {"t": table}).scalar_one()
        assert inserts == live_count(engine, table, "acme") > 0, table


def test_two_runs_of_an_org_never_overlap_on_sqlite(registry_file, sqlite_url, sandbox, monkeypatch):
    _assert_two_runs_of_an_org_never_overlap(registry_file, sqlite_url, sandbox, monkeypatch)


@pytest.mark.postgres
def test_two_runs_of_an_org_never_overlap_on_postgresql(registry_file, pg_url, sandbox, monkeypatch):
    _assert_two_runs_of_an_org_never_overlap(registry_file, pg_url, sandbox, monkeypatch)
