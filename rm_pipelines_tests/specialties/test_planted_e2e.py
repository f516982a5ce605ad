"""The planted specialised cases end to end: sandbox portfolio → rm_raw the way the sync lands it → EstateCore
tables (load) → compliance evaluation → the specialties flow → `specialties` schema, on SQLite and PostgreSQL.
The answers are the ones docs/specialties-planted.md works out by hand (as of 2026-11-16, the shared sandbox's
pinned day), plus a second date to show they do not hang on one calendar."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from fractions import Fraction

import pytest

from rm_pipelines.sandbox.portfolio import generate_portfolio

TEST_KEY = "ef-2L2MdqMF7KEpuvXl-wpFWb_cisRX6xnMrxpgQi8k="
ORG = "acme"
NOW = dt.datetime(2026, 11, 16, 9, 0)


def _load(url: str, tmp, now: dt.datetime, seed: int):
    from rm_pipelines.compliance.limits_store import bundled_library
    from rm_pipelines.flows import specialties as flow
    from rm_pipelines.flows.evaluate import evaluate_org
    from rm_pipelines.flows.load import load_all
    from rm_pipelines.warehouse.db import create_warehouse_engine
    from rm_pipelines.warehouse.raw import ensure_schema
    from rm_pipelines_tests.warehouse import rawdata
    from rm_pipelines_tests.warehouse.conftest import make_org

    engine = create_warehouse_engine(url)
    ensure_schema(engine)
    rawdata.land(engine, ORG, generate_portfolio(60, seed, now))
    reports = load_all(engine, org=make_org(ORG), run_id="e2e")
    assert not {k: r.quarantine_reasons for k, r in reports.items() if r.quarantined}
    evaluate_org(engine, make_org(ORG), as_of=now.date(), run_id="e2e",
                                  limits_provider=bundled_library(backfill_earliest=True))
    views = {p: flow.evaluate(engine, ORG, p, as_of=now.date(), run_id="e2e", progress=lambda _m: None)
             for p in flow.PRODUCTS}
    return engine, views


@pytest.fixture(scope="module")
def module_pg_url():
    """A fresh database on the real PostgreSQL server for this module (conftest's `pg_url`, module-scoped)."""
    from rm_pipelines_tests.conftest import fresh_pg_database

    with fresh_pg_database() as url:
        yield url


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def planted(request, tmp_path_factory):
    with pytest.MonkeyPatch.context() as mp:
        tmp = tmp_path_factory.mktemp("specialties")
        mp.setenv("ESTATECORE_ENCRYPTION_KEYS", TEST_KEY)
        mp.setenv("RM_PIPELINES_DATA_DIR", str(tmp / "data"))
        url = f"sqlite:///{tmp / 'estatecore.sqlite'}" if request.param == "sqlite" else \
            request.getfixturevalue("module_pg_url")
        engine, views = _load(url, tmp, NOW, 11)
        try:
            yield engine, views
        finally:
            engine.dispose()


def _by_name(rows, attr, name):
    return next(r for r in rows if getattr(r, attr) == name)


def test_cam_reconciliations(planted):
    _engine, views = planted
    cam = views["commercial"].view
    assert cam.year == 2025
    books = _by_name(cam.cam, "tenant_name", "Blue Heron Books")
    assert (books.pro_rata_share, books.cap_cents, books.capped_controllable_cents) == (Fraction(1, 5), 9_261_000,
                                                                                        9_261_000)
    assert [h.cap_cents for h in books.cap_history] == [8_000_000, 8_400_000, 8_820_000, 9_261_000]
    assert (books.admin_fee_cents, books.recoverable_cents, books.tenant_share_cents) == (1_316_100, 20_327_100, 4_065_420)
    assert (books.estimates_billed_cents, books.true_up_cents, books.action) == (2_340_000, 1_725_420, "invoice")
    gym = _by_name(cam.cam, "tenant_name", "Harbor Fitness")
    assert gym.pro_rata_share.as_integer_ratio() == (368, 1387) and gym.base_cents == 11_000_000
    assert (gym.tenant_share_cents, gym.estimates_billed_cents, gym.true_up_cents) == (3_857_765, 2_925_000, 932_765)
    grill = _by_name(cam.cam, "tenant_name", "Lakeside Grill")
    assert grill.occupancy.as_integer_ratio() == (549, 730) and grill.base_cents == 29_544_000
    assert (grill.grossed_up_pool_cents, grill.tenant_share_cents, grill.true_up_cents) == (28_461_384, 353_557,
                                                                                           -3_156_443)
    assert all(r.determined for r in cam.cam) and cam.no_denominator == []


def test_percentage_rent_and_ti(planted):
    _engine, views = planted
    view = views["commercial"].view
    pct = _by_name(view.percentage_rent, "tenant_name", "Lakeside Grill")
    assert (pct.period_start, pct.period_end) == (dt.date(2025, 11, 1), dt.date(2026, 10, 31))
    assert (pct.net_sales_cents, pct.breakpoint_cents, pct.percentage_rent_cents) == (154_400_000, 120_000_000,
                                                                                      2_064_000)
    assert (pct.billed_cents, pct.true_up_cents) == (1_902_000, 162_000)
    ti = _by_name(view.ti, "tenant_name", "Harbor Fitness")
    assert (ti.remaining_cents, ti.monthly_payment_cents, ti.payments_made, ti.unamortized_cents) == (
        2_000_000, 162_211, 16, 6_168_084)


def test_hoa_planted(planted):
    _engine, views = planted
    hoa = views["hoa"].view
    pid = next(k for k, v in hoa.property_names.items() if v.startswith("Sandpiper"))
    lots = {a.lot: a for a in hoa.assessments if a.property_id == pid}
    assert [lots[f"Lot {k}"].monthly_regular_cents for k in range(1, 6)] == [30_000, 37_500, 45_000, 50_000, 62_500]
    assert all(a.allocation_difference_cents == 0 and a.special_this_year_cents == 30_000 for a in lots.values())
    acc = {d.lot: d for d in hoa.delinquency if d.property_id == pid}
    brooks = acc["Lot 2"]
    assert brooks.balance_cents == 180_000 and brooks.buckets == {
        "current": 0, "1-30": 67_500, "31-60": 37_500, "61-90": 37_500, "91-120": 37_500, "over 120": 0}
    assert (brooks.late_charges_allowed_cents, brooks.interest_allowed_cents) == (18_000, 1_713)
    assert (brooks.stage, brooks.foreclosure_eligible) == ("board lien vote", True)
    assert acc["Lot 3"].late_charges_allowed_cents == 0  # paid on day 14: on time
    dawson = acc["Lot 4"]  # paid on day 15: late every month, $60 billed against a $46.29 / $50 / $30 maximum
    assert (dawson.late_charges_billed_cents, dawson.late_charges_allowed_cents, dawson.late_charge_excess_cents) == (
        84_000, 71_887, 12_113)
    steps = {s.lot: s for s in hoa.violations if s.property_id == pid}
    assert (steps["Lot 5"].next_step, steps["Lot 5"].next_step_on) == ("cure period ends", dt.date(2026, 11, 25))
    assert (steps["Lot 4"].next_step, steps["Lot 4"].next_step_on, steps["Lot 4"].hearing_on) == (
        "send notice of hearing", dt.date(2026, 11, 28), dt.date(2026, 12, 8))
    assert steps["Lot 3"].status == "cured" and "barred" in steps["Lot 3"].problem
    assert (steps["Lot 2"].next_step, steps["Lot 2"].overdue, steps["Lot 2"].fine_schedule_cents) == (
        "levy fine per schedule", True, 5_000)
    budgets = {b.fiscal_year: b for b in hoa.budgets if b.property_id == pid}
    assert (budgets[2026].increase_pct, budgets[2026].regular_over_limit) == (Decimal("8.00"), False)
    assert (budgets[2026].special_pct_of_budget, budgets[2026].special_over_limit) == (Decimal("5.56"), True)
    assert (budgets[2027].increase_pct, budgets[2027].regular_over_limit) == (Decimal("25.00"), True)
    seats = {s.member: s for s in hoa.board if s.property_id == pid}
    assert seats["Chen, Wei"].status == "expiring" and len(seats) == 5


def test_student_planted(planted):
    _engine, views = planted
    st = views["student_housing"].view
    pairs = {frozenset((m.name_a, m.name_b)): m for m in st.matches if m.name_b}
    assert pairs[frozenset(("Lindqvist, Ava", "Quint, Nora"))].basis == "mutual request"
    unmatched = {m.name_a for m in st.matches if m.name_b is None}
    assert {"Moreau, Iris", "Banks, Theo"} <= unmatched
    cover = {g.resident_name: g.status for g in st.guarantors}
    assert (cover["Lindqvist, Ava"], cover["Quint, Nora"], cover["Moreau, Iris"], cover["Banks, Theo"]) == (
        "covered", "covered", "prepaid", "insufficient")
    apps = {a.resident_name: a for a in st.applications}
    assert apps["Lindqvist, Ava"].university == "University of Kansas" == apps["Quint, Nora"].university
    assert apps["Banks, Theo"].university == "Wichita State University"
    assert apps["Banks, Theo"].term == "academic year" and apps["Banks, Theo"].term_start == dt.date(2027, 8, 15)
    assert [(f.property, f.unit) for f in st.lihtc_findings] == [("HARBOR", "201")]  # shown, not re-decided
    ava = [i for i in st.installments if i.resident_name == "Lindqvist, Ava"]
    assert [(i.due, i.amount_cents) for i in ava][:2] == [(dt.date(2027, 8, 1), 65_000), (dt.date(2027, 9, 1), 65_000)]
    assert len(ava) == 12 and {i.contract_cents for i in ava} == {780_000} and ava[-1].due == dt.date(2028, 7, 1)
    assert not st.beds_without_term


def test_asset_management_and_store(planted):
    from rm_pipelines.warehouse import specialties_store as store

    engine, views = planted
    am = views["asset_management"].view
    latest = am.latest()
    assert latest is not None and latest.month == dt.date(2026, 11, 1) and latest.spaces > 0
    assert 0 < latest.physical_occupancy <= 1 and latest.gross_potential_rent_cents > 0
    plaza = {m.month: m for m in am.months if m.label == "Cedar Point Plaza"}
    assert plaza[dt.date(2025, 12, 1)].expenses_cents == 1_979_167  # 2025's recoverable expenses 237,500 / 12
    assert plaza[dt.date(2025, 12, 1)].noi_cents == plaza[dt.date(2025, 12, 1)].billed_cents - 1_979_167
    assert plaza[dt.date(2026, 11, 1)].noi_cents is None  # no 2026 expenses recorded: no NOI, not a made-up one
    for product, ev in views.items():
        assert ev.stored.rows and all(n == len(getattr(ev.view, store.SNAPSHOTS[t][2])) for t, n in
                                      ev.stored.rows.items())
    rows = store.read_rows(engine, "cam_reconciliations", ORG)
    books = next(r for r in rows if r["tenant_name"] == "Blue Heron Books")
    assert books["tenant_share_cents"] == 4_065_420 and books["pro_rata_share"] == Decimal("0.200000")
    assert store.read_rows(engine, "hoa_delinquency", ORG)


@pytest.mark.parametrize("seed,now", [(8, dt.datetime(2026, 3, 2, 0, 15))])
def test_planted_cases_hold_on_another_day(tmp_path, monkeypatch, seed, now):
    monkeypatch.setenv("ESTATECORE_ENCRYPTION_KEYS", TEST_KEY)
    monkeypatch.setenv("RM_PIPELINES_DATA_DIR", str(tmp_path / "data"))
    engine, views = _load(f"sqlite:///{tmp_path / 'e.sqlite'}", tmp_path, now, seed)
    try:
        cam = views["commercial"].view
        assert _by_name(cam.cam, "tenant_name", "Blue Heron Books").tenant_share_cents == 4_065_420
        pct = _by_name(cam.percentage_rent, "tenant_name", "Lakeside Grill")
        assert (pct.period_start, pct.percentage_rent_cents) == (dt.date(2025, 3, 1), 2_064_000)
        st = views["student_housing"].view
        assert any({m.name_a, m.name_b} == {"Lindqvist, Ava", "Quint, Nora"} for m in st.matches)
        assert {g.resident_name: g.status for g in st.guarantors}["Banks, Theo"] == "insufficient"
        hoa = views["hoa"].view
        pid = next(k for k, v in hoa.property_names.items() if v.startswith("Sandpiper"))
        brooks = next(d for d in hoa.delinquency if d.property_id == pid and d.lot == "Lot 2")
        # Dec (2025 rate $347.22), Jan and Feb unpaid 15 days or more on Mar 2; Dec 1 is 91 days past due
        assert brooks.delinquent_assessments_cents == 34_722 + 2 * 37_500 and brooks.stage == "board lien vote"
    finally:
        engine.dispose()


def test_one_read_for_all_four_gives_the_same_views(planted):
    from rm_pipelines.flows import specialties as flow

    engine, views = planted
    together = flow.evaluate_all(engine, ORG, as_of=NOW.date(), run_id="all", progress=lambda _m: None)
    assert set(together) == set(views)
    for product, ev in together.items():
        assert ev.stored.rows == views[product].stored.rows, product
    assert together["commercial"].view.cam == views["commercial"].view.cam
    assert together["hoa"].view.delinquency == views["hoa"].view.delinquency
    assert together["student_housing"].view.matches == views["student_housing"].view.matches
