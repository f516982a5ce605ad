"""Rate limiting (fixed one-minute windows per credential) and every injectable fault, over real sockets."""

from __future__ import annotations

import time

import httpx
import orjson
import pytest

from .conftest import PARTNER, login


def _fresh_window() -> None:
    """Avoid a minute boundary in the middle of a rate-limit test."""
    if time.time() % 60 > 55:
        time.sleep(60 - time.time() % 60 + 0.05)


def test_rate_limit_headers_and_429(sb_shared_store, make_server):
    srv = make_server(sb_shared_store, rate_limit_per_minute=5)
    _fresh_window()
    with httpx.Client(base_url=srv.url) as c:
        token = login(c)  # authentication counts too: 1 of 5
        h = {"X-RM12Api-ApiToken": token}
        remaining = []
        for _ in range(4):
            resp = c.get("/Locations", headers=h)
            assert resp.status_code == 200
            assert resp.headers["x-ratelimit-limit"] == "5"
            remaining.append(int(resp.headers["x-ratelimit-remaining"]))
            reset = int(resp.headers["x-ratelimit-reset"])
            assert reset % 60 == 0 and 0 < reset - time.time() <= 60
        assert remaining == [3, 2, 1, 0]
        resp = c.get("/Locations", headers=h)
        assert resp.status_code == 429
        assert resp.headers["x-ratelimit-remaining"] == "0"
        assert resp.json()["UserMessage"] and "ErrorCode" in resp.json()
        # another credential set has its own budget
        assert c.get("/Locations", headers={"X-RM12API-PartnerToken": PARTNER}).status_code == 200
        # the limit is live configuration
        srv.config.rate_limit_per_minute = 100
        assert c.get("/Locations", headers=h).status_code == 200
    assert srv.stats.rate_limited == 1
    assert srv.stats.by_status[429] == 1


def test_unlimited_sends_no_rate_headers(client):
    assert "x-ratelimit-limit" not in client.get("/Locations").headers


def test_429_storm(client, ro_server):
    ro_server.faults.status_429_next = 3
    statuses = [client.get("/Locations").status_code for _ in range(5)]
    assert statuses == [429, 429, 429, 200, 200]
    assert ro_server.stats.rate_limited == 3


def test_5xx_next_and_rate(client, ro_server):
    ro_server.faults.error_5xx_next = 2
    first = [client.get("/Locations") for _ in range(3)]
    assert [r.status_code >= 500 for r in first] == [True, True, False]
    assert "DeveloperMessage" in first[0].json()
    ro_server.faults.error_5xx_rate = 1.0
    assert all(client.get("/Locations").status_code >= 500 for _ in range(3))
    ro_server.faults.error_5xx_rate = 0.0


def _pattern(sb_shared_store, make_server, seed: int) -> list[int]:
    srv = make_server(sb_shared_store, fault_seed=seed)
    srv.faults.error_5xx_rate = 0.5
    with httpx.Client(base_url=srv.url, headers={"X-RM12API-PartnerToken": PARTNER}) as c:
        return [c.get("/Locations").status_code for _ in range(30)]


def test_fault_rates_are_deterministic_per_seed(sb_shared_store, make_server):
    a = _pattern(sb_shared_store, make_server, 3)
    b = _pattern(sb_shared_store, make_server, 3)
    c = _pattern(sb_shared_store, make_server, 4)
    assert a == b
    assert a != c
    assert 0 < sum(s >= 500 for s in a) < 30


def test_latency(client, ro_server):
    ro_server.faults.latency_seconds = 0.3
    started = time.perf_counter()
    assert client.get("/Locations").status_code == 200
    assert time.perf_counter() - started >= 0.3
    ro_server.faults.latency_seconds = 0.0


def test_dropped_connection_is_a_transport_error(client, ro_server):
    ro_server.faults.drop_next = 1
    with pytest.raises(httpx.TransportError) as info:
        client.get("/Charges", params={"pageSize": 200})
    assert isinstance(info.value, (httpx.RemoteProtocolError, httpx.ReadError))
    assert client.get("/Charges", params={"pageSize": 200}).status_code == 206  # next request is fine
    ro_server.faults.drop_next = 1
    with pytest.raises(httpx.TransportError):
        client.get("/Charges", params={"pageNumber": 9999})  # even an empty (204) answer is cut
    assert ro_server.stats.dropped == 2


def test_drop_rate(client, ro_server):
    ro_server.faults.drop_rate = 1.0
    for _ in range(2):
        with pytest.raises(httpx.TransportError):
            client.get("/Locations")
    ro_server.faults.drop_rate = 0.0
    assert client.get("/Locations").status_code == 200


def test_malformed_page(client, ro_server):
    ro_server.faults.malformed_page = ("Charges", 2)
    good = client.get("/Charges", params={"pageSize": 100, "pageNumber": 1})
    assert len(good.json()) == 100
    bad = client.get("/charges", params={"pageSize": 100, "pageNumber": 2})
    assert bad.status_code in (200, 206)
    assert int(bad.headers["content-length"]) == len(bad.content)
    with pytest.raises(orjson.JSONDecodeError):
        orjson.loads(bad.content)
    ro_server.faults.malformed_page = None
    assert len(client.get("/Charges", params={"pageSize": 100, "pageNumber": 2}).json()) == 100


