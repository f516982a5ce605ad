"""Authentication against a real sandbox server: tokens, expiry, the per-user cap, partner tokens, locations."""

from __future__ import annotations

import re
import time

import httpx
import pytest

from .conftest import PARTNER, login

ERROR_MODEL_KEYS = {"UserMessage", "DeveloperMessage", "ErrorCode", "MoreInfoUri", "Exception", "Details",
                    "InnerException", "AdditionalData"}


def test_login_returns_a_bare_json_string_token(ro_server):
    with httpx.Client(base_url=ro_server.url) as c:
        resp = c.post("/Authentication/AuthorizeUser", json={"Username": "demo", "Password": "demo-password"})
    assert resp.status_code == 200
    assert resp.text.startswith('"') and resp.text.endswith('"')
    assert re.fullmatch(r"[0-9a-f]{32}", resp.json())


def test_login_accepts_username_spelling_variants_and_location_1(ro_server):
    with httpx.Client(base_url=ro_server.url) as c:
        for body in ({"UserName": "demo", "Password": "demo-password"},
                     {"username": "DEMO", "password": "demo-password", "LocationID": 1}):
            assert c.post("/Authentication/AuthorizeUser", json=body).status_code == 200


def test_bad_credentials_are_401_error_model(ro_server):
    with httpx.Client(base_url=ro_server.url) as c:
        resp = c.post("/Authentication/AuthorizeUser", json={"Username": "demo", "Password": "wrong"})
        assert resp.status_code == 401
        assert set(resp.json()) == ERROR_MODEL_KEYS
        assert resp.json()["DeveloperMessage"]
        assert c.post("/Authentication/AuthorizeUser", json={"Username": "nobody", "Password": "x"}).status_code == 401


def test_requests_without_a_valid_token_are_401(ro_server):
    with httpx.Client(base_url=ro_server.url) as c:
        for headers in ({}, {"X-RM12Api-ApiToken": "0" * 32}, {"X-RM12API-PartnerToken": "nope"}):
            resp = c.get("/Properties", headers=headers)
            assert resp.status_code == 401
            assert set(resp.json()) == ERROR_MODEL_KEYS


def test_token_header_name_is_case_insensitive(ro_server):
    with httpx.Client(base_url=ro_server.url) as c:
        token = login(c)
        assert c.get("/Properties", headers={"x-rm12api-apitoken": token}).status_code in (200, 206)


def test_idle_timeout_expires_an_unused_token_but_use_keeps_it_alive(sb_shared_store, make_server):
    srv = make_server(sb_shared_store, token_idle_seconds=0.6)
    with httpx.Client(base_url=srv.url) as c:
        token = login(c)
        h = {"X-RM12Api-ApiToken": token}
        for _ in range(4):  # 1.2 s of activity, never idle for 0.6 s
            time.sleep(0.3)
            assert c.get("/Locations", headers=h).status_code == 200
        time.sleep(0.9)
        assert c.get("/Locations", headers=h).status_code == 401


def test_absolute_lifetime_expires_even_a_busy_token(sb_shared_store, make_server):
    srv = make_server(sb_shared_store, token_idle_seconds=60, token_absolute_seconds=1.0)
    with httpx.Client(base_url=srv.url) as c:
        h = {"X-RM12Api-ApiToken": login(c)}
        assert c.get("/Locations", headers=h).status_code == 200
        deadline = time.monotonic() + 1.5
        statuses = []
        while time.monotonic() < deadline:
            statuses.append(c.get("/Locations", headers=h).status_code)
            time.sleep(0.2)
        assert statuses[0] == 200 and statuses[-1] == 401


def test_eleventh_token_is_refused_until_one_is_deauthorized(sb_shared_store, make_server):
    srv = make_server(sb_shared_store)
    with httpx.Client(base_url=srv.url) as c:
        tokens = [login(c) for _ in range(10)]
        assert len(set(tokens)) == 10
        resp = c.post("/Authentication/AuthorizeUser", json={"Username": "demo", "Password": "demo-password"})
        assert resp.status_code == 400
        assert "maximum number of times" in resp.json()["UserMessage"]
        assert set(resp.json()) == ERROR_MODEL_KEYS

        freed = tokens[3]
        assert c.post("/Authentication/DeAuthorize", params={"token": freed}).status_code == 204
        assert c.get("/Locations", headers={"X-RM12Api-ApiToken": freed}).status_code == 401
        assert c.get("/Locations", headers={"X-RM12Api-ApiToken": tokens[4]}).status_code == 200
        login(c)  # the slot is free again


def test_partner_token_works_without_login(client, ro_server):
    with httpx.Client(base_url=ro_server.url) as c:
        resp = c.get("/Properties", headers={"X-RM12API-PartnerToken": PARTNER})
        assert resp.status_code in (200, 206)
        assert resp.json()[0]["PropertyID"] == 1


def test_only_location_1_exists(client):
    assert client.get("/Properties", headers={"X-RM12Api-LocationID": "1"}).status_code in (200, 206)
    resp = client.get("/Properties", headers={"X-RM12Api-LocationID": "2"})
    assert resp.status_code == 403
    assert set(resp.json()) == ERROR_MODEL_KEYS
    resp = client.post("/Authentication/AuthorizeUser",
                       json={"Username": "demo", "Password": "demo-password", "LocationID": 2})
    assert resp.status_code == 403


def test_locations_routes_and_session_information(client):
    locations = client.get("/Locations").json()
    assert [(x["LocationID"], x["Name"]) for x in locations] == [(1, "Default")]
    assert [x["LocationID"] for x in client.get("/Current/Locations").json()] == [1]
    assert client.get("/Locations/CurrentLocation").json()["LocationID"] == 1
    info = client.get("/SessionInformation").json()
    assert info["LocationID"] == 1
    assert info["TimeOutDate"] < info["ExpirationDate"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?", info["TimeOutDate"])


@pytest.mark.parametrize("method", ["PUT", "PATCH"])
def test_put_and_patch_are_405(client, method):
    for path in ("/Tenants", "/Tenants/1", "/Authentication/AuthorizeUser", "/NoSuchThing"):
        resp = client.request(method, path, json=[{"TenantID": 1}])
        assert resp.status_code == 405, path
        assert "Message" in resp.json()
