"""The webhook receiver over a real socket: what it keeps, what it refuses and how, on SQLite and PostgreSQL."""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor

import httpx
import orjson
import pytest
from sqlalchemy import select

from rm_pipelines.warehouse import inbox
from rm_pipelines.warehouse.ops import webhook_inbox

from .conftest import CORPORATE_ID, TOKEN

EVENT = {"EventType": "Tenant_Edit", "IDParentIDDict": {"42": 42}, "CorporateID": CORPORATE_ID, "LocationID": 1,
         "LocationName": "Default"}


def rows(engine):
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(select(webhook_inbox).order_by(webhook_inbox.c.id)).mappings()]


def post(receiver, body, *, token=TOKEN, org="acme", content_type="application/json"):
    data = body if isinstance(body, bytes) else orjson.dumps(body)
    return httpx.post(f"{receiver.url}/rentmanager/{org}/{token}", content=data,
                      headers={"Content-Type": content_type}, timeout=10)


def test_a_delivery_is_committed_before_the_answer_and_kept_pending(receiver, engine):
    resp = post(receiver, EVENT)
    assert resp.status_code == 200, resp.text
    assert resp.json()["status"] == "pending" and resp.json()["duplicate"] is False
    [row] = rows(engine)  # committed when the answer arrives
    assert row["id"] == resp.json()["id"]
    assert (row["org_id"], row["event_type"], row["entity"], row["operation"], row["location_id"], row["status"]) == \
        ("acme", "Tenant_Edit", "tenants", "Edit", 1, "pending")
    assert orjson.loads(row["ids"]) == {"42": 42} and row["corporate_id"] == CORPORATE_ID
    assert row["deliveries"] == 1 and row["received_at"] is not None
    health = httpx.get(f"{receiver.url}/healthz", timeout=10)
    assert health.status_code == 200 and health.json()["status"] == "ok"


def test_wrong_token_or_unknown_org_is_a_bare_404_and_stores_nothing(receiver, engine, caplog):
    caplog.set_level(logging.DEBUG)
    for resp in (post(receiver, EVENT, token=TOKEN[:-1] + "x"), post(receiver, EVENT, token="short"),
                 post(receiver, EVENT, org="other"), post(receiver, EVENT, org="other", token=TOKEN),
                 httpx.post(f"{receiver.url}/rentmanager/acme", content=b"{}", timeout=10)):
        assert resp.status_code == 404 and resp.content == b""
    assert rows(engine) == []
    assert post(receiver, EVENT).status_code == 200
    # accepted or not, the receiver never logs the token (the test's own client, standing for Rent Manager, may)
    ours = [r.getMessage() for r in caplog.records if r.name.startswith(("rm_pipelines", "uvicorn", "starlette"))]
    assert ours and not any(TOKEN in m for m in ours)


def test_oversize_body_is_413_and_kept_as_rejected(receiver, engine):
    big = {**EVENT, "LocationName": "x" * 4000}
    resp = post(receiver, big)
    assert resp.status_code == 413
    [row] = rows(engine)
    assert row["status"] == "rejected" and "larger than 2048 bytes" in row["reason"]


def test_not_json_is_refused_with_its_reason_and_kept(receiver, engine):
    assert post(receiver, EVENT, content_type="text/plain").status_code == 415
    assert post(receiver, b"{not json", content_type="application/json").status_code == 400
    kept = rows(engine)
    assert [r["status"] for r in kept] == ["rejected", "rejected"]
    assert "Content-Type" in kept[0]["reason"] and "not valid JSON" in kept[1]["reason"]
    assert kept[1]["body"] == "{not json"