def test_malformed_page_can_fire_a_limited_number_of_times(client, ro_server):
    ro_server.faults.malformed_page = ("Charges", 1)
    ro_server.faults.malformed_times = 1
    with pytest.raises(orjson.JSONDecodeError):
        orjson.loads(client.get("/Charges", params={"pageSize": 10}).content)
    assert len(client.get("/Charges", params={"pageSize": 10}).json()) == 10


def test_duplicate_row_answers_one_key_twice_in_a_page(client, ro_server):
    clean = client.get("/Units", params={"pageSize": 10, "pageNumber": 1}).json()
    ro_server.faults.duplicate_row = ("units", 1)
    page = client.get("/Units", params={"pageSize": 10, "pageNumber": 1}).json()
    assert len(page) == len(clean) == 10  # the page keeps its length
    assert page[:-1] == clean[:-1] and page[-1]["UnitID"] == page[0]["UnitID"]
    assert page[-1]["UpdateDate"] != page[0]["UpdateDate"]  # a later edit: same key, other contents
    assert client.get("/Units", params={"pageSize": 10, "pageNumber": 2}).json()[0]["UnitID"] != page[0]["UnitID"]
    assert ro_server.stats.duplicated == 1
    assert ro_server.faults.duplicate_row is None  # like the other page faults it fires page_fault_times times
    assert client.get("/Units", params={"pageSize": 10, "pageNumber": 1}).json() == clean


def test_expire_all_tokens(client, ro_server):
    assert client.get("/Locations").status_code == 200
    ro_server.faults.expire_all_tokens()
    assert client.get("/Locations").status_code == 401
    client.headers["X-RM12Api-ApiToken"] = login(client)
    assert client.get("/Locations").status_code == 200


def test_admin_routes_need_the_admin_token_and_never_show_secrets(ro_server):
    for path in ("/_sandbox/faults", "/_sandbox/config", "/_sandbox/stats", "/_sandbox/state"):
        assert httpx.get(ro_server.url + path).status_code == 404
        assert httpx.get(ro_server.url + path, headers={"X-Sandbox-Admin-Token": "guess"}).status_code == 404
    assert httpx.post(ro_server.url + "/_sandbox/churn", json={"changes": 1}).status_code == 404
    config = httpx.get(ro_server.url + "/_sandbox/config", headers=ro_server.admin_headers).json()
    text = str(config)
    assert "demo-password" not in text and "sandbox-partner-token" not in text
    assert ro_server.config.admin_token not in text
    assert httpx.post(ro_server.url + "/_sandbox/config", headers=ro_server.admin_headers,
                      json={"admin_token": "x" * 20}).status_code == 400


def test_serving_off_loopback_needs_an_admin_token_of_ones_own(sb_shared_store):
    from rm_pipelines.sandbox import SandboxConfig, SandboxServer

    with pytest.raises(ValueError, match="needs an admin token"):
        SandboxServer(sb_shared_store, SandboxConfig(), host="0.0.0.0")
    with pytest.raises(ValueError, match="at least 16"):
        SandboxServer(sb_shared_store, SandboxConfig(admin_token="short"), host="0.0.0.0")
    server = SandboxServer(sb_shared_store, SandboxConfig(admin_token="a-long-enough-token"), host="0.0.0.0")
    assert server.admin_headers == {"X-Sandbox-Admin-Token": "a-long-enough-token"}


def test_admin_endpoints_steer_a_server(client, ro_server):
    admin = httpx.Client(base_url=ro_server.url, headers=ro_server.admin_headers)
    assert admin.post("/_sandbox/faults", json={"status_429_next": 1}).json()["status_429_next"] == 1
    assert client.get("/Locations").status_code == 429
    assert admin.post("/_sandbox/faults", json={"malformed_page": "Charges:3"}).json()["malformed_page"] == \
        ["Charges", 3]
    assert admin.post("/_sandbox/faults", json={"duplicate_row": "Units:2"}).json()["duplicate_row"] == ["Units", 2]
    reset = admin.post("/_sandbox/faults", json={"reset": True}).json()
    assert reset["malformed_page"] is None and reset["duplicate_row"] is None
    assert admin.post("/_sandbox/faults", json={"bogus": 1}).status_code == 400
    admin.post("/_sandbox/faults", json={"expire_tokens": True})
    assert client.get("/Locations").status_code == 401

    cfg = admin.post("/_sandbox/config", json={"rate_limit_per_minute": 1000, "empty_status": 200}).json()
    assert cfg["rate_limit_per_minute"] == 1000 and ro_server.config.empty_status == 200
    assert admin.post("/_sandbox/config", json={"empty_status": 301}).status_code == 400
    admin.post("/_sandbox/config", json={"rate_limit_per_minute": None, "empty_status": 204})

    stats = admin.get("/_sandbox/stats").json()
    assert stats["requests"] == ro_server.stats.requests >= 3
    assert stats["by_status"]["429"] == 1 and stats["rate_limited"] == 1
    assert stats["by_path"]["/Locations"] == 2
    assert admin.post("/_sandbox/stats").json()["requests"] == 0  # POST resets
    admin.close()


def test_generated_admin_tokens_pass_as_command_line_values():
    """A token starting with "-" is read by argparse as an option (`--admin-token -x…`: "expected one argument")."""
    import argparse

    from rm_pipelines.sandbox.server import new_admin_token

    parser = argparse.ArgumentParser()
    parser.add_argument("--admin-token")
    tokens = [new_admin_token() for _ in range(2000)]  # a urlsafe token starts with "-" once in 64
    assert all(parser.parse_args(["--admin-token", t]).admin_token == t and len(t) >= 16 for t in tokens)
