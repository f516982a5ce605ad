"""Raw landing on SQLite and PostgreSQL: counts of new, changed and unchanged rows stay exact when a first sync
skips the content-hash lookups, and a full sync flags vanished keys deleted."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import event

from rm_pipelines.rentmanager.catalog import get
from rm_pipelines.warehouse.raw import RawLander
from rm_pipelines_tests.warehouse.helpers import scalar

TZ = ZoneInfo("America/New_York")


def _vendors(*keys: int, name: str = "V") -> list[dict]:
    return [{"VendorID": k, "Name": f"{name}{k}", "UpdateDate": "2026-01-02T03:04:05"} for k in keys]


def _count_lookups(engine) -> list[str]:
    seen: list[str] = []

    def before(conn, cursor, statement, *args):  # noqa: ANN001, ANN202
        if "SELECT rm_id, content_hash" in statement:
            seen.append(statement)

    event.listen(engine, "before_cursor_execute", before)
    return seen


def test_first_sync_skips_lookups_and_counts_exactly(engine):
    vendors = get("vendors")
    lookups = _count_lookups(engine)
    lander = RawLander(engine, org_id="acme", run_id="r1")
    first = lander.land(vendors, 1, _vendors(1, 2, 3), TZ)
    assert (first.inserted, first.updated, first.unchanged) == (3, 0, 0) and lookups == []
    # pages that overlap earlier ones (paging while Rent Manager changes) are still looked up and counted right
    again = lander.land(vendors, 1, _vendors(3, 4) + _vendors(2, name="W"), TZ)
    assert (again.inserted, again.updated, again.unchanged) == (1, 1, 1) and len(lookups) == 1
    later = lander.land(vendors, 1, _vendors(10, 11), TZ)
    assert (later.inserted, later.updated, later.unchanged) == (2, 0, 0) and len(lookups) == 1
    # another location of the same org starts empty too; another org is separate
    assert lander.land(vendors, 2, _vendors(1, 2), TZ).inserted == 2 and len(lookups) == 1
    assert scalar(engine, "SELECT count(*) FROM rm_raw.vendors WHERE org_id = 'acme'") == 8

    # the next sync finds rows: every page is looked up, unchanged rows are not rewritten
    lander2 = RawLander(engine, org_id="acme", run_id="r2")
    second = lander2.land(vendors, 1, _vendors(1, 3, 4, 10, 11, 12) + _vendors(2, name="W"), TZ)
    assert (second.inserted, second.updated, second.unchanged) == (1, 0, 6) and len(lookups) == 2
    assert scalar(engine, "SELECT count(*) FROM rm_raw.vendors WHERE org_id = 'acme' AND run_id = 'r2'") == 1
    absent = lander2.absent_keys(vendors, 1, {1, 2, 3, 4, 12})
    assert sorted(absent) == [(10, None), (11, None)]  # 10 and 11 vanished
    assert lander2.mark_deleted_keys(vendors, 1, [k for k, _ in absent]) == 2
    assert scalar(engine, "SELECT count(*) FROM rm_raw.vendors WHERE org_id = 'acme' AND location_id = 1 "
                          "AND deleted_at IS NOT NULL") == 2


def test_bad_rows_of_a_page_are_rejected_one_by_one_and_the_rest_lands(engine):
    vendors = get("vendors")
    page = _vendors(1, 2, 3, 4) + [
        {"VendorID": 2**63, "Name": "far", "UpdateDate": "2026-01-02T03:04:05"},    # beyond the BIGINT key
        {"VendorID": "7", "Name": "text key", "UpdateDate": "2026-01-02T03:04:05"},
        {"VendorID": 5, "Name": "huge", "Balance": 2**64 + 1, "UpdateDate": "2026-01-02T03:04:05"},  # not JSON-storable
        *_vendors(3),                                   # the same record twice: lands once, counted
        *_vendors(4, name="other"),                     # one key, two contents: neither version lands
    ]
    result = RawLander(engine, org_id="acme", run_id="r1").land(vendors, 1, page, TZ)
    assert (result.inserted, result.duplicates) == (3, 1)
    reasons = {r["rm_key"]: r["reasons"] for r in result.rejected}
    assert reasons[str(2**63)] == [f"key VendorID {2**63} does not fit a 64-bit integer"]
    assert reasons["7"] == ["missing or non-integer key VendorID"]
    assert reasons["5"] == ["Balance: number does not fit 64 bits; the payload cannot be stored"]
    assert [r["rm_key"] for r in result.rejected].count("4") == 2
    assert all(r["content_hash"] and r["table_name"] == "vendors" for r in result.rejected)
    assert {k for (k,) in _rows(engine, "SELECT rm_id FROM rm_raw.vendors")} == {1, 2, 3}


def test_a_page_the_database_refuses_fails_naming_the_table_never_the_values(engine, monkeypatch):
    from sqlalchemy.engine import Connection
    from sqlalchemy.exc import DataError

    from rm_pipelines.warehouse.raw import LandingError

    original = Connection.exec_driver_sql

    def refuse_inserts(self, statement, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003, ANN202
        if statement.startswith("INSERT INTO rm_raw"):  # as a driver reports it: the statement and its parameters
            raise DataError(statement, [("Secret Name",)], Exception("value out of range\nDETAIL: Secret Name"))
        return original(self, statement, *args, **kwargs)

    monkeypatch.setattr(Connection, "exec_driver_sql", refuse_inserts)
    with pytest.raises(LandingError) as err:
        RawLander(engine, org_id="acme", run_id="r1").land(get("vendors"), 1, _vendors(1, name="Secret Name"), TZ)
    assert str(err.value) == ("rm_raw.vendors location 1: a page of 1 rows (keys 1..1) could not be written: "
                              "value out of range")
    assert isinstance(err.value, ValueError)  # a stream error: the sync names the entity and page and goes on


def _rows(engine, sql):
    from sqlalchemy import text

    with engine.connect() as conn:
        return conn.execute(text(sql)).all()
