"""Writes over HTTP: POST-array upserts, partial updates, optimistic concurrency (409), read-only fields,
single-object POST, nocontent, deletes, and that every write reaches the state file."""

from __future__ import annotations

import httpx

from rm_pipelines.sandbox import SandboxStore
from rm_pipelines.sandbox.timeutil import dt_key

from .conftest import SEED, UNITS


def _max_update(store: SandboxStore) -> str:
    return max(dt_key(r["UpdateDate"]) for c in ("Charges", "Tenants", "Payments") for r in store.records(c))


def test_create_assigns_the_next_id_and_fresh_audit_fields(rw_client: httpx.Client, sb_store_copy):
    store = sb_store_copy
    newest_before = _max_update(store)
    next_id = max(r["ChargeID"] for r in store.records("Charges")) + 1
    body = [{"AccountID": 1, "ChargeTypeID": 1, "Amount": 12.5, "TransactionDate": "2026-11-01T00:00:00",
             "Comment": "sandbox test", "CreateDate": "1999-01-01T00:00:00", "NotAField": 1},
            {"ChargeID": 0, "AccountID": 2, "ChargeTypeID": 1, "Amount": 7.0, "TransactionDate": "2026-11-01"}]
    resp = rw_client.post("/Charges", json=body)
    assert resp.status_code == 200, resp.text
    saved = resp.json()
    assert [s["ChargeID"] for s in saved] == [next_id, next_id + 1]
    first = saved[0]
    assert first["ID"] == first["ChargeID"] and first["TransactionType"] == "Charge"
    assert first["CreateDate"] != "1999-01-01T00:00:00"  # read-only: ignored
    assert "NotAField" not in first
    assert dt_key(first["UpdateDate"]) > newest_before
    assert dt_key(saved[1]["UpdateDate"]) > dt_key(first["UpdateDate"])
    assert rw_client.get(f"/Charges/{next_id}").json() == first
    # write-through: a fresh store on the same file sees it
    again = SandboxStore.open(store.path, UNITS, SEED)
    assert again.get("Charges", next_id) == first
    again.close()


def test_partial_update_overlays_fields_and_bumps_update_date(rw_client: httpx.Client):
    before = rw_client.get("/Tenants/1").json()
    resp = rw_client.post("/Tenants", json=[{"TenantID": 1, "Comment": "changed", "UpdateDate": before["UpdateDate"]}])
    assert resp.status_code == 200, resp.text
    after = resp.json()[0]
    assert after["Comment"] == "changed"
    assert {k: v for k, v in after.items() if k not in ("Comment", "UpdateDate", "UpdateUserID")} == \
        {k: v for k, v in before.items() if k not in ("Comment", "UpdateDate", "UpdateUserID")}
    assert dt_key(after["UpdateDate"]) > dt_key(before["UpdateDate"])
    assert rw_client.get("/Tenants/1").json() == after


def test_stale_or_missing_update_date_is_409(rw_client: httpx.Client):
    before = rw_client.get("/Tenants/2").json()
    ok = rw_client.post("/Tenants", json=[{"TenantID": 2, "Comment": "one", "UpdateDate": before["UpdateDate"]}])
    assert ok.status_code == 200
    stale = rw_client.post("/Tenants", json=[{"TenantID": 2, "Comment": "two", "UpdateDate": before["UpdateDate"]}])
    assert stale.status_code == 409
    assert "concurrency" in (stale.json()["UserMessage"] + stale.json()["DeveloperMessage"]).lower()
    missing = rw_client.post("/Tenants", json=[{"TenantID": 2, "Comment": "three"}])
    assert missing.status_code == 409
    assert rw_client.get("/Tenants/2").json()["Comment"] == "one"


def test_concurrency_id_must_match_where_the_model_has_one(rw_client: httpx.Client):
    prop = rw_client.get("/Properties/1").json()
    wrong = {"PropertyID": 1, "Name": "x", "UpdateDate": prop["UpdateDate"], "ConcurrencyID": prop["ConcurrencyID"] + 5}
    assert rw_client.post("/Properties", json=[wrong]).status_code == 409
    right = {**wrong, "ConcurrencyID": prop["ConcurrencyID"]}
    saved = rw_client.post("/Properties", json=[right]).json()[0]
    assert saved["Name"] == "x" and saved["ConcurrencyID"] == prop["ConcurrencyID"] + 1


