"""The client against the sandbox server, over a real socket."""

from __future__ import annotations

import math
from datetime import datetime

import httpx
import pytest

from rm_pipelines.rentmanager.client import RentManagerClient
from rm_pipelines.rentmanager.errors import (
    AuthenticationError,
    ConflictError,
    IncompleteCollectionError,
    MalformedResponseError,
    RequestValidationError,
    ServerError,
)
from rm_pipelines.rentmanager.ratelimit import RequestBudget
from rm_pipelines_tests.conftest import DEMO_PASSWORD, DEMO_USER, PARTNER_TOKEN


class Sleeps:
    """Records sleeps instead of sleeping, so back-off is observable and tests stay fast."""

    def __init__(self) -> None:
        self.calls: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)


def client(sandbox, **kwargs) -> RentManagerClient:
    sleeps = kwargs.pop("sleep", None) or Sleeps()
    kwargs.setdefault("budget", RequestBudget(None, sleep=sleeps))
    if "partner_token" not in kwargs:
        kwargs.setdefault("username", DEMO_USER)
        kwargs.setdefault("password", DEMO_PASSWORD)
    return RentManagerClient(sandbox.url, location_id=1, sleep=sleeps, **kwargs)


def auth_calls(sandbox) -> int:
    return httpx.get(f"{sandbox.url}/_sandbox/stats", headers=sandbox.admin_headers).json()["by_path"].get("/Authentication/AuthorizeUser", 0)


# -- auth -------------------------------------------------------------------------------------------------

def test_login_once_token_reused_and_given_back(sandbox):
    with client(sandbox) as rm:
        assert rm.get("/Locations")[0]["LocationID"] == 1
        rm.get_page("Units", 1, page_size=5)
        rm.get_page("Tenants", 1, page_size=5)
        token = rm._token
        assert auth_calls(sandbox) == 1
    # DeAuthorize on close: the token no longer works
    r = httpx.get(f"{sandbox.url}/Units", headers={"X-RM12Api-ApiToken": token})
    assert r.status_code == 401


def test_bad_credentials_fail_clearly(sandbox):
    with client(sandbox, password="wrong") as rm, pytest.raises(AuthenticationError) as info:
        rm.get("/Units")
    assert "'demo'" in str(info.value) and "AuthorizeUser" in str(info.value)
    assert "wrong" not in str(info.value)


def test_expired_token_is_renewed_once_and_the_call_replayed(sandbox):
    with client(sandbox) as rm:
        rm.get_page("Units", 1, page_size=2)
        sandbox.faults.expire_all_tokens()
        page = rm.get_page("Units", 1, page_size=2)
        assert len(page) == 2
        assert rm.stats.reauthentications == 1 and auth_calls(sandbox) == 2


def test_idle_timeout_is_survived(sandbox):
    import time

    sandbox.config.token_idle_seconds = 0.5
    with client(sandbox) as rm:
        rm.get_page("Units", 1, page_size=1)
        time.sleep(0.8)
        assert len(rm.get_page("Units", 1, page_size=1)) == 1
        assert rm.stats.reauthentications == 1


def test_partner_token_needs_no_login(sandbox):
    with client(sandbox, partner_token=PARTNER_TOKEN) as rm:
        assert len(rm.get_page("Properties", 1)) > 0
    assert auth_calls(sandbox) == 0
    with client(sandbox, partner_token="not-a-partner") as rm, pytest.raises(AuthenticationError):
        rm.get_page("Properties", 1)


# -- paging -----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("header", [True, False], ids=["with-total", "without-total"])
@pytest.mark.parametrize("n", [0, 1, 999, 1000, 1001, 2500])
def test_paging_boundaries(sandbox, n, header):
    sandbox.config.total_results_header = header
    with client(sandbox) as rm:
        pages = list(rm.iter_pages("Charges", filters=[("ChargeID", "le", n)], page_size=1000))
        ids = [r["ChargeID"] for p in pages for r in p]
        assert ids == list(range(1, n + 1))
        assert len(pages) == math.ceil(n / 1000)
        if header:  # X-Total-Results says when the collection ends: one request per page (at least one)
            expected_requests = max(1, math.ceil(n / 1000))
        else:  # without it the walk reads up to an empty page, then probes the page after a short or empty one
            expected_requests = n // 1000 + 1 + (1 if n else 0)
        assert rm.stats.requests == expected_requests + 1  # + the login
        if pages:
            assert pages[0].total_results == (n if header else None)


@pytest.mark.parametrize("header", [True, False], ids=["with-total", "without-total"])
@pytest.mark.parametrize("fault", [{"short_page": ("Charges", 2, 1)}, {"not_found_page": ("Charges", 2)},
                                   {"short_page": ("Charges", 3, 500)}], ids=["row-missing", "404", "last-page-empty"])
