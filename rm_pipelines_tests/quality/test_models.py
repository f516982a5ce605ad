"""pandera gate: every entity has a model, the sandbox's data passes, each kind of problem is caught per row with
its reason, sensitive values never appear in reasons, and validation is vectorised over whole pages."""

from __future__ import annotations

import sys


import numpy as np
import pandas as pd
import pytest

from rm_pipelines import clock
from rm_pipelines.quality.models import MODELS, known_fields
from rm_pipelines.quality.validate import validate_page
from rm_pipelines.rentmanager.catalog import ENTITIES
from rm_pipelines_tests.warehouse import rawdata


def test_every_catalog_entity_has_a_model():
    assert {e.name for e in ENTITIES} <= set(MODELS)
    for e in ENTITIES:
        assert e.key in known_fields(e.name), e.name


def test_sandbox_portfolio_passes_the_gate(portfolio):
    pages = rawdata.wire_pages(portfolio)
    failures = {}
    total = 0
    for entity in ENTITIES:
        records = rawdata.entity_rows(pages, entity)
        total += len(records)
        result = validate_page(entity.name, pd.DataFrame.from_records(records))
        failures[entity.name] = result.failures
    bad = sum(len(f) for f in failures.values())
    assert total > 10_000
    # the generator plants a handful of realistic data errors (e.g. a recurring charge ending before it starts)
    assert bad <= total * 0.001, {k: list(v.values())[:3] for k, v in failures.items() if v}


def test_each_kind_of_problem_is_reported_per_row():
    frame = pd.DataFrame([
        {"ContactID": 1, "ParentID": 10, "ParentType": "Tenant", "DateOfBirth": "1980-02-03T00:00:00",
         "FederalTaxID": "***-**-1234", "AnnualIncome": 41250.0, "ApplicantType": "Applicant"},
        {"ContactID": 2, "ParentID": 10, "ParentType": "Landlord", "AnnualIncome": -5.0},          # enum, range
        {"ContactID": 2, "ParentID": 99, "ParentType": "Tenant", "DateOfBirth": "2150-01-01T00:00:00"},  # dup key, parent, future
        {"ContactID": "x", "ParentID": 10, "ParentType": "Tenant", "IsPrimary": "perhaps",
         "DateOfBirth": "13/45/1980", "FederalTaxID": "not an ssn 12"},                          # types, pattern
    ])
    result = validate_page("contacts", frame, parents={"ParentID": ("residents", np.array([10]))})
    f = result.failures
    assert 0 not in f
    assert any("ParentType: isin" in r for r in f[1]) and any("AnnualIncome: greater_than_or_equal_to" in r for r in f[1])
    assert any("field_uniqueness" in r for r in f[1]) and any("field_uniqueness" in r for r in f[2])
    assert any("parent_present(residents)" in r for r in f[2])
    assert "date_of_birth not in the future" in f[2]
    assert any("(got 99)" in r for r in f[2])
    reasons3 = " | ".join(f[3])
    assert "ContactID: type Int64" in reasons3 and "IsPrimary: type boolean" in reasons3
    assert "DateOfBirth: type datetime64[ns]" in reasons3 and "FederalTaxID: str_matches" in reasons3
    # sensitive values are masked in the reasons
    assert "13/45/1980" not in reasons3 and "not an ssn" not in reasons3 and "****" in reasons3
    assert "-5.0" not in " ".join(f[1])  # AnnualIncome is sensitive too


