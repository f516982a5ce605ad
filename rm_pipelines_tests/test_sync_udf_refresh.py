"""How UDF values stay current without being re-read by every incremental run.

Rent Manager may not move a parent's UpdateDate when its UDF values change, and UDF values have no cursor of their
own. So an incremental run does not read them; a UDF edit reaches EstateCore (a) at once through the parent's
webhook event where the org has webhooks, (b) with the daily key scan (`rentmanager.udf_refresh: nightly`, the
default), or (c) on every incremental run with `udf_refresh: every_run`. Everything here goes through the sandbox
over HTTP into SQLite.
"""

from __future__ import annotations

import textwrap
import time

import httpx
import pytest
from sqlalchemy import select, text

from rm_pipelines.defs.resources import RentManagerResource
from rm_pipelines.flows.extract import OrgSync
from rm_pipelines.flows.inbox import run_targeted_sync
from rm_pipelines.flows.load import load_table
from rm_pipelines.orgs import RegistryError, load_registry
from rm_pipelines.rentmanager.catalog import ENTITIES
from rm_pipelines.warehouse.models import table

ALL = [e.name for e in ENTITIES]
UDFS = sorted(e.name for e in ENTITIES if e.udf)
PARTNER = {"X-RM12API-PartnerToken": "sandbox-partner-token"}
FIELD = "Next Recertification Due"


def _org(registry_file, **rentmanager):
    org = load_registry(registry_file).get("acme")
    if rentmanager:
        org = org.model_copy(update={"rentmanager": org.rentmanager.model_copy(update=rentmanager)})
    return org


def _sync(registry_file, engine, org, run_id):
    return OrgSync(org, engine, RentManagerResource(orgs_file=str(registry_file)).open_client, run_id=run_id)


def _load_udfs(engine, org, run_id):
    load_table(engine, org=org, table="udf_values", run_id=run_id)


def _estatecore_value(engine, tenant_id: int) -> str:
    udf = table("udf_values")
    with engine.connect() as conn:
        return conn.execute(select(udf.c.value).where(
            udf.c.org_id == "acme", udf.c.parent_type == "Tenant", udf.c.parent_rm_id == tenant_id,
            udf.c.name == FIELD, udf.c.deleted_at.is_(None))).scalar_one()


def _edit_udf(sandbox) -> tuple[int, str]:
    """Change one tenant UDF value through the API; the tenant itself (and its UpdateDate) stays as it was."""
    store = sandbox.store
    value = next(v for v in store.records("UserDefinedValues")
                 if v["ParentType"] == "Tenant" and v["Name"] == FIELD and v["Value"])
    tenant_before = store.get("Tenants", value["ParentID"])["UpdateDate"]
    new = "2031-02-03" if value["Value"] != "2031-02-03" else "2031-04-05"
    with httpx.Client(base_url=sandbox.url, headers=PARTNER) as rm:
        answer = rm.post("/Tenants/UserDefinedValues", json=[{
            "ParentID": value["ParentID"], "UserDefinedFieldID": value["UserDefinedFieldID"], "Value": new,
            "UpdateDate": value["UpdateDate"]}])
        assert answer.status_code == 200, answer.text
    assert store.get("Tenants", value["ParentID"])["UpdateDate"] == tenant_before
    return value["ParentID"], new


def _first_sync(registry_file, warehouse, org):
    report = _sync(registry_file, warehouse, org, "run-full").run(ALL, mode="full")
    assert report.ok, report.errors
    _load_udfs(warehouse, org, "run-full")


