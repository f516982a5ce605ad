"""Integration health from real figures: the pure rules on hand-made figures, the flow on real sync records, the
asset, and the run-failure alerts (recorded and posted to a notification URL, never with a secret)."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import dagster as dg
import pytest
from sqlalchemy import text

from rm_pipelines import health
from rm_pipelines.flows.health import org_health, scheduled_ticks
from rm_pipelines.orgs import load_registry

from .test_sync_access import Sleeps, client_factory, engine_for, run_sync

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


def _run(hours_ago: float, status: str = "success", *, requests=100, throttled=0, retries=0, mode="incremental"):
    start = NOW - timedelta(hours=hours_ago)
    return health.SyncRun(mode, status, start, start + timedelta(minutes=2), requests, throttled, retries)


def _figures(runs, **kw):
    ticks = [NOW - timedelta(hours=h) for h in range(23, -1, -1)]
    return health.HealthFigures(org_id="acme", now=NOW, incremental_interval=timedelta(hours=1), runs=runs,
                                scheduled_ticks=kw.pop("ticks", ticks),
                                entity_last_success=kw.pop("entities", {"units": NOW - timedelta(minutes=30)}), **kw)


def test_every_hour_synced_is_healthy():
    verdict = health.evaluate(_figures([_run(h - 0.01) for h in range(23, -1, -1)]))
    assert verdict.status == "healthy" and verdict.issues == []
    assert verdict.figures["uptime_30d"] == 1.0 and verdict.figures["success_rate_30d"] == 1.0


def test_no_success_for_a_day_is_failing_and_says_what_to_do():
    runs = [_run(30), _run(3, "failed"), _run(2, "failed"), _run(1, "failed")]
    verdict = health.evaluate(_figures(runs))
    assert verdict.status == "failing"
    whats = [i.what for i in verdict.issues]
    assert any(w.startswith("no successful sync since 2026-11-19") for w in whats)
    assert "the last 3 syncs failed" in whats
    assert all(i.recommendation for i in verdict.issues)


def test_throttling_missed_ticks_and_a_stale_entity_degrade():
    runs = [_run(h - 0.01, throttled=10) for h in range(23, 11, -1)]  # only the first half of the day synced
    entities = {"units": NOW - timedelta(minutes=30), "charges": NOW - timedelta(hours=5)}
    verdict = health.evaluate(_figures(runs, entities=entities, quarantine_open={"units: Bedrooms range": 3}))
    assert verdict.status == "degraded"
    text_ = " | ".join(i.what for i in verdict.issues)
    assert "uptime 52%" in text_  # 12 of the 23 closed windows (the current hour may still get its sync) and "10.0% of requests were throttled" in text_ and "charges" in text_
    assert "3 quarantined rows" in text_
    assert verdict.figures["max_entity_lag_minutes"] == 300


def test_uptime_counts_each_scheduled_tick_once():
    ticks = [NOW - timedelta(hours=3), NOW - timedelta(hours=2), NOW - timedelta(hours=1)]
    runs = [_run(2.9), _run(2.8), _run(0.5, "failed")]  # two syncs inside the first tick, a failure in the last
    assert health.uptime(runs, ticks) == pytest.approx(1 / 2)  # the last window is open: not yet missed
    assert health.uptime(runs + [_run(0.4)], ticks) == pytest.approx(2 / 3)


def test_scheduled_ticks_follow_the_cron_in_the_org_time_zone():
    start, end = datetime(2026, 3, 7, 0, tzinfo=UTC), datetime(2026, 3, 9, 12, tzinfo=UTC)  # US DST starts 03-08
    ticks = scheduled_ticks(["0 3 * * *"], "America/New_York", start, end)
    assert [(t.day, t.hour) for t in ticks] == [(7, 8), (8, 7), (9, 7)]  # 03:00 EST = 08:00 UTC, then EDT = 07:00


def test_the_flow_reads_real_sync_records(registry_file, sqlite_url, sandbox, monkeypatch):
    engine = engine_for(sqlite_url)
    org = load_registry(registry_file).get("acme")
    assert run_sync(registry_file, engine, "run-ok", client_factory(Sleeps()), names=["units", "tenants"]).ok
    verdict = org_health(engine, org)
    assert verdict.figures["runs_30d"] == 1 and verdict.figures["success_rate_30d"] == 1.0
    assert verdict.status in ("healthy", "degraded")  # no compliance yet: never evaluated is not an issue
    assert not [i for i in verdict.issues if i.severity == "failing"]
    monkeypatch.setenv("TEST_RM_PASSWORD", "wrong")
    for i in range(3):
        run_sync(registry_file, engine, f"run-bad-{i}", client_factory(Sleeps()), names=["units"])
    verdict = org_health(engine, org)
    assert verdict.status == "failing" and verdict.figures["success_rate_30d"] == 0.25


class _Receiver:
    def __init__(self) -> None:
        self.bodies: list[dict] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                outer.bodies.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"


def test_a_failed_run_is_recorded_and_posted_without_secrets(registry_file, sqlite_url, sandbox, monkeypatch):
    from rm_pipelines.defs.alerts import run_failure_alerts
    from rm_pipelines.defs.assets import rentmanager_extract
    from rm_pipelines.defs.resources import RentManagerResource, WarehouseResource

    receiver = _Receiver()
    monkeypatch.setenv("ACME_ALERTS_URL", receiver.url)
    monkeypatch.setenv("TEST_RM_PASSWORD", "secret-but-wrong")
    registry_file.write_text(registry_file.read_text() + "    alerts: {webhook_url_env: ACME_ALERTS_URL}\n")
    resources = {"rentmanager": RentManagerResource(orgs_file=str(registry_file)),
                 "warehouse": WarehouseResource(database_url=sqlite_url)}
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions("org", ["acme"])
        result = dg.materialize([rentmanager_extract], instance=instance, partition_key="acme", resources=resources,
                                raise_on_error=False)
        assert not result.success
        with dg.build_run_status_sensor_context(
                sensor_name="run_failure_alerts", dagster_instance=instance, dagster_run=result.dagster_run,
                dagster_event=result.get_run_failure_event(), resources=resources) as context:
            run_failure_alerts(context.for_run_failure())
    receiver.server.shutdown()
    (posted,) = receiver.bodies
    assert posted["org"] == "acme" and posted["step"] == "rentmanager_extract" and "login" in posted["cause"]
    assert "secret-but-wrong" not in json.dumps(posted) and receiver.url not in json.dumps(posted)
    engine = engine_for(sqlite_url)
    with engine.connect() as conn:
        row = conn.execute(text("SELECT org_id, kind, entity, cause, notified FROM ops.alerts")).one()
    assert row[:3] == ("acme", "run_failure", "rentmanager_extract") and row[4] == "sent" and "TEST_RM_PASSWORD" in row[3]


def test_the_health_asset_materializes_per_org(registry_file, sqlite_url, sandbox):
    from rm_pipelines.defs.health import integration_health
    from rm_pipelines.defs.resources import RentManagerResource, WarehouseResource

    engine = engine_for(sqlite_url)
    assert run_sync(registry_file, engine, "run-ok", client_factory(Sleeps()), names=["units"]).ok
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions("org", ["acme"])
        result = dg.materialize([integration_health], instance=instance, partition_key="acme", resources={
            "rentmanager": RentManagerResource(orgs_file=str(registry_file)),
            "warehouse": WarehouseResource(database_url=sqlite_url)})
        (mat,) = result.asset_materializations_for_node("ops__integration_health")
    assert mat.metadata["status"].value in ("healthy", "degraded")
    assert mat.metadata["runs_30d"].value == 1 and mat.metadata["success_rate_30d"].value == 1.0
    assert "**acme:" in mat.metadata["summary"].value


def test_a_webhook_lag_and_open_conflicts_degrade():
    runs = [_run(h - 0.01) for h in range(23, -1, -1)]
    verdict = health.evaluate(_figures(runs, webhook_backlog=3, webhook_oldest_pending=NOW - timedelta(minutes=25),
                                       outbox_pending=0, open_conflicts=2))
    assert verdict.status == "degraded"
    whats = " | ".join(i.what for i in verdict.issues)
    assert "oldest pending webhook event is 25 min old" in whats and "2 write-back conflicts" in whats
    assert any("conflicts resolve" in i.recommendation for i in verdict.issues)


def test_udf_values_read_with_the_key_scan_are_fresh_for_a_day_not_an_incremental_interval():
    runs = [_run(h - 0.01) for h in range(23, -1, -1)]
    synced = {"units": NOW - timedelta(minutes=30), "tenant_udfs": NOW - timedelta(hours=20)}
    nightly = health.evaluate(_figures(runs, entities=synced, entity_interval={"tenant_udfs": timedelta(days=1)}))
    assert nightly.status == "healthy", nightly.issues
    every_run = health.evaluate(_figures(runs, entities=synced))
    assert any("tenant_udfs" in issue.what for issue in every_run.issues)
