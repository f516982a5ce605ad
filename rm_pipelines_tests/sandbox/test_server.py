"""Reads against a real sandbox server: paging and its headers, empty results, every filter operator (checked
against a plain-Python oracle over the store's records), ordering, fields, embeds, instances and sub-routes."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import httpx
import pytest

from .conftest import AS_OF

ERROR_MODEL_KEYS = {"UserMessage", "DeveloperMessage", "ErrorCode", "MoreInfoUri", "Exception", "Details",
                    "InnerException", "AdditionalData"}


def _links(resp: httpx.Response) -> dict[str, str]:
    return {rel: url for url, rel in re.findall(r'<([^>]+)>;\s*rel="(\w+)"', resp.headers.get("link", ""))}


def _all_ids(client: httpx.Client, path: str, pk: str, **params: str) -> list[int]:
    """Every row of a collection query, following pageNumber until an empty page."""
    out, number = [], 1
    while True:
        resp = client.get(path, params={**params, "pageSize": 1000, "pageNumber": number})
        if resp.status_code == 204:
            return out
        assert resp.status_code in (200, 206), resp.text
        out += [r[pk] for r in resp.json()]
        number += 1


# ------------------------------------------------------------------------------------------------ paging
def test_pages_follow_link_headers_and_cover_every_charge_once(client, sb_shared_store):
    expected = [r["ChargeID"] for r in sb_shared_store.records("Charges")]
    assert len(expected) > 1000  # the portfolio must need several pages for this test to mean anything
    resp = client.get("/Charges", params={"pageSize": 700})
    seen, statuses = [], []
    while True:
        statuses.append(resp.status_code)
        assert resp.headers["x-total-results"] == str(len(expected))
        links = _links(resp)
        assert {"first", "last"} <= set(links)
        seen += [r["ChargeID"] for r in resp.json()]
        if "next" not in links:
            break
        resp = client.get(links["next"])
    assert seen == expected  # PK order, no gaps, no duplicates
    assert statuses[:-1] == [206] * (len(statuses) - 1) and statuses[-1] == 200
    assert "pagenumber=1" in links["first"] and f"pagenumber={len(statuses)}" in links["last"]
    assert "previous" in links


def test_page_size_defaults_to_and_is_capped_at_1000(client):
    assert len(client.get("/Charges").json()) == 1000
    assert len(client.get("/Charges", params={"pageSize": 5000}).json()) == 1000
    resp = client.get("/Charges", params={"PAGESIZE": 3, "PageNumber": 2})  # names are case-insensitive
    assert [r["ChargeID"] for r in resp.json()] == [4, 5, 6]


def test_page_past_the_end_and_empty_results_are_204_without_body(client, sb_shared_store):
    last = -(-sb_shared_store.count("Charges") // 1000)
    resp = client.get("/Charges", params={"pageNumber": last + 1})
    assert resp.status_code == 204 and resp.content == b""
    resp = client.get("/Charges", params={"filters": "ChargeID,lt,0"})
    assert resp.status_code == 204 and resp.content == b""
    assert resp.headers["x-total-results"] == "0"


@pytest.mark.parametrize(("status", "body"), [(200, []), (404, None)])
def test_empty_status_is_configurable(client, ro_server, status, body):
    ro_server.config.empty_status = status
    try:
        resp = client.get("/Charges", params={"filters": "ChargeID,lt,0"})
        assert resp.status_code == status
        if body is not None:
            assert resp.json() == body
        else:
            assert set(resp.json()) == ERROR_MODEL_KEYS
    finally:
        ro_server.config.empty_status = 204


def test_206_can_be_switched_off(client, ro_server):
    ro_server.config.partial_content_206 = False
    try:
        assert client.get("/Charges", params={"pageSize": 10}).status_code == 200
    finally:
        ro_server.config.partial_content_206 = True


def test_bad_paging_values_are_400_model_state(client):
    resp = client.get("/Charges", params={"pageSize": "lots"})
    assert resp.status_code == 400
    assert resp.json()["ModelState"]["pageSize"]


# ------------------------------------------------------------------------------------------------ filters
def _local(text: str) -> datetime:
    return datetime.fromisoformat(text[:26])  # .NET 7-digit fractions: the first 6 are enough for the oracle


def _expect(store, coll: str, pk: str, keep) -> list[int]:
    return [r[pk] for r in store.records(coll) if keep(r)]


# a date inside the sandbox's history window (which ends on the pinned as-of day), so every date case selects
# some rows but not all
PIVOT = AS_OF - timedelta(days=180)
P_ISO, P_US, P_TS = PIVOT.isoformat(), PIVOT.strftime("%m/%d/%Y"), f"{PIVOT.isoformat()}T00:00:00"

OPERATOR_CASES = [
    ("eq", "Charges", "ChargeTypeID,eq,1", lambda r: r["ChargeTypeID"] == 1),
    ("ne", "Charges", "ChargeTypeID,ne,1", lambda r: r["ChargeTypeID"] != 1),
    ("lt", "Charges", "Amount,lt,100", lambda r: r["Amount"] < 100),
    ("le", "Charges", "Amount,le,100.5", lambda r: r["Amount"] <= 100.5),
    ("gt", "Charges", "Amount,gt,1500", lambda r: r["Amount"] > 1500),
    ("ge", "Charges", f"TransactionDate,ge,{P_ISO}", lambda r: r["TransactionDate"] >= P_TS),
    ("ltn", "Leases", f"MoveOutDate,ltn,{P_ISO}",
     lambda r: r["MoveOutDate"] is None or r["MoveOutDate"] < P_ISO),
    ("len", "Leases", f"MoveOutDate,len,{P_TS}",
     lambda r: r["MoveOutDate"] is None or r["MoveOutDate"] <= P_TS),
    ("gtn", "Leases", f"MoveOutDate,gtn,{P_US}",
     lambda r: r["MoveOutDate"] is None or r["MoveOutDate"] > P_TS),
    ("gen", "Leases", f"MoveOutDate,gen,{P_ISO}",
     lambda r: r["MoveOutDate"] is None or r["MoveOutDate"] >= P_TS),
    ("bt", "Charges", "Amount,bt,(100,500)", lambda r: 100 <= r["Amount"] <= 500),
    ("in", "Charges", "ChargeTypeID,in,(2,3,5)", lambda r: r["ChargeTypeID"] in (2, 3, 5)),
    ("ni", "Charges", "ChargeTypeID,ni,(1,2)", lambda r: r["ChargeTypeID"] not in (1, 2)),
    ("ct", "Tenants", "Name,ct,SON", lambda r: "son" in r["Name"].lower()),
    ("sw", "Tenants", "Name,sw,m", lambda r: r["Name"].lower().startswith("m")),
    ("ew", "Tenants", "LastName,ew,Ez", lambda r: r["LastName"].lower().endswith("ez")),
    ("hv", "Leases", "MoveOutDate,hv,true", lambda r: r["MoveOutDate"] is not None),
    ("hv-false", "Leases", "MoveOutDate,hv,false", lambda r: r["MoveOutDate"] is None),
    ("bool", "Charges", "IsFullyAllocated,eq,false", lambda r: r["IsFullyAllocated"] is False),
    ("and", "Charges", "ChargeTypeID,eq,1;Amount,ge,800",
     lambda r: r["ChargeTypeID"] == 1 and r["Amount"] >= 800),
    ("eq-text-ignores-case", "Tenants", "Status,eq,CURRENT", lambda r: r["Status"] == "Current"),
    ("field-name-ignores-case", "Charges", "chargetypeid,eq,2", lambda r: r["ChargeTypeID"] == 2),
]

PKS = {"Charges": "ChargeID", "Leases": "LeaseID", "Tenants": "TenantID"}


@pytest.mark.parametrize(("name", "coll", "filters", "keep"), OPERATOR_CASES, ids=[c[0] for c in OPERATOR_CASES])
def test_filter_operators_match_a_python_oracle(client, sb_shared_store, name, coll, filters, keep):
    expected = _expect(sb_shared_store, coll, PKS[coll], keep)
    got = _all_ids(client, f"/{coll}", PKS[coll], filters=filters)
    assert got == expected
    assert 0 < len(expected) < sb_shared_store.count(coll), "case must select some but not all rows"


def test_date_filter_with_z_or_offset_is_converted_to_location_time(client, sb_shared_store):
    rec = next(r for r in sb_shared_store.records("Charges") if "." not in r["UpdateDate"])
    local = datetime.fromisoformat(rec["UpdateDate"]).replace(tzinfo=ZoneInfo("America/New_York"))
    same_stamp = [r["ChargeID"] for r in sb_shared_store.records("Charges") if r["UpdateDate"] == rec["UpdateDate"]]
    as_utc = local.astimezone(ZoneInfo("UTC")).strftime("%Y-%m-%dT%H:%M:%SZ")
    as_offset = local.astimezone(ZoneInfo("Asia/Tokyo")).isoformat()  # +09:00
    for text in (as_utc, as_offset, rec["UpdateDate"]):
        assert _all_ids(client, "/Charges", "ChargeID", filters=f"UpdateDate,eq,{text}") == same_stamp, text
    later = _all_ids(client, "/Charges", "ChargeID", filters=f"UpdateDate,gt,{as_utc}")
    assert rec["ChargeID"] not in later


def test_date_filter_with_fraction_compares_to_the_tick(client, sb_shared_store):
    rec = next(r for r in sb_shared_store.records("Charges") if "." in r["UpdateDate"])
    stamp = rec["UpdateDate"]
    got = _all_ids(client, "/Charges", "ChargeID", filters=f"UpdateDate,eq,{stamp}")
    assert rec["ChargeID"] in got
    assert all(sb_shared_store.get("Charges", i)["UpdateDate"].rstrip("0") == stamp.rstrip("0") for i in got)


def test_nested_user_defined_value_filter(client, sb_shared_store):
    udvs = [v for v in sb_shared_store.records("UserDefinedValues")
            if v["ParentType"] == "Tenant" and v["Name"] == "Certified Household Size" and v["Value"] == "2"]
    expected = sorted({v["ParentID"] for v in udvs})
    assert expected
    got = _all_ids(client, "/Tenants", "TenantID",
                   filters="UserDefinedValues(Name,eq,Certified Household Size).Value,eq,2")
    assert got == expected


@pytest.mark.parametrize("bad", ["Amount,gte,5", "Amount,lte,5", "Name,cn,x", "Amount,between,(1,2)"])
def test_misspelled_operator_is_400_model_state(client, bad):
    resp = client.get("/Charges", params={"filters": bad})
    assert resp.status_code == 400
    body = resp.json()
    assert body["Message"] == "The request is invalid."
    assert list(body["ModelState"]) == ["filters"] and body["ModelState"]["filters"][0]


@pytest.mark.parametrize("bad", ["NoSuchField,eq,1", "ChargeTypeID,eq,abc", "IsFullyAllocated,eq,yes",
                                 "TransactionDate,ge,not-a-date", "Amount,bt,(1)", "Amount"])
def test_invalid_filters_are_400(client, bad):
    resp = client.get("/Charges", params={"filters": bad})
    assert resp.status_code == 400
    assert resp.json()["ModelState"]["filters"]


def test_ordering_options(client, sb_shared_store):
    rows = client.get("/Charges", params={"orderingOptions": "Amount desc", "pageSize": 50}).json()
    amounts = [r["Amount"] for r in rows]
    assert amounts == sorted(amounts, reverse=True)
    assert amounts[0] == max(r["Amount"] for r in sb_shared_store.records("Charges"))
    names = [r["Name"] for r in client.get("/Tenants", params={"orderingOptions": "Name"}).json()]
    assert names == sorted(names, key=str.casefold)
    assert client.get("/Charges", params={"orderingOptions": "Bogus"}).status_code == 400


# ------------------------------------------------------------------------------------------------ fields / embeds
def test_fields_limits_the_properties(client):
    rows = client.get("/Charges", params={"fields": "ChargeID,amount", "pageSize": 5}).json()
    assert [set(r) for r in rows] == [{"ChargeID", "Amount"}] * 5
    assert client.get("/Charges", params={"fields": "ChargeID,Nope"}).status_code == 400


def test_embedded_property_must_be_listed_in_fields(client):
    params = {"embeds": "Allocations", "pageSize": 3}
    assert set(client.get("/Payments", params={**params, "fields": "PaymentID"}).json()[0]) == {"PaymentID"}
    row = client.get("/Payments", params={**params, "fields": "PaymentID,Allocations"}).json()[0]
    assert set(row) == {"PaymentID", "Allocations"} and row["Allocations"]
    row = client.get("/Payments", params={**params, "fields": "PaymentID,Allocations.Amount"}).json()[0]
    assert all(set(a) == {"Amount"} for a in row["Allocations"])


def test_embeds_join_like_the_contract_says(client, sb_shared_store):
    tenants = client.get("/Tenants", params={"embeds": "Contacts,Leases,Property", "pageSize": 20}).json()
    for t in tenants:
        want = [c["ContactID"] for c in sb_shared_store.records("Contacts")
                if c["ParentType"] == "Tenant" and c["ParentID"] == t["TenantID"]]
        assert [c["ContactID"] for c in t["Contacts"]] == want
        assert all(lease["TenantID"] == t["TenantID"] for lease in t["Leases"])
        assert t["Property"]["PropertyID"] == t["PropertyID"]


def test_dotted_embed_resolves_each_allocation_charge(client):
    payments = client.get("/Payments", params={"embeds": "Allocations.Charge", "pageSize": 50}).json()
    allocations = [a for p in payments for a in p["Allocations"]]
    assert allocations
    for p in payments:
        for a in p["Allocations"]:
            assert a["PaymentID"] == p["PaymentID"]
            assert a["Charge"]["ChargeID"] == a["ChargeID"]


def test_unknown_embed_is_400_model_state(client):
    resp = client.get("/Tenants", params={"embeds": "Contacts,Pets"})
    assert resp.status_code == 400
    assert resp.json()["Message"] == "The request is invalid."
    assert resp.json()["ModelState"]["embeds"]
    assert client.get("/Payments", params={"embeds": "Allocations.Nope"}).status_code == 400


def test_lease_dates_appear_only_with_lease_renewals_embedded(client, sb_shared_store):
    plain = client.get("/Leases", params={"pageSize": 30}).json()
    assert not any("StartDate" in row or "EndDate" in row for row in plain)
    rows = client.get("/Leases", params={"pageSize": 30, "embeds": "LeaseRenewals"}).json()
    for row in rows:
        renewals = [r for r in sb_shared_store.records("LeaseRenewals") if r["ParentLeaseID"] == row["LeaseID"]]
        latest = max(renewals, key=lambda r: r["StartDate"]) if renewals else None
        assert row["StartDate"] == (latest["StartDate"] if latest else None)
        assert row["EndDate"] == (latest["EndDate"] if latest else None)


def test_service_issue_embeds(client):
    row = client.get("/ServiceManagerIssues", params={
        "embeds": "LinkedProperties,LinkedUnits,LinkedTenants,Category,Status,Priority", "pageSize": 1}).json()[0]
    assert row["Category"]["ServiceManagerCategoryID"] == row["CategoryID"]
    assert row["Status"]["ServiceManagerStatusID"] == row["StatusID"]
    assert all(x["ServiceManagerIssueID"] == row["ServiceManagerIssueID"] for x in row["LinkedProperties"])


# ------------------------------------------------------------------------------------------------ instances
def test_instance_get_and_404(client, sb_shared_store):
    assert client.get("/Tenants/1").json() == sb_shared_store.get("Tenants", 1)
    row = client.get("/Tenants/1", params={"fields": "TenantID,Contacts", "embeds": "Contacts"}).json()
    assert set(row) == {"TenantID", "Contacts"}
    resp = client.get("/Tenants/999999")
    assert resp.status_code == 404 and set(resp.json()) == ERROR_MODEL_KEYS
    assert client.get("/Tenants/abc").status_code == 404
    assert client.get("/NoSuchResource").status_code == 404
    assert client.get("/Allocations").status_code == 404  # embed-only: not a top-level route


def test_sub_routes(client, sb_shared_store):
    tid = next(c["ParentID"] for c in sb_shared_store.records("Contacts") if c["ParentType"] == "Tenant")
    want = [c["ContactID"] for c in sb_shared_store.records("Contacts")
            if c["ParentType"] == "Tenant" and c["ParentID"] == tid]
    got = client.get(f"/Tenants/{tid}/Contacts").json()
    assert [c["ContactID"] for c in got] == want
    first = client.get(f"/Tenants/{tid}/Contacts", params={"pageSize": 1})
    assert first.headers["x-total-results"] == str(len(want))
    assert client.get(f"/Tenants/{tid}/Nope").status_code == 404
    assert client.get("/Tenants/999999/Contacts").status_code == 404


def test_tenant_balance(client, sb_shared_store):
    tid = sb_shared_store.records("Charges")[0]["AccountID"]
    total = sum(c["Amount"] for c in sb_shared_store.records("Charges") if c["AccountID"] == tid)
    total -= sum(p["Amount"] for p in sb_shared_store.records("Payments")
                 if p["AccountID"] == tid and not p["ReversalDate"])
    total -= sum(c["Amount"] for c in sb_shared_store.records("Credits") if c["AccountID"] == tid)
    assert client.get(f"/Tenants/{tid}/Balance").json() == pytest.approx(round(total, 2))
    row = client.get(f"/Tenants/{tid}", params={"embeds": "Balance"}).json()
    assert row["Balance"] == pytest.approx(round(total, 2))
    assert "Balance" not in client.get(f"/Tenants/{tid}").json()


def test_every_top_level_collection_is_served(client, sb_shared_store):
    from rm_pipelines.sandbox import catalog

    for name, spec in catalog.COLLECTIONS.items():
        resp = client.get(f"/{name}", params={"pageSize": 2})
        if not spec.top_level:
            assert resp.status_code == 404, name
        elif sb_shared_store.count(name):
            assert resp.status_code in (200, 206), name
            assert spec.pk in resp.json()[0], name
        else:
            assert resp.status_code == 204, name
