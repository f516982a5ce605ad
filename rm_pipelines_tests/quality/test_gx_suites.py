"""GX suites on the EstateCore tables: clean data passes, injected bad data fails the right expectations, and a
suite can never pass when GX is unavailable or the frame is broken."""

from __future__ import annotations

import sys

import pytest

from rm_pipelines.quality.gx_suites import SUITES, describe, record_result, run_suite
from rm_pipelines.warehouse import ops
from rm_pipelines.warehouse import tables as T
from rm_pipelines.flows.load import load_all
from rm_pipelines_tests.warehouse import rawdata
from rm_pipelines_tests.warehouse.helpers import execute, tn

CORE = ["properties", "unit_types", "units", "residents", "household_members", "udf_values", "buildings", "leases",
        "lease_terms", "charge_types", "charges", "payments", "payment_allocations", "market_rents", "ownerships",
        "owners", "recurring_charges"]


@pytest.fixture
def loaded(engine, org, portfolio):
    rawdata.land(engine, "acme", portfolio)
    load_all(engine, org=org, run_id="run-1", tables=CORE, quarantine_threshold=1.0)
    return engine


def test_every_table_has_a_suite():
    assert set(SUITES) == {t.name for t in T.TABLES}
    assert "ExpectColumnValuesToBeBetween(column=bedrooms, min_value=0, max_value=10)" in describe("units")


def test_clean_tables_pass_their_suites(loaded):
    for table in CORE:
        result = run_suite(loaded, table, "acme")
        assert result.passed, (table, result.error, [f.as_dict() for f in result.failed])
        assert result.success_percent == 100.0 and result.evaluated_rows > 0 and result.expectations >= 2


def test_injected_bad_data_fails_the_suite(loaded, portfolio):
    engine = loaded
    unit = portfolio["Units"][0]["UnitID"]
    execute(engine, f"UPDATE {tn(engine, 'units')} SET bedrooms = 25 WHERE org_id = 'acme' AND rm_id = :k", k=unit)
    result = run_suite(engine, "units", "acme")
    assert not result.passed and result.success_percent < 100
    (failed,) = result.failed
    assert failed.expectation == "expect_column_values_to_be_between" and failed.column == "bedrooms"
    assert failed.unexpected_count == 1

    lease = next(le for le in portfolio["Leases"] if le["MoveOutDate"])
    execute(engine, f"UPDATE {tn(engine, 'leases')} SET move_out_date = '2001-01-01' WHERE org_id = 'acme' AND rm_id = :k",
            k=lease["LeaseID"])
    # a live lease pointing at a soft-deleted unit breaks referential integrity
    other = next(le for le in portfolio["Leases"] if le["UnitID"] != unit)
    execute(engine, f"UPDATE {tn(engine, 'units')} SET deleted_at = '2026-01-01 00:00:00' WHERE org_id = 'acme' "
                    f"AND rm_id = :k", k=other["UnitID"])
    result = run_suite(engine, "leases", "acme")
    failed = {(f.expectation, f.column) for f in result.failed}
    assert not result.passed
    assert ("expect_column_pair_values_a_to_be_greater_than_b", "move_in_date≤move_out_date") in failed
    assert ("expect_column_values_to_be_in_set", "unit_present") in failed

    # household-member ages come from the decrypted birth dates
    member = next(c for c in portfolio["Contacts"] if c["ParentType"] == "Tenant" and c["DateOfBirth"])
    from rm_pipelines.warehouse.crypto import get_keyring

    execute(engine, f"UPDATE {tn(engine, 'household_members')} SET date_of_birth = :v WHERE org_id = 'acme' "
                    f"AND rm_id = :k", v=get_keyring().encrypt("1850-01-01"), k=member["ContactID"])
    result = run_suite(engine, "household_members", "acme")
    assert ("expect_column_values_to_be_between", "age") in {(f.expectation, f.column) for f in result.failed}
    record_result(engine, result, run_id="run-1")
    assert ops.latest_dq_scores(engine, "acme")[("household_members", "gx")] < 1.0

    # duplicate natural keys within an org
    dup = run_suite(engine, "charges", "acme", frame=_with_duplicate(engine))
    assert ("expect_compound_columns_to_be_unique", "location_id,rm_id") in {(f.expectation, f.column) for f in dup.failed}


def _with_duplicate(engine):
    from rm_pipelines.quality.gx_suites import build_frame

    import pandas as pd

    df = build_frame(engine, "charges", "acme")
    return pd.concat([df, df.iloc[[0]]], ignore_index=True)


def test_a_suite_never_passes_without_gx(loaded, monkeypatch):
    monkeypatch.setitem(sys.modules, "great_expectations", None)  # import fails
    result = run_suite(loaded, "units", "acme")
    assert result.passed is False and "could not be imported" in (result.error or "")


def test_a_broken_table_fails_its_suite(loaded, monkeypatch):
    import rm_pipelines.quality.gx_suites as gs

    def broken(*a, **k):  # noqa: ANN002, ANN003, ANN202
        raise RuntimeError("relation does not exist")

    monkeypatch.setattr(gs, "build_frame", broken)
    result = run_suite(loaded, "units", "acme")
    assert result.passed is False and "relation does not exist" in result.error


def test_suite_runs_leave_no_temporary_directories(monkeypatch, tmp_path):
    import os
    import tempfile

    import pandas as pd

    root = tmp_path / "tmp"
    root.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(root))  # every temporary file or directory goes here
    created: list[str] = []
    mkdir = os.mkdir

    def watch(path, *args, **kwargs):  # noqa: ANN001, ANN202
        created.append(str(path))
        return mkdir(path, *args, **kwargs)

    monkeypatch.setattr(os, "mkdir", watch)
    ok = pd.DataFrame({"org_id": ["acme"] * 2, "location_id": [1, 1], "rm_id": [1, 2], "name": ["A", "B"]})
    bad = ok.assign(rm_id=[1, 1], name=["A", None])
    results = [run_suite(None, "owners", "acme", frame=frame) for frame in (ok, bad, ok)]
    assert [r.passed for r in results] == [True, False, True] and not any(r.error for r in results)
    assert list(root.iterdir()) == []
    assert [p for p in created if p.startswith(str(root))] == []  # not even created and removed again