def test_an_incremental_run_reads_no_udf_values_and_a_unchanged_portfolio_costs_one_request_per_stream(
        registry_file, warehouse, sandbox):
    org = _org(registry_file)
    assert org.rentmanager.udf_refresh == "nightly"
    _first_sync(registry_file, warehouse, org)
    sandbox.api.stats.reset()
    report = _sync(registry_file, warehouse, org, "run-incr").run(ALL, mode="incremental")
    assert report.ok, report.errors
    assert report.deferred == UDFS
    for name in UDFS:  # reported as deferred (so what depends on them still runs), not read
        deferred = report.entities[name]
        assert (deferred.mode, deferred.rows, deferred.requests) == ("deferred", 0, 0)
        assert deferred.table_rows > 0  # what the full sync landed stays
    # one request each for tenants, contacts, units and properties: none for their UDF values
    by_path = sandbox.api.stats.to_dict()["by_path"]
    assert [by_path.get(p) for p in ("/Tenants", "/Contacts", "/Units", "/Properties")] == [1, 1, 1, 1]
    # nothing changed: each stream costs one page, and only the rows at the newest change are asked for again
    streams = {e.via or e.name for e in ENTITIES if not e.udf}
    assert all(r.pages <= 1 for r in report.entities.values())
    read = [r for r in report.entities.values() if r.mode != "deferred"]
    assert len(read) == len([e for e in ENTITIES if not e.udf])
    assert report.requests <= len(streams) + 2  # + the login and its release
    incremental = [e for e in ENTITIES if e.incremental and e.name in report.entities]
    reread = sum(report.entities[e.name].unchanged for e in incremental)
    held = sum(report.entities[e.name].table_rows or 0 for e in incremental)
    assert reread * 20 < held


def test_a_udf_edit_reaches_estatecore_with_the_key_scan(registry_file, warehouse, sandbox):
    org = _org(registry_file)
    _first_sync(registry_file, warehouse, org)
    tenant_id, new = _edit_udf(sandbox)
    assert _sync(registry_file, warehouse, org, "run-incr").run(ALL, mode="incremental").ok
    _load_udfs(warehouse, org, "run-incr")
    assert _estatecore_value(warehouse, tenant_id) != new  # the incremental run did not read UDF values

    scan = _sync(registry_file, warehouse, org, "run-scan").run(ALL, mode="keyscan")
    assert scan.ok, scan.errors
    assert set(UDFS) <= set(scan.entities) and scan.entities["tenant_udfs"].updated == 1
    _load_udfs(warehouse, org, "run-scan")
    assert _estatecore_value(warehouse, tenant_id) == new


def test_a_deleted_udf_value_is_flagged_by_the_key_scan(registry_file, warehouse, sandbox):
    org = _org(registry_file)
    _first_sync(registry_file, warehouse, org)
    value = next(v for v in sandbox.store.records("UserDefinedValues") if v["ParentType"] == "Unit")
    sandbox.store.delete("UserDefinedValues", [value["UserDefinedValueID"]])
    scan = _sync(registry_file, warehouse, org, "run-scan").run(ALL, mode="keyscan")
    assert scan.ok, scan.errors
    assert scan.entities["unit_udfs"].marked_deleted == 1


def test_every_run_reads_udf_values_on_each_incremental_run(registry_file, warehouse, sandbox):
    org = _org(registry_file, udf_refresh="every_run")
    _first_sync(registry_file, warehouse, org)
    tenant_id, new = _edit_udf(sandbox)
    report = _sync(registry_file, warehouse, org, "run-incr").run(ALL, mode="incremental")
    assert report.ok and not report.deferred
    assert all(report.entities[name].mode == "full" for name in UDFS)
    _load_udfs(warehouse, org, "run-incr")
    assert _estatecore_value(warehouse, tenant_id) == new
    # the key scan leaves them to the incremental runs
    scan = _sync(registry_file, warehouse, org, "run-scan").run(ALL, mode="keyscan")
    assert scan.ok and all(scan.entities[name].mode == "deferred" for name in UDFS)


def test_a_first_incremental_run_reads_udf_values_it_never_read(registry_file, warehouse, sandbox):
    org = _org(registry_file)
    report = _sync(registry_file, warehouse, org, "run-1").run(ALL, mode="incremental")
    assert report.ok and not report.deferred
    assert all(report.entities[name].mode == "full" and report.entities[name].rows > 0 for name in UDFS)


