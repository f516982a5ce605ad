"""The webhook sensor over a big inbox: one run per org however many events, each covering only what its events
name; no second run while one is going; coalescing of keys, children and deletes."""

from __future__ import annotations

import textwrap

import dagster as dg
import orjson

from rm_pipelines.warehouse import inbox
from rm_pipelines.webhooks.events import InboxEvent, coalesce


def _registry(tmp_path, monkeypatch):
    path = tmp_path / "organizations.yaml"
    org = textwrap.dedent("""
          - id: {id}
            name: {id}
            rentmanager: {{base_url: "https://example.invalid", auth: {{mode: partner, partner_token_env: X}}}}
            locations: [{{id: 1}}, {{id: 2}}]
            entities: {entities}
    """)
    path.write_text("organizations:" + org.format(id="acme", entities="all")
                    + org.format(id="beta", entities="[tenants, tenant_udfs, contacts, properties]"))
    monkeypatch.setenv("RM_PIPELINES_ORGS", str(path))
    return path


def _deliveries(engine, org_id, events):
    with engine.begin() as conn:
        inbox.record(conn, [{"org_id": org_id, "digest": f"{org_id}-{i}", "status": "pending", "event_type": kind,
                             "location_id": loc, "ids": orjson.dumps({str(k): p}).decode()}
                            for i, (kind, loc, k, p) in enumerate(events)])


def test_ten_thousand_pending_events_make_one_run_per_org(engine, tmp_path, monkeypatch):
    from rm_pipelines.defs.resources import RentManagerResource, WarehouseResource
    from rm_pipelines.defs.webhooks import rentmanager_webhook_sensor

    registry = _registry(tmp_path, monkeypatch)
    kinds = ("Tenant_Edit", "TenantContact_Add", "ServiceIssue_Edit", "Vendor_Delete")
    _deliveries(engine, "acme", [(kinds[i % 4], 1 + i % 2, 1 + i % 2500, 7) for i in range(10_000)])
    _deliveries(engine, "beta", [("Tenant_Edit", 1, 5, 5), ("Vendor_Edit", 1, 9, 9), ("TenantHistory_Add", 1, 3, 3)])
    resources = {"rentmanager": RentManagerResource(orgs_file=str(registry)),
                 "warehouse": WarehouseResource(database_url=engine.url.render_as_string(hide_password=False))}
    with dg.instance_for_test() as instance, \
            dg.build_sensor_context(instance=instance, resources=resources) as context:
        result = rentmanager_webhook_sensor(context)
        requests = {r.partition_key: r for r in result.run_requests}
        assert set(requests) == {"acme", "beta"}  # one run per org
        acme, beta = requests["acme"], requests["beta"]
        assert acme.run_config["ops"]["rentmanager_extract"]["config"] == {"mode": "targeted",
                                                                           "inbox_through": 10_000}
        selected = {"/".join(k.path) for k in acme.asset_selection}
        assert {"rentmanager/tenants", "rentmanager/tenant_udfs", "rentmanager/contacts", "rentmanager/contact_udfs",
                "rentmanager/leases", "rentmanager/service_manager_issues", "rentmanager/vendors",
                "estatecore/residents", "estatecore/work_orders", "estatecore/vendors", "estatecore/udf_values",
                "compliance/unit_status", "webhooks/inbox"} <= selected
        assert not any(k.startswith("rentmanager/charges") or k == "estatecore/charges" for k in selected)
        # an org that syncs no vendors has its vendor event covered, not fetched; history needs nothing fetched
        beta_selected = {"/".join(k.path) for k in beta.asset_selection}
        assert "rentmanager/vendors" not in beta_selected and "rentmanager/tenants" in beta_selected
        assert beta.run_config["ops"]["rentmanager_extract"]["config"]["inbox_through"] == 10_003
        assert orjson.loads(result.cursor) == {"acme": {"through": 10_000, "launches": 1},
                                               "beta": {"through": 10_003, "launches": 1}}

        # while acme's run is queued, no second one is launched for it
        job = dg.define_asset_job("rentmanager_webhook_sync").resolve(asset_graph=dg.Definitions().resolve_asset_graph())
        instance.create_run_for_job(job_def=job, tags={**acme.tags, "dagster/partition": "acme"})
        _deliveries(engine, "acme", [("Tenant_Edit", 1, 99_999, 99_999)])
        with dg.build_sensor_context(instance=instance, resources=resources, cursor=result.cursor) as later:
            second = rentmanager_webhook_sensor(later)
        assert {r.partition_key for r in second.run_requests} == {"beta"}  # beta's run was never started here


def test_coalescing_merges_keys_children_and_locations():
    events = [InboxEvent(1, "Tenant_Edit", 1, {5: 5}), InboxEvent(2, "Tenant_Edit", 1, {5: 5}),
              InboxEvent(3, "Tenant_Delete", None, {6: 6}), InboxEvent(4, "TenantContact_Delete", 1, {70: 5}),
              InboxEvent(5, "ServiceIssueHistory_Add", 2, {900: 31}), InboxEvent(6, "Invoice_Add", 1, {1: 1})]
    plan = coalesce(events)
    assert plan.events == [1, 2, 3, 4, 5, 6]
    loc1, anywhere, loc2 = plan.targets[1], plan.targets[None], plan.targets[2]
    assert loc1["tenants"].keys == {5} and loc1["tenant_udfs"].parents == {5} and loc1["leases"].parents == {5}
    assert loc1["contacts"].keys == {70} and loc1["contacts"].parents == {5}
    assert loc1["contact_udfs"].parents == {70}
    assert anywhere["tenants"].keys == {6}  # a delivery without LocationID is checked at every location
    assert loc2 == {"service_manager_issues": plan.targets[2]["service_manager_issues"]}
    assert loc2["service_manager_issues"].keys == {31}  # a note names its work order as the parent
    limited = coalesce(events, selected=["tenants", "contacts"])
    assert limited.entities == {"tenants", "contacts"} and limited.unselected["leases"] == 3