def test_a_collection_that_does_not_add_up_raises_naming_the_page(sandbox, fault, header):
    sandbox.config.total_results_header = header
    for name, value in fault.items():
        setattr(sandbox.faults, name, value)
    page = next(iter(fault.values()))[1]
    with client(sandbox) as rm:
        if not header and fault.get("short_page") == ("Charges", 3, 500):
            # without a count an empty last page looks like the end: the walk cannot tell, so a full sync confirms
            # the keys it did not see before flagging them (test_sync_faults.py)
            assert len([r for p in rm.iter_pages("Charges", filters=[("ChargeID", "le", 2500)]) for r in p]) == 2000
            return
        with pytest.raises(IncompleteCollectionError, match=rf"GET /Charges page {page}"):
            list(rm.iter_pages("Charges", filters=[("ChargeID", "le", 2500)], page_size=1000))


def test_empty_collection_is_204_and_no_rows(sandbox):
    with client(sandbox) as rm:
        page = rm.get_page("Charges", 1, filters=[("ChargeID", "lt", 0)])
        assert page == [] and page.status == 204
        assert list(rm.iter_records("Charges", filters=[("ChargeID", "lt", 0)])) == []


def test_small_pages_and_no_prefetch_agree(sandbox):
    with client(sandbox) as rm:
        a = [r["UnitID"] for r in rm.iter_records("Units", page_size=7)]
        b = [r["UnitID"] for r in rm.iter_records("Units", page_size=1000, prefetch=False)]
        assert a == b and len(a) == sandbox.store.count("Units")


# -- filters, fields, embeds --------------------------------------------------------------------------------

def _local(value):
    return datetime.fromisoformat(value[:26]) if value else None


CASES = [
    ("Units", "Bedrooms", "eq", 2, lambda r: r["Bedrooms"] == 2),
    ("Units", "Bedrooms", "ne", 2, lambda r: r["Bedrooms"] != 2),
    ("Units", "Bedrooms", "lt", 2, lambda r: r["Bedrooms"] < 2),
    ("Units", "Bedrooms", "le", 2, lambda r: r["Bedrooms"] <= 2),
    ("Units", "Bedrooms", "gt", 2, lambda r: r["Bedrooms"] > 2),
    ("Units", "Bedrooms", "ge", 2, lambda r: r["Bedrooms"] >= 2),
    ("Leases", "MoveOutDate", "ltn", datetime(2026, 3, 1), lambda r: r["MoveOutDate"] is None or _local(r["MoveOutDate"]) < datetime(2026, 3, 1)),
    ("Leases", "MoveOutDate", "len", datetime(2026, 3, 1), lambda r: r["MoveOutDate"] is None or _local(r["MoveOutDate"]) <= datetime(2026, 3, 1)),
    ("Leases", "MoveOutDate", "gtn", datetime(2026, 3, 1), lambda r: r["MoveOutDate"] is None or _local(r["MoveOutDate"]) > datetime(2026, 3, 1)),
    ("Leases", "MoveOutDate", "gen", datetime(2026, 3, 1), lambda r: r["MoveOutDate"] is None or _local(r["MoveOutDate"]) >= datetime(2026, 3, 1)),
    ("Units", "UnitID", "bt", (5, 17), lambda r: 5 <= r["UnitID"] <= 17),
    ("Units", "UnitID", "in", [3, 9, 27], lambda r: r["UnitID"] in (3, 9, 27)),
    ("Units", "UnitID", "ni", [3, 9, 27], lambda r: r["UnitID"] not in (3, 9, 27)),
    ("Tenants", "LastName", "ct", "an", lambda r: "an" in (r["LastName"] or "").lower()),
    ("Tenants", "LastName", "sw", "M", lambda r: (r["LastName"] or "").lower().startswith("m")),
    ("Tenants", "LastName", "ew", "son", lambda r: (r["LastName"] or "").lower().endswith("son")),
    ("Leases", "MoveOutDate", "hv", True, lambda r: r["MoveOutDate"] is not None),
    ("Properties", "IsCommercial", "eq", True, lambda r: r["IsCommercial"] is True),
]


@pytest.mark.parametrize(("resource", "field", "op", "value", "predicate"), CASES, ids=[f"{c[1]}-{c[2]}" for c in CASES])
def test_every_filter_operator_selects_what_it_should(sandbox, resource, field, op, value, predicate):
    key = {"Units": "UnitID", "Leases": "LeaseID", "Tenants": "TenantID", "Properties": "PropertyID"}[resource]
    expected = sorted(r[key] for r in sandbox.store.records(resource) if predicate(r))
    assert expected, "the portfolio should have rows for this case"
    with client(sandbox) as rm:
        got = sorted(r[key] for r in rm.iter_records(resource, filters=[(field, op, value)]))
    assert got == expected


