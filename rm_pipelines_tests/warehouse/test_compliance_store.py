"""The compliance schema on SQLite and PostgreSQL: an org's evaluation stored from its EstateCore tables; the
findings ledger reconciled across runs (corrections dated, nothing deleted); snapshots replaced per date;
household amounts encrypted at rest; org isolation."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from decimal import Decimal

import pytest
from sqlalchemy import select, text, update

from rm_pipelines.orgs import ComplianceConfig
from rm_pipelines.sandbox.portfolio import PLANTED_FINDINGS, generate_portfolio
from rm_pipelines.warehouse import compliance_store as store
from rm_pipelines.warehouse.crypto import is_encrypted
from rm_pipelines.flows.evaluate import evaluate_org
from rm_pipelines.flows.load import load_all
from rm_pipelines.warehouse.models import table as sa_table
from rm_pipelines_tests.warehouse import rawdata
from rm_pipelines_tests.warehouse.conftest import make_org

NOW = dt.datetime(2026, 11, 20, 14, 3, 22)
AS_OF = NOW.date()
PLANTED = Counter((f["code"], f["property"], f["unit"]) for f in PLANTED_FINDINGS)


@pytest.fixture(scope="module")
def planted_portfolio():
    return generate_portfolio(60, 3, NOW)


def _org(org_id: str = "acme"):
    return make_org(org_id).model_copy(update={"compliance": ComplianceConfig(backfill_earliest_limits=True)})


def _loaded(engine, portfolio, org_id: str = "acme"):
    org = _org(org_id)
    rawdata.land(engine, org_id, portfolio)
    load_all(engine, org=org, run_id=f"load-{org_id}")
    return org


def _ledger(engine, org_id: str = "acme") -> Counter:
    return Counter((f["code"], f["property_code"], f["unit_name"]) for f in store.read_findings(engine, org_id))


def test_evaluation_is_stored_and_findings_reconcile_across_runs(engine, planted_portfolio):
    org = _loaded(engine, planted_portfolio)
    first = evaluate_org(engine, org, as_of=AS_OF, run_id="run-1")
    assert first.stored.new_findings == len(PLANTED_FINDINGS) and first.stored.replaced_snapshot is False
    assert _ledger(engine) == PLANTED
    findings = store.read_findings(engine, "acme")
    assert all(f["status"] == "open" and f["detected_on"] == AS_OF and
               f["correction_deadline"] == AS_OF + dt.timedelta(days=90) for f in findings)
    assert {f["form_8823_line"] for f in findings} == {p["form_8823_line"] for p in PLANTED_FINDINGS}
    units = store.read_snapshot(engine, "unit_status", "acme")
    assert len(units) == len(first.result.units) > 0 and {u["month"] for u in units} == {AS_OF.replace(day=1)}
    overall = {o["program"]: o for o in store.read_snapshot(engine, "overall_status", "acme")}
    assert overall["all"]["compliant"] is False and overall["all"]["open_findings"] == len(PLANTED_FINDINGS)
    # tri-state beside the boolean: the sample tables have no HOME rents and Rent Manager no RD 515 note rents
    assert (overall["all"]["status"], overall["bond"]["status"], overall["home"]["status"]) == (
        "not compliant", "compliant", "undetermined")
    assert overall["home"]["compliant"] is False and overall["home"]["undetermined_units"] > 0
    assert overall["all"]["undetermined_properties"] >= overall["home"]["undetermined_properties"] > 0
    issues = store.read_snapshot(engine, "data_issues", "acme")
    assert issues and all(i["property_name"] and not i["property_name"].startswith("acme:") for i in issues)
    with engine.connect() as conn:
        assert conn.execute(select(store.evaluations.c.status)).scalar_one() == "not compliant"

    # the same date again replaces the snapshot and leaves the ledger as it was
    again = evaluate_org(engine, org, as_of=AS_OF, run_id="run-2")
    assert again.stored.replaced_snapshot and again.stored.new_findings == 0
    assert len(store.read_snapshot(engine, "unit_status", "acme")) == len(units)
    assert {f["finding_id"]: f["status"] for f in store.read_findings(engine, "acme")} == \
        {f["finding_id"]: f["status"] for f in findings}

    # later data fixes the gross rent: that finding is corrected on the later date; the others stay open
    gross = next(f for f in findings if f["code"] == "GROSS_RENT_OVER_LIMIT")
    unit_rm = int(gross["unit_id"].rsplit(":U", 1)[1])
    rc = sa_table("recurring_charges")
    with engine.begin() as conn:
        changed = conn.execute(update(rc).where(rc.c.org_id == "acme", rc.c.unit_rm_id == unit_rm,
                                                rc.c.amount > Decimal(1000)).values(amount=rc.c.amount - Decimal(1)))
        assert changed.rowcount >= 1
    later = AS_OF + dt.timedelta(days=7)
    third = evaluate_org(engine, org, as_of=later, run_id="run-3")
    assert third.stored.corrected_findings == 1 and third.stored.new_findings == 0
    after = {f["finding_id"]: f for f in store.read_findings(engine, "acme")}
    assert set(after) == {f["finding_id"] for f in findings}  # nothing deleted
    fixed = after[gross["finding_id"]]
    assert fixed["status"] == "corrected" and fixed["corrected_on"] == later and fixed["last_run_id"] == "run-3"
    assert all(f["status"] == "open" for fid, f in after.items() if fid != gross["finding_id"])
    # earlier snapshots stay as history; an earlier date is refused
    assert store.read_snapshot(engine, "overall_status", "acme", AS_OF)[0]["as_of"] == AS_OF
    with pytest.raises(store.ComplianceStoreError, match="before the latest stored evaluation"):
        evaluate_org(engine, org, as_of=AS_OF, run_id="run-4")
    with engine.connect() as conn:
        runs = conn.execute(select(store.evaluations.c.run_id).where(store.evaluations.c.org_id == "acme")
                            .order_by(store.evaluations.c.id)).scalars().all()
    assert runs == ["run-1", "run-2", "run-3"]


def test_household_amounts_are_encrypted_at_rest_and_read_back_exactly(engine, planted_portfolio):
    org = _loaded(engine, planted_portfolio)
    ev = evaluate_org(engine, org, as_of=AS_OF, run_id="run-1")
    with engine.connect() as conn:
        stored = conn.execute(text("SELECT household_amounts FROM compliance.household_certifications "
                                   "WHERE org_id = 'acme'")).scalars().all()
        columns = set(conn.execute(text("SELECT * FROM compliance.household_certifications LIMIT 1")).keys())
    assert stored and all(is_encrypted(t) for t in stored if t is not None)
    assert "annual_income" not in columns and "employment_income" not in columns  # no amount column in clear
    incomes = {str(c.annual_income) for c in ev.result.certifications if c.annual_income > 1000}
    assert incomes and not any(i in " ".join(t or "" for t in stored) for i in incomes)
    plain = store.read_snapshot(engine, "household_certifications", "acme", decrypt=True)
    expected = {c.certification_id: c for c in ev.result.certifications}
    for row in plain:
        c = expected[row["certification_id"]]
        assert row["annual_income"] == c.annual_income and row["annual_income_whole"] == c.annual_income_whole
    masked = store.masked("household_certifications", store.read_snapshot(engine, "household_certifications", "acme"))
    assert all(r["annual_income"] in (None, "****") for r in masked)


def test_income_derivatives_are_encrypted_like_the_incomes(engine, planted_portfolio):
    """% of AMI (with the stored limits) and the total tenant payment give household income back: neither is
    stored in clear, both read back exactly on request."""
    org = _loaded(engine, planted_portfolio)
    ev = evaluate_org(engine, org, as_of=AS_OF, run_id="run-1")
    with engine.connect() as conn:
        unit_cols = set(conn.execute(text("SELECT * FROM compliance.unit_status LIMIT 1")).keys())
        assisted_cols = set(conn.execute(text("SELECT * FROM compliance.assisted_households LIMIT 1")).keys())
    assert "pct_ami" not in unit_cols and "ttp" not in assisted_cols
    pct = {u.unit_id: u.pct_ami for u in ev.result.units if u.pct_ami is not None}
    ttp = {(a.household_id, a.program): a.ttp for a in ev.result.assisted if a.ttp is not None}
    assert pct and ttp
    units = store.read_snapshot(engine, "unit_status", "acme", decrypt=True)
    assert {u["unit_id"]: u["pct_ami"] for u in units if u["pct_ami"] is not None} == pct
    assisted = store.read_snapshot(engine, "assisted_households", "acme", decrypt=True)
    assert {(a["household_id"], a["program"]): a["ttp"] for a in assisted if a["ttp"] is not None} == ttp
    assert all(isinstance(a["ttp"], int) for a in assisted if a["ttp"] is not None)
    shown = store.read_snapshot(engine, "unit_status", "acme")
    assert {u["pct_ami"] for u in shown} <= {None, "****"}


def test_two_orgs_keep_separate_ledgers(engine, planted_portfolio):
    acme = _loaded(engine, planted_portfolio, "acme")
    beta = _loaded(engine, planted_portfolio, "beta")  # same Rent Manager ids, another org
    evaluate_org(engine, acme, as_of=AS_OF, run_id="a-1")
    assert store.read_findings(engine, "beta") == []
    evaluate_org(engine, beta, as_of=AS_OF, run_id="b-1")
    assert _ledger(engine, "acme") == _ledger(engine, "beta") == PLANTED
    assert {f["org_id"] for f in store.read_findings(engine, "beta")} == {"beta"}


def test_a_value_that_would_need_rounding_is_refused():
    with pytest.raises(store.ComplianceStoreError, match=r"unit_status\.pct_ami.*more than 4 decimal places"):
        store._exact(Decimal("61.123456"), "unit_status", "pct_ami")
    assert store._exact(Decimal("61.1234"), "unit_status", "pct_ami") == Decimal("61.1234")


def test_key_rotation_covers_the_compliance_amounts(engine, planted_portfolio, monkeypatch):
    from rm_pipelines.warehouse import crypto
    from rm_pipelines.warehouse.keys import rotate_all

    org = _loaded(engine, planted_portfolio)
    evaluate_org(engine, org, as_of=AS_OF, run_id="run-1")
    before = store.read_snapshot(engine, "assisted_households", "acme", decrypt=True)
    new_key = crypto.generate_key()
    monkeypatch.setenv(crypto.ENV_VAR, f"{new_key},{crypto.get_keyring().keys[0]}")
    counts = rotate_all(engine)
    assert counts["compliance.household_certifications"] > 0 and counts["compliance.assisted_households"] > 0
    monkeypatch.setenv(crypto.ENV_VAR, new_key)  # the old key is gone
    assert store.read_snapshot(engine, "assisted_households", "acme", decrypt=True) == before


def test_cli_prints_the_status_per_program_and_the_findings(engine, planted_portfolio, capsys):
    from rm_pipelines.cli import main

    url = engine.url.render_as_string(hide_password=False)
    assert main(["compliance", "status", "--org", "acme", "--url", url]) == 1  # nothing evaluated yet
    assert "no compliance evaluation yet" in capsys.readouterr().out
    org = _loaded(engine, planted_portfolio)
    evaluate_org(engine, org, as_of=AS_OF, run_id="run-1")
    assert main(["compliance", "status", "--org", "acme", "--url", url]) == 0
    out = capsys.readouterr().out
    assert f"Compliance of org 'acme' on {AS_OF}: NOT in compliance: {len(PLANTED_FINDINGS)} open finding(s)" in out
    assert "; missing data leaves " in out.splitlines()[1]  # HOME and RD 515 are undetermined
    rows = {line.split()[0]: line.split() for line in out.split("Compliance by program")[1].split("Findings")[0]
            .splitlines()[2:] if line.strip()}
    assert rows["lihtc"][1] == "NO" and rows["bond"][1] == "yes" and rows["home"][1] == "undetermined"
    assert int(rows["section8"][3]) > 0 and int(rows["section8"][4]) > 0  # voucher units and households
    for planted in PLANTED_FINDINGS:
        assert f"[open] {planted['code']} — {planted['property']}" in out
        assert f"8823 line {planted['form_8823_line']} (" in out
    issues = out.split("\nData issues: ")[1]
    assert "undetermined: home, usda515" in issues.splitlines()[0] and "no HOME rent limits" in issues
    assert "acme:1:" not in issues  # properties by name

    # rows stored before the tri-state status existed still read: their boolean decides
    with engine.begin() as conn:
        conn.execute(update(store.SNAPSHOTS["overall_status"]).values(
            status=None, undetermined_properties=None, undetermined_units=None))
    assert main(["compliance", "status", "--org", "acme", "--url", url]) == 0
    out = capsys.readouterr().out
    assert f"on {AS_OF}: NOT in compliance: {len(PLANTED_FINDINGS)} open finding(s) — " in out
    assert "missing data" not in out.splitlines()[1]
