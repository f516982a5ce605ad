"""Sensitive fields are encrypted at rest (EstateCore columns, UDF values, raw payloads, quarantine), masked
where shown, decryptable with the key, and keys rotate."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from sqlalchemy import text

from rm_pipelines.warehouse import crypto, ops
from rm_pipelines.warehouse.keys import rotate_all
from rm_pipelines.flows.load import load_all
from rm_pipelines.warehouse.read import read_frame
from rm_pipelines.warehouse.sensitive import protect_raw, reveal_raw
from rm_pipelines_tests.warehouse import rawdata
from rm_pipelines_tests.warehouse.conftest import TEST_KEY
from rm_pipelines_tests.warehouse.helpers import rows, tn

SECRET_DOB = "1937-06-13"
SECRET_SSN = "987-65-4329"
SECRET_INCOME = 73519.47
SECRET_UDF_INCOME = "81234.57"
SECRET_CERT_INCOME = "44417.93"
TABLES = ["properties", "unit_types", "units", "residents", "household_members", "udf_values"]


def _plant(p: dict) -> tuple[dict, dict]:
    member = next(c for c in p["Contacts"] if c["ParentType"] == "Tenant" and c.get("DateOfBirth"))
    member["DateOfBirth"] = f"{SECRET_DOB}T00:00:00"
    member["FederalTaxID"] = SECRET_SSN
    member["AnnualIncome"] = SECRET_INCOME
    udv = next(u for u in p["UserDefinedValues"] if u["Name"] == "Employment Income" and u["ParentType"] == "Contact")
    udv["Value"] = SECRET_UDF_INCOME
    cert = next(u for u in p["UserDefinedValues"] if u["Name"] == "Certified Annual Income")
    cert["Value"] = SECRET_CERT_INCOME
    # a bad row with a birth date goes to quarantine: its sensitive values must stay encrypted there too
    bad = next(c for c in p["Contacts"] if c["ParentType"] == "Tenant" and c is not member)
    bad["DateOfBirth"] = f"{SECRET_DOB}T00:00:00"
    bad["ParentID"] = 9_999_999
    return member, udv


def _secrets() -> list[bytes]:
    return [SECRET_DOB.encode(), SECRET_SSN.encode(), b"987654329", f"{SECRET_INCOME:.2f}".encode(),
            SECRET_UDF_INCOME.encode(), SECRET_CERT_INCOME.encode()]


def test_sensitive_values_are_not_stored_in_clear(engine, org, portfolio, tmp_path):
    member, udv = _plant(portfolio)
    rawdata.land(engine, "acme", portfolio)
    load_all(engine, org=org, run_id="run-1", tables=TABLES, quarantine_threshold=1.0)
    assert any(r["rm_key"] == str(next(c for c in portfolio["Contacts"] if c["ParentID"] == 9_999_999)["ContactID"])
               for r in ops.open_quarantine(engine, "acme", "household_members"))

    # the values are there — decryptable with the key …
    hm = read_frame(engine, "household_members", "acme", decrypt=True).set_index("rm_id")
    row = hm.loc[member["ContactID"]]
    assert row.date_of_birth.isoformat() == SECRET_DOB
    assert row.ssn_last4 == "4329"
    assert str(row.annual_income) == f"{SECRET_INCOME:.2f}"
    assert str(hm.loc[udv["ParentID"], "employment_income"]) == SECRET_UDF_INCOME
    res = read_frame(engine, "residents", "acme", decrypt=True)
    assert SECRET_CERT_INCOME in {str(v) for v in res.certified_annual_income if v is not None}
    # … but every sensitive column holds ciphertext
    for table, cols in (("household_members", ["date_of_birth", "ssn_last4", "annual_income", "employment_income",
                                               "benefit_income", "other_income", "asset_cash_value",
                                               "asset_annual_income"]),
                        ("residents", ["certified_annual_income"])):
        for col in cols:
            values = [v for (v,) in rows(engine, f"SELECT {col} FROM {tn(engine, table)} WHERE {col} IS NOT NULL")]
            assert values and all(v.startswith("enc:") for v in values), (table, col)

    if engine.dialect.name == "sqlite":
        engine.dispose()  # checkpoint the WAL
        files = [p for p in Path(engine.url.database).parent.iterdir() if p.is_file()]
        assert len(files) >= 3  # main, rm_raw and ops files (and any -wal/-shm)
        for path in files:
            blob = path.read_bytes()
            for secret in _secrets():
                assert secret not in blob, f"{secret!r} in clear in {path.name}"
    else:
        with engine.connect() as conn:
            tables = conn.execute(text(
                "SELECT table_schema, table_name FROM information_schema.tables "
                "WHERE table_schema IN ('estatecore', 'rm_raw', 'ops') AND table_type = 'BASE TABLE'")).all()
            for schema, table in tables:
                for secret in _secrets():
                    n = conn.execute(text(f'SELECT count(*) FROM "{schema}"."{table}" t WHERE t::text LIKE :s'),
                                     {"s": f"%{secret.decode()}%"}).scalar()
                    assert n == 0, f"{secret!r} in clear in {schema}.{table}"


def test_read_frame_decrypts_sensitive_udf_values(engine, org, portfolio):
    _, udv = _plant(portfolio)
    rawdata.land(engine, "acme", portfolio)
    load_all(engine, org=org, run_id="run-1", tables=TABLES, quarantine_threshold=1.0)
    clear = next(u for u in portfolio["UserDefinedValues"] if u["Name"] == "Roommate Preferences")
    with engine.begin() as conn:  # a clear value that merely looks like a token
        conn.execute(text(f"UPDATE {tn(engine, 'udf_values')} SET value = 'enc:quiet floor' WHERE org_id = 'acme' "
                          "AND parent_type = :t AND rm_id = :k"), {"t": clear["ParentType"],
                                                                    "k": clear["UserDefinedValueID"]})

    def value(df, udf):  # noqa: ANN001, ANN202
        (v,) = df[(df.parent_type == udf["ParentType"]) & (df.rm_id == udf["UserDefinedValueID"])]["value"]
        return v

    stored = read_frame(engine, "udf_values", "acme")
    assert crypto.is_encrypted(value(stored, udv)) and stored["is_encrypted"].sum() > 0
    plain = read_frame(engine, "udf_values", "acme", decrypt=True)
    assert value(plain, udv) == SECRET_UDF_INCOME
    assert SECRET_CERT_INCOME in set(plain["value"])
    assert value(plain, clear) == "enc:quiet floor"
    assert not any(crypto.is_encrypted(v) for v in plain.loc[plain["is_encrypted"].astype(bool), "value"])
    # also when only some columns are read (the flag is read along and not returned)
    some = read_frame(engine, "udf_values", "acme", columns=["parent_type", "rm_id", "name", "value"], decrypt=True)
    assert list(some.columns) == ["parent_type", "rm_id", "name", "value"]
    assert value(some, udv) == SECRET_UDF_INCOME and value(some, clear) == "enc:quiet floor"


def test_previews_and_audit_mask_sensitive_values(engine, org, portfolio):
    member, _ = _plant(portfolio)
    rawdata.land(engine, "acme", portfolio)
    load_all(engine, org=org, run_id="run-1", tables=TABLES, quarantine_threshold=1.0)
    member["AnnualIncome"] = 1.0
    member["DateOfBirth"] = "1950-01-01T00:00:00"
    rawdata.land(engine, "acme", portfolio, run_id="land-2")
    reports = load_all(engine, org=org, run_id="run-2", tables=TABLES, quarantine_threshold=1.0)
    assert reports["household_members"].updated == 1
    (entry,) = [a for a in ops.audit_rows(engine, "acme", "household_members", run_id="run-2")]
    assert entry["changed"]["annual_income"] == ["****", "****"]
    assert entry["changed"]["date_of_birth"] == ["****", "****"]
    for row in reports["household_members"].preview:
        assert row["date_of_birth"] in (None, "****")
    assert SECRET_DOB not in reports["household_members"].preview_markdown
    # names, emails and employers of household members (children included) are masked in the preview too
    plain = read_frame(engine, "household_members", "acme").set_index("rm_id")
    for row in reports["household_members"].preview:
        for column in ("first_name", "last_name", "email", "employer"):
            value, stored = row[column], plain.loc[row["rm_id"], column]
            if isinstance(stored, str) and stored:
                assert value != stored and "***" in value and value[0] == stored[0], (column, value)
    assert "household_members" in TABLES


def test_key_rotation_reencrypts_everything(engine, org, portfolio, monkeypatch):
    member, _ = _plant(portfolio)
    rawdata.land(engine, "acme", portfolio)
    load_all(engine, org=org, run_id="run-1", tables=TABLES, quarantine_threshold=1.0)
    before = read_frame(engine, "household_members", "acme", decrypt=True)

    new_key = crypto.generate_key()
    monkeypatch.setenv(crypto.ENV_VAR, f"{new_key},{TEST_KEY}")
    counts = rotate_all(engine)
    assert counts["estatecore.household_members"] > 0 and counts["rm_raw.contacts"] > 0
    assert counts["estatecore.udf_values"] > 0 and counts["ops.quarantine"] >= 1

    monkeypatch.setenv(crypto.ENV_VAR, new_key)  # the old key is gone
    after = read_frame(engine, "household_members", "acme", decrypt=True)
    assert before.fillna("-").astype(str).equals(after.fillna("-").astype(str))
    # raw payloads and quarantined rows decrypt with the new key alone; hashes unchanged → nothing to reload
    reports = load_all(engine, org=org, run_id="run-2", tables=TABLES, mode="full", quarantine_threshold=1.0)
    assert all(r.updated == r.inserted == 0 for r in reports.values())
    monkeypatch.setenv(crypto.ENV_VAR, TEST_KEY)  # only the old key: nothing decrypts any more
    with pytest.raises(crypto.EncryptionKeyError):
        read_frame(engine, "household_members", "acme", decrypt=True)


def test_demo_key_file_is_generated_private_and_rotates(tmp_path, monkeypatch):
    monkeypatch.delenv(crypto.ENV_VAR)
    monkeypatch.setenv("RM_PIPELINES_DATA_DIR", str(tmp_path / "demo"))
    ring = crypto.get_keyring()
    path = tmp_path / "demo" / crypto.KEY_FILE_NAME
    assert ring.source == f"file:{path}" and path.exists()
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    token = ring.encrypt("secret")
    assert crypto.get_keyring().decrypt(token) == "secret"

    from rm_pipelines.cli.warehouse import register
    import argparse

    parser = argparse.ArgumentParser()
    register(parser.add_subparsers(dest="command"))
    url = f"sqlite:///{tmp_path / 'demo' / 'w.sqlite'}"
    args = parser.parse_args(["keys", "rotate", "--new-key", "--url", url])
    assert args.func(args) == 0
    ring2 = crypto.get_keyring()
    assert len(ring2.keys) == 1 and ring2.keys[0] != ring.keys[0]
    with pytest.raises(crypto.EncryptionKeyError):
        ring2.decrypt(token)  # the token was not stored anywhere, so it was not rotated: the old key is gone


def test_invalid_key_is_reported_without_echoing_it(monkeypatch):
    monkeypatch.setenv(crypto.ENV_VAR, "not-a-key-super-secret")
    with pytest.raises(crypto.EncryptionKeyError) as err:
        crypto.get_keyring()
    assert "super-secret" not in str(err.value) and crypto.ENV_VAR in str(err.value)


def test_clear_values_that_start_like_a_token_load_as_entered(engine, org, portfolio):
    """Only real tokens are decrypted: a comment or UDF typed as "enc:…" in Rent Manager is plain text, and a
    sensitive value that starts that way is still encrypted."""
    member = next(c for c in portfolio["Contacts"] if c["ParentType"] == "Tenant" and c.get("DateOfBirth"))
    member["Employer"] = "enc:Acme Widgets"
    udv = next(u for u in portfolio["UserDefinedValues"] if u["Name"] == "Roommate Preferences")
    udv["Value"] = "enc:quiet floor"
    rawdata.land(engine, "acme", portfolio)
    reports = load_all(engine, org=org, run_id="run-1", tables=TABLES, quarantine_threshold=1.0)
    assert all(r.quarantined == 0 for r in reports.values()), {n: r.quarantine_reasons for n, r in reports.items() if r.quarantined}
    hm = read_frame(engine, "household_members", "acme", decrypt=True).set_index("rm_id")
    assert hm.loc[member["ContactID"], "employer"] == "enc:Acme Widgets"
    with engine.connect() as conn:
        payload = conn.execute(text(f"SELECT payload FROM rm_raw.contacts WHERE rm_id = {member['ContactID']}")).scalar()
    assert "enc:Acme Widgets" in payload
    udfs = read_frame(engine, "udf_values", "acme", decrypt=True).set_index("rm_id")
    assert udfs.loc[udv["UserDefinedValueID"], "value"] == "enc:quiet floor"
    # a sensitive value typed that way is protected like any other
    protected = protect_raw("contacts", {"ContactID": 1, "FederalTaxID": "enc:123-45-6789"})
    assert protected is not None and crypto.is_encrypted(protected["FederalTaxID"])
    assert reveal_raw("contacts", protected)["FederalTaxID"] == "enc:123-45-6789"
