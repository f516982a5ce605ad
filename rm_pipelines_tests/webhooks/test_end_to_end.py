"""The whole loop on real sockets: a change in Rent Manager (the sandbox) → its webhook → the receiver → the sensor
→ a targeted run → the EstateCore row changed (and a deleted record soft-deleted), on SQLite and PostgreSQL."""

from __future__ import annotations

import textwrap
import time

import dagster as dg
import httpx
import pytest
from sqlalchemy import select, text

from rm_pipelines.cli import main as cli
from rm_pipelines.warehouse.models import table
from rm_pipelines_tests.conftest import DEMO_PASSWORD, DEMO_USER

from .conftest import TOKEN


@pytest.fixture
def loop(sandbox, warehouse_url, tmp_path, monkeypatch):
    """A registry whose org receives webhooks, the receiver serving it, and the Dagster definitions over both."""
    from rm_pipelines.definitions import defs as load_defs
    from rm_pipelines.orgs import load_registry
    from rm_pipelines.warehouse.db import create_warehouse_engine
    from rm_pipelines.warehouse.migrate import upgrade
    from rm_pipelines.webhooks.app import durable
    from rm_pipelines.webhooks.server import ReceiverServer, receiver_orgs

    monkeypatch.setenv("TEST_RM_USER", DEMO_USER)
    monkeypatch.setenv("TEST_RM_PASSWORD", DEMO_PASSWORD)
    monkeypatch.setenv("ACME_WEBHOOK_TOKEN", TOKEN)
    monkeypatch.setenv("RM_PIPELINES_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("ESTATECORE_DATABASE_URL", warehouse_url)
    engine = durable(create_warehouse_engine(warehouse_url))
    upgrade(engine)
    orgs_file = tmp_path / "organizations.yaml"
    rx = ReceiverServer(engine, [])  # its URL is known once bound; the orgs follow from the registry below
    rx.bind()
    orgs_file.write_text(textwrap.dedent(f"""
        organizations:
          - id: acme
            name: Acme Residential
            rentmanager:
              base_url: {sandbox.url}
              auth: {{mode: user, username_env: TEST_RM_USER, password_env: TEST_RM_PASSWORD}}
              requests_per_minute: null
            locations: [{{id: 1, timezone: America/New_York}}]
            webhooks: {{token_env: ACME_WEBHOOK_TOKEN, public_url: "{rx.url}", corporate_id: sandbox}}
            compliance: {{backfill_earliest_limits: true}}
    """))
    monkeypatch.setenv("RM_PIPELINES_ORGS", str(orgs_file))
    orgs, problems = receiver_orgs(load_registry(orgs_file))
    assert not problems
    rx.orgs = {o.org_id: o for o in orgs}
    rx.app.state.receiver.orgs = rx.orgs
    rx.start()
    try:
        yield sandbox, rx, engine, load_defs()
    finally:
        rx.stop()
        engine.dispose()


def _wait_for_inbox(engine, n: int, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with engine.connect() as conn:
            if conn.execute(text("SELECT count(*) FROM ops.webhook_inbox")).scalar_one() >= n:
                return
        time.sleep(0.05)
    raise AssertionError(f"fewer than {n} webhook deliveries arrived")


@pytest.mark.slow
def test_a_rent_manager_change_reaches_estatecore_through_the_webhook_sensor(loop, capsys):
    sandbox, _receiver, engine, defs = loop
    store = sandbox.store
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions("org", ["acme"])
        first = defs.resolve_job_def("rentmanager_sync").execute_in_process(
            instance=instance, partition_key="acme", raise_on_error=False,
            asset_selection=[k for k in defs.resolve_all_asset_keys() if k.path[0] in ("rentmanager", "estatecore")])
        assert first.success

        # Rent Manager is told where to deliver (the org's WebhookDetails), as an operator would
        assert cli(["webhooks", "register", "--org", "acme"]) == 0
        out = capsys.readouterr().out
        assert "Tenant " in out and "create" in out and TOKEN not in out and "/rentmanager/acme/****" in out
        assert cli(["webhooks", "list", "--org", "acme"]) == 0
        assert "this org's receiver" in capsys.readouterr().out

        # someone edits a tenant and deletes a household member in Rent Manager
        tenant = next(t for t in store.records("Tenants")
                      if any(c["ParentType"] == "Tenant" and not c["IsPrimary"] for c in store.records("Contacts")
                             if c["ParentID"] == t["TenantID"]))
        member = next(c for c in store.records("Contacts")
                      if c["ParentType"] == "Tenant" and c["ParentID"] == tenant["TenantID"] and not c["IsPrimary"])
        with httpx.Client(base_url=sandbox.url, headers={"X-RM12API-PartnerToken": "sandbox-partner-token"}) as rm:
            assert rm.post("/Tenants", json=[{"TenantID": tenant["TenantID"], "Comment": "moved to unit 2B",
                                              "UpdateDate": tenant["UpdateDate"]}]).status_code == 200
            assert rm.delete(f"/Contacts/{member['ContactID']}").status_code == 204
        _wait_for_inbox(engine, 2)

        sensor = defs.resolve_sensor_def("rentmanager_webhook_sensor")
        with dg.build_sensor_context(instance=instance, resources=defs.resources) as context:
            tick = sensor(context)
        [request] = tick.run_requests
        assert request.partition_key == "acme" and request.tags["rm/trigger"] == "webhooks"
        selected = {"/".join(k.path) for k in request.asset_selection}
        assert {"rentmanager/tenants", "rentmanager/contacts", "estatecore/residents",
                "estatecore/household_members", "webhooks/inbox"} <= selected
        assert "rentmanager/charges" not in selected  # only what the events name

        run = defs.resolve_job_def("rentmanager_webhook_sync").execute_in_process(
            run_config=request.run_config, instance=instance, partition_key=request.partition_key,
            tags=request.tags, asset_selection=request.asset_selection, raise_on_error=False)
        assert run.success
        residents, members = table("residents"), table("household_members")
        with engine.connect() as conn:
            comment, = conn.execute(select(residents.c.comment).where(
                residents.c.org_id == "acme", residents.c.rm_id == tenant["TenantID"])).one()
            deleted_at, = conn.execute(select(members.c.deleted_at).where(
                members.c.org_id == "acme", members.c.rm_id == member["ContactID"])).one()
            states = conn.execute(text("SELECT status, claimed_run_id FROM ops.webhook_inbox")).all()
        assert comment == "moved to unit 2B"
        assert deleted_at is not None  # soft-deleted, never hard-deleted
        assert {s for s, _ in states} == {"pending"} and {r for _, r in states} == {run.run_id}

        inbox = next(m for m in run.asset_materializations_for_node("webhooks__inbox"))
        assert inbox.metadata["events_coalesced"].value == 2
        assert inbox.metadata["deletes_applied"].value >= 1
        assert inbox.metadata["ids_requested"].value >= 2
        assert inbox.metadata["lag_p95_seconds"].value >= 0

        # the next tick sees the run succeeded: the rows are processed, with its id; nothing new to launch
        with dg.build_sensor_context(instance=instance, resources=defs.resources, cursor=tick.cursor) as context:
            again = sensor(context)
        assert not again.run_requests
        with engine.connect() as conn:
            states = conn.execute(text("SELECT status, processed_run_id FROM ops.webhook_inbox")).all()
        assert states == [("processed", run.run_id)] * 2

        # a run that fails leaves its rows pending: the next tick puts them back and launches again
        fresh = store.get("Tenants", tenant["TenantID"])
        with httpx.Client(base_url=sandbox.url, headers={"X-RM12API-PartnerToken": "sandbox-partner-token"}) as rm:
            assert rm.post("/Tenants", json=[{"TenantID": tenant["TenantID"], "Comment": "back in 1A",
                                              "UpdateDate": fresh["UpdateDate"]}]).status_code == 200
        _wait_for_inbox(engine, 3)
        sandbox.faults.malformed_page = ("Tenants", 1)
        with dg.build_sensor_context(instance=instance, resources=defs.resources, cursor=again.cursor) as context:
            tick = sensor(context)
        [request] = tick.run_requests
        failed = defs.resolve_job_def("rentmanager_webhook_sync").execute_in_process(
            run_config=request.run_config, instance=instance, partition_key=request.partition_key,
            tags=request.tags, asset_selection=request.asset_selection, raise_on_error=False)
        assert not failed.success
        sandbox.faults.reset()
        with dg.build_sensor_context(instance=instance, resources=defs.resources, cursor=tick.cursor) as context:
            retry_tick = sensor(context)
        [retry] = retry_tick.run_requests  # the same events, launched again under a new run key
        assert retry.run_config == request.run_config and retry.run_key != request.run_key
        with engine.connect() as conn:
            assert conn.execute(text("SELECT status, claimed_run_id FROM ops.webhook_inbox WHERE id = 3")).one() == \
                ("pending", None)
        rerun = defs.resolve_job_def("rentmanager_webhook_sync").execute_in_process(
            run_config=retry.run_config, instance=instance, partition_key=retry.partition_key,
            tags=retry.tags, asset_selection=retry.asset_selection, raise_on_error=False)
        assert rerun.success
        with dg.build_sensor_context(instance=instance, resources=defs.resources, cursor=retry_tick.cursor) as context:
            assert not sensor(context).run_requests
        with engine.connect() as conn:
            comment, = conn.execute(select(residents.c.comment).where(
                residents.c.org_id == "acme", residents.c.rm_id == tenant["TenantID"])).one()
            assert conn.execute(text("SELECT status, processed_run_id FROM ops.webhook_inbox WHERE id = 3")).one() == \
                ("processed", rerun.run_id)
        assert comment == "back in 1A"