def test_update_date_filter_in_local_time(sandbox):
    records = sandbox.store.records("Tenants")
    cut = sorted(r["UpdateDate"] for r in records)[len(records) // 2]
    with client(sandbox) as rm:
        since = rm.parse_datetime(cut)
        got = {r["TenantID"] for r in rm.iter_records("Tenants", filters=[("UpdateDate", "ge", since)])}
        expected = {r["TenantID"] for r in records if rm.parse_datetime(r["UpdateDate"]) >= since}
    assert got == expected and 0 < len(got) < len(records)


def test_fields_limit_the_payload(sandbox):
    with client(sandbox) as rm:
        page = rm.get_page("Tenants", 1, fields=["TenantID", "LastName"], page_size=10)
    assert page and all(set(r) == {"TenantID", "LastName"} for r in page)


def test_embeds_including_dotted_paths(sandbox):
    with client(sandbox) as rm:
        payments = rm.get_page("Payments", 1, embeds=["Allocations.Charge"], page_size=50)
        allocated = [p for p in payments if p["Allocations"]]
        assert allocated
        alloc = allocated[0]["Allocations"][0]
        assert alloc["PaymentID"] == allocated[0]["PaymentID"]
        assert alloc["Charge"]["ChargeID"] == alloc["ChargeID"]
        tenants = rm.get_page("Tenants", 1, embeds=["Contacts", "UserDefinedValues"], page_size=20)
        assert any(t["Contacts"] for t in tenants) and any(t["UserDefinedValues"] for t in tenants)


def test_unknown_field_is_a_readable_validation_error(sandbox):
    with client(sandbox) as rm, pytest.raises(RequestValidationError) as info:
        rm.get_page("Units", 1, filters=[("NoSuchField", "eq", 1)])
    assert info.value.status == 400 and "filters" in str(info.value) and "GET /Units (page 1)" in str(info.value)


# -- throttling, retries, faults ----------------------------------------------------------------------------

def test_429_storm_backs_off_until_reset_then_succeeds(sandbox):
    sleeps = Sleeps()
    sandbox.faults.status_429_next = 3
    with client(sandbox, sleep=sleeps) as rm:
        page = rm.get_page("Units", 1, page_size=3)
        assert len(page) == 3
        assert rm.stats.throttled == 3 and rm.stats.retries == 3
        assert rm.budget.stats.throttled == 3
    assert len(sleeps.calls) >= 3 and all(s > 0 for s in sleeps.calls)


def test_5xx_is_retried(sandbox):
    sandbox.faults.error_5xx_next = 2
    with client(sandbox) as rm:
        assert len(rm.get_page("Units", 1, page_size=3)) == 3
        assert rm.stats.retries == 2


def test_5xx_gives_up_after_max_attempts_naming_the_call(sandbox):
    with client(sandbox, max_attempts=3) as rm, pytest.raises(ServerError) as info:
        rm.authenticate()
        sandbox.faults.error_5xx_next = 50
        rm.get_page("Units", 4, page_size=3)
    assert "GET /Units" in str(info.value) and info.value.status >= 500
    assert rm.stats.retries == 2


def test_dropped_connection_is_retried(sandbox):
    with client(sandbox) as rm:
        rm.authenticate()
        sandbox.faults.drop_next = 1
        assert len(rm.get_page("Tenants", 1, page_size=5)) == 5
        assert rm.stats.retries == 1


def test_malformed_page_fails_naming_resource_and_page(sandbox):
    sandbox.faults.malformed_page = ("Tenants", 1)
    with client(sandbox) as rm, pytest.raises(MalformedResponseError) as info:
        for _ in rm.iter_pages("Tenants", page_size=100):
            pass
    assert info.value.page == 1 and "GET /Tenants (page 1)" in str(info.value)
    # the body is not quoted: it holds residents' names
    names = [t["LastName"] for t in sandbox.store.records("Tenants")[:100] if t.get("LastName")]
    assert names and not any(n in str(info.value) for n in names) and "TenantID" not in str(info.value)


# -- writes -------------------------------------------------------------------------------------------------

def test_save_updates_then_stale_update_date_is_a_conflict(sandbox):
    with client(sandbox) as rm:
        tenant = rm.get_page("Tenants", 1, page_size=1)[0]
        saved = rm.save("Tenants", [{"TenantID": tenant["TenantID"], "Comment": "called about parking",
                                     "UpdateDate": tenant["UpdateDate"]}])
        assert saved[0]["Comment"] == "called about parking" and saved[0]["UpdateDate"] != tenant["UpdateDate"]
        assert sandbox.store.get("Tenants", tenant["TenantID"])["Comment"] == "called about parking"
        with pytest.raises(ConflictError) as info:
            rm.save("Tenants", [{"TenantID": tenant["TenantID"], "Comment": "stale", "UpdateDate": tenant["UpdateDate"]}])
        assert info.value.status == 409 and "POST /Tenants" in str(info.value)
        assert sandbox.store.get("Tenants", tenant["TenantID"])["Comment"] == "called about parking"


def test_save_creates_with_a_new_id(sandbox):
    with client(sandbox) as rm:
        before = sandbox.store.count("Vendors")
        saved = rm.save("Vendors", [{"Name": "Ace Plumbing", "IsActive": True}])
        assert saved[0]["VendorID"] > 0 and sandbox.store.count("Vendors") == before + 1