def test_a_udf_edit_reaches_estatecore_through_the_tenant_webhook_event(registry_file, warehouse, sandbox):
    from rm_pipelines.webhooks.app import ReceiverOrg
    from rm_pipelines.webhooks.server import ReceiverServer

    org = _org(registry_file)
    _first_sync(registry_file, warehouse, org)
    token = "tok-" + "z9Y8x7W6v5U4t3S2r1Q0p9O8n7"
    receiver = ReceiverServer(warehouse, [ReceiverOrg("acme", token, None, frozenset({1}))])
    receiver.start()
    try:
        with httpx.Client(base_url=sandbox.url, headers=PARTNER) as rm:
            made = rm.post("/WebhookDetails", json=[{"WebhookEventType": "Tenant",
                                                     "URL": f"{receiver.url}/rentmanager/acme/{token}"}])
            assert made.status_code == 200, made.text
        tenant_id, new = _edit_udf(sandbox)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            with warehouse.connect() as conn:
                rows = conn.execute(text("SELECT id, event_type FROM ops.webhook_inbox")).all()
            if rows:
                break
            time.sleep(0.05)
        assert [event for _, event in rows] == ["Tenant_Edit"]  # a UDF change is announced as its parent's edit
    finally:
        receiver.stop()
    run = run_targeted_sync(warehouse, org, RentManagerResource(orgs_file=str(registry_file)).open_client,
                            run_id="run-hook", through=max(i for i, _ in rows))
    assert run.sync is not None and run.sync.ok, run.sync and run.sync.errors
    assert run.sync.entities["tenant_udfs"].updated == 1
    _load_udfs(warehouse, org, "run-hook")
    assert _estatecore_value(warehouse, tenant_id) == new


def test_udf_refresh_is_validated_with_the_key_named(tmp_path, monkeypatch):
    def registry(extra_rm: str, extra_org: str = "") -> str:
        path = tmp_path / "orgs.yaml"
        path.write_text(textwrap.dedent(f"""
            organizations:
              - id: acme
                name: Acme
                rentmanager:
                  base_url: https://acme.example.com
                  auth: {{mode: partner, partner_token_env: ACME_TOKEN}}
                  {extra_rm}
                locations: [{{id: 1}}]
                {extra_org}
        """))
        return str(path)

    with pytest.raises(RegistryError, match=r"org 'acme': rentmanager\.udf_refresh: .*'weekly' is not one of "
                                            r"nightly, every_run"):
        load_registry(registry("udf_refresh: weekly"))
    with pytest.raises(RegistryError, match=r"rentmanager\.udf_refresh: nightly reads UDF values with the daily "
                                            r"key scan, but schedules\.keyscan is null"):
        load_registry(registry("", "schedules: {keyscan: null}"))
    assert load_registry(registry("udf_refresh: every_run", "schedules: {keyscan: null}")).get("acme")


def test_the_scheduled_key_scan_run_brings_a_udf_edit_into_estatecore(registry_file, sqlite_url, warehouse, sandbox):
    """The Dagster runs the schedules launch: hourly incremental (extract + load) leaves UDF values alone, the
    daily key scan reads them and its EstateCore load carries the edit over in the same run."""
    import dagster as dg

    from rm_pipelines.defs.assets import rentmanager_extract
    from rm_pipelines.defs.estatecore import estatecore_load
    from rm_pipelines.defs.resources import WarehouseResource

    resources = {"rentmanager": RentManagerResource(orgs_file=str(registry_file)),
                 "warehouse": WarehouseResource(database_url=sqlite_url)}

    def run(mode: str) -> dg.ExecuteInProcessResult:
        config = {"ops": {"rentmanager_extract": {"config": {"mode": mode}},
                          "estatecore_load": {"config": {"mode": "incremental"}}}}
        result = dg.materialize([rentmanager_extract, estatecore_load], instance=instance, partition_key="acme",
                                resources=resources, run_config=config, raise_on_error=False)
        assert result.success
        return result

    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions("org", ["acme"])
        run("incremental")  # the first run reads everything
        tenant_id, new = _edit_udf(sandbox)
        hourly = run("incremental")
        assert _estatecore_value(warehouse, tenant_id) != new
        deferred = {m.asset_key.path[-1]: m.metadata["mode"].value
                    for m in hourly.asset_materializations_for_node("rentmanager_extract")}
        assert {deferred[name] for name in UDFS} == {"deferred"}
        nightly = run("keyscan")
        assert any(m.asset_key.path[-1] == "udf_values" for m in nightly.asset_materializations_for_node(
            "estatecore_load"))
        assert _estatecore_value(warehouse, tenant_id) == new