@pytest.mark.parametrize("body, reason", [
    ({"IDParentIDDict": {"1": 1}}, "EventType is missing"),
    ({"EventType": "Tenant_Frobnicate", "IDParentIDDict": {"1": 1}}, "is not <EventName>_<Add|Edit|Delete>"),
    ({"EventType": "Tenant_Edit"}, "IDParentIDDict must be a non-empty object"),
    ({"EventType": "Tenant_Edit", "IDParentIDDict": {"abc": 1}}, "IDParentIDDict key must be an integer"),
    ({**EVENT, "CorporateID": "someone-else"}, "is not this organisation's company"),
    ({**EVENT, "LocationID": 9}, "LocationID 9 is not a location this organisation syncs"),
    ([1, 2], "body must be a JSON object"),
])
def test_malformed_delivery_is_422_and_kept_as_rejected_with_the_reason(receiver, engine, body, reason):
    resp = post(receiver, body)
    assert resp.status_code == 422 and reason in resp.json()["reason"]
    [row] = rows(engine)
    assert row["status"] == "rejected" and reason in row["reason"] and row["body"]


def test_unknown_event_types_are_kept_as_ignored_with_the_reason(receiver, engine):
    unknown = post(receiver, {**EVENT, "EventType": "Invoice_Add"})
    history = post(receiver, {**EVENT, "EventType": "TenantHistory_Add"})
    assert unknown.status_code == history.status_code == 200
    assert unknown.json()["status"] == history.json()["status"] == "ignored"
    kept = rows(engine)
    assert [r["status"] for r in kept] == ["ignored", "ignored"]
    assert "'Invoice' is not one rm_pipelines knows" in kept[0]["reason"]
    assert "history" in kept[1]["reason"]
    assert inbox.pending(engine, "acme") == []


def test_a_repeated_delivery_collapses_onto_the_first_until_a_run_takes_it(receiver, engine):
    first, again = post(receiver, EVENT), post(receiver, EVENT)
    assert again.json() == {**first.json(), "duplicate": True}
    [row] = rows(engine)
    assert row["deliveries"] == 2
    # once a run has taken the row, the same payload announces a new change: a new row
    inbox.claim(engine, "acme", [row["id"]], "run-1")
    later = post(receiver, EVENT)
    assert later.json()["id"] != first.json()["id"] and later.json()["duplicate"] is False
    # the run fails: its row is released, and the newer repeat folds back into the older row
    assert inbox.settle(engine, "acme", "run-1", succeeded=False) == 1
    [merged] = rows(engine)
    assert merged["id"] == first.json()["id"] and merged["deliveries"] == 3 and merged["claimed_run_id"] is None
    # a successful run marks what it took as processed, with its id
    inbox.claim(engine, "acme", [merged["id"]], "run-2")
    assert inbox.settle(engine, "acme", "run-2", succeeded=True) == 1
    [done] = rows(engine)
    assert done["status"] == "processed" and done["processed_run_id"] == "run-2" and done["processed_at"]


def test_a_crash_after_the_commit_and_before_the_answer_loses_nothing(receiver, engine, monkeypatch):
    from rm_pipelines.webhooks import app as receiver_app

    def crash(*args, **kwargs):
        raise RuntimeError("process died before answering")

    monkeypatch.setattr(receiver_app, "_answer", crash)
    lost = post(receiver, EVENT)
    assert lost.status_code == 500  # Rent Manager saw a failure and will deliver again
    [row] = rows(engine)
    assert row["status"] == "pending"
    monkeypatch.undo()
    retry = post(receiver, EVENT)
    assert retry.status_code == 200 and retry.json()["duplicate"] is True
    [row] = rows(engine)  # the redelivery collapsed onto the row committed before the crash
    assert row["deliveries"] == 2


def test_concurrent_deliveries_are_all_kept(receiver, engine):
    bodies = [{**EVENT, "IDParentIDDict": {str(i): i}} for i in range(1, 81)]
    with ThreadPoolExecutor(max_workers=16) as pool:
        answers = list(pool.map(lambda b: post(receiver, b), bodies))
    assert all(a.status_code == 200 for a in answers)
    kept = rows(engine)
    assert len(kept) == 80 and len({a.json()["id"] for a in answers}) == 80
    assert sorted(int(next(iter(orjson.loads(r["ids"])))) for r in kept) == list(range(1, 81))