def test_a_batch_is_all_or_nothing(rw_client: httpx.Client):
    t3 = rw_client.get("/Tenants/3").json()
    resp = rw_client.post("/Tenants", json=[{"TenantID": 3, "Comment": "ok", "UpdateDate": t3["UpdateDate"]},
                                            {"TenantID": 4, "Comment": "stale", "UpdateDate": "2001-01-01T00:00:00"}])
    assert resp.status_code == 409
    assert rw_client.get("/Tenants/3").json() == t3


def test_body_must_be_a_json_array(rw_client: httpx.Client):
    for body in ({"TenantID": 1}, "x", 5):
        resp = rw_client.post("/Tenants", json=body)
        assert resp.status_code == 400
        assert resp.json()["Message"] == "The request is invalid."
    resp = rw_client.post("/Tenants", content=b"[{not json", headers={"Content-Type": "application/json"})
    assert resp.status_code == 400


def test_update_of_a_missing_record_is_404(rw_client: httpx.Client):
    resp = rw_client.post("/Tenants", json=[{"TenantID": 999999, "Comment": "x", "UpdateDate": "2026-01-01"}])
    assert resp.status_code == 404


def test_post_instance_updates_one_object_and_nocontent(rw_client: httpx.Client):
    t = rw_client.get("/Tenants/5").json()
    resp = rw_client.post("/Tenants/5", json={"Comment": "via instance", "UpdateDate": t["UpdateDate"]})
    assert resp.status_code == 200
    assert resp.json()["TenantID"] == 5 and resp.json()["Comment"] == "via instance"
    t = resp.json()
    resp = rw_client.post("/Tenants", params={"nocontent": "true"},
                          json=[{"TenantID": 5, "Comment": "quiet", "UpdateDate": t["UpdateDate"]}])
    assert resp.status_code == 204 and resp.content == b""
    assert rw_client.get("/Tenants/5").json()["Comment"] == "quiet"
    assert rw_client.post("/Tenants/5", json=[t]).status_code == 400  # instance POST takes one object


def test_atomic_create_of_linked_rows(rw_client: httpx.Client, sb_store_copy):
    body = [{"Title": "Door sticks", "Description": "Front door", "CategoryID": 1, "StatusID": 1, "PriorityID": 1,
             "IsClosed": False, "LinkedUnits": [{"UnitID": 3}]}]
    issue = rw_client.post("/ServiceManagerIssues", json=body).json()[0]
    got = rw_client.get(f"/ServiceManagerIssues/{issue['ServiceManagerIssueID']}",
                        params={"embeds": "LinkedUnits"}).json()
    assert [u["UnitID"] for u in got["LinkedUnits"]] == [3]


def test_deletes(rw_client: httpx.Client, sb_store_copy):
    store = sb_store_copy
    credits = [r["CreditID"] for r in store.records("Credits")][:3]
    assert len(credits) == 3
    assert rw_client.delete(f"/Credits/{credits[0]}").status_code == 204
    assert rw_client.get(f"/Credits/{credits[0]}").status_code == 404
    assert rw_client.delete("/Credits", params={"ids": f"({credits[1]},{credits[2]})"}).status_code == 204
    assert all(store.get("Credits", i) is None for i in credits)
    assert rw_client.delete(f"/Credits/{credits[0]}").status_code == 404
    assert rw_client.delete("/Credits").status_code == 400
    # owned rows go with their parent: a payment's allocations
    pid = store.records("Allocations")[0]["PaymentID"]
    assert rw_client.delete(f"/Payments/{pid}").status_code == 204
    assert not [a for a in store.records("Allocations") if a["PaymentID"] == pid]
    again = SandboxStore.open(store.path, UNITS, SEED)
    assert again.get("Credits", credits[1]) is None and again.get("Payments", pid) is None
    again.close()


def test_deleted_ids_are_never_reused(rw_client: httpx.Client, sb_store_copy):
    top = max(r["CreditID"] for r in sb_store_copy.records("Credits"))
    assert rw_client.delete(f"/Credits/{top}").status_code == 204
    new = rw_client.post("/Credits", json=[{"AccountID": 1, "Amount": 1.0, "ChargeTypeID": 1}]).json()[0]
    assert new["CreditID"] == top + 1