def test_birth_dates_after_every_clock_are_rejected_but_not_dates_past_by_one_of_them():
    today = pd.Timestamp(clock.utcnow()).tz_localize(None).normalize()

    def iso(ts: pd.Timestamp) -> str:
        return ts.strftime("%Y-%m-%dT%H:%M:%S")

    frame = pd.DataFrame([
        {"ContactID": 1, "DateOfBirth": iso(today)},                                     # born today, no audit dates
        {"ContactID": 2, "DateOfBirth": iso(today + pd.Timedelta(days=30)),              # a Rent Manager (or sandbox)
         "CreateDate": iso(today + pd.Timedelta(days=20)),                               # clock ahead of ours: the
         "UpdateDate": iso(today + pd.Timedelta(days=40))},                              # birth precedes the change
        {"ContactID": 3, "DateOfBirth": iso(today + pd.Timedelta(days=30)),
         "CreateDate": iso(today + pd.Timedelta(days=35))},                              # no UpdateDate: CreateDate
        {"ContactID": 4, "DateOfBirth": iso(today + pd.Timedelta(days=3)),               # ahead of now and of the
         "UpdateDate": iso(today - pd.Timedelta(days=10))},                              # record's last change
        {"ContactID": 5, "DateOfBirth": iso(today + pd.Timedelta(days=60)),
         "UpdateDate": iso(today + pd.Timedelta(days=40))},                              # ahead of both clocks
        {"ContactID": 6, "DateOfBirth": iso(today - pd.Timedelta(days=5)),               # a due date entered ahead
         "UpdateDate": iso(today - pd.Timedelta(days=200))},                             # that has since passed
    ]).assign(ParentType="Tenant")
    failures = validate_page("contacts", frame).failures
    assert {i: r for i, r in failures.items()} == {3: ["date_of_birth not in the future"],
                                                   4: ["date_of_birth not in the future"]}


def _charges_page(n: int) -> pd.DataFrame:
    rng = np.random.default_rng(1)
    frame = pd.DataFrame({
        "ChargeID": np.arange(1, n + 1), "AccountID": rng.integers(1, 5_000, n), "AccountType": "Customer",
        "Amount": np.round(rng.random(n) * 2_000, 2), "TransactionDate": "2026-10-01T00:00:00",
        "PropertyID": rng.integers(1, 50, n), "UnitID": rng.integers(1, 3_000, n), "ChargeTypeID": 1,
        "TransactionType": "Charge", "Reference": "", "Comment": "Rent - Oct 2026",
        "CreateDate": "2026-09-30T01:25:50.612", "UpdateDate": "2026-10-02T09:52:03.4854",
    })
    frame.loc[17, "Amount"] = -2e9
    return frame


def _python_calls(n: int) -> tuple[int, list]:
    """Python function calls made while validating an n-row page, and the failing rows."""
    frame = _charges_page(n)
    parents = {"AccountID": ("residents", np.arange(1, 5_000))}
    calls = 0

    def count(_frame, event, _arg):  # noqa: ANN001, ANN202
        nonlocal calls
        if event == "call":
            calls += 1

    sys.setprofile(count)
    try:
        result = validate_page("charges", frame, parents=parents)
    finally:
        sys.setprofile(None)
    return calls, list(result.failures)


def test_validation_is_vectorised_over_whole_pages():
    """Validation must not go row by row: a page 100 times larger costs only a few Python calls more per row
    (pandera's checks, the per-row checks of 13 fields, would cost dozens). Counted, not timed."""
    validate_page("charges", _charges_page(50))  # the schemas are built once, outside the count
    small, small_failures = _python_calls(1_000)
    large, large_failures = _python_calls(100_000)
    assert small_failures == large_failures == [17]
    per_row = (large - small) / 99_000
    assert per_row < 10, f"{per_row:.1f} Python calls per row: validation goes row by row"


def test_each_page_is_checked_against_its_own_parent_keys():
    """Pages share one gate schema per entity; the parent-presence check still uses the keys given with each page."""
    frame = pd.DataFrame([{"ContactID": 1, "ParentID": 10, "ParentType": "Tenant"},
                          {"ContactID": 2, "ParentID": 11, "ParentType": "Tenant"}])
    first = validate_page("contacts", frame, parents={"ParentID": ("residents", np.array([10]))}).failures
    second = validate_page("contacts", frame, parents={"ParentID": ("residents", np.array([11]))}).failures
    both = validate_page("contacts", frame, parents={"ParentID": ("residents", np.array([10, 11]))}).failures
    assert list(first) == [1] and any("parent_present(residents)" in r for r in first[1])
    assert list(second) == [0] and any("parent_present(residents)" in r for r in second[0])
    assert both == {} and validate_page("contacts", frame).failures == {}


@pytest.mark.parametrize("entity", sorted({e.name for e in ENTITIES}))
def test_empty_pages_validate(entity):
    assert validate_page(entity, pd.DataFrame()).failures == {}
