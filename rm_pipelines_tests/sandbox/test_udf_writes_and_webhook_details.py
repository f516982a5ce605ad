"""Sandbox write side used by write-back and webhooks: UDF value writes (typed, concurrency-checked), 412 when a
save option is needed, WebhookDetails (one URL per event type) and deliveries to the registered URLs."""

from __future__ import annotations

import httpx

from .test_webhooks import Receiver


def _udvs(client: httpx.Client, tenant_id: int) -> dict[str, dict]:
    tenant = client.get(f"/Tenants/{tenant_id}", params={"embeds": "UserDefinedValues"}).json()
    return {v["Name"]: v for v in tenant["UserDefinedValues"]}


def _program_tenant(store) -> int:
    return next(v["ParentID"] for v in store.records("UserDefinedValues")
                if v["ParentType"] == "Tenant" and v["Name"] == "Next Recertification Due" and v["Value"])


def test_udf_values_are_created_and_updated_with_their_update_date(rw_client, sb_store_copy):
    tid = _program_tenant(sb_store_copy)
    before = _udvs(rw_client, tid)
    assert "Compliance Status" not in before
    created = rw_client.post(f"/Tenants/{tid}/UserDefinedValues", json=[{"Name": "Compliance Status",
                                                                        "Value": "In compliance"}])
    assert created.status_code == 200, created.text
    [value] = created.json()
    assert (value["ParentID"], value["ParentType"], value["Value"]) == (tid, "Tenant", "In compliance")
    due = before["Next Recertification Due"]
    # the collection form, one parent per item; an update carries the value's UpdateDate
    ok = rw_client.post("/Tenants/UserDefinedValues", json=[{
        "ParentID": tid, "UserDefinedFieldID": due["UserDefinedFieldID"], "Value": "2027-03-01",
        "UpdateDate": due["UpdateDate"]}])
    assert ok.status_code == 200, ok.text
    after = _udvs(rw_client, tid)
    assert after["Next Recertification Due"]["Value"] == "2027-03-01"
    assert after["Compliance Status"]["Value"] == "In compliance"
    assert after["Next Recertification Due"]["UserDefinedValueID"] == due["UserDefinedValueID"]
    stale = rw_client.post("/Tenants/UserDefinedValues", json=[{
        "ParentID": tid, "UserDefinedFieldID": due["UserDefinedFieldID"], "Value": "2027-04-01",
        "UpdateDate": due["UpdateDate"]}])
    assert stale.status_code == 409
    assert _udvs(rw_client, tid)["Next Recertification Due"]["Value"] == "2027-03-01"


def test_udf_values_are_checked_against_their_field(rw_client, sb_store_copy):
    tid = _program_tenant(sb_store_copy)
    for item, message in (({"Name": "Compliance Status", "Value": "Fine"}, "is not one of its choices"),
                          ({"Name": "Next Recertification Due", "Value": "soon"}, "is not a date"),
                          ({"Name": "BIN", "Value": "MA-1"}, "is not a Tenant user-defined field"),
                          ({"Name": "Compliance Status", "Value": 3}, "must be a string")):
        resp = rw_client.post(f"/Tenants/{tid}/UserDefinedValues", json=[item])
        assert resp.status_code == 400 and message in resp.text, (item, resp.text)
    assert rw_client.post("/Tenants/999999/UserDefinedValues",
                          json=[{"Name": "Compliance Status", "Value": "Undetermined"}]).status_code == 404


def test_a_save_in_a_hard_closed_period_needs_its_save_option(make_server, sb_store_copy):
    violation = sb_store_copy.records("Violations")[0]
    srv = make_server(sb_store_copy, hard_close_date=violation["ViolationDate"][:10])
    with httpx.Client(base_url=srv.url, headers={"X-RM12API-PartnerToken": "sandbox-partner-token"}) as c:
        item = {"ViolationID": violation["ViolationID"], "ResolveAction": "Fence repaired",
                "UpdateDate": violation["UpdateDate"], "ConcurrencyID": violation["ConcurrencyID"]}
        refused = c.post("/Violations", json=[item])
        assert refused.status_code == 412
        body = refused.json()
        assert "IgnoreHardClose" in body["UserMessage"] and body["AdditionalData"] == {"SaveOptions": ["IgnoreHardClose"]}
        assert sb_store_copy.get("Violations", violation["ViolationID"])["ResolveAction"] != "Fence repaired"
        for encoding in ("IgnoreHardClose", "IgnoreHardClose,true"):
            fresh = sb_store_copy.get("Violations", violation["ViolationID"])
            saved = c.post("/Violations", params={"saveOptions": encoding},
                           json=[{**item, "UpdateDate": fresh["UpdateDate"], "ConcurrencyID": fresh["ConcurrencyID"]}])
            assert saved.status_code == 200, saved.text
        assert sb_store_copy.get("Violations", violation["ViolationID"])["ResolveAction"] == "Fence repaired"


def test_webhook_details_keep_one_url_per_event_type_and_receive_their_events(make_server, sb_store_copy):
    rx = Receiver()
    try:
        srv = make_server(sb_store_copy)
        with httpx.Client(base_url=srv.url, headers={"X-RM12API-PartnerToken": "sandbox-partner-token"}) as c:
            made = c.post("/WebhookDetails", json=[{"WebhookEventType": "Tenant", "URL": rx.url},
                                                   {"WebhookEventType": "TenantContact", "URL": rx.url}])
            assert made.status_code == 200, made.text
            again = c.post("/WebhookDetails", json=[{"WebhookEventType": "Tenant", "URL": "http://elsewhere"}])
            assert again.status_code == 409 and "only one URL per event type" in again.text
            assert c.post("/WebhookDetails", json=[{"WebhookEventType": "Invoice", "URL": rx.url}]).status_code == 400
            assert len(c.get("/WebhookDetails").json()) == 2
            tid = _program_tenant(sb_store_copy)
            t = c.get(f"/Tenants/{tid}").json()
            assert c.post("/Tenants", json=[{"TenantID": tid, "Comment": "x", "UpdateDate": t["UpdateDate"]}]).status_code == 200
            # a household member's UDF change is an edit of that contact
            member = next(v for v in sb_store_copy.records("UserDefinedValues") if v["ParentType"] == "Contact")
            contact = sb_store_copy.get("Contacts", member["ParentID"])
            assert c.post(f"/Contacts/{contact['ContactID']}/UserDefinedValues", json=[{
                "UserDefinedFieldID": member["UserDefinedFieldID"], "Value": member["Value"],
                "UpdateDate": member["UpdateDate"]}]).status_code == 200
        bodies = rx.wait_for(2)
        assert bodies[0]["EventType"] == "Tenant_Edit" and bodies[0]["IDParentIDDict"] == {str(tid): tid}
        assert bodies[1]["EventType"] == f"{contact['ParentType']}Contact_Edit"
        assert bodies[1]["IDParentIDDict"] == {str(contact["ContactID"]): contact["ParentID"]}
    finally:
        rx.close()
