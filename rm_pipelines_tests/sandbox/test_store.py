"""The store on its own: generation vs loading, persistence, the Python write API, churn, date handling."""

from __future__ import annotations

import shutil
from zoneinfo import ZoneInfo

import pytest

from rm_pipelines import clock
from rm_pipelines.sandbox import ChurnResult, SandboxStore
from rm_pipelines.sandbox.churn import churn
from rm_pipelines.sandbox.timeutil import dt_key, key_add_tick, key_to_wire, parse_to_key

from .conftest import SEED, UNITS
from .fixture_portfolio import fixture_portfolio

NY = ZoneInfo("America/New_York")


def test_generates_once_then_loads_and_regenerates_for_other_settings(tmp_path):
    path = tmp_path / "state.sqlite"
    calls = []

    def gen(units, seed, now):
        calls.append((units, seed))
        return fixture_portfolio(units, seed, now)

    first = SandboxStore.open(path, 12, 1, generator=gen)
    assert calls == [(12, 1)] and first.count("Tenants") == 12
    first.close()
    again = SandboxStore.open(path, 12, 1, generator=gen)
    assert calls == [(12, 1)] and again.generate_seconds == 0 and again.count("Tenants") == 12
    again.close()
    other = SandboxStore.open(path, 8, 1, generator=gen)
    assert calls == [(12, 1), (8, 1)] and other.count("Tenants") == 8
    other.close()
    assert not list(tmp_path.glob("*.tmp"))


def test_now_is_the_location_wall_clock(sb_shared_store):
    now = sb_shared_store.now()
    assert now.tzinfo is None
    assert abs((clock.now(NY).replace(tzinfo=None) - now).total_seconds()) < 5


def test_loaded_state_equals_generated_state(sb_state, sb_shared_store):
    fresh = SandboxStore.open(sb_state, UNITS, SEED)
    for coll in ("Charges", "Tenants", "UserDefinedValues", "Locations"):
        assert fresh.records(coll) == sb_shared_store.records(coll)
        assert fresh.sorted_ids(coll) == sorted(fresh.sorted_ids(coll))
    assert fresh.records("Locations")[0]["Name"] == "Default"
    fresh.close()


def test_python_api_upsert_get_delete_persist(sb_store_copy):
    store = sb_store_copy
    before = store.get("Tenants", 1)
    saved = store.upsert("Tenants", [{"TenantID": 1, "Comment": "py"}, {"FirstName": "New", "LastName": "Person",
                                                                         "Name": "Person, New", "Custom": 1}])
    assert saved[0]["Comment"] == "py" and dt_key(saved[0]["UpdateDate"]) > dt_key(before["UpdateDate"])
    new_id = saved[1]["TenantID"]
    assert new_id == max(r["TenantID"] for r in store.records("Tenants"))
    assert saved[1]["Custom"] == 1  # the Python API keeps unknown fields (the HTTP API drops them)
    gone = store.delete("Tenants", [new_id])
    assert gone["Tenants"] == [new_id]
    reopened = SandboxStore.open(store.path, UNITS, SEED)
    assert reopened.get("Tenants", 1)["Comment"] == "py"
    assert reopened.get("Tenants", new_id) is None
    assert reopened.count("Tenants") == store.count("Tenants")
    reopened.close()


def test_a_key_beyond_64_bits_persists_and_deletes(sb_store_copy):
    store = sb_store_copy
    big = 2**63 + 7  # more than SQLite's integers (and the warehouse's keys) hold: the sandbox still serves it
    unit = store.records("Units")[0]
    store.upsert("Units", [{**unit, "UnitID": big, "Name": "far"}])
    reopened = SandboxStore.open(store.path, UNITS, SEED)
    assert reopened.get("Units", big)["Name"] == "far" and reopened.sorted_ids("Units")[-1] == big
    assert reopened.count("Units") == store.count("Units")
    reopened.close()
    store.delete("Units", [big])
    reopened = SandboxStore.open(store.path, UNITS, SEED)
    assert reopened.get("Units", big) is None
    reopened.close()


