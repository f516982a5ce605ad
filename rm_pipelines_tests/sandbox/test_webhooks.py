"""Webhook deliveries to a tiny local receiver: event names and payload shape, churn, retries, never blocking."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from rm_pipelines.sandbox.churn import churn


class Receiver:
    """Collects JSON POST bodies; can fail the first N deliveries, answer slowly, or hold every answer until
    `release` is set."""

    def __init__(self, fail_first: int = 0, delay: float = 0.0, release: threading.Event | None = None) -> None:
        self.bodies: list[dict] = []
        self.attempts = 0
        self.fail_first = fail_first
        self.delay = delay
        self.release = release
        self.lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server naming)
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                with outer.lock:
                    outer.attempts += 1
                    failing = outer.attempts <= outer.fail_first
                    if not failing:
                        outer.bodies.append(body)
                time.sleep(outer.delay)
                if outer.release is not None:
                    outer.release.wait(30)
                self.send_response(500 if failing else 200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/rm-webhooks"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def wait_for(self, n: int, timeout: float = 10.0) -> list[dict]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if len(self.bodies) >= n:
                    return list(self.bodies)
            time.sleep(0.02)
        raise AssertionError(f"expected {n} deliveries, got {len(self.bodies)}: {self.bodies}")

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.close()


@pytest.fixture
def hooked(sb_store_copy, make_server, receiver):
    srv = make_server(sb_store_copy, webhook_url=receiver.url, corporate_id="acme-corp")
    with httpx.Client(base_url=srv.url, headers={"X-RM12API-PartnerToken": "sandbox-partner-token"}) as c:
        yield srv, c, receiver


def test_tenant_edit_add_and_delete_events(hooked):
    srv, c, rx = hooked
    t = c.get("/Tenants/4").json()
    assert c.post("/Tenants", json=[{"TenantID": 4, "Comment": "x", "UpdateDate": t["UpdateDate"]}]).status_code == 200
    body = rx.wait_for(1)[0]
    assert body == {"EventType": "Tenant_Edit", "IDParentIDDict": {"4": 4}, "CorporateID": "acme-corp",
                    "LocationID": 1, "LocationName": "Default"}
    new = c.post("/Contacts", json=[{"ParentID": 4, "ParentType": "Tenant", "FirstName": "Kim",
                                     "LastName": "Lee"}]).json()[0]
    assert rx.wait_for(2)[1]["EventType"] == "TenantContact_Add"
    assert rx.bodies[1]["IDParentIDDict"] == {str(new["ContactID"]): 4}
    assert c.delete(f"/Contacts/{new['ContactID']}").status_code == 204
    assert rx.wait_for(3)[2]["EventType"] == "TenantContact_Delete"


def test_entities_without_webhooks_send_nothing(hooked):
    srv, c, rx = hooked
    charge = c.get("/Charges/1").json()
    resp = c.post("/Charges", json=[{"ChargeID": 1, "Comment": "x", "UpdateDate": charge["UpdateDate"]}])
    assert resp.status_code == 200
    srv.webhooks.wait_idle()
    time.sleep(0.2)
    assert rx.bodies == []


def test_churn_fires_events_for_webhook_entities(hooked):
    srv, c, rx = hooked
    result = churn(srv.store, changes=150, deletes=20, seed=5)
    families = {"Tenants": "Tenant", "Owners": "Owner", "Prospects": "Prospect", "Vendors": "Vendor",
                "ServiceManagerIssues": "ServiceIssue"}
    expected = {f"{families[c_]}_Edit:{i}" for c_, ids in result.changed.items() if c_ in families for i in ids}
    expected |= {f"{families[c_]}_Delete:{i}" for c_, ids in result.deleted.items() if c_ in families for i in ids}
    assert expected, "the churn should touch at least one webhook entity"
    assert srv.webhooks.wait_idle(20)
    got = {f"{b['EventType']}:{next(iter(b['IDParentIDDict']))}" for b in rx.bodies}
    assert expected <= got


def test_failed_delivery_is_retried(sb_store_copy, make_server):
    # the receiver keeps each body before it answers (slowly): the sender counts the delivery only once it has
    # the answer, so its counters are read after it is idle, not when the body arrives
    rx = Receiver(fail_first=2, delay=0.2)
    try:
        srv = make_server(sb_store_copy, webhook_url=rx.url)
        srv.webhooks.backoff_seconds = 0.05
        srv.store.touch("Tenants", [1])
        assert rx.wait_for(1)[0]["EventType"] == "Tenant_Edit"
        assert srv.webhooks.wait_idle(10)
        assert rx.attempts == 3
        assert srv.stats.webhooks_sent == 1 and srv.stats.webhooks_failed == 0
    finally:
        rx.close()


def test_unreachable_receiver_gives_up_and_counts_a_failure(sb_store_copy, make_server):
    srv = make_server(sb_store_copy, webhook_url="http://127.0.0.1:9/nowhere")
    srv.webhooks.backoff_seconds = 0.01
    srv.store.touch("Tenants", [1])
    assert srv.webhooks.wait_idle(10)
    assert srv.stats.webhooks_failed == 1


def test_slow_receiver_never_blocks_requests(sb_store_copy, make_server):
    # the receiver answers no delivery until the API requests are done: they complete only if they never wait
    # for a delivery (the client's timeout fails the test otherwise)
    release = threading.Event()
    rx = Receiver(release=release)
    try:
        srv = make_server(sb_store_copy, webhook_url=rx.url)
        with httpx.Client(base_url=srv.url, headers={"X-RM12API-PartnerToken": "sandbox-partner-token"},
                          timeout=10) as c:
            for tid in (1, 2, 3):
                t = c.get(f"/Tenants/{tid}").json()
                resp = c.post("/Tenants", json=[{"TenantID": tid, "Comment": "y", "UpdateDate": t["UpdateDate"]}])
                assert resp.status_code == 200
        release.set()
        assert len(rx.wait_for(3, timeout=15)) == 3
    finally:
        release.set()
        rx.close()