def test_churn_changes_and_deletes(sb_store_copy):
    store = sb_store_copy
    newest = store.max_update_key()
    before_counts = {c: store.count(c) for c in store.collections()}
    primary = {c["ContactID"] for c in store.records("Contacts") if c["IsPrimary"] and c["ParentType"] == "Tenant"}
    result = churn(store, changes=80, deletes=25, seed=9)
    assert isinstance(result, ChurnResult)
    assert sum(map(len, result.changed.values())) == 80
    assert len(result.changed) >= 3  # spread over several collections, not just the ledger
    stamps = []
    for coll, ids in result.changed.items():
        for i in ids:
            key = dt_key(store.get(coll, i)["UpdateDate"])
            assert key > newest
            stamps.append(key)
    assert len(set(stamps)) == len(stamps)  # strictly increasing, no two alike
    assert sum(len(v) for c, v in result.deleted.items() if c in ("Charges", "Credits", "Contacts", "MarketRents",
               "RecurringCharges", "ServiceManagerIssues", "Prospects", "Violations")) >= 25
    for coll, ids in result.deleted.items():
        assert all(store.get(coll, i) is None for i in ids)
        assert store.count(coll) == before_counts[coll] - len(ids)
    # referential sense: nothing points at a deleted row
    charge_ids = set(store.sorted_ids("Charges"))
    assert all(a["ChargeID"] in charge_ids for a in store.records("Allocations"))
    contact_ids = set(store.sorted_ids("Contacts"))
    assert all(v["ParentID"] in contact_ids for v in store.records("UserDefinedValues") if v["ParentType"] == "Contact")
    issue_ids = set(store.sorted_ids("ServiceManagerIssues"))
    assert all(x["ServiceManagerIssueID"] in issue_ids for x in store.records("ServiceManagerIssueLinkedUnits"))
    # primary contacts stay
    assert primary <= set(store.sorted_ids("Contacts"))  # tenants' primary contacts are never churned away
    # and it is all on disk
    reopened = SandboxStore.open(store.path, UNITS, SEED)
    for coll, ids in result.changed.items():
        assert [reopened.get(coll, i) for i in ids] == [store.get(coll, i) for i in ids]
    assert reopened.max_update_key() == store.max_update_key()
    reopened.close()


def test_churn_is_deterministic_for_a_seed(sb_state, tmp_path):
    results = []
    for name in ("a", "b"):
        path = tmp_path / f"{name}.sqlite"
        shutil.copy(sb_state, path)
        store = SandboxStore.open(path, UNITS, SEED)
        results.append(churn(store, changes=40, deletes=10, seed=123).to_dict())
        store.close()
    assert results[0] == results[1]


def test_columns_follow_writes(sb_store_copy):
    """Filters read cached columns; after a write they must reflect it without a rebuild."""
    store = sb_store_copy
    ids, comments = store.column("Charges", "Comment")
    target = ids[5]
    store.upsert("Charges", [{"ChargeID": target, "Comment": "column check"}])
    ids2, comments2 = store.column("Charges", "Comment")
    assert comments2[ids2.index(target)] == "column check"
    store.delete("Charges", [ids2[3]], missing_ok=True)
    ids3, comments3 = store.column("Charges", "Comment")
    assert len(ids3) == len(comments3) == store.count("Charges")
    assert [store.get("Charges", i)["Comment"] for i in ids3[:50]] == comments3[:50]


@pytest.mark.parametrize(("text", "key"), [
    ("2018-06-06", "2018-06-06T00:00:00.0000000"),
    ("01/01/2022", "2022-01-01T00:00:00.0000000"),
    ("2026-11-20T14:03:22", "2026-11-20T14:03:22.0000000"),
    ("2026-11-20T14:03:22.1234567", "2026-11-20T14:03:22.1234567"),
    ("2026-11-20T14:03:22.5", "2026-11-20T14:03:22.5000000"),
    ("2026-07-01T16:00:00Z", "2026-07-01T12:00:00.0000000"),  # EDT = UTC-4
    ("2026-01-15T17:30:00.25+00:00", "2026-01-15T12:30:00.2500000"),  # EST = UTC-5
    ("2026-01-15T12:30:00-05:00", "2026-01-15T12:30:00.0000000"),
])
def test_parse_to_key(text, key):
    assert parse_to_key(text, NY) == key


def test_key_helpers():
    assert dt_key("2026-11-20T14:03:22.12") == "2026-11-20T14:03:22.1200000"
    assert key_add_tick("2026-11-20T14:03:59.9999999") == "2026-11-20T14:04:00.0000000"
    assert key_to_wire("2026-11-20T14:03:22.1200000") == "2026-11-20T14:03:22.12"
    assert key_to_wire("2026-11-20T14:03:22.0000000") == "2026-11-20T14:03:22"
    with pytest.raises(ValueError):
        parse_to_key("yesterday", NY)


def test_next_stamp_is_strictly_increasing(sb_store_copy):
    stamps = [dt_key(sb_store_copy.next_stamp()) for _ in range(500)]
    assert stamps == sorted(stamps) and len(set(stamps)) == 500


def test_extract_reads_single_values_from_serialized_records():
    import orjson

    from rm_pipelines.sandbox.blobs import extract

    rec = {"ID": 12, "Amount": -2.5, "Comment": 'say "hi"\\n', "Empty": "", "Gone": None, "Yes": True, "No": False,
           "Big": 1e20, "Date": "2026-11-20T14:03:22.1234567", "Text": "Amount:5", "Last": 7}
    blob = orjson.dumps(rec)
    for key, value in rec.items():
        got = extract(blob, orjson.dumps(key) + b":", key)
        assert got == value and type(got) is type(value), key
    assert extract(blob, b'"Missing":', "Missing") is None
